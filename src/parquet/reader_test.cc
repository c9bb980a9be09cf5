#include "parquet/reader.h"

#include <gtest/gtest.h>

#include <random>

#include "parquet/parquet_test_util.h"
#include "parquet/writer.h"

namespace eddy::parquet {
namespace {

using model::Column;
using model::Row;
using model::TableSchema;
using model::Value;
using model::ValueType;
using testing::Col;

// Every type of the PostgreSQL type matrix the writer gives its own Parquet type.
TableSchema MatrixSchema() {
  TableSchema schema;
  schema.table = {"db", "public", "t"};
  Column decimal = Col("d", ValueType::kDecimal, "numeric");
  decimal.precision = 10;
  decimal.scale = 2;
  Column wide = Col("w", ValueType::kDecimal, "numeric");
  wide.precision = 30;
  wide.scale = 4;
  schema.columns = {Col("id", ValueType::kInt64, "bigint", false),
                    Col("i", ValueType::kInt64, "integer"),
                    Col("s", ValueType::kInt64, "smallint"),
                    Col("u", ValueType::kUint64, "int unsigned"),
                    Col("b", ValueType::kBool, "boolean"),
                    Col("f", ValueType::kFloat32, "real"),
                    Col("g", ValueType::kFloat64, "double precision"),
                    decimal,
                    wide,
                    Col("t", ValueType::kText, "text"),
                    Col("j", ValueType::kJson, "jsonb"),
                    Col("y", ValueType::kBytes, "bytea"),
                    Col("dt", ValueType::kDate, "date"),
                    Col("tm", ValueType::kTime, "time"),
                    Col("ts", ValueType::kTimestamp, "timestamp"),
                    Col("tz", ValueType::kTimestampTz, "timestamptz"),
                    Col("uu", ValueType::kUuid, "uuid")};
  schema.primary_key = {"id"};
  return schema;
}

Row MatrixRow(int64_t id, bool nulls) {
  auto uuid = model::UuidValue::Parse("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
  Row row = {{"id", Value::Int64(id)},
             {"i", Value::Int64(-2147483647 + id)},
             {"s", Value::Int64(-300)},
             {"u", Value::Uint64(4000000000u)},
             {"b", Value::Bool(id % 2 == 0)},
             {"f", Value::Float32(1.5f)},
             {"g", Value::Float64(-2.25)},
             {"d", Value::Decimal("-12.34")},
             {"w", Value::Decimal("12345678901234567890.1234")},
             {"t", Value::Text("text " + std::to_string(id))},
             {"j", Value::Json("{\"a\":1}")},
             {"y", Value::Bytes(std::string("\0\1\2", 3))},
             {"dt", Value::Date(model::DateValue::FromCivil(2024, 2, 29))},
             {"tm", Value::Time(45296000001)},
             {"ts", Value::Timestamp({model::TemporalKind::kFinite, 1700000000123456})},
             {"tz", Value::TimestampTz({model::TemporalKind::kFinite, -1000001})},
             {"uu", Value::Uuid(*uuid)}};
  if (nulls) {
    for (size_t i = 1; i < row.size(); ++i) row[i].value = Value::Null();
  }
  return row;
}

std::string Write(const TableSchema& schema, const std::vector<Row>& rows,
                  WriterOptions options = {}) {
  std::string bytes;
  auto writer = ParquetWriter::OpenBuffer(schema, options, &bytes);
  EXPECT_TRUE(writer.ok()) << writer.status().ToString();
  for (const Row& row : rows) EXPECT_TRUE((*writer)->AppendRow(row).ok());
  EXPECT_TRUE((*writer)->Finish().ok());
  return bytes;
}

TEST(ParquetReader, ReadsBackEveryTypeTheWriterWritesWithEveryCodec) {
  const TableSchema schema = MatrixSchema();
  std::vector<Row> rows;
  for (int64_t id = 0; id < 50; ++id) rows.push_back(MatrixRow(id, id % 7 == 3));
  for (Compression compression : {Compression::kNone, Compression::kSnappy, Compression::kZstd}) {
    WriterOptions options;
    options.compression = compression;
    options.page_rows = 8;        // several pages per chunk
    options.row_group_rows = 20;  // several row groups
    options.field_ids = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17};
    options.key_value_metadata = {{"iceberg.schema", "{}"}};
    const std::string bytes = Write(schema, rows, options);
    auto reader = ParquetReader::Open(bytes);
    ASSERT_TRUE(reader.ok()) << reader.status().ToString();
    EXPECT_EQ(reader->row_count(), rows.size());
    EXPECT_EQ(reader->row_group_count(), 3u);
    EXPECT_EQ(reader->Metadata("iceberg.schema"), "{}");
    EXPECT_EQ(reader->ColumnWithFieldId(10), 9u);
    EXPECT_FALSE(reader->columns()[0].optional);
    auto read = reader->ReadRows();
    ASSERT_TRUE(read.ok()) << read.status().ToString();
    ASSERT_EQ(read->size(), rows.size());
    for (size_t r = 0; r < rows.size(); ++r) {
      for (size_t c = 0; c < rows[r].size(); ++c) {
        const Value& want = rows[r][c].value;
        const Value& got = (*read)[r][c].value;
        EXPECT_EQ((*read)[r][c].name, rows[r][c].name);
        if (rows[r][c].name == "j") {  // the writer's STRING column: JSON text comes back as text
          EXPECT_EQ(got, want.is_null() ? Value::Null() : Value::Text("{\"a\":1}"));
        } else {
          EXPECT_EQ(got, want) << "row " << r << " column " << rows[r][c].name << ": "
                               << got.DebugString() << " != " << want.DebugString();
        }
      }
    }
  }
}

TEST(ParquetReader, EmptyFilesAndAllNullColumns) {
  const TableSchema schema = MatrixSchema();
  auto empty_bytes = Write(schema, {});
  auto empty = ParquetReader::Open(empty_bytes);
  ASSERT_TRUE(empty.ok()) << empty.status().ToString();
  EXPECT_EQ(empty->row_count(), 0u);
  EXPECT_TRUE(empty->ReadRows()->empty());

  std::vector<Row> rows;
  for (int64_t id = 0; id < 1000; ++id) rows.push_back(MatrixRow(id, true));
  auto bytes = Write(schema, rows);
  auto reader = ParquetReader::Open(bytes);
  ASSERT_TRUE(reader.ok());
  auto values = reader->ReadColumn(0, 9);
  ASSERT_TRUE(values.ok()) << values.status().ToString();
  ASSERT_EQ(values->size(), 1000u);
  for (const Value& value : *values) EXPECT_TRUE(value.is_null());
}

TEST(ParquetReader, BadBytesAreCorruptionNeverACrash) {
  EXPECT_EQ(ParquetReader::Open("").status().code(), ErrorCode::kCorruption);
  EXPECT_EQ(ParquetReader::Open("PAR1PAR1").status().code(), ErrorCode::kCorruption);
  auto bad_length =
      ParquetReader::Open(std::string("PAR1") + std::string("\xff\xff\xff\x7fPAR1", 8));
  EXPECT_EQ(bad_length.status().code(), ErrorCode::kCorruption);
  EXPECT_NE(bad_length.status().message().find("footer length"), std::string::npos);

  std::vector<Row> rows;
  for (int64_t id = 0; id < 40; ++id) rows.push_back(MatrixRow(id, id % 3 == 0));
  WriterOptions options;
  options.page_rows = 10;
  const std::string good = Write(MatrixSchema(), rows, options);
  std::mt19937 random(7);
  for (int round = 0; round < 3000; ++round) {
    std::string bytes = good;
    const int flips = 1 + static_cast<int>(random() % 4);
    for (int i = 0; i < flips; ++i) {
      bytes[random() % bytes.size()] = static_cast<char>(random());
    }
    if (round % 5 == 0) bytes.resize(random() % bytes.size());
    auto reader = ParquetReader::Open(bytes);
    if (!reader.ok()) continue;
    auto read = reader->ReadRows();
    if (read.ok()) {
      EXPECT_EQ(read->size(), reader->row_count());
    } else {
      const ErrorCode code = read.status().code();
      EXPECT_TRUE(code == ErrorCode::kCorruption || code == ErrorCode::kFailedPrecondition)
          << read.status().ToString();
    }
  }
}

TEST(ParquetReader, ReadsADecimal20ColumnOfUnsigned64BitValues) {
  TableSchema schema;
  schema.table = {"db", "", "t"};
  Column column = Col("u", ValueType::kDecimal, "bigint unsigned");
  column.precision = 20;
  column.scale = 0;
  schema.columns = {column};
  const std::string bytes = Write(schema, {{{"u", Value::Uint64(18446744073709551615ull)}},
                                           {{"u", Value::Uint64(0)}},
                                           {{"u", Value::Null()}}});
  auto reader = ParquetReader::Open(bytes);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  auto read = reader->ReadRows();
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  ASSERT_EQ(read->size(), 3u);
  EXPECT_EQ((*read)[0][0].value, Value::Decimal("18446744073709551615"));
  EXPECT_EQ((*read)[1][0].value, Value::Decimal("0"));
  EXPECT_TRUE((*read)[2][0].value.is_null());
}

}  // namespace
}  // namespace eddy::parquet
