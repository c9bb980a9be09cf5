// The native record: the Aurora DSQL CDC shape (docs/formats/native.md).
#include <cmath>

#include "format/renderers.h"
#include "format/value_text.h"

namespace eddy::format {

namespace {

template <typename Float>
void WriteFloat(JsonWriter& writer, Float value) {
  if (std::isnan(value)) {
    writer.String("NaN");
  } else if (std::isinf(value)) {
    writer.String(value > 0 ? "Infinity" : "-Infinity");
  } else if constexpr (std::is_same_v<Float, float>) {
    writer.Float(value);
  } else {
    writer.Double(value);
  }
}

class NativeRenderer final : public Renderer {
 public:
  using Renderer::Render;
  std::string_view name() const override { return "native"; }

  std::string Render(const model::ChangeEvent& event, ViewType view,
                     const RecordContext& /*context*/) const override {
    JsonWriter writer;
    writer.BeginObject();
    writer.Member("type", "full");
    writer.Member("op", model::OperationCode(event.op));
    Images images(event, view);
    writer.Key("before");
    if (images.before()) {
      WriteNativeRow(writer, *images.before());
    } else {
      writer.Null();
    }
    writer.Key("after");
    if (images.after()) {
      WriteNativeRow(writer, *images.after());
    } else {
      writer.Null();
    }
    if (event.message) {
      writer.Key("message");
      writer.BeginObject();
      writer.Member("prefix", event.message->prefix);
      writer.Member("content", Base64Encode(event.message->content));
      writer.Key("transactional");
      writer.Bool(event.message->transactional);
      writer.EndObject();
    }
    if (event.schema_change) {
      writer.Key("schema_change");
      WriteNativeSchemaChange(writer, *event.schema_change);
    }
    if (event.op == model::Operation::kTransactionBegin ||
        event.op == model::Operation::kTransactionEnd || event.transaction_order) {
      writer.Key("transaction");
      WriteTransactionBlock(writer, event);
    }
    writer.Key("source");
    writer.BeginObject();
    writer.Member("version", "1.0");
    writer.Member("connector", model::ConnectorName(event.source.connector));
    writer.MemberInt("ts_ms", FloorDiv(event.commit_time_ns, 1000000));
    writer.MemberInt("ts_ns", event.commit_time_ns);
    writer.Member("txId", event.transaction_id);
    writer.Member("db", event.table.database);
    writer.Member("schema", event.table.schema.empty() ? event.table.database : event.table.schema);
    writer.Member("table", event.table.name);
    if (const PostgresPosition* pg = event.position.postgres()) {
      writer.Member("lsn", pg->change_lsn.ToString());
      writer.Member("commit_lsn", pg->commit_end_lsn.ToString());
    } else if (const MysqlPosition* my = event.position.mysql()) {
      writer.Member("file", my->end.file);
      writer.Key("pos");
      writer.Uint(my->end.offset);
      writer.Key("gtid");
      if (my->gtid.empty()) {
        writer.Null();
      } else {
        writer.String(my->gtid.text);
      }
      writer.Key("server_id");
      writer.Uint(my->server_id);
    }
    writer.EndObject();
    writer.MemberInt("ts_ms", FloorDiv(event.capture_time_ns, 1000000));
    writer.MemberInt("ts_ns", event.capture_time_ns);
    writer.EndObject();
    return writer.Take();
  }
};

}  // namespace

void WriteOptionalInt(JsonWriter& writer, std::string_view name, const std::optional<int32_t>& value) {
  writer.Key(name);
  if (value) {
    writer.Int(*value);
  } else {
    writer.Null();
  }
}

void WriteNativeSchemaChange(JsonWriter& writer, const model::SchemaChange& change) {
  writer.BeginObject();
  writer.Member("kind", model::SchemaChangeKindName(change.kind));
  writer.Member("ddl", change.ddl);
  writer.Key("previous_table");
  if (change.previous_name.empty()) {
    writer.Null();
  } else {
    writer.String(change.previous_name);
  }
  writer.Key("table_schema");
  if (!change.table_schema) {
    writer.Null();
  } else {
    const model::TableSchema& schema = *change.table_schema;
    writer.BeginObject();
    writer.Key("version");
    writer.Uint(schema.version);
    writer.Key("primary_key");
    writer.BeginArray();
    for (const std::string& name : schema.primary_key) writer.String(name);
    writer.EndArray();
    writer.Key("columns");
    writer.BeginArray();
    for (const model::Column& column : schema.columns) {
      writer.BeginObject();
      writer.Member("name", column.name);
      writer.Member("source_type", column.source_type);
      writer.Member("type", model::ValueTypeName(column.type));
      if (column.type == model::ValueType::kArray) {
        writer.Member("element_type", model::ValueTypeName(column.element_type));
      }
      writer.Key("nullable");
      writer.Bool(column.nullable);
      writer.MemberInt("primary_key_ordinal", column.primary_key_ordinal);
      WriteOptionalInt(writer, "length", column.length);
      WriteOptionalInt(writer, "precision", column.precision);
      WriteOptionalInt(writer, "scale", column.scale);
      writer.EndObject();
    }
    writer.EndArray();
    writer.EndObject();
  }
  writer.EndObject();
}

void WriteTransactionBlock(JsonWriter& writer, const model::ChangeEvent& event) {
  writer.BeginObject();
  if (event.op == model::Operation::kTransactionBegin) {
    writer.Member("status", "BEGIN");
    writer.Member("id", event.transaction_id);
  } else if (event.op == model::Operation::kTransactionEnd) {
    writer.Member("status", "END");
    writer.Member("id", event.transaction_id);
    const model::TransactionSummary empty;
    const model::TransactionSummary& summary =
        event.transaction_summary ? *event.transaction_summary : empty;
    writer.Key("event_count");
    writer.Uint(summary.event_count);
    writer.Key("data_collections");
    writer.BeginArray();
    for (const auto& collection : summary.data_collections) {
      writer.BeginObject();
      writer.Member("data_collection", collection.name);
      writer.Key("event_count");
      writer.Uint(collection.event_count);
      writer.EndObject();
    }
    writer.EndArray();
  } else {
    writer.Member("id", event.transaction_id);
    const model::TransactionOrder order =
        event.transaction_order ? *event.transaction_order : model::TransactionOrder{};
    writer.Key("total_order");
    writer.Uint(order.total_order);
    writer.Key("data_collection_order");
    writer.Uint(order.data_collection_order);
  }
  writer.EndObject();
}

void WriteNativeValue(JsonWriter& writer, const model::Value& value) {
  struct Visitor {
    JsonWriter& writer;
    void operator()(const model::NullValue&) { writer.Null(); }
    void operator()(bool v) { writer.Bool(v); }
    void operator()(int64_t v) {
      if (v >= -kMaxSafeInteger && v <= kMaxSafeInteger) {
        writer.Int(v);
      } else {
        writer.String(std::to_string(v));
      }
    }
    void operator()(uint64_t v) {
      if (v <= static_cast<uint64_t>(kMaxSafeInteger)) {
        writer.Uint(v);
      } else {
        writer.String(std::to_string(v));
      }
    }
    void operator()(float v) { WriteFloat(writer, v); }
    void operator()(double v) { WriteFloat(writer, v); }
    void operator()(const model::DecimalValue& v) { writer.String(v.text); }
    void operator()(const std::string& v) { writer.String(v); }
    void operator()(const model::BytesValue& v) { writer.String(Base64Encode(v.data)); }
    void operator()(const model::DateValue& v) { writer.String(FormatDate(v)); }
    void operator()(const model::TimeValue& v) { writer.String(FormatTime(v.micros)); }
    void operator()(const model::TimeTzValue& v) { writer.String(FormatTimeTz(v)); }
    void operator()(const model::TimestampValue& v) { writer.String(FormatTimestamp(v)); }
    void operator()(const model::TimestampTzValue& v) { writer.String(FormatTimestampTz(v)); }
    void operator()(const model::IntervalValue& v) { writer.String(FormatInterval(v)); }
    void operator()(const model::UuidValue& v) { writer.String(v.ToString()); }
    void operator()(const model::JsonValue& v) {
      if (std::optional<std::string> minified = MinifyJson(v.text)) {
        writer.RawJson(*minified);
      } else {
        writer.String(v.text);  // not valid JSON: kept as a string (documented)
      }
    }
    void operator()(const model::EnumValue& v) { writer.String(v.label); }
    void operator()(const model::BitsValue& v) { writer.String(v.bits); }
    void operator()(const model::ArrayValue& v) {
      writer.BeginArray();
      for (const model::Value& element : v.elements) WriteNativeValue(writer, element);
      writer.EndArray();
    }
    void operator()(const model::TypedTextValue& v) { writer.String(v.text); }
    void operator()(const model::UnavailableValue&) { writer.String(kUnavailableSentinel); }
  };
  std::visit(Visitor{writer}, value.storage());
}

void WriteNativeRow(JsonWriter& writer, const model::Row& row) {
  writer.BeginObject();
  for (const model::Field& field : row) {
    writer.Key(field.name);
    WriteNativeValue(writer, field.value);
  }
  writer.EndObject();
}

std::unique_ptr<Renderer> MakeNativeRenderer() { return std::make_unique<NativeRenderer>(); }

}  // namespace eddy::format
