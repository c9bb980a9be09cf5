#include "log/log_metrics.h"

#include <gtest/gtest.h>

#include "base/metrics.h"
#include "log/log_test_util.h"

namespace eddy::log {
namespace {

using testing::FaultStore;
using testing::MakeRecord;
using testing::PgPosition;

// The value of the sample `name{labels}` in the registry's text, or -1 when absent.
double Sample(const std::string& series) {
  std::string text = eddy::metrics::SerializeText();
  size_t at = text.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + series.size() + 2));
}

TEST(LogMetrics, CommitsFsyncsAndRetentionDropsAreCounted) {
  FaultStore env;
  env.options.segment_bytes = 1024;
  env.Open();
  StreamOptions options;
  options.shard_count = 2;
  options.retention_nanos = 3600LL * 1'000'000'000;
  auto stream = *env.store->CreateStream("metrics-s", options);
  double fsyncs_before = Sample("eddy_log_fsync_duration_seconds_count");

  // One group commit of three records, and one transaction appended in parts.
  std::vector<AppendRecord> records = {MakeRecord("a", "1"), MakeRecord("b", "22"),
                                       MakeRecord("c", "333")};
  ASSERT_TRUE(stream->AppendTransaction(std::move(records), PgPosition(10)).ok());
  EXPECT_EQ(Sample("eddy_log_appended_records_total{stream=\"metrics-s\"}"), 3);
  double bytes_after_one = Sample("eddy_log_appended_bytes_total{stream=\"metrics-s\"}");
  EXPECT_GT(bytes_after_one, 6);  // payloads and keys plus frame headers
  EXPECT_EQ(Sample("eddy_log_commit_duration_seconds_count{stream=\"metrics-s\"}"), 1);
  EXPECT_GT(Sample("eddy_log_fsync_duration_seconds_count"), fsyncs_before);

  auto appender = *stream->BeginTransaction();
  ASSERT_TRUE(appender->Append({MakeRecord("d", "4444")}).ok());
  ASSERT_TRUE(appender->Append({MakeRecord("e", "55555")}).ok());
  auto committed = appender->Commit(PgPosition(20));
  ASSERT_TRUE(committed.ok()) << committed.status().ToString();
  EXPECT_EQ(Sample("eddy_log_appended_records_total{stream=\"metrics-s\"}"), 5);
  EXPECT_GT(Sample("eddy_log_appended_bytes_total{stream=\"metrics-s\"}"), bytes_after_one + 9);
  EXPECT_EQ(Sample("eddy_log_commit_duration_seconds_count{stream=\"metrics-s\"}"), 2);

  // A duplicate is no commit.
  ASSERT_TRUE(stream->AppendTransaction({MakeRecord("a", "1")}, PgPosition(10))->duplicate);
  EXPECT_EQ(Sample("eddy_log_appended_records_total{stream=\"metrics-s\"}"), 5);

  for (int i = 0; i < 40; ++i) {
    ASSERT_TRUE(stream->Append(MakeRecord("k", std::string(100, 'o'))).ok());
  }
  EXPECT_EQ(Sample("eddy_log_retention_dropped_segments_total{stream=\"metrics-s\"}"), 0);
  env.clock.Advance(2 * options.retention_nanos);
  ASSERT_TRUE(stream->Append(MakeRecord("k", "fresh")).ok());
  auto dropped = stream->EnforceRetention();
  ASSERT_TRUE(dropped.ok()) << dropped.status().ToString();
  ASSERT_GT(*dropped, 0u);
  EXPECT_EQ(Sample("eddy_log_retention_dropped_segments_total{stream=\"metrics-s\"}"),
            static_cast<double>(*dropped));
  EXPECT_GT(Sample("eddy_log_retention_dropped_bytes_total{stream=\"metrics-s\"}"),
            static_cast<double>(*dropped) * 100);
}

}  // namespace
}  // namespace eddy::log
