// The native record: the Aurora DSQL CDC shape (docs/formats/native.md).
#include <cmath>

#include "format/renderers.h"
#include "format/value_text.h"

namespace eddy::format {

namespace {

constexpr int64_t kMaxSafeInteger = int64_t{1} << 53;  // JSON numbers exact up to 2^53

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
