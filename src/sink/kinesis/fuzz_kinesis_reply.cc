// Fuzz target: any bytes as a Kinesis endpoint's reply (PutRecords, DescribeStreamSummary, an
// error body) parse into results or give a clean error, never a crash.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "sink/kinesis/put_records.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  for (size_t expected : {size_t{0}, size_t{1}, size_t{3}}) {
    auto results = eddy::sink::kinesis::ParsePutRecordsReply(text, expected);
    if (results.ok() && results->size() != expected) std::abort();
    if (!results.ok() && results.status().code() != eddy::ErrorCode::kCorruption) std::abort();
  }
  auto summary = eddy::sink::kinesis::ParseDescribeStreamSummaryReply(text);
  if (!summary.ok() && summary.status().code() != eddy::ErrorCode::kCorruption) std::abort();
  for (int status : {400, 403, 500}) {
    eddy::Status error =
        eddy::sink::kinesis::ErrorFromReply("PutRecords", status, text, "s", "http://h/");
    if (error.ok() || error.message().empty()) std::abort();
  }
  return 0;
}
