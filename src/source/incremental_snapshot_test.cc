#include "source/incremental_snapshot.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "base/crc32c.h"

namespace eddy::source {
namespace {

using model::ChangeEvent;
using model::Field;
using model::Operation;
using model::Value;

IncrementalSnapshotState SampleState() {
  IncrementalSnapshotState state;
  state.id = "3f2a";
  state.origin = "signal:ad-hoc-1";
  state.paused = true;
  TableSnapshotProgress done;
  done.table = "public.a";
  done.state = TableSnapshotState::kDone;
  done.rows = 12;
  TableSnapshotProgress pending;
  pending.table = "public.b";
  pending.condition = "color = 'blue'";
  pending.last_key = {"17", "x:y"};
  pending.previous_key = {"9", ""};
  pending.rows = 40;
  pending.pending_position = SourcePosition(PostgresPosition{Lsn(0x5000), Lsn(0x4f00)});
  TableSnapshotProgress skipped;
  skipped.table = "public.c";
  skipped.state = TableSnapshotState::kSkipped;
  skipped.reason = "no primary key";
  state.tables = {done, pending, skipped};
  return state;
}

TEST(IncrementalSnapshotFile, RoundTrips) {
  IncrementalSnapshotState state = SampleState();
  auto decoded = DecodeIncrementalSnapshotState(EncodeIncrementalSnapshotState(state));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(*decoded, state);
}

TEST(IncrementalSnapshotFile, RejectsEveryTruncationAndFlippedByte) {
  std::string bytes = EncodeIncrementalSnapshotState(SampleState());
  for (size_t size = 0; size < bytes.size(); ++size) {
    EXPECT_FALSE(DecodeIncrementalSnapshotState(bytes.substr(0, size)).ok()) << size;
  }
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::string flipped = bytes;
    flipped[i] = static_cast<char>(flipped[i] ^ 0x20);
    EXPECT_FALSE(DecodeIncrementalSnapshotState(flipped).ok()) << i;
  }
}

TEST(IncrementalSnapshotFile, OtherVersionIsFailedPrecondition) {
  std::string bytes = EncodeIncrementalSnapshotState(SampleState());
  std::string body = bytes.substr(0, bytes.size() - 4);
  body[8] = 2;
  // Re-seal with a valid CRC so that only the version is wrong.
  std::string sealed = body;
  uint32_t crc = crc32c::Mask(crc32c::Value(body));
  for (int i = 0; i < 4; ++i) sealed.push_back(static_cast<char>(crc >> (8 * i)));
  auto decoded = DecodeIncrementalSnapshotState(sealed);
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.status().code(), ErrorCode::kFailedPrecondition);
}

TEST(IncrementalSnapshotState, ReconcileRollsBackAChunkTheLogDoesNotHold) {
  IncrementalSnapshotState state = SampleState();
  // The log is durable below the chunk's position: the chunk is read again.
  EXPECT_EQ(state.Reconcile(SourcePosition(PostgresPosition{Lsn(0x4000), Lsn(0x3f00)})), 1u);
  EXPECT_EQ(state.tables[1].last_key, (std::vector<std::string>{"9", ""}));
  EXPECT_TRUE(state.tables[1].pending_position.empty());

  state = SampleState();
  EXPECT_EQ(state.Reconcile(SourcePosition()), 1u);  // an empty log holds nothing
  EXPECT_EQ(state.tables[1].last_key, (std::vector<std::string>{"9", ""}));

  state = SampleState();
  state.tables[1].state = TableSnapshotState::kDone;  // the chunk finished the table
  EXPECT_EQ(state.Reconcile(SourcePosition(PostgresPosition{Lsn(0x4000), Lsn(0x3f00)})), 1u);
  EXPECT_EQ(state.tables[1].state, TableSnapshotState::kPending);

  state = SampleState();
  EXPECT_EQ(state.Reconcile(SourcePosition(PostgresPosition{Lsn(0x5000), Lsn(0x4f00)})), 0u);
  EXPECT_EQ(state.tables[1].last_key, (std::vector<std::string>{"17", "x:y"}));
  EXPECT_TRUE(state.tables[1].pending_position.empty());
  EXPECT_TRUE(state.tables[1].previous_key.empty());
}

TEST(IncrementalSnapshotState, CurrentAndComplete) {
  IncrementalSnapshotState state = SampleState();
  ASSERT_NE(state.Current(), nullptr);
  EXPECT_EQ(state.Current()->table, "public.b");
  EXPECT_FALSE(state.Complete());
  state.tables[1].state = TableSnapshotState::kDone;
  EXPECT_EQ(state.Current(), nullptr);
  EXPECT_TRUE(state.Complete());
}

TEST(Watermark, FormatsAndParses) {
  Watermark low{"run-1:2", 7, false};
  auto parsed = ParseWatermark(FormatWatermark(low));
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->snapshot_id, "run-1:2");
  EXPECT_EQ(parsed->chunk, 7u);
  EXPECT_FALSE(parsed->high);
  parsed = ParseWatermark("abc:12:high");
  ASSERT_TRUE(parsed.has_value());
  EXPECT_TRUE(parsed->high);
  for (const char* bad : {"", "abc", "abc:1", ":1:low", "abc::low", "abc:x:low", "abc:1:mid",
                          "abc:-1:low", "abc:99999999999999999999999:low"}) {
    EXPECT_FALSE(ParseWatermark(bad).has_value()) << bad;
  }
}

TEST(SnapshotType, Parses) {
  EXPECT_EQ(*ParseSnapshotType("blocking"), SnapshotType::kBlocking);
  EXPECT_EQ(*ParseSnapshotType("incremental"), SnapshotType::kIncremental);
  auto bad = ParseSnapshotType("parallel");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("blocking, incremental"), std::string::npos);
}

ChangeEvent Row(const model::TableId& table, Operation op, int64_t id) {
  ChangeEvent event;
  event.op = op;
  event.table = table;
  event.key = {Field{"id", Value::Int64(id)}};
  event.after = model::Row{Field{"id", Value::Int64(id)}, Field{"v", Value::Int64(id * 10)}};
  return event;
}

TEST(ChunkWindow, DropsRowsChangedInsideTheWindowOnly) {
  model::TableId table{"db", "public", "t"};
  model::TableId other{"db", "public", "u"};
  ChunkWindow window(table, {"id"});
  window.OnChange(Row(table, Operation::kUpdate, 1));  // before the low watermark: ignored
  window.Open();
  window.OnChange(Row(table, Operation::kUpdate, 2));
  window.OnChange(Row(table, Operation::kDelete, 3));
  window.OnChange(Row(other, Operation::kUpdate, 4));  // another table: ignored
  ChangeEvent moved = Row(table, Operation::kUpdate, 50);
  moved.before = model::Row{Field{"id", Value::Int64(5)}};  // key 5 became 50
  window.OnChange(moved);
  std::vector<ChangeEvent> chunk;
  for (int64_t id = 1; id <= 6; ++id) chunk.push_back(Row(table, Operation::kRead, id));
  std::vector<ChangeEvent> kept = window.Filter(chunk);
  std::vector<int64_t> ids;
  for (const ChangeEvent& event : kept) ids.push_back(event.key[0].value.Get<int64_t>());
  EXPECT_EQ(ids, (std::vector<int64_t>{1, 4, 6}));
  EXPECT_FALSE(window.open());
}

TEST(ChunkWindow, TruncateInsideTheWindowDropsTheChunk) {
  model::TableId table{"db", "public", "t"};
  ChunkWindow window(table, {"id"});
  window.Open();
  ChangeEvent truncate;
  truncate.op = Operation::kTruncate;
  truncate.table = table;
  window.OnChange(truncate);
  EXPECT_TRUE(window.Filter({Row(table, Operation::kRead, 1)}).empty());
}

// The driver every source uses, without a database: a MySQL-positioned snapshot of one table
// in two chunks; a change inside the first chunk's window drops that row; a crash before the
// first chunk is durable reads it again; request files and pause / stop controls.
class IncrementalSnapshotterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("eddy_snapshotter_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  IncrementalSnapshotter::Options Options() {
    IncrementalSnapshotter::Options options;
    options.state_dir = dir_.string();
    options.resolve_table = [](std::string_view name) -> Result<std::string> {
      if (name.find('.') == std::string_view::npos) return "shop." + std::string(name);
      if (name.substr(0, 5) != "shop.") return InvalidArgument("not captured");
      return std::string(name);
    };
    return options;
  }
  static SourcePosition At(uint64_t offset) {
    MysqlPosition position;
    position.server_id = 1;
    position.end = BinlogPosition{"bin.000001", offset};
    return SourcePosition(position);
  }
  std::filesystem::path dir_;
};

TEST_F(IncrementalSnapshotterTest, ChunksBetweenWatermarksSurviveACrash) {
  model::TableId table{"shop", "", "t"};
  auto drain_to = [](SourcePosition position) {
    return [position]() -> Result<SourcePosition> { return position; };
  };
  {
    IncrementalSnapshotter snapshotter(Options());
    ASSERT_TRUE(snapshotter.Load(SourcePosition()).ok());
    ASSERT_TRUE(snapshotter.PlanInitial({"shop.t"}).ok());
    EXPECT_EQ(snapshotter.StatusName(), "running");
    auto next = snapshotter.NextTable(SourcePosition(), nullptr);
    ASSERT_TRUE(next.ok());
    ASSERT_NE(*next, nullptr);
    EXPECT_EQ((*next)->table, "shop.t");
    std::string low = snapshotter.BeginChunk(table, {"id"});
    // A chunk in flight: nothing more to read.
    EXPECT_EQ(*snapshotter.NextTable(SourcePosition(), nullptr), nullptr);
    std::string high = snapshotter.ReadChunk(
        {Row(table, Operation::kRead, 1), Row(table, Operation::kRead, 2)}, {"2"}, false);
    EXPECT_TRUE(snapshotter.IsOurs(low));
    EXPECT_FALSE(snapshotter.IsOurs("someone:1:low"));
    EXPECT_EQ(snapshotter.window(), nullptr);  // not open before the low watermark commits
    ASSERT_TRUE(snapshotter.OnWatermark(low, At(100)).ok());
    ASSERT_NE(snapshotter.window(), nullptr);
    snapshotter.window()->OnKey(Row(table, Operation::kUpdate, 2).PartitionKey());
    auto rows = snapshotter.OnWatermark(high, At(200));
    ASSERT_TRUE(rows.ok()) << rows.status().ToString();
    ASSERT_TRUE(rows->has_value());
    ASSERT_EQ((*rows)->rows.size(), 1u);
    EXPECT_EQ((*rows)->read, 2u);
    EXPECT_EQ((*rows)->rows[0].key[0].value.Get<int64_t>(), 1);
    // The chunk is pending at 200 and the log is durable at 150 only (the crash below).
    auto not_yet = snapshotter.NextTable(At(150), drain_to(At(150)));
    ASSERT_TRUE(not_yet.ok());
    EXPECT_EQ(*not_yet, nullptr);
  }
  // Restart: the log never got the chunk, so it is read again from the start.
  IncrementalSnapshotter again(Options());
  ASSERT_TRUE(again.Load(At(150)).ok());
  auto next = again.NextTable(At(150), nullptr);
  ASSERT_TRUE(next.ok());
  ASSERT_NE(*next, nullptr);
  EXPECT_TRUE((*next)->last_key.empty());
  std::string low = again.BeginChunk(table, {"id"});
  std::string high = again.ReadChunk({Row(table, Operation::kRead, 1)}, {"1"}, true);
  ASSERT_TRUE(again.OnWatermark(low, At(300)).ok());
  auto rows = again.OnWatermark(high, At(400));
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ((*rows)->rows.size(), 1u);
  // Durable after a drain: the snapshot completes.
  auto done = again.NextTable(At(350), drain_to(At(400)));
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(*done, nullptr);
  EXPECT_EQ(again.StatusName(), "complete");
  EXPECT_EQ(again.state()->tables[0].last_key, (std::vector<std::string>{"1"}));
}

TEST_F(IncrementalSnapshotterTest, RequestFilesAndControls) {
  IncrementalSnapshotter snapshotter(Options());
  ASSERT_TRUE(snapshotter.Load(SourcePosition()).ok());
  std::filesystem::create_directories(dir_ / "snapshot-requests");
  std::ofstream(dir_ / "snapshot-requests" / "bad.request") << "{\"data-collections\": 5}";
  std::ofstream(dir_ / "snapshot-requests" / "good.request")
      << "{\"data-collections\": [\"t\", \"other.x\"], \"additional-conditions\": "
         "[{\"data-collection\": \"shop.t\", \"filter\": \"id > 5\"}]}";
  ASSERT_TRUE(snapshotter.TakeRequests().ok());
  EXPECT_TRUE(std::filesystem::exists(dir_ / "snapshot-requests" / "bad.rejected"));
  EXPECT_TRUE(std::filesystem::exists(dir_ / "snapshot-requests" / "good.accepted"));
  ASSERT_TRUE(snapshotter.state().has_value());
  ASSERT_EQ(snapshotter.state()->tables.size(), 1u);  // other.x is not captured
  EXPECT_EQ(snapshotter.state()->tables[0].table, "shop.t");
  EXPECT_EQ(snapshotter.state()->tables[0].condition, "id > 5");
  snapshotter.Queue(SnapshotControl{SnapshotControl::Kind::kPause, "test", {}});
  ASSERT_TRUE(snapshotter.TakeRequests().ok());
  EXPECT_EQ(snapshotter.StatusName(), "paused");
  EXPECT_EQ(*snapshotter.NextTable(SourcePosition(), nullptr), nullptr);
  snapshotter.Queue(SnapshotControl{SnapshotControl::Kind::kStop, "test", {"t"}});
  ASSERT_TRUE(snapshotter.TakeRequests().ok());
  EXPECT_EQ(snapshotter.StatusName(), "complete");
  EXPECT_EQ(snapshotter.state()->tables[0].state, TableSnapshotState::kSkipped);
  ASSERT_TRUE(snapshotter.NextTable(SourcePosition(), nullptr).ok());
  EXPECT_TRUE(std::filesystem::exists(dir_ / "snapshot-requests" / "good.done"));
}

}  // namespace
}  // namespace eddy::source
