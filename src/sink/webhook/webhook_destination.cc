#include "sink/webhook/webhook_destination.h"

#include <atomic>
#include <mutex>
#include <vector>

#include "io/file_system.h"
#include "net/client_settings.h"
#include "net/http_client.h"
#include "sink/webhook/lambda_events.h"
#include "sink/webhook/webhook_settings.h"

namespace eddy::sink::webhook {

namespace {

class WebhookDestination final : public consume::Destination {
 public:
  explicit WebhookDestination(WebhookSettings settings) : settings_(std::move(settings)) {
    headers_.emplace_back("Content-Type", "application/json");
    for (const auto& header : settings_.headers) headers_.push_back(header);
  }

  Status Open() override {
    EDDY_ASSIGN_OR_RETURN(
        client_options_,
        net::MakeClientOptions("webhook", settings_, *io::DefaultFileSystem(), &closing_));
    EDDY_ASSIGN_OR_RETURN(auto probe, net::HttpClient::Create(client_options_));
    Status reachable = probe->CheckConnection(settings_.endpoint);
    if (!reachable.ok()) {
      std::string fix = reachable.code() == ErrorCode::kFailedPrecondition
                            ? ""
                            : "; start the receiver or correct the sink URL";
      return Status(reachable.code(), reachable.message() + fix);
    }
    return Status::Ok();
  }

  consume::DeliveryOutcome Deliver(const consume::SinkBatch& batch) override {
    consume::DeliveryOutcome outcome;
    auto connection = Borrow();
    if (!connection.ok()) {
      outcome.failure = connection.status();
      return outcome;
    }
    auto any = BuildEventBodyInto(batch, settings_, &connection->body);
    if (!any.ok()) {
      Return(std::move(connection).value());
      outcome.failure = any.status();
      return outcome;
    }
    if (!*any) {  // nothing in the batch has a representation in the shape
      Return(std::move(connection).value());
      outcome.acknowledged = batch.records.size();
      return outcome;
    }
    auto reply = connection->client->Post(settings_.endpoint, headers_, connection->body);
    Return(std::move(connection).value());
    if (!reply.ok()) {
      // An oversized reply is the endpoint misbehaving, retried like any failed call; other
      // client errors keep their class (a certificate that stopped verifying needs the
      // operator).
      outcome.failure = reply.status().code() == ErrorCode::kResourceExhausted
                            ? Unavailable(reply.status().message())
                            : reply.status();
      return outcome;
    }
    return InterpretReply(batch, reply->status, reply->body, settings_.report_batch_item_failures);
  }

  Status Close() override {
    closing_ = true;
    std::lock_guard lock(mutex_);
    idle_.clear();
    return Status::Ok();
  }

 private:
  // A client with the body buffer it last sent: a lane reuses both, so neither the connection
  // nor the megabytes of a batch's body are set up afresh per batch.
  struct Connection {
    std::unique_ptr<net::HttpClient> client;
    std::string body;
  };

  Result<Connection> Borrow() {
    {
      std::lock_guard lock(mutex_);
      if (!idle_.empty()) {
        Connection connection = std::move(idle_.back());
        idle_.pop_back();
        return connection;
      }
    }
    EDDY_ASSIGN_OR_RETURN(auto client, net::HttpClient::Create(client_options_));
    return Connection{std::move(client), std::string()};
  }

  void Return(Connection connection) {
    std::lock_guard lock(mutex_);
    if (!closing_) idle_.push_back(std::move(connection));
  }

  const WebhookSettings settings_;
  net::HttpHeaders headers_;
  net::HttpClientOptions client_options_;  // set by Open, read-only afterwards
  std::atomic<bool> closing_{false};
  std::mutex mutex_;  // guards idle_
  std::vector<Connection> idle_;
};

}  // namespace

Result<std::unique_ptr<consume::Destination>> MakeWebhookDestination(
    const consume::SinkSpec& spec) {
  auto settings = ParseWebhookSettings(spec);
  if (!settings.ok()) return settings.status();
  return std::unique_ptr<consume::Destination>(new WebhookDestination(std::move(settings).value()));
}

}  // namespace eddy::sink::webhook
