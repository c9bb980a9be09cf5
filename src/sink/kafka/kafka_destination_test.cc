// The destination against librdkafka's mock cluster started in this process (no broker in
// Debian; the mock speaks the Kafka protocol on loopback): delivery, the checkpoint committed
// in the offsets topic and read back by a new destination, and the errors of an unreachable
// cluster and a bad librdkafka property. Fencing of a second writer is not tested: the mock
// gives a second InitProducerId a new producer without fencing the first one's epoch.
#include "sink/kafka/kafka_destination.h"

#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "consume/checkpoint_store.h"
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

// Every record of `topic` (all partitions, from the start) as key -> values in partition order,
// read_committed; waits for `expected` records with a deadline (`wait`).
// `create_times`: when set, every record's timestamp, or -1 where it is not a CreateTime.
std::map<std::string, std::vector<std::string>> ReadTopic(
    const std::string& bootstrap, const std::string& topic, size_t expected,
    std::vector<int64_t>* create_times = nullptr,
    std::chrono::seconds wait = std::chrono::seconds(30)) {
  char error[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), error, sizeof(error));
  rd_kafka_conf_set(conf, "group.id", "kafka-destination-test", error, sizeof(error));
  rd_kafka_conf_set(conf, "isolation.level", "read_committed", error, sizeof(error));
  rd_kafka_conf_set(conf, "auto.offset.reset", "earliest", error, sizeof(error));
  rd_kafka_t* consumer = rd_kafka_new(RD_KAFKA_CONSUMER, conf, error, sizeof(error));
  EXPECT_NE(consumer, nullptr) << error;
  std::map<std::string, std::vector<std::string>> by_key;
  if (consumer == nullptr) return by_key;
  const rd_kafka_metadata_t* metadata = nullptr;
  rd_kafka_topic_t* handle = rd_kafka_topic_new(consumer, topic.c_str(), nullptr);
  int partitions = 0;
  if (rd_kafka_metadata(consumer, 0, handle, &metadata, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    if (metadata->topic_cnt > 0) partitions = metadata->topics[0].partition_cnt;
    rd_kafka_metadata_destroy(metadata);
  }
  rd_kafka_topic_destroy(handle);
  EXPECT_GT(partitions, 0);
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(partitions);
  for (int p = 0; p < partitions; ++p) {
    rd_kafka_topic_partition_list_add(list, topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
  }
  rd_kafka_assign(consumer, list);
  rd_kafka_topic_partition_list_destroy(list);
  size_t read = 0;
  auto deadline = std::chrono::steady_clock::now() + wait;
  while (read < expected && std::chrono::steady_clock::now() < deadline) {
    rd_kafka_message_t* message = rd_kafka_consumer_poll(consumer, 100);
    if (message == nullptr) continue;
    if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      std::string key(static_cast<const char*>(message->key), message->key_len);
      by_key[key].emplace_back(static_cast<const char*>(message->payload), message->len);
      if (create_times != nullptr) {
        rd_kafka_timestamp_type_t type = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE;
        const int64_t timestamp = rd_kafka_message_timestamp(message, &type);
        create_times->push_back(type == RD_KAFKA_TIMESTAMP_CREATE_TIME ? timestamp : -1);
      }
      ++read;
    }
    rd_kafka_message_destroy(message);
  }
  rd_kafka_consumer_close(consumer);
  rd_kafka_destroy(consumer);
  return by_key;
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

// Each transaction after the first starts with a record carrying the checkpoint already
// committed (it registers the offsets partition with the batch's partitions), then ends with
// the batch's own; the first transaction has no committed checkpoint to carry and writes none.
TEST(KafkaDestination, TransactionsStartWithTheCommittedCheckpoint) {
  auto started = MockCluster::Start(1);
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  MockCluster& cluster = **started;
  auto destination = MakeKafkaDestination(Spec(cluster.bootstrap()));
  ASSERT_TRUE(destination.ok()) << destination.status().ToString();
  ASSERT_TRUE((*destination)->Open().ok());
  ASSERT_TRUE((*destination)->ReadCheckpoint().ok());
  for (uint64_t first : {1, 11, 21}) {
    consume::DeliveryOutcome outcome = (*destination)->Deliver(Batch(first, 10));
    ASSERT_TRUE(outcome.failure.ok()) << outcome.failure.ToString();
  }
  ASSERT_TRUE((*destination)->Close().ok());
  auto records = ReadTopic(cluster.bootstrap(), "__eddy_offsets.shop.orders-kafka", 5);
  ASSERT_EQ(records.size(), 1u);  // one key: the sink's name
  const std::vector<std::string>& values = records["orders-kafka"];
  std::vector<uint64_t> next;
  for (const std::string& value : values) {
    auto decoded = consume::DecodeCheckpoint(value);
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    next.push_back(decoded->shards.at(0).next.value());
  }
  EXPECT_EQ(next, (std::vector<uint64_t>{11, 11, 21, 21, 31}));

  // Read back, the last one decides.
  auto again = MakeKafkaDestination(Spec(cluster.bootstrap()));
  ASSERT_TRUE((*again)->Open().ok());
  auto checkpoint = (*again)->ReadCheckpoint();
  ASSERT_TRUE(checkpoint.ok() && checkpoint->has_value());
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

// Large batches are mapped on two threads (the second half on a helper) and produced in
// chunks: every record arrives once, in order per key, in both modes; a record that does not
// decode in the helper's half acknowledges (at least once) exactly the records before it.
TEST(KafkaDestination, LargeBatchesArriveWholeAndInOrderPerKey) {
  auto started = MockCluster::Start(1);
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  MockCluster& cluster = **started;
  // Each batch rendered by the lane alone and in two halves (render_threads): the same records.
  for (const auto& [exactly_once, render_threads] :
       std::vector<std::pair<std::string, std::string>>{
           {"true", "1"}, {"false", "1"}, {"true", "2"}, {"false", "2"}}) {
    SCOPED_TRACE("exactly_once=" + exactly_once + " render_threads=" + render_threads);
    const std::string prefix = "large-" + exactly_once + "-" + render_threads;
    auto destination = MakeKafkaDestination(
        Spec(cluster.bootstrap(), {{"exactly_once", exactly_once},
                                   {"topic_prefix", prefix},
                                   {"render_threads", render_threads}}));
    ASSERT_TRUE(destination.ok()) << destination.status().ToString();
    ASSERT_TRUE((*destination)->Open().ok());
    ASSERT_TRUE((*destination)->ReadCheckpoint().ok());
    auto wall_ms = [] {
      return std::chrono::duration_cast<std::chrono::milliseconds>(
                 std::chrono::system_clock::now().time_since_epoch())
          .count();
    };
    const int64_t before_ms = wall_ms();
    for (uint64_t first : {uint64_t{1}, uint64_t{5001}}) {
      consume::DeliveryOutcome outcome = (*destination)->Deliver(Batch(first, 5000));
      ASSERT_TRUE(outcome.failure.ok()) << outcome.failure.ToString();
      EXPECT_EQ(outcome.acknowledged, 5000u);
    }
    const int64_t after_ms = wall_ms();
    std::vector<int64_t> create_times;
    auto by_key = ReadTopic(cluster.bootstrap(), prefix, 10000, &create_times);
    // Each record's timestamp is its CreateTime: when the sink produced it.
    ASSERT_EQ(create_times.size(), 10000u);
    for (int64_t create_time : create_times) {
      ASSERT_GE(create_time, before_ms);
      ASSERT_LE(create_time, after_ms);
    }
    size_t total = 0;
    for (const auto& [key, values] : by_key) {
      ASSERT_EQ(key.rfind("key-", 0), 0u) << key;
      uint64_t residue = std::stoull(key.substr(4));
      uint64_t expected = residue == 0 ? 7 : residue;  // the key's first record
      for (const std::string& value : values) {
        EXPECT_EQ(value, "{\"n\":" + std::to_string(expected) + "}") << key;
        expected += 7;
      }
      total += values.size();
    }
    EXPECT_EQ(total, 10000u);

    if (exactly_once == "false") {
      consume::SinkBatch bad = Batch(10001, 4000);
      bad.records[3500].stored_event = "not an encoded event";  // in the helper's half, if any
      consume::DeliveryOutcome outcome = (*destination)->Deliver(bad);
      EXPECT_EQ(outcome.acknowledged, 3500u);
      EXPECT_EQ(outcome.failure.code(), ErrorCode::kCorruption) << outcome.failure.ToString();
      // The runner reads only a row change's header: the sink names the record and the way
      // past it (a non-retriable error, so the sink goes FAILED with nothing after it).
      EXPECT_NE(outcome.failure.message().find("record "), std::string::npos)
          << outcome.failure.ToString();
      EXPECT_NE(outcome.failure.message().find("eddy sink reset --name "), std::string::npos)
          << outcome.failure.ToString();
      EXPECT_FALSE(outcome.failure.IsRetriable());
    } else {
      consume::SinkBatch bad = Batch(10001, 4000);
      bad.records[100].stored_event = "not an encoded event";  // in the lane's half
      consume::DeliveryOutcome outcome = (*destination)->Deliver(bad);
      EXPECT_EQ(outcome.acknowledged, 0u);  // the transaction is aborted
      EXPECT_EQ(outcome.failure.code(), ErrorCode::kCorruption) << outcome.failure.ToString();
      EXPECT_NE(outcome.failure.message().find("eddy sink reset --name "), std::string::npos)
          << outcome.failure.ToString();
      // The sink delivers again after the failed batch.
      outcome = (*destination)->Deliver(Batch(10001, 3000));
      EXPECT_TRUE(outcome.failure.ok()) << outcome.failure.ToString();
      EXPECT_EQ(outcome.acknowledged, 3000u);
    }
    ASSERT_TRUE((*destination)->Close().ok());
  }
}

// Records go to librdkafka in runs (one rd_kafka_produce_batch call each), but one that
// librdkafka refuses for its size stops the batch there: nothing after it goes out, as when
// every record was produced alone, whatever the user's kafka.message.max.bytes.
TEST(KafkaDestination, ARecordTooLargeStopsTheBatchAndNothingAfterItGoesOut) {
  auto started = MockCluster::Start(1);
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  MockCluster& cluster = **started;
  auto destination = MakeKafkaDestination(Spec(
      cluster.bootstrap(),
      {{"exactly_once", "false"}, {"topic_prefix", "size"}, {"kafka.message.max.bytes", "2000"}}));
  ASSERT_TRUE(destination.ok()) << destination.status().ToString();
  ASSERT_TRUE((*destination)->Open().ok());
  consume::SinkBatch batch = Batch(1, 10);
  batch.records[3].data = "{\"n\":\"" + std::string(3000, 'x') + "\"}";
  consume::DeliveryOutcome outcome = (*destination)->Deliver(batch);
  EXPECT_EQ(outcome.acknowledged, 3u);
  EXPECT_EQ(outcome.failure.code(), ErrorCode::kFailedPrecondition) << outcome.failure.ToString();
  EXPECT_NE(outcome.failure.message().find("max.message.bytes"), std::string::npos)
      << outcome.failure.ToString();
  // The next batch goes out; the topic then holds records 1-3 and 100, nothing else.
  outcome = (*destination)->Deliver(Batch(100, 1));
  ASSERT_TRUE(outcome.failure.ok()) << outcome.failure.ToString();
  auto by_key = ReadTopic(cluster.bootstrap(), "size", 5, nullptr, std::chrono::seconds(3));
  std::vector<std::string> values;
  for (const auto& [key, key_values] : by_key) {
    values.insert(values.end(), key_values.begin(), key_values.end());
  }
  std::sort(values.begin(), values.end());
  EXPECT_EQ(values, (std::vector<std::string>{"{\"n\":100}", "{\"n\":1}", "{\"n\":2}",
                                              "{\"n\":3}"}));  // in byte order
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
