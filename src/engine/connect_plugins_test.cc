#include "engine/connect_plugins.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include "engine/debezium_config.h"

namespace eddy::engine {
namespace {

constexpr const char* kPostgres = "io.debezium.connector.postgresql.PostgresConnector";

TEST(ConnectPlugins, ResolvesClassSimpleNameAndAlias) {
  EXPECT_EQ(ResolveConnectPlugin(kPostgres), kPostgres);
  EXPECT_EQ(ResolveConnectPlugin("PostgresConnector"), kPostgres);
  EXPECT_EQ(ResolveConnectPlugin("Postgres"), kPostgres);
  EXPECT_EQ(ResolveConnectPlugin("MySqlConnector"), "io.debezium.connector.mysql.MySqlConnector");
  EXPECT_FALSE(ResolveConnectPlugin("FileStreamSource"));
}

// Each property's errors in a ConfigInfos body.
std::map<std::string, std::vector<std::string>> Errors(const std::string& body, int* count,
                                                       std::string* name = nullptr) {
  simdjson::dom::parser parser;
  simdjson::dom::element root = parser.parse(body);
  *count = static_cast<int>(int64_t(root["error_count"]));
  if (name != nullptr) *name = std::string(std::string_view(root["name"]));
  std::map<std::string, std::vector<std::string>> errors;
  for (auto config : root["configs"].get_array()) {
    std::string key{std::string_view(config["value"]["name"])};
    EXPECT_EQ(key, std::string_view(config["definition"]["name"]));
    auto& list = errors[key];
    for (auto error : config["value"]["errors"].get_array()) {
      list.emplace_back(std::string_view(error));
    }
  }
  return errors;
}

TEST(ConnectPlugins, ValidationGivesPostsErrorsPerProperty) {
  std::string config = R"({"connector.class": "io.debezium.connector.postgresql.PostgresConnector",
    "name": "inventory", "database.hostname": "db", "topic.prefix": "shop",
    "snapshot.mode": "bogus", "transforms": "unwrap", "heartbeat.interval.ms": "5",
    "database.password": "secret"})";
  ConnectValidation validation = ValidateConnectConfig("PostgresConnector", kPostgres, config, "");
  ASSERT_EQ(validation.status, 200) << validation.message;
  int count = 0;
  std::string name;
  auto errors = Errors(validation.body, &count, &name);
  EXPECT_EQ(name, kPostgres);
  EXPECT_EQ(count, 3);
  ASSERT_EQ(errors["transforms"].size(), 1u);
  ASSERT_EQ(errors["snapshot.mode"].size(), 1u);
  ASSERT_EQ(errors["heartbeat.interval.ms"].size(), 1u);
  EXPECT_TRUE(errors["database.hostname"].empty());
  // The first error is the one POST /connectors gives.
  auto posted = MapDebeziumConnector(R"({"name":"inventory","config":)" + config + "}",
                                     "connector 'inventory'", "", false);
  ASSERT_FALSE(posted.ok());
  EXPECT_EQ(errors["transforms"].front(), posted.status().message());
  EXPECT_NE(validation.body.find("\"[hidden]\""), std::string::npos);  // the password
  EXPECT_EQ(validation.body.find("secret"), std::string::npos);

  // A good configuration has no error, and a missing name is one.
  ConnectValidation good = ValidateConnectConfig(
      "Postgres", kPostgres,
      R"({"connector.class": "io.debezium.connector.postgresql.PostgresConnector",
          "database.hostname": "db", "topic.prefix": "shop"})",
      "");
  ASSERT_EQ(good.status, 200);
  errors = Errors(good.body, &count);
  EXPECT_EQ(count, 1);
  ASSERT_EQ(errors["name"].size(), 1u);
}

TEST(ConnectPlugins, BadBodiesAndOtherClassesAre400) {
  EXPECT_EQ(ValidateConnectConfig("Postgres", kPostgres, "[1]", "").status, 400);
  EXPECT_EQ(ValidateConnectConfig("Postgres", kPostgres, "{", "").status, 400);
  EXPECT_EQ(ValidateConnectConfig("Postgres", kPostgres, R"({"name":"x"})", "").status, 400);
  ConnectValidation other = ValidateConnectConfig(
      "Postgres", kPostgres, R"({"connector.class": "io.debezium.connector.mysql.MySqlConnector"})",
      "");
  EXPECT_EQ(other.status, 400);
  EXPECT_NE(other.message.find("does not match request type Postgres"), std::string::npos)
      << other.message;
}

TEST(ConnectPlugins, PluginConfigListsDefinitions) {
  simdjson::dom::parser parser;
  std::string text = ConnectPluginConfigJson(kPostgres);
  simdjson::dom::element root = parser.parse(text);
  bool slot = false, server_id = false;
  for (auto definition : root.get_array()) {
    std::string_view name = definition["name"];
    slot = slot || name == "slot.name";
    server_id = server_id || name == "database.server.id";
    for (const char* field : {"type", "required", "default_value", "importance", "documentation",
                              "group", "width", "display_name", "dependents", "order"}) {
      EXPECT_FALSE(definition[field].error()) << name << " " << field;
    }
  }
  EXPECT_TRUE(slot);
  EXPECT_FALSE(server_id);  // MySQL's
}

}  // namespace
}  // namespace eddy::engine
