#include "validate/canonical_sql.h"

#include <gtest/gtest.h>

#include "validate/database_url.h"

namespace eddy::validate {
namespace {

TEST(DatabaseUrlTest, SchemaParameterIsTakenOutForPostgres) {
  auto url = ParseDatabaseUrl("postgresql://u:p@h:5433/db?schema=sales&sslmode=disable");
  ASSERT_TRUE(url.ok()) << url.status().message();
  EXPECT_EQ(url->engine, Engine::kPostgres);
  EXPECT_EQ(url->table_namespace, "sales");
  EXPECT_EQ(url->url.Parameter("sslmode"), "disable");
  EXPECT_EQ(url->url.Parameter("schema"), "");

  auto plain = ParseDatabaseUrl("postgres://u@h/db");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->table_namespace, "public");

  auto maria = ParseDatabaseUrl("mariadb://u:p@h:3307/shop");
  ASSERT_TRUE(maria.ok());
  EXPECT_EQ(maria->engine, Engine::kMariadb);
  EXPECT_EQ(maria->table_namespace, "shop");
}

TEST(DatabaseUrlTest, BadUrlsNameTheProblem) {
  auto no_database = ParseDatabaseUrl("mysql://u:p@h:3306");
  ASSERT_FALSE(no_database.ok());
  EXPECT_NE(no_database.status().message().find("names no database"), std::string::npos);
  auto schema_for_mysql = ParseDatabaseUrl("mysql://u:secret@h/db?schema=x");
  ASSERT_FALSE(schema_for_mysql.ok());
  EXPECT_EQ(schema_for_mysql.status().message().find("secret"), std::string::npos);
  auto empty_schema = ParseDatabaseUrl("postgresql://u@h/db?schema=");
  ASSERT_FALSE(empty_schema.ok());
  auto scheme = ParseDatabaseUrl("oracle://u@h/db");
  ASSERT_FALSE(scheme.ok());
  EXPECT_EQ(scheme.status().code(), ErrorCode::kInvalidArgument);
}

TEST(CanonicalSqlTest, ClassifiesCatalogTypes) {
  EXPECT_EQ(ClassifyPostgresType("timestamp with time zone"), ValueClass::kTimestampTz);
  EXPECT_EQ(ClassifyPostgresType("character"), ValueClass::kText);
  EXPECT_EQ(ClassifyPostgresType("jsonb"), ValueClass::kOther);
  int width = 0;
  EXPECT_EQ(ClassifyMariadbType("bit", "bit(12)", &width), ValueClass::kBit);
  EXPECT_EQ(width, 12);
  EXPECT_EQ(ClassifyMariadbType("timestamp", "timestamp(6)", nullptr), ValueClass::kTimestampTz);
  EXPECT_EQ(ClassifyMariadbType("tinyint", "tinyint(1)", nullptr), ValueClass::kInteger);
}

TEST(CanonicalSqlTest, KeyLiteralsQuoteAndEscape) {
  ColumnInfo text{"name", "text", ValueClass::kText, 0};
  EXPECT_EQ(KeyLiteral(Engine::kPostgres, text, "it's"), "'it''s'");
  EXPECT_EQ(KeyLiteral(Engine::kMariadb, text, "a'"),
            "CONVERT(X'6127' USING utf8mb4) COLLATE utf8mb4_nopad_bin");
  ColumnInfo number{"id", "bigint", ValueClass::kInteger, 0};
  EXPECT_EQ(KeyLiteral(Engine::kMariadb, number, "-12"), "-12");
  EXPECT_EQ(KeyLiteral(Engine::kMariadb, number, "1; DROP"), "'1; DROP'");
  ColumnInfo bytes{"b", "bytea", ValueClass::kBinary, 0};
  EXPECT_EQ(KeyLiteral(Engine::kPostgres, bytes, "00ff"), "decode('00ff', 'hex')");
  EXPECT_EQ(KeyLiteral(Engine::kMariadb, bytes, "00ff"), "X'00ff'");
}

TEST(CanonicalSqlTest, CompositeKeysCompareLexicographically) {
  std::vector<ColumnInfo> key = {{"a", "integer", ValueClass::kInteger, 0},
                                 {"b", "text", ValueClass::kText, 0}};
  EXPECT_EQ(KeyAfter(Engine::kPostgres, key, {"1", "x"}),
            "((\"a\" > 1) OR (\"a\" = 1 AND \"b\" COLLATE \"C\" > 'x'))");
}

}  // namespace
}  // namespace eddy::validate
