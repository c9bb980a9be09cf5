#include "sink/kafka/kafka_records.h"

#include <algorithm>

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

RecordMapper::RecordMapper(const KafkaSettings& settings,
                           std::shared_ptr<const format::Renderer> renderer)
    : settings_(settings),
      renderer_(std::move(renderer)),
      include_schema_(settings.format == "debezium-schema") {}

Result<RecordMapper> RecordMapper::Make(const KafkaSettings& settings) {
  auto renderer = format::MakeRenderer(settings.format);
  if (!renderer.ok()) return renderer.status().WithContext("kafka setting 'format'");
  return RecordMapper(settings, std::shared_ptr<const format::Renderer>(std::move(*renderer)));
}

std::string RecordMapper::TableTopic(const model::TableId& table) const {
  const std::string& middle = table.schema.empty() ? table.database : table.schema;
  if (settings_.topic_template.empty()) {
    return SanitizeTopicName(settings_.topic_prefix + "." + middle + "." + table.name);
  }
  std::string topic = settings_.topic_template;
  ReplaceAll(topic, "{prefix}", settings_.topic_prefix);
  ReplaceAll(topic, "{database}", table.database);
  ReplaceAll(topic, "{schema}", middle);
  ReplaceAll(topic, "{table}", table.name);
  return SanitizeTopicName(topic);
}

std::vector<std::string> RecordMapper::KeyColumns(const model::ChangeEvent& event) const {
  if (!settings_.key_columns.empty()) {
    const std::string& middle =
        event.table.schema.empty() ? event.table.database : event.table.schema;
    std::string qualified = middle + "." + event.table.name;
    for (const KeyColumnsRule& rule : settings_.key_columns) {
      if (std::regex_match(qualified, rule.table)) return rule.columns;
    }
  }
  std::vector<std::string> columns;
  columns.reserve(event.key.size());
  for (const model::Field& field : event.key) columns.push_back(field.name);
  return columns;
}

std::string RecordMapper::Key(const model::Row& fields, std::string_view schema_name, int version,
                              const model::TableSchema* table_schema) const {
  return format::RenderDebeziumKey(fields, schema_name, include_schema_, version, {}, table_schema);
}

std::optional<std::string> RecordMapper::RowKey(const model::ChangeEvent& event,
                                                const model::Row& image,
                                                const model::TableSchema* table_schema) const {
  std::vector<std::string> columns = KeyColumns(event);
  if (columns.empty()) return std::nullopt;
  std::optional<model::Row> fields = Project(image, columns);
  // An image without every key column (a delete's key-only before image under a custom key):
  // the event's own key still names the row.
  if (!fields) fields = event.key;
  if (fields->empty()) return std::nullopt;
  const std::string& middle =
      event.table.schema.empty() ? event.table.database : event.table.schema;
  return Key(*fields, settings_.topic_prefix + "." + middle + "." + event.table.name + ".Key", 0,
             table_schema);
}

void RecordMapper::Map(const consume::SinkRecord& record, std::vector<KafkaMessage>* out) const {
  if (!record.event) {
    KafkaMessage message;
    message.topic = settings_.topic_template.empty() ? settings_.topic_prefix
                                                     : SanitizeTopicName(settings_.topic_template);
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
                      {}});
      return;
    }
    case model::Operation::kTransactionBegin:
    case model::Operation::kTransactionEnd: {
      model::Row key{model::Field{"id", model::Value::Text(event.transaction_id)}};
      out->push_back({settings_.transaction_topic,
                      Key(key, "io.debezium.connector.common.TransactionMetadataKey", 1),
                      record.data,
                      {}});
      return;
    }
    case model::Operation::kHeartbeat: {
      model::Row key{model::Field{"serverName", model::Value::Text(settings_.topic_prefix)}};
      out->push_back({settings_.heartbeat_topic,
                      Key(key, "io.debezium.connector.common.ServerNameKey", 1),
                      record.data,
                      {}});
      return;
    }
    case model::Operation::kMessage:
      out->push_back(
          {SanitizeTopicName(settings_.topic_prefix + ".message"), std::nullopt, record.data, {}});
      return;
    case model::Operation::kTruncate:
      out->push_back({TableTopic(event.table), std::nullopt, record.data, {}});
      return;
    default:
      break;
  }
  std::string topic = TableTopic(event.table);
  if (event.op == model::Operation::kDelete) {
    std::optional<std::string> key = RowKey(event, event.before ? *event.before : event.key,
                                                record.table_schema.get());
    out->push_back({topic, key, record.data, {}});
    if (settings_.tombstones_on_delete && key) out->push_back({topic, key, std::nullopt, {}});
    return;
  }
  std::optional<std::string> key = RowKey(event, event.after ? *event.after : event.key,
                                                record.table_schema.get());
  if (event.op == model::Operation::kUpdate && event.before && event.after && key) {
    std::optional<std::string> old_key = RowKey(event, *event.before, record.table_schema.get());
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
      out->push_back({topic,
                      old_key,
                      renderer_->Render(deleted, settings_.view_type, context),
                      {KafkaHeader{std::string(kNewKeyHeader), *key}}});
      if (settings_.tombstones_on_delete) out->push_back({topic, old_key, std::nullopt, {}});
      out->push_back({topic,
                      key,
                      renderer_->Render(created, settings_.view_type, context),
                      {KafkaHeader{std::string(kOldKeyHeader), *old_key}}});
      return;
    }
  }
  out->push_back({topic, std::move(key), record.data, {}});
}

}  // namespace eddy::sink::kafka
