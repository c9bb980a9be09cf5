// The destination against librdkafka's mock cluster started in this process (no broker in
// Debian; the mock speaks the Kafka protocol on loopback): delivery, the checkpoint committed
// in the offsets topic and read back by a new destination, and the errors of an unreachable
// cluster and a bad librdkafka property. Fencing of a second writer is not tested: the mock
// gives a second InitProducerId a new producer without fencing the first one's epoch.
#include "sink/kafka/kafka_destination.h"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>

#include "consume/sink_settings.h"
#include "sink/kafka/mock_cluster.h"

namespace eddy::sink::kafka {
namespace {

consume::SinkSpec Spec(const std::string& bootstrap,
                       std::map<std::string, std::string> extra = {}) {
  consume::SinkSpec spec;
  spec.name = "orders-kafka";
  spec.stream = "orders";
  spec.url = "kafka://" + bootstrap;
  spec.settings = {{"topic_prefix", "shop"}, {"delivery_timeout", "5s"}};
  for (auto& [key, value] : extra) spec.settings[key] = value;
  return spec;
}

consume::SinkBatch Batch(uint64_t first, uint64_t count) {
  consume::SinkBatch batch;
  batch.sink_name = "orders-kafka";
  batch.stream_name = "orders";
  for (uint64_t i = first; i < first + count; ++i) {
    consume::SinkRecord record;
    record.shard_index = 0;
    record.sequence = SequenceNumber(i);
    record.partition_key = "key-" + std::to_string(i % 7);
    record.data = "{\"n\":" + std::to_string(i) + "}";
    batch.records.push_back(std::move(record));
  }
  batch.checkpoint_after.shards[0] = consume::ShardCheckpoint{SequenceNumber(first + count), false};
  return batch;
}

TEST(KafkaDestination, CommitsTheCheckpointWithTheBatchAndReadsItBack) {
  auto started = MockCluster::Start(1);
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  MockCluster& cluster = **started;
  auto destination = MakeKafkaDestination(Spec(cluster.bootstrap()));
  ASSERT_TRUE(destination.ok()) << destination.status().ToString();
  ASSERT_TRUE((*destination)->Open().ok());
  auto none = (*destination)->ReadCheckpoint();
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_FALSE(none->has_value());
  for (uint64_t first : {1, 11, 21}) {
    consume::DeliveryOutcome outcome = (*destination)->Deliver(Batch(first, 10));
    ASSERT_TRUE(outcome.failure.ok()) << outcome.failure.ToString();
    EXPECT_EQ(outcome.acknowledged, 10u);
  }
  ASSERT_TRUE((*destination)->Close().ok());

  auto again = MakeKafkaDestination(Spec(cluster.bootstrap()));
  ASSERT_TRUE((*again)->Open().ok());
  auto checkpoint = (*again)->ReadCheckpoint();
  ASSERT_TRUE(checkpoint.ok()) << checkpoint.status().ToString();
  ASSERT_TRUE(checkpoint->has_value());
  EXPECT_EQ((*checkpoint)->shards.at(0).next, SequenceNumber(31));
  ASSERT_TRUE((*again)->Close().ok());
}

TEST(KafkaDestination, AtLeastOnceDelivers) {
  auto started = MockCluster::Start(1);
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  MockCluster& cluster = **started;
  auto destination = MakeKafkaDestination(Spec(cluster.bootstrap(), {{"exactly_once", "false"}}));
  ASSERT_TRUE((*destination)->Open().ok());
  auto none = (*destination)->ReadCheckpoint();
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());  // no checkpoint kept in Kafka
  consume::DeliveryOutcome outcome = (*destination)->Deliver(Batch(1, 50));
  EXPECT_TRUE(outcome.failure.ok()) << outcome.failure.ToString();
  EXPECT_EQ(outcome.acknowledged, 50u);
  ASSERT_TRUE((*destination)->Close().ok());
}

TEST(KafkaDestination, BatchesUpToTheRunnersLimitUnlessBatchSizeIsSet) {
  // One transaction per batch: without batch_size the sink takes the runner's limit, with the
  // user's batch_bytes and max_batching_window.
  auto defaulted = MakeKafkaDestination(
      Spec("127.0.0.1:1", {{"max_batching_window", "2"}, {"batch_bytes", "100000"}}));
  ASSERT_TRUE(defaulted.ok()) << defaulted.status().ToString();
  auto batching = (*defaulted)->Batching();
  ASSERT_TRUE(batching.has_value());
  EXPECT_EQ(batching->batch_size, consume::kMaxBatchSize);
  EXPECT_EQ(batching->batch_bytes, 100000u);
  EXPECT_EQ(batching->window, std::chrono::milliseconds(2000));

  auto set = MakeKafkaDestination(Spec("127.0.0.1:1", {{"batch_size", "500"}}));
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  EXPECT_FALSE((*set)->Batching().has_value());  // the runner's batching, as configured
}

TEST(KafkaDestination, ClearErrors) {
  auto unreachable = MakeKafkaDestination(Spec("127.0.0.1:1", {{"delivery_timeout", "500ms"}}));
  ASSERT_TRUE(unreachable.ok());
  Status opened = (*unreachable)->Open();
  EXPECT_TRUE(opened.IsRetriable()) << opened.ToString();
  EXPECT_NE(opened.message().find("no Kafka broker answered at 127.0.0.1:1"), std::string::npos)
      << opened.ToString();

  auto bad_property = MakeKafkaDestination(Spec("127.0.0.1:1", {{"kafka.acks.typo", "1"}}));
  ASSERT_TRUE(bad_property.ok());
  Status rejected = (*bad_property)->Open();
  EXPECT_EQ(rejected.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(rejected.message().find("kafka.acks.typo"), std::string::npos) << rejected.ToString();
}

}  // namespace
}  // namespace eddy::sink::kafka
