#include "source/incremental_snapshot.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace eddy::source
