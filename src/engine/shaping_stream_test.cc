#include "engine/shaping_stream.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include "engine/config.h"
#include "engine/engine.h"
#include "format/renderer.h"
#include "model/event_codec.h"
#include "io/fault_file_system.h"
#include "schema/schema_history.h"

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

model::ChangeEvent TxEvent(int64_t id, const std::string& table, const std::string& tx, uint64_t lsn) {
  model::ChangeEvent event = UserEvent(id, table, lsn);
  event.transaction_id = tx;
  event.commit_time_ns = static_cast<int64_t>(lsn) * 1000;
  event.capture_time_ns = static_cast<int64_t>(lsn) * 1000 + 1;
  event.source.connector = model::ConnectorKind::kPostgres;
  event.source.server_name = "pg1";
  return event;
}

SourcePosition Pg(uint64_t lsn) { return SourcePosition(PostgresPosition{Lsn(lsn), Lsn(lsn)}); }

std::shared_ptr<ShapingStream> TransactionStream(std::shared_ptr<log::Stream> inner,
                                                 const Clock* clock = &SystemClock::Instance()) {
  format::ShapingRules rules;
  rules.exclude_tables = {"public.audit"};
  rules.exclude_columns = {"public.*.ssn"};
  ShapingStreamOptions options;
  options.shaper = std::move(format::Shaper::Make(rules)).value();
  options.transaction_metadata = true;
  options.clock = clock;
  return MakeShapingStream(std::move(inner), std::move(options));
}

// Checks BEGIN, the changes with their transaction blocks, END; returns the index after END.
size_t ExpectTransaction(const std::vector<model::ChangeEvent>& events, size_t at,
                         const std::string& id,
                         const std::vector<std::pair<std::string, uint64_t>>& changes) {
  EXPECT_LT(at + changes.size() + 1, events.size());
  if (at + changes.size() + 1 >= events.size()) return events.size();
  EXPECT_EQ(events[at].op, model::Operation::kTransactionBegin);
  EXPECT_EQ(events[at].transaction_id, id);
  EXPECT_EQ(events[at].position, events[at + 1].position);  // the first change's
  EXPECT_TRUE(events[at].table.name.empty());
  std::map<std::string, uint64_t> per_table;
  for (size_t i = 0; i < changes.size(); ++i) {
    const model::ChangeEvent& event = events[at + 1 + i];
    EXPECT_EQ(event.table.QualifiedName(), changes[i].first) << i;
    EXPECT_EQ(event.transaction_id, id);
    EXPECT_TRUE(event.transaction_order.has_value()) << i;
    if (!event.transaction_order) continue;
    EXPECT_EQ(event.transaction_order->total_order, i + 1);
    EXPECT_EQ(event.transaction_order->data_collection_order, ++per_table[changes[i].first]);
  }
  const model::ChangeEvent& end = events[at + 1 + changes.size()];
  EXPECT_EQ(end.op, model::Operation::kTransactionEnd);
  EXPECT_EQ(end.transaction_id, id);
  EXPECT_EQ(end.position, events[at + changes.size()].position);  // the last change's
  EXPECT_TRUE(end.transaction_summary.has_value());
  if (end.transaction_summary) {
    EXPECT_EQ(end.transaction_summary->event_count, changes.size());
    uint64_t sum = 0;
    for (const auto& collection : end.transaction_summary->data_collections) {
      EXPECT_EQ(collection.event_count, per_table[collection.name]) << collection.name;
      sum += collection.event_count;
    }
    EXPECT_EQ(end.transaction_summary->data_collections.size(), per_table.size());
    EXPECT_EQ(sum, changes.size());
  }
  return at + changes.size() + 2;
}

TEST_F(ShapingStreamTest, TransactionMetadataFramesEachTransaction) {
  auto inner = store_->CreateStream("tx", log::StreamOptions{});
  ASSERT_TRUE(inner.ok());
  auto stream = TransactionStream(*inner);
  // One transaction with a filtered change in the middle.
  auto result = stream->AppendTransaction(
      {AsRecord(TxEvent(1, "users", "10", 100)), AsRecord(TxEvent(2, "orders", "10", 101)),
       AsRecord(TxEvent(3, "audit", "10", 102)), AsRecord(TxEvent(4, "users", "10", 103))},
      Pg(103));
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  ASSERT_EQ(result->records.size(), 4u);  // one per input; BEGIN/END are not reported
  EXPECT_EQ(result->records[2].sequence, SequenceNumber());  // filtered
  EXPECT_NE(result->records[3].sequence, SequenceNumber());
  // Two transactions in one append, then snapshot reads (never framed).
  model::ChangeEvent read = TxEvent(9, "users", "snapshot:1", 300);
  read.op = model::Operation::kRead;
  ASSERT_TRUE(stream->AppendTransaction({AsRecord(TxEvent(5, "orders", "11", 200)),
                                         AsRecord(TxEvent(6, "orders", "12", 201)),
                                         AsRecord(TxEvent(7, "users", "12", 202))},
                                        Pg(202)).ok());
  ASSERT_TRUE(stream->AppendTransaction({AsRecord(read)}, Pg(300)).ok());
  // A transaction whose every change is filtered gets no framing.
  ASSERT_TRUE(stream->AppendTransaction({AsRecord(TxEvent(8, "audit", "13", 400))}, Pg(400)).ok());

  auto events = ReadAll(**inner);
  size_t at = ExpectTransaction(events, 0, "10",
                                {{"public.users", 0}, {"public.orders", 0}, {"public.users", 0}});
  at = ExpectTransaction(events, at, "11", {{"public.orders", 0}});
  at = ExpectTransaction(events, at, "12", {{"public.orders", 0}, {"public.users", 0}});
  ASSERT_EQ(events.size(), at + 1);
  EXPECT_EQ(events[at].op, model::Operation::kRead);
  EXPECT_FALSE(events[at].transaction_order.has_value());
  EXPECT_EQ(stream->HighestDurablePosition(), Pg(400));
  // Nothing of the excluded table or column shows anywhere, BEGIN/END included.
  for (const auto& event : events) {
    for (auto name : format::RendererNames()) {
      auto renderer = format::MakeRenderer(name);
      std::string text = (*renderer)->Render(event, format::ViewType::kNewAndOldImages);
      EXPECT_EQ(text.find("audit"), std::string::npos) << text;
      EXPECT_EQ(text.find("123-45-6789"), std::string::npos) << text;
    }
  }
}

// A logical message inside a transaction stays inside its BEGIN/END, uncounted.
TEST_F(ShapingStreamTest, MessagesInsideATransactionKeepItWhole) {
  auto inner = store_->CreateStream("messages", log::StreamOptions{});
  ASSERT_TRUE(inner.ok());
  auto stream = TransactionStream(*inner);
  model::ChangeEvent message = TxEvent(0, "", "40", 501);
  message.op = model::Operation::kMessage;
  message.table = {"shop", "", ""};
  message.key.clear();
  message.after.reset();
  message.message = model::LogicalMessage{"audit", "hello", true};
  ASSERT_TRUE(stream->AppendTransaction({AsRecord(TxEvent(1, "users", "40", 500)), AsRecord(message),
                                         AsRecord(TxEvent(2, "users", "40", 502))},
                                        Pg(502)).ok());
  auto events = ReadAll(**inner);
  ASSERT_EQ(events.size(), 5u);
  EXPECT_EQ(events[0].op, model::Operation::kTransactionBegin);
  EXPECT_EQ(events[2].op, model::Operation::kMessage);
  EXPECT_FALSE(events[2].transaction_order.has_value());
  EXPECT_EQ(events[3].transaction_order->total_order, 2u);
  EXPECT_EQ(events[4].op, model::Operation::kTransactionEnd);
  EXPECT_EQ(events[4].transaction_summary->event_count, 2u);
}

TEST_F(ShapingStreamTest, TransactionMetadataAccumulatesAcrossParts) {
  auto inner = store_->CreateStream("parts", log::StreamOptions{});
  ASSERT_TRUE(inner.ok());
  auto stream = TransactionStream(*inner);
  {
    // An aborted transaction leaves nothing, and its counts do not carry over.
    auto appender = stream->BeginTransaction();
    ASSERT_TRUE(appender.ok()) << appender.status().ToString();
    ASSERT_TRUE((*appender)->Append({AsRecord(TxEvent(1, "users", "20", 100))}).ok());
    ASSERT_TRUE((*appender)->Abort().ok());
  }
  auto appender = stream->BeginTransaction();
  ASSERT_TRUE(appender.ok());
  ASSERT_TRUE((*appender)->Append({AsRecord(TxEvent(1, "users", "21", 100)),
                                   AsRecord(TxEvent(2, "orders", "21", 101))}).ok());
  ASSERT_TRUE((*appender)->Append({AsRecord(TxEvent(3, "audit", "21", 102))}).ok());  // filtered
  ASSERT_TRUE((*appender)->Append({AsRecord(TxEvent(4, "orders", "21", 103)),
                                   AsRecord(TxEvent(5, "users", "21", 104))}).ok());
  auto committed = (*appender)->Commit(Pg(104));
  ASSERT_TRUE(committed.ok()) << committed.status().ToString();
  EXPECT_EQ(committed->record_count, 6u);  // BEGIN + 4 changes + END
  auto events = ReadAll(**inner);
  size_t at = ExpectTransaction(events, 0, "21",
                                {{"public.users", 0}, {"public.orders", 0},
                                 {"public.orders", 0}, {"public.users", 0}});
  EXPECT_EQ(at, events.size());
  // A duplicate replay in parts stores nothing, BEGIN/END included.
  auto replay = stream->BeginTransaction();
  ASSERT_TRUE(replay.ok());
  ASSERT_TRUE((*replay)->Append({AsRecord(TxEvent(1, "users", "21", 100))}).ok());
  auto duplicate = (*replay)->Commit(Pg(104));
  ASSERT_TRUE(duplicate.ok());
  EXPECT_TRUE(duplicate->duplicate);
  EXPECT_EQ(ReadAll(**inner).size(), events.size());
}

TEST_F(ShapingStreamTest, HeartbeatWhenIdleWithTheDurablePosition) {
  auto inner = store_->CreateStream("hb", log::StreamOptions{});
  ASSERT_TRUE(inner.ok());
  ManualClock clock;
  auto stream = TransactionStream(*inner, &clock);
  constexpr int64_t kInterval = 10'000'000'000;  // 10 s
  auto appended = stream->AppendHeartbeatIfIdle(kInterval);
  ASSERT_TRUE(appended.ok());
  EXPECT_FALSE(*appended);  // just created: not idle yet
  clock.Advance(kInterval);
  appended = stream->AppendHeartbeatIfIdle(kInterval);
  ASSERT_TRUE(appended.ok() && *appended);
  EXPECT_FALSE(*stream->AppendHeartbeatIfIdle(kInterval));  // the heartbeat counts as activity

  clock.Advance(kInterval / 2);
  ASSERT_TRUE(stream->AppendTransaction({AsRecord(TxEvent(1, "users", "30", 500))}, Pg(500)).ok());
  clock.Advance(kInterval - 1);
  EXPECT_FALSE(*stream->AppendHeartbeatIfIdle(kInterval));  // appended 10 s - 1 ns ago
  clock.Advance(1);
  ASSERT_TRUE(*stream->AppendHeartbeatIfIdle(kInterval));

  // No heartbeat while a transaction is being appended in parts, however long it takes.
  auto appender = stream->BeginTransaction();
  ASSERT_TRUE(appender.ok());
  clock.Advance(10 * kInterval);
  EXPECT_FALSE(*stream->AppendHeartbeatIfIdle(kInterval));
  ASSERT_TRUE((*appender)->Abort().ok());
  appender->reset();
  EXPECT_TRUE(*stream->AppendHeartbeatIfIdle(kInterval));

  auto events = ReadAll(**inner);
  std::vector<model::ChangeEvent> heartbeats;
  for (const auto& event : events) {
    if (event.op == model::Operation::kHeartbeat) heartbeats.push_back(event);
  }
  ASSERT_EQ(heartbeats.size(), 3u);
  EXPECT_TRUE(heartbeats[0].position.empty());  // nothing durable yet
  EXPECT_EQ(heartbeats[0].commit_time_ns, clock.NowNanos() - 10 * kInterval - kInterval - kInterval / 2);
  EXPECT_EQ(heartbeats[1].position, Pg(500));   // the capture's durable position
  EXPECT_EQ(heartbeats[1].source.connector, model::ConnectorKind::kPostgres);
  EXPECT_EQ(heartbeats[1].source.server_name, "pg1");
  EXPECT_EQ(heartbeats[2].commit_time_ns, clock.NowNanos());
  // Heartbeats never move the exactly-once high-water mark.
  EXPECT_EQ(stream->HighestDurablePosition(), Pg(500));
  EXPECT_TRUE(stream->AppendTransaction({AsRecord(TxEvent(1, "users", "30", 500))}, Pg(500))->duplicate);
}

// The background heartbeater appends to an idle stream; waits on the log, not on a sleep.
TEST_F(ShapingStreamTest, HeartbeaterAppendsToIdleStreams) {
  auto inner = store_->CreateStream("idle", log::StreamOptions{});
  ASSERT_TRUE(inner.ok());
  ShapingStreamOptions options;
  options.connector = model::ConnectorKind::kMysql;
  options.server_name = "shop";
  auto stream = MakeShapingStream(*inner, std::move(options));
  Heartbeater heartbeater({{stream, 100'000'000}});  // 100 ms
  auto reader = (*inner)->OpenReader(0, log::StartPosition::TrimHorizon());
  ASSERT_TRUE(reader.ok());
  std::vector<model::ChangeEvent> seen;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (seen.size() < 2 && std::chrono::steady_clock::now() < deadline) {
    ASSERT_TRUE((*reader)->WaitForData(deadline).ok());
    auto batch = (*reader)->Read(log::ReadLimits{});
    ASSERT_TRUE(batch.ok());
    for (const auto& record : batch->records) seen.push_back(*model::DecodeEvent(record.payload));
  }
  heartbeater.Stop();
  ASSERT_GE(seen.size(), 2u);
  EXPECT_GE(heartbeater.heartbeats(), 2u);
  EXPECT_EQ(seen[0].op, model::Operation::kHeartbeat);
  EXPECT_EQ(seen[0].source.connector, model::ConnectorKind::kMysql);
  EXPECT_EQ(seen[0].source.server_name, "shop");
  EXPECT_GE(seen[1].commit_time_ns - seen[0].commit_time_ns, 100'000'000);
}

TEST(ShapingConfigTest, TransactionMetadataAndHeartbeatKeys) {
  auto config = ParseConfig("[[stream]]\nname = \"s\"\ntransaction_metadata = true\n"
                            "heartbeat_interval = \"10s\"\n", "t.toml");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_TRUE(config->streams[0].transaction_metadata);
  EXPECT_EQ(config->streams[0].heartbeat_interval_ms, 10000);
  EXPECT_TRUE(config->streams[0].NeedsShapingStream());
  EXPECT_FALSE(config->streams[0].HasShaping());
  EXPECT_EQ(*ParseDurationMillis("500ms"), 500);
  EXPECT_EQ(*ParseDurationMillis("5m"), 300000);
  EXPECT_EQ(*ParseDurationMillis("1h"), 3600000);
  for (const char* bad : {"10", "s", "1.5s", "-1s", "10 s", "10sec"}) {
    EXPECT_FALSE(ParseDurationMillis(bad).ok()) << bad;
  }
  auto too_short = ParseConfig("[[stream]]\nname = \"s\"\nheartbeat_interval = \"10ms\"\n", "t.toml");
  ASSERT_FALSE(too_short.ok());
  EXPECT_NE(too_short.status().message().find("'stream.heartbeat_interval' is \"10ms\""),
            std::string::npos) << too_short.status().message();
  auto not_bool = ParseConfig("[[stream]]\nname = \"s\"\ntransaction_metadata = \"yes\"\n", "t.toml");
  EXPECT_FALSE(not_bool.ok());
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


TEST(ShapingSchemaRegistryTest, RecordsSchemasWithTheColumnsTheStreamKeeps) {
  format::ShapingRules rules;
  rules.exclude_tables = {"public.audit"};
  rules.exclude_columns = {"public.users.ssn"};
  auto shaper = format::Shaper::Make(rules);
  ASSERT_TRUE(shaper.ok()) << shaper.status().ToString();
  io::FaultInjectionFileSystem fs;
  ASSERT_TRUE(fs.CreateDirectories("/data/streams/users").ok());
  auto history = schema::SchemaHistory::Open("/data/streams/users/table-schemas", {&fs});
  ASSERT_TRUE(history.ok()) << history.status().ToString();
  auto registry = MakeShapingSchemaRegistry(*history, std::move(*shaper));

  model::TableSchema users;
  users.table = {"db", "public", "users"};
  for (const char* name : {"id", "ssn", "email"}) {
    model::Column column;
    column.name = name;
    column.source_type = "text";
    column.type = model::ValueType::kText;
    column.primary_key_ordinal = std::string(name) == "id" ? 1 : 0;
    users.columns.push_back(column);
  }
  users.primary_key = {"id"};
  auto version = registry->AssignVersion(users);
  ASSERT_TRUE(version.ok()) << version.status().ToString();
  EXPECT_EQ(*version, 1u);
  auto recorded = registry->Find(users.table, 1);
  ASSERT_TRUE(recorded.ok());
  ASSERT_EQ((*recorded)->columns.size(), 2u);  // ssn is never in the stream's rows
  EXPECT_EQ((*recorded)->columns[0].name, "id");
  EXPECT_EQ((*recorded)->columns[1].name, "email");
  EXPECT_EQ(registry->Latest(users.table).get(), recorded->get());
  // Changing only a hidden column changes nothing the stream shows: same version.
  users.columns[1].source_type = "varchar";
  EXPECT_EQ(*registry->AssignVersion(users), 1u);

  model::TableSchema audit = users;
  audit.table.name = "audit";
  EXPECT_EQ(*registry->AssignVersion(audit), 0u);  // excluded: not recorded
  EXPECT_EQ(registry->Latest(audit.table), nullptr);
}

}  // namespace
}  // namespace eddy::engine
