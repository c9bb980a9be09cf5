// Engine::Start with sinks: every sink is checked before anything starts, so a bad one leaves
// the data directory untouched and the error names the sink, the key and the fix.
#include <gtest/gtest.h>
#include <stdlib.h>

#include "engine/engine.h"
#include "io/file_system.h"

namespace eddy::engine {
namespace {

class EngineSinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/eddy-engine-sink-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    root_ = pattern;
    config_.data_dir = root_ + "/data";
    config_.api.enabled = false;
    consume::SinkSpec sink;
    sink.name = "hook";
    sink.stream = "s";
    sink.url = "webhook+http://127.0.0.1:1/";
    config_.sinks.push_back(sink);
  }
  void TearDown() override { io::DefaultFileSystem()->RemoveTree(root_).IgnoreError(); }

  // Nothing started: the log was never opened in the data directory.
  void ExpectNothingStarted() {
    auto exists = io::DefaultFileSystem()->Exists(config_.data_dir);
    ASSERT_TRUE(exists.ok());
    EXPECT_FALSE(*exists);
  }

  std::string root_;
  EngineConfig config_;
};

TEST_F(EngineSinkTest, UnknownSchemeStartsNothing) {
  auto engine = Engine::Start(config_);
  ASSERT_FALSE(engine.ok());
  EXPECT_EQ(engine.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(engine.status().message().find("sink 'hook': url scheme 'webhook+http'"),
            std::string::npos)
      << engine.status().message();
  ExpectNothingStarted();
}

TEST_F(EngineSinkTest, BadSettingStartsNothing) {
  config_.sinks[0].settings["batch_size"] = "0";
  SinkServices services;
  ASSERT_TRUE(
      services.destinations
          .Register("webhook+http",
                    [](const consume::SinkSpec&) -> Result<std::unique_ptr<consume::Destination>> {
                      return Internal("the factory must not be reached");
                    })
          .ok());
  auto engine = Engine::Start(config_, std::move(services));
  ASSERT_FALSE(engine.ok());
  EXPECT_NE(engine.status().message().find("sink 'hook' setting batch_size = '0'"),
            std::string::npos)
      << engine.status().message();
  ExpectNothingStarted();
}

TEST_F(EngineSinkTest, DestinationSettingErrorsAndMissingFilterMatcherStartNothing) {
  SinkServices services;
  ASSERT_TRUE(
      services.destinations
          .Register(
              "webhook+http",
              [](const consume::SinkSpec& spec) -> Result<std::unique_ptr<consume::Destination>> {
                return InvalidArgument("setting timeout = '" + spec.settings.at("timeout") +
                                       "': must be a duration");
              })
          .ok());
  config_.sinks[0].settings["timeout"] = "soon";
  auto engine = Engine::Start(config_, std::move(services));
  ASSERT_FALSE(engine.ok());
  EXPECT_NE(engine.status().message().find("sink 'hook': setting timeout = 'soon'"),
            std::string::npos)
      << engine.status().message();

  config_.sinks[0].settings.erase("timeout");
  config_.sinks[0].settings["filter"] = R"({"data":{"op":["c"]}})";
  auto filtered = Engine::Start(config_, SinkServices{});
  ASSERT_FALSE(filtered.ok());
  EXPECT_NE(filtered.status().message().find("setting filter"), std::string::npos);
  ExpectNothingStarted();
}

class CountingDestination final : public consume::Destination {
 public:
  CountingDestination(Status open_status, int* opened, int* closed)
      : open_status_(std::move(open_status)), opened_(opened), closed_(closed) {}
  Status Open() override {
    ++*opened_;
    return open_status_;
  }
  consume::DeliveryOutcome Deliver(const consume::SinkBatch& batch) override {
    return consume::DeliveryOutcome{batch.records.size(), Status::Ok(), false};
  }
  Status Close() override {
    ++*closed_;
    return Status::Ok();
  }

 private:
  Status open_status_;
  int* opened_;
  int* closed_;
};

TEST_F(EngineSinkTest, AnUnreachableDestinationStartsNothingAndTheOpenedOnesAreClosed) {
  consume::SinkSpec second = config_.sinks[0];
  second.name = "down";
  second.url = "fake+down://receiver/";
  config_.sinks[0].url = "fake+up://receiver/";
  config_.sinks.push_back(second);
  int opened = 0;
  int closed = 0;
  SinkServices services;
  ASSERT_TRUE(
      services.destinations
          .Register("fake+up",
                    [&](const consume::SinkSpec&) -> Result<std::unique_ptr<consume::Destination>> {
                      return std::unique_ptr<consume::Destination>(
                          new CountingDestination(Status::Ok(), &opened, &closed));
                    })
          .ok());
  ASSERT_TRUE(
      services.destinations
          .Register("fake+down",
                    [&](const consume::SinkSpec&) -> Result<std::unique_ptr<consume::Destination>> {
                      return std::unique_ptr<consume::Destination>(new CountingDestination(
                          Unavailable("connect to receiver:443: connection refused"), &opened,
                          &closed));
                    })
          .ok());
  auto engine = Engine::Start(config_, std::move(services));
  ASSERT_FALSE(engine.ok());
  EXPECT_NE(engine.status().message().find("sink 'down': connect to receiver:443"),
            std::string::npos)
      << engine.status().message();
  EXPECT_EQ(opened, 2);
  EXPECT_EQ(closed, 1);  // the one that opened
  ExpectNothingStarted();
}

// A format a destination encodes itself reaches the destination; the runner renders in its
// default format; anything else is an error that lists renderers and own formats.
TEST(DestinationRegistryTest, OwnFormatsBypassTheRunnersRendererCheck) {
  DestinationRegistry registry;
  registry.AddOwnFormat("file", "parquet");
  consume::SinkSpec spec;
  spec.name = "lake";
  spec.url = "file:///lake";
  spec.settings["format"] = "parquet";
  auto runner = registry.RunnerSpec(spec);
  ASSERT_TRUE(runner.ok()) << runner.status().ToString();
  EXPECT_EQ(runner->settings.count("format"), 0u);
  spec.settings["format"] = "dms";
  runner = registry.RunnerSpec(spec);
  ASSERT_TRUE(runner.ok());
  EXPECT_EQ(runner->settings.at("format"), "dms");
  spec.settings["format"] = "avro";
  runner = registry.RunnerSpec(spec);
  ASSERT_FALSE(runner.ok());
  EXPECT_NE(runner.status().message().find("format = 'avro': must be one of native"),
            std::string::npos)
      << runner.status().ToString();
  EXPECT_NE(runner.status().message().find("or parquet"), std::string::npos);
  // Other schemes keep the runner's own check.
  spec.url = "webhook+http://127.0.0.1:1/";
  spec.settings["format"] = "parquet";
  runner = registry.RunnerSpec(spec);
  ASSERT_TRUE(runner.ok());
  EXPECT_EQ(runner->settings.at("format"), "parquet");
}

}  // namespace
}  // namespace eddy::engine
