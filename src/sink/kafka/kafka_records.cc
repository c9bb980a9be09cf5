#include "sink/kafka/kafka_records.h"

#include <algorithm>
#include <map>
#include <mutex>

#include "format/debezium_key.h"

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

struct RecordMapper::TableCache {
  std::mutex mutex;
  // Entries are never removed, so references to them stay valid.
  std::map<model::TableId, std::unique_ptr<TableInfo>> tables;
};

RecordMapper::RecordMapper(const KafkaSettings& settings,
                           std::shared_ptr<const format::Renderer> renderer)
    : settings_(settings),
      renderer_(std::move(renderer)),
      include_schema_(settings.format == "debezium-schema"),
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

void RecordMapper::Map(const consume::SinkRecord& record, std::vector<KafkaMessage>* out) const {
  if (!record.event) {
    KafkaMessage message;
    message.topic = plain_topic_;
    message.key = record.partition_key;
    message.value = record.data;
    out->push_back(std::move(message));
    return;
  }
  const model::ChangeEvent& event = *record.event;
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
                      Key(key, "io.debezium.connector.mysql.SchemaChangeKey", 1),
                      record.data,
                      {},
                      nullptr});
      return;
    }
    case model::Operation::kTransactionBegin:
    case model::Operation::kTransactionEnd: {
      model::Row key{model::Field{"id", model::Value::Text(event.transaction_id)}};
      out->push_back({settings_.transaction_topic,
                      Key(key, "io.debezium.connector.common.TransactionMetadataKey", 1),
                      record.data,
                      {},
                      nullptr});
      return;
    }
    case model::Operation::kHeartbeat: {
      model::Row key{model::Field{"serverName", model::Value::Text(settings_.topic_prefix)}};
      out->push_back({settings_.heartbeat_topic,
                      Key(key, "io.debezium.connector.common.ServerNameKey", 1),
                      record.data,
                      {},
                      nullptr});
      return;
    }
    case model::Operation::kMessage:
      out->push_back({message_topic_, std::nullopt, record.data, {}, nullptr});
      return;
    case model::Operation::kTruncate:
      out->push_back({TableTopic(event.table), std::nullopt, record.data, {}, nullptr});
      return;
    default:
      break;
  }
  const TableInfo& info = InfoOf(event.table);
  const std::string& topic = info.topic;
  if (event.op == model::Operation::kDelete) {
    std::optional<std::string> key =
        RowKeyOf(info, event, event.before ? *event.before : event.key, record.table_schema.get());
    out->push_back({topic, key, record.data, {}, nullptr});
    if (settings_.tombstones_on_delete && key) {
      out->push_back({topic, std::move(key), std::nullopt, {}, nullptr});
    }
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
      context.sequence_number = record.sequence_number;
      context.table_schema = record.table_schema.get();
      auto deleted_value = std::make_shared<const std::string>(
          renderer_->Render(deleted, settings_.view_type, context));
      auto created_value = std::make_shared<const std::string>(
          renderer_->Render(created, settings_.view_type, context));
      out->push_back({topic,
                      old_key,
                      *deleted_value,
                      {KafkaHeader{std::string(kNewKeyHeader), *key}},
                      deleted_value});
      if (settings_.tombstones_on_delete) {
        out->push_back({topic, old_key, std::nullopt, {}, nullptr});
      }
      out->push_back({topic,
                      key,
                      *created_value,
                      {KafkaHeader{std::string(kOldKeyHeader), *old_key}},
                      created_value});
      return;
    }
  }
  out->push_back({topic, std::move(key), record.data, {}, nullptr});
}

}  // namespace eddy::sink::kafka
