// How the change log's records become Kafka records, as Debezium publishes them: topic names,
// keys (JsonConverter bytes, format/debezium_key.h), values (the record as the runner rendered
// it in the sink's format), tombstones and primary-key changes. Pure: no I/O.
//
//   row change (c, u, r)  -> <prefix>.<schema|database>.<table>  key, value
//   delete (d)            -> same topic: key, value; then key, null (tombstone) unless
//                            tombstones_on_delete=false
//   primary-key update    -> delete with header __debezium.newkey=<new key>, tombstone of the
//                            old key, create with header __debezium.oldkey=<old key>
//   truncate (t)          -> the table's topic, null key
//   message (m)           -> <prefix>.message, null key
//   schema change (s)     -> <prefix> (MySQL/MariaDB only; PostgreSQL has no such topic),
//                            key {databaseName}
//   BEGIN/END (b, e)      -> <prefix>.transaction, key {id}
//   heartbeat (h)         -> __debezium-heartbeat.<prefix>, key {serverName}
//   plain record (no CDC) -> the `topic` template or <prefix>, key = the partition key
//
// Thread safety: Map may run on any thread. A RecordMapper's settings are immutable after Make;
// what it derives per table (topic, key schema name, key columns) is computed once and kept
// (guarded internally), so mapping a record builds no per-table strings and matches no regular
// expression. Copies of a mapper share that cache.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "consume/sink.h"
#include "format/renderer.h"
#include "sink/kafka/kafka_settings.h"

namespace eddy::sink::kafka {

inline constexpr std::string_view kNewKeyHeader = "__debezium.newkey";
inline constexpr std::string_view kOldKeyHeader = "__debezium.oldkey";

struct KafkaHeader {
  std::string name;
  std::string value;
};

// One Kafka record. `topic` and `value` are views: the topic into the mapper (valid while it
// lives), the value into the SinkRecord's data (valid while the batch lives) or into `rendered`
// (a value the mapper rendered itself: a primary-key change's delete and create). The record's
// bytes are copied only once, into the producer.
struct KafkaMessage {
  std::string_view topic;
  std::optional<std::string> key;         // nullopt: a null key (random partition)
  std::optional<std::string_view> value;  // nullopt: a tombstone
  std::vector<KafkaHeader> headers;
  std::shared_ptr<const std::string> rendered;
};

class RecordMapper {
 public:
  // InvalidArgument when the sink's format has no renderer.
  static Result<RecordMapper> Make(const KafkaSettings& settings);

  // Appends the Kafka records of one log record (none for a PostgreSQL schema change).
  void Map(const consume::SinkRecord& record, std::vector<KafkaMessage>* out) const;

  // The topic of a table's changes.
  const std::string& TableTopic(const model::TableId& table) const;
  // The key of a row change (nullopt for a table without key columns).
  // `table_schema` (the record's, when known) types integer key columns as Debezium does.
  std::optional<std::string> RowKey(const model::ChangeEvent& event, const model::Row& image,
                                    const model::TableSchema* table_schema) const;

 private:
  // What a table's records share, derived once per table.
  struct TableInfo {
    std::string topic;
    std::string key_schema_name;  // <prefix>.<schema|database>.<table>.Key
    // The message.key.columns rule's columns for the table; null: the primary key.
    const std::vector<std::string>* key_columns = nullptr;
  };
  struct TableCache;

  RecordMapper(const KafkaSettings& settings, std::shared_ptr<const format::Renderer> renderer);
  const TableInfo& InfoOf(const model::TableId& table) const;
  std::optional<std::string> RowKeyOf(const TableInfo& info, const model::ChangeEvent& event,
                                      const model::Row& image,
                                      const model::TableSchema* table_schema) const;
  std::string Key(const model::Row& fields, std::string_view schema_name, int version,
                  const model::TableSchema* table_schema = nullptr) const;

  KafkaSettings settings_;
  std::shared_ptr<const format::Renderer> renderer_;
  bool include_schema_ = true;
  std::string plain_topic_;    // a plain record's: the `topic` template or the prefix
  std::string message_topic_;  // <prefix>.message
  std::shared_ptr<TableCache> tables_;
};

}  // namespace eddy::sink::kafka
