#include "engine/sink_config.h"

#include <gtest/gtest.h>

#include "engine/config.h"

namespace eddy::engine {
namespace {

TEST(SinkConfigTest, SinkTablesCarryEveryOtherKeyAsASetting) {
  auto config = ParseConfig(R"(
data_dir = "/d"
[[stream]]
name = "orders"
[[sink]]
name = "hook"
stream = "orders"
url = "webhook+https://example.com/hook?format=debezium"
batch_size = 50
bisect_batch_on_function_error = true
max_batching_window = "5s"
[[sink]]
url = "webhook+http://127.0.0.1:9000/"
)",
                            "eddy.toml");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  ASSERT_EQ(config->sinks.size(), 2u);
  const consume::SinkSpec& hook = config->sinks[0];
  EXPECT_EQ(hook.name, "hook");
  EXPECT_EQ(hook.stream, "orders");
  EXPECT_EQ(hook.url, "webhook+https://example.com/hook");
  EXPECT_EQ(hook.settings.at("batch_size"), "50");
  EXPECT_EQ(hook.settings.at("bisect_batch_on_function_error"), "true");
  EXPECT_EQ(hook.settings.at("max_batching_window"), "5s");
  EXPECT_EQ(hook.settings.at("format"), "debezium");
  EXPECT_EQ(config->sinks[1].name, "webhook-http-2");
  EXPECT_TRUE(config->sinks[1].stream.empty());  // resolved against the streams later

  ConfigOverrides overrides;
  overrides.source_url = "postgresql://u@h/db";
  ASSERT_TRUE(ApplyOverrides(*config, overrides).ok());
  EXPECT_EQ(config->sinks[1].stream, "orders");
  EXPECT_TRUE(ValidateForRun(*config).ok());
}

TEST(SinkConfigTest, KafkaTypeBuildsTheUrlFromBootstrapServers) {
  auto config = ParseConfig(R"(
data_dir = "/d"
[[stream]]
name = "orders"
[[sink]]
type = "kafka"
bootstrap_servers = "k1:9092,k2:9092"
topic_prefix = "shop"
)",
                            "eddy.toml");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  ASSERT_EQ(config->sinks.size(), 1u);
  EXPECT_EQ(config->sinks[0].url, "kafka://k1:9092,k2:9092");
  EXPECT_EQ(config->sinks[0].name, "kafka-1");
  EXPECT_EQ(config->sinks[0].settings.count("type"), 0u);
  EXPECT_EQ(config->sinks[0].settings.count("bootstrap_servers"), 0u);
  EXPECT_EQ(config->sinks[0].settings.at("topic_prefix"), "shop");

  auto missing = ParseConfig("data_dir = \"/d\"\n[[sink]]\ntype = \"kafka\"\n", "eddy.toml");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("bootstrap_servers"), std::string::npos)
      << missing.status().message();
  auto unknown = ParseConfig("data_dir = \"/d\"\n[[sink]]\ntype = \"carrier-pigeon\"\n", "eddy.toml");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("not a sink type"), std::string::npos);
}

TEST(SinkConfigTest, OpenSearchTypeBuildsTheUrlFromTheEndpoint) {
  auto config = ParseConfig(R"(
data_dir = "/d"
[[stream]]
name = "orders"
[[sink]]
name = "search"
type = "opensearch"
endpoint = "https://search.internal:9200"
username = "eddy"
index = "shop-${table}"
)",
                            "eddy.toml");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  ASSERT_EQ(config->sinks.size(), 1u);
  EXPECT_EQ(config->sinks[0].url, "opensearch+https://search.internal:9200");
  EXPECT_EQ(config->sinks[0].settings.count("type"), 0u);
  EXPECT_EQ(config->sinks[0].settings.count("endpoint"), 0u);
  EXPECT_EQ(config->sinks[0].settings.at("username"), "eddy");

  auto missing =
      ParseConfig("data_dir = \"/d\"\n[[sink]]\ntype = \"opensearch\"\n", "eddy.toml");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("endpoint"), std::string::npos)
      << missing.status().message();
}

TEST(SinkConfigTest, SinkTableErrorsNameTheLineAndKey) {
  auto missing_url = ParseConfig("[[sink]]\nname = \"x\"\n", "eddy.toml");
  ASSERT_FALSE(missing_url.ok());
  EXPECT_NE(missing_url.status().message().find("eddy.toml line 1"), std::string::npos)
      << missing_url.status().message();
  EXPECT_NE(missing_url.status().message().find("'sink.url' is missing"), std::string::npos);

  auto nested =
      ParseConfig("[[sink]]\nurl = \"webhook+http://h/\"\nheaders = { a = \"b\" }\n", "eddy.toml");
  ASSERT_FALSE(nested.ok());
  EXPECT_NE(nested.status().message().find("'sink.headers'"), std::string::npos);

  auto twice = ParseConfig("[[sink]]\nurl = \"webhook+http://h/?batch_size=1\"\nbatch_size = 2\n",
                           "eddy.toml");
  ASSERT_FALSE(twice.ok());
  EXPECT_NE(twice.status().message().find("'batch_size' is given twice"), std::string::npos);
}

TEST(SinkConfigTest, SinkUrlQueryParametersAreSettings) {
  auto spec = ParseSinkUrl(
      "webhook+https://user:pw@example.com/hook?batch_size=10&name=orders-hook&stream=orders"
      "&header_Authorization=Bearer%20abc%2Bdef&filter=%7B%22data%22%3A1%7D",
      3);
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  EXPECT_EQ(spec->url, "webhook+https://user:pw@example.com/hook");
  EXPECT_EQ(spec->name, "orders-hook");
  EXPECT_EQ(spec->stream, "orders");
  EXPECT_EQ(spec->settings.at("batch_size"), "10");
  EXPECT_EQ(spec->settings.at("header_Authorization"), "Bearer abc+def");
  EXPECT_EQ(spec->settings.at("filter"), "{\"data\":1}");

  auto unnamed = ParseSinkUrl("webhook+http://127.0.0.1:9000/", 3);
  ASSERT_TRUE(unnamed.ok());
  EXPECT_EQ(unnamed->name, "webhook-http-3");
  EXPECT_TRUE(unnamed->settings.empty());

  auto bad_escape = ParseSinkUrl("webhook+http://h/?a=%zz", 1);
  ASSERT_FALSE(bad_escape.ok());
  EXPECT_NE(bad_escape.status().message().find("--sink 'webhook+http://h/'"), std::string::npos);
  EXPECT_FALSE(ParseSinkUrl("webhook+http://h/?novalue", 1).ok());
}

TEST(SinkConfigTest, KinesisUrlsKeepStreamAsTheTargetStream) {
  auto spec = ParseSinkUrl(
      "kinesis+https://kinesis.eu-west-1.amazonaws.com?stream=out&source_stream=orders", 1);
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  EXPECT_EQ(spec->url, "kinesis+https://kinesis.eu-west-1.amazonaws.com");
  EXPECT_EQ(spec->settings.at("stream"), "out");
  EXPECT_EQ(spec->stream, "orders");
  auto other = ParseSinkUrl("webhook+http://h/?source_stream=orders", 1);
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other->stream, "orders");
}

TEST(SinkConfigTest, ResolveChecksNamesStreamsAndSchemes) {
  std::vector<std::string> streams = {"a", "b"};
  auto resolve = [&](consume::SinkSpec spec) {
    std::vector<consume::SinkSpec> sinks = {std::move(spec)};
    return ResolveSinks(sinks, streams, true);
  };
  consume::SinkSpec spec;
  spec.name = "s";
  spec.url = "webhook+http://h/";
  Status no_stream = resolve(spec);
  ASSERT_FALSE(no_stream.ok());
  EXPECT_NE(no_stream.message().find("set stream = \"NAME\""), std::string::npos);
  spec.stream = "c";
  EXPECT_NE(resolve(spec).message().find("stream 'c' is not configured; configured streams: a, b"),
            std::string::npos);
  spec.stream = "a";
  EXPECT_TRUE(resolve(spec).ok());
  spec.name = "bad name";
  EXPECT_NE(resolve(spec).message().find("name must be"), std::string::npos);
  spec.name = "s";
  spec.url = "no-scheme";
  EXPECT_NE(resolve(spec).message().find("has no scheme"), std::string::npos);

  std::vector<consume::SinkSpec> duplicates(2);
  for (auto& sink : duplicates) {
    sink.name = "same";
    sink.stream = "a";
    sink.url = "webhook+http://h/";
  }
  EXPECT_NE(ResolveSinks(duplicates, streams, true).message().find("defined twice"),
            std::string::npos);
}

}  // namespace
}  // namespace eddy::engine
