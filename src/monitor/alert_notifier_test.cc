#include "monitor/alert_notifier.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <vector>

#include "api/http_server.h"

namespace eddy::monitor {
namespace {

using namespace std::chrono_literals;

// A webhook that answers the first `failures` requests with 503, then 200, and keeps the
// bodies it accepted.
class Receiver {
 public:
  explicit Receiver(int failures) : failures_(failures) {
    api::HttpServerOptions options;
    options.listen = "127.0.0.1:0";
    auto server = api::HttpServer::Start(
        options, [this](const api::HttpRequest& request, api::HttpResponse* response) {
          std::lock_guard lock(mu_);
          ++requests_;
          if (failures_ > 0) {
            --failures_;
            response->status = 503;
            return;
          }
          bodies_.push_back(request.body);
          response->status = 200;
          changed_.notify_all();
        });
    EXPECT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(server).value();
  }
  std::string url() const {
    return "http://127.0.0.1:" + std::to_string(server_->port()) + "/alerts";
  }
  // Waits (bounded) until `count` bodies arrived.
  std::vector<std::string> WaitFor(size_t count) {
    std::unique_lock lock(mu_);
    changed_.wait_for(lock, 20s, [&] { return bodies_.size() >= count; });
    return bodies_;
  }
  int requests() {
    std::lock_guard lock(mu_);
    return requests_;
  }

 private:
  std::mutex mu_;
  std::condition_variable changed_;
  int failures_;
  int requests_ = 0;
  std::vector<std::string> bodies_;
  std::unique_ptr<api::HttpServer> server_;
};

AlertChange Change(bool raised) {
  Alert alert{AlertKind::kSinkLagSeconds, "sink", "hook", "lagging", 12, 10,
              1'700'000'000'000'000'000};
  return {raised, alert, 1'700'000'001'000'000'000};
}

AlertNotifierOptions Fast(std::string url) {
  AlertNotifierOptions options;
  options.url = std::move(url);
  options.backoff = BackoffPolicy{1ms, 5ms, 2.0, 0.5};
  return options;
}

TEST(AlertNotifier, PostsEachChangeInOrderAndRetriesA503) {
  Receiver receiver(/*failures=*/2);
  auto notifier = AlertNotifier::Start(Fast(receiver.url()));
  ASSERT_TRUE(notifier.ok()) << notifier.status().ToString();
  (*notifier)->Notify(Change(true));
  (*notifier)->Notify(Change(false));
  auto bodies = receiver.WaitFor(2);
  ASSERT_EQ(bodies.size(), 2u);
  EXPECT_NE(bodies[0].find("\"state\":\"raised\""), std::string::npos) << bodies[0];
  EXPECT_NE(bodies[1].find("\"state\":\"cleared\""), std::string::npos) << bodies[1];
  EXPECT_EQ(receiver.requests(), 4);
}

TEST(AlertNotifier, UnreachableWebhookNeverBlocksAndStopsPromptly) {
  // Port 9 (discard) on loopback: nothing listens, connections are refused.
  AlertNotifierOptions options = Fast("http://127.0.0.1:9/alerts");
  options.max_queued = 3;
  options.backoff = BackoffPolicy{10s, 10s, 1.0, 0};  // the first retry waits long
  auto notifier = AlertNotifier::Start(options);
  ASSERT_TRUE(notifier.ok());
  auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < 10; ++i) (*notifier)->Notify(Change(true));
  EXPECT_LT(std::chrono::steady_clock::now() - started, 1s);  // Notify only queues
  EXPECT_GE((*notifier)->dropped(), 6u);
  notifier->reset();  // interrupts the backoff wait
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
}

TEST(AlertNotifier, RefusesANonHttpUrl) {
  auto notifier = AlertNotifier::Start(Fast("mailto:ops@example.com"));
  ASSERT_FALSE(notifier.ok());
  EXPECT_NE(notifier.status().message().find("webhook_url"), std::string::npos);
}

}  // namespace
}  // namespace eddy::monitor
