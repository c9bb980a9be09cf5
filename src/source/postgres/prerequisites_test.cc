// `eddy check` against real PostgreSQL 15 servers started by localdb: a correctly configured
// one passes; each misconfiguration fails its own item with the fix; connection problems are
// one line.
#include "source/postgres/prerequisites.h"

#include <gtest/gtest.h>

#include <memory>

#include "localdb/local_postgres.h"
#include "source/prerequisites.h"

namespace eddy::source {
namespace {

using localdb::LocalPostgres;
using localdb::LocalPostgresOptions;
using localdb::PostgresCaptureUser;

class PostgresCheckTest : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto started = LocalPostgres::Start();
    ASSERT_TRUE(started.ok()) << started.status().ToString();
    server_ = std::move(*started).release();
    ASSERT_TRUE(server_->Execute("CREATE TABLE orders (id bigint PRIMARY KEY, total numeric)")
                    .ok());
    auto url = server_->CreateCaptureUser();
    ASSERT_TRUE(url.ok()) << url.status().ToString();
    capture_url_ = *url;
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  static CheckReport MustCheck(const std::string& url, const CheckOptions& options = {}) {
    auto report = CheckSource(url, options);
    EXPECT_TRUE(report.ok()) << report.status().ToString();
    if (!report.ok()) return CheckReport{};
    std::cout << report->ToText();
    return *report;
  }

  static LocalPostgres* server_;
  static std::string capture_url_;
};

LocalPostgres* PostgresCheckTest::server_ = nullptr;
std::string PostgresCheckTest::capture_url_;

void ExpectItem(const CheckReport& report, const std::string& name, CheckStatus status,
                const std::string& fix_part = "") {
  const CheckItem* item = report.Find(name);
  ASSERT_NE(item, nullptr) << "no item " << name << " in:\n" << report.ToText();
  EXPECT_EQ(item->status, status) << report.ToText();
  if (!fix_part.empty()) {
    EXPECT_NE(item->fix.find(fix_part), std::string::npos)
        << name << " fix '" << item->fix << "' lacks '" << fix_part << "'";
  }
}

void ExpectOnlyFailure(const CheckReport& report, const std::string& name) {
  for (const CheckItem& item : report.items) {
    if (item.name == name) {
      EXPECT_EQ(item.status, CheckStatus::kFail) << report.ToText();
    } else {
      EXPECT_NE(item.status, CheckStatus::kFail) << item.name << "\n" << report.ToText();
    }
  }
  EXPECT_FALSE(report.CanCapture());
}

TEST_F(PostgresCheckTest, CorrectlyConfiguredServerPasses) {
  CheckReport report = MustCheck(capture_url_);
  EXPECT_TRUE(report.CanCapture()) << report.ToText();
  for (const CheckItem& item : report.items) {
    EXPECT_EQ(item.status, CheckStatus::kOk) << item.name << ": " << item.detail;
  }
  ExpectItem(report, "wal_level", CheckStatus::kOk);
  ExpectItem(report, "replication_privilege", CheckStatus::kOk);
  ExpectItem(report, "replication_slots", CheckStatus::kOk);
  ExpectItem(report, "wal_senders", CheckStatus::kOk);
  ExpectItem(report, "select_privilege", CheckStatus::kOk);
  EXPECT_NE(report.server_version.find("PostgreSQL 15"), std::string::npos);
  EXPECT_EQ(report.source.find("capture@"), std::string::npos) << "password shown";
  // The superuser passes too.
  EXPECT_TRUE(MustCheck(server_->Url()).CanCapture());
}

TEST_F(PostgresCheckTest, UserWithoutReplicationFails) {
  PostgresCaptureUser user;
  user.name = "no_replication";
  user.replication = false;
  auto url = server_->CreateCaptureUser(user);
  ASSERT_TRUE(url.ok()) << url.status().ToString();
  CheckReport report = MustCheck(*url);
  ExpectOnlyFailure(report, "replication_privilege");
  ExpectItem(report, "replication_privilege", CheckStatus::kFail,
             "ALTER ROLE \"no_replication\" WITH REPLICATION;");
}

TEST_F(PostgresCheckTest, UserWithoutSelectFails) {
  PostgresCaptureUser user;
  user.name = "no_select";
  user.select_all_tables = false;
  auto url = server_->CreateCaptureUser(user);
  ASSERT_TRUE(url.ok()) << url.status().ToString();
  CheckReport report = MustCheck(*url);
  ExpectOnlyFailure(report, "select_privilege");
  ExpectItem(report, "select_privilege", CheckStatus::kFail,
             "GRANT SELECT ON ALL TABLES IN SCHEMA \"public\" TO \"no_select\";");
  EXPECT_NE(report.Find("select_privilege")->detail.find("public.orders"), std::string::npos);
}

TEST_F(PostgresCheckTest, TableWithoutPrimaryKeyIsNamedWithItsFix) {
  ASSERT_TRUE(server_->Execute("CREATE SCHEMA shop; CREATE TABLE shop.\"Log Lines\" (line text);"
                               "CREATE TABLE shop.full_identity (x int);"
                               "ALTER TABLE shop.full_identity REPLICA IDENTITY FULL;"
                               "GRANT USAGE ON SCHEMA shop TO eddy_capture;"
                               "GRANT SELECT ON ALL TABLES IN SCHEMA shop TO eddy_capture")
                  .ok());
  CheckReport report = MustCheck(capture_url_);
  ExpectOnlyFailure(report, "table shop.Log Lines");
  ExpectItem(report, "table shop.Log Lines", CheckStatus::kFail,
             "ALTER TABLE \"shop\".\"Log Lines\" REPLICA IDENTITY FULL;");
  ExpectItem(report, "table shop.Log Lines", CheckStatus::kFail,
             "ALTER TABLE \"shop\".\"Log Lines\" ADD PRIMARY KEY");
  EXPECT_EQ(report.Find("table shop.full_identity"), nullptr) << "FULL identity is enough";

  // Restricting the check to other tables skips it; naming a missing table fails.
  CheckOptions only_orders;
  only_orders.tables = {"public.orders"};
  EXPECT_TRUE(MustCheck(capture_url_, only_orders).CanCapture());
  CheckOptions missing;
  missing.tables = {"public.nope"};
  ExpectItem(MustCheck(capture_url_, missing), "table public.nope", CheckStatus::kFail);

  // After the fix the check passes.
  ASSERT_TRUE(server_->Execute("ALTER TABLE shop.\"Log Lines\" REPLICA IDENTITY FULL").ok());
  EXPECT_TRUE(MustCheck(capture_url_).CanCapture());
  ASSERT_TRUE(server_->Execute("DROP SCHEMA shop CASCADE").ok());
}

TEST_F(PostgresCheckTest, PublicationPresenceAndOperations) {
  CheckOptions options;
  options.publication = "eddy_pub";
  // Absent: the capture user (no superuser) cannot create FOR ALL TABLES.
  ExpectItem(MustCheck(capture_url_, options), "publication", CheckStatus::kFail,
             "CREATE PUBLICATION \"eddy_pub\" FOR ALL TABLES;");
  // Absent, superuser: eddy will create it.
  ExpectItem(MustCheck(server_->Url(), options), "publication", CheckStatus::kWarn);
  ASSERT_TRUE(server_->Execute("CREATE PUBLICATION eddy_pub FOR ALL TABLES WITH (publish = 'insert')")
                  .ok());
  ExpectItem(MustCheck(capture_url_, options), "publication", CheckStatus::kFail,
             "ALTER PUBLICATION \"eddy_pub\" SET (publish = 'insert, update, delete, truncate');");
  ASSERT_TRUE(server_->Execute("ALTER PUBLICATION eddy_pub SET (publish = 'insert, update, delete')")
                  .ok());
  CheckReport report = MustCheck(capture_url_, options);
  ExpectItem(report, "publication", CheckStatus::kOk);
  EXPECT_TRUE(report.CanCapture());

  ASSERT_TRUE(server_->Execute("CREATE PUBLICATION some_tables FOR TABLE orders").ok());
  CheckOptions listed;
  listed.publication = "some_tables";
  listed.tables = {"public.orders"};
  ExpectItem(MustCheck(capture_url_, listed), "publication", CheckStatus::kOk);
  ASSERT_TRUE(server_->Execute("CREATE TABLE other (id int PRIMARY KEY)").ok());
  listed.tables = {"public.orders", "public.other"};
  ExpectItem(MustCheck(capture_url_, listed), "publication", CheckStatus::kFail,
             "ALTER PUBLICATION \"some_tables\" ADD TABLE \"public\".\"other\";");
  ASSERT_TRUE(server_->Execute("DROP PUBLICATION eddy_pub; DROP PUBLICATION some_tables; "
                               "DROP TABLE other")
                  .ok());
}

TEST_F(PostgresCheckTest, BadPasswordIsOneLine) {
  auto report = CheckSource(server_->UrlFor("eddy_capture", "wrong-password"));
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.status().code(), ErrorCode::kPermissionDenied);
  const std::string message = report.status().message();
  std::cout << message << "\n";
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  EXPECT_NE(message.find("password authentication failed"), std::string::npos) << message;
  EXPECT_EQ(message.find("wrong-password"), std::string::npos) << "password leaked";
}

TEST_F(PostgresCheckTest, WrongDatabaseIsOneLine) {
  auto report = CheckSource(server_->UrlFor("eddy_capture", "capture", "no_such_db"));
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.status().code(), ErrorCode::kNotFound);
  const std::string message = report.status().message();
  std::cout << message << "\n";
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  EXPECT_NE(message.find("database 'no_such_db' does not exist"), std::string::npos) << message;
}

TEST(PostgresCheckConnectionTest, UnreachableHostIsOneLine) {
  auto port = localdb::PickFreePort();  // nothing listens there
  ASSERT_TRUE(port.ok());
  auto report = CheckSource("postgresql://u:p@127.0.0.1:" + std::to_string(*port) + "/d");
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.status().code(), ErrorCode::kUnavailable);
  std::cout << report.status().message() << "\n";
  EXPECT_EQ(report.status().message().find('\n'), std::string::npos);
  EXPECT_NE(report.status().message().find("cannot reach PostgreSQL at 127.0.0.1:"),
            std::string::npos);

  auto unknown = CheckSource("postgresql://u:p@no-such-host.invalid:5432/d");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), ErrorCode::kUnavailable);
  std::cout << unknown.status().message() << "\n";
  EXPECT_EQ(unknown.status().message().find('\n'), std::string::npos);

  auto malformed = CheckSource("postgresql://u:p@host:notaport/d");
  EXPECT_EQ(malformed.status().code(), ErrorCode::kInvalidArgument);
}

TEST(PostgresMisconfiguredTest, WalLevelReplicaFails) {
  LocalPostgresOptions options;
  options.wal_level = "replica";
  auto server = LocalPostgres::Start(options);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  auto report = CheckSource((*server)->Url());
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  std::cout << report->ToText();
  ExpectOnlyFailure(*report, "wal_level");
  ExpectItem(*report, "wal_level", CheckStatus::kFail, "ALTER SYSTEM SET wal_level = logical;");
  EXPECT_NE(report->Find("wal_level")->detail.find("'replica'"), std::string::npos);
}

TEST(PostgresMisconfiguredTest, BoundedSlotWalRetentionWarns) {
  LocalPostgresOptions options;
  options.settings = {{"max_slot_wal_keep_size", "64MB"}};
  auto server = LocalPostgres::Start(options);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  auto report = CheckSource((*server)->Url());
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  std::cout << report->ToText();
  ExpectItem(*report, "slot_wal_retention", CheckStatus::kWarn,
             "ALTER SYSTEM SET max_slot_wal_keep_size = -1;");
  EXPECT_NE(report->Find("slot_wal_retention")->detail.find("64MB"), std::string::npos);
  EXPECT_TRUE(report->CanCapture()) << "a warning does not block capture";
}

TEST(PostgresMisconfiguredTest, NoFreeReplicationSlotOrWalSenderFails) {
  LocalPostgresOptions options;
  options.max_replication_slots = 1;
  options.max_wal_senders = 0;
  auto server = LocalPostgres::Start(options);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  ASSERT_TRUE((*server)
                  ->Execute("SELECT pg_create_logical_replication_slot('taken', 'pgoutput')")
                  .ok());
  auto report = CheckSource((*server)->Url());
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  std::cout << report->ToText();
  ExpectItem(*report, "replication_slots", CheckStatus::kFail,
             "ALTER SYSTEM SET max_replication_slots = 10;");
  EXPECT_NE(report->Find("replication_slots")->fix.find("inactive: taken"), std::string::npos);
  ExpectItem(*report, "wal_senders", CheckStatus::kFail, "ALTER SYSTEM SET max_wal_senders = 10;");
  ExpectItem(*report, "wal_level", CheckStatus::kOk);
  ExpectItem(*report, "replication_privilege", CheckStatus::kOk);
  EXPECT_FALSE(report->CanCapture());
}

}  // namespace
}  // namespace eddy::source
