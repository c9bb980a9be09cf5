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
// expression. Copies of a mapper share that cache. The fast path keeps scratch buffers per
// thread.
#pragma once

#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
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

// The bytes of one batch's Kafka records (keys and values), which the destination hands
// librdkafka without copying: appended bytes never move until Clear, so views into them stay
// valid while the arena lives (the destination keeps it until every record of the batch was
// reported delivered or failed). Not thread-safe: one per batch.
class MessageArena {
 public:
  MessageArena() = default;
  MessageArena(MessageArena&& other) noexcept { *this = std::move(other); }
  MessageArena& operator=(MessageArena&& other) noexcept {
    chunks_ = std::move(other.chunks_);
    current_ = std::exchange(other.current_, 0);
    bytes_ = std::exchange(other.bytes_, 0);
    at_ = std::exchange(other.at_, nullptr);
    end_ = std::exchange(other.end_, nullptr);
    return *this;
  }

  std::string_view Add(std::string_view bytes) { return Add(bytes, {}, {}); }
  // `first`, `second` and `third` one after the other, as one record's bytes.
  std::string_view Add(std::string_view first, std::string_view second, std::string_view third) {
    const size_t size = first.size() + second.size() + third.size();
    if (static_cast<size_t>(end_ - at_) < size) [[unlikely]]
      NextChunk(size);
    char* const at = at_;
    char* end = at;
    for (std::string_view part : {first, second, third}) {
      if (part.empty()) continue;
      std::memcpy(end, part.data(), part.size());
      end += part.size();
    }
    at_ = end;
    bytes_ += size;
    return std::string_view(at, size);
  }
  // Forgets every record's bytes; keeps the memory for the next batch (at most what the
  // largest batch needed, which batch_bytes bounds).
  void Clear();
  size_t bytes() const { return bytes_; }

 private:
  static constexpr size_t kChunkBytes = size_t{1} << 20;
  struct Chunk {
    std::unique_ptr<char[]> bytes;  // never reallocated: views into it stay valid
    size_t capacity = 0;
  };
  // Makes the next chunk with room for `size` bytes the one being filled.
  void NextChunk(size_t size);

  std::vector<Chunk> chunks_;
  size_t current_ = 0;  // the chunk being filled (== chunks_.size(): none yet)
  size_t bytes_ = 0;
  char* at_ = nullptr;   // where the next record goes in chunks_[current_]
  char* end_ = nullptr;  // the end of chunks_[current_]
};

// One Kafka record. `topic` views into the mapper (valid while it lives); `key` and `value`
// into the MessageArena Map was given.
struct KafkaMessage {
  std::string_view topic;
  std::optional<std::string_view> key;    // nullopt: a null key (random partition)
  std::optional<std::string_view> value;  // nullopt: a tombstone
  std::vector<KafkaHeader> headers;
};

class RecordMapper {
 public:
  // InvalidArgument when the sink's format has no renderer.
  static Result<RecordMapper> Make(const KafkaSettings& settings);

  // Appends the Kafka records of one log record (none for a PostgreSQL schema change), their
  // bytes in `arena`. A row change handed over encoded (SinkRecord::stored_event) is written
  // straight from its bytes (format/debezium_encoded.h) where the format is Debezium's and the
  // key the primary key, else decoded; Corruption when it does not decode.
  [[nodiscard]] Status Map(const consume::SinkRecord& record, MessageArena* arena,
                           std::vector<KafkaMessage>* out) const;
  // Whether Map renders encoded row changes itself (Destination::RendersEncodedRowChanges):
  // the format is debezium or debezium-schema.
  bool RendersEncoded() const { return renders_encoded_; }

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
  // Map of a decoded event whose value in the sink's format is `data`.
  void MapEvent(const consume::SinkRecord& record, const model::ChangeEvent& event,
                std::string_view data, MessageArena* arena, std::vector<KafkaMessage>* out) const;
  // Map of an encoded row change on the fast path; false (nothing appended) when it declines.
  bool MapEncoded(const consume::SinkRecord& record, MessageArena* arena,
                  std::vector<KafkaMessage>* out) const;
  const TableInfo& InfoOf(const model::TableId& table) const;
  std::optional<std::string> RowKeyOf(const TableInfo& info, const model::ChangeEvent& event,
                                      const model::Row& image,
                                      const model::TableSchema* table_schema) const;
  std::string Key(const model::Row& fields, std::string_view schema_name, int version,
                  const model::TableSchema* table_schema = nullptr) const;

  KafkaSettings settings_;
  std::shared_ptr<const format::Renderer> renderer_;
  bool include_schema_ = true;
  bool renders_encoded_ = false;
  std::string plain_topic_;    // a plain record's: the `topic` template or the prefix
  std::string message_topic_;  // <prefix>.message
  std::shared_ptr<TableCache> tables_;
};

}  // namespace eddy::sink::kafka
