// `eddy demo`'s databases: both servers up with the sample table, generators running on both,
// and a clean, prompt stop that leaves nothing running or on disk.
#include "demo/demo_databases.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

namespace eddy::demo {
namespace {

TEST(DemoDatabasesTest, RunsWorkloadOnBothAndStopsCleanly) {
  DemoOptions options;
  options.rate_per_second = 100;
  auto demo = DemoDatabases::Start(options);
  ASSERT_TRUE(demo.ok()) << demo.status().ToString();
  DemoDatabases& databases = **demo;
  EXPECT_EQ(databases.postgres_url().rfind("postgresql://", 0), 0u);
  EXPECT_EQ(databases.mariadb_url().rfind("mysql://", 0), 0u);
  EXPECT_EQ(databases.postgres_capture_url().rfind("postgresql://eddy_capture:", 0), 0u);
  EXPECT_EQ(databases.mariadb_capture_url().rfind("mysql://eddy_capture:", 0), 0u);
  const pid_t postgres_pid = databases.postgres()->pid();
  const pid_t mariadb_pid = databases.mariadb()->pid();
  const std::string postgres_dir = databases.postgres()->dir();
  const std::string mariadb_dir = databases.mariadb()->dir();

  ASSERT_TRUE(databases.StartWorkload().ok());
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while ((databases.postgres_counts().total() < 20 || databases.mariadb_counts().total() < 20) &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_GE(databases.postgres_counts().total(), 20);
  EXPECT_GE(databases.mariadb_counts().total(), 20);

  const auto stop_started = std::chrono::steady_clock::now();
  ASSERT_TRUE(databases.Stop().ok());
  const auto stop_time = std::chrono::steady_clock::now() - stop_started;
  std::cout << "demo stop ms="
            << std::chrono::duration_cast<std::chrono::milliseconds>(stop_time).count() << "\n";
  EXPECT_LT(stop_time, std::chrono::seconds(30));
  EXPECT_EQ(kill(postgres_pid, 0), -1);
  EXPECT_EQ(kill(mariadb_pid, 0), -1);
  EXPECT_FALSE(std::filesystem::exists(postgres_dir));
  EXPECT_FALSE(std::filesystem::exists(mariadb_dir));
  EXPECT_TRUE(databases.Stop().ok()) << "idempotent";
}

}  // namespace
}  // namespace eddy::demo
