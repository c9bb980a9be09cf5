#include "app/dedupe.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>

namespace eddy::app {
namespace {

using model::Operation;
using model::Value;

model::ChangeEvent Change(Operation op, int64_t id, const std::string& note, int64_t commit_ns,
                          const std::string& table = "orders") {
  model::ChangeEvent event;
  event.op = op;
  event.table = {"shop", "public", table};
  event.key = {{"id", Value::Int64(id)}};
  model::Row row{{"id", Value::Int64(id)}, {"note", Value::Text(note)}};
  if (op == Operation::kDelete) {
    event.before = row;
  } else {
    event.after = row;
  }
  event.commit_time_ns = commit_ns;
  return event;
}

std::map<int64_t, std::string> LiveNotes(const LastWriterWins& state) {
  std::map<int64_t, std::string> notes;
  for (const auto* entry : state.Live()) {
    notes[entry->event.key[0].value.Get<int64_t>()] =
        model::FindField(*entry->event.after, "note")->Get<std::string>();
  }
  return notes;
}

TEST(LastWriterWinsTest, DuplicatesAndOlderChangesAreStale) {
  LastWriterWins state;
  using O = LastWriterWins::Outcome;
  EXPECT_EQ(state.Add(Change(Operation::kUpdate, 1, "second", 200), {200, 3}, "3"), O::kApplied);
  // Arrives later but committed earlier: stale.
  EXPECT_EQ(state.Add(Change(Operation::kInsert, 1, "first", 100), {100, 1}, "1"), O::kStale);
  // The same record again (a replay): stale.
  EXPECT_EQ(state.Add(Change(Operation::kUpdate, 1, "second", 200), {200, 3}, "3"), O::kStale);
  // Same commit time: the log order breaks the tie, whatever the arrival order.
  EXPECT_EQ(state.Add(Change(Operation::kUpdate, 2, "later", 300), {300, 6}, "6"), O::kApplied);
  EXPECT_EQ(state.Add(Change(Operation::kUpdate, 2, "earlier", 300), {300, 5}, "5"), O::kStale);
  EXPECT_EQ(LiveNotes(state), (std::map<int64_t, std::string>{{1, "second"}, {2, "later"}}));
  ASSERT_EQ(state.Live().size(), 2u);
  EXPECT_EQ(state.Live()[0]->sequence_number, "3");  // ordered by (commit, sequence)
}

TEST(LastWriterWinsTest, DeletesRemoveKeysAndStayRemoved) {
  LastWriterWins state;
  using O = LastWriterWins::Outcome;
  state.Add(Change(Operation::kInsert, 1, "a", 100), {100, 1}, "1");
  EXPECT_EQ(state.Add(Change(Operation::kDelete, 1, "a", 200), {200, 2}, "2"), O::kApplied);
  EXPECT_EQ(state.live_count(), 0u);
  EXPECT_TRUE(state.Live().empty());
  // A replayed insert older than the delete does not resurrect the row.
  EXPECT_EQ(state.Add(Change(Operation::kInsert, 1, "a", 100), {100, 1}, "1"), O::kStale);
  EXPECT_TRUE(state.Live().empty());
  // A newer insert does.
  EXPECT_EQ(state.Add(Change(Operation::kInsert, 1, "b", 300), {300, 3}, "3"), O::kApplied);
  EXPECT_EQ(LiveNotes(state), (std::map<int64_t, std::string>{{1, "b"}}));
}

TEST(LastWriterWinsTest, PrimaryKeyChangeRemovesTheOldKey) {
  LastWriterWins state;
  state.Add(Change(Operation::kInsert, 3, "x", 100), {100, 1}, "1");
  model::ChangeEvent move = Change(Operation::kUpdate, 4, "x", 200);
  move.before = model::Row{{"id", Value::Int64(3)}, {"note", Value::Text("x")}};
  state.Add(move, {200, 2}, "2");
  EXPECT_EQ(LiveNotes(state), (std::map<int64_t, std::string>{{4, "x"}}));
  // The window output names both: the old key's removal and the new key.
  auto changed = state.TakeChanged();
  ASSERT_EQ(changed.size(), 2u);
  int deletes = 0;
  for (const auto* entry : changed) deletes += entry->event.op == Operation::kDelete ? 1 : 0;
  EXPECT_EQ(deletes, 1);
  EXPECT_TRUE(state.TakeChanged().empty());
}

TEST(LastWriterWinsTest, TruncateRemovesOlderRowsOfItsTableOnly) {
  LastWriterWins state;
  using O = LastWriterWins::Outcome;
  state.Add(Change(Operation::kInsert, 5, "old", 100), {100, 1}, "1");
  state.Add(Change(Operation::kInsert, 5, "other table", 100, "items"), {100, 2}, "2");
  model::ChangeEvent truncate;
  truncate.op = Operation::kTruncate;
  truncate.table = {"shop", "public", "orders"};
  truncate.commit_time_ns = 200;
  EXPECT_EQ(state.Add(truncate, {200, 3}, "3"), O::kApplied);
  EXPECT_EQ(state.live_count(), 1u);  // items.5 stays
  EXPECT_EQ(state.Add(Change(Operation::kInsert, 6, "before truncate", 150), {150, 4}, "4"), O::kStale);
  EXPECT_EQ(state.Add(truncate, {200, 3}, "3"), O::kStale);
  EXPECT_EQ(state.Add(Change(Operation::kInsert, 7, "after", 250), {250, 5}, "5"), O::kApplied);
  EXPECT_EQ(state.live_count(), 2u);
  // The window output includes the truncate record itself.
  bool saw_truncate = false;
  for (const auto* entry : state.TakeChanged()) saw_truncate |= entry->event.op == Operation::kTruncate;
  EXPECT_TRUE(saw_truncate);
}

TEST(LastWriterWinsTest, KeylessAndNonRowRecordsAreNotDeduplicated) {
  LastWriterWins state;
  model::ChangeEvent keyless = Change(Operation::kInsert, 1, "a", 100);
  keyless.key.clear();
  EXPECT_EQ(state.Add(keyless, {100, 1}, "1"), LastWriterWins::Outcome::kKeyless);
  for (Operation op : {Operation::kHeartbeat, Operation::kTransactionBegin, Operation::kTransactionEnd,
                       Operation::kSchemaChange, Operation::kMessage}) {
    model::ChangeEvent event;
    event.op = op;
    EXPECT_EQ(state.Add(event, {100, 2}, "2"), LastWriterWins::Outcome::kIgnored);
  }
  EXPECT_TRUE(state.Live().empty());
}

// The result does not depend on duplicates or arrival order: a random history, replayed
// shuffled with duplicates, ends in the state of applying it once in order.
TEST(LastWriterWinsTest, ShuffledHistoryWithDuplicatesConverges) {
  std::mt19937_64 random(7);
  for (int round = 0; round < 50; ++round) {
    struct Item {
      model::ChangeEvent event;
      ChangeOrder order;
    };
    std::vector<Item> history;
    std::map<int64_t, std::string> expected;
    uint64_t sequence = 0;
    int64_t commit = 1000;
    for (int i = 0; i < 200; ++i) {
      int64_t id = static_cast<int64_t>(random() % 20);
      if (random() % 3 == 0) commit += 1;  // several changes share a commit time
      ++sequence;
      std::string note = "v" + std::to_string(sequence);
      Operation op = expected.count(id) == 0 ? Operation::kInsert
                     : random() % 4 == 0     ? Operation::kDelete
                                             : Operation::kUpdate;
      if (op == Operation::kDelete) {
        expected.erase(id);
      } else {
        expected[id] = note;
      }
      history.push_back({Change(op, id, note, commit), {commit, sequence}});
    }
    std::vector<Item> arrivals = history;
    for (int i = 0; i < 60; ++i) arrivals.push_back(history[random() % history.size()]);
    std::shuffle(arrivals.begin(), arrivals.end(), random);
    LastWriterWins state;
    for (const Item& item : arrivals) state.Add(item.event, item.order, std::to_string(item.order.sequence));
    ASSERT_EQ(LiveNotes(state), expected) << "round " << round;
  }
}

}  // namespace
}  // namespace eddy::app
