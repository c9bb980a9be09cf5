#include "monitor/alert_notifier.h"

#include <prometheus/counter.h>

#include "base/logging.h"
#include "base/metrics.h"
#include "base/thread_name.h"
#include "net/http_client.h"

namespace eddy::monitor {
namespace {

prometheus::Counter& Notifications(const std::string& result) {
  static auto& family = prometheus::BuildCounter()
                            .Name("eddy_alert_notifications_total")
                            .Help("Alert changes posted to [alerts] webhook_url, by result")
                            .Register(metrics::Registry());
  return family.Add({{"result", result}});
}

}  // namespace

Result<std::unique_ptr<AlertNotifier>> AlertNotifier::Start(AlertNotifierOptions options) {
  if (options.url.rfind("http://", 0) != 0 && options.url.rfind("https://", 0) != 0) {
    return InvalidArgument("alerts setting 'webhook_url' is \"" + options.url +
                           "\"; write an http:// or https:// URL");
  }
  std::unique_ptr<AlertNotifier> notifier(new AlertNotifier(std::move(options)));
  notifier->thread_ = std::thread([raw = notifier.get()] {
    NameCurrentThread("alert-notify");
    raw->Loop();
  });
  return notifier;
}

AlertNotifier::~AlertNotifier() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
    queue_.clear();
  }
  cancel_ = true;
  changed_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void AlertNotifier::Notify(const AlertChange& change) {
  std::string body = AlertChangeJson(change);
  {
    std::lock_guard lock(mu_);
    if (stop_) return;
    if (queue_.size() >= options_.max_queued) {
      queue_.pop_front();
      ++dropped_;
      Notifications("dropped").Increment();
    }
    queue_.push_back(std::move(body));
  }
  changed_.notify_all();
}

void AlertNotifier::Loop() {
  std::unique_ptr<net::HttpClient> client;
  while (true) {
    std::string body;
    {
      std::unique_lock lock(mu_);
      changed_.wait(lock, [&] { return stop_ || !queue_.empty(); });
      if (stop_) return;
      body = std::move(queue_.front());
      queue_.pop_front();
    }
    Deliver(client, body);
  }
}

void AlertNotifier::Deliver(std::unique_ptr<net::HttpClient>& client, const std::string& body) {
  auto logger = logging::Get("alerts");
  net::HttpClientOptions client_options;
  client_options.request_timeout = options_.request_timeout;
  client_options.connect_timeout = options_.connect_timeout;
  client_options.cancel = &cancel_;
  client_options.max_response_bytes = 64 * 1024;
  if (!client) {
    auto created = net::HttpClient::Create(client_options);
    if (!created.ok()) {
      logger->warn("alert webhook: cannot create an HTTP client: {}", created.status().ToString());
      ++failed_;
      Notifications("failed").Increment();
      return;
    }
    client = std::move(*created);
  }
  Backoff backoff(options_.backoff);
  Status last;
  for (int attempt = 1; attempt <= options_.max_attempts; ++attempt) {
    auto response = client->Post(options_.url, {{"content-type", "application/json"}}, body);
    if (response.ok() && response->status >= 200 && response->status < 300) {
      ++delivered_;
      Notifications("delivered").Increment();
      return;
    }
    if (response.ok()) {
      bool retriable = response->status == 429 || response->status >= 500;
      last = retriable ? Unavailable("HTTP " + std::to_string(response->status))
                       : PermissionDenied("HTTP " + std::to_string(response->status) +
                                          " (not retried: fix the webhook or its URL)");
    } else {
      last = response.status();
    }
    if (!last.IsRetriable() || attempt == options_.max_attempts) break;
    // Waits on the condition variable, so stopping interrupts the backoff.
    std::unique_lock lock(mu_);
    if (changed_.wait_for(lock, backoff.NextDelay(), [&] { return stop_; })) return;
  }
  if (cancel_) return;
  logger->warn("alert webhook: one notification not delivered: {}", last.ToString());
  ++failed_;
  Notifications("failed").Increment();
}

}  // namespace eddy::monitor
