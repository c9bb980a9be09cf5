// Golden tests and value conventions of the debezium, dms and dynamodb formats, and checks
// that hold for every format.
#include <gtest/gtest.h>

#include <simdjson.h>

#include <map>
#include <random>

#include "format/json.h"
#include "format/renderer.h"
#include "format/renderers.h"
#include "format/sample_events.h"
#include "model/testing.h"

namespace eddy::format {
namespace {

using model::Value;

std::unique_ptr<Renderer> Make(std::string_view name, RendererOptions options = {}) {
  auto renderer = MakeRenderer(name, options);
  EXPECT_TRUE(renderer.ok()) << renderer.status().ToString();
  return std::move(renderer).value();
}

model::ChangeEvent OneColumnInsert(Value value) {
  model::ChangeEvent event = testing::SampleEvents()[0].event;
  event.key = {{"id", Value::Int64(1)}};
  event.after = model::Row{{"id", Value::Int64(1)}, {"v", std::move(value)}};
  return event;
}

// The rendering of column "v" in the record (the text between "\"v\":" and the next
// top-level delimiter of the image).
std::string RenderedColumn(std::string_view format, Value value, RendererOptions options = {}) {
  std::string json = Make(format, options)->Render(OneColumnInsert(std::move(value)),
                                                   ViewType::kNewAndOldImages);
  size_t start = json.find("\"v\":");
  if (start == std::string::npos) return "<missing>";
  start += 4;
  int depth = 0;
  bool in_string = false;
  for (size_t i = start; i < json.size(); ++i) {
    char c = json[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    else if (c == '{' || c == '[') ++depth;
    else if (c == '}' || c == ']') {
      if (depth == 0) return json.substr(start, i - start);
      --depth;
    } else if (c == ',' && depth == 0) {
      return json.substr(start, i - start);
    }
  }
  return "<unterminated>";
}

TEST(FormatsGoldenTest, Debezium) { testing::CheckGoldenFiles("debezium"); }
TEST(FormatsGoldenTest, DebeziumWithSchema) { testing::CheckGoldenFiles("debezium-schema"); }

// With the table's catalog schema in the context, the envelope types integer columns as
// Debezium does (smallint int16, integer int32); without it every integer is int64.
TEST(DebeziumSchema, IntegerWidthsComeFromTheCatalogSchemaWhenKnown) {
  model::ChangeEvent event = OneColumnInsert(Value::Int64(5));
  model::TableSchema schema;
  schema.table = event.table;
  model::Column id;
  id.name = "id";
  id.source_type = "int4";
  id.type = model::ValueType::kInt64;
  id.nullable = false;
  id.primary_key_ordinal = 1;
  model::Column v;
  v.name = "v";
  v.source_type = "int2";
  v.type = model::ValueType::kInt64;
  schema.columns = {id, v};
  schema.primary_key = {"id"};
  auto renderer = Make("debezium-schema");
  RecordContext context;
  context.table_schema = &schema;
  std::string typed = renderer->Render(event, ViewType::kNewAndOldImages, context);
  EXPECT_NE(typed.find(R"({"type":"int32","optional":false,"field":"id"})"), std::string::npos)
      << typed;
  EXPECT_NE(typed.find(R"({"type":"int16","optional":true,"field":"v"})"), std::string::npos)
      << typed;
  std::string untyped = renderer->Render(event, ViewType::kNewAndOldImages);
  EXPECT_NE(untyped.find(R"({"type":"int64","optional":false,"field":"id"})"), std::string::npos)
      << untyped;
  // The payload is the same either way.
  EXPECT_EQ(typed.substr(typed.find("\"payload\"")), untyped.substr(untyped.find("\"payload\"")));
}
// Every integer type name of both sources, in the spellings catalogs report, against the Kafka
// Connect type Debezium gives it; names that are not integer types, and words longer than any
// integer type name, are int64.
TEST(DebeziumSchema, IntegerTypeOfEachSourceTypeName) {
  const std::pair<const char*, std::string_view> cases[] = {
      {"tinyint", "int16"},           {"TINYINT UNSIGNED", "int16"},
      {"smallint", "int16"},          {"SMALLINT", "int16"},
      {"smallint unsigned", "int32"}, {"int2", "int16"},
      {"smallserial", "int16"},       {"serial2", "int16"},
      {"mediumint", "int32"},         {"mediumint unsigned", "int32"},
      {"int", "int32"},               {"INT", "int32"},
      {"int unsigned", "int64"},      {"INT UNSIGNED", "int64"},
      {"integer", "int32"},           {"int4", "int32"},
      {"serial", "int32"},            {"serial4", "int32"},
      {"bigint", "int64"},            {"bigint unsigned", "int64"},
      {"int8", "int64"},              {"bigserial", "int64"},
      {"int(11)", "int32"},           {"smallint(6) unsigned", "int32"},
      {"numeric", "int64"},           {"", "int64"},
      {"integerintegerint", "int64"}, {"smallserialx", "int64"},
      {"year", "int64"},
  };
  for (const auto& [source_type, expected] : cases) {
    model::Column column;
    column.name = "c";
    column.source_type = source_type;
    EXPECT_EQ(DebeziumIntegerType(&column), expected) << source_type;
  }
  EXPECT_EQ(DebeziumIntegerType(nullptr), "int64");
}
TEST(FormatsGoldenTest, Dms) { testing::CheckGoldenFiles("dms"); }
TEST(FormatsGoldenTest, DynamoDb) { testing::CheckGoldenFiles("dynamodb"); }

TEST(DebeziumValueTest, DecimalHandlingModes) {
  // 19.90 -> unscaled 1990 = 0x07C6 -> "B8Y="; -1 -> 0xFF -> "/w=="; 128 -> 0x0080 -> "AIA=".
  EXPECT_EQ(RenderedColumn("debezium", Value::Decimal("19.90")), "\"B8Y=\"");
  EXPECT_EQ(RenderedColumn("debezium", Value::Decimal("-0.1")), "\"/w==\"");
  EXPECT_EQ(RenderedColumn("debezium", Value::Decimal("128")), "\"AIA=\"");
  EXPECT_EQ(RenderedColumn("debezium", Value::Decimal("-128")), "\"gA==\"");
  EXPECT_EQ(RenderedColumn("debezium", Value::Decimal("-129")), "\"/38=\"");
  EXPECT_EQ(RenderedColumn("debezium", Value::Decimal("0.00")), "\"AA==\"");
  EXPECT_EQ(RenderedColumn("debezium", Value::Decimal("NaN")), "null");
  RendererOptions as_string;
  as_string.decimal_handling = DecimalHandling::kString;
  EXPECT_EQ(RenderedColumn("debezium", Value::Decimal("19.90"), as_string), "\"19.90\"");
  RendererOptions as_double;
  as_double.decimal_handling = DecimalHandling::kDouble;
  EXPECT_EQ(RenderedColumn("debezium", Value::Decimal("19.90"), as_double), "19.9");
  EXPECT_EQ(RenderedColumn("debezium", Value::Decimal("NaN"), as_double), "\"NaN\"");
  // The schema declares the scale.
  std::string with_schema = Make("debezium-schema")->Render(OneColumnInsert(Value::Decimal("19.90")),
                                                            ViewType::kNewAndOldImages);
  EXPECT_NE(with_schema.find(R"("type":"bytes","optional":true,"field":"v","name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"2"})"),
            std::string::npos) << with_schema;
}

TEST(DebeziumValueTest, TemporalConventions) {
  EXPECT_EQ(RenderedColumn("debezium", Value::Date(model::DateValue::FromCivil(2024, 1, 15))), "19737");
  EXPECT_EQ(RenderedColumn("debezium", Value::Time(3723000001)), "3723000001");
  EXPECT_EQ(RenderedColumn("debezium", Value::Timestamp({model::TemporalKind::kFinite, 1700000000123456})),
            "1700000000123456");
  EXPECT_EQ(RenderedColumn("debezium", Value::TimestampTz({model::TemporalKind::kFinite, 1700000000123456})),
            "\"2023-11-14T22:13:20.123456Z\"");
  EXPECT_EQ(RenderedColumn("debezium", Value::TimestampTz({model::TemporalKind::kFinite, 1700000000120000})),
            "\"2023-11-14T22:13:20.120Z\"");
  EXPECT_EQ(RenderedColumn("debezium", Value::TimestampTz({model::TemporalKind::kFinite, 1700000000000000})),
            "\"2023-11-14T22:13:20Z\"");
  EXPECT_EQ(RenderedColumn("debezium", Value::TimeTz({3600000000, 3600})), "\"00:00:00Z\"");
  EXPECT_EQ(RenderedColumn("debezium", Value::TimeTz({1800000000, 3600})), "\"23:30:00Z\"");
  // 1 month + 1 day + 1 us, with Debezium's 30.4375-day month.
  EXPECT_EQ(RenderedColumn("debezium", Value::Interval({1, 1, 1})), "2716200000001");
  EXPECT_EQ(RenderedColumn("debezium", Value::Date({model::TemporalKind::kZero, 0})), "null");
}

TEST(DebeziumValueTest, OtherConventions) {
  EXPECT_EQ(RenderedColumn("debezium", Value::Json("{\"a\": 1}")), R"("{\"a\": 1}")");
  EXPECT_EQ(RenderedColumn("debezium", Value::Bits("1")), "true");
  // b'1000000001' (10 bits) = 0x0201 -> little-endian 01 02 -> "AQI=".
  EXPECT_EQ(RenderedColumn("debezium", Value::Bits("1000000001")), "\"AQI=\"");
  EXPECT_EQ(RenderedColumn("debezium", Value::Int64(9007199254740993)), "9007199254740993");
  EXPECT_EQ(RenderedColumn("debezium", Value::Unavailable()), "\"__debezium_unavailable_value\"");
  EXPECT_EQ(RenderedColumn("debezium", Value::Bytes("\x01\x02")), "\"AQI=\"");
}

TEST(DynamoDbValueTest, AttributeValues) {
  EXPECT_EQ(RenderedColumn("dynamodb", Value::Null()), R"({"NULL":true})");
  EXPECT_EQ(RenderedColumn("dynamodb", Value::Bool(false)), R"({"BOOL":false})");
  EXPECT_EQ(RenderedColumn("dynamodb", Value::Int64(-5)), R"({"N":"-5"})");
  EXPECT_EQ(RenderedColumn("dynamodb", Value::Uint64(18446744073709551615u)), R"({"N":"18446744073709551615"})");
  EXPECT_EQ(RenderedColumn("dynamodb", Value::Decimal("19.90")), R"({"N":"19.90"})");
  EXPECT_EQ(RenderedColumn("dynamodb", Value::Decimal("NaN")), R"({"S":"NaN"})");
  EXPECT_EQ(RenderedColumn("dynamodb", Value::Float64(0.5)), R"({"N":"0.5"})");
  EXPECT_EQ(RenderedColumn("dynamodb", Value::Text("x")), R"({"S":"x"})");
  EXPECT_EQ(RenderedColumn("dynamodb", Value::Bytes("foo")), R"({"B":"Zm9v"})");
  EXPECT_EQ(RenderedColumn("dynamodb", Value::Array({Value::Int64(1), Value::Null()})),
            R"({"L":[{"N":"1"},{"NULL":true}]})");
}

TEST(DynamoDbRendererTest, ViewTypesFollowDynamoDbRules) {
  auto renderer = Make("dynamodb");
  auto samples = testing::SampleEvents();
  const model::ChangeEvent& update = samples[1].event;
  std::string keys_only = renderer->Render(update, ViewType::kKeysOnly);
  EXPECT_EQ(keys_only.find("NewImage"), std::string::npos);
  EXPECT_EQ(keys_only.find("OldImage"), std::string::npos);
  EXPECT_NE(keys_only.find(R"("Keys":{"id":{"N":"1001"}})"), std::string::npos);
  std::string both = renderer->Render(update, ViewType::kNewAndOldImages);
  EXPECT_NE(both.find("NewImage"), std::string::npos);
  EXPECT_NE(both.find("OldImage"), std::string::npos);
  EXPECT_NE(both.find(R"("eventName":"MODIFY")"), std::string::npos);
  // Truncate has no DynamoDB Streams record.
  EXPECT_EQ(renderer->Render(samples[5].event, ViewType::kNewAndOldImages), "");
}

TEST(DmsRendererTest, OperationsAndBeforeImage) {
  auto renderer = Make("dms");
  auto samples = testing::SampleEvents();
  std::string update = renderer->Render(samples[1].event, ViewType::kNewAndOldImages);
  EXPECT_NE(update.find(R"("operation":"update")"), std::string::npos);
  EXPECT_NE(update.find(R"("before-image":{)"), std::string::npos);
  std::string new_only = renderer->Render(samples[1].event, ViewType::kNewImage);
  EXPECT_EQ(new_only.find("before-image"), std::string::npos);
  std::string load = renderer->Render(samples[4].event, ViewType::kNewAndOldImages);
  EXPECT_NE(load.find(R"("operation":"load")"), std::string::npos);
}

// Every format renders every random event, in every view type, as valid JSON (or "" where the
// format has no such record), and the same event always renders the same bytes.
TEST(AllFormatsTest, RandomEventsRenderValidDeterministicJson) {
  uint64_t seed = model::testing::TestSeed();
  std::mt19937_64 random(seed);
  std::vector<std::unique_ptr<Renderer>> renderers;
  for (std::string_view name : RendererNames()) renderers.push_back(Make(name));
  for (int i = 0; i < 1000; ++i) {
    model::ChangeEvent event = model::testing::RandomEvent(random);
    for (const auto& renderer : renderers) {
      for (ViewType view : {ViewType::kKeysOnly, ViewType::kNewImage, ViewType::kOldImage,
                            ViewType::kNewAndOldImages}) {
        std::string json = renderer->Render(event, view);
        if (json.empty() && renderer->name() == "dynamodb") continue;
        ASSERT_TRUE(MinifyJson(json).has_value())
            << "seed=" << seed << " i=" << i << " " << renderer->name() << " " << json;
        ASSERT_EQ(json, renderer->Render(event, view));
      }
    }
  }
}

// KEYS_ONLY never leaks a non-key column value, in any format.
TEST(AllFormatsTest, KeysOnlyCarriesNoOtherColumn) {
  for (std::string_view name : RendererNames()) {
    auto renderer = Make(name);
    for (const auto& sample : testing::SampleEvents()) {
      // Schema changes carry column definitions (names, no values) by design.
      if (sample.event.op == model::Operation::kSchemaChange) continue;
      std::string json = renderer->Render(sample.event, ViewType::kKeysOnly);
      for (const char* column : {"\"customer\"", "\"amount\"", "\"qty\"", "\"doc\""}) {
        if (name == "debezium-schema") continue;  // the schema names columns by design
        EXPECT_EQ(json.find(column), std::string::npos) << name << " " << sample.name << " " << json;
      }
    }
  }
}

// Every schema change kind maps to DMS's control operation and Debezium's tableChanges type;
// DynamoDB Streams has no such records.
TEST(SchemaChangeRenderingTest, KindsMapToEachFormatsVocabulary) {
  auto dms = Make("dms");
  auto debezium = Make("debezium");
  auto dynamodb = Make("dynamodb");
  simdjson::dom::parser parser;
  struct Case {
    model::SchemaChangeKind kind;
    const char* dms_operation;
    const char* debezium_type;  // "" = no tableChanges entry
  };
  for (const Case& c : std::vector<Case>{
           {model::SchemaChangeKind::kCreateTable, "create-table", "CREATE"},
           {model::SchemaChangeKind::kDropTable, "drop-table", "DROP"},
           {model::SchemaChangeKind::kAlterTable, "alter-table", "ALTER"},
           {model::SchemaChangeKind::kRenameTable, "rename-table", "ALTER"},
           {model::SchemaChangeKind::kAddColumn, "add-column", "ALTER"},
           {model::SchemaChangeKind::kDropColumn, "drop-column", "ALTER"},
           {model::SchemaChangeKind::kRenameColumn, "rename-column", "ALTER"},
           {model::SchemaChangeKind::kColumnTypeChange, "column-type-change", "ALTER"},
           {model::SchemaChangeKind::kCreateDatabase, "create-database", ""},
           {model::SchemaChangeKind::kOther, "other", ""}}) {
    model::ChangeEvent event;
    for (const auto& sample : testing::SampleEvents()) {
      if (sample.name == "mysql_add_column") event = sample.event;
    }
    event.schema_change->kind = c.kind;
    SCOPED_TRACE(c.dms_operation);
    simdjson::dom::element doc = parser.parse(dms->Render(event, ViewType::kNewAndOldImages));
    EXPECT_EQ(std::string_view(doc["metadata"]["record-type"].get_string()), "control");
    EXPECT_EQ(std::string_view(doc["metadata"]["operation"].get_string()), c.dms_operation);
    EXPECT_EQ(std::string_view(doc["metadata"]["table-name"].get_string()), "orders");
    doc = parser.parse(debezium->Render(event, ViewType::kNewAndOldImages));
    EXPECT_EQ(std::string_view(doc["ddl"].get_string()), event.schema_change->ddl);
    EXPECT_EQ(std::string_view(doc["databaseName"].get_string()), "shop");
    simdjson::dom::array changes = doc["tableChanges"].get_array();
    if (*c.debezium_type == '\0') {
      EXPECT_EQ(changes.size(), 0u);
    } else {
      ASSERT_EQ(changes.size(), 1u);
      EXPECT_EQ(std::string_view(changes.at(0)["type"].get_string()), c.debezium_type);
      EXPECT_EQ(std::string_view(changes.at(0)["id"].get_string()), "\"shop\".\"orders\"");
      EXPECT_EQ(changes.at(0)["table"]["columns"].get_array().size(), 4u);
    }
    EXPECT_EQ(dynamodb->Render(event, ViewType::kNewAndOldImages), "");
  }
}

// BEGIN/END records, the transaction block and heartbeats: Debezium's field names in every
// format that has them; DynamoDB Streams skips them.
TEST(TransactionRenderingTest, BeginEndBlockAndHeartbeat) {
  std::map<std::string, model::ChangeEvent> samples;
  for (const auto& sample : testing::SampleEvents()) samples[sample.name] = sample.event;
  simdjson::dom::parser parser;
  for (std::string_view name : {"native", "dms"}) {
    auto renderer = Make(name);
    std::string key = name == "native" ? "transaction" : "control";
    simdjson::dom::element end = parser.parse(renderer->Render(samples["pg_tx_end"], ViewType::kNewAndOldImages));
    EXPECT_EQ(std::string_view(end[key]["status"].get_string()), "END");
    EXPECT_EQ(int64_t(end[key]["event_count"].get_int64()), 3);
    EXPECT_EQ(std::string_view(end[key]["data_collections"].at(1)["data_collection"].get_string()),
              "public.order_lines");
  }
  auto debezium = Make("debezium");
  simdjson::dom::element begin = parser.parse(debezium->Render(samples["pg_tx_begin"], ViewType::kNewAndOldImages));
  EXPECT_EQ(std::string_view(begin["status"].get_string()), "BEGIN");
  EXPECT_TRUE(begin["event_count"].is_null());
  simdjson::dom::element row = parser.parse(
      debezium->Render(samples["pg_insert_with_transaction"], ViewType::kNewAndOldImages));
  EXPECT_EQ(std::string_view(row["transaction"]["id"].get_string()), "7421");
  EXPECT_EQ(int64_t(row["transaction"]["total_order"].get_int64()), 2);
  EXPECT_EQ(int64_t(row["transaction"]["data_collection_order"].get_int64()), 1);
  simdjson::dom::element plain = parser.parse(debezium->Render(samples["pg_insert"], ViewType::kNewAndOldImages));
  EXPECT_TRUE(plain["transaction"].is_null());
  simdjson::dom::element heartbeat = parser.parse(debezium->Render(samples["pg_heartbeat"], ViewType::kNewAndOldImages));
  EXPECT_EQ(int64_t(heartbeat["ts_ms"].get_int64()), 1700000000223);
  auto dynamodb = Make("dynamodb");
  for (const char* name : {"pg_tx_begin", "pg_tx_end", "pg_heartbeat"}) {
    EXPECT_EQ(dynamodb->Render(samples[name], ViewType::kNewAndOldImages), "") << name;
  }
  EXPECT_NE(dynamodb->Render(samples["pg_insert_with_transaction"], ViewType::kNewAndOldImages), "");
}

}  // namespace
}  // namespace eddy::format
