// eddy validate against real PostgreSQL 15 and MariaDB 10.11 servers (src/localdb): equal
// tables, a changed / missing / extra row named by key, chunk boundaries on composite and text
// keys, PostgreSQL <-> MariaDB with the common types, and the errors (missing table, no primary
// key, bad URL). Each engine's target is a second database on the same server.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>

#include "localdb/local_mariadb.h"
#include "localdb/local_postgres.h"
#include "validate/validate.h"

namespace eddy::validate {
namespace {

using localdb::LocalMariadb;
using localdb::LocalPostgres;

class ValidateTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto pg = LocalPostgres::Start();
    ASSERT_TRUE(pg.ok()) << pg.status().message();
    postgres_ = std::move(*pg).release();
    auto maria = LocalMariadb::Start();
    ASSERT_TRUE(maria.ok()) << maria.status().message();
    mariadb_ = std::move(*maria).release();
  }
  static void TearDownTestSuite() {
    delete postgres_;
    delete mariadb_;
    postgres_ = nullptr;
    mariadb_ = nullptr;
  }

  // A fresh PostgreSQL database / MariaDB database per test, returning its URL.
  static std::string NewPgDatabase(const std::string& name) {
    EXPECT_TRUE(postgres_->Execute("DROP DATABASE IF EXISTS " + name).ok());
    Status created = postgres_->Execute("CREATE DATABASE " + name);
    EXPECT_TRUE(created.ok()) << created.message();
    return postgres_->UrlFor("eddy", "eddy", name);
  }
  static std::string NewMariadbDatabase(const std::string& name) {
    Status created = mariadb_->Execute("DROP DATABASE IF EXISTS " + name + "; CREATE DATABASE " +
                                       name + " CHARACTER SET utf8mb4");
    EXPECT_TRUE(created.ok()) << created.message();
    return mariadb_->UrlFor("eddy", "eddy", name);
  }
  static void Pg(const std::string& database, const std::string& sql) {
    Status status = postgres_->Execute(sql, database);
    ASSERT_TRUE(status.ok()) << status.message();
  }
  static void Maria(const std::string& database, const std::string& sql) {
    Status status = mariadb_->Execute("SET time_zone = '+00:00'; " + sql, database);
    ASSERT_TRUE(status.ok()) << status.message();
  }

  static ValidateReport MustValidate(const std::string& source, const std::string& target,
                                     ValidateOptions options = {}) {
    auto report = Validate(source, target, options);
    EXPECT_TRUE(report.ok()) << report.status().message();
    if (!report.ok()) return {};
    return *report;
  }

  static bool Listed(const TableReport& table, Difference kind, const std::string& key) {
    return std::any_of(table.keys.begin(), table.keys.end(),
                       [&](const KeyDifference& k) { return k.kind == kind && k.key == key; });
  }

  static inline LocalPostgres* postgres_ = nullptr;
  static inline LocalMariadb* mariadb_ = nullptr;
};

constexpr char kPgTypes[] = R"(
  CREATE TABLE types (
    id bigint PRIMARY KEY, i integer, s smallint, n numeric(12,3), nu numeric, d double precision,
    r real, b boolean, t text, v varchar(20), c char(5), by bytea, dt date, ts timestamp(6),
    tz timestamptz(6), tm time(6), u uuid, j jsonb, bits bit(5), iv interval, arr int[]);
  INSERT INTO types VALUES
    (1, -2147483648, -32768, -123456789.125, 0.000001, 1.5e-7, 0.1, true, 'héllo ☃', '', 'ab',
     '\x00ff10', '0001-01-01', '2024-02-29 23:59:59.999999', '2024-01-01 00:00:00+05',
     '23:59:59.999999', 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', '{"b": [1, 2], "a": null}',
     B'10101', '1 day 02:03:04', '{1,2,3}'),
    (2, 2147483647, 32767, 0, 12345678901234567890.5, -2.5e300, -3.4e38, false, 'tab	"quote''',
     'x', 'abcde', '', '9999-12-31', '1970-01-01 00:00:00', '1970-01-01 00:00:00+00',
     '00:00:00', '00000000-0000-0000-0000-000000000000', '[]', B'00000', '0', '{}'),
    (3, NULL, NULL, NULL, NULL, 0, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
     NULL, NULL, NULL, NULL);
)";

TEST_F(ValidateTest, PostgresTablesEqualThenChangedMissingAndExtraRowsNamed) {
  const std::string source = NewPgDatabase("v_src");
  const std::string target = NewPgDatabase("v_dst");
  for (const char* database : {"v_src", "v_dst"}) {
    Pg(database, kPgTypes);
    Pg(database,
       "CREATE TABLE orders (region text, id int, amount numeric(10,2), "
       "PRIMARY KEY (region, id)); INSERT INTO orders SELECT "
       "(ARRAY['eu','us','Zz','ä'])[1 + g % 4], g, g * 1.5 FROM generate_series(1, 50) g");
  }
  ValidateOptions options;
  options.chunk_size = 7;
  ValidateReport equal = MustValidate(source, target, options);
  ASSERT_EQ(equal.tables.size(), 2u);
  EXPECT_TRUE(equal.equal()) << equal.ToText();
  EXPECT_EQ(equal.tables[0].source_table, "public.orders");
  EXPECT_EQ(equal.tables[0].source_rows, 50);
  EXPECT_GT(equal.tables[0].chunks, 7);

  Pg("v_dst",
     "UPDATE orders SET amount = amount + 0.01 WHERE region = 'us' AND id = 1; "
     "DELETE FROM orders WHERE region = 'ä' AND id = 3; "
     "INSERT INTO orders VALUES ('zz', 1000, 1); "
     "UPDATE types SET tz = tz + interval '1 microsecond' WHERE id = 1");
  ValidateReport different = MustValidate(source, target, options);
  EXPECT_FALSE(different.equal());
  EXPECT_FALSE(different.has_errors()) << different.ToText();
  const TableReport& orders = different.tables[0];
  EXPECT_EQ(orders.missing, 1);
  EXPECT_EQ(orders.extra, 1);
  EXPECT_EQ(orders.different, 1);
  EXPECT_TRUE(Listed(orders, Difference::kDifferent, "region=us, id=1 (columns amount)"))
      << different.ToText();
  EXPECT_TRUE(Listed(orders, Difference::kMissing, "region=ä, id=3")) << different.ToText();
  EXPECT_TRUE(Listed(orders, Difference::kExtra, "region=zz, id=1000")) << different.ToText();
  const TableReport& types = different.tables[1];
  EXPECT_EQ(types.different, 1);
  EXPECT_TRUE(Listed(types, Difference::kDifferent, "id=1 (columns tz)")) << different.ToText();
  const std::string text = different.ToText();
  EXPECT_NE(text.find("missing in the target: 1"), std::string::npos) << text;
  EXPECT_NE(text.find("region=ä, id=3"), std::string::npos) << text;
}

TEST_F(ValidateTest, MariadbTablesEqualThenDifferencesNamed) {
  const std::string source = NewMariadbDatabase("v_src");
  const std::string target = NewMariadbDatabase("v_dst");
  for (const char* database : {"v_src", "v_dst"}) {
    Maria(database, R"(
      CREATE TABLE types (
        id int unsigned PRIMARY KEY, ti tinyint, si smallint, mi mediumint, bi bigint unsigned,
        n decimal(12,3), f float, d double, bits bit(5), c char(5), v varchar(20), t text,
        vb varbinary(10), bl blob, dt date, dtm datetime(6), ts timestamp(6) NULL, tm time(6),
        y year, e enum('a','b'), st set('x','y'), j json, u uuid);
      INSERT INTO types VALUES
        (1, -128, -32768, -8388608, 18446744073709551615, -123456789.125, 0.1, 1.5e-7, b'10101',
         'ab', '', 'héllo ☃', X'00ff10', X'', '1000-01-01', '2024-02-29 23:59:59.999999',
         '2024-01-01 00:00:00', '23:59:59.999999', 2024, 'b', 'x,y', '{"a": 1}',
         'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'),
        (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
         NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
      CREATE TABLE words (w varchar(20) COLLATE utf8mb4_bin PRIMARY KEY, n int);
      INSERT INTO words VALUES ('apple', 1), ('Apple', 2), ('b', 3), ('äpfel', 4), ('a b', 5),
                               ('z', 6), ('', 7);
    )");
  }
  ValidateOptions options;
  options.chunk_size = 2;
  ValidateReport equal = MustValidate(source, target, options);
  ASSERT_EQ(equal.tables.size(), 2u);
  EXPECT_TRUE(equal.equal()) << equal.ToText();

  Maria("v_dst",
        "UPDATE types SET f = 0.2 WHERE id = 1; DELETE FROM words WHERE w = 'Apple'; "
        "INSERT INTO words VALUES ('new', 8)");
  ValidateReport different = MustValidate(source, target, options);
  EXPECT_FALSE(different.equal());
  EXPECT_TRUE(Listed(different.tables[0], Difference::kDifferent, "id=1 (columns f)"))
      << different.ToText();
  EXPECT_TRUE(Listed(different.tables[1], Difference::kMissing, "w=Apple")) << different.ToText();
  EXPECT_TRUE(Listed(different.tables[1], Difference::kExtra, "w=new")) << different.ToText();
  EXPECT_EQ(different.tables[1].missing + different.tables[1].extra + different.tables[1].different,
            2);
}

TEST_F(ValidateTest, PostgresAndMariadbAgreeOnTheCommonTypes) {
  const std::string pg = NewPgDatabase("v_cross");
  const std::string maria = NewMariadbDatabase("v_cross");
  Pg("v_cross", R"(
    CREATE TABLE common (
      id bigint PRIMARY KEY, i integer, s smallint, n numeric(12,3), d double precision, r real,
      b boolean, t text, v varchar(20), c char(5), by bytea, dt date, ts timestamp(6),
      tz timestamptz(6), tm time(6), u uuid, code varchar(10) NOT NULL);
    INSERT INTO common VALUES
      (1, -2147483648, -32768, -123456789.125, 1.5e-7, 0.1, true, 'héllo ☃ 𝄞', 'tab	x', 'ab',
       '\x00ff10', '0001-01-01', '2024-02-29 23:59:59.999999', '2024-01-01 00:00:00+05',
       '23:59:59.999999', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'Zeta'),
      (2, 2147483647, 32767, 0.5, -2.5e300, -3.4e38, false, '', 'x', 'abcde', '', '9999-12-31',
       '1970-01-01 00:00:00', '2038-01-19 03:14:07+00', '00:00:00',
       '00000000-0000-0000-0000-000000000000', 'alpha'),
      (3, NULL, NULL, NULL, 0, 123456789012345678, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
       NULL, NULL, 'Beta'),
      (4, 0, 0, 100, 1e20, 1, NULL, 'it''s', 'a\b', ' ', '\x41', '2000-02-29',
       '2000-01-01 12:00:00.5', '2000-01-01 12:00:00.5+00', '12:00:00.5', NULL, 'beta');
    CREATE TABLE labels (code varchar(10) PRIMARY KEY, n int);
    INSERT INTO labels VALUES ('Zeta', 1), ('alpha', 2), ('Beta', 3), ('beta', 4), ('é', 5),
                              ('z', 6), ('A', 7);
  )");
  Maria("v_cross", R"(
    CREATE TABLE common (
      id bigint PRIMARY KEY, i int, s smallint, n decimal(12,3), d double, r float,
      b boolean, t text, v varchar(20), c char(5), `by` varbinary(10), dt date, ts datetime(6),
      tz timestamp(6) NULL, tm time(6), u uuid, code varchar(10) NOT NULL);
    INSERT INTO common VALUES
      (1, -2147483648, -32768, -123456789.125, 1.5e-7, 0.1, true, 'héllo ☃ 𝄞', 'tab	x', 'ab',
       X'00ff10', '0001-01-01', '2024-02-29 23:59:59.999999', '2023-12-31 19:00:00',
       '23:59:59.999999', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'Zeta'),
      (2, 2147483647, 32767, 0.5, -2.5e300, -3.4e38, false, '', 'x', 'abcde', X'', '9999-12-31',
       '1970-01-01 00:00:00', '2038-01-19 03:14:07', '00:00:00',
       '00000000-0000-0000-0000-000000000000', 'alpha'),
      (3, NULL, NULL, NULL, 0, 123456789012345678, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
       NULL, NULL, 'Beta'),
      (4, 0, 0, 100, 1e20, 1, NULL, 'it''s', 'a\\b', ' ', X'41', '2000-02-29',
       '2000-01-01 12:00:00.5', '2000-01-01 12:00:00.5', '12:00:00.5', NULL, 'beta');
    CREATE TABLE labels (code varchar(10) COLLATE utf8mb4_bin PRIMARY KEY, n int);
    INSERT INTO labels VALUES ('Zeta', 1), ('alpha', 2), ('Beta', 3), ('beta', 4), ('é', 5),
                              ('z', 6), ('A', 7);
  )");
  ValidateOptions options;
  options.chunk_size = 2;
  ValidateReport forward = MustValidate(pg, maria, options);
  EXPECT_TRUE(forward.equal()) << forward.ToText();
  ValidateReport backward = MustValidate(maria, pg, options);
  EXPECT_TRUE(backward.equal()) << backward.ToText();

  Maria("v_cross",
        "UPDATE common SET r = 0.25 WHERE id = 1; UPDATE labels SET n = 40 WHERE "
        "code = 'beta'");
  ValidateReport different = MustValidate(pg, maria, options);
  EXPECT_FALSE(different.equal());
  EXPECT_TRUE(Listed(different.tables[0], Difference::kDifferent, "id=1 (columns r)"))
      << different.ToText();
  EXPECT_TRUE(Listed(different.tables[1], Difference::kDifferent, "code=beta (columns n)"))
      << different.ToText();
  EXPECT_EQ(different.tables[1].different, 1) << different.ToText();
}

TEST_F(ValidateTest, ErrorsSayWhatIsWrong) {
  const std::string source = NewPgDatabase("v_err_src");
  const std::string target = NewMariadbDatabase("v_err_dst");
  Pg("v_err_src",
     "CREATE TABLE keyless (a int); CREATE TABLE only_source (id int PRIMARY KEY); "
     "CREATE TABLE ok (id int PRIMARY KEY, extra int)");
  Maria("v_err_dst", "CREATE TABLE keyless (a int); CREATE TABLE ok (id int PRIMARY KEY)");

  ValidateOptions options;
  options.tables = {"keyless", "only_source", "ok", "nope.ok"};
  ValidateReport report = MustValidate(source, target, options);
  ASSERT_EQ(report.tables.size(), 4u);
  EXPECT_TRUE(report.has_errors());
  EXPECT_NE(report.tables[0].error.find("has no primary key"), std::string::npos)
      << report.tables[0].error;
  EXPECT_NE(report.tables[1].error.find("v_err_dst.only_source does not exist in the target"),
            std::string::npos)
      << report.tables[1].error;
  EXPECT_TRUE(report.tables[2].error.empty()) << report.tables[2].error;
  EXPECT_FALSE(report.tables[2].equal());
  ASSERT_EQ(report.tables[2].notes.size(), 1u);
  EXPECT_NE(report.tables[2].notes[0].find("column extra"), std::string::npos);
  EXPECT_NE(report.tables[3].error.find("nope.ok does not exist in the source"), std::string::npos)
      << report.tables[3].error;

  auto bad_scheme = Validate("oracle://x@y/z", target, {});
  ASSERT_FALSE(bad_scheme.ok());
  EXPECT_EQ(bad_scheme.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(bad_scheme.status().message().find("--source"), std::string::npos);
  auto bad_schema = Validate(source, target + "?schema=x", {});
  ASSERT_FALSE(bad_schema.ok());
  EXPECT_NE(bad_schema.status().message().find("schema= is for PostgreSQL"), std::string::npos)
      << bad_schema.status().message();
  auto unreachable = Validate(source, "mysql://eddy:eddy@127.0.0.1:1/x", {});
  ASSERT_FALSE(unreachable.ok());
  EXPECT_NE(unreachable.status().message().find("target: "), std::string::npos)
      << unreachable.status().message();
}

}  // namespace
}  // namespace eddy::validate
