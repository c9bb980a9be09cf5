// The MariaDB dialect as pure functions: type mapping, values in MariaDB's input syntax, the
// statements, and URL/settings errors. The statements run against a real MariaDB in
// tests/e2e/replica_mariadb.py.
#include "sink/replica/mariadb_target.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <string>

namespace eddy::sink::replica {
namespace {

using model::ConnectorKind;
using model::Value;
using model::ValueType;

model::Column Col(std::string name, std::string source_type, ValueType type, int key = 0) {
  model::Column column;
  column.name = std::move(name);
  column.source_type = std::move(source_type);
  column.type = type;
  column.primary_key_ordinal = key;
  return column;
}

TEST(MariadbDialectTest, MapsMariadbTypesAsDeclared) {
  MariadbDialect dialect;
  auto map = [&](const model::Column& column) {
    auto type = dialect.MapType(column, ConnectorKind::kMariadb);
    EXPECT_TRUE(type.ok()) << type.status().message();
    return type.ok() ? *type : "";
  };
  EXPECT_EQ(map(Col("a", "int unsigned", ValueType::kUint64)), "int unsigned");
  EXPECT_EQ(map(Col("a", "decimal(65,30)", ValueType::kDecimal)), "decimal(65,30)");
  EXPECT_EQ(map(Col("a", "datetime(6)", ValueType::kTimestamp)), "datetime(6)");
  EXPECT_EQ(map(Col("a", "timestamp", ValueType::kTimestampTz)), "timestamp");
  EXPECT_EQ(map(Col("a", "time(3)", ValueType::kTime)), "time(3)");
  EXPECT_EQ(map(Col("a", "mediumblob", ValueType::kBytes)), "mediumblob");
  EXPECT_EQ(map(Col("a", "geometry", ValueType::kBytes)), "geometry");
  EXPECT_EQ(map(Col("a", "json", ValueType::kJson)), "json");
  // No length in the catalog: a type that holds every value; an indexable one for keys.
  EXPECT_EQ(map(Col("a", "varchar", ValueType::kText)), "longtext");
  EXPECT_EQ(map(Col("k", "varchar", ValueType::kText, 1)), "varchar(255)");
  EXPECT_EQ(map(Col("k", "binary", ValueType::kBytes, 1)), "varbinary(1020)");
  EXPECT_EQ(map(Col("a", "bit", ValueType::kBits)), "varchar(64)");
  EXPECT_EQ(map(Col("a", "enum", ValueType::kEnum)), "varchar(255)");
}

// Schemas that carry the declared type and collation (MySQL/MariaDB captures) map to exactly
// that; bits of a BIT(n) column travel as its big-endian bytes.
TEST(MariadbDialectTest, DeclaredTypesAndCollationsAreKept) {
  MariadbDialect dialect;
  auto map = [&](model::Column column, std::string declared, std::string collation = "") {
    column.declared_type = std::move(declared);
    column.collation = std::move(collation);
    auto type = dialect.MapType(column, ConnectorKind::kMariadb);
    EXPECT_TRUE(type.ok()) << type.status().message();
    return type.ok() ? *type : "";
  };
  EXPECT_EQ(map(Col("a", "varchar", ValueType::kText), "varchar(20)", "latin1_swedish_ci"),
            "varchar(20) COLLATE latin1_swedish_ci");
  EXPECT_EQ(map(Col("k", "char", ValueType::kText, 1), "char(10)", "utf8mb4_general_ci"),
            "char(10) COLLATE utf8mb4_general_ci");
  EXPECT_EQ(map(Col("a", "enum", ValueType::kEnum), "enum('a','it''s')", "utf8mb4_general_ci"),
            "enum('a','it''s') COLLATE utf8mb4_general_ci");
  EXPECT_EQ(map(Col("a", "bit", ValueType::kBits), "bit(10)"), "bit(10)");
  EXPECT_EQ(map(Col("a", "binary", ValueType::kBytes), "binary(4)"), "binary(4)");
  // A text key needs an indexable type: the declared TEXT is not one.
  EXPECT_EQ(map(Col("k", "text", ValueType::kText, 1), "text", "utf8mb4_general_ci"),
            "varchar(255)");

  model::Column bits = Col("b", "bit", ValueType::kBits);
  bits.declared_type = "bit(10)";
  auto rendered = dialect.RenderValue(Value::Bits("1000000001"), bits, ConnectorKind::kMariadb);
  ASSERT_TRUE(rendered.ok());
  EXPECT_EQ(**rendered, std::string("\x02\x01", 2));
  EXPECT_EQ(dialect.QuoteLiteral(**rendered), "'\x02\x01'");
  rendered = dialect.RenderValue(Value::Bits("0"), bits, ConnectorKind::kMariadb);
  ASSERT_TRUE(rendered.ok());
  EXPECT_EQ(dialect.QuoteLiteral(**rendered), "X'00'");
}

TEST(MariadbDialectTest, KeyNullabilityAndTableStatements) {
  MariadbDialect dialect;
  TargetTable t{"db", "t"};
  EXPECT_EQ(dialect.ReplacePrimaryKey(t, {"a", "b"}),
            "ALTER TABLE `db`.`t` DROP INDEX IF EXISTS `PRIMARY`, ADD PRIMARY KEY (`a`, `b`)");
  EXPECT_EQ(dialect.ReplacePrimaryKey(t, {}),
            "ALTER TABLE `db`.`t` DROP INDEX IF EXISTS `PRIMARY`");
  EXPECT_EQ(dialect.SetNullable(t, {"c", "int", false}),
            "ALTER TABLE `db`.`t` MODIFY COLUMN `c` int NOT NULL");
  EXPECT_EQ(dialect.DropTable(t), "DROP TABLE IF EXISTS `db`.`t`");
  EXPECT_EQ(dialect.RenameTable(t, {"db", "u"}), "RENAME TABLE IF EXISTS `db`.`t` TO `db`.`u`");
}

TEST(MariadbDialectTest, LoadDataEscapesTextAndSendsBytesAsHex) {
  std::vector<TextRow> rows = {
      {"1", "tab\there\nnew \\ back", std::string("\x00\xff", 2)},
      {"2", std::nullopt, "plain"},
      {"3", "\\N", std::nullopt},
  };
  LoadDataStatement load = BuildLoadData({"db", "t"}, {"id", "note", "raw"}, rows, 0, 3);
  EXPECT_EQ(load.statement,
            "LOAD DATA LOCAL INFILE 'eddy-bulk' REPLACE INTO TABLE `db`.`t` CHARACTER SET utf8mb4 "
            "FIELDS TERMINATED BY '\t' ESCAPED BY '\\' LINES TERMINATED BY '\n' "
            "(`id`,`note`,@v2) SET `raw` = UNHEX(@v2)");
  EXPECT_EQ(load.data,
            "1\ttab\\there\\nnew \\\\ back\t00ff\n"
            "2\t\\N\t706c61696e\n"
            "3\t\\\\N\t\\N\n");
  // A range of the rows: only those, and a column of plain text stays text.
  LoadDataStatement second = BuildLoadData({"db", "t"}, {"id", "note", "raw"}, rows, 1, 2);
  EXPECT_EQ(second.data, "2\t\\N\tplain\n");
  EXPECT_EQ(second.statement.find("UNHEX"), std::string::npos);
}

TEST(MariadbDialectTest, BulkLoadSettingIsCheckedAtTheEdge) {
  EXPECT_TRUE(MakeMariadbTarget("mariadb://u:p@h:3306/db", {{"bulk_load", "insert"}}).ok());
  EXPECT_TRUE(MakeMariadbTarget("mariadb://u:p@h:3306/db", {{"bulk_load", "load_data"}}).ok());
  auto bad = MakeMariadbTarget("mariadb://u:p@h:3306/db", {{"bulk_load", "copy"}});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("'bulk_load'"), std::string::npos);
  EXPECT_NE(bad.status().message().find("load_data"), std::string::npos);
}

TEST(MariadbDialectTest, MapsPostgresTypesToTheNearest) {
  MariadbDialect dialect;
  auto map = [&](model::Column column) {
    auto type = dialect.MapType(column, ConnectorKind::kPostgres);
    EXPECT_TRUE(type.ok()) << type.status().message();
    return type.ok() ? *type : "";
  };
  model::Column numeric = Col("n", "numeric", ValueType::kDecimal);
  EXPECT_EQ(map(numeric), "decimal(65,30)");
  numeric.precision = 10;
  numeric.scale = 2;
  EXPECT_EQ(map(numeric), "decimal(10,2)");
  numeric.precision = 100;
  EXPECT_EQ(map(numeric), "varchar(1100)");
  model::Column varchar = Col("v", "varchar", ValueType::kText);
  varchar.length = 20;
  EXPECT_EQ(map(varchar), "varchar(20)");
  EXPECT_EQ(map(Col("t", "text", ValueType::kText)), "longtext");
  EXPECT_EQ(map(Col("t", "text", ValueType::kText, 1)), "varchar(255)");
  EXPECT_EQ(map(Col("b", "bool", ValueType::kBool)), "boolean");
  EXPECT_EQ(map(Col("ts", "timestamptz", ValueType::kTimestampTz)), "datetime(6)");
  EXPECT_EQ(map(Col("u", "uuid", ValueType::kUuid)), "uuid");
  EXPECT_EQ(MariadbDialect(true)
                .MapType(Col("u", "uuid", ValueType::kUuid), ConnectorKind::kPostgres)
                .value(),
            "char(36)");
  EXPECT_EQ(map(Col("j", "jsonb", ValueType::kJson)), "json");
  EXPECT_EQ(map(Col("a", "_int4", ValueType::kArray)), "longtext");
}

TEST(MariadbDialectTest, RendersValuesInMariadbSyntax) {
  MariadbDialect dialect;
  auto render = [&](const Value& value, ValueType type = ValueType::kText) {
    auto text = dialect.RenderValue(value, Col("c", "x", type), ConnectorKind::kPostgres);
    EXPECT_TRUE(text.ok()) << text.status().message();
    return text.ok() ? text->value_or("<NULL>") : "";
  };
  EXPECT_EQ(render(Value::Bool(true)), "1");
  EXPECT_EQ(render(Value::Float32(0.1f)), "0.10000000149011612");
  EXPECT_EQ(render(Value::Float64(-2.5e300)), "-2.5e+300");
  EXPECT_EQ(render(Value::Time(-(838LL * 3600 + 59 * 60 + 59) * 1000000 - 1)), "-838:59:59.000001");
  EXPECT_EQ(render(Value::TimestampTz({model::TemporalKind::kFinite, 1'500'000})),
            "1970-01-01 00:00:01.500000");
  EXPECT_EQ(render(Value::Timestamp({model::TemporalKind::kZero, 0})), "0000-00-00 00:00:00");
  EXPECT_EQ(render(Value::Interval({14, -3, 4 * 3600'000'000LL + 500'000})),
            "1 year 2 mons -3 days +04:00:00.5");
  EXPECT_EQ(render(Value::Interval({0, 0, 0})), "00:00:00");
  EXPECT_EQ(render(Value::Array({Value::Int64(1), Value::Null(), Value::Text("a b"),
                                 Value::Text("NULL"), Value::Text("")})),
            "{1,NULL,\"a b\",\"NULL\",\"\"}");
  EXPECT_EQ(render(Value::Null()), "<NULL>");

  auto nan = dialect.RenderValue(Value::Float64(std::nan("")),
                                 Col("f", "float8", ValueType::kFloat64), ConnectorKind::kPostgres);
  ASSERT_FALSE(nan.ok());
  EXPECT_NE(nan.status().message().find("column 'f'"), std::string::npos);
  auto bc = dialect.RenderValue(Value::Date(model::DateValue::FromCivil(-43, 3, 15)),
                                Col("d", "date", ValueType::kDate), ConnectorKind::kPostgres);
  ASSERT_FALSE(bc.ok());
  EXPECT_NE(bc.status().message().find("outside MariaDB"), std::string::npos);
}

TEST(MariadbDialectTest, LiteralsAndStatements) {
  MariadbDialect dialect;
  EXPECT_EQ(dialect.QuoteLiteral("it's \\"), "'it''s \\'");
  EXPECT_EQ(dialect.QuoteLiteral(std::string("\0\xff", 2)), "X'00ff'");
  EXPECT_EQ(dialect.QuoteLiteral("h\xc3\xa9"), "'h\xc3\xa9'");
  EXPECT_EQ(dialect.QuoteIdentifier("a`b"), "`a``b`");
  TargetTable table{"db", "t"};
  EXPECT_EQ(dialect.Upsert(table, {"id", "v"}, {"id"}, {{"1", "x"}, {"2", std::nullopt}}),
            "INSERT INTO `db`.`t` (`id`,`v`) VALUES ('1','x'),('2',NULL) ON DUPLICATE KEY "
            "UPDATE `v`=VALUES(`v`)");
  EXPECT_EQ(dialect.Upsert(table, {"id"}, {"id"}, {{"1"}}),
            "INSERT INTO `db`.`t` (`id`) VALUES ('1') ON DUPLICATE KEY UPDATE `id`=`id`");
  EXPECT_EQ(dialect.Delete(table, {"id"}, {{"1"}, {"2"}}),
            "DELETE FROM `db`.`t` WHERE `id` IN ('1','2')");
  EXPECT_EQ(dialect.Delete(table, {"a", "b"}, {{"1", "x"}}),
            "DELETE FROM `db`.`t` WHERE (`a` <=> '1' AND `b` <=> 'x')");
  EXPECT_EQ(dialect.DeleteOneRow(table, {"a", "b"}, {"1", std::nullopt}),
            "DELETE FROM `db`.`t` WHERE `a` <=> '1' AND `b` <=> NULL LIMIT 1");
  EXPECT_EQ(dialect.Truncate(table), "DELETE FROM `db`.`t`");
  EXPECT_EQ(
      dialect.CreateTable(table, {{"id", "int", false}, {"ts", "timestamp(6)", true}}, {"id"}),
      "CREATE TABLE IF NOT EXISTS `db`.`t` (`id` int NOT NULL, `ts` timestamp(6) NULL, "
      "PRIMARY KEY (`id`)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 "
      "COLLATE=utf8mb4_nopad_bin");
  EXPECT_FALSE(dialect.transactional_ddl());
}

TEST(MariadbTargetTest, UrlAndSettingsErrorsNameTheProblem) {
  auto no_database = MakeMariadbTarget("mariadb://u:secret@h:3306", {});
  ASSERT_FALSE(no_database.ok());
  EXPECT_NE(no_database.status().message().find("names no database"), std::string::npos);
  EXPECT_EQ(no_database.status().message().find("secret"), std::string::npos);
  auto bad_port = MakeMariadbTarget("mysql://u:secret@h:99999/db", {});
  ASSERT_FALSE(bad_port.ok());
  EXPECT_EQ(bad_port.status().code(), ErrorCode::kInvalidArgument);
  auto unknown = MakeMariadbTarget("mysql://u@h/db", {{"sslmode_typo", "x"}});
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("sslmode_typo"), std::string::npos);
  auto good = MakeMariadbTarget("mariadb://u:secret@h:3307/shop", {{"ssl_mode", "required"}});
  ASSERT_TRUE(good.ok()) << good.status().message();
  EXPECT_EQ(good->default_space, "shop");
  EXPECT_EQ(good->display_url.find("secret"), std::string::npos);
  EXPECT_EQ(good->dialect->engine_name(), "mariadb");
}

}  // namespace
}  // namespace eddy::sink::replica
