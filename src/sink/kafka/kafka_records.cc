#include "sink/kafka/kafka_records.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <map>
#include <mutex>

#include "format/debezium_encoded.h"
#include "format/debezium_key.h"
#include "model/event_codec.h"

namespace eddy::sink::kafka {

namespace {

const model::Field* FieldNamed(const model::Row& row, std::string_view name) {
  for (const model::Field& field : row) {
    if (field.name == name) return &field;
  }
  return nullptr;
}

// The values of `columns` in `row`; nullopt when one is missing.
std::optional<model::Row> Project(const model::Row& row, const std::vector<std::string>& columns) {
  model::Row out;
  out.reserve(columns.size());
  for (const std::string& column : columns) {
    const model::Field* field = FieldNamed(row, column);
    if (field == nullptr) return std::nullopt;
    out.push_back(*field);
  }
  return out;
}

void ReplaceAll(std::string& text, std::string_view what, std::string_view with) {
  for (size_t at = text.find(what); at != std::string::npos;
       at = text.find(what, at + with.size())) {
    text.replace(at, what.size(), with);
  }
}

}  // namespace

void MessageArena::NextChunk(size_t size) {
  // The chunk being filled is left with its unused end: a record's bytes are never split.
  size_t next = current_ == chunks_.size() ? 0 : current_ + 1;
  while (next < chunks_.size() && chunks_[next].capacity < size) ++next;
  if (next == chunks_.size()) {
    Chunk chunk;
    chunk.capacity = std::max(kChunkBytes, size);
    chunk.bytes = std::make_unique_for_overwrite<char[]>(chunk.capacity);
    chunks_.push_back(std::move(chunk));
  }
  current_ = next;
  at_ = chunks_[next].bytes.get();
  end_ = at_ + chunks_[next].capacity;
}

void MessageArena::Clear() {
  // The chunks are kept (their pages stay mapped): the next batch, of about the same size,
  // fills them again without allocating.
  current_ = chunks_.size();
  at_ = nullptr;
  end_ = nullptr;
  bytes_ = 0;
}

struct RecordMapper::TableCache {
  // Identifies this cache in the per-thread memo of MapEncoded (never reused, unlike an
  // address).
  const uint64_t id = NextId();
  std::mutex mutex;
  // Entries are never removed, so references to them stay valid.
  std::map<model::TableId, std::unique_ptr<TableInfo>> tables;

  static uint64_t NextId() {
    static std::atomic<uint64_t> next{1};
    return next.fetch_add(1, std::memory_order_relaxed);
  }
};

RecordMapper::RecordMapper(const KafkaSettings& settings,
                           std::shared_ptr<const format::Renderer> renderer)
    : settings_(settings),
      renderer_(std::move(renderer)),
      include_schema_(settings.format == "debezium-schema"),
      renders_encoded_(settings.format == "debezium" || settings.format == "debezium-schema"),
      plain_topic_(settings.topic_template.empty() ? settings.topic_prefix
                                                   : SanitizeTopicName(settings.topic_template)),
      message_topic_(SanitizeTopicName(settings.topic_prefix + ".message")),
      tables_(std::make_shared<TableCache>()) {}

Result<RecordMapper> RecordMapper::Make(const KafkaSettings& settings) {
  auto renderer = format::MakeRenderer(settings.format);
  if (!renderer.ok()) return renderer.status().WithContext("kafka setting 'format'");
  return RecordMapper(settings, std::shared_ptr<const format::Renderer>(std::move(*renderer)));
}

const RecordMapper::TableInfo& RecordMapper::InfoOf(const model::TableId& table) const {
  std::lock_guard lock(tables_->mutex);
  std::unique_ptr<TableInfo>& slot = tables_->tables[table];
  if (slot != nullptr) return *slot;
  auto info = std::make_unique<TableInfo>();
  const std::string& middle = table.schema.empty() ? table.database : table.schema;
  if (settings_.topic_template.empty()) {
    info->topic = SanitizeTopicName(settings_.topic_prefix + "." + middle + "." + table.name);
  } else {
    std::string topic = settings_.topic_template;
    ReplaceAll(topic, "{prefix}", settings_.topic_prefix);
    ReplaceAll(topic, "{database}", table.database);
    ReplaceAll(topic, "{schema}", middle);
    ReplaceAll(topic, "{table}", table.name);
    info->topic = SanitizeTopicName(topic);
  }
  info->key_schema_name = settings_.topic_prefix + "." + middle + "." + table.name + ".Key";
  std::string qualified = middle + "." + table.name;
  for (const KeyColumnsRule& rule : settings_.key_columns) {
    if (std::regex_match(qualified, rule.table)) {
      info->key_columns = &rule.columns;
      break;
    }
  }
  slot = std::move(info);
  return *slot;
}

const std::string& RecordMapper::TableTopic(const model::TableId& table) const {
  return InfoOf(table).topic;
}

std::string RecordMapper::Key(const model::Row& fields, std::string_view schema_name, int version,
                              const model::TableSchema* table_schema) const {
  return format::RenderDebeziumKey(fields, schema_name, include_schema_, version, {}, table_schema);
}

std::optional<std::string> RecordMapper::RowKey(const model::ChangeEvent& event,
                                                const model::Row& image,
                                                const model::TableSchema* table_schema) const {
  return RowKeyOf(InfoOf(event.table), event, image, table_schema);
}

std::optional<std::string> RecordMapper::RowKeyOf(const TableInfo& info,
                                                  const model::ChangeEvent& event,
                                                  const model::Row& image,
                                                  const model::TableSchema* table_schema) const {
  std::optional<model::Row> fields;
  if (info.key_columns != nullptr) {
    if (info.key_columns->empty()) return std::nullopt;
    fields = Project(image, *info.key_columns);
  } else {
    // The primary key: the image's values of the event's key columns.
    if (event.key.empty()) return std::nullopt;
    fields.emplace();
    fields->reserve(event.key.size());
    for (const model::Field& key_field : event.key) {
      const model::Field* field = FieldNamed(image, key_field.name);
      if (field == nullptr) {
        fields.reset();
        break;
      }
      fields->push_back(*field);
    }
  }
  // An image without every key column (a delete's key-only before image under a custom key):
  // the event's own key still names the row.
  if (!fields) fields = event.key;
  if (fields->empty()) return std::nullopt;
  return Key(*fields, info.key_schema_name, 0, table_schema);
}

Status RecordMapper::Map(const consume::SinkRecord& record, MessageArena* arena,
                         std::vector<KafkaMessage>* out) const {
  if (!record.stored_event.empty()) {
    if (MapEncoded(record, arena, out)) return Status::Ok();
    auto event = model::DecodeEvent(record.stored_event);
    if (!event.ok()) {
      return event.status().WithContext("record " + consume::SequenceNumberText(record) + " of " +
                                        consume::ShardIdText(record));
    }
    format::RecordContext context;
    context.sequence_number = consume::SequenceNumberText(record);
    context.table_schema = record.table_schema.get();
    thread_local std::string rendered;
    renderer_->RenderTo(*event, settings_.view_type, context, &rendered);
    MapEvent(record, *event, arena->Add(rendered), arena, out);
    return Status::Ok();
  }
  if (!record.event) {
    KafkaMessage message;
    message.topic = plain_topic_;
    message.key = arena->Add(record.partition_key);
    message.value = arena->Add(record.data);
    out->push_back(std::move(message));
    return Status::Ok();
  }
  MapEvent(record, *record.event, arena->Add(record.data), arena, out);
  return Status::Ok();
}

bool RecordMapper::MapEncoded(const consume::SinkRecord& record, MessageArena* arena,
                              std::vector<KafkaMessage>* out) const {
  if (!renders_encoded_) return false;
  format::EncodedRowChange change;
  if (!change.Parse(record.stored_event)) return false;
  if (change.op != model::Operation::kRead &&  // as MapEvent: c, u, d (and t) may be skipped
      settings_.skipped_operations.find(model::OperationCode(change.op)[0]) != std::string::npos) {
    return true;
  }
  // Records come in runs of one table: the last table's info is kept per thread, so a record
  // builds no TableId and takes no lock.
  struct LastTable {
    uint64_t cache_id = 0;
    std::string database;
    std::string schema;
    std::string table;
    const TableInfo* info = nullptr;
  };
  thread_local LastTable last;
  if (last.cache_id != tables_->id || last.table != change.table || last.schema != change.schema ||
      last.database != change.database) {
    last.info = &InfoOf(model::TableId{std::string(change.database), std::string(change.schema),
                                       std::string(change.table)});
    last.cache_id = tables_->id;
    last.database.assign(change.database);
    last.schema.assign(change.schema);
    last.table.assign(change.table);
  }
  const TableInfo& info = *last.info;
  if (info.key_columns != nullptr) return false;  // message.key.columns: the general path
  const model::TableSchema* table_schema = record.table_schema.get();
  const format::RendererOptions options;
  const bool deleted = change.op == model::Operation::kDelete;
  thread_local std::string key;
  key.clear();
  bool no_key = false;
  if (!format::AppendDebeziumChangeKey(change, /*from_before=*/deleted, info.key_schema_name,
                                       include_schema_, options, table_schema, &key, &no_key)) {
    return false;
  }
  if (change.op == model::Operation::kUpdate && change.before_row && change.after_row && !no_key) {
    // A primary-key change becomes three records: the general path writes them.
    thread_local std::string old_key;
    old_key.clear();
    bool no_old_key = false;
    if (!format::AppendDebeziumChangeKey(change, /*from_before=*/true, info.key_schema_name,
                                         include_schema_, options, table_schema, &old_key,
                                         &no_old_key) ||
        no_old_key || old_key != key) {
      return false;
    }
  }
  // The value's schema prefix (with schemas) is copied from the cache straight into the arena,
  // its payload from the renderer's buffer.
  format::DebeziumRecordParts parts;
  if (!format::RenderDebeziumRecordParts(change, settings_.view_type, include_schema_, options,
                                         table_schema, &parts)) {
    return false;
  }
  std::optional<std::string_view> key_view;
  if (!no_key) key_view = arena->Add(key);
  out->push_back({info.topic, key_view, arena->Add(parts.prefix, parts.payload, parts.suffix), {}});
  if (deleted && settings_.tombstones_on_delete && key_view) {
    out->push_back({info.topic, key_view, std::nullopt, {}});
  }
  return true;
}

void RecordMapper::MapEvent(const consume::SinkRecord& record, const model::ChangeEvent& event,
                            std::string_view data, MessageArena* arena,
                            std::vector<KafkaMessage>* out) const {
  if (event.op == model::Operation::kInsert || event.op == model::Operation::kUpdate ||
      event.op == model::Operation::kDelete || event.op == model::Operation::kTruncate) {
    char code = model::OperationCode(event.op)[0];
    if (settings_.skipped_operations.find(code) != std::string::npos) return;
  }
  switch (event.op) {
    case model::Operation::kSchemaChange: {
      if (event.position.postgres() != nullptr) return;  // Debezium's PostgreSQL has no topic
      model::Row key{model::Field{"databaseName", model::Value::Text(event.table.database)}};
      out->push_back({settings_.schema_change_topic,
                      arena->Add(Key(key, "io.debezium.connector.mysql.SchemaChangeKey", 1)),
                      data,
                      {}});
      return;
    }
    case model::Operation::kTransactionBegin:
    case model::Operation::kTransactionEnd: {
      model::Row key{model::Field{"id", model::Value::Text(event.transaction_id)}};
      out->push_back(
          {settings_.transaction_topic,
           arena->Add(Key(key, "io.debezium.connector.common.TransactionMetadataKey", 1)),
           data,
           {}});
      return;
    }
    case model::Operation::kHeartbeat: {
      model::Row key{model::Field{"serverName", model::Value::Text(settings_.topic_prefix)}};
      out->push_back({settings_.heartbeat_topic,
                      arena->Add(Key(key, "io.debezium.connector.common.ServerNameKey", 1)),
                      data,
                      {}});
      return;
    }
    case model::Operation::kMessage:
      out->push_back({message_topic_, std::nullopt, data, {}});
      return;
    case model::Operation::kTruncate:
      out->push_back({TableTopic(event.table), std::nullopt, data, {}});
      return;
    default:
      break;
  }
  const TableInfo& info = InfoOf(event.table);
  const std::string& topic = info.topic;
  auto in_arena = [&](const std::optional<std::string>& bytes) {
    return bytes ? std::optional<std::string_view>(arena->Add(*bytes)) : std::nullopt;
  };
  if (event.op == model::Operation::kDelete) {
    std::optional<std::string_view> key = in_arena(
        RowKeyOf(info, event, event.before ? *event.before : event.key, record.table_schema.get()));
    out->push_back({topic, key, data, {}});
    if (settings_.tombstones_on_delete && key) out->push_back({topic, key, std::nullopt, {}});
    return;
  }
  std::optional<std::string> key =
      RowKeyOf(info, event, event.after ? *event.after : event.key, record.table_schema.get());
  if (event.op == model::Operation::kUpdate && event.before && event.after && key) {
    std::optional<std::string> old_key =
        RowKeyOf(info, event, *event.before, record.table_schema.get());
    if (old_key && *old_key != *key) {
      // Debezium's primary-key update: the old row deleted (pointing at the new key), its
      // tombstone, the new row created (pointing at the old key), each rendered in the sink's
      // format as the delete and create they are.
      model::ChangeEvent deleted = event;
      deleted.op = model::Operation::kDelete;
      deleted.after.reset();
      model::ChangeEvent created = event;
      created.op = model::Operation::kInsert;
      created.before.reset();
      format::RecordContext context;
      context.sequence_number = consume::SequenceNumberText(record);
      context.table_schema = record.table_schema.get();
      std::string_view deleted_value =
          arena->Add(renderer_->Render(deleted, settings_.view_type, context));
      std::string_view created_value =
          arena->Add(renderer_->Render(created, settings_.view_type, context));
      std::string_view old_key_view = arena->Add(*old_key);
      std::string_view key_view = arena->Add(*key);
      out->push_back(
          {topic, old_key_view, deleted_value, {KafkaHeader{std::string(kNewKeyHeader), *key}}});
      if (settings_.tombstones_on_delete) {
        out->push_back({topic, old_key_view, std::nullopt, {}});
      }
      out->push_back(
          {topic, key_view, created_value, {KafkaHeader{std::string(kOldKeyHeader), *old_key}}});
      return;
    }
  }
  out->push_back({topic, in_arena(key), data, {}});
}

}  // namespace eddy::sink::kafka
