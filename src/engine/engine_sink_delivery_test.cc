// Engine + sinks end to end on the real reader and checkpoint store: a registered destination
// receives a stream's records, the checkpoint survives a restart, and delivery resumes after
// it without repeating what was acknowledged.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <condition_variable>
#include <mutex>
#include <optional>

#include "consume/checkpoint_store.h"
#include "engine/engine.h"
#include "io/file_system.h"

namespace eddy::engine {
namespace {

struct Received {
  std::mutex mu;
  std::condition_variable changed;
  std::vector<std::string> keys;
  std::vector<size_t> batch_sizes;
  int closes = 0;
};

class CollectingDestination final : public consume::Destination {
 public:
  explicit CollectingDestination(Received* received,
                                 std::optional<consume::BatchingOverride> batching = {})
      : received_(received), batching_(batching) {}
  std::optional<consume::BatchingOverride> Batching() const override { return batching_; }
  Status Open() override { return Status::Ok(); }
  consume::DeliveryOutcome Deliver(const consume::SinkBatch& batch) override {
    std::lock_guard lock(received_->mu);
    for (const auto& record : batch.records) received_->keys.push_back(record.partition_key);
    received_->batch_sizes.push_back(batch.records.size());
    received_->changed.notify_all();
    return consume::DeliveryOutcome{batch.records.size(), Status::Ok(), false};
  }
  Status Close() override {
    std::lock_guard lock(received_->mu);
    ++received_->closes;
    return Status::Ok();
  }

 private:
  Received* received_;
  std::optional<consume::BatchingOverride> batching_;
};

class EngineSinkDeliveryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/eddy-engine-delivery-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    root_ = pattern;
    config_.data_dir = root_ + "/data";
    config_.api.enabled = false;
    consume::SinkSpec sink;
    sink.name = "collector";
    sink.stream = "plain";
    sink.url = "collect://here/";
    sink.settings["batch_size"] = "7";
    config_.sinks.push_back(sink);
    auto store = log::LogStore::Open(config_.data_dir);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    ASSERT_TRUE((*store)->CreateStream("plain", log::StreamOptions{}).ok());
  }
  void TearDown() override { io::DefaultFileSystem()->RemoveTree(root_).IgnoreError(); }

  SinkServices Services(std::optional<consume::BatchingOverride> batching = {}) {
    SinkServices services;
    EXPECT_TRUE(services.destinations
                    .Register("collect",
                              [this, batching](const consume::SinkSpec&)
                                  -> Result<std::unique_ptr<consume::Destination>> {
                                return std::unique_ptr<consume::Destination>(
                                    new CollectingDestination(&received_, batching));
                              })
                    .ok());
    return services;
  }

  void Append(log::LogStore* store, int first, int count) {
    auto stream = store->GetStream("plain");
    ASSERT_TRUE(stream.ok());
    std::vector<log::AppendRecord> records;
    for (int i = first; i < first + count; ++i) {
      log::AppendRecord record;
      record.partition_key = "k" + std::to_string(i);
      record.payload = "payload";
      records.push_back(std::move(record));
    }
    ASSERT_TRUE((*stream)->AppendRecords(std::move(records)).ok());
  }

  bool WaitForReceived(size_t count) {
    std::unique_lock lock(received_.mu);
    return received_.changed.wait_for(lock, std::chrono::seconds(20),
                                      [&] { return received_.keys.size() >= count; });
  }

  std::string root_;
  EngineConfig config_;
  Received received_;
};

TEST_F(EngineSinkDeliveryTest, DeliversAndResumesFromTheCheckpointAfterARestart) {
  {
    auto engine = Engine::Start(config_, Services());
    ASSERT_TRUE(engine.ok()) << engine.status().ToString();
    Append((*engine)->store(), 0, 20);
    ASSERT_TRUE(WaitForReceived(20));
    auto statuses = (*engine)->SinkStatuses();
    ASSERT_EQ(statuses.size(), 1u);
    EXPECT_EQ(statuses[0].state, consume::SinkState::kActive);
    ASSERT_TRUE((*engine)->Stop().ok());
  }
  {
    auto checkpoints = consume::CheckpointStore::Open(config_.data_dir);
    ASSERT_TRUE(checkpoints.ok()) << checkpoints.status().ToString();
    auto state = (*checkpoints)->Load("collector");
    ASSERT_TRUE(state.ok()) << state.status().ToString();
    EXPECT_EQ(state->delivered_records, 20u);
    EXPECT_EQ(state->stream, "plain");
  }
  auto engine = Engine::Start(config_, Services());
  ASSERT_TRUE(engine.ok()) << engine.status().ToString();
  Append((*engine)->store(), 20, 5);
  ASSERT_TRUE(WaitForReceived(25));
  ASSERT_TRUE((*engine)->Stop().ok());
  std::lock_guard lock(received_.mu);
  EXPECT_EQ(received_.keys.size(), 25u);  // nothing of the first 20 again
  EXPECT_EQ(received_.keys.back(), "k24");
  EXPECT_EQ(received_.closes, 2);
}

// A destination's Batching replaces the runner's batch_size (7 here) and window: 20 records
// wait for one another (up to the 30 s window) and arrive as one batch of 20.
TEST_F(EngineSinkDeliveryTest, TheDestinationsBatchingReplacesTheRunners) {
  consume::BatchingOverride batching;
  batching.batch_size = 20;
  batching.batch_bytes = 1u << 20;
  batching.window = std::chrono::seconds(30);
  auto engine = Engine::Start(config_, Services(batching));
  ASSERT_TRUE(engine.ok()) << engine.status().ToString();
  Append((*engine)->store(), 0, 20);
  ASSERT_TRUE(WaitForReceived(20));
  ASSERT_TRUE((*engine)->Stop().ok());
  std::lock_guard lock(received_.mu);
  ASSERT_EQ(received_.batch_sizes.size(), 1u);
  EXPECT_EQ(received_.batch_sizes[0], 20u);
}

}  // namespace
}  // namespace eddy::engine
