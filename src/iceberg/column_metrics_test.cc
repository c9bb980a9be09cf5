#include "iceberg/column_metrics.h"

#include <gtest/gtest.h>

#include <cstring>
#include <limits>
#include <map>

#include "avro/avro.h"
#include "iceberg/iceberg_format.h"
#include "iceberg/table.h"
#include "io/fault_file_system.h"
#include "objstore/local_object_store.h"

namespace eddy::iceberg {
namespace {

model::Column Col(std::string name, model::ValueType type, std::string source_type,
                  int key_ordinal = 0) {
  model::Column column;
  column.name = std::move(name);
  column.type = type;
  column.source_type = std::move(source_type);
  column.nullable = key_ordinal == 0;
  column.primary_key_ordinal = key_ordinal;
  return column;
}

std::string LittleEndian(uint64_t value, size_t bytes) {
  std::string out;
  for (size_t i = 0; i < bytes; ++i) out.push_back(static_cast<char>(value >> (8 * i)));
  return out;
}
std::string FloatBytes(float value) {
  uint32_t bits = 0;
  std::memcpy(&bits, &value, 4);
  return LittleEndian(bits, 4);
}
std::string DoubleBytes(double value) {
  uint64_t bits = 0;
  std::memcpy(&bits, &value, 8);
  return LittleEndian(bits, 8);
}
std::string Hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (char c : bytes) {
    out.push_back(kDigits[static_cast<uint8_t>(c) >> 4]);
    out.push_back(kDigits[static_cast<uint8_t>(c) & 15]);
  }
  return out;
}

class ColumnMetricsTest : public ::testing::Test {
 protected:
  // Commits `rows` of `table` as a new table and returns its data file's manifest entry, with
  // the metrics keyed by column name instead of field id.
  struct Entry {
    DataFile file;
    std::map<std::string, std::string> lower, upper;
    std::map<std::string, int64_t> nulls, nans, values, sizes;
    std::map<std::string, std::string> types;
  };
  Entry CommitAndRead(const model::TableSchema& table, const std::vector<model::Row>& rows) {
    Delta delta;
    for (const model::Row& row : rows) delta.rows.push_back(&row);
    auto committed = catalog_.CommitDelta("t", std::nullopt, table, delta);
    EXPECT_TRUE(committed.ok()) << committed.status().ToString();
    const Schema& schema = *committed->metadata.CurrentSchema();
    auto list = ReadManifestList(
        *store_.Get(*catalog_.KeyOfUri(committed->metadata.CurrentSnapshot()->manifest_list)));
    EXPECT_TRUE(list.ok()) << list.status().ToString();
    Entry entry;
    for (const ManifestFile& manifest : *list) {
      if (manifest.content != kManifestData) continue;
      auto files = ReadManifest(*store_.Get(*catalog_.KeyOfUri(manifest.manifest_path)));
      EXPECT_TRUE(files.ok()) << files.status().ToString();
      EXPECT_EQ(files->size(), 1u);
      entry.file = files->front();
    }
    auto name_of = [&](int32_t id) {
      for (const Field& field : schema.fields) {
        if (field.id == id) return field.name;
      }
      ADD_FAILURE() << "no field " << id;
      return std::string();
    };
    for (const Field& field : schema.fields) entry.types[field.name] = field.type;
    for (const auto& [id, bound] : entry.file.lower_bounds) entry.lower[name_of(id)] = bound;
    for (const auto& [id, bound] : entry.file.upper_bounds) entry.upper[name_of(id)] = bound;
    for (const auto& [id, n] : entry.file.null_value_counts) entry.nulls[name_of(id)] = n;
    for (const auto& [id, n] : entry.file.nan_value_counts) entry.nans[name_of(id)] = n;
    for (const auto& [id, n] : entry.file.value_counts) entry.values[name_of(id)] = n;
    for (const auto& [id, n] : entry.file.column_sizes) entry.sizes[name_of(id)] = n;
    return entry;
  }

  io::FaultInjectionFileSystem fs_;
  objstore::LocalObjectStore store_{"/lake", &fs_};
  HadoopCatalog catalog_{&store_};
};

// Every type eddy maps to Iceberg: the bound bytes are the spec's single-value serialization of
// the column's true minimum and maximum, or absent where readers could order values otherwise.
TEST_F(ColumnMetricsTest, BoundsAreTheSpecSerializationOfTheTrueMinimumAndMaximum) {
  model::TableSchema table;
  table.table = {"shop", "public", "typed"};
  model::Column price = Col("price", model::ValueType::kDecimal, "numeric(10,2)");
  price.precision = 10;
  price.scale = 2;
  model::Column big = Col("big", model::ValueType::kDecimal, "numeric(30,5)");
  big.precision = 30;
  big.scale = 5;
  table.columns = {Col("id", model::ValueType::kInt64, "bigint", 1),
                   Col("small", model::ValueType::kInt64, "integer"),
                   Col("flag", model::ValueType::kBool, "boolean"),
                   Col("ratio", model::ValueType::kFloat32, "real"),
                   Col("score", model::ValueType::kFloat64, "double precision"),
                   Col("name", model::ValueType::kText, "text"),
                   Col("emoji", model::ValueType::kText, "text"),
                   Col("blob", model::ValueType::kBytes, "bytea"),
                   price,
                   big,
                   Col("day", model::ValueType::kDate, "date"),
                   Col("at", model::ValueType::kTimestampTz, "timestamp with time zone"),
                   Col("u", model::ValueType::kUuid, "uuid"),
                   Col("unsigned32", model::ValueType::kUint64, "int unsigned"),
                   Col("empty", model::ValueType::kText, "text")};
  table.primary_key = {"id"};
  auto row = [](int64_t id, int64_t small, bool flag, float ratio, double score, std::string name,
                std::string emoji, std::string blob, std::string price_text, std::string big_text,
                int64_t day, int64_t at_micros, uint64_t unsigned32) {
    model::TimestampTzValue at;
    at.micros = at_micros;
    model::DateValue date;
    date.days = static_cast<int32_t>(day);
    model::UuidValue uuid{};
    uuid.bytes[0] = static_cast<uint8_t>(id);
    return model::Row{{"id", model::Value::Int64(id)},
                      {"small", model::Value::Int64(small)},
                      {"flag", model::Value::Bool(flag)},
                      {"ratio", model::Value::Float32(ratio)},
                      {"score", model::Value::Float64(score)},
                      {"name", model::Value::Text(std::move(name))},
                      {"emoji", model::Value::Text(std::move(emoji))},
                      {"blob", model::Value::Bytes(std::move(blob))},
                      {"price", model::Value::Decimal(std::move(price_text))},
                      {"big", model::Value::Decimal(std::move(big_text))},
                      {"day", model::Value::Date(date)},
                      {"at", model::Value::TimestampTz(at)},
                      {"u", model::Value::Uuid(uuid)},
                      {"unsigned32", model::Value::Uint64(unsigned32)},
                      {"empty", model::Value::Null()}};
  };
  std::vector<model::Row> rows = {
      row(7, -5, true, 0.0f, -0.0, "pear", "a\xF0\x9F\x98\x80", std::string("\x00\x01", 2), "-1.25",
          "-12345678901234567890.12345", 19000, -5, 4294967295u),
      row(3, 40, true, 2.5f, 1.5, "apple", "b", "\xff", "300.00", "7.00000", 18000,
          1700000000000000, 0),
      row(9, 12, true, std::numeric_limits<float>::quiet_NaN(), 0.0, "zebra", "c", "", "0.01",
          "0.00001", 20000, 12, 17)};
  Entry entry = CommitAndRead(table, rows);

  EXPECT_EQ(entry.file.record_count, 3);
  EXPECT_EQ(entry.types["unsigned32"], "long");
  EXPECT_EQ(Hex(entry.lower["id"]), Hex(LittleEndian(3, 8)));
  EXPECT_EQ(Hex(entry.upper["id"]), Hex(LittleEndian(9, 8)));
  EXPECT_EQ(entry.types["small"], "int");
  EXPECT_EQ(Hex(entry.lower["small"]), Hex(LittleEndian(static_cast<uint64_t>(-5), 4)));
  EXPECT_EQ(Hex(entry.upper["small"]), Hex(LittleEndian(40, 4)));
  EXPECT_EQ(Hex(entry.lower["flag"]), "01");
  EXPECT_EQ(Hex(entry.upper["flag"]), "01");
  // NaN is counted, never a bound; zeros are widened to cover both signs.
  EXPECT_EQ(entry.nans["ratio"], 1);
  EXPECT_EQ(Hex(entry.lower["ratio"]), Hex(FloatBytes(-0.0f)));
  EXPECT_EQ(Hex(entry.upper["ratio"]), Hex(FloatBytes(2.5f)));
  EXPECT_EQ(entry.nans["score"], 0);
  EXPECT_EQ(Hex(entry.lower["score"]), Hex(DoubleBytes(-0.0)));
  EXPECT_EQ(Hex(entry.upper["score"]), Hex(DoubleBytes(1.5)));
  EXPECT_EQ(entry.nans.count("name"), 0u);  // only float and double columns count NaNs
  EXPECT_EQ(entry.lower["name"], "apple");
  EXPECT_EQ(entry.upper["name"], "zebra");
  // A string column whose bound has a code point at or above U+E000 gets none (Java orders
  // UTF-16 code units); its lower bound "a\U0001F600" is such a string.
  EXPECT_EQ(entry.lower.count("emoji"), 0u);
  EXPECT_EQ(entry.upper["emoji"], "c");
  EXPECT_EQ(Hex(entry.lower["blob"]), "");
  EXPECT_EQ(Hex(entry.upper["blob"]), "ff");
  // decimal: the unscaled value, big-endian two's complement in the fewest bytes.
  EXPECT_EQ(entry.types["price"], "decimal(10, 2)");
  EXPECT_EQ(Hex(entry.lower["price"]), "83");    // -125
  EXPECT_EQ(Hex(entry.upper["price"]), "7530");  // 30000
  EXPECT_EQ(entry.types["big"], "decimal(30, 5)");
  // -1234567890123456789012345 and 700000
  EXPECT_EQ(Hex(entry.lower["big"]), "fefa91f0c959bbc21d2087");
  EXPECT_EQ(Hex(entry.upper["big"]), "0aae60");
  EXPECT_EQ(Hex(entry.lower["day"]), Hex(LittleEndian(18000, 4)));
  EXPECT_EQ(Hex(entry.upper["day"]), Hex(LittleEndian(20000, 4)));
  EXPECT_EQ(Hex(entry.lower["at"]), Hex(LittleEndian(static_cast<uint64_t>(-5), 8)));
  EXPECT_EQ(Hex(entry.upper["at"]), Hex(LittleEndian(1700000000000000, 8)));
  EXPECT_EQ(entry.lower.count("u"), 0u);  // uuid: no bound (Java compares UUIDs signed)
  EXPECT_EQ(entry.upper.count("u"), 0u);
  // INT UNSIGNED as long: compared unsigned, written as the 8-byte value.
  EXPECT_EQ(Hex(entry.lower["unsigned32"]), Hex(LittleEndian(0, 8)));
  EXPECT_EQ(Hex(entry.upper["unsigned32"]), Hex(LittleEndian(4294967295u, 8)));
  // A column null in every row: counted, no bound.
  EXPECT_EQ(entry.nulls["empty"], 3);
  EXPECT_EQ(entry.values["empty"], 3);
  EXPECT_EQ(entry.lower.count("empty"), 0u);
  for (const auto& [name, size] : entry.sizes) EXPECT_GT(size, 0) << name;
  EXPECT_EQ(entry.sizes.size(), entry.values.size());
}

// A 64-bit unsigned column kept as `long` (its field predates decimal(20, 0)) gets no bound:
// the writer ordered it unsigned, readers compare long values signed.
TEST_F(ColumnMetricsTest, UnsignedBigintKeptAsLongHasNoBound) {
  parquet::ColumnStatistics column;
  column.physical = parquet::PhysicalType::kInt64;
  column.logical = "INT(64,unsigned)";
  EXPECT_FALSE(IcebergBound("long", column, LittleEndian(~uint64_t{0}, 8), BoundKind::kUpper));
  column.logical = "INT(64,signed)";
  EXPECT_EQ(IcebergBound("long", column, LittleEndian(5, 8), BoundKind::kUpper),
            LittleEndian(5, 8));
  // A bound whose width does not match the type is never written.
  EXPECT_FALSE(IcebergBound("long", column, LittleEndian(5, 3), BoundKind::kUpper));
  column.physical = parquet::PhysicalType::kByteArray;
  column.logical = "UUID";
  EXPECT_FALSE(IcebergBound("uuid", column, std::string(16, 'x'), BoundKind::kLower));
}

// Manifests written before the metrics existed are still read (tables keep old manifests).
TEST_F(ColumnMetricsTest, ManifestsWithoutMetricsAreStillRead) {
  DataFile file;
  file.content = kContentData;
  file.file_path = "file:///lake/t/data/a.parquet";
  file.record_count = 2;
  file.file_size_in_bytes = 100;
  file.value_counts = {{1, 2}};
  file.null_value_counts = {{1, 0}};
  file.lower_bounds = {{1, LittleEndian(1, 8)}};
  file.upper_bounds = {{1, LittleEndian(2, 8)}};
  file.column_sizes = {{1, 40}};
  Schema schema;
  schema.fields = {Field{1, "id", true, "long"}};
  auto written = WriteManifest(schema, kManifestData, 5, {file});
  ASSERT_TRUE(written.ok()) << written.status().ToString();
  auto read = ReadManifest(*written);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  ASSERT_EQ(read->size(), 1u);
  EXPECT_EQ((*read)[0].lower_bounds, file.lower_bounds);
  EXPECT_EQ((*read)[0].upper_bounds, file.upper_bounds);
  EXPECT_EQ((*read)[0].column_sizes, file.column_sizes);

  // The older layout: the same entry without column sizes, NaN counts and bounds.
  avro::ContainerWriter legacy(std::string(kManifestEntrySchemaCountsOnly), {});
  avro::Encoder encoder;
  encoder.Int(kEntryAdded);
  encoder.UnionIndex(1);
  encoder.Long(5);
  encoder.UnionIndex(0);
  encoder.UnionIndex(0);
  encoder.Int(kContentData);
  encoder.String(file.file_path);
  encoder.String("PARQUET");
  encoder.Long(2);
  encoder.Long(100);
  for (int map = 0; map < 2; ++map) {
    encoder.UnionIndex(1);
    encoder.BeginBlock(1);
    encoder.Int(1);
    encoder.Long(map == 0 ? 2 : 0);
    encoder.EndBlocks();
  }
  encoder.UnionIndex(0);  // equality_ids
  legacy.Append(encoder.Take());
  auto legacy_bytes = legacy.Finish();
  ASSERT_TRUE(legacy_bytes.ok()) << legacy_bytes.status().ToString();
  auto old = ReadManifest(*legacy_bytes);
  ASSERT_TRUE(old.ok()) << old.status().ToString();
  ASSERT_EQ(old->size(), 1u);
  EXPECT_EQ((*old)[0].value_counts, file.value_counts);
  EXPECT_EQ((*old)[0].null_value_counts, file.null_value_counts);
  EXPECT_TRUE((*old)[0].lower_bounds.empty());
}

}  // namespace
}  // namespace eddy::iceberg
