#include "sink/kafka/kafka_settings.h"

#include <gtest/gtest.h>

namespace eddy::sink::kafka {
namespace {

consume::SinkSpec Spec(std::string url, std::map<std::string, std::string> settings = {}) {
  consume::SinkSpec spec;
  spec.name = "orders-kafka";
  spec.stream = "orders";
  spec.url = std::move(url);
  spec.settings = std::move(settings);
  return spec;
}

TEST(KafkaSettings, Defaults) {
  auto settings = ParseKafkaSettings(Spec("kafka://k1:9092,k2:9093", {{"topic_prefix", "shop"}}));
  ASSERT_TRUE(settings.ok()) << settings.status().ToString();
  EXPECT_EQ(settings->bootstrap_servers, "k1:9092,k2:9093");
  EXPECT_EQ(settings->topic_prefix, "shop");
  EXPECT_TRUE(settings->exactly_once);
  EXPECT_TRUE(settings->tombstones_on_delete);
  EXPECT_EQ(settings->transactional_id, "eddy.shop.orders-kafka");
  EXPECT_EQ(settings->offsets_topic, "__eddy_offsets.shop.orders-kafka");
  EXPECT_EQ(settings->schema_change_topic, "shop");
  EXPECT_EQ(settings->transaction_topic, "shop.transaction");
  EXPECT_EQ(settings->heartbeat_topic, "__debezium-heartbeat.shop");
  EXPECT_EQ(settings->format, "debezium-schema");
  EXPECT_FALSE(settings->partitions.has_value());
  EXPECT_EQ(settings->skipped_operations, "t");  // Debezium's default
  EXPECT_EQ(settings->render_threads, RenderThreads::kAuto);
}

TEST(KafkaSettings, EverySetting) {
  auto settings = ParseKafkaSettings(Spec(
      "kafka://127.0.0.1:1/", {{"topic_prefix", "p"},
                               {"topic", "{prefix}.all"},
                               {"message.key.columns", "public.orders:customer_id,id;inv\\..*:sku"},
                               {"tombstones_on_delete", "false"},
                               {"exactly_once", "false"},
                               {"partitions", "6"},
                               {"replication_factor", "3"},
                               {"delivery_timeout", "5s"},
                               {"render_threads", "2"},
                               {"kafka.compression.type", "lz4"},
                               {"batch_size", "500"},
                               {"format", "debezium"},
                               {"skipped.operations", "u, d"}}));
  ASSERT_TRUE(settings.ok()) << settings.status().ToString();
  EXPECT_EQ(settings->bootstrap_servers, "127.0.0.1:1");
  EXPECT_EQ(settings->topic_template, "{prefix}.all");
  ASSERT_EQ(settings->key_columns.size(), 2u);
  EXPECT_EQ(settings->key_columns[0].columns, (std::vector<std::string>{"customer_id", "id"}));
  EXPECT_EQ(settings->key_columns[1].table_text, "inv\\..*");
  EXPECT_FALSE(settings->tombstones_on_delete);
  EXPECT_FALSE(settings->exactly_once);
  EXPECT_EQ(settings->partitions, 6);
  EXPECT_EQ(settings->replication_factor, 3);
  EXPECT_EQ(settings->delivery_timeout.count(), 5000);
  EXPECT_EQ(settings->render_threads, RenderThreads::kTwo);
  ASSERT_EQ(settings->librdkafka.size(), 1u);
  EXPECT_EQ(settings->librdkafka[0].first, "compression.type");
  EXPECT_EQ(settings->format, "debezium");
  EXPECT_EQ(settings->skipped_operations, "ud");
}

void ExpectError(const consume::SinkSpec& spec, std::string_view needle) {
  auto settings = ParseKafkaSettings(spec);
  ASSERT_FALSE(settings.ok()) << "accepted " << spec.url;
  EXPECT_EQ(settings.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(settings.status().message().find(needle), std::string::npos)
      << settings.status().message();
}

TEST(KafkaSettings, BadInputIsNamed) {
  ExpectError(Spec("kafka://k:9092"), "topic_prefix' is missing");
  ExpectError(Spec("kafka://", {{"topic_prefix", "p"}}), "no broker");
  ExpectError(Spec("kafka://k", {{"topic_prefix", "p"}}), "is not HOST:PORT");
  ExpectError(Spec("kafka://k:99999", {{"topic_prefix", "p"}}), "1 to 65535");
  ExpectError(Spec("kafka://u:p@k:1", {{"topic_prefix", "p"}}), "kafka.sasl.username");
  ExpectError(Spec("kafka://k:1", {{"topic_prefix", "bad prefix"}}), "topic_prefix");
  ExpectError(Spec("kafka://k:1", {{"topic_prefix", "p"}, {"topic", "a b"}}), "placeholders");
  ExpectError(Spec("kafka://k:1", {{"topic_prefix", "p"}, {"exactly_once", "yes"}}),
              "true or false");
  ExpectError(Spec("kafka://k:1", {{"topic_prefix", "p"}, {"partitions", "0"}}), "partitions");
  ExpectError(Spec("kafka://k:1", {{"topic_prefix", "p"}, {"message.key.columns", "t"}}),
              "TABLE:COLUMN");
  ExpectError(Spec("kafka://k:1", {{"topic_prefix", "p"}, {"message.key.columns", "(:a"}}),
              "not a regular expression");
  ExpectError(Spec("kafka://k:1", {{"topic_prefix", "p"}, {"kafka.transactional.id", "x"}}),
              "sets this librdkafka property itself");
  ExpectError(Spec("kafka://k:1", {{"topic_prefix", "p"}, {"parallelization_factor", "2"}}),
              "commits one batch at a time in order");
  ExpectError(Spec("kafka://k:1", {{"topic_prefix", "p"}, {"colour", "red"}}),
              "unknown kafka setting 'colour'");
  ExpectError(Spec("kafka://k:1", {{"topic_prefix", "p"}, {"skipped.operations", "x"}}),
              "c, u, d, t, or none");
  ExpectError(Spec("kafka://k:1", {{"topic_prefix", "p"}, {"delivery_timeout", "1ms"}}),
              "delivery_timeout");
  ExpectError(Spec("kafka://k:1", {{"topic_prefix", "p"}, {"render_threads", "3"}}),
              "use auto (two threads where the machine has three cores or more), 1 or 2");
}

TEST(KafkaSettings, SanitizesTopicNamesAsDebezium) {
  EXPECT_EQ(SanitizeTopicName("shop.public.order items$"), "shop.public.order_items_");
  EXPECT_EQ(SanitizeTopicName("a-b_c.D9"), "a-b_c.D9");
  EXPECT_EQ(SanitizeTopicName(std::string(300, 'x')).size(), 249u);
}

}  // namespace
}  // namespace eddy::sink::kafka
