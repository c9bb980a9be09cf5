#include "source/incremental_snapshot.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "base/bytes.h"
#include "base/crc32c.h"
#include "model/event_codec.h"
#include "source/snapshot_records.h"

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
  pending.upper_key = {"30", "a"};
  TableSnapshotProgress skipped;
  skipped.table = "public.c";
  skipped.state = TableSnapshotState::kSkipped;
  skipped.reason = "no primary key";
  TableSnapshotProgress pages;  // a ctid entry: pages 40 of [0, 96) next
  pages.table = "public.d";
  pages.last_key = {"40"};
  pages.previous_key = {"32"};
  pages.upper_key = {"96"};
  pages.tuple_snapshot = "751:760:753,757";
  pages.relation_file = 16384;
  state.tables = {done, pending, skipped, pages};
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
  body[8] = 4;
  // Re-seal with a valid CRC so that only the version is wrong.
  std::string sealed = body;
  uint32_t crc = crc32c::Mask(crc32c::Value(body));
  for (int i = 0; i < 4; ++i) sealed.push_back(static_cast<char>(crc >> (8 * i)));
  auto decoded = DecodeIncrementalSnapshotState(sealed);
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.status().code(), ErrorCode::kFailedPrecondition);
}

// A version-1 file (before key ranges) still loads: every entry is a whole table. Written here
// field by field as docs/formats/incremental-snapshot.md describes version 1.
TEST(IncrementalSnapshotFile, ReadsVersionOne) {
  IncrementalSnapshotState state = SampleState();
  for (TableSnapshotProgress& table : state.tables) {
    table.upper_key.clear();
    table.tuple_snapshot.clear();
    table.relation_file = 0;
  }
  auto strings = [](std::string& out, const std::vector<std::string>& values) {
    PutVarint64(out, values.size());
    for (const std::string& value : values) PutLengthPrefixed(out, value);
  };
  std::string v1(kIncrementalSnapshotMagic);
  PutFixed32(v1, 1);
  PutLengthPrefixed(v1, state.id);
  PutLengthPrefixed(v1, state.origin);
  PutFixed8(v1, state.paused ? 1 : 0);
  PutVarint64(v1, state.tables.size());
  for (const TableSnapshotProgress& table : state.tables) {
    PutLengthPrefixed(v1, table.table);
    PutLengthPrefixed(v1, table.condition);
    PutFixed8(v1, static_cast<uint8_t>(table.state));
    strings(v1, table.last_key);
    PutVarint64(v1, table.rows);
    strings(v1, table.previous_key);
    std::string position;
    if (!table.pending_position.empty()) table.pending_position.EncodeTo(position);
    PutLengthPrefixed(v1, position);
    PutLengthPrefixed(v1, table.reason);
  }
  PutFixed32(v1, crc32c::Mask(crc32c::Value(v1)));
  auto decoded = DecodeIncrementalSnapshotState(v1);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(*decoded, state);
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
  ASSERT_NE(state.Current(), nullptr);
  EXPECT_EQ(state.Current()->table, "public.d");
  state.tables[3].state = TableSnapshotState::kDone;
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

TEST(ChunkWindow, EncodedRowsAreFilteredByTheirPartitionKeys) {
  model::TableId table{"db", "public", "t"};
  ChunkWindow window(table, {"id"});
  window.Open();
  window.OnChange(Row(table, Operation::kUpdate, 2));
  window.OnKey(Row(table, Operation::kDelete, 3).PartitionKey());
  std::vector<EncodedRow> chunk;
  for (int64_t id = 1; id <= 4; ++id) {
    chunk.push_back(
        EncodedRow{Row(table, Operation::kRead, id).PartitionKey(), "rows " + std::to_string(id)});
  }
  std::vector<EncodedRow> kept = window.Filter(std::move(chunk));
  ASSERT_EQ(kept.size(), 2u);
  EXPECT_EQ(kept[0].rows, "rows 1");
  EXPECT_EQ(kept[1].rows, "rows 4");
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

// A ctid chunk's window (a table without a key): the old image of every update and delete
// inside the window drops one equal chunk row (two equal rows and one delete leave one);
// inserts and changes before the window drop nothing. The image is byte for byte the chunk
// row's encoding, so a streamed row and a read row of the same values compare equal.
TEST(ChunkWindow, RowImagesDropOneEqualChunkRowPerOldImage) {
  model::TableId table{"db", "public", "t"};
  auto image = [](int64_t a, const std::string& b) {
    return model::Row{Field{"a", Value::Int64(a)}, Field{"b", Value::Text(b)}};
  };
  auto chunk_row = [&](int64_t a, const std::string& b) {
    SnapshotRowEncoding encoding(table, {"a", "b"}, {});
    model::EncodeValue(Value::Int64(a), encoding.values());
    encoding.EndValue();
    model::EncodeValue(Value::Text(b), encoding.values());
    encoding.EndValue();
    EncodedRow row;
    EXPECT_TRUE(encoding.Finish(row.partition_key, row.rows).ok());
    return row;
  };
  EXPECT_EQ(ChunkWindow::RowImage(image(1, "x")), chunk_row(1, "x").rows);
  ChunkWindow window(table, {}, true);
  ChangeEvent early;
  early.op = Operation::kDelete;
  early.table = table;
  early.before = image(4, "w");
  window.OnChange(early);  // before the low watermark: ignored
  window.Open();
  ChangeEvent removed = early;
  removed.before = image(1, "x");
  window.OnChange(removed);
  ChangeEvent updated;
  updated.op = Operation::kUpdate;
  updated.table = table;
  updated.before = image(2, "y");
  updated.after = image(2, "z");
  window.OnChange(updated);
  ChangeEvent inserted;
  inserted.op = Operation::kInsert;
  inserted.table = table;
  inserted.after = image(3, "v");
  window.OnChange(inserted);
  EXPECT_EQ(window.changed_keys(), 2u);
  std::vector<EncodedRow> chunk = {chunk_row(1, "x"), chunk_row(1, "x"), chunk_row(2, "y"),
                                   chunk_row(3, "v"), chunk_row(4, "w")};
  std::vector<EncodedRow> kept = window.Filter(std::move(chunk));
  std::vector<std::string> rows;
  for (const EncodedRow& row : kept) rows.push_back(row.rows);
  EXPECT_EQ(rows, (std::vector<std::string>{chunk_row(1, "x").rows, chunk_row(3, "v").rows,
                                            chunk_row(4, "w").rows}));
  EXPECT_FALSE(window.open());
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
    auto start = snapshotter.BeginChunk(**next, table, {"id"});
    std::string low = start.low;
    // A chunk in flight: nothing more to read.
    EXPECT_EQ(*snapshotter.NextTable(SourcePosition(), nullptr), nullptr);
    std::string high = snapshotter.ReadChunk(
        start.sequence, {Row(table, Operation::kRead, 1), Row(table, Operation::kRead, 2)}, {"2"},
        false);
    EXPECT_TRUE(snapshotter.IsOurs(low));
    EXPECT_FALSE(snapshotter.IsOurs("someone:1:low"));
    std::vector<ChunkWindow*> windows;
    snapshotter.WindowsOf(table, windows);
    EXPECT_TRUE(windows.empty());  // not open before the low watermark commits
    ASSERT_TRUE(snapshotter.OnWatermark(low, At(100)).ok());
    snapshotter.WindowsOf(table, windows);
    ASSERT_EQ(windows.size(), 1u);
    windows[0]->OnKey(Row(table, Operation::kUpdate, 2).PartitionKey());
    auto rows = snapshotter.OnWatermark(high, At(200));
    ASSERT_TRUE(rows.ok()) << rows.status().ToString();
    ASSERT_TRUE(rows->has_value());
    ASSERT_EQ((*rows)->rows.size(), 1u);
    EXPECT_EQ((*rows)->read, 2u);
    EXPECT_EQ((*rows)->rows[0].key[0].value.Get<int64_t>(), 1);
    // The chunk is pending at 200 and the log is durable at 150 only (the crash below). The
    // next chunk is read ahead of that append, but its high watermark cannot move the progress
    // on until the previous chunk is durable.
    auto ahead = snapshotter.NextTable(At(150), drain_to(At(150)));
    ASSERT_TRUE(ahead.ok());
    ASSERT_NE(*ahead, nullptr);
    EXPECT_EQ((*ahead)->last_key, (std::vector<std::string>{"2"}));
    auto second = snapshotter.BeginChunk(**ahead, table, {"id"});
    std::string second_high =
        snapshotter.ReadChunk(second.sequence, {Row(table, Operation::kRead, 3)}, {"3"}, true);
    ASSERT_TRUE(snapshotter.OnWatermark(second.low, At(210)).ok());
    auto refused = snapshotter.OnWatermark(second_high, At(220), drain_to(At(150)));
    EXPECT_EQ(refused.status().code(), ErrorCode::kFailedPrecondition);
    auto no_drain = snapshotter.OnWatermark(second_high, At(220));
    EXPECT_FALSE(no_drain.ok());
    // Not complete while a chunk is not durable.
    EXPECT_EQ(snapshotter.StatusName(), "running");
  }
  // Restart: the log never got the chunk, so it is read again from the start.
  IncrementalSnapshotter again(Options());
  ASSERT_TRUE(again.Load(At(150)).ok());
  auto next = again.NextTable(At(150), nullptr);
  ASSERT_TRUE(next.ok());
  ASSERT_NE(*next, nullptr);
  EXPECT_TRUE((*next)->last_key.empty());
  auto start = again.BeginChunk(**next, table, {"id"});
  std::string low = start.low;
  std::string high =
      again.ReadChunk(start.sequence, {Row(table, Operation::kRead, 1)}, {"1"}, true);
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
  std::ofstream(dir_ / "snapshot-requests" / "elsewhere.request")
      << "{\"data-collections\": [\"other.x\"]}";
  ASSERT_TRUE(snapshotter.TakeRequests().ok());
  EXPECT_TRUE(std::filesystem::exists(dir_ / "snapshot-requests" / "bad.rejected"));
  // Only a table the stream does not capture: rejected, saying which and why.
  ASSERT_TRUE(std::filesystem::exists(dir_ / "snapshot-requests" / "elsewhere.rejected"));
  std::ifstream reason_file(dir_ / "snapshot-requests" / "elsewhere.rejected");
  std::string reason((std::istreambuf_iterator<char>(reason_file)),
                     std::istreambuf_iterator<char>());
  EXPECT_NE(reason.find("other.x: not captured"), std::string::npos) << reason;
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

// A ctid entry (a PostgreSQL table without a key) planned with its end page and tuple snapshot
// survives the progress file, is cut into page ranges once (its first range is not cut
// again), and its chunks' windows note row images.
TEST_F(IncrementalSnapshotterTest, CtidEntriesAreCutIntoPageRangesOnce) {
  model::TableId t{"shop", "", "t"};
  IncrementalSnapshotter snapshotter(Options());
  ASSERT_TRUE(snapshotter.Load(SourcePosition()).ok());
  TableSnapshotProgress entry;
  entry.table = "shop.t";
  entry.upper_key = {"90"};
  entry.tuple_snapshot = "700:705:701";
  entry.relation_file = 42;
  ASSERT_TRUE(snapshotter.PlanInitialEntries({entry}).ok());
  ASSERT_TRUE(snapshotter.Load(SourcePosition()).ok());  // read back from the file
  auto next = snapshotter.NextTables(SourcePosition(), nullptr, 3);
  ASSERT_TRUE(next.ok());
  ASSERT_EQ(next->size(), 1u);
  EXPECT_EQ(*(*next)[0], entry);
  ASSERT_TRUE(IncrementalSnapshotter::Splittable(*(*next)[0]));
  ASSERT_TRUE(snapshotter.SplitTable(*(*next)[0], {{"30"}, {"60"}}).ok());
  EXPECT_EQ(snapshotter.Entries("shop.t"), 3u);
  next = snapshotter.NextTables(SourcePosition(), nullptr, 3);
  ASSERT_TRUE(next.ok());
  ASSERT_EQ(next->size(), 3u);
  std::vector<std::vector<std::string>> first_pages;
  std::vector<std::vector<std::string>> end_pages;
  for (const TableSnapshotProgress* range : *next) {
    first_pages.push_back(range->last_key);
    end_pages.push_back(range->upper_key);
    EXPECT_EQ(range->tuple_snapshot, entry.tuple_snapshot);
    EXPECT_EQ(range->relation_file, 42u);
  }
  EXPECT_EQ(first_pages, (std::vector<std::vector<std::string>>{{}, {"30"}, {"60"}}));
  EXPECT_EQ(end_pages, (std::vector<std::vector<std::string>>{{"30"}, {"60"}, {"90"}}));
  EXPECT_TRUE(IncrementalSnapshotter::Splittable(*(*next)[0]));
  EXPECT_FALSE(snapshotter.SplitTable(*(*next)[0], {{"15"}}).ok());  // already cut
  IncrementalSnapshotter::ChunkStart start = snapshotter.BeginChunk(*(*next)[0], t, {});
  std::vector<ChunkWindow*> windows;
  snapshotter.WindowsOf(t, windows);
  EXPECT_TRUE(windows.empty());  // opened by the low watermark
  ASSERT_TRUE(snapshotter.OnWatermark(start.low, At(100)).ok());
  snapshotter.WindowsOf(t, windows);
  ASSERT_EQ(windows.size(), 1u);
  EXPECT_TRUE(windows[0]->row_images());
}

// snapshot_parallelism: a table split into key ranges and a second table, read as chunks in
// flight at the same time, each with its own window; a crash rolls back only the range whose
// chunk the log does not hold.
TEST_F(IncrementalSnapshotterTest, RangesAndTablesReadInParallel) {
  model::TableId t{"shop", "", "t"};
  model::TableId u{"shop", "", "u"};
  {
    IncrementalSnapshotter snapshotter(Options());
    ASSERT_TRUE(snapshotter.Load(SourcePosition()).ok());
    ASSERT_TRUE(snapshotter.PlanInitial({"shop.t", "shop.u"}).ok());
    auto next = snapshotter.NextTables(SourcePosition(), nullptr, 4);
    ASSERT_TRUE(next.ok());
    ASSERT_EQ(next->size(), 2u);
    ASSERT_TRUE(IncrementalSnapshotter::Splittable(*(*next)[0]));
    ASSERT_TRUE(snapshotter.SplitTable(*(*next)[0], {{"10"}, {"20"}}).ok());
    next = snapshotter.NextTables(SourcePosition(), nullptr, 4);
    ASSERT_TRUE(next.ok());
    ASSERT_EQ(next->size(), 4u);  // three ranges of t, then u
    EXPECT_TRUE((*next)[0]->last_key.empty());
    EXPECT_EQ((*next)[0]->upper_key, (std::vector<std::string>{"10"}));
    EXPECT_EQ((*next)[1]->last_key, (std::vector<std::string>{"10"}));
    EXPECT_EQ((*next)[1]->upper_key, (std::vector<std::string>{"20"}));
    EXPECT_EQ((*next)[2]->last_key, (std::vector<std::string>{"20"}));
    EXPECT_TRUE((*next)[2]->upper_key.empty());
    EXPECT_FALSE(IncrementalSnapshotter::Splittable(*(*next)[1]));
    std::vector<IncrementalSnapshotter::ChunkStart> starts;
    for (TableSnapshotProgress* entry : *next) {
      starts.push_back(snapshotter.BeginChunk(*entry, entry->table == "shop.t" ? t : u, {"id"}));
    }
    EXPECT_TRUE(snapshotter.NextTables(SourcePosition(), nullptr, 4)->empty());
    // Range 1 reads 1..2 (more to come), range 2 reads 11 (its last), range 3 reads 21, 22
    // (more), u reads 1 (its last).
    std::vector<std::string> highs;
    highs.push_back(snapshotter.ReadChunk(
        starts[0].sequence, {Row(t, Operation::kRead, 1), Row(t, Operation::kRead, 2)}, {"2"},
        false));
    highs.push_back(
        snapshotter.ReadChunk(starts[1].sequence, {Row(t, Operation::kRead, 11)}, {"11"}, true));
    highs.push_back(snapshotter.ReadChunk(
        starts[2].sequence, {Row(t, Operation::kRead, 21), Row(t, Operation::kRead, 22)}, {"22"},
        false));
    highs.push_back(
        snapshotter.ReadChunk(starts[3].sequence, {Row(u, Operation::kRead, 1)}, {"1"}, true));
    for (size_t i = 0; i < starts.size(); ++i) {
      ASSERT_TRUE(snapshotter.OnWatermark(starts[i].low, At(100 + i)).ok());
    }
    // Key 22 of t changes inside every window of t; u's window ignores it.
    snapshotter.OnChange(Row(t, Operation::kUpdate, 22));
    std::vector<ChunkWindow*> windows;
    snapshotter.WindowsOf(t, windows);
    EXPECT_EQ(windows.size(), 3u);
    std::vector<size_t> kept;
    for (size_t i = 0; i < highs.size(); ++i) {
      auto rows = snapshotter.OnWatermark(highs[i], At(200 + 100 * i));
      ASSERT_TRUE(rows.ok()) << rows.status().ToString();
      ASSERT_TRUE(rows->has_value());
      kept.push_back((*rows)->rows.size());
    }
    EXPECT_EQ(kept, (std::vector<size_t>{2, 1, 1, 1}));
    EXPECT_FALSE(snapshotter.ChunkInFlight());
  }
  // The log holds the chunks at 200 and 300 only: ranges 3 and u are read again.
  IncrementalSnapshotter again(Options());
  ASSERT_TRUE(again.Load(At(350)).ok());
  const auto& tables = again.state()->tables;
  ASSERT_EQ(tables.size(), 4u);
  EXPECT_EQ(tables[0].last_key, (std::vector<std::string>{"2"}));
  EXPECT_EQ(tables[1].state, TableSnapshotState::kDone);
  EXPECT_EQ(tables[2].last_key, (std::vector<std::string>{"20"}));
  EXPECT_EQ(tables[3].state, TableSnapshotState::kPending);
  EXPECT_TRUE(tables[3].last_key.empty());
  auto next = again.NextTables(At(350), nullptr, 8);
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->size(), 3u);
  // Skipping one range gives up the whole table.
  ASSERT_TRUE(again.Skip(*(*next)[0], "gone").ok());
  EXPECT_EQ(again.state()->tables[2].state, TableSnapshotState::kSkipped);
  EXPECT_EQ(again.state()->tables[3].state, TableSnapshotState::kPending);
}

}  // namespace
}  // namespace eddy::source
