#include "parquet/writer.h"

#include <gtest/gtest.h>
#include <snappy.h>
#include <zstd.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdlib>
#include <iostream>
#include <limits>
#include <random>

#include "base/bytes.h"
#include "io/fault_file_system.h"
#include "model/event_codec.h"
#include "model/testing.h"
#include "parquet/parquet_format.h"
#include "parquet/parquet_test_util.h"
#include "parquet/thrift_compact.h"

namespace eddy::parquet {
namespace {

namespace f = format::field;
using model::Column;
using model::Field;
using model::Row;
using model::TableSchema;
using model::Value;
using model::ValueType;
using testing::Col;
using thrift::Node;

TableSchema Schema(std::vector<Column> columns) {
  TableSchema schema;
  schema.table = {"db", "public", "t"};
  schema.columns = std::move(columns);
  return schema;
}

// A parsed file: the footer tree plus the bytes, for walking pages.
struct Parsed {
  std::string bytes;
  Node meta;
};

Parsed Parse(const std::string& bytes) {
  Parsed parsed;
  parsed.bytes = bytes;
  EXPECT_GE(bytes.size(), 12u);
  EXPECT_EQ(bytes.substr(0, 4), "PAR1");
  EXPECT_EQ(bytes.substr(bytes.size() - 4), "PAR1");
  const uint32_t footer_length = DecodeFixed32(bytes.data() + bytes.size() - 8);
  EXPECT_LE(footer_length + 12u, bytes.size());
  const size_t footer_start = bytes.size() - 8 - footer_length;
  size_t consumed = 0;
  auto meta = thrift::CompactReader::ReadStruct(
      std::string_view(bytes).substr(footer_start, footer_length), &consumed);
  EXPECT_TRUE(meta.ok()) << meta.status().ToString();
  EXPECT_EQ(consumed, footer_length);
  if (meta.ok()) parsed.meta = std::move(*meta);
  return parsed;
}

const Node& Leaf(const Parsed& file, size_t column) {
  return file.meta.Field(f::kFileSchema)->elements.at(column + 1);
}

const Node& ChunkMeta(const Parsed& file, size_t group, size_t column) {
  return *file.meta.Field(f::kFileRowGroups)
              ->elements.at(group)
              .Field(f::kRowGroupColumns)
              ->elements.at(column)
              .Field(f::kChunkMetaData);
}

// Decodes an RLE/bit-packed hybrid run sequence of bit width 1 (test-only, bounds-checked).
std::vector<uint8_t> DecodeLevels(std::string_view bytes, size_t count) {
  ByteReader reader(bytes);
  std::vector<uint8_t> levels;
  while (levels.size() < count) {
    auto header = reader.ReadVarint64();
    EXPECT_TRUE(header.ok());
    if (!header.ok()) break;
    if ((*header & 1) == 0) {
      auto value = reader.ReadFixed8();
      EXPECT_TRUE(value.ok());
      if (!value.ok()) break;
      levels.insert(levels.end(), *header >> 1, *value);
    } else {
      for (uint64_t g = 0; g < (*header >> 1); ++g) {
        auto byte = reader.ReadFixed8();
        EXPECT_TRUE(byte.ok());
        if (!byte.ok()) break;
        for (int bit = 0; bit < 8; ++bit) levels.push_back((*byte >> bit) & 1);
      }
    }
  }
  EXPECT_TRUE(reader.empty()) << reader.remaining() << " bytes left after the levels";
  levels.resize(count);
  return levels;
}

// One column's pages in one row group, decompressed: each holds (num_values, body).
std::vector<std::pair<int64_t, std::string>> Pages(const Parsed& file, size_t group,
                                                   size_t column) {
  const Node& meta = ChunkMeta(file, group, column);
  const int64_t codec = meta.Field(f::kMetaCodec)->integer;
  uint64_t offset = static_cast<uint64_t>(meta.Field(f::kMetaDataPageOffset)->integer);
  const uint64_t end =
      offset + static_cast<uint64_t>(meta.Field(f::kMetaTotalCompressedSize)->integer);
  std::vector<std::pair<int64_t, std::string>> pages;
  uint64_t values = 0, uncompressed_total = 0;
  while (offset < end) {
    size_t header_length = 0;
    auto header = thrift::CompactReader::ReadStruct(
        std::string_view(file.bytes).substr(offset, end - offset), &header_length);
    EXPECT_TRUE(header.ok()) << header.status().ToString();
    if (!header.ok()) return pages;
    EXPECT_EQ(header->Field(f::kPageType)->integer, 0);  // DATA_PAGE (V1)
    const int64_t compressed_size = header->Field(f::kPageCompressedSize)->integer;
    const int64_t uncompressed_size = header->Field(f::kPageUncompressedSize)->integer;
    const Node* data = header->Field(f::kPageDataPageHeader);
    EXPECT_NE(data, nullptr);
    const std::string compressed =
        file.bytes.substr(offset + header_length, static_cast<size_t>(compressed_size));
    std::string body;
    if (codec == 0) {
      body = compressed;
    } else if (codec == 1) {
      EXPECT_TRUE(snappy::Uncompress(compressed.data(), compressed.size(), &body));
    } else {
      body.resize(static_cast<size_t>(uncompressed_size));
      const size_t n =
          ZSTD_decompress(body.data(), body.size(), compressed.data(), compressed.size());
      EXPECT_FALSE(ZSTD_isError(n));
      body.resize(n);
    }
    EXPECT_EQ(static_cast<int64_t>(body.size()), uncompressed_size);
    const int64_t page_values = data->Field(f::kDataPageNumValues)->integer;
    values += static_cast<uint64_t>(page_values);
    uncompressed_total += header_length + body.size();
    pages.emplace_back(page_values, std::move(body));
    offset += header_length + static_cast<uint64_t>(compressed_size);
  }
  EXPECT_EQ(offset, end) << "pages overrun the chunk";
  EXPECT_EQ(values, static_cast<uint64_t>(meta.Field(f::kMetaNumValues)->integer));
  EXPECT_EQ(uncompressed_total,
            static_cast<uint64_t>(meta.Field(f::kMetaTotalUncompressedSize)->integer));
  return pages;
}

// The INT64 values of an OPTIONAL column (nullopt for nulls), across all row groups.
std::vector<std::optional<int64_t>> ReadInt64Column(const Parsed& file, size_t column) {
  std::vector<std::optional<int64_t>> out;
  for (size_t g = 0; g < file.meta.Field(f::kFileRowGroups)->elements.size(); ++g) {
    for (const auto& [count, body] : Pages(file, g, column)) {
      const uint32_t levels_length = DecodeFixed32(body.data());
      auto levels =
          DecodeLevels(std::string_view(body).substr(4, levels_length), static_cast<size_t>(count));
      size_t at = 4 + levels_length;
      for (uint8_t level : levels) {
        if (level == 0) {
          out.push_back(std::nullopt);
        } else {
          out.push_back(static_cast<int64_t>(DecodeFixed64(body.data() + at)));
          at += 8;
        }
      }
      EXPECT_EQ(at, body.size());
    }
  }
  return out;
}

std::string Fixed64(uint64_t v) {
  std::string out;
  PutFixed64(out, v);
  return out;
}
std::string Fixed32(uint32_t v) {
  std::string out;
  PutFixed32(out, v);
  return out;
}

Result<std::string> WriteRows(const TableSchema& schema, const WriterOptions& options,
                              const std::vector<Row>& rows, FileSummary* summary = nullptr) {
  std::string out;
  EDDY_ASSIGN_OR_RETURN(auto writer, ParquetWriter::OpenBuffer(schema, options, &out));
  for (const Row& row : rows) EDDY_RETURN_IF_ERROR(writer->AppendRow(row));
  EDDY_ASSIGN_OR_RETURN(FileSummary result, writer->Finish());
  EXPECT_EQ(result.file_bytes, out.size());
  if (summary != nullptr) *summary = std::move(result);
  return out;
}

TEST(ParquetWriter, OffsetsSizesAndCountsAddUpAcrossRowGroupsAndPages) {
  TableSchema schema =
      Schema({Col("id", ValueType::kInt64, "int8", false), Col("v", ValueType::kInt64, "int8"),
              Col("s", ValueType::kText, "text")});
  std::vector<Row> rows;
  for (int64_t i = 0; i < 250; ++i) {
    // Nulls in patterns that exercise both RLE runs and bit-packed groups.
    Value v = (i % 3 == 0 || (i >= 100 && i < 140)) ? Value::Null() : Value::Int64(i * 7 - 900);
    rows.push_back(
        {{"id", Value::Int64(i)}, {"v", v}, {"s", Value::Text("row " + std::to_string(i))}});
  }
  for (Compression compression : {Compression::kNone, Compression::kSnappy, Compression::kZstd}) {
    SCOPED_TRACE(std::string(CompressionName(compression)));
    WriterOptions options;
    options.compression = compression;
    options.page_rows = 17;
    options.row_group_rows = 100;
    FileSummary summary;
    auto bytes = WriteRows(schema, options, rows, &summary);
    ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
    Parsed file = Parse(*bytes);
    EXPECT_EQ(file.meta.Field(f::kFileNumRows)->integer, 250);
    const auto& groups = file.meta.Field(f::kFileRowGroups)->elements;
    ASSERT_EQ(groups.size(), 3u);
    EXPECT_EQ(summary.row_group_count, 3u);
    uint64_t expected_offset = 4;  // after "PAR1"
    for (size_t g = 0; g < groups.size(); ++g) {
      const Node& group = groups[g];
      EXPECT_EQ(group.Field(f::kRowGroupNumRows)->integer, g < 2 ? 100 : 50);
      EXPECT_EQ(group.Field(f::kRowGroupFileOffset)->integer,
                static_cast<int64_t>(expected_offset));
      int64_t compressed = 0;
      for (size_t c = 0; c < 3; ++c) {
        const Node& chunk = group.Field(f::kRowGroupColumns)->elements[c];
        const Node& meta = *chunk.Field(f::kChunkMetaData);
        EXPECT_EQ(chunk.Field(f::kChunkFileOffset)->integer, static_cast<int64_t>(expected_offset));
        EXPECT_EQ(meta.Field(f::kMetaDataPageOffset)->integer,
                  static_cast<int64_t>(expected_offset));
        EXPECT_EQ(meta.Field(f::kMetaNumValues)->integer, g < 2 ? 100 : 50);
        EXPECT_EQ(meta.Field(11), nullptr) << "no dictionary page, so no dictionary_page_offset";
        auto pages = Pages(file, g, c);
        EXPECT_EQ(pages.size(), g < 2 ? 6u : 3u);  // 17-row pages
        compressed += meta.Field(f::kMetaTotalCompressedSize)->integer;
        expected_offset += static_cast<uint64_t>(meta.Field(f::kMetaTotalCompressedSize)->integer);
      }
      EXPECT_EQ(group.Field(f::kRowGroupTotalCompressedSize)->integer, compressed);
    }
    // The footer starts where the last chunk ends.
    const uint32_t footer_length = DecodeFixed32(bytes->data() + bytes->size() - 8);
    EXPECT_EQ(expected_offset, bytes->size() - 8 - footer_length);

    auto values = ReadInt64Column(file, 1);
    ASSERT_EQ(values.size(), rows.size());
    for (size_t i = 0; i < rows.size(); ++i) {
      const Value& want = rows[i][1].value;
      if (want.is_null()) {
        EXPECT_FALSE(values[i].has_value()) << "row " << i;
      } else {
        EXPECT_EQ(values[i], want.Get<int64_t>()) << "row " << i;
      }
    }
    EXPECT_EQ(summary.columns[1].null_count, 84u + 27u);
    EXPECT_EQ(summary.columns[1].value_count, 250u);
    EXPECT_EQ(summary.columns[0].value_count, 250u);
    EXPECT_EQ(Leaf(file, 0).Field(f::kSchemaRepetition)->integer, 0);  // REQUIRED
    EXPECT_EQ(Leaf(file, 1).Field(f::kSchemaRepetition)->integer, 1);  // OPTIONAL
    EXPECT_EQ(file.meta.Field(f::kFileColumnOrders)->elements.size(), 3u);
    EXPECT_EQ(file.meta.Field(f::kFileCreatedBy)->binary.rfind("eddy version ", 0), 0u);
  }
}

TEST(ParquetWriter, StatisticsFollowEachTypesOrderAndSkipNaN) {
  TableSchema schema = Schema(
      {Col("u64", ValueType::kUint64, "bigint unsigned"),
       Col("u32", ValueType::kUint64, "int unsigned"), Col("i16", ValueType::kInt64, "smallint"),
       Col("f", ValueType::kFloat64, "float8"), Col("nan", ValueType::kFloat32, "float4"),
       Col("zero", ValueType::kFloat64, "float8"), Col("dec", ValueType::kDecimal, "numeric(20,2)"),
       Col("nothing", ValueType::kDate, "date"), Col("s", ValueType::kText, "text")});
  schema.columns[6].precision = 20;
  schema.columns[6].scale = 2;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  std::vector<Row> rows = {
      {{"u64", Value::Uint64(1)},
       {"u32", Value::Uint64(4294967295u)},
       {"i16", Value::Int64(-5)},
       {"f", Value::Float64(nan)},
       {"nan", Value::Float32(std::nanf(""))},
       {"zero", Value::Float64(0.0)},
       {"dec", Value::Decimal("-12.5")},
       {"s", Value::Text(std::string(100, 'b'))}},
      {{"u64", Value::Uint64(18446744073709551615ull)},
       {"u32", Value::Uint64(2)},
       {"i16", Value::Int64(3)},
       {"f", Value::Float64(-2.5)},
       {"zero", Value::Float64(-0.0)},
       {"dec", Value::Decimal("99999999999999999.99")},
       {"s", Value::Text("a\xC3\xA9")}},
      {{"f", Value::Float64(7.25)}, {"s", Value::Text(std::string(70, '\xF4'))}},
  };
  // The third row's text is not UTF-8: the writer refuses it (checked below); build a valid one.
  rows[2][1].value = Value::Text(std::string(64, 'c') + "\xF4\x8F\xBF\xBF" + "zz");
  FileSummary summary;
  auto bytes = WriteRows(schema, WriterOptions{}, rows, &summary);
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  Parsed file = Parse(*bytes);
  auto stats = [&](size_t column) { return ChunkMeta(file, 0, column).Field(f::kMetaStatistics); };
  auto min = [&](size_t column) { return stats(column)->Field(f::kStatsMinValue)->binary; };
  auto max = [&](size_t column) { return stats(column)->Field(f::kStatsMaxValue)->binary; };

  EXPECT_EQ(min(0), Fixed64(1));  // unsigned order: 2^64-1 is the maximum, not -1
  EXPECT_EQ(max(0), Fixed64(18446744073709551615ull));
  EXPECT_EQ(min(1), Fixed32(2));
  EXPECT_EQ(max(1), Fixed32(4294967295u));
  EXPECT_EQ(min(2), Fixed32(static_cast<uint32_t>(-5)));
  EXPECT_EQ(max(2), Fixed32(3));
  EXPECT_EQ(min(3), Fixed64(std::bit_cast<uint64_t>(-2.5)));
  EXPECT_EQ(max(3), Fixed64(std::bit_cast<uint64_t>(7.25)));
  EXPECT_EQ(summary.columns[3].nan_count, 1u);
  // All values NaN: no bounds at all.
  EXPECT_EQ(stats(4)->Field(f::kStatsMinValue), nullptr);
  EXPECT_EQ(stats(4)->Field(f::kStatsMaxValue), nullptr);
  EXPECT_EQ(summary.columns[4].nan_count, 1u);
  EXPECT_FALSE(summary.columns[4].min_value.has_value());
  // Zeros: the minimum is written as -0.0 and the maximum as +0.0.
  EXPECT_EQ(min(5), Fixed64(std::bit_cast<uint64_t>(-0.0)));
  EXPECT_EQ(max(5), Fixed64(std::bit_cast<uint64_t>(0.0)));
  // DECIMAL(20,2) is a 9-byte big-endian two's complement: -1250 and 9999999999999999999.
  EXPECT_EQ(Leaf(file, 6).Field(f::kSchemaTypeLength)->integer, 9);
  EXPECT_EQ(min(6), std::string("\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFB\x1E", 9));
  EXPECT_EQ(max(6), std::string("\x00\x8A\xC7\x23\x04\x89\xE7\xFF\xFF", 9));
  // A column NULL in every row: typed, null count, no bounds.
  EXPECT_EQ(Leaf(file, 7).Field(f::kSchemaType)->integer, 1);  // INT32
  EXPECT_NE(Leaf(file, 7).Field(f::kSchemaLogicalType)->Field(format::logical::kDate), nullptr);
  EXPECT_EQ(stats(7)->Field(f::kStatsNullCount)->integer, 3);
  EXPECT_EQ(stats(7)->Field(f::kStatsMinValue), nullptr);
  // Long strings: the minimum truncated to 64 bytes, the maximum truncated and incremented
  // at a character boundary, both flagged inexact.
  EXPECT_EQ(min(8), std::string("a\xC3\xA9"));
  EXPECT_EQ(stats(8)->Field(f::kStatsIsMinValueExact)->integer, 1);
  EXPECT_EQ(max(8), std::string(63, 'c') + "d");
  EXPECT_EQ(stats(8)->Field(f::kStatsIsMaxValueExact)->integer, 0);
  EXPECT_EQ(summary.columns[8].max_value, std::string(63, 'c') + "d");
  EXPECT_FALSE(summary.columns[8].max_exact);
}

// Byte-array bounds are the unsigned bytewise minimum and maximum of the column's values, in
// every page and row group: random values over a few bytes (0x00 and 0xFF among them), of 0 to
// 20 bytes, so that many share long prefixes, end inside another's first 8 bytes, or differ
// only past them.
TEST(ParquetWriter, ByteArrayBoundsAreTheBytewiseMinimumAndMaximumOfRandomValues) {
  TableSchema schema = Schema({Col("b", ValueType::kBytes, "bytea")});
  const char alphabet[] = {'\x00', '\x01', 'a', 'b', '\x7F', '\x80', '\xFF'};
  for (uint32_t seed = 1; seed <= 20; ++seed) {
    std::mt19937 random(seed);
    std::vector<Row> rows;
    std::string expected_min, expected_max;
    const size_t count = 1 + random() % 400;
    for (size_t i = 0; i < count; ++i) {
      std::string value(random() % 21, 'a');
      for (char& c : value) c = alphabet[random() % sizeof(alphabet)];
      if (i == 0 || value < expected_min) expected_min = value;
      if (i == 0 || value > expected_max) expected_max = value;
      rows.push_back({{"b", Value::Bytes(value)}});
    }
    WriterOptions options;
    options.row_group_rows = 1 + random() % 100;  // bounds merged across row groups
    options.page_rows = 1 + random() % 30;
    FileSummary summary;
    auto bytes = WriteRows(schema, options, rows, &summary);
    ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
    EXPECT_EQ(summary.columns[0].min_value, expected_min) << "seed " << seed;
    EXPECT_EQ(summary.columns[0].max_value, expected_max) << "seed " << seed;
  }
}

TEST(ParquetWriter, StringMaximumThatCannotBeIncrementedIsOmitted) {
  TableSchema schema = Schema({Col("b", ValueType::kBytes, "bytea")});
  WriterOptions options;
  options.statistics_truncate_bytes = 4;
  FileSummary summary;
  auto bytes = WriteRows(schema, options,
                         {{{"b", Value::Bytes(std::string(10, '\xFF'))}},
                          {{"b", Value::Bytes(std::string("\x01\x02\x03\xFF\xFF", 5))}}},
                         &summary);
  ASSERT_TRUE(bytes.ok());
  EXPECT_FALSE(summary.columns[0].max_value.has_value());
  EXPECT_EQ(summary.columns[0].min_value, std::string("\x01\x02\x03\xFF", 4));
  EXPECT_FALSE(summary.columns[0].min_exact);
}

TEST(ParquetWriter, LogicalTypesConvertedTypesAndFieldIds) {
  TableSchema schema = Schema(
      {Col("i8", ValueType::kInt64, "tinyint"), Col("u16", ValueType::kUint64, "smallint unsigned"),
       Col("d9", ValueType::kDecimal, "numeric(9,3)"),
       Col("d18", ValueType::kDecimal, "numeric(18,0)"), Col("n", ValueType::kDecimal, "numeric"),
       Col("ts", ValueType::kTimestamp, "timestamp"),
       Col("tstz", ValueType::kTimestampTz, "timestamptz"), Col("tm", ValueType::kTime, "time"),
       Col("u", ValueType::kUuid, "uuid"), Col("j", ValueType::kJson, "jsonb"),
       Col("by", ValueType::kBytes, "bytea")});
  schema.columns[2].precision = 9;
  schema.columns[2].scale = 3;
  schema.columns[3].precision = 18;
  schema.columns[3].scale = 0;
  WriterOptions options;
  for (int32_t i = 0; i < 11; ++i) options.field_ids.push_back(100 + i);
  options.key_value_metadata = {{"iceberg.schema", "{}"}, {"k", "v"}};
  auto bytes = WriteRows(schema, options, {});
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  Parsed file = Parse(*bytes);
  EXPECT_EQ(file.meta.Field(f::kFileRowGroups)->elements.size(), 0u);
  auto leaf = [&](size_t i) -> const Node& { return Leaf(file, i); };
  auto logical = [&](size_t i) { return leaf(i).Field(f::kSchemaLogicalType); };
  for (size_t i = 0; i < 11; ++i) {
    EXPECT_EQ(leaf(i).Field(f::kSchemaFieldId)->integer, static_cast<int64_t>(100 + i));
  }
  EXPECT_EQ(logical(0)->Field(format::logical::kInteger)->Field(1)->integer, 8);
  EXPECT_EQ(logical(0)->Field(format::logical::kInteger)->Field(2)->integer, 1);
  EXPECT_EQ(leaf(0).Field(f::kSchemaConvertedType)->integer, 15);  // INT_8
  EXPECT_EQ(logical(1)->Field(format::logical::kInteger)->Field(1)->integer, 16);
  EXPECT_EQ(logical(1)->Field(format::logical::kInteger)->Field(2)->integer, 0);
  EXPECT_EQ(leaf(1).Field(f::kSchemaConvertedType)->integer, 12);  // UINT_16
  EXPECT_EQ(leaf(2).Field(f::kSchemaType)->integer, 1);            // INT32
  EXPECT_EQ(leaf(2).Field(f::kSchemaPrecision)->integer, 9);
  EXPECT_EQ(leaf(2).Field(f::kSchemaScale)->integer, 3);
  EXPECT_EQ(leaf(3).Field(f::kSchemaType)->integer, 2);  // INT64
  EXPECT_EQ(leaf(4).Field(f::kSchemaType)->integer, 6);  // unconstrained numeric: STRING
  EXPECT_NE(logical(4)->Field(format::logical::kString), nullptr);
  EXPECT_EQ(logical(5)->Field(format::logical::kTimestamp)->Field(1)->integer, 0);
  EXPECT_EQ(logical(6)->Field(format::logical::kTimestamp)->Field(1)->integer, 1);
  EXPECT_EQ(leaf(6).Field(f::kSchemaConvertedType)->integer, 10);  // TIMESTAMP_MICROS
  EXPECT_NE(logical(7)->Field(format::logical::kTime), nullptr);
  EXPECT_EQ(leaf(8).Field(f::kSchemaType)->integer, 7);  // FIXED_LEN_BYTE_ARRAY(16)
  EXPECT_EQ(leaf(8).Field(f::kSchemaTypeLength)->integer, 16);
  EXPECT_NE(logical(8)->Field(format::logical::kUuid), nullptr);
  EXPECT_NE(logical(9)->Field(format::logical::kString), nullptr);
  EXPECT_EQ(logical(10), nullptr);
  const auto& kv = file.meta.Field(f::kFileKeyValueMetadata)->elements;
  ASSERT_EQ(kv.size(), 2u);
  EXPECT_EQ(kv[0].Field(f::kKey)->binary, "iceberg.schema");
  EXPECT_EQ(kv[1].Field(f::kValue)->binary, "v");

  options.uuid_as_string = true;
  EXPECT_EQ(ColumnLayoutFor(schema, schema.columns[8], options).physical, PhysicalType::kByteArray);
  // MySQL TIME (a table without a schema part) is a duration: STRING, not Parquet TIME.
  TableSchema mysql = schema;
  mysql.table.schema = "";
  EXPECT_EQ(ColumnLayoutFor(mysql, schema.columns[7], options).logical, "STRING");
  EXPECT_EQ(ColumnLayoutFor(schema, schema.columns[7], options).logical, "TIME(MICROS,local)");
}

TEST(ParquetWriter, BadInputGetsClearErrors) {
  TableSchema schema =
      Schema({Col("id", ValueType::kInt64, "int4", false), Col("s", ValueType::kText, "text"),
              Col("d", ValueType::kDecimal, "numeric(4,2)")});
  schema.columns[2].precision = 4;
  schema.columns[2].scale = 2;
  auto expect_error = [&](const Row& row, std::string_view fragment) {
    std::string out;
    auto writer = ParquetWriter::OpenBuffer(schema, WriterOptions{}, &out);
    ASSERT_TRUE(writer.ok());
    Status status = (*writer)->AppendRow(row);
    ASSERT_FALSE(status.ok()) << fragment;
    EXPECT_EQ(status.code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(status.message().find(fragment), std::string::npos) << status.message();
    // The writer stays failed.
    EXPECT_FALSE((*writer)->Finish().ok());
  };
  expect_error({{"id", Value::Text("x")}}, "column 'id' is INT(32,signed)");
  expect_error({{"id", Value::Int64(1LL << 40)}}, "outside that range");
  expect_error({{"id", Value::Null()}}, "NOT NULL");
  expect_error({{"id", Value::Int64(1)}, {"zzz", Value::Int64(1)}}, "'zzz'");
  expect_error({{"id", Value::Int64(1)}, {"s", Value::Text("\xC3")}}, "not valid UTF-8");
  expect_error({{"id", Value::Int64(1)}, {"d", Value::Decimal("123.4")}}, "integer digits");
  expect_error({{"id", Value::Int64(1)}, {"d", Value::Decimal("1.234")}}, "fractional digits");

  std::string out;
  WriterOptions ids;
  ids.field_ids = {1, 2};
  auto bad_ids = ParquetWriter::OpenBuffer(schema, ids, &out);
  ASSERT_FALSE(bad_ids.ok());
  EXPECT_NE(bad_ids.status().message().find("2 given for 3 columns"), std::string::npos);
  auto compression = ParseCompression("lzo");
  ASSERT_FALSE(compression.ok());
  EXPECT_NE(compression.status().message().find("use snappy, zstd or none"), std::string::npos);
  EXPECT_EQ(*ParseCompression("ZSTD"), Compression::kZstd);
  TableSchema clash = Schema({Col("_eddy_op", ValueType::kText)});
  WriterOptions cdc;
  cdc.cdc_columns = true;
  EXPECT_FALSE(ParquetWriter::OpenBuffer(clash, cdc, &out).ok());
}

TEST(ParquetWriter, DecimalNaNAndZeroDatesAreNullAndTrailingZerosFit) {
  TableSchema schema =
      Schema({Col("d", ValueType::kDecimal, "numeric(4,2)"), Col("dt", ValueType::kDate, "date")});
  schema.columns[0].precision = 4;
  schema.columns[0].scale = 2;
  FileSummary summary;
  auto bytes = WriteRows(
      schema, WriterOptions{},
      {{{"d", Value::Decimal("NaN")}, {"dt", Value::Date({model::TemporalKind::kZero, 0})}},
       {{"d", Value::Decimal("-1.5000")},
        {"dt", Value::Date(model::DateValue::FromCivil(2024, 2, 29))}}},
      &summary);
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  EXPECT_EQ(summary.columns[0].null_count, 1u);
  EXPECT_EQ(summary.columns[0].min_value, Fixed32(static_cast<uint32_t>(-150)));
  EXPECT_EQ(summary.columns[1].null_count, 1u);
}

TEST(ParquetWriter, ChangeEventsFillTheCdcColumns) {
  TableSchema schema = Schema(
      {Col("id", ValueType::kInt64, "int8", false), Col("v", ValueType::kText, "text", false)});
  WriterOptions options;
  options.cdc_columns = true;
  std::string out;
  auto writer = ParquetWriter::OpenBuffer(schema, options, &out);
  ASSERT_TRUE(writer.ok());
  model::ChangeEvent insert;
  insert.op = model::Operation::kInsert;
  insert.after = Row{{"id", Value::Int64(1)}, {"v", Value::Text("a")}};
  insert.commit_time_ns = 1'700'000'000'123'456'789;
  insert.transaction_id = "7421";
  insert.position = SourcePosition(PostgresPosition{Lsn(0x1000), Lsn(0x0F00)});
  ASSERT_TRUE((*writer)->AppendEvent(insert).ok());
  model::ChangeEvent del;
  del.op = model::Operation::kDelete;
  del.key = Row{{"id", Value::Int64(1)}};
  del.commit_time_ns = -1500;  // before 1970: floors to -2 µs
  ASSERT_TRUE((*writer)->AppendEvent(del).ok());
  model::ChangeEvent begin;
  begin.op = model::Operation::kTransactionBegin;
  EXPECT_FALSE((*writer)->AppendEvent(begin).ok());
  auto summary = (*writer)->Finish();
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  ASSERT_EQ(summary->columns.size(), 6u);
  EXPECT_EQ(summary->columns[1].null_count, 1u);  // the delete's key-only image
  EXPECT_EQ(summary->columns[2].name, "_eddy_op");
  EXPECT_EQ(summary->columns[2].min_value, "c");
  EXPECT_EQ(summary->columns[2].max_value, "d");
  EXPECT_EQ(summary->columns[3].min_value, Fixed64(static_cast<uint64_t>(-2)));
  EXPECT_EQ(summary->columns[3].max_value, Fixed64(1'700'000'000'123'456));
  EXPECT_EQ(summary->columns[5].null_count, 1u);
  Parsed file = Parse(out);
  EXPECT_EQ(Leaf(file, 1).Field(f::kSchemaRepetition)->integer, 1) << "OPTIONAL with CDC columns";
  EXPECT_EQ(Leaf(file, 2).Field(f::kSchemaRepetition)->integer, 0);
  EXPECT_EQ(Leaf(file, 5).Field(f::kSchemaRepetition)->integer, 1);

  std::string other;
  auto plain = ParquetWriter::OpenBuffer(schema, options, &other);
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE((*plain)->AppendRow(*insert.after).ok()) << "CDC columns need events";
}

TEST(ParquetWriter, FileOutputEqualsBufferOutputAndRowGroupsBoundMemory) {
  TableSchema schema = Schema(
      {Col("id", ValueType::kInt64, "int8", false), Col("payload", ValueType::kText, "text")});
  WriterOptions options;
  options.compression = Compression::kNone;  // so buffered bytes grow with the rows
  options.row_group_bytes = 64 << 10;
  options.page_bytes = 8 << 10;
  std::vector<Row> rows;
  for (int64_t i = 0; i < 2000; ++i) {
    rows.push_back(
        {{"id", Value::Int64(i)}, {"payload", Value::Text(std::string(200, 'a' + i % 26))}});
  }
  io::FaultInjectionFileSystem fs;
  auto file = fs.Open("/x.parquet", io::OpenMode::kCreateNew);
  ASSERT_TRUE(file.ok());
  auto writer = ParquetWriter::Open(schema, options, file->get());
  ASSERT_TRUE(writer.ok());
  uint64_t max_buffered = 0;
  for (const Row& row : rows) {
    ASSERT_TRUE((*writer)->AppendRow(row).ok());
    auto size = (*file)->Size();
    ASSERT_TRUE(size.ok());
    max_buffered = std::max(max_buffered, (*writer)->estimated_bytes() - *size);
  }
  auto summary = (*writer)->Finish();
  ASSERT_TRUE(summary.ok());
  EXPECT_GT(summary->row_group_count, 3u);
  // About one row group plus one open page per column, never the whole file.
  EXPECT_LT(max_buffered, options.row_group_bytes + 3 * options.page_bytes + 64 * 256);
  EXPECT_EQ(*(*file)->Size(), summary->file_bytes);
  std::string from_file(summary->file_bytes, '\0');
  ASSERT_TRUE((*file)->ReadAt(0, from_file.size(), from_file.data()).ok());
  auto from_buffer = WriteRows(schema, options, rows);
  ASSERT_TRUE(from_buffer.ok());
  EXPECT_EQ(from_file, *from_buffer);
}

// Random null patterns (long runs, alternations, single values) and page/row group sizes: the
// definition levels and values decode back to what was appended. Prints its seed;
// EDDY_TEST_SEED replays one run.
TEST(ParquetWriter, RandomNullPatternsRoundTrip) {
  const char* replay = std::getenv("EDDY_TEST_SEED");
  const uint64_t base = replay ? std::strtoull(replay, nullptr, 10) : std::random_device{}();
  const int runs = replay ? 1 : 20;
  TableSchema schema = Schema({Col("v", ValueType::kInt64, "int8")});
  for (int run = 0; run < runs && !::testing::Test::HasFailure(); ++run) {
    const uint64_t seed = base + static_cast<uint64_t>(run);
    std::cout << "RandomNullPatternsRoundTrip seed=" << seed
              << " (replay with EDDY_TEST_SEED=" << seed << ")" << std::endl;
    SCOPED_TRACE("EDDY_TEST_SEED=" + std::to_string(seed));
    std::mt19937_64 random(seed);
    WriterOptions options;
    options.compression = static_cast<Compression>(random() % 3);
    options.page_rows = 1 + random() % 100;
    options.row_group_rows = options.page_rows + random() % 400;
    std::vector<Row> rows;
    const size_t count = random() % 1500;
    while (rows.size() < count) {
      // A run of one kind: nulls or values, of length 1..40 (some exactly 8 or 16).
      const bool nulls = random() % 2 == 0;
      size_t length = 1 + random() % 40;
      if (random() % 5 == 0) length = (random() % 2 + 1) * 8;
      for (size_t i = 0; i < length && rows.size() < count; ++i) {
        rows.push_back(
            {{"v", nulls ? Value::Null() : Value::Int64(static_cast<int64_t>(random()))}});
      }
    }
    FileSummary summary;
    auto bytes = WriteRows(schema, options, rows, &summary);
    ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
    Parsed file = Parse(*bytes);
    auto values = ReadInt64Column(file, 0);
    ASSERT_EQ(values.size(), rows.size());
    uint64_t nulls = 0;
    for (size_t i = 0; i < rows.size(); ++i) {
      const Value& want = rows[i][0].value;
      if (want.is_null()) {
        ++nulls;
        ASSERT_FALSE(values[i].has_value()) << "row " << i;
      } else {
        ASSERT_EQ(values[i], want.Get<int64_t>()) << "row " << i;
      }
    }
    EXPECT_EQ(summary.columns[0].null_count, nulls);
    EXPECT_EQ(summary.row_count, rows.size());
  }
}

TEST(ParquetWriter, OutputErrorsAreReturnedWithContextAndStick) {
  TableSchema schema = Schema({Col("id", ValueType::kInt64, "int8", false)});
  WriterOptions options;
  options.row_group_rows = 10;
  io::FaultInjectionFileSystem fs;
  auto file = fs.Open("/full.parquet", io::OpenMode::kCreateNew);
  ASSERT_TRUE(file.ok());
  auto writer = ParquetWriter::Open(schema, options, file->get());
  ASSERT_TRUE(writer.ok());
  // The disk fills up at the first row group.
  fs.SetCapacity(*(*file)->Size() + 16);
  Status status;
  for (int64_t i = 0; i < 10 && status.ok(); ++i)
    status = (*writer)->AppendRow({{"id", Value::Int64(i)}});
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.code(), ErrorCode::kNoSpace);
  EXPECT_NE(status.message().find("writing parquet file"), std::string::npos) << status.message();
  EXPECT_TRUE(status.IsRetriable());  // the caller retries with a fresh file once space returns
  EXPECT_EQ((*writer)->AppendRow({{"id", Value::Int64(99)}}).code(), ErrorCode::kNoSpace);
  EXPECT_EQ((*writer)->Finish().status().code(), ErrorCode::kNoSpace);
}

// Iceberg keeps a 64-bit unsigned column as decimal(20, 0): integer values go into a DECIMAL
// column (FIXED_LEN_BYTE_ARRAY(9), big-endian two's complement), statistics in decimal order.
TEST(ParquetWriter, IntegersGoIntoDecimalColumns) {
  Column column = Col("u", ValueType::kDecimal, "bigint unsigned");
  column.precision = 20;
  column.scale = 0;
  TableSchema schema = Schema({column});
  std::vector<Row> rows = {{{"u", Value::Uint64(18446744073709551615ull)}},
                           {{"u", Value::Uint64(0)}},
                           {{"u", Value::Int64(-1)}},
                           {{"u", Value::Decimal("9223372036854775808")}}};
  auto bytes = WriteRows(schema, WriterOptions{}, rows, nullptr);
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  Parsed file = Parse(*bytes);
  EXPECT_EQ(Leaf(file, 0).Field(f::kSchemaType)->integer, 7);  // FIXED_LEN_BYTE_ARRAY
  EXPECT_EQ(Leaf(file, 0).Field(f::kSchemaTypeLength)->integer, 9);
  EXPECT_EQ(Leaf(file, 0).Field(f::kSchemaPrecision)->integer, 20);
  EXPECT_EQ(Leaf(file, 0).Field(f::kSchemaScale)->integer, 0);
  const Node* stats = ChunkMeta(file, 0, 0).Field(f::kMetaStatistics);
  EXPECT_EQ(stats->Field(f::kStatsMinValue)->binary, std::string(9, '\xFF'));  // -1
  EXPECT_EQ(stats->Field(f::kStatsMaxValue)->binary,
            std::string("\x00\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF", 9));  // 2^64-1
  // An integer the precision cannot hold is refused like decimal text.
  column.precision = 3;
  std::string out;
  auto writer = ParquetWriter::OpenBuffer(Schema({column}), WriterOptions{}, &out);
  ASSERT_TRUE(writer.ok());
  Status refused = (*writer)->AppendRow({{"u", Value::Uint64(1000)}});
  EXPECT_EQ(refused.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(refused.message().find("'1000'"), std::string::npos) << refused.message();
}

}  // namespace
}  // namespace eddy::parquet

namespace eddy::parquet {
namespace {

// One column per kind of column the writer lays out.
TableSchema EveryKindSchema() {
  TableSchema schema = Schema({Col("id", ValueType::kInt64, "int8", false),
                               Col("b", ValueType::kBool, "bool"),
                               Col("i16", ValueType::kInt64, "smallint"),
                               Col("u32", ValueType::kUint64, "int unsigned"),
                               Col("u64", ValueType::kUint64, "bigint unsigned"),
                               Col("f4", ValueType::kFloat32, "real"),
                               Col("f8", ValueType::kFloat64, "double precision"),
                               Col("d9", ValueType::kDecimal, "numeric(9,3)"),
                               Col("d18", ValueType::kDecimal, "numeric(18,2)"),
                               Col("d30", ValueType::kDecimal, "numeric(30,4)"),
                               Col("n", ValueType::kDecimal, "numeric"),
                               Col("dt", ValueType::kDate, "date"),
                               Col("tm", ValueType::kTime, "time"),
                               Col("ts", ValueType::kTimestamp, "timestamp"),
                               Col("tstz", ValueType::kTimestampTz, "timestamptz"),
                               Col("u", ValueType::kUuid, "uuid"),
                               Col("by", ValueType::kBytes, "bytea"),
                               Col("s", ValueType::kText, "text"),
                               Col("j", ValueType::kJson, "jsonb"),
                               Col("iv", ValueType::kInterval, "interval"),
                               Col("arr", ValueType::kArray, "int4[]"),
                               Col("e", ValueType::kEnum, "mood")});
  schema.columns[7].precision = 9;
  schema.columns[7].scale = 3;
  schema.columns[8].precision = 18;
  schema.columns[8].scale = 2;
  schema.columns[9].precision = 30;
  schema.columns[9].scale = 4;
  return schema;
}

// A value that fits column `index` of EveryKindSchema (or NULL).
Value FittingValue(size_t index, std::mt19937_64& random) {
  const int64_t r = static_cast<int64_t>(random() % 2000) - 1000;
  if (index != 0 && random() % 8 == 0) return random() % 2 ? Value::Null() : Value::Unavailable();
  switch (index) {
    case 0:
      return Value::Int64(r * 1'000'000'007LL);
    case 1:
      return Value::Bool(r % 2 == 0);
    case 2:
      return Value::Int64(r * 30);
    case 3:
      return Value::Uint64(static_cast<uint64_t>(r + 1000) * 2'000'000ULL);
    case 4:
      return Value::Uint64(random());
    case 5:
      return r == 0 ? Value::Float32(std::nanf("")) : Value::Float32(static_cast<float>(r) / 7);
    case 6:
      return r == 0 ? Value::Float64(-std::numeric_limits<double>::infinity())
                    : Value::Float64(static_cast<double>(r) / 3);
    case 7:
      return Value::Decimal(std::to_string(r) + ".125");
    case 8:
      return r == 1 ? Value::Decimal("NaN") : Value::Decimal(std::to_string(r * 1000) + ".50");
    case 9:
      return Value::Decimal("-" + std::to_string(random()) + ".0001");
    case 10:
      return Value::Decimal(std::to_string(random()) + "e5");
    case 11:
      return r == 2 ? Value::Date({model::TemporalKind::kPositiveInfinity, 0})
                    : Value::Date({model::TemporalKind::kFinite, static_cast<int32_t>(r * 40)});
    case 12:
      return Value::Time((r + 1000) * 86'000'000LL);
    case 13:
      return r == 3 ? Value::Timestamp({model::TemporalKind::kNegativeInfinity, 0})
                    : Value::Timestamp({model::TemporalKind::kFinite, r * 1'000'000'000'000LL});
    case 14:
      return Value::TimestampTz({model::TemporalKind::kFinite, r * 999'999'999LL});
    case 15: {
      model::UuidValue uuid;
      for (auto& byte : uuid.bytes) byte = static_cast<uint8_t>(random());
      return Value::Uuid(uuid);
    }
    case 16:
      return Value::Bytes(std::string(static_cast<size_t>(r + 1000) % 40, '\xFE'));
    case 17:
      return Value::Text("t" + std::to_string(r) + (r % 3 == 0 ? "\xC3\xA9" : ""));
    case 18:
      return Value::Json("{\"k\":" + std::to_string(r) + "}");
    case 19:
      return Value::Interval({static_cast<int32_t>(r), 3, r * 1000});
    case 20:
      return Value::Array({Value::Int64(r), Value::Null(), Value::Int64(-r)});
    default:
      return Value::Enum(r % 2 ? "happy" : "sad");
  }
}

model::ChangeEvent EventOf(model::Operation op, Row image, int64_t sequence) {
  model::ChangeEvent event;
  event.op = op;
  event.table = {"db", "public", "t"};
  event.key = Row{image.front()};
  if (op == model::Operation::kDelete) {
    event.before = std::move(image);
  } else {
    event.after = std::move(image);
  }
  event.commit_time_ns = sequence * 1'000'000'003LL - 5'000'000'000LL;
  event.transaction_id = sequence % 5 == 0 ? "" : std::to_string(sequence / 3);
  event.position = SourcePosition(PostgresPosition{Lsn(0x1000 + sequence / 4 * 16), Lsn(0x0F00)});
  return event;
}

struct Written {
  Status status;
  std::string bytes;
};

// `events` through AppendEvent (stored = false) or AppendStoredEvent of their encodings.
Written WriteEvents(const TableSchema& schema, const std::vector<model::ChangeEvent>& events,
                    bool stored) {
  WriterOptions options;
  options.cdc_columns = true;
  options.page_rows = 97;  // several pages
  Written written;
  auto writer = ParquetWriter::OpenBuffer(schema, options, &written.bytes);
  if (!writer.ok()) return {writer.status(), ""};
  for (const model::ChangeEvent& event : events) {
    written.status = stored ? (*writer)->AppendStoredEvent(model::EncodeEvent(event))
                            : (*writer)->AppendEvent(event);
    if (!written.status.ok()) return written;
  }
  written.status = (*writer)->Finish().status();
  return written;
}

TEST(ParquetWriter, StoredEventsWriteTheSameFileAsDecodedEvents) {
  const TableSchema schema = EveryKindSchema();
  const uint64_t seed = model::testing::TestSeed();
  std::mt19937_64 random(seed);
  std::vector<model::ChangeEvent> events;
  for (int64_t i = 0; i < 1000; ++i) {
    Row image;
    for (size_t c = 0; c < schema.columns.size(); ++c) {
      image.push_back({schema.columns[c].name, FittingValue(c, random)});
    }
    const auto op = static_cast<model::Operation>(1 + random() % 4);
    if (random() % 5 == 0) std::shuffle(image.begin() + 1, image.end(), random);  // by name
    if (op == model::Operation::kDelete && random() % 2 == 0) image.resize(1);    // key only
    if (op != model::Operation::kDelete && random() % 7 == 0) image.resize(1 + random() % 5);
    events.push_back(EventOf(op, std::move(image), i));
  }
  Written decoded = WriteEvents(schema, events, false);
  Written stored = WriteEvents(schema, events, true);
  ASSERT_TRUE(decoded.status.ok()) << "seed=" << seed << " " << decoded.status.ToString();
  ASSERT_TRUE(stored.status.ok()) << "seed=" << seed << " " << stored.status.ToString();
  EXPECT_TRUE(decoded.bytes == stored.bytes) << "seed=" << seed;
  EXPECT_GT(decoded.bytes.size(), 10'000u);
}

TEST(ParquetWriter, StoredEventsGetTheSameErrorsAsDecodedEvents) {
  const TableSchema schema = EveryKindSchema();
  const uint64_t seed = model::testing::TestSeed();
  std::mt19937_64 random(seed);
  size_t failures = 0;
  for (int64_t i = 0; i < 600; ++i) {
    Row image;
    for (size_t c = 0; c < schema.columns.size(); ++c) {
      // Any type of value in any column: most do not fit.
      image.push_back({schema.columns[c].name, random() % 3 == 0
                                                   ? model::testing::RandomValue(random)
                                                   : FittingValue(c, random)});
    }
    if (random() % 10 == 0) image.push_back({"nope", Value::Int64(1)});
    std::vector<model::ChangeEvent> events{EventOf(model::Operation::kInsert, image, i)};
    Written decoded = WriteEvents(schema, events, false);
    Written stored = WriteEvents(schema, events, true);
    ASSERT_EQ(decoded.status.code(), stored.status.code())
        << "seed=" << seed << " i=" << i << " " << decoded.status.ToString() << " / "
        << stored.status.ToString();
    ASSERT_EQ(decoded.status.message(), stored.status.message()) << "seed=" << seed;
    if (!decoded.status.ok()) ++failures;
    if (decoded.status.ok()) {
      ASSERT_TRUE(decoded.bytes == stored.bytes) << "seed=" << seed;
    }
  }
  EXPECT_GT(failures, 100u);

  // Not a row change; no after image; bytes that are no event.
  std::string out;
  WriterOptions options;
  options.cdc_columns = true;
  auto writer = ParquetWriter::OpenBuffer(schema, options, &out);
  ASSERT_TRUE(writer.ok());
  model::ChangeEvent begin;
  begin.op = model::Operation::kTransactionBegin;
  EXPECT_EQ((*writer)->AppendStoredEvent(model::EncodeEvent(begin)).message(),
            (*writer)->AppendEvent(begin).message());
  model::ChangeEvent update = EventOf(model::Operation::kUpdate, {{"id", Value::Int64(1)}}, 1);
  update.after.reset();
  EXPECT_EQ((*writer)->AppendStoredEvent(model::EncodeEvent(update)).message(),
            (*writer)->AppendEvent(update).message());
  Status corrupt = (*writer)->AppendStoredEvent("\x01\x01");
  EXPECT_EQ(corrupt.code(), ErrorCode::kCorruption) << corrupt.ToString();
  EXPECT_FALSE((*writer)->Finish().ok()) << "a corrupt event leaves the writer failed";
}

}  // namespace
}  // namespace eddy::parquet
