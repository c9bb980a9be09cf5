#include "source/mysql/column_type.h"

#include <gtest/gtest.h>

#include "model/event_codec.h"
#include "source/mysql/schema_history.h"
#include "source/mysql/snapshot.h"

namespace eddy::source::mysql {
namespace {

ColumnInfo MapColumn(ColumnType type, uint16_t metadata, std::string charset = "utf8mb4") {
  ColumnInfo column;
  column.type = static_cast<uint8_t>(type);
  column.real_type = column.type;
  column.metadata = metadata;
  column.charset = std::move(charset);
  column.collation = column.charset == "binary" ? kBinaryCollation : 45;
  return column;
}

// The binlog's TABLE_MAP and information_schema give one spelling for each type, so a table
// snapshotted and then streamed keeps one schema version.
TEST(ColumnTypeTest, TableMapAndInformationSchemaAgree) {
  struct Case {
    ColumnInfo map;
    std::string data_type, column_type, charset, expected;
  };
  ColumnInfo unsigned_int = MapColumn(ColumnType::kLong, 0);
  unsigned_int.is_unsigned = true;
  ColumnInfo decimal = MapColumn(ColumnType::kNewDecimal, (2 << 8) | 10);
  decimal.is_unsigned = true;
  ColumnInfo labels = MapColumn(ColumnType::kEnum, 1);
  labels.enum_values = {"a", "b'c", "d,e)"};
  ColumnInfo members = MapColumn(ColumnType::kSet, 1, "latin1");
  members.enum_values = {"x", "y"};
  ColumnInfo point = MapColumn(ColumnType::kGeometry, 4, "binary");
  point.geometry_type = 1;
  std::vector<Case> cases = {
      {unsigned_int, "int", "int(10) unsigned zerofill", "", "int unsigned"},
      {MapColumn(ColumnType::kTiny, 0), "tinyint", "tinyint(1)", "", "tinyint"},
      {MapColumn(ColumnType::kYear, 0), "year", "year(4)", "", "year"},
      {decimal, "decimal", "decimal(10,2) unsigned", "", "decimal(10,2) unsigned"},
      {MapColumn(ColumnType::kTime2, 3), "time", "time(3)", "", "time(3)"},
      {MapColumn(ColumnType::kDateTime2, 0), "datetime", "datetime", "", "datetime"},
      {MapColumn(ColumnType::kBit, (1 << 8) | 3), "bit", "bit(11)", "", "bit(11)"},
      {MapColumn(ColumnType::kVarchar, 80), "varchar", "varchar(20)", "utf8mb4", "varchar(20)"},
      {MapColumn(ColumnType::kVarchar, 20, "latin1"), "varchar", "varchar(20)", "latin1",
       "varchar(20)"},
      {MapColumn(ColumnType::kVarchar, 20, "binary"), "varbinary", "varbinary(20)", "",
       "varbinary(20)"},
      {MapColumn(ColumnType::kString, 30, "utf8mb3"), "char", "char(10)", "utf8mb3", "char(10)"},
      {MapColumn(ColumnType::kString, 16, "binary"), "binary", "binary(16)", "", "binary(16)"},
      {MapColumn(ColumnType::kBlob, 4), "longtext", "longtext", "utf8mb4", "longtext"},
      {MapColumn(ColumnType::kBlob, 1, "binary"), "tinyblob", "tinyblob", "", "tinyblob"},
      {labels, "enum", "enum('a','b''c','d,e)')", "utf8mb4", "enum('a','b''c','d,e)')"},
      {members, "set", "set('x','y')", "latin1", "set('x','y')"},
      {point, "point", "point", "", "point"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.column_type);
    EXPECT_EQ(DeclaredTypeFromTableMap(c.map), c.expected);
    EXPECT_EQ(DeclaredTypeFromColumnType(c.data_type, c.column_type, c.charset), c.expected);
  }
}

TEST(ColumnTypeTest, LabelsParseAndBadSpellingsAreRefused) {
  std::vector<std::string> labels;
  ASSERT_TRUE(ParseTypeLabels("enum('a','','it''s')", labels));
  EXPECT_EQ(labels, (std::vector<std::string>{"a", "", "it's"}));
  EXPECT_EQ(LabelledType("enum", labels), "enum('a','','it''s')");
  for (const char* bad :
       {"enum", "enum(", "enum('a'", "enum('a',)", "enum(a)", "enum('a')x", "enum('a''"}) {
    EXPECT_FALSE(ParseTypeLabels(bad, labels)) << bad;
  }
  EXPECT_EQ(DeclaredTypeFromColumnType("enum", "enum('a'", "utf8mb4"), "");
  EXPECT_EQ(DeclaredTypeFromColumnType("uuid", "uuid", ""), "");
}

TEST(ColumnTypeTest, LengthsComeFromTheDeclaredType) {
  model::TableSchema schema;
  for (const char* declared : {"varchar(20)", "binary(16)", "bit(5)", "enum('a')", "int"}) {
    model::Column column;
    column.name = declared;
    column.declared_type = declared;
    schema.columns.push_back(column);
  }
  SetTypeModifiers(schema);
  EXPECT_EQ(schema.columns[0].length, 20);
  EXPECT_EQ(schema.columns[1].length, 16);
  EXPECT_EQ(schema.columns[2].length, 5);
  EXPECT_EQ(schema.columns[3].length, std::nullopt);
  EXPECT_EQ(schema.columns[4].length, std::nullopt);
}

}  // namespace
}  // namespace eddy::source::mysql

namespace eddy::source::mysql {
namespace {

// The blocking snapshot's shortcuts (text, integers, DATETIME and TIMESTAMP written without a
// model::Value) give the bytes model::EncodeValue writes for ParseTextValue's value, and the
// other types and malformed text take ParseTextValue itself.
TEST(SnapshotTextColumnTest, EncodeTextColumnWritesWhatParseTextValueEncodesTo) {
  struct Case {
    SnapshotColumn column;
    std::vector<std::string> texts;
  };
  const std::vector<Case> cases = {
      {DescribeSnapshotColumn("v", "varchar", "varchar(16)", "utf8mb4", true, 0, 0, 0, true),
       {"", "purchase", std::string(200, 'x')}},
      {DescribeSnapshotColumn("n", "bigint", "bigint(20)", "", true, 19, 0, 0, true),
       {"0", "-9223372036854775808", "42"}},
      {DescribeSnapshotColumn("d", "datetime", "datetime(6)", "", true, 0, 0, 6, true),
       {"2026-01-01 00:00:00", "2026-12-06 12:34:56.789012", "0000-00-00 00:00:00",
        "1969-12-31 23:59:59.999999", "2026-02-30 10:00:00"}},
      {DescribeSnapshotColumn("t", "timestamp", "timestamp", "", true, 0, 0, 0, true),
       {"2026-01-01 00:00:00", "0000-00-00 00:00:00", "1970-01-01 00:00:01"}},
      {DescribeSnapshotColumn("e", "date", "date", "", true, 0, 0, 0, true), {"2026-12-06"}},
  };
  for (const Case& test : cases) {
    for (const std::string& text : test.texts) {
      Result<model::Value> parsed = ParseTextValue(test.column, text);
      ASSERT_TRUE(parsed.ok()) << test.column.name << " " << text << ": "
                               << parsed.status().ToString();
      std::string expected = "prefix";
      model::EncodeValue(*parsed, expected);
      std::string direct = "prefix";
      ASSERT_TRUE(EncodeTextColumn(test.column, text.data(), text.size(), direct).ok());
      EXPECT_EQ(direct, expected) << test.column.name << " " << text;
    }
  }
  std::string null_bytes;
  ASSERT_TRUE(EncodeTextColumn(cases[0].column, nullptr, 0, null_bytes).ok());
  std::string expected_null;
  model::EncodeValue(model::Value::Null(), expected_null);
  EXPECT_EQ(null_bytes, expected_null);
  std::string out;
  const std::string bad = "2026-01-01";
  Status status = EncodeTextColumn(cases[2].column, bad.data(), bad.size(), out);
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.message().find("column d"), std::string::npos) << status.ToString();
}

}  // namespace
}  // namespace eddy::source::mysql
