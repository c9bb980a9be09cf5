// The demo data on real PostgreSQL 15 and MariaDB 10.11: the sample table, the steady-rate
// generator stopping promptly, and bulk mode producing the same rows on both databases.
#include <gtest/gtest.h>

#include <thread>

#include "demo/workload.h"
#include "localdb/local_mariadb.h"
#include "localdb/local_postgres.h"

namespace eddy::demo {
namespace {

using localdb::LocalMariadb;
using localdb::LocalPostgres;
using localdb::SqlRows;

struct Servers {
  std::unique_ptr<LocalPostgres> postgres;
  std::unique_ptr<LocalMariadb> mariadb;
};

Servers StartBoth() {
  Servers servers;
  auto postgres = LocalPostgres::Start();
  EXPECT_TRUE(postgres.ok()) << postgres.status().ToString();
  if (postgres.ok()) servers.postgres = std::move(*postgres);
  auto mariadb = LocalMariadb::Start();
  EXPECT_TRUE(mariadb.ok()) << mariadb.status().ToString();
  if (mariadb.ok()) servers.mariadb = std::move(*mariadb);
  return servers;
}

std::unique_ptr<SqlTarget> Target(const std::string& url) {
  auto parsed = source::ParseSourceUrl(url);
  EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
  auto target = ConnectTarget(*parsed);
  EXPECT_TRUE(target.ok()) << target.status().ToString();
  return target.ok() ? std::move(*target) : nullptr;
}

// Rows as comparable text (timestamps differ in rendering between the databases; the rest not).
std::vector<std::string> PgRows(LocalPostgres& server) {
  auto session = server.Connect();
  EXPECT_TRUE(session.ok());
  auto rows = session->Query(
      "SELECT trans_id || '|' || customer_id || '|' || event || '|' || sku || '|' || amount || "
      "'|' || device || '|' || to_char(trans_datetime, 'YYYY-MM-DD HH24:MI:SS.US') "
      "FROM retail_trans ORDER BY trans_id");
  EXPECT_TRUE(rows.ok()) << rows.status().ToString();
  std::vector<std::string> out;
  for (const auto& row : rows->rows) out.push_back(*row[0]);
  return out;
}

std::vector<std::string> MariadbRows(LocalMariadb& server) {
  auto session = server.Connect();
  EXPECT_TRUE(session.ok());
  auto rows = session->Query(
      "SELECT CONCAT_WS('|', trans_id, customer_id, event, sku, amount, device, "
      "DATE_FORMAT(trans_datetime, '%Y-%m-%d %H:%i:%s.%f')) FROM retail_trans ORDER BY trans_id");
  EXPECT_TRUE(rows.ok()) << rows.status().ToString();
  std::vector<std::string> out;
  for (const auto& row : rows->rows) out.push_back(*row[0]);
  return out;
}

TEST(DemoWorkloadTest, SampleTableHasTheDocumentedColumns) {
  Servers servers = StartBoth();
  ASSERT_TRUE(servers.postgres && servers.mariadb);
  auto pg = Target(servers.postgres->Url());
  auto my = Target(servers.mariadb->Url());
  ASSERT_TRUE(pg && my);
  ASSERT_TRUE(CreateSampleTable(*pg).ok());
  ASSERT_TRUE(CreateSampleTable(*pg).ok()) << "idempotent";
  ASSERT_TRUE(CreateSampleTable(*my).ok());
  ASSERT_TRUE(CreateSampleTable(*my, /*drop_existing=*/true).ok());
  auto pg_session = servers.postgres->Connect();
  ASSERT_TRUE(pg_session.ok());
  auto pg_columns = pg_session->Query(
      "SELECT column_name || ' ' || data_type FROM information_schema.columns "
      "WHERE table_name = 'retail_trans' ORDER BY ordinal_position");
  ASSERT_TRUE(pg_columns.ok());
  std::vector<std::string> names;
  for (const auto& row : pg_columns->rows) names.push_back(*row[0]);
  EXPECT_EQ(names, (std::vector<std::string>{
                       "trans_id bigint", "customer_id bigint", "event character varying",
                       "sku character varying", "amount numeric", "device character varying",
                       "trans_datetime timestamp without time zone"}));
  auto my_session = servers.mariadb->Connect();
  ASSERT_TRUE(my_session.ok());
  auto my_columns = my_session->Query(
      "SELECT CONCAT(column_name, ' ', column_type) FROM information_schema.columns "
      "WHERE table_schema = 'eddy' AND table_name = 'retail_trans' ORDER BY ordinal_position");
  ASSERT_TRUE(my_columns.ok());
  names.clear();
  for (const auto& row : my_columns->rows) names.push_back(*row[0]);
  EXPECT_EQ(names, (std::vector<std::string>{"trans_id bigint(20)", "customer_id bigint(20)",
                                             "event varchar(32)", "sku varchar(32)",
                                             "amount decimal(10,2)", "device varchar(16)",
                                             "trans_datetime datetime(6)"}));
}

TEST(DemoWorkloadTest, SteadyRateRunsOnBothAndStopsPromptly) {
  Servers servers = StartBoth();
  ASSERT_TRUE(servers.postgres && servers.mariadb);
  for (const std::string& url : {servers.postgres->Url(), servers.mariadb->Url()}) {
    auto target = Target(url);
    ASSERT_TRUE(target);
    ASSERT_TRUE(CreateSampleTable(*target).ok());
    WorkloadOptions options;
    options.rate_per_second = 200;
    options.seed = 11;
    WorkloadGenerator generator(options);
    StopFlag stop;
    Result<WorkloadCounts> result = Status(ErrorCode::kInternal, "not run");
    std::thread runner([&] { result = generator.Run(*target, stop); });
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (generator.counts().total() < 60 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    const auto stop_requested = std::chrono::steady_clock::now();
    stop.Stop();
    runner.join();
    const auto stop_latency = std::chrono::steady_clock::now() - stop_requested;
    std::cout << url.substr(0, 6) << " stop latency us="
              << std::chrono::duration_cast<std::chrono::microseconds>(stop_latency).count()
              << "\n";
    EXPECT_LT(stop_latency, std::chrono::seconds(2));
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    EXPECT_GE(result->total(), 60);
    EXPECT_GT(result->updates, 0);
    EXPECT_GT(result->deletes, 0);
    // The database holds exactly the rows the generator thinks are live.
    const size_t rows = url.rfind("postgresql", 0) == 0 ? PgRows(*servers.postgres).size()
                                                        : MariadbRows(*servers.mariadb).size();
    EXPECT_EQ(rows, static_cast<size_t>(result->live_rows()));
    EXPECT_EQ(rows, generator.live_row_count());
  }
}

TEST(DemoWorkloadTest, BulkModeWritesTheSameRowsOnBothDatabases) {
  Servers servers = StartBoth();
  ASSERT_TRUE(servers.postgres && servers.mariadb);
  std::vector<std::vector<std::string>> contents;
  for (const std::string& url : {servers.postgres->Url(), servers.mariadb->Url()}) {
    auto target = Target(url);
    ASSERT_TRUE(target);
    ASSERT_TRUE(CreateSampleTable(*target).ok());
    WorkloadOptions options;
    options.seed = 42;
    WorkloadGenerator generator(options);
    const auto started = std::chrono::steady_clock::now();
    auto counts = generator.RunBulk(*target, 5000, 2000, 1000, 500);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    ASSERT_TRUE(counts.ok()) << counts.status().ToString();
    std::cout << url.substr(0, 6) << " bulk 8000 operations in " << seconds << " s ("
              << static_cast<int64_t>(8000 / seconds) << " ops/s)\n";
    EXPECT_EQ(counts->inserts, 5000);
    EXPECT_EQ(counts->updates, 2000);
    EXPECT_EQ(counts->deletes, 1000);
    contents.push_back(url.rfind("postgresql", 0) == 0 ? PgRows(*servers.postgres)
                                                       : MariadbRows(*servers.mariadb));
    EXPECT_EQ(contents.back().size(), 4000u);
  }
  ASSERT_EQ(contents.size(), 2u);
  EXPECT_EQ(contents[0], contents[1]) << "same seed, same rows on PostgreSQL and MariaDB";
}

TEST(DemoWorkloadTest, BulkStopsEarlyOnRequest) {
  auto postgres = LocalPostgres::Start();
  ASSERT_TRUE(postgres.ok()) << postgres.status().ToString();
  auto target = Target((*postgres)->Url());
  ASSERT_TRUE(target && CreateSampleTable(*target).ok());
  WorkloadGenerator generator(WorkloadOptions{});
  StopFlag stop;
  stop.Stop();
  auto counts = generator.RunBulk(*target, 100000, 0, 0, 100, &stop);
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->total(), 0);
}

}  // namespace
}  // namespace eddy::demo
