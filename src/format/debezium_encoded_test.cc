// AppendDebeziumRecord / AppendDebeziumKey must write what the Debezium renderer and
// RenderDebeziumKey write, byte for byte, or decline.
#include "format/debezium_encoded.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "format/debezium_key.h"
#include "format/sample_events.h"
#include "model/event_codec.h"
#include "model/testing.h"

namespace eddy::format {
namespace {

using model::Value;

struct Variant {
  std::string format;
  RendererOptions options;
};

std::vector<Variant> Variants() {
  std::vector<Variant> variants;
  for (std::string format : {"debezium", "debezium-schema"}) {
    for (DecimalHandling handling :
         {DecimalHandling::kPrecise, DecimalHandling::kString, DecimalHandling::kDouble}) {
      RendererOptions options;
      options.decimal_handling = handling;
      variants.push_back({format, options});
    }
  }
  return variants;
}

// Renders `encoded` both ways; returns whether the fast path took it (and checks the bytes).
bool Compare(std::string_view encoded, const Variant& variant, ViewType view,
             const model::TableSchema* table_schema, const std::string& trace) {
  auto event = model::DecodeEvent(encoded);
  EXPECT_TRUE(event.ok()) << event.status().ToString();
  if (!event.ok()) return false;
  auto renderer = MakeRenderer(variant.format, variant.options);
  EXPECT_TRUE(renderer.ok());
  RecordContext context;
  context.table_schema = table_schema;
  std::string general;
  (*renderer)->RenderTo(*event, view, context, &general);
  EncodedRowChange change;
  std::string out = "previous\n";
  // Twice: the first may fill the schema cache, the second copies from it.
  for (int round = 0; round < 2; ++round) {
    out = "previous\n";
    if (!change.Parse(encoded) ||
        !AppendDebeziumRecord(change, view, variant.format == "debezium-schema", variant.options,
                              table_schema, &out)) {
      EXPECT_EQ(out, "previous\n") << trace;  // declined: nothing appended
      std::string payload = "previous\n";
      DebeziumRecordParts parts;
      EXPECT_FALSE(change.Parse(encoded) &&
                   AppendDebeziumRecordParts(change, view, variant.format == "debezium-schema",
                                             variant.options, table_schema, &payload, &parts))
          << trace;
      EXPECT_EQ(payload, "previous\n") << trace;
      DebeziumRecordParts rendered;
      EXPECT_FALSE(change.Parse(encoded) &&
                   RenderDebeziumRecordParts(change, view, variant.format == "debezium-schema",
                                             variant.options, table_schema, &rendered))
          << trace;
      return false;
    }
    EXPECT_EQ(out, "previous\n" + general) << trace << " round " << round;
    // In parts (the Kafka sink's way): prefix, payload, suffix are the same bytes.
    std::string payload = "previous\n";
    DebeziumRecordParts parts;
    EXPECT_TRUE(AppendDebeziumRecordParts(change, view, variant.format == "debezium-schema",
                                          variant.options, table_schema, &payload, &parts))
        << trace;
    EXPECT_EQ(std::string(parts.prefix) + payload.substr(9) + std::string(parts.suffix), general)
        << trace << " parts, round " << round;
    EXPECT_EQ(payload.substr(0, 9), "previous\n") << trace;
    // Into the renderer's own buffer.
    DebeziumRecordParts rendered;
    EXPECT_TRUE(RenderDebeziumRecordParts(change, view, variant.format == "debezium-schema",
                                          variant.options, table_schema, &rendered))
        << trace;
    EXPECT_EQ(
        std::string(rendered.prefix) + std::string(rendered.payload) + std::string(rendered.suffix),
        general)
        << trace << " rendered parts, round " << round;
  }
  // The key of the row as the Kafka sink takes it: the image's key columns.
  const bool deleted = event->op == model::Operation::kDelete;
  const std::optional<model::Row>& image = deleted ? event->before : event->after;
  const std::optional<std::string_view>& image_row = deleted ? change.before_row : change.after_row;
  model::Row fields;
  for (const model::Field& key : event->key) {
    const model::Field* field = nullptr;
    if (image) {
      for (const model::Field& candidate : *image) {
        if (candidate.name == key.name && field == nullptr) field = &candidate;
      }
    }
    if (field == nullptr) {
      fields = event->key;
      break;
    }
    fields.push_back(*field);
  }
  for (int round = 0; round < 2; ++round) {
    std::string key = "k:";
    bool empty = false;
    bool rendered = AppendDebeziumKey(change.key_row, image_row ? *image_row : change.key_row,
                                      "p.s.t.Key", variant.format == "debezium-schema",
                                      variant.options, table_schema, &key, &empty);
    if (!rendered) {
      EXPECT_EQ(key, "k:") << trace;
      continue;
    }
    if (fields.empty()) {
      EXPECT_TRUE(empty) << trace;
      EXPECT_EQ(key, "k:") << trace;
      continue;
    }
    EXPECT_FALSE(empty) << trace;
    EXPECT_EQ(key,
              "k:" + RenderDebeziumKey(fields, "p.s.t.Key", variant.format == "debezium-schema", 0,
                                       variant.options, table_schema))
        << trace << " key round " << round;
  }
  // The same key from the change itself (the rows' fields its Parse kept).
  {
    std::string raw;
    bool raw_empty = false;
    const bool raw_rendered = AppendDebeziumKey(
        change.key_row, image_row ? *image_row : change.key_row, "p.s.t.Key",
        variant.format == "debezium-schema", variant.options, table_schema, &raw, &raw_empty);
    std::string of_change;
    bool change_empty = false;
    EXPECT_EQ(
        AppendDebeziumChangeKey(change, deleted, "p.s.t.Key", variant.format == "debezium-schema",
                                variant.options, table_schema, &of_change, &change_empty),
        raw_rendered)
        << trace;
    EXPECT_EQ(of_change, raw) << trace;
    EXPECT_EQ(change_empty, raw_empty) << trace;
  }
  return true;
}

// For a change whose Parse is no longer this thread's last, the renderers read its rows again
// instead of taking the fields kept for the change parsed after it: the same bytes as right
// after its own Parse.
void CompareStale(const std::string& encoded, const std::string& other_encoded,
                  const Variant& variant, const std::string& trace) {
  const bool schema = variant.format == "debezium-schema";
  EncodedRowChange change;
  if (!change.Parse(encoded)) return;
  const bool deleted = change.op == model::Operation::kDelete;
  std::string fresh;
  const bool fresh_rendered = AppendDebeziumRecord(change, ViewType::kNewAndOldImages, schema,
                                                   variant.options, nullptr, &fresh);
  std::string fresh_key;
  bool fresh_empty = false;
  const bool fresh_key_rendered = AppendDebeziumChangeKey(
      change, deleted, "p.s.t.Key", schema, variant.options, nullptr, &fresh_key, &fresh_empty);
  EncodedRowChange other;
  (void)other.Parse(other_encoded);  // a Parse that fails replaces the kept fields as well
  std::string stale;
  EXPECT_EQ(AppendDebeziumRecord(change, ViewType::kNewAndOldImages, schema, variant.options,
                                 nullptr, &stale),
            fresh_rendered)
      << trace;
  EXPECT_EQ(stale, fresh) << trace << " (rendered after another change's Parse)";
  std::string stale_key;
  bool stale_empty = false;
  EXPECT_EQ(AppendDebeziumChangeKey(change, deleted, "p.s.t.Key", schema, variant.options, nullptr,
                                    &stale_key, &stale_empty),
            fresh_key_rendered)
      << trace;
  EXPECT_EQ(stale_key, fresh_key) << trace << " (key after another change's Parse)";
  EXPECT_EQ(stale_empty, fresh_empty) << trace;
}

TEST(DebeziumEncodedTest, SampleEventsRenderAsTheDebeziumRenderer) {
  int rendered = 0;
  for (const auto& sample : testing::SampleEvents()) {
    std::string encoded;
    model::EncodeEvent(sample.event, encoded);
    for (const Variant& variant : Variants()) {
      for (ViewType view : {ViewType::kNewAndOldImages, ViewType::kNewImage, ViewType::kOldImage,
                            ViewType::kKeysOnly}) {
        std::string trace = sample.name + " " + variant.format + " " +
                            std::to_string(static_cast<int>(variant.options.decimal_handling)) +
                            " " + std::string(ViewTypeName(view));
        if (Compare(encoded, variant, view, nullptr, trace)) {
          EXPECT_EQ(view, ViewType::kNewAndOldImages) << trace;
          EXPECT_TRUE(model::IsRowChange(sample.event.op)) << trace;
          ++rendered;
        }
      }
    }
  }
  // Every row change of both connectors (and the one with a transaction block), each format.
  EXPECT_GE(rendered, 6 * 8);
}

// One column per value type, with the special values each renders differently, in every
// row-change op, with and without the catalog schema (which types integer key columns).
TEST(DebeziumEncodedTest, TypeMatrixInEveryOpRendersAsTheDebeziumRenderer) {
  std::vector<std::vector<Value>> matrix = {
      {Value::Null()},
      {Value::Bool(true), Value::Bool(false)},
      {Value::Int64(0), Value::Int64(-1), Value::Int64(std::numeric_limits<int64_t>::min()),
       Value::Int64(std::numeric_limits<int64_t>::max())},
      {Value::Uint64(std::numeric_limits<uint64_t>::max())},
      {Value::Float32(1.5f), Value::Float32(std::nanf(""))},
      {Value::Float64(-0.25), Value::Float64(std::numeric_limits<double>::infinity())},
      {Value::Decimal("12.340"), Value::Decimal("-0.5"), Value::Decimal("NaN"),
       Value::Decimal("1e")},
      {Value::Text("plain"), Value::Text("quote \" back \\ nl \n nul " + std::string(1, '\0')),
       Value::Text("\xc3\xa9\xff")},
      {Value::Bytes(std::string("\x00\x01\xfe", 3))},
      {Value::Date(model::DateValue{model::TemporalKind::kFinite, -3}),
       Value::Date(model::DateValue{model::TemporalKind::kPositiveInfinity, 0})},
      {Value::Time(45296000001)},
      {Value::TimeTz(model::TimeTzValue{3600000000, -7200})},
      {Value::Timestamp(model::TimestampValue{model::TemporalKind::kFinite, 1700000000123456}),
       Value::Timestamp(model::TimestampValue{model::TemporalKind::kZero, 0})},
      {Value::TimestampTz(model::TimestampTzValue{model::TemporalKind::kFinite, 1700000000123000}),
       Value::TimestampTz(model::TimestampTzValue{model::TemporalKind::kNegativeInfinity, 0})},
      {Value::Interval(model::IntervalValue{1, 2, 3})},
      {Value::Json("{\"a\":[1,2]}")},
      {Value::Enum("happy")},
      {Value::Bits("1"), Value::Bits("1010011")},
      {Value::Array({Value::Int64(1), Value::Null()})},
      {Value::TypedText("money", "$1.00")},
      {Value::Unavailable()},
  };
  model::TableSchema schema;
  schema.table = model::TableId{"db", "public", "t"};
  schema.version = 3;
  for (auto [name, type] : {std::pair{"id", "integer"}, std::pair{"small", "smallint"}}) {
    model::Column column;
    column.name = name;
    column.source_type = type;
    column.type = model::ValueType::kInt64;
    schema.columns.push_back(column);
  }
  schema.primary_key = {"id"};
  int rendered = 0;
  int declined = 0;
  for (size_t type = 0; type < matrix.size(); ++type) {
    for (size_t which = 0; which < matrix[type].size(); ++which) {
      const Value& value = matrix[type][which];
      for (model::Operation op : {model::Operation::kInsert, model::Operation::kUpdate,
                                  model::Operation::kDelete, model::Operation::kRead}) {
        for (bool pg : {true, false}) {
          model::ChangeEvent event;
          event.op = op;
          event.table = pg ? model::TableId{"db", "public", "t"} : model::TableId{"db", "", "t"};
          event.schema_version = 3;
          event.commit_time_ns = 1700000000123456789;
          event.capture_time_ns = 1700000000223456789;
          event.transaction_id = pg ? "771" : "0a:5";
          event.source.server_name = "srv";
          if (pg) {
            event.position = SourcePosition(PostgresPosition{Lsn(1000), Lsn(900)});
            event.source.connector = model::ConnectorKind::kPostgres;
          } else {
            MysqlPosition my;
            my.server_id = 7;
            my.end.file = "binlog.000002";
            my.end.offset = 4096;
            event.position = SourcePosition(std::move(my));
            event.source.connector = model::ConnectorKind::kMariadb;
            event.source.query = "INSERT ...";
            event.source.mysql_row = 2;
          }
          // The value as a key column too (keys of any type), and a catalog-typed integer.
          event.key = {model::Field{"id", Value::Int64(5)}, model::Field{"v", value}};
          model::Row row = {model::Field{"id", Value::Int64(5)},
                            model::Field{"small", Value::Int64(-2)}, model::Field{"v", value},
                            model::Field{"other", matrix[(type + 1) % matrix.size()][0]}};
          if (op != model::Operation::kInsert && op != model::Operation::kRead) event.before = row;
          if (op != model::Operation::kDelete) event.after = row;
          if (op == model::Operation::kUpdate) event.before->back().value = Value::Null();
          if (which == 1) event.transaction_order = model::TransactionOrder{4, 2};
          std::string encoded;
          model::EncodeEvent(event, encoded);
          for (const Variant& variant : Variants()) {
            for (const model::TableSchema* table_schema : {&schema, (model::TableSchema*)nullptr}) {
              std::string trace = "type " + std::to_string(type) + "." + std::to_string(which) +
                                  " op " + std::string(model::OperationCode(op)) +
                                  (pg ? " pg " : " mysql ") + variant.format +
                                  (table_schema ? " schema" : "");
              if (Compare(encoded, variant, ViewType::kNewAndOldImages, table_schema, trace)) {
                ++rendered;
              } else {
                ++declined;
              }
            }
          }
        }
      }
    }
  }
  // Only a schema part describing an array column is declined: the array row (one value)
  // and the bit-string rows (two values) whose `other` column is the array, each in 4 ops,
  // 2 connectors, 3 decimal handlings and with and without the catalog schema.
  EXPECT_GT(rendered, 2000);
  EXPECT_EQ(declined, 3 * 4 * 2 * 3 * 2);
}

TEST(DebeziumEncodedTest, RandomEventsRenderAsTheDebeziumRenderer) {
  uint64_t seed = model::testing::TestSeed();
  std::mt19937_64 random(seed);
  int rendered = 0;
  std::string previous;
  for (int i = 0; i < 2000; ++i) {
    model::ChangeEvent event = model::testing::RandomEvent(random);
    std::string encoded;
    model::EncodeEvent(event, encoded);
    for (const Variant& variant : Variants()) {
      if (Compare(encoded, variant, ViewType::kNewAndOldImages, nullptr,
                  "seed=" + std::to_string(seed) + " i=" + std::to_string(i))) {
        ++rendered;
      }
      if (!previous.empty()) {
        CompareStale(previous, encoded, variant,
                     "stale, seed=" + std::to_string(seed) + " i=" + std::to_string(i));
      }
    }
    previous = encoded;
    if (::testing::Test::HasFailure()) break;
  }
  EXPECT_GT(rendered, 300) << "seed=" << seed;
}

// The fast path keeps the last commit position's and transaction ID's text per thread and
// checks strings 16 bytes at a time: records one after another whose IDs, positions and strings
// change, repeat and come back must each render as the general renderer writes them.
TEST(DebeziumEncodedTest, RunsOfRecordsWithChangingTransactionsPositionsAndStrings) {
  const std::vector<std::string> ids = {
      "771", "771", "7", "0", "007", "", "12a", "771", "123456789012345678", "1234567890123456789",
      "42"};
  const std::vector<uint64_t> commit_ends = {1000, 1000, 99, 1ULL << 40, 99, 1000};
  // Every length from 0 to 40, with one byte that needs escaping (or a plain one) moved
  // through every place.
  std::vector<std::string> texts;
  for (size_t length = 0; length <= 40; ++length) {
    for (size_t at = 0; at < length; ++at) {
      for (char c : {'\0', '\x1f', '"', '\\', '\x7f', '\x80', 'z'}) {
        std::string text(length, 'a');
        text[at] = c;
        texts.push_back(text);
      }
    }
    texts.push_back(std::string(length, '~'));
  }
  texts.push_back("caf\xc3\xa9 and more than sixteen bytes");  // valid UTF-8 past 16 bytes
  const Variant payload_only{"debezium", RendererOptions{}};
  const Variant with_schema{"debezium-schema", RendererOptions{}};
  std::string previous;
  for (size_t i = 0; i < texts.size(); ++i) {
    model::ChangeEvent event;
    event.op = i % 2 == 0 ? model::Operation::kInsert : model::Operation::kRead;
    // Names that repeat for runs of records, change, and come back (some need escaping).
    const std::vector<std::string> names = {
        "t", "t", "t\"q", "s\\", "t", "d\n", "long name over 16 bytes"};
    event.table = model::TableId{names[(i / 3) % names.size()], names[(i / 5) % names.size()],
                                 names[(i / 2) % names.size()]};
    event.schema_version = 1;
    event.commit_time_ns = 1700000000123456789;
    event.capture_time_ns = 1700000000223456789;
    event.source.server_name = i % 7 < 4 ? "srv" : "srv\t2";
    event.transaction_id = ids[i % ids.size()];
    event.position = SourcePosition(
        PostgresPosition{Lsn(commit_ends[i % commit_ends.size()]), Lsn(900 + (i % 3) * 1000000)});
    event.source.connector = model::ConnectorKind::kPostgres;
    if (i % 4 == 3) {  // a MariaDB record among them: its source block names only the table
      MysqlPosition my;
      my.server_id = 7;
      my.end.file = "binlog.000002";
      my.end.offset = 4096 + i;
      event.position = SourcePosition(std::move(my));
      event.source.connector = model::ConnectorKind::kMariadb;
      event.table.schema.clear();
    }
    event.after = model::Row{model::Field{"id", Value::Int64(static_cast<int64_t>(i))},
                             model::Field{"text", Value::Text(texts[i])}};
    event.key = {model::Field{"id", Value::Int64(static_cast<int64_t>(i))}};
    std::string encoded;
    model::EncodeEvent(event, encoded);
    const std::string trace = "record " + std::to_string(i);
    EXPECT_TRUE(Compare(encoded, payload_only, ViewType::kNewAndOldImages, nullptr, trace));
    EXPECT_TRUE(Compare(encoded, with_schema, ViewType::kNewAndOldImages, nullptr, trace));
    if (!previous.empty()) {
      CompareStale(previous, encoded, payload_only, trace);
      CompareStale(previous, encoded, with_schema, trace);
    }
    previous = encoded;
    if (::testing::Test::HasFailure()) break;
  }
  // Rows too wide for the fields Parse keeps: read again, the same bytes.
  for (size_t width : {63, 64, 65, 130}) {
    model::ChangeEvent event;
    event.op = model::Operation::kUpdate;
    event.table = model::TableId{"db", "public", "wide"};
    event.source.server_name = "srv";
    event.source.connector = model::ConnectorKind::kPostgres;
    event.transaction_id = "5";
    event.position = SourcePosition(PostgresPosition{Lsn(2000), Lsn(1900)});
    event.key = {model::Field{"c0", Value::Int64(1)}};
    model::Row row;
    for (size_t c = 0; c < width; ++c) {
      row.push_back(model::Field{"c" + std::to_string(c), Value::Int64(static_cast<int64_t>(c))});
    }
    event.after = row;
    row.back().value = Value::Text("old");
    event.before = row;
    std::string encoded;
    model::EncodeEvent(event, encoded);
    const std::string trace = "width " + std::to_string(width);
    EXPECT_TRUE(Compare(encoded, payload_only, ViewType::kNewAndOldImages, nullptr, trace));
    EXPECT_TRUE(Compare(encoded, with_schema, ViewType::kNewAndOldImages, nullptr, trace));
    CompareStale(encoded, previous, payload_only, trace);
  }
}

TEST(DebeziumEncodedTest, TruncatedOrCorruptBytesAreDeclined) {
  auto samples = testing::SampleEvents();
  std::string encoded;
  model::EncodeEvent(samples[0].event, encoded);
  EncodedRowChange change;
  ASSERT_TRUE(change.Parse(encoded));
  for (size_t length = 0; length < encoded.size(); ++length) {
    EXPECT_FALSE(change.Parse(std::string_view(encoded).substr(0, length))) << length;
  }
  EXPECT_FALSE(change.Parse(encoded + "!"));
  std::string bad_version = encoded;
  bad_version[0] = 9;
  EXPECT_FALSE(change.Parse(bad_version));
}

}  // namespace
}  // namespace eddy::format
