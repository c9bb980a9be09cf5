// DynamoDB Streams records (docs/formats/dynamodb.md).
#include <cmath>
#include <cstdio>

#include "format/renderers.h"
#include "format/value_text.h"

namespace eddy::format {

namespace {

// FNV-1a 64-bit.
uint64_t Fnv1a(std::string_view bytes, uint64_t hash) {
  for (char c : bytes) {
    hash ^= static_cast<uint8_t>(c);
    hash *= 1099511628211ULL;
  }
  return hash;
}

void WriteAttribute(JsonWriter& writer, const model::Value& value);

void TypedString(JsonWriter& writer, std::string_view tag, std::string_view text) {
  writer.BeginObject();
  writer.Member(tag, text);
  writer.EndObject();
}

template <typename Float>
void WriteFloatAttribute(JsonWriter& writer, Float v) {
  if (!std::isfinite(v)) {
    TypedString(writer, "S", std::isnan(v) ? "NaN" : (v > 0 ? "Infinity" : "-Infinity"));
    return;
  }
  JsonWriter number;
  if constexpr (std::is_same_v<Float, float>) {
    number.Float(v);
  } else {
    number.Double(v);
  }
  TypedString(writer, "N", number.str());
}

void WriteAttribute(JsonWriter& writer, const model::Value& value) {
  struct Visitor {
    JsonWriter& writer;
    void operator()(const model::NullValue&) {
      writer.BeginObject();
      writer.Key("NULL");
      writer.Bool(true);
      writer.EndObject();
    }
    void operator()(bool v) {
      writer.BeginObject();
      writer.Key("BOOL");
      writer.Bool(v);
      writer.EndObject();
    }
    void operator()(int64_t v) { TypedString(writer, "N", std::to_string(v)); }
    void operator()(uint64_t v) { TypedString(writer, "N", std::to_string(v)); }
    void operator()(float v) { WriteFloatAttribute(writer, v); }
    void operator()(double v) { WriteFloatAttribute(writer, v); }
    void operator()(const model::DecimalValue& v) {
      TypedString(writer, v.IsSpecial() ? "S" : "N", v.text);
    }
    void operator()(const std::string& v) { TypedString(writer, "S", v); }
    void operator()(const model::BytesValue& v) { TypedString(writer, "B", Base64Encode(v.data)); }
    void operator()(const model::DateValue& v) { TypedString(writer, "S", FormatDate(v)); }
    void operator()(const model::TimeValue& v) { TypedString(writer, "S", FormatTime(v.micros)); }
    void operator()(const model::TimeTzValue& v) { TypedString(writer, "S", FormatTimeTz(v)); }
    void operator()(const model::TimestampValue& v) { TypedString(writer, "S", FormatTimestamp(v)); }
    void operator()(const model::TimestampTzValue& v) { TypedString(writer, "S", FormatTimestampTz(v)); }
    void operator()(const model::IntervalValue& v) { TypedString(writer, "S", FormatInterval(v)); }
    void operator()(const model::UuidValue& v) { TypedString(writer, "S", v.ToString()); }
    void operator()(const model::JsonValue& v) { TypedString(writer, "S", v.text); }
    void operator()(const model::EnumValue& v) { TypedString(writer, "S", v.label); }
    void operator()(const model::BitsValue& v) { TypedString(writer, "S", v.bits); }
    void operator()(const model::ArrayValue& v) {
      writer.BeginObject();
      writer.Key("L");
      writer.BeginArray();
      for (const model::Value& element : v.elements) WriteAttribute(writer, element);
      writer.EndArray();
      writer.EndObject();
    }
    void operator()(const model::TypedTextValue& v) { TypedString(writer, "S", v.text); }
    void operator()(const model::UnavailableValue&) { TypedString(writer, "S", kUnavailableSentinel); }
  };
  std::visit(Visitor{writer}, value.storage());
}

std::string ItemJson(const model::Row& row) {
  JsonWriter writer;
  writer.BeginObject();
  for (const model::Field& field : row) {
    writer.Key(field.name);
    WriteAttribute(writer, field.value);
  }
  writer.EndObject();
  return writer.Take();
}

class DynamoDbRenderer final : public Renderer {
 public:
  using Renderer::Render;
  std::string_view name() const override { return "dynamodb"; }

  std::string Render(const model::ChangeEvent& event, ViewType view,
                     const RecordContext& context) const override {
    std::string_view event_name;
    switch (event.op) {
      case model::Operation::kInsert:
      case model::Operation::kRead: event_name = "INSERT"; break;
      case model::Operation::kUpdate: event_name = "MODIFY"; break;
      case model::Operation::kDelete: event_name = "REMOVE"; break;
      case model::Operation::kTruncate:
      case model::Operation::kMessage:
      case model::Operation::kSchemaChange:
      case model::Operation::kTransactionBegin:
      case model::Operation::kTransactionEnd:
      case model::Operation::kHeartbeat: return "";  // no DynamoDB Streams equivalent
    }
    std::string sequence = context.sequence_number;
    if (sequence.empty()) {
      // Without the log's number: commit time and ordinal, 21+ digits like the real ones.
      char buffer[48];
      std::snprintf(buffer, sizeof(buffer), "%020lld%06llu",
                    static_cast<long long>(event.commit_time_ns < 0 ? 0 : event.commit_time_ns),
                    static_cast<unsigned long long>(event.ordinal_in_transaction % 1000000));
      sequence = buffer;
    }
    std::string partition_key = event.PartitionKey();
    char event_id[40];
    std::snprintf(event_id, sizeof(event_id), "%016llx%016llx",
                  static_cast<unsigned long long>(Fnv1a(sequence, Fnv1a(partition_key, 14695981039346656037ULL))),
                  static_cast<unsigned long long>(Fnv1a(partition_key, Fnv1a(sequence, 1469598103934665603ULL))));

    std::string keys = ItemJson(event.key);
    std::string new_image, old_image;
    if ((view == ViewType::kNewImage || view == ViewType::kNewAndOldImages) && event.after) {
      new_image = ItemJson(*event.after);
    }
    if ((view == ViewType::kOldImage || view == ViewType::kNewAndOldImages) && event.before) {
      old_image = ItemJson(*event.before);
    }

    JsonWriter writer;
    writer.BeginObject();
    writer.Member("eventID", event_id);
    writer.Member("eventName", event_name);
    writer.Member("eventVersion", "1.1");
    writer.Member("eventSource", "aws:dynamodb");
    writer.Member("awsRegion", context.region.empty() ? std::string_view("us-east-1") : context.region);
    writer.Key("dynamodb");
    writer.BeginObject();
    writer.MemberInt("ApproximateCreationDateTime", FloorDiv(event.commit_time_ns, 1000000000));
    writer.Key("Keys");
    writer.RawJson(keys);
    if (!new_image.empty()) {
      writer.Key("NewImage");
      writer.RawJson(new_image);
    }
    if (!old_image.empty()) {
      writer.Key("OldImage");
      writer.RawJson(old_image);
    }
    writer.Member("SequenceNumber", sequence);
    writer.MemberInt("SizeBytes", static_cast<int64_t>(keys.size() + new_image.size() + old_image.size()));
    writer.Member("StreamViewType", ViewTypeName(view));
    writer.EndObject();
    if (!context.event_source_arn.empty()) writer.Member("eventSourceARN", context.event_source_arn);
    writer.EndObject();
    return writer.Take();
  }
};

}  // namespace

std::unique_ptr<Renderer> MakeDynamoDbRenderer() { return std::make_unique<DynamoDbRenderer>(); }

}  // namespace eddy::format
