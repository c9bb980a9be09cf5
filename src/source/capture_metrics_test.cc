#include "source/capture_metrics.h"

#include <gtest/gtest.h>

#include "base/metrics.h"

namespace eddy::source {
namespace {

bool Has(const std::string& text, const std::string& line) {
  return text.find(line) != std::string::npos;
}

TEST(CaptureProbe, EventsAreCountedWhenTheTallyIsApplied) {
  CaptureProbe probe("probe-events");
  TableCounters* items = probe.Table(model::TableId{"db", "public", "items"});
  EXPECT_EQ(items, probe.Table("public.items"));  // one object per table
  TableCounters* orders = probe.Table("public.orders");
  EventTally tally;
  tally.Add(items, model::Operation::kInsert);
  tally.Add(items, model::Operation::kInsert);
  tally.Add(orders, model::Operation::kDelete, 3);
  tally.Add(items, model::Operation::kInsert);  // not adjacent: merged by the slow path
  EXPECT_FALSE(Has(metrics::SerializeText(), "stream=\"probe-events\",table=\"public.items\""));
  tally.Apply();
  std::string text = metrics::SerializeText();
  EXPECT_TRUE(Has(text,
                  "eddy_capture_events_total{op=\"c\",stream=\"probe-events\","
                  "table=\"public.items\"} 3"))
      << text;
  EXPECT_TRUE(Has(text,
                  "eddy_capture_events_total{op=\"d\",stream=\"probe-events\","
                  "table=\"public.orders\"} 3"))
      << text;
  EventTally more;
  more.Add(orders, model::Operation::kDelete, 2);
  tally.Clear();
  EXPECT_TRUE(tally.empty());
  tally.Merge(more);
  tally.Apply();
  EXPECT_TRUE(Has(metrics::SerializeText(),
                  "eddy_capture_events_total{op=\"d\",stream=\"probe-events\","
                  "table=\"public.orders\"} 5"));
}

TEST(CaptureProbe, LagFromCommitTimeToDurable) {
  CaptureProbe probe("probe-lag");
  const int64_t commit = 1'700'000'000'000'000'000;
  probe.TransactionDurable(commit, commit + 250'000'000);    // 0.25 s
  probe.TransactionDurable(commit, commit + 2'000'000'000);  // 2 s: the gauge shows the last
  std::string text = metrics::SerializeText();
  EXPECT_TRUE(Has(text, "eddy_capture_lag_seconds{stream=\"probe-lag\"} 2\n")) << text;
  EXPECT_TRUE(Has(text, "eddy_capture_transactions_total{stream=\"probe-lag\"} 2\n")) << text;
  EXPECT_TRUE(Has(text, "eddy_capture_commit_to_durable_seconds_count{stream=\"probe-lag\"} 2\n"))
      << text;
  EXPECT_TRUE(Has(text,
                  "eddy_capture_commit_to_durable_seconds_bucket{stream=\"probe-lag\","
                  "le=\"0.25\"} 1\n"))
      << text;
  EXPECT_TRUE(Has(text,
                  "eddy_capture_last_durable_commit_timestamp_seconds{stream=\"probe-lag\"} "
                  "1700000000"))
      << text;
}

TEST(CaptureProbe, RunsOfTransactionsUpdateTheHistogramOnce) {
  CaptureProbe probe("probe-runs");
  const int64_t second = 1'000'000'000;
  const int64_t now = 1'700'000'010 * second;
  probe.TransactionsDurable({{now - 3 * second, 4}, {now, 2}}, now);
  std::string text = metrics::SerializeText();
  EXPECT_TRUE(Has(text, "eddy_capture_transactions_total{stream=\"probe-runs\"} 6\n")) << text;
  EXPECT_TRUE(Has(text, "eddy_capture_commit_to_durable_seconds_count{stream=\"probe-runs\"} 6\n"))
      << text;
  EXPECT_TRUE(Has(text, "eddy_capture_commit_to_durable_seconds_sum{stream=\"probe-runs\"} 12\n"))
      << text;
  EXPECT_TRUE(Has(text,
                  "eddy_capture_commit_to_durable_seconds_bucket{stream=\"probe-runs\","
                  "le=\"0.0001\"} 2\n"))
      << text;
  EXPECT_TRUE(Has(text,
                  "eddy_capture_commit_to_durable_seconds_bucket{stream=\"probe-runs\","
                  "le=\"2.5\"} 2\n"))
      << text;
  EXPECT_TRUE(Has(text,
                  "eddy_capture_commit_to_durable_seconds_bucket{stream=\"probe-runs\","
                  "le=\"5\"} 6\n"))
      << text;
  EXPECT_TRUE(Has(text, "eddy_capture_lag_seconds{stream=\"probe-runs\"} 0\n")) << text;
}

TEST(CaptureProbe, SlotStatusLagBytesAndSnapshotProgress) {
  CaptureProbe probe("probe-slot");
  probe.SetSlotWalStatus("unreserved");
  probe.SetSourceLagBytes(4096);
  probe.SetSlotSafeWalSize(1 << 20);
  probe.AddSnapshotRows("public.items", 10);
  probe.AddSnapshotRows("public.items", 5);
  probe.SetSnapshotTablesRemaining(2);
  std::string text = metrics::SerializeText();
  EXPECT_TRUE(
      Has(text, "eddy_source_slot_wal_status{status=\"unreserved\",stream=\"probe-slot\"} 1"))
      << text;
  EXPECT_TRUE(Has(text, "eddy_source_slot_wal_status{status=\"reserved\",stream=\"probe-slot\"} 0"))
      << text;
  EXPECT_TRUE(Has(text, "eddy_source_lag_bytes{stream=\"probe-slot\"} 4096\n")) << text;
  EXPECT_TRUE(Has(text, "eddy_source_slot_safe_wal_size_bytes{stream=\"probe-slot\"} 1048576\n"))
      << text;
  EXPECT_TRUE(
      Has(text, "eddy_snapshot_rows_total{stream=\"probe-slot\",table=\"public.items\"} 15"))
      << text;
  EXPECT_TRUE(Has(text, "eddy_snapshot_tables_remaining{stream=\"probe-slot\"} 2\n")) << text;

  // Unknown values remove the samples rather than reporting a stale or made-up number.
  probe.SetSourceLagBytes(std::nullopt);
  probe.SetSlotSafeWalSize(std::nullopt);
  probe.SetSlotWalStatus("");
  text = metrics::SerializeText();
  EXPECT_FALSE(Has(text, "eddy_source_lag_bytes{stream=\"probe-slot\"}")) << text;
  EXPECT_FALSE(Has(text, "eddy_source_slot_safe_wal_size_bytes{stream=\"probe-slot\"}")) << text;
  EXPECT_TRUE(
      Has(text, "eddy_source_slot_wal_status{status=\"unreserved\",stream=\"probe-slot\"} 0"))
      << text;
}

TEST(CaptureProbe, TwoProbesOfOneStreamShareTheOptionalSamplesSafely) {
  CaptureProbe first("probe-twice");
  CaptureProbe second("probe-twice");  // e.g. a restarted capture while the old one ends
  first.SetSourceLagBytes(10);
  second.SetSourceLagBytes(std::nullopt);  // removes the shared sample
  first.SetSourceLagBytes(20);             // and the first probe sets it again
  EXPECT_TRUE(Has(metrics::SerializeText(), "eddy_source_lag_bytes{stream=\"probe-twice\"} 20\n"));
  first.SetSlotSafeWalSize(5);
  second.SetSlotSafeWalSize(std::nullopt);
  second.SetSlotSafeWalSize(7);
  EXPECT_TRUE(Has(metrics::SerializeText(),
                  "eddy_source_slot_safe_wal_size_bytes{stream=\"probe-twice\"} 7\n"));
}

TEST(PeriodicPoller, PollsAtOnceAgainWhenPokedAndStopsOnDestruction) {
  std::mutex mutex;
  std::condition_variable changed;
  int polls = 0;
  auto wait_for = [&](int count) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, std::chrono::seconds(10), [&] { return polls >= count; });
  };
  {
    // An interval far beyond the test: only the first poll and Poke() can cause polls.
    PeriodicPoller poller(std::chrono::hours(1), [&] {
      std::lock_guard lock(mutex);
      ++polls;
      changed.notify_all();
    });
    ASSERT_TRUE(wait_for(1));
    poller.Poke();
    ASSERT_TRUE(wait_for(2));
    EXPECT_FALSE(poller.stopping());
  }
  std::lock_guard lock(mutex);
  EXPECT_EQ(polls, 2);
}

TEST(CaptureProbe, PublishesTheLatestReplicationStatusByStream) {
  EXPECT_FALSE(LatestReplicationStatus("replication-test-none"));
  CaptureProbe probe("replication-test");
  ReplicationStatus status;
  status.kind = "postgresql";
  status.slot_name = "eddy_slot";
  status.lag_bytes = 42;
  probe.SetReplicationStatus(status);
  status.lag_bytes = 7;  // a later poll replaces the earlier one
  probe.SetReplicationStatus(status);
  auto latest = LatestReplicationStatus("replication-test");
  ASSERT_TRUE(latest);
  EXPECT_EQ(latest->slot_name, "eddy_slot");
  EXPECT_EQ(latest->lag_bytes, 7);
}

}  // namespace
}  // namespace eddy::source
