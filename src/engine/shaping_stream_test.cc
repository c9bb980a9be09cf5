#include "engine/shaping_stream.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "engine/config.h"
#include "engine/engine.h"
#include "format/renderer.h"
#include "model/event_codec.h"

namespace eddy::engine {
namespace {

model::ChangeEvent UserEvent(int64_t id, const std::string& table, uint64_t lsn) {
  model::ChangeEvent event;
  event.op = model::Operation::kInsert;
  event.table = model::TableId{"shop", "public", table};
  event.key = {model::Field{"id", model::Value::Int64(id)}};
  event.after = model::Row{model::Field{"id", model::Value::Int64(id)},
                           model::Field{"email", model::Value::Text("ada@example.com")},
                           model::Field{"ssn", model::Value::Text("123-45-6789")},
                           model::Field{"name", model::Value::Text("Ada Lovelace")}};
  event.position = SourcePosition(PostgresPosition{Lsn(lsn), Lsn(lsn)});
  return event;
}

log::AppendRecord AsRecord(const model::ChangeEvent& event) {
  log::AppendRecord record;
  record.partition_key = event.PartitionKey();
  record.payload = model::EncodeEvent(event);
  record.position = event.position;
  return record;
}

class ShapingStreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/eddy-shaping-test-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
    auto store = log::LogStore::Open(dir_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::vector<model::ChangeEvent> ReadAll(log::Stream& stream) {
    std::vector<model::ChangeEvent> events;
    for (const auto& shard : stream.Describe().shards) {
      auto reader = stream.OpenReader(shard.index, log::StartPosition::TrimHorizon());
      EXPECT_TRUE(reader.ok());
      auto batch = (*reader)->Read(log::ReadLimits{});
      EXPECT_TRUE(batch.ok());
      for (const auto& record : batch->records) {
        auto event = model::DecodeEvent(record.payload);
        EXPECT_TRUE(event.ok());
        EXPECT_EQ(record.partition_key, event->PartitionKey());
        events.push_back(*event);
      }
    }
    return events;
  }
  std::string dir_;
  std::unique_ptr<log::LogStore> store_;
};

// An excluded column and a masked value never reach the log, so no format can show them.
TEST_F(ShapingStreamTest, ExcludedAndMaskedValuesNeverReachTheLog) {
  auto config = ParseConfig(R"(
[[stream]]
name = "users"
exclude_tables = ["public.audit"]
exclude_columns = ["public.users.ssn"]
[[stream.mask]]
columns = "public.users.email"
kind = "hash"
salt = "pepper"
[[stream.key]]
table = "public.users"
columns = ["name"]
)", "t.toml");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  const StreamConfig& stream_config = config->streams.front();
  ASSERT_TRUE(stream_config.HasShaping());
  auto inner = store_->CreateStream("users", log::StreamOptions{});
  ASSERT_TRUE(inner.ok());
  auto shaper = MakeShaper(stream_config);
  ASSERT_TRUE(shaper.ok()) << shaper.status().ToString();
  auto stream = MakeShapingStream(*inner, std::move(*shaper));

  auto result = stream->AppendTransaction({AsRecord(UserEvent(1, "users", 100)),
                                           AsRecord(UserEvent(2, "audit", 100))},
                                          SourcePosition(PostgresPosition{Lsn(100), Lsn(100)}));
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->records.size(), 2u);

  auto events = ReadAll(**inner);
  ASSERT_EQ(events.size(), 1u);  // the audit table is excluded
  const model::ChangeEvent& stored = events.front();
  EXPECT_EQ(model::FindField(*stored.after, "ssn"), nullptr);
  const model::Value* email = model::FindField(*stored.after, "email");
  ASSERT_NE(email, nullptr);
  // No format of the stored event shows the secret values.
  for (auto name : format::RendererNames()) {
    auto renderer = format::MakeRenderer(name);
    ASSERT_TRUE(renderer.ok());
    std::string text = (*renderer)->Render(stored, format::ViewType::kNewAndOldImages);
    EXPECT_EQ(text.find("123-45-6789"), std::string::npos) << name << ": " << text;
    EXPECT_EQ(text.find("ada@example.com"), std::string::npos) << name << ": " << text;
  }
  // The message key override routes by name.
  ASSERT_EQ(stored.key.size(), 1u);
  EXPECT_EQ(stored.key.front().name, "name");

  // A transaction whose events are all filtered still moves the exactly-once position.
  auto filtered = stream->AppendTransaction({AsRecord(UserEvent(3, "audit", 200))},
                                            SourcePosition(PostgresPosition{Lsn(200), Lsn(200)}));
  ASSERT_TRUE(filtered.ok()) << filtered.status().ToString();
  EXPECT_EQ(stream->HighestDurablePosition(), SourcePosition(PostgresPosition{Lsn(200), Lsn(200)}));
  EXPECT_TRUE(stream->AppendTransaction({AsRecord(UserEvent(1, "users", 100))},
                                        SourcePosition(PostgresPosition{Lsn(100), Lsn(100)}))
                  ->duplicate);
  EXPECT_EQ(ReadAll(**inner).size(), 1u);
}

TEST_F(ShapingStreamTest, NonEventPayloadsAndPlainAppendsAreRefused) {
  auto inner = store_->CreateStream("s", log::StreamOptions{});
  ASSERT_TRUE(inner.ok());
  format::ShapingRules rules;
  rules.exclude_columns = {"*.*.x"};
  auto shaper = format::Shaper::Make(rules);
  ASSERT_TRUE(shaper.ok());
  auto stream = MakeShapingStream(*inner, std::move(*shaper));
  log::AppendRecord garbage;
  garbage.partition_key = "k";
  garbage.payload = "not an event";
  EXPECT_EQ(stream->AppendTransaction({garbage}, SourcePosition()).status().code(),
            ErrorCode::kInternal);
  EXPECT_FALSE(stream->Append(garbage).ok());
  EXPECT_TRUE(ReadAll(**inner).empty());
}

TEST(ShapingConfigTest, MaskAndKeyErrorsNameTheKey) {
  auto bad_kind = ParseConfig("[[stream]]\nname = \"s\"\n[[stream.mask]]\ncolumns = \"a.b.c\"\nkind = \"blur\"\n", "t.toml");
  ASSERT_FALSE(bad_kind.ok());
  EXPECT_NE(bad_kind.status().message().find("'stream.mask.kind' is 'blur'; allowed values: asterisks hash truncate"),
            std::string::npos) << bad_kind.status().message();
  auto no_columns = ParseConfig("[[stream]]\nname = \"s\"\n[[stream.key]]\ntable = \"a.b\"\n", "t.toml");
  ASSERT_FALSE(no_columns.ok());
  EXPECT_NE(no_columns.status().message().find("[[stream.key]] needs"), std::string::npos);
}

}  // namespace
}  // namespace eddy::engine
