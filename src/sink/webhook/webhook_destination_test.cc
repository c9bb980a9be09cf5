// The destination against eddy's own HTTP server as the endpoint. The failure modes of a real
// receiver (hang, reset, malformed replies) are covered again by
// tests/integration/webhook_destination_test.cc against tests/e2e/webhook_receiver.py.
#include "sink/webhook/webhook_destination.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <simdjson.h>
#include <sys/socket.h>
#include <unistd.h>

#include <condition_variable>
#include <mutex>
#include <thread>

#include "api/http_server.h"
#include "sink/webhook/on_failure_webhook.h"

namespace eddy::sink::webhook {
namespace {

using namespace std::chrono_literals;

struct Received {
  std::mutex mutex;
  std::vector<api::HttpRequest> requests;
  int status = 200;
  std::string reply;
};

std::unique_ptr<api::HttpServer> StartReceiver(Received& received) {
  api::HttpServerOptions options;
  options.listen = "127.0.0.1:0";
  auto server = api::HttpServer::Start(
      options, [&received](const api::HttpRequest& request, api::HttpResponse* response) {
        std::lock_guard lock(received.mutex);
        received.requests.push_back(request);
        response->status = received.status;
        response->body = received.reply;
      });
  EXPECT_TRUE(server.ok()) << server.status().ToString();
  return std::move(server).value();
}

consume::SinkSpec Spec(uint16_t port, std::map<std::string, std::string> settings = {}) {
  consume::SinkSpec spec;
  spec.name = "hook";
  spec.stream = "orders";
  spec.url = "webhook+http://127.0.0.1:" + std::to_string(port) + "/lambda?batch_size=10";
  spec.settings = std::move(settings);
  return spec;
}

consume::SinkBatch Batch(size_t count, size_t first = 0) {
  consume::SinkBatch batch;
  batch.sink_name = "hook";
  batch.stream_name = "orders";
  for (size_t i = first; i < first + count; ++i) {
    consume::SinkRecord record;
    record.shard_id = "shardId-000000000000";
    record.sequence_number = std::to_string(1000 + i);
    record.partition_key = "k" + std::to_string(i % 3);
    record.data = R"({"n":)" + std::to_string(i) + "}";
    record.arrival_nanos = 1700000000000000000;
    batch.data_bytes += record.data.size();
    batch.records.push_back(std::move(record));
  }
  return batch;
}

std::unique_ptr<consume::Destination> Make(const consume::SinkSpec& spec) {
  auto destination = MakeWebhookDestination(spec);
  EXPECT_TRUE(destination.ok()) << destination.status().ToString();
  return std::move(destination).value();
}

uint16_t UnusedPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  socklen_t length = sizeof(address);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

TEST(WebhookDestination, FactoryRejectsBadSettingsNamingTheKey) {
  auto destination = MakeWebhookDestination(Spec(1, {{"colour", "blue"}}));
  ASSERT_FALSE(destination.ok());
  EXPECT_EQ(destination.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(destination.status().message().find("'colour'"), std::string::npos);
}

TEST(WebhookDestination, OpenFailsWhenTheEndpointIsUnreachable) {
  auto destination = Make(Spec(UnusedPort()));
  Status opened = destination->Open();
  EXPECT_EQ(opened.code(), ErrorCode::kUnavailable) << opened.ToString();
  EXPECT_NE(opened.message().find("start the receiver"), std::string::npos) << opened.ToString();
}

TEST(WebhookDestination, OpenFailsOnAnUnreadableCaFile) {
  Received received;
  auto server = StartReceiver(received);
  auto destination = Make(Spec(server->port(), {{"ca_file", "/nonexistent/ca.pem"}}));
  Status opened = destination->Open();
  EXPECT_EQ(opened.code(), ErrorCode::kFailedPrecondition) << opened.ToString();
  EXPECT_NE(opened.message().find("'ca_file'"), std::string::npos) << opened.ToString();
}

TEST(WebhookDestination, PostsOneLambdaEventPerBatchWithTheConfiguredHeaders) {
  Received received;
  auto server = StartReceiver(received);
  auto destination = Make(Spec(server->port(), {{"header.Authorization", "Bearer s3cret"}}));
  ASSERT_TRUE(destination->Open().ok());
  auto outcome = destination->Deliver(Batch(5));
  EXPECT_EQ(outcome.acknowledged, 5u);
  EXPECT_TRUE(outcome.failure.ok()) << outcome.failure.ToString();
  EXPECT_EQ(outcome.protocol_status, 200);
  ASSERT_TRUE(destination->Close().ok());

  std::lock_guard lock(received.mutex);
  ASSERT_EQ(received.requests.size(), 1u);
  const api::HttpRequest& request = received.requests[0];
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.target, "/lambda");
  EXPECT_EQ(*request.Header("authorization"), "Bearer s3cret");
  EXPECT_EQ(*request.Header("content-type"), "application/json");
  simdjson::dom::parser parser;
  simdjson::dom::element body = parser.parse(request.body);
  simdjson::dom::array records = body["Records"];
  ASSERT_EQ(records.size(), 5u);
  EXPECT_EQ(std::string_view(records.at(4)["kinesis"]["sequenceNumber"]), "1004");
}

TEST(WebhookDestination, ReportsFailuresAndPartialFailures) {
  Received received;
  auto server = StartReceiver(received);
  auto destination = Make(Spec(server->port(), {{"report_batch_item_failures", "true"}}));
  ASSERT_TRUE(destination->Open().ok());
  {
    std::lock_guard lock(received.mutex);
    received.status = 500;
    received.reply = "down";
  }
  auto failed = destination->Deliver(Batch(3));
  EXPECT_EQ(failed.acknowledged, 0u);
  EXPECT_TRUE(failed.failure.IsRetriable()) << failed.failure.ToString();
  EXPECT_EQ(failed.protocol_status, 500);
  {
    std::lock_guard lock(received.mutex);
    received.status = 200;
    received.reply = R"({"batchItemFailures":[{"itemIdentifier":"1002"}]})";
  }
  auto partial = destination->Deliver(Batch(3));
  EXPECT_EQ(partial.acknowledged, 2u);
  EXPECT_TRUE(partial.item_failure);
  {
    std::lock_guard lock(received.mutex);
    received.reply = std::string(17u << 20, ' ');  // above the client's 16 MiB reply limit
  }
  auto oversized = destination->Deliver(Batch(3));
  EXPECT_EQ(oversized.acknowledged, 0u);
  EXPECT_EQ(oversized.failure.code(), ErrorCode::kUnavailable) << oversized.failure.ToString();
  ASSERT_TRUE(destination->Close().ok());
}

TEST(WebhookDestination, DeliversConcurrentlyFromSeveralLanes) {
  Received received;
  auto server = StartReceiver(received);
  auto destination = Make(Spec(server->port()));
  ASSERT_TRUE(destination->Open().ok());
  std::vector<std::thread> lanes;
  std::atomic<size_t> acknowledged{0};
  for (size_t lane = 0; lane < 4; ++lane) {
    lanes.emplace_back([&, lane] {
      for (size_t round = 0; round < 5; ++round) {
        auto outcome = destination->Deliver(Batch(2, lane * 100 + round * 2));
        acknowledged += outcome.acknowledged;
      }
    });
  }
  for (auto& lane : lanes) lane.join();
  EXPECT_EQ(acknowledged.load(), 40u);
  std::lock_guard lock(received.mutex);
  EXPECT_EQ(received.requests.size(), 20u);
  ASSERT_TRUE(destination->Close().ok());
}

TEST(WebhookDestination, CloseCancelsARequestInFlight) {
  std::mutex mutex;
  std::condition_variable cv;
  bool entered = false;
  bool released = false;
  api::HttpServerOptions options;
  options.listen = "127.0.0.1:0";
  auto server = api::HttpServer::Start(options, [&](const api::HttpRequest&, api::HttpResponse*) {
    std::unique_lock lock(mutex);
    entered = true;
    cv.notify_all();
    cv.wait_for(lock, 30s, [&] { return released; });
  });
  ASSERT_TRUE(server.ok());
  auto destination = Make(Spec((*server)->port()));
  ASSERT_TRUE(destination->Open().ok());
  consume::DeliveryOutcome outcome;
  std::thread lane([&] { outcome = destination->Deliver(Batch(1)); });
  {
    std::unique_lock lock(mutex);
    ASSERT_TRUE(cv.wait_for(lock, 10s, [&] { return entered; }));
  }
  ASSERT_TRUE(destination->Close().ok());
  lane.join();
  {
    std::lock_guard lock(mutex);
    released = true;
  }
  cv.notify_all();
  EXPECT_EQ(outcome.acknowledged, 0u);
  EXPECT_EQ(outcome.failure.code(), ErrorCode::kAborted) << outcome.failure.ToString();
}

TEST(OnFailureWebhook, PostsLambdasOnFailureRecordAndNeedsA2xx) {
  Received received;
  auto server = StartReceiver(received);
  ManualClock clock(1573691886021000000);
  OnFailureWebhookOptions options;
  options.clock = &clock;
  options.headers = {{"Authorization", "Bearer t"}};
  auto poster = OnFailureWebhook::Create(options);
  ASSERT_TRUE(poster.ok()) << poster.status().ToString();
  std::string url = "webhook+http://127.0.0.1:" + std::to_string(server->port()) + "/failed";
  Status posted =
      (*poster)->Post(url, Batch(3), Unavailable("HTTP 500"), "RecordAgeExceeded", 500, 4);
  ASSERT_TRUE(posted.ok()) << posted.ToString();
  {
    std::lock_guard lock(received.mutex);
    ASSERT_EQ(received.requests.size(), 1u);
    EXPECT_EQ(received.requests[0].target, "/failed");
    EXPECT_EQ(*received.requests[0].Header("authorization"), "Bearer t");
    simdjson::dom::parser parser;
    simdjson::dom::element record = parser.parse(received.requests[0].body);
    EXPECT_EQ(std::string_view(record["requestContext"]["condition"]), "MaximumRecordAgeExceeded");
    EXPECT_EQ(int64_t(record["requestContext"]["approximateInvokeCount"]), 4);
    EXPECT_EQ(int64_t(record["responseContext"]["statusCode"]), 500);
    EXPECT_EQ(std::string_view(record["timestamp"]), "2019-11-14T00:38:06.021Z");
    EXPECT_EQ(int64_t(record["KinesisBatchInfo"]["batchSize"]), 3);
    EXPECT_EQ(std::string_view(record["KinesisBatchInfo"]["startSequenceNumber"]), "1000");
    EXPECT_EQ(std::string_view(record["KinesisBatchInfo"]["endSequenceNumber"]), "1002");
    received.status = 503;
  }
  Status refused = (*poster)->Post(url, Batch(1), Unavailable("x"), "RetryAttemptsExhausted");
  EXPECT_EQ(refused.code(), ErrorCode::kUnavailable) << refused.ToString();
  EXPECT_EQ(
      (*poster)->Post("ftp://x/", Batch(1), Unavailable("x"), "RetryAttemptsExhausted").code(),
      ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace eddy::sink::webhook
