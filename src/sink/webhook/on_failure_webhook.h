// OnFailureWebhook: sends on-failure records (consume/on_failure_record.h, Lambda's shape) to
// an `on_failure` URL: what the sink runner calls when its limits give up on records and the
// sink's on_failure is `webhook+http(s)://...` (or plain `http(s)://...`). The engine wires
// Post into the runner's failure handler.
//
// One POST per given-up batch, `Content-Type: application/json`; OK only on a 2xx reply, so
// the runner keeps the records outstanding (and retries) until the record is accepted. The
// URL is used as given, "webhook+" removed (its query string is the endpoint's).
//
// Thread safety: Post may be called from any thread; calls are serialized on one kept-alive
// connection (given-up batches are rare).
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "base/clock.h"
#include "base/status.h"
#include "consume/on_failure_record.h"
#include "consume/sink.h"
#include "net/http_client.h"

namespace eddy::sink::webhook {

struct OnFailureWebhookOptions {
  std::chrono::milliseconds request_timeout{30'000};
  std::string region = "us-east-1";
  std::string account_id = "000000000000";
  bool dynamodb = false;         // DDBStreamBatchInfo (the sink's event=dynamodb)
  std::string stream_arn;        // empty: built from region, account and the stream's name
  net::HttpHeaders headers;      // extra headers (an Authorization token)
  std::string ca_pem;            // for https with a private CA; empty: the system store
  const Clock* clock = nullptr;  // nullptr: the system clock (the record's timestamp)
};

class OnFailureWebhook {
 public:
  static Result<std::unique_ptr<OnFailureWebhook>> Create(OnFailureWebhookOptions options);

  // Posts the on-failure record of `given_up` (its records are the ones given up on).
  // `condition` is the runner's: "RetryAttemptsExhausted", or "RecordAgeExceeded" /
  // "MaximumRecordAgeExceeded" (written as Lambda's MaximumRecordAgeExceeded);
  // `status_code` the endpoint's last HTTP status (0 when unknown), `attempts` the deliveries
  // tried. Errors: the client's (retriable when the peer is), or kUnavailable naming a
  // non-2xx answer.
  Status Post(std::string_view url, const consume::SinkBatch& given_up, const Status& error,
              std::string_view condition, int status_code = 0, uint32_t attempts = 0);

 private:
  explicit OnFailureWebhook(OnFailureWebhookOptions options) : options_(std::move(options)) {}

  OnFailureWebhookOptions options_;
  std::mutex mutex_;  // guards client_
  std::unique_ptr<net::HttpClient> client_;
};

}  // namespace eddy::sink::webhook
