#include "monitor/client_commands.h"

#include <gtest/gtest.h>

namespace eddy::monitor {
namespace {

std::vector<std::string> Commands(const std::vector<ClientCommand>& all, std::string_view client) {
  std::vector<std::string> out;
  for (const auto& command : all) {
    if (command.client == client) out.push_back(command.command);
  }
  return out;
}

TEST(ClientCommands, AwsAndBoto3NameTheEndpointRegionAndStream) {
  StreamClientsInput input{"http://127.0.0.1:4567", "us-east-1", "orders", {}, {}};
  auto all = StreamClientCommands(input);
  auto aws = Commands(all, "aws");
  ASSERT_EQ(aws.size(), 2u);
  EXPECT_EQ(aws[0],
            "aws --endpoint-url 'http://127.0.0.1:4567' --region 'us-east-1' kinesis list-shards "
            "--stream-name 'orders'");
  EXPECT_NE(aws[1].find("get-shard-iterator --stream-name 'orders' --shard-id \"$shard\" "
                        "--shard-iterator-type TRIM_HORIZON"),
            std::string::npos)
      << aws[1];
  auto boto3 = Commands(all, "boto3");
  ASSERT_EQ(boto3.size(), 1u);
  EXPECT_NE(boto3[0].find("endpoint_url=\"http://127.0.0.1:4567\""), std::string::npos);
  EXPECT_NE(boto3[0].find("stream = \"orders\""), std::string::npos);
  EXPECT_TRUE(Commands(all, "kcat").empty());  // no Kafka sink publishes it
}

TEST(ClientCommands, KcatPerTableTopicAndPattern) {
  KafkaPublisher kafka =
      KafkaPublisherOf("to-kafka", "kafka://k1:9092,k2:9092?topic_prefix=shop", {});
  EXPECT_EQ(kafka.bootstrap_servers, "k1:9092,k2:9092");
  EXPECT_EQ(kafka.topic_prefix, "shop");
  StreamClientsInput input{"http://h:1", "r", "orders", {"public.orders"}, {kafka}};
  auto kcat = Commands(StreamClientCommands(input), "kcat");
  ASSERT_EQ(kcat.size(), 2u);
  EXPECT_EQ(kcat[0], "kcat -L -b 'k1:9092,k2:9092'");
  EXPECT_EQ(kcat[1],
            "kcat -C -b 'k1:9092,k2:9092' -o beginning -e -q -X isolation.level=read_committed "
            "-t 'shop.public.orders'");
  input.tables.clear();
  kcat = Commands(StreamClientCommands(input), "kcat");
  ASSERT_EQ(kcat.size(), 2u);
  EXPECT_NE(kcat[1].find("-G eddy-console"), std::string::npos);
  EXPECT_NE(kcat[1].find("'^shop\\..*'"), std::string::npos) << kcat[1];

  // One topic for every table; settings win over the URL.
  kafka = KafkaPublisherOf(
      "k", "kafka://ignored:1",
      {{"bootstrap_servers", "b:9092"}, {"topic_prefix", "p"}, {"topic", "{prefix}-all"}});
  input.kafka = {kafka};
  kcat = Commands(StreamClientCommands(input), "kcat");
  ASSERT_EQ(kcat.size(), 1u);
  EXPECT_NE(kcat[0].find("-b 'b:9092'"), std::string::npos);
  EXPECT_NE(kcat[0].find("-t 'p-all'"), std::string::npos) << kcat[0];
}

TEST(ClientCommands, QuotesForTheShell) {
  EXPECT_EQ(ShellQuote("it's"), "'it'\\''s'");
  StreamClientsInput input{"http://h:1", "r", "a'b", {}, {}};
  auto aws = Commands(StreamClientCommands(input), "aws");
  EXPECT_NE(aws[0].find("--stream-name 'a'\\''b'"), std::string::npos);
}

}  // namespace
}  // namespace eddy::monitor
