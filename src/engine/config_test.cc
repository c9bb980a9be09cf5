#include "engine/config.h"

#include <gtest/gtest.h>

namespace eddy::engine {
namespace {

TEST(ConfigTest, ParsesAFullFile) {
  auto config = ParseConfig(R"(
data_dir = "/var/lib/eddy"
[source]
url = "postgresql://eddy:secret@127.0.0.1:5432/shop"
slot_name = "shop_slot"
snapshot_mode = "when_needed"
[[stream]]
name = "orders"
format = "debezium"
view_type = "NEW_IMAGE"
tables = ["public.orders", "public.items"]
shards = 8
[[stream]]
name = "audit"
ordering = "ORDERED"
shards = 1
[api]
listen = "127.0.0.1:0"
[log]
level = "debug"
format = "json"
)", "eddy.toml");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->data_dir, "/var/lib/eddy");
  EXPECT_EQ(config->source.slot_name, "shop_slot");
  EXPECT_EQ(config->source.publication_name, "eddy");
  ASSERT_EQ(config->streams.size(), 2u);
  EXPECT_EQ(config->streams[0].tables.size(), 2u);
  EXPECT_EQ(config->streams[0].shards, 8u);
  EXPECT_EQ(config->streams[1].ordering, "ORDERED");
  EXPECT_EQ(config->logging.format, "json");
  EXPECT_TRUE(ValidateForRun(*config).ok()) << ValidateForRun(*config).ToString();
}

TEST(ConfigTest, UnknownKeyIsNamedWithLineAndSuggestion) {
  auto config = ParseConfig("data_dir = \"/x\"\n[[stream]]\nname = \"a\"\nsahrds = 3\n", "eddy.toml");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(config.status().message(),
            "eddy.toml line 4: unknown key 'stream.sahrds'; did you mean 'stream.shards'?");
}

TEST(ConfigTest, WrongTypeAndRangeNameTheKeyAndLine) {
  auto wrong_type = ParseConfig("[[stream]]\nname = \"a\"\nshards = \"four\"\n", "c.toml");
  ASSERT_FALSE(wrong_type.ok());
  EXPECT_EQ(wrong_type.status().message(),
            "c.toml line 3: 'stream.shards' must be an integer (without quotes)");
  auto out_of_range = ParseConfig("[[stream]]\nname = \"a\"\nshards = 0\n", "c.toml");
  ASSERT_FALSE(out_of_range.ok());
  EXPECT_EQ(out_of_range.status().message(),
            "c.toml line 3: 'stream.shards' is 0; it must be between 1 and 1024");
  auto bad_enum = ParseConfig("[source]\nsnapshot_mode = \"sometimes\"\n", "c.toml");
  ASSERT_FALSE(bad_enum.ok());
  EXPECT_NE(bad_enum.status().message().find("allowed values: initial initial_only"), std::string::npos)
      << bad_enum.status().message();
}

TEST(ConfigTest, AlertsTable) {
  auto config = ParseConfig(
      "[alerts]\nsink_lag_seconds = 1.5\nslot_lag_bytes = 1048576\nwal_status = false\n"
      "webhook_url = \"http://127.0.0.1:9/alerts\"\nsample_interval = \"1s\"\n",
      "c.toml");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->alerts.sink_lag_seconds, 1.5);
  EXPECT_EQ(config->alerts.slot_lag_bytes, 1048576);
  EXPECT_FALSE(config->alerts.wal_status);
  EXPECT_EQ(config->alerts.webhook_url, "http://127.0.0.1:9/alerts");
  EXPECT_EQ(config->alerts.sample_interval, std::chrono::seconds(1));
  EXPECT_EQ(ParseConfig("data_dir = \"/x\"\n", "c.toml")->alerts.sink_lag_seconds, 300);

  auto bad = ParseConfig("[alerts]\nsink_lag_seconds = -2\n", "c.toml");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("c.toml line 2: alerts setting 'sink_lag_seconds' is"),
            std::string::npos)
      << bad.status().message();
  bad = ParseConfig("[alerts]\nsink_lag = 2\n", "c.toml");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("unknown alerts setting 'sink_lag'"), std::string::npos)
      << bad.status().message();
  bad = ParseConfig("[alerts]\nsink_failed = [true]\n", "c.toml");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("'alerts.sink_failed' must be a number, a boolean or a"),
            std::string::npos)
      << bad.status().message();
}

TEST(ConfigTest, SnapshotSettings) {
  auto config = ParseConfig(
      "[source]\nsnapshot_type = \"incremental\"\nsnapshot_chunk_size = 500\n"
      "signal_table = \"public.eddy_signal\"\nwatermark_table = \"shop.eddy_watermark\"\n",
      "c.toml");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->source.watermark_table, "shop.eddy_watermark");
  EXPECT_EQ(config->source.snapshot_parallelism, 1u);
  auto parallel = ParseConfig("[source]\nsnapshot_parallelism = 4\n", "c.toml");
  ASSERT_TRUE(parallel.ok()) << parallel.status().ToString();
  EXPECT_EQ(parallel->source.snapshot_parallelism, 4u);
  EXPECT_FALSE(ParseConfig("[source]\nsnapshot_parallelism = 0\n", "c.toml").ok());
  EXPECT_EQ(config->source.snapshot_type, "incremental");
  EXPECT_EQ(config->source.snapshot_chunk_size, 500u);
  EXPECT_EQ(config->source.signal_table, "public.eddy_signal");
  auto defaults = ParseConfig("[source]\n", "c.toml");
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->source.snapshot_type, "blocking");
  auto bad_type = ParseConfig("[source]\nsnapshot_type = \"parallel\"\n", "c.toml");
  ASSERT_FALSE(bad_type.ok());
  EXPECT_NE(bad_type.status().message().find("blocking incremental"), std::string::npos)
      << bad_type.status().message();
  auto bad_chunk = ParseConfig("[source]\nsnapshot_chunk_size = 0\n", "c.toml");
  ASSERT_FALSE(bad_chunk.ok());
  EXPECT_NE(bad_chunk.status().message().find("snapshot_chunk_size"), std::string::npos);
}

TEST(ConfigTest, SyntaxErrorsGiveLineAndColumn) {
  auto config = ParseConfig("data_dir = \"/x\"\n[source\n", "broken.toml");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().message().rfind("broken.toml line 2 column", 0), 0u)
      << config.status().message();
}

TEST(ConfigTest, FlagsOverrideTheFile) {
  auto config = ParseConfig("data_dir = \"/x\"\n[[stream]]\nname = \"a\"\nshards = 2\n", "c.toml");
  ASSERT_TRUE(config.ok());
  ConfigOverrides overrides;
  overrides.source_url = "mysql://root@127.0.0.1:3306/shop";
  overrides.shards = 6;
  overrides.tables = "shop.orders, shop.items";
  ASSERT_TRUE(ApplyOverrides(*config, overrides).ok());
  EXPECT_EQ(config->source.url, "mysql://root@127.0.0.1:3306/shop");
  EXPECT_EQ(config->streams[0].shards, 6u);
  EXPECT_EQ(config->streams[0].tables, (std::vector<std::string>{"shop.orders", "shop.items"}));

  ConfigOverrides new_stream;
  new_stream.stream_name = "b";
  new_stream.format = "dms";
  ASSERT_TRUE(ApplyOverrides(*config, new_stream).ok());
  ASSERT_EQ(config->streams.size(), 2u);
  EXPECT_EQ(config->streams[1].format, "dms");

  ConfigOverrides ambiguous;
  ambiguous.format = "native";
  EXPECT_FALSE(ApplyOverrides(*config, ambiguous).ok());
}

TEST(ConfigTest, ValidationExplainsWhatIsMissing) {
  EngineConfig config;
  EXPECT_NE(ValidateForRun(config).message().find("--source"), std::string::npos);
  config.source.url = "postgresql://x@y/z";
  EXPECT_NE(ValidateForRun(config).message().find("--data-dir"), std::string::npos);
  config.data_dir = "/tmp/x";
  EXPECT_NE(ValidateForRun(config).message().find("--stream"), std::string::npos);
  config.streams.emplace_back();
  config.streams[0].name = "bad name";
  EXPECT_NE(ValidateForRun(config).message().find("name must be"), std::string::npos);
  config.streams[0].name = "good";
  config.streams[0].ordering = "ORDERED";
  EXPECT_NE(ValidateForRun(config).message().find("shards = 1"), std::string::npos);
  config.streams[0].shards = 1;
  config.streams[0].tables = {"orders"};
  EXPECT_NE(ValidateForRun(config).message().find("schema.table"), std::string::npos);
  config.streams[0].tables = {"public.orders"};
  EXPECT_TRUE(ValidateForRun(config).ok());
}

TEST(ConfigTest, ListenAddresses) {
  EXPECT_EQ(ParseListenAddress("127.0.0.1:4567")->second, 4567);
  EXPECT_EQ(ParseListenAddress("[::1]:80")->first, "::1");
  EXPECT_FALSE(ParseListenAddress("127.0.0.1").ok());
  EXPECT_FALSE(ParseListenAddress("127.0.0.1:99999").ok());
  EXPECT_FALSE(ParseListenAddress(":80").ok());
}

TEST(ConfigTest, TlsCertificateAndKeyGoTogether) {
  auto both = ParseConfig(
      "[api]\ntls_cert = \"/etc/eddy/cert.pem\"\ntls_key = \"/etc/eddy/key.pem\"\n", "c.toml");
  ASSERT_TRUE(both.ok()) << both.status().ToString();
  EXPECT_EQ(both->api.tls_cert, "/etc/eddy/cert.pem");
  EXPECT_EQ(both->api.tls_key, "/etc/eddy/key.pem");

  auto plain = ParseConfig("[api]\nlisten = \"127.0.0.1:0\"\n", "c.toml");
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  EXPECT_TRUE(plain->api.tls_cert.empty());

  auto only_cert = ParseConfig("[api]\ntls_cert = \"/etc/eddy/cert.pem\"\n", "c.toml");
  ASSERT_FALSE(only_cert.ok());
  EXPECT_NE(only_cert.status().message().find("'api.tls_cert' and 'api.tls_key' go together"),
            std::string::npos)
      << only_cert.status().ToString();
}

TEST(ConfigTest, AdminTokenIsAnApiSetting) {
  auto config = ParseConfig("[api]\nadmin_token = \"s3cret\"\n", "c.toml");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->api.admin_token, "s3cret");
  auto none = ParseConfig("[api]\nlisten = \"127.0.0.1:0\"\n", "c.toml");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->api.admin_token.empty());
  auto wrong = ParseConfig("[api]\nadmin_token = 5\n", "c.toml");
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.status().message().find("admin_token"), std::string::npos)
      << wrong.status().ToString();
}

TEST(ConfigTest, SigV4CredentialsGoTogether) {
  const std::string base =
      "data_dir = \"/x\"\n[[source]]\nname = \"s\"\nurl = \"postgresql://h/db\"\n";
  auto both =
      ParseConfig(base + "[api]\naccess_key_id = \"AKID\"\nsecret_access_key = \"k\"\n", "c.toml");
  ASSERT_TRUE(both.ok()) << both.status().ToString();
  EXPECT_EQ(both->api.access_key_id, "AKID");
  EXPECT_EQ(both->api.secret_access_key, "k");
  EXPECT_TRUE(ValidateForRun(*both).ok());
  auto one = ParseConfig(base + "[api]\naccess_key_id = \"AKID\"\n", "c.toml");
  ASSERT_TRUE(one.ok()) << one.status().ToString();
  Status refused = ValidateForRun(*one);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.message().find("secret_access_key"), std::string::npos) << refused.ToString();
}

TEST(ConfigTest, DsqlKinesisEndpointIsAnHttpUrl) {
  auto good = ParseConfig("[dsql]\nkinesis_endpoint = \"http://127.0.0.1:4568\"\n", "c.toml");
  ASSERT_TRUE(good.ok()) << good.status().ToString();
  EXPECT_EQ(good->dsql.kinesis_endpoint, "http://127.0.0.1:4568");
  for (const char* bad : {"kinesis.eu-west-1.amazonaws.com", "http://h:1?stream=x"}) {
    auto refused =
        ParseConfig(std::string("[dsql]\nkinesis_endpoint = \"") + bad + "\"\n", "c.toml");
    ASSERT_FALSE(refused.ok()) << bad;
    EXPECT_NE(refused.status().message().find("dsql.kinesis_endpoint"), std::string::npos)
        << refused.status().ToString();
  }
  EXPECT_FALSE(ParseConfig("[dsql]\nendpoint = \"http://h:1\"\n", "c.toml").ok());
}

TEST(ConfigTest, MetricsListenFromEitherTableOrTheCommandLine) {
  auto metrics = ParseConfig("[metrics]\nlisten = \"127.0.0.1:9464\"\n", "c.toml");
  ASSERT_TRUE(metrics.ok()) << metrics.status().ToString();
  EXPECT_EQ(metrics->metrics.listen, "127.0.0.1:9464");
  auto api = ParseConfig("[api]\nmetrics_listen = \"0.0.0.0:9465\"\n", "c.toml");
  ASSERT_TRUE(api.ok()) << api.status().ToString();
  EXPECT_EQ(api->metrics.listen, "0.0.0.0:9465");
  EXPECT_TRUE(ParseConfig("", "c.toml")->metrics.listen.empty());

  auto both = ParseConfig(
      "[api]\nmetrics_listen = \"127.0.0.1:1\"\n[metrics]\nlisten = \"127.0.0.1:2\"\n", "c.toml");
  ASSERT_FALSE(both.ok());
  EXPECT_NE(both.status().message().find("name the same setting"), std::string::npos)
      << both.status().message();
  auto bad = ParseConfig("[metrics]\nlisten = \"nonsense\"\n", "c.toml");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("'metrics.listen'"), std::string::npos)
      << bad.status().message();

  EngineConfig config;
  ConfigOverrides overrides;
  overrides.metrics_listen = "127.0.0.1:0";
  ASSERT_TRUE(ApplyOverrides(config, overrides).ok());
  EXPECT_EQ(config.metrics.listen, "127.0.0.1:0");
  overrides.metrics_listen = "no-port";
  Status rejected = ApplyOverrides(config, overrides);
  EXPECT_NE(rejected.message().find("--metrics-listen"), std::string::npos) << rejected.message();
}

TEST(Config, SeveralNamedSourcesEachStreamNamingOne) {
  auto config = ParseConfig(R"(
data_dir = "/tmp/x"
[[source]]
name = "pg"
url = "postgresql://u@127.0.0.1/db"
slot_name = "pg_slot"
[[source]]
name = "maria"
url = "mariadb://root@127.0.0.1:3306/shop"
server_id = 77
[[stream]]
name = "orders"
source = "pg"
[[stream]]
name = "items"
source = "maria"
)",
                            "multi.toml");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  ASSERT_EQ(config->sources.size(), 2u);
  EXPECT_EQ(config->sources[0].slot_name, "pg_slot");
  EXPECT_EQ(config->sources[1].server_id, 77u);
  EXPECT_TRUE(ValidateForRun(*config).ok()) << ValidateForRun(*config).ToString();
  auto of = SourceOfStream(ConfiguredSources(*config), config->streams[1]);
  ASSERT_TRUE(of.ok());
  EXPECT_EQ(of->name, "maria");

  // Sources and no stream: eddy waits for streams created at run time.
  EngineConfig no_streams = *config;
  no_streams.streams.clear();
  EXPECT_TRUE(ValidateForRun(no_streams).ok());
  // A stream that names no source among several, or an unknown one, is named in the error.
  EngineConfig unnamed = *config;
  unnamed.streams[0].source.clear();
  EXPECT_NE(ValidateForRun(unnamed).message().find("several sources"), std::string::npos);
  EngineConfig unknown = *config;
  unknown.streams[0].source = "oracle";
  EXPECT_NE(ValidateForRun(unknown).message().find("'oracle' is not configured"),
            std::string::npos);
  EngineConfig twice = *config;
  twice.sources[1].name = "pg";
  EXPECT_NE(ValidateForRun(twice).message().find("defined twice"), std::string::npos);
  // --source beside [[source]] tables is refused; a [[source]] needs a name.
  ConfigOverrides overrides;
  overrides.source_url = "postgresql://other@h/db";
  EXPECT_FALSE(ApplyOverrides(*config, overrides).ok());
  auto nameless = ParseConfig("[[source]]\nurl = \"postgresql://h/d\"\n", "n.toml");
  EXPECT_NE(nameless.status().message().find("has no 'name'"), std::string::npos);
  auto bad_url =
      ParseConfig("data_dir = \"/x\"\n[[source]]\nname = \"a\"\nurl = \"ftp://h\"\n", "b.toml");
  ASSERT_TRUE(bad_url.ok());
  EXPECT_NE(ValidateForRun(*bad_url).message().find("source 'a': url"), std::string::npos);
}

TEST(Config, TheLoneSourceIsNamedDefault) {
  EngineConfig config;
  config.source.url = "postgresql://u@h/db";
  auto sources = ConfiguredSources(config);
  ASSERT_EQ(sources.size(), 1u);
  EXPECT_EQ(sources[0].name, "default");
}

TEST(Config, SourceAndStreamSettingsRoundTrip) {
  SourceConfig source;
  source.name = "pg";
  source.slot_name = "s";
  source.server_id = 9;
  SourceConfig again;
  for (const auto& [key, value] : SourceSettings(source)) {
    ASSERT_TRUE(ApplySourceSetting(again, key, value).ok()) << key;
  }
  EXPECT_EQ(again.slot_name, "s");
  EXPECT_EQ(again.server_id, 9u);
  EXPECT_NE(ApplySourceSetting(again, "slot", "x").message().find("unknown setting 'slot'"),
            std::string::npos);
  StreamConfig stream;
  stream.name = "s";
  stream.tables = {"public.a", "public.b"};
  stream.shards = 3;
  stream.heartbeat_interval_ms = 1500;
  stream.annotations["dsql.id"] = "abc";
  StreamConfig copy;
  for (const auto& [key, value] : StreamSettings(stream)) {
    ASSERT_TRUE(ApplyStreamSetting(copy, key, value).ok()) << key;
  }
  EXPECT_EQ(copy.tables, stream.tables);
  EXPECT_EQ(copy.shards, 3u);
  EXPECT_EQ(copy.heartbeat_interval_ms, 1500);
  EXPECT_EQ(copy.annotations.at("dsql.id"), "abc");
  EXPECT_NE(ApplyStreamSetting(copy, "shards", "0").message().find("between 1 and 1024"),
            std::string::npos);
}

}  // namespace
}  // namespace eddy::engine
