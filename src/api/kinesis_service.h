// Kinesis Data Streams operations (target prefix Kinesis_20131202, JSON 1.1) over the change
// log. Field-by-field behaviour follows the AWS API reference as checked against botocore and
// the JS SDK (see docs/design/api.md and the reference notes it cites).
//
// Thread safety: Handle may be called from any number of connection threads at once; all
// shared state is in the log, which synchronises itself.
#pragma once

#include <optional>
#include <string_view>

#include "api/api_context.h"
#include "api/api_error.h"
#include "api/json_input.h"
#include "api/json_writer.h"

namespace eddy::api {

class KinesisService {
 public:
  explicit KinesisService(const ApiContext* context) : context_(context) {}

  // True for operation names this service implements.
  static bool Knows(std::string_view operation);
  // Runs a known operation: writes the response JSON object into `out` and returns nullopt,
  // or returns the error (and `out` is discarded by the caller).
  // `get_records_wait_ms` > 0 (opt-in, see kGetRecordsWaitHeader): a GetRecords that finds
  // an open shard empty waits up to that long for a record before answering.
  std::optional<ApiError> Handle(std::string_view operation, RequestBody& input, JsonWriter& out,
                                 int get_records_wait_ms = 0);

  // Request header a client may send to let GetRecords wait briefly on an empty open shard
  // (eddy extension; AWS answers at once and so does eddy without it). Values are clamped to
  // [0, kMaxGetRecordsWaitMs].
  static constexpr std::string_view kGetRecordsWaitHeader = "x-eddy-get-records-wait-ms";
  static constexpr int kMaxGetRecordsWaitMs = 1000;

  // Iterator expiry (Kinesis: 5 minutes).
  static constexpr int64_t kIteratorLifetimeMillis = 300'000;

 private:
  const ApiContext* context_;
};

// Maps a log Status to the AWS error a Kinesis client expects; `what` names the resource.
ApiError ApiErrorFromStatus(const Status& status, std::string_view what = {});

}  // namespace eddy::api
