// AlertNotifier: posts each raised and cleared alert (AlertChangeJson, docs/alerts.md) to the
// `[alerts] webhook_url`, on a thread of its own through net::HttpClient, retried with
// base/backoff.h while the failure is retriable (Status::IsRetriable: refused, reset,
// timeout; and HTTP 429 and 5xx answers) up to `max_attempts`.
//
// Never blocks the caller: Notify only queues. The queue holds at most `max_queued` changes;
// when full the oldest is dropped (counted). A webhook that does not answer delays only the
// notifications behind it (each request has `request_timeout`). Stopping (the destructor)
// cancels the request in flight and drops what is queued.
//
// Metrics: eddy_alert_notifications_total{result="delivered"|"failed"|"dropped"}.
//
// Thread safety: Notify from any thread; the destructor from the owner.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "base/backoff.h"
#include "base/status.h"
#include "monitor/alerts.h"

namespace eddy::net {
class HttpClient;
}

namespace eddy::monitor {

struct AlertNotifierOptions {
  std::string url;  // http:// or https://
  BackoffPolicy backoff{std::chrono::milliseconds(500), std::chrono::milliseconds(30'000), 2.0,
                        0.5};
  int max_attempts = 6;
  size_t max_queued = 256;
  std::chrono::milliseconds request_timeout{5000};
  std::chrono::milliseconds connect_timeout{2000};
};

class AlertNotifier {
 public:
  // kInvalidArgument for a URL that is not http(s).
  static Result<std::unique_ptr<AlertNotifier>> Start(AlertNotifierOptions options);
  ~AlertNotifier();
  AlertNotifier(const AlertNotifier&) = delete;
  AlertNotifier& operator=(const AlertNotifier&) = delete;

  void Notify(const AlertChange& change);

  // Counts, for tests and the log.
  uint64_t delivered() const { return delivered_.load(); }
  uint64_t failed() const { return failed_.load(); }
  uint64_t dropped() const { return dropped_.load(); }

 private:
  explicit AlertNotifier(AlertNotifierOptions options) : options_(std::move(options)) {}
  void Loop();
  // One change, with retries, through `client` (created on first use).
  void Deliver(std::unique_ptr<net::HttpClient>& client, const std::string& body);

  AlertNotifierOptions options_;
  std::mutex mu_;
  std::condition_variable changed_;
  std::deque<std::string> queue_;  // JSON bodies
  bool stop_ = false;
  std::atomic<bool> cancel_{false};
  std::atomic<uint64_t> delivered_{0};
  std::atomic<uint64_t> failed_{0};
  std::atomic<uint64_t> dropped_{0};
  std::thread thread_;
};

}  // namespace eddy::monitor
