#include "engine/debezium_config.h"

#include <gtest/gtest.h>

namespace eddy::engine {
namespace {

constexpr std::string_view kPostgres = R"({
  "name": "inventory-connector",
  "config": {
    "connector.class": "io.debezium.connector.postgresql.PostgresConnector",
    "tasks.max": "1",
    "database.hostname": "db.example.com",
    "database.port": "5432",
    "database.user": "debezium",
    "database.password": "p@ss word",
    "database.dbname": "inventory",
    "topic.prefix": "fulfillment",
    "table.include.list": "public.orders,public\\.customers,inv.*",
    "column.exclude.list": "public.customers.ssn",
    "column.mask.with.4.chars": "public.customers.email",
    "message.key.columns": "public.orders:customer_id,id",
    "tombstones.on.delete": "false",
    "provide.transaction.metadata": "true",
    "heartbeat.interval.ms": 5000,
    "snapshot.mode": "never",
    "skipped.operations": "none",
    "slot.name": "dbz",
    "publication.name": "dbz_pub",
    "plugin.name": "pgoutput"
  }
})";

TEST(DebeziumConfig, MapsAPostgresConnector) {
  auto config = MapDebeziumConnector(kPostgres, "c.json", "k1:9092,k2:9092");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->source.url,
            "postgresql://debezium:p%40ss%20word@db.example.com:5432/inventory");
  EXPECT_EQ(config->source.slot_name, "dbz");
  EXPECT_EQ(config->source.publication_name, "dbz_pub");
  EXPECT_EQ(config->source.snapshot_mode, "no_data");
  ASSERT_EQ(config->streams.size(), 1u);
  const StreamConfig& stream = config->streams[0];
  EXPECT_EQ(stream.name, "fulfillment");
  EXPECT_EQ(stream.tables, (std::vector<std::string>{"public.orders", "public.customers", "inv*"}));
  EXPECT_EQ(stream.exclude_columns, (std::vector<std::string>{"public.customers.ssn"}));
  ASSERT_EQ(stream.masks.size(), 1u);
  EXPECT_EQ(stream.masks[0].columns, "public.customers.email");
  EXPECT_EQ(stream.masks[0].length, 4u);
  EXPECT_TRUE(stream.transaction_metadata);
  EXPECT_EQ(stream.heartbeat_interval_ms, 5000);
  ASSERT_EQ(config->sinks.size(), 1u);
  const consume::SinkSpec& sink = config->sinks[0];
  EXPECT_EQ(sink.name, "inventory-connector");
  EXPECT_EQ(sink.url, "kafka://k1:9092,k2:9092");
  EXPECT_EQ(sink.settings.at("topic_prefix"), "fulfillment");
  EXPECT_EQ(sink.settings.at("format"), "debezium-schema");
  EXPECT_EQ(sink.settings.at("message.key.columns"), "public.orders:customer_id,id");
  EXPECT_EQ(sink.settings.at("tombstones_on_delete"), "false");
  EXPECT_EQ(sink.settings.at("skipped.operations"), "none");
}

TEST(DebeziumConfig, MysqlFromABareConfigMap) {
  auto config = MapDebeziumConnector(R"({
    "connector.class": "io.debezium.connector.mysql.MySqlConnector",
    "database.hostname": "my", "database.port": "3306", "database.user": "u",
    "database.include.list": "shop", "database.server.id": "184054",
    "topic.prefix": "shop", "value.converter.schemas.enable": "false"})",
                                     "c.json", "k:9092");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->source.url, "mysql://u@my:3306/shop");
  EXPECT_EQ(config->source.server_id, 184054u);
  EXPECT_EQ(config->sinks[0].settings.at("format"), "debezium");
  EXPECT_EQ(config->sinks[0].name, "debezium");
}

TEST(DebeziumConfig, NamesEveryUnsupportedProperty) {
  auto config = MapDebeziumConnector(R"({"connector.class":
      "io.debezium.connector.postgresql.PostgresConnector", "database.hostname": "h",
      "topic.prefix": "p", "decimal.handling.mode": "string", "transforms": "unwrap"})",
                                     "c.json", "k:9092");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(config.status().message().find("decimal.handling.mode, transforms"), std::string::npos)
      << config.status().message();
}

TEST(DebeziumConfig, BadValuesAreNamed) {
  auto expect = [](std::string_view json, std::string_view needle,
                   std::string_view bootstrap = "k:1") {
    auto config = MapDebeziumConnector(json, "c.json", bootstrap);
    ASSERT_FALSE(config.ok()) << json;
    EXPECT_NE(config.status().message().find(needle), std::string::npos)
        << config.status().message();
  };
  expect("[1]", "not a JSON object");
  expect(R"({"connector.class": "io.debezium.connector.oracle.OracleConnector"})",
         "connector.class");
  expect(R"({"connector.class": "io.debezium.connector.postgresql.PostgresConnector",
             "database.hostname": "h"})",
         "topic.prefix");
  expect(R"({"connector.class": "io.debezium.connector.postgresql.PostgresConnector",
             "database.hostname": "h", "topic.prefix": "p", "plugin.name": "decoderbufs"})",
         "pgoutput");
  expect(R"({"connector.class": "io.debezium.connector.postgresql.PostgresConnector",
             "database.hostname": "h", "topic.prefix": "p", "table.include.list": "public.[ab]"})",
         "regular-expression syntax");
  expect(R"({"connector.class": "io.debezium.connector.postgresql.PostgresConnector",
             "database.hostname": "h", "topic.prefix": "p"})",
         "--kafka-bootstrap", "");
}

}  // namespace
}  // namespace eddy::engine
