#include "consume/on_failure_record.h"

#include <cassert>
#include <cstdio>
#include <ctime>
#include <random>

#include "format/json.h"

namespace eddy::consume {

std::string_view FailureConditionName(FailureCondition condition) {
  switch (condition) {
    case FailureCondition::kRetryAttemptsExhausted:
      return "RetryAttemptsExhausted";
    case FailureCondition::kMaximumRecordAgeExceeded:
      return "MaximumRecordAgeExceeded";
  }
  return "RetryAttemptsExhausted";
}

std::string Iso8601Millis(int64_t epoch_nanos) {
  auto floor_div = [](int64_t a, int64_t b) { return a / b - ((a % b != 0 && a < 0) ? 1 : 0); };
  int64_t millis = floor_div(epoch_nanos, 1'000'000);
  int64_t whole_seconds = floor_div(millis, 1000);
  int remainder = static_cast<int>(millis - whole_seconds * 1000);
  time_t seconds = static_cast<time_t>(whole_seconds);
  tm utc{};
  gmtime_r(&seconds, &utc);
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, remainder);
  return buffer;
}

namespace {

std::string RandomUuid() {
  thread_local std::mt19937_64 random{std::random_device{}()};
  uint64_t high = random();
  uint64_t low = random();
  high = (high & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;  // version 4
  low = (low & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;    // RFC 4122 variant
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "%08llx-%04llx-%04llx-%04llx-%012llx",
                static_cast<unsigned long long>(high >> 32),
                static_cast<unsigned long long>((high >> 16) & 0xffff),
                static_cast<unsigned long long>(high & 0xffff),
                static_cast<unsigned long long>(low >> 48),
                static_cast<unsigned long long>(low & 0xffffffffffffULL));
  return buffer;
}

}  // namespace

std::string BuildOnFailureRecord(const SinkBatch& batch, const OnFailureContext& context) {
  assert(!batch.records.empty());
  const SinkRecord& first = batch.records.front();
  const SinkRecord& last = batch.records.back();
  std::string function_arn = !context.function_arn.empty()
                                 ? context.function_arn
                                 : "arn:aws:lambda:" + context.region + ":" + context.account_id +
                                       ":function:" + batch.sink_name;
  std::string stream_arn = !context.stream_arn.empty()
                               ? context.stream_arn
                               : "arn:aws:kinesis:" + context.region + ":" + context.account_id +
                                     ":stream/" + batch.stream_name;
  format::JsonWriter writer;
  writer.BeginObject();
  writer.Key("requestContext");
  writer.BeginObject();
  writer.Member("requestId", context.request_id.empty() ? RandomUuid() : context.request_id);
  writer.Member("functionArn", function_arn);
  writer.Member("condition", FailureConditionName(context.condition));
  writer.MemberInt("approximateInvokeCount", context.approximate_invoke_count);
  writer.EndObject();
  writer.Key("responseContext");
  writer.BeginObject();
  writer.MemberInt("statusCode", context.status_code);
  writer.Member("executedVersion", "$LATEST");
  writer.Member("functionError", "Unhandled");
  writer.Member("errorMessage", context.failure.ok() ? "" : context.failure.ToString());
  writer.EndObject();
  writer.Member("version", "1.0");
  writer.Member("timestamp", Iso8601Millis(context.now_nanos));
  writer.Key(context.dynamodb ? "DDBStreamBatchInfo" : "KinesisBatchInfo");
  writer.BeginObject();
  writer.Member("shardId", ShardIdText(first));
  writer.Member("startSequenceNumber", SequenceNumberText(first));
  writer.Member("endSequenceNumber", SequenceNumberText(last));
  writer.Member("approximateArrivalOfFirstRecord", Iso8601Millis(first.arrival_nanos));
  writer.Member("approximateArrivalOfLastRecord", Iso8601Millis(last.arrival_nanos));
  writer.MemberInt("batchSize", static_cast<int64_t>(batch.records.size()));
  writer.Member("streamArn", stream_arn);
  writer.EndObject();
  writer.EndObject();
  return writer.Take();
}

}  // namespace eddy::consume
