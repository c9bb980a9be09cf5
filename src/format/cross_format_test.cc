// The same events rendered in all four formats, parsed back and compared field by field: the
// formats differ in envelope and type conventions, never in the data they carry.
#include <gtest/gtest.h>

#include <simdjson.h>

#include <map>

#include "format/renderer.h"
#include "format/sample_events.h"

namespace eddy::format {
namespace {

// A scalar JSON value as comparable text: strings unquoted, numbers/bools/null as written.
std::string ScalarText(simdjson::dom::element element) {
  switch (element.type()) {
    case simdjson::dom::element_type::STRING: return std::string(std::string_view(element.get_string()));
    case simdjson::dom::element_type::NULL_VALUE: return "null";
    default: return simdjson::minify(element);
  }
}

std::map<std::string, std::string> ObjectFields(simdjson::dom::element object) {
  std::map<std::string, std::string> fields;
  for (auto field : simdjson::dom::object(object)) {
    fields[std::string(field.key)] = field.value.is_object() || field.value.is_array()
                                         ? simdjson::minify(field.value)
                                         : ScalarText(field.value);
  }
  return fields;
}

// DynamoDB {"S":"x"} / {"N":"1"} / {"NULL":true} back to the comparable text.
std::map<std::string, std::string> DynamoDbFields(simdjson::dom::element item) {
  std::map<std::string, std::string> fields;
  for (auto field : simdjson::dom::object(item)) {
    for (auto typed : simdjson::dom::object(field.value)) {
      std::string tag(typed.key);
      fields[std::string(field.key)] = tag == "NULL" ? "null" : ScalarText(typed.value);
    }
  }
  return fields;
}

TEST(CrossFormatTest, AllFormatsCarryTheSameValues) {
  RendererOptions string_decimals;
  string_decimals.decimal_handling = DecimalHandling::kString;
  auto native = MakeRenderer("native");
  auto debezium = MakeRenderer("debezium", string_decimals);
  auto dms = MakeRenderer("dms");
  auto dynamodb = MakeRenderer("dynamodb");
  ASSERT_TRUE(native.ok() && debezium.ok() && dms.ok() && dynamodb.ok());
  // One parser per document: a simdjson parser's elements live until its next parse.
  simdjson::dom::parser native_parser, debezium_parser, dms_parser, dynamodb_parser, parser;
  int compared = 0;
  for (const auto& sample : testing::SampleEvents()) {
    const model::ChangeEvent& event = sample.event;
    if (!event.after && !event.before) continue;
    bool remove = event.op == model::Operation::kDelete;
    std::string image_name = remove ? "before" : "after";
    std::string native_json = (*native)->Render(event, ViewType::kNewAndOldImages);
    std::string debezium_json = (*debezium)->Render(event, ViewType::kNewAndOldImages);
    std::string dms_json = (*dms)->Render(event, ViewType::kNewAndOldImages);
    std::string dynamodb_json = (*dynamodb)->Render(event, ViewType::kNewAndOldImages);

    SCOPED_TRACE(sample.name);
    simdjson::dom::element native_doc = native_parser.parse(native_json);
    simdjson::dom::element debezium_doc = debezium_parser.parse(debezium_json);
    simdjson::dom::element dms_doc = dms_parser.parse(dms_json);
    simdjson::dom::element dynamodb_doc = dynamodb_parser.parse(dynamodb_json);
    auto native_fields = ObjectFields(native_doc[image_name]);
    auto dms_fields = ObjectFields(dms_doc["data"]);
    EXPECT_EQ(native_fields, dms_fields) << sample.name;
    auto dynamodb_fields = DynamoDbFields(dynamodb_doc["dynamodb"][remove ? "OldImage" : "NewImage"]);
    auto debezium_fields = ObjectFields(debezium_doc[image_name]);

    const model::Row& row = remove ? *event.before : *event.after;
    for (const model::Field& field : row) {
      const std::string& native_value = native_fields.at(field.name);
      switch (field.value.type()) {
        // Types every format writes the same way.
        case model::ValueType::kText:
        case model::ValueType::kEnum:
        case model::ValueType::kDecimal:
        case model::ValueType::kTypedText:
        case model::ValueType::kNull:
          EXPECT_EQ(debezium_fields.at(field.name), native_value) << sample.name << " " << field.name;
          EXPECT_EQ(dynamodb_fields.at(field.name), native_value) << sample.name << " " << field.name;
          break;
        case model::ValueType::kInt64:
        case model::ValueType::kUint64:
          // Native quotes integers beyond 2^53; the digits are the same everywhere.
          EXPECT_EQ(debezium_fields.at(field.name), native_value) << sample.name << " " << field.name;
          EXPECT_EQ(dynamodb_fields.at(field.name), native_value) << sample.name << " " << field.name;
          break;
        case model::ValueType::kTimestampTz:
        case model::ValueType::kDate:
        case model::ValueType::kTime:
          // DynamoDB uses the native text; Debezium its own temporal encodings (tested in
          // formats_test).
          EXPECT_EQ(dynamodb_fields.at(field.name), native_value) << sample.name << " " << field.name;
          break;
        case model::ValueType::kUnavailable:
          EXPECT_EQ(dynamodb_fields.at(field.name), native_value);
          EXPECT_EQ(debezium_fields.at(field.name), "__debezium_unavailable_value");
          break;
        case model::ValueType::kJson:
          // Native embeds the JSON; the others carry the source text. Same document.
          EXPECT_EQ(simdjson::minify(parser.parse(dynamodb_fields.at(field.name))), native_value);
          break;
        default:
          break;
      }
      ++compared;
    }
    // Envelope facts agree too: table, operation, commit time.
    std::string table(std::string_view(native_doc["source"]["table"].get_string()));
    std::string dms_table(std::string_view(dms_doc["metadata"]["table-name"].get_string()));
    EXPECT_EQ(table, dms_table);
    int64_t native_commit_ms = native_doc["source"]["ts_ms"].get_int64();
    int64_t debezium_commit_ms = debezium_doc["source"]["ts_ms"].get_int64();
    EXPECT_EQ(native_commit_ms, debezium_commit_ms);
    int64_t dynamodb_seconds = dynamodb_doc["dynamodb"]["ApproximateCreationDateTime"].get_int64();
    EXPECT_EQ(dynamodb_seconds, native_commit_ms / 1000);
  }
  EXPECT_GE(compared, 20);
}

}  // namespace
}  // namespace eddy::format
