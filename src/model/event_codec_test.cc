#include "model/event_codec.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <vector>

#include "base/bytes.h"
#include "model/event_header.h"
#include "model/testing.h"

namespace eddy::model {
namespace {

ChangeEvent SampleUpdate() {
  ChangeEvent event;
  event.op = Operation::kUpdate;
  event.table = {"shop", "public", "orders"};
  event.key = {{"id", Value::Int64(7)}};
  event.before = Row{{"id", Value::Int64(7)}, {"note", Value::Text("old")}};
  event.after = Row{{"id", Value::Int64(7)}, {"note", Value::Unavailable()}};
  event.position = SourcePosition(PostgresPosition{Lsn(0x16B374D848), Lsn(0x16B374D000)});
  event.commit_time_ns = 1700000000123456789;
  event.capture_time_ns = 1700000000223456789;
  event.transaction_id = "7421";
  event.ordinal_in_transaction = 2;
  event.schema_version = 1;
  event.source.connector = ConnectorKind::kPostgres;
  return event;
}

TEST(EventCodecTest, RoundTripsSampleAndStartsWithVersion) {
  ChangeEvent event = SampleUpdate();
  std::string bytes = EncodeEvent(event);
  ASSERT_GE(bytes.size(), 3u);
  // A row change without transaction metadata needs nothing newer than version 1.
  EXPECT_EQ(static_cast<uint8_t>(bytes[0]), 1);
  EXPECT_EQ(static_cast<uint8_t>(bytes[1]), static_cast<uint8_t>(Operation::kUpdate));
  EXPECT_EQ(static_cast<uint8_t>(bytes[2]), kEventFlagHasBefore | kEventFlagHasAfter);
  auto decoded = DecodeEvent(bytes);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(*decoded, event);
}

ChangeEvent SampleSchemaChange() {
  ChangeEvent event;
  event.op = Operation::kSchemaChange;
  event.table = {"shop", "", "orders"};
  event.position = SourcePosition(MysqlPosition{7, BinlogPosition{"mysql-bin.000003", 1234}, {}});
  event.commit_time_ns = 1700000000000000000;
  event.capture_time_ns = 1700000000100000000;
  event.source.connector = ConnectorKind::kMysql;
  SchemaChange change;
  change.kind = SchemaChangeKind::kAddColumn;
  change.ddl = "ALTER TABLE orders ADD COLUMN note varchar(20)";
  TableSchema schema;
  schema.table = event.table;
  schema.version = 3;
  schema.columns.push_back(
      Column{"id", "int", ValueType::kInt64, ValueType::kNull, false, 1, {}, {}, {}, "", ""});
  schema.columns.push_back(Column{"note",
                                  "varchar",
                                  ValueType::kText,
                                  ValueType::kNull,
                                  true,
                                  0,
                                  20,
                                  {},
                                  {},
                                  "varchar(20)",
                                  "latin1_swedish_ci"});
  schema.columns.push_back(Column{
      "price", "decimal", ValueType::kDecimal, ValueType::kNull, true, 0, {}, 10, 2, "", ""});
  schema.primary_key = {"id"};
  change.table_schema = std::move(schema);
  event.schema_change = std::move(change);
  return event;
}

TEST(EventCodecTest, IncrementalSnapshotMarkerRoundTrips) {
  ChangeEvent event = SampleUpdate();
  event.op = Operation::kRead;
  event.before.reset();
  event.source.snapshot = SnapshotMarker::kIncremental;
  auto decoded = DecodeEvent(EncodeEvent(event));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(*decoded, event);
}

TEST(EventCodecTest, NewRecordKindsRoundTripAsVersion2) {
  ChangeEvent ddl = SampleSchemaChange();
  ChangeEvent begin;
  begin.op = Operation::kTransactionBegin;
  begin.transaction_id = "7421";
  ChangeEvent end = begin;
  end.op = Operation::kTransactionEnd;
  end.transaction_summary = TransactionSummary{3, {{"public.orders", 2}, {"public.items", 1}}};
  ChangeEvent heartbeat;
  heartbeat.op = Operation::kHeartbeat;
  heartbeat.position = SourcePosition(PostgresPosition{Lsn(0x100), Lsn(0x100)});
  ChangeEvent ordered = SampleUpdate();
  ordered.transaction_order = TransactionOrder{3, 2};
  for (const ChangeEvent& event : {ddl, begin, end, heartbeat, ordered}) {
    std::string bytes = EncodeEvent(event);
    EXPECT_EQ(static_cast<uint8_t>(bytes[0]), 2) << event.DebugString();
    auto decoded = DecodeEvent(bytes);
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    EXPECT_EQ(*decoded, event);
    // A version-1 header cannot carry the new ops or flags.
    bytes[0] = 1;
    EXPECT_EQ(DecodeEvent(bytes).status().code(), ErrorCode::kCorruption) << event.DebugString();
  }
  // Every truncation of a schema change is corrupt, never a crash.
  std::string bytes = EncodeEvent(ddl);
  for (size_t length = 0; length < bytes.size(); ++length) {
    EXPECT_EQ(DecodeEvent(std::string_view(bytes).substr(0, length)).status().code(),
              ErrorCode::kCorruption)
        << length;
  }
}

TEST(EventCodecTest, EveryValueTypeRoundTrips) {
  for (int type = 0; type <= static_cast<int>(ValueType::kUnavailable); ++type) {
    std::mt19937_64 random(type);
    for (int i = 0; i < 200; ++i) {
      Value value = testing::RandomValue(random, 3);
      std::string bytes;
      EncodeValue(value, bytes);
      std::string_view view = bytes;
      auto decoded = DecodeValue(view);
      ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
      EXPECT_TRUE(view.empty());
      EXPECT_EQ(*decoded, value) << value.DebugString();
    }
  }
}

TEST(EventCodecTest, RandomEventsRoundTrip) {
  uint64_t seed = testing::TestSeed();
  std::mt19937_64 random(seed);
  for (int i = 0; i < 5000; ++i) {
    ChangeEvent event = testing::RandomEvent(random);
    std::string bytes = EncodeEvent(event);
    auto decoded = DecodeEvent(bytes);
    ASSERT_TRUE(decoded.ok()) << "seed=" << seed << " i=" << i << " "
                              << decoded.status().ToString();
    ASSERT_EQ(*decoded, event) << "seed=" << seed << " i=" << i << " " << event.DebugString();
    ASSERT_EQ(decoded->PartitionKey(), event.PartitionKey());
  }
}

TEST(EventCodecTest, EveryTruncationIsCorruption) {
  std::string bytes = EncodeEvent(SampleUpdate());
  for (size_t length = 0; length < bytes.size(); ++length) {
    auto decoded = DecodeEvent(std::string_view(bytes).substr(0, length));
    ASSERT_FALSE(decoded.ok()) << length;
    EXPECT_EQ(decoded.status().code(), ErrorCode::kCorruption) << decoded.status().ToString();
  }
}

TEST(EventCodecTest, TrailingBytesUnknownVersionOpAndFlagsAreCorruption) {
  std::string bytes = EncodeEvent(SampleUpdate());
  EXPECT_EQ(DecodeEvent(bytes + "x").status().code(), ErrorCode::kCorruption);
  std::string bad = bytes;
  bad[0] = 3;
  auto decoded = DecodeEvent(bad);
  EXPECT_EQ(decoded.status().code(), ErrorCode::kCorruption);
  EXPECT_NE(decoded.status().message().find("version 3"), std::string::npos);
  bad = bytes;
  bad[1] = 11;
  EXPECT_EQ(DecodeEvent(bad).status().code(), ErrorCode::kCorruption);
  bad = bytes;
  bad[2] = static_cast<char>(0x80 | bad[2]);
  EXPECT_EQ(DecodeEvent(bad).status().code(), ErrorCode::kCorruption);
}

TEST(EventCodecTest, HostileCountsAndNestingAreRejected) {
  // An array claiming 2^62 elements.
  std::string value = {static_cast<char>(ValueType::kArray)};
  PutVarint64(value, uint64_t{1} << 62);
  std::string_view view = value;
  EXPECT_EQ(DecodeValue(view).status().code(), ErrorCode::kCorruption);
  // Arrays nested 1000 deep.
  std::string deep;
  for (int i = 0; i < 1000; ++i) {
    deep.push_back(static_cast<char>(ValueType::kArray));
    deep.push_back(1);
  }
  deep.push_back(static_cast<char>(ValueType::kNull));
  view = deep;
  auto decoded = DecodeValue(view);
  EXPECT_EQ(decoded.status().code(), ErrorCode::kCorruption);
  // Nesting within the limit decodes.
  std::string ok;
  for (int i = 0; i < kMaxArrayDepth; ++i) {
    ok.push_back(static_cast<char>(ValueType::kArray));
    ok.push_back(1);
  }
  ok.push_back(static_cast<char>(ValueType::kNull));
  view = ok;
  EXPECT_TRUE(DecodeValue(view).ok());
  // Unknown value type and non-canonical bool.
  std::string unknown = {static_cast<char>(99)};
  view = unknown;
  EXPECT_EQ(DecodeValue(view).status().code(), ErrorCode::kCorruption);
  std::string bad_bool = {static_cast<char>(ValueType::kBool), 2};
  view = bad_bool;
  EXPECT_EQ(DecodeValue(view).status().code(), ErrorCode::kCorruption);
}

TEST(EventCodecTest, RandomMutationsNeverCrash) {
  uint64_t seed = testing::TestSeed();
  std::mt19937_64 random(seed);
  for (int i = 0; i < 3000; ++i) {
    std::string bytes = EncodeEvent(testing::RandomEvent(random));
    int flips = 1 + static_cast<int>(random() % 4);
    for (int f = 0; f < flips; ++f)
      bytes[random() % bytes.size()] ^= static_cast<char>(1 + random() % 255);
    auto decoded = DecodeEvent(bytes);
    if (decoded.ok()) {
      auto again = DecodeEvent(EncodeEvent(*decoded));
      ASSERT_TRUE(again.ok()) << "seed=" << seed << " i=" << i;
      EXPECT_EQ(*again, *decoded) << "seed=" << seed << " i=" << i;
    } else {
      EXPECT_EQ(decoded.status().code(), ErrorCode::kCorruption) << decoded.status().ToString();
    }
  }
}

// The fuzz seed corpus doubles as a compatibility check: events written by earlier builds
// must keep decoding, byte for byte. Regenerate (only when adding seeds) with
// EDDY_WRITE_EVENT_CORPUS=1.
TEST(EventCodecTest, SeedCorpusDecodesAndReencodesIdentically) {
  const char* source_dir = std::getenv("EDDY_SOURCE_DIR");
  ASSERT_NE(source_dir, nullptr) << "EDDY_SOURCE_DIR is set by ctest; run through ctest";
  std::filesystem::path corpus = std::filesystem::path(source_dir) / "fuzz/corpus/event";
  if (const char* write = std::getenv("EDDY_WRITE_EVENT_CORPUS"); write && *write == '1') {
    std::filesystem::create_directories(corpus);
    // event-v1-*.bin were written by the version-1 build and are never rewritten; this
    // writes the version-2 seeds: one per new record kind plus random events.
    std::mt19937_64 random(20261122);
    std::vector<ChangeEvent> events = {SampleSchemaChange()};
    while (events.size() < 12) {
      ChangeEvent event = testing::RandomEvent(random);
      std::string bytes = EncodeEvent(event);
      if (bytes[0] == 2) events.push_back(std::move(event));
    }
    for (size_t i = 0; i < events.size(); ++i) {
      std::ofstream out(corpus / ("event-v2-" + std::to_string(i) + ".bin"), std::ios::binary);
      out << EncodeEvent(events[i]);
    }
  }
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(corpus)) {
    std::ifstream in(entry.path(), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto decoded = DecodeEvent(bytes);
    ASSERT_TRUE(decoded.ok()) << entry.path() << ": " << decoded.status().ToString();
    EXPECT_EQ(EncodeEvent(*decoded), bytes) << entry.path();
    ++files;
  }
  EXPECT_GE(files, 24);
}

// The row fast path must write exactly what EncodeEvent writes: readers cannot tell the two
// apart, and the formats decode both alike.
TEST(EventCodecTest, RowEventEncoderMatchesEncodeEvent) {
  uint64_t seed = testing::TestSeed();
  std::mt19937_64 random(seed);
  int compared = 0;
  for (int i = 0; i < 2000; ++i) {
    ChangeEvent event = testing::RandomEvent(random);
    if (static_cast<uint8_t>(event.op) > static_cast<uint8_t>(Operation::kRead) || event.message ||
        event.schema_change || event.transaction_order || event.transaction_summary) {
      continue;
    }
    RowEventEncoder encoder;
    ChangeEvent shared = event;
    shared.key.clear();
    shared.before.reset();
    shared.after.reset();
    shared.ordinal_in_transaction = 999;  // ignored by SetShared
    shared.source.mysql_row = 77;
    encoder.SetShared(shared);
    std::string fast;
    encoder.BeginEvent(event.op, event.before.has_value(), event.after.has_value(),
                       event.ordinal_in_transaction, event.source.mysql_row, fast);
    auto append_row = [&fast](const Row& row) {
      AppendRowFieldCount(row.size(), fast);
      for (const Field& field : row) {
        AppendFieldName(field.name, fast);
        EncodeValue(field.value, fast);
      }
    };
    append_row(event.key);
    if (event.before) append_row(*event.before);
    if (event.after) append_row(*event.after);
    ASSERT_EQ(fast, EncodeEvent(event)) << "seed=" << seed << " " << event.DebugString();
    ++compared;
  }
  EXPECT_GT(compared, 200);
}

TEST(EventCodecTest, PartitionKeyFromEncodedValueMatchesTheValuePath) {
  uint64_t seed = testing::TestSeed();
  std::mt19937_64 random(seed);
  std::vector<Value> values = {Value::Int64(0),         Value::Int64(-1), Value::Int64(INT64_MIN),
                               Value::Int64(INT64_MAX), Value::Uint64(0), Value::Uint64(UINT64_MAX),
                               Value::Text("k"),        Value::Null()};
  for (int i = 0; i < 3000; ++i) values.push_back(testing::RandomValue(random));
  for (int i = 0; i < 3000; ++i) values.push_back(Value::Int64(static_cast<int64_t>(random())));
  for (const Value& value : values) {
    std::string encoded;
    EncodeValue(value, encoded);
    std::string fast = "x";
    ASSERT_TRUE(AppendPartitionKeyValueEncoded(encoded, fast).ok());
    std::string expected = "x";
    AppendPartitionKeyValue(value, expected);
    ASSERT_EQ(fast, expected) << "seed=" << seed << " " << value.DebugString();
  }
  std::string out;
  EXPECT_FALSE(AppendPartitionKeyValueEncoded("", out).ok());
  EXPECT_FALSE(AppendPartitionKeyValueEncoded(std::string(1, '\x02'), out).ok());
}

}  // namespace
}  // namespace eddy::model

namespace eddy::model {
namespace {

// The encoded row `bytes` reads back, field by field, as `row`.
void ExpectSameRow(std::string_view bytes, const Row& row, const std::string& context) {
  RowFieldReader reader(bytes);
  auto count = reader.Count();
  ASSERT_TRUE(count.ok()) << context;
  ASSERT_EQ(*count, row.size()) << context;
  for (const Field& expected : row) {
    auto field = reader.Next();
    ASSERT_TRUE(field.ok()) << context << " " << field.status().ToString();
    EXPECT_EQ(field->name, expected.name) << context;
    EXPECT_EQ(field->value.type, expected.value.type()) << context;
    std::string_view encoded = field->value.encoded;
    auto value = DecodeValue(encoded);
    ASSERT_TRUE(value.ok()) << context;
    EXPECT_TRUE(encoded.empty()) << context;
    EXPECT_EQ(*value, expected.value) << context;
  }
}

// The fields DecodeEventViewWithImage collected are the image's: `row`, field by field.
void ExpectSameFields(const std::vector<FieldView>& fields, const Row& row,
                      const std::string& context) {
  ASSERT_EQ(fields.size(), row.size()) << context;
  for (size_t i = 0; i < row.size(); ++i) {
    EXPECT_EQ(fields[i].name, row[i].name) << context;
    EXPECT_EQ(fields[i].value.type, row[i].value.type()) << context;
    std::string_view encoded = fields[i].value.encoded;
    auto value = DecodeValue(encoded);
    ASSERT_TRUE(value.ok()) << context;
    EXPECT_TRUE(encoded.empty()) << context;
    EXPECT_EQ(*value, row[i].value) << context;
  }
}

// DecodeEventView reads what DecodeEvent reads, in place; DecodeEventViewWithImage accepts the
// same bytes and collects the image's fields.
void ExpectViewMatches(std::string_view bytes, const std::string& context) {
  auto event = DecodeEvent(bytes);
  auto view = DecodeEventView(bytes);
  std::vector<FieldView> image;
  auto with_image = DecodeEventViewWithImage(bytes, &image);
  ASSERT_EQ(event.ok(), view.ok())
      << context << " " << (event.ok() ? view.status() : event.status()).ToString();
  ASSERT_EQ(view.ok(), with_image.ok()) << context;
  if (!event.ok()) {
    EXPECT_EQ(view.status().code(), ErrorCode::kCorruption) << view.status().ToString();
    EXPECT_EQ(with_image.status().ToString(), view.status().ToString()) << context;
    return;
  }
  if (event->op == Operation::kDelete) {
    ExpectSameFields(image, event->before ? *event->before : event->key, context);
  } else if (event->after) {
    ExpectSameFields(image, *event->after, context);
  } else {
    EXPECT_TRUE(image.empty()) << context;
  }
  EXPECT_EQ(with_image->after, view->after) << context;
  EXPECT_EQ(with_image->position, view->position) << context;
  EXPECT_EQ(view->op, event->op) << context;
  auto op = StoredEventOperation(bytes);
  ASSERT_TRUE(op.ok()) << context;
  EXPECT_EQ(*op, event->op) << context;
  EXPECT_EQ(view->database, event->table.database) << context;
  EXPECT_EQ(view->schema, event->table.schema) << context;
  EXPECT_EQ(view->table, event->table.name) << context;
  EXPECT_EQ(view->schema_version, event->schema_version) << context;
  EXPECT_EQ(view->commit_time_ns, event->commit_time_ns) << context;
  EXPECT_EQ(view->capture_time_ns, event->capture_time_ns) << context;
  EXPECT_EQ(view->transaction_id, event->transaction_id) << context;
  EXPECT_EQ(view->ordinal_in_transaction, event->ordinal_in_transaction) << context;
  std::string_view position = view->position;
  auto decoded_position = SourcePosition::DecodeFrom(position);
  ASSERT_TRUE(decoded_position.ok()) << context;
  EXPECT_EQ(*decoded_position, event->position) << context;
  ExpectSameRow(view->key, event->key, context);
  ASSERT_EQ(view->has_before(), event->before.has_value()) << context;
  ASSERT_EQ(view->has_after(), event->after.has_value()) << context;
  if (event->before) ExpectSameRow(view->before, *event->before, context);
  if (event->after) ExpectSameRow(view->after, *event->after, context);
}

TEST(EventViewTest, ReadsWhatDecodeEventReads) {
  ExpectViewMatches(EncodeEvent(SampleUpdate()), "sample update");
  uint64_t seed = testing::TestSeed();
  std::mt19937_64 random(seed);
  for (int i = 0; i < 3000; ++i) {
    ExpectViewMatches(EncodeEvent(testing::RandomEvent(random)),
                      "seed=" + std::to_string(seed) + " i=" + std::to_string(i));
    if (::testing::Test::HasFailure()) return;
  }
}

TEST(EventViewTest, RejectsWhatDecodeEventRejects) {
  std::string bytes = EncodeEvent(SampleUpdate());
  for (size_t length = 0; length < bytes.size(); ++length) {
    auto view = DecodeEventView(std::string_view(bytes).substr(0, length));
    ASSERT_FALSE(view.ok()) << length;
    std::vector<FieldView> image;
    EXPECT_FALSE(DecodeEventViewWithImage(std::string_view(bytes).substr(0, length), &image).ok())
        << length;
    EXPECT_EQ(view.status().code(), ErrorCode::kCorruption) << view.status().ToString();
  }
  EXPECT_FALSE(DecodeEventView(bytes + "x").ok());
  uint64_t seed = testing::TestSeed();
  std::mt19937_64 random(seed);
  for (int i = 0; i < 3000; ++i) {
    std::string mutated = EncodeEvent(testing::RandomEvent(random));
    int flips = 1 + static_cast<int>(random() % 4);
    for (int f = 0; f < flips; ++f) {
      mutated[random() % mutated.size()] ^= static_cast<char>(1 + random() % 255);
    }
    ExpectViewMatches(mutated, "mutated seed=" + std::to_string(seed) + " i=" + std::to_string(i));
    if (::testing::Test::HasFailure()) return;
  }
}

// ReadStoredEventHeader: the decoded event's operation, table and schema version for every
// event that decodes; Corruption for a version, operation or flags DecodeEvent refuses and for
// bytes cut within the header, never anything else for mutated bytes.
TEST(StoredEventHeaderTest, ReadsTheHeaderDecodeEventReads) {
  uint64_t seed = testing::TestSeed();
  std::mt19937_64 random(seed);
  for (int i = 0; i < 3000; ++i) {
    ChangeEvent event = testing::RandomEvent(random);
    std::string bytes = EncodeEvent(event);
    auto header = ReadStoredEventHeader(bytes);
    ASSERT_TRUE(header.ok()) << "seed=" << seed << " i=" << i << " " << header.status().ToString();
    EXPECT_EQ(header->op, event.op);
    EXPECT_EQ(header->database, event.table.database);
    EXPECT_EQ(header->schema, event.table.schema);
    EXPECT_EQ(header->table, event.table.name);
    EXPECT_EQ(header->schema_version, event.schema_version);
    bytes[random() % bytes.size()] ^= static_cast<char>(1 + random() % 255);
    auto mutated = ReadStoredEventHeader(bytes);
    if (!mutated.ok()) {
      EXPECT_EQ(mutated.status().code(), ErrorCode::kCorruption);
    }
  }
  std::string bytes = EncodeEvent(SampleUpdate());
  for (size_t length = 0; length < 6; ++length) {
    auto header = ReadStoredEventHeader(std::string_view(bytes).substr(0, length));
    ASSERT_FALSE(header.ok()) << length;
    EXPECT_EQ(header.status().code(), ErrorCode::kCorruption);
  }
  for (size_t at : {0, 1, 2}) {
    std::string bad = bytes;
    bad[at] = at == 2 ? static_cast<char>(0x80 | bad[2]) : static_cast<char>(77);
    EXPECT_EQ(ReadStoredEventHeader(bad).status().code(), ErrorCode::kCorruption) << at;
  }
}

}  // namespace
}  // namespace eddy::model
