// The workload generator without a database: determinism, the mix, SQL shape, prompt stop.
#include "demo/workload.h"

#include <gtest/gtest.h>

#include <thread>

namespace eddy::demo {
namespace {

std::vector<std::string> PlanSql(uint64_t seed, int count) {
  WorkloadOptions options;
  options.seed = seed;
  WorkloadGenerator generator(options);
  std::vector<std::string> out;
  for (int i = 0; i < count; ++i) out.push_back(WorkloadGenerator::ToSql(generator.Plan()));
  return out;
}

TEST(WorkloadTest, SameSeedSamePlanDifferentSeedDifferentPlan) {
  EXPECT_EQ(PlanSql(7, 2000), PlanSql(7, 2000));
  EXPECT_NE(PlanSql(7, 2000), PlanSql(8, 2000));
}

TEST(WorkloadTest, MixFollowsWeightsAndTracksLiveRows) {
  WorkloadOptions options;
  options.seed = 3;
  WorkloadGenerator generator(options);
  int inserts = 0, updates = 0, deletes = 0;
  for (int i = 0; i < 10000; ++i) {
    switch (generator.Plan().kind) {
      case OperationKind::kInsert: ++inserts; break;
      case OperationKind::kUpdate: ++updates; break;
      case OperationKind::kDelete: ++deletes; break;
    }
  }
  // 6:3:1 weights.
  EXPECT_NEAR(inserts, 6000, 300);
  EXPECT_NEAR(updates, 3000, 300);
  EXPECT_NEAR(deletes, 1000, 200);
  EXPECT_EQ(generator.live_row_count(), static_cast<size_t>(inserts - deletes));
}

TEST(WorkloadTest, UpdatesAndDeletesTouchOnlyLiveRows) {
  WorkloadGenerator generator(WorkloadOptions{});
  // No live rows: a delete becomes an insert.
  EXPECT_EQ(generator.PlanDelete().kind, OperationKind::kInsert);
  std::set<int64_t> live = {1};
  for (int i = 0; i < 5000; ++i) {
    Operation operation = generator.Plan();
    switch (operation.kind) {
      case OperationKind::kInsert:
        EXPECT_TRUE(live.insert(operation.row.trans_id).second) << "key reused";
        break;
      case OperationKind::kUpdate:
        EXPECT_EQ(live.count(operation.row.trans_id), 1u);
        break;
      case OperationKind::kDelete:
        EXPECT_EQ(live.erase(operation.row.trans_id), 1u);
        break;
    }
  }
  EXPECT_EQ(live.size(), generator.live_row_count());
}

TEST(WorkloadTest, SqlShapes) {
  WorkloadOptions options;
  options.first_trans_id = 100;
  WorkloadGenerator generator(options);
  Operation insert = generator.PlanInsert();
  EXPECT_EQ(insert.row.trans_id, 100);
  const std::string sql = WorkloadGenerator::ToSql(insert);
  EXPECT_EQ(sql.rfind("INSERT INTO retail_trans (trans_id, customer_id, event, sku, amount, "
                      "device, trans_datetime) VALUES (100, ", 0),
            0u)
      << sql;
  EXPECT_NE(insert.row.amount.find('.'), std::string::npos);
  EXPECT_EQ(insert.row.amount.size() - insert.row.amount.find('.'), 3u) << insert.row.amount;
  EXPECT_EQ(insert.row.trans_datetime.size(), 26u) << insert.row.trans_datetime;
  EXPECT_EQ(insert.row.trans_datetime.rfind("2025-01-", 0), 0u) << insert.row.trans_datetime;
  EXPECT_EQ(WorkloadGenerator::ToSql(generator.PlanDelete()),
            "DELETE FROM retail_trans WHERE trans_id = 100");
}

TEST(StopFlagTest, WakesAWaiterPromptly) {
  StopFlag stop;
  const auto started = std::chrono::steady_clock::now();
  std::thread stopper([&] { stop.Stop(); });
  EXPECT_TRUE(stop.WaitUntil(started + std::chrono::seconds(30)));
  stopper.join();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
  EXPECT_TRUE(stop.stopped());
  StopFlag idle;
  EXPECT_FALSE(idle.WaitUntil(std::chrono::steady_clock::now() + std::chrono::milliseconds(1)));
}

}  // namespace
}  // namespace eddy::demo
