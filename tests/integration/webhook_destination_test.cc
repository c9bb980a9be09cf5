// The webhook destination alone (Open, Deliver, Close) against tests/e2e/webhook_receiver.py,
// a separate process, in each of the receiver's failure modes: every mode must give the
// DeliveryOutcome the sink runner relies on (what is acknowledged, whether it is retriable),
// and delivery must recover when the receiver does.
#include "sink/webhook/webhook_destination.h"

#include <gtest/gtest.h>
#include <simdjson.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "io/file_system.h"
#include "localdb/process.h"
#include "net/http_client.h"

namespace eddy {
namespace {

using namespace std::chrono_literals;

std::string SourceDir() {
  const char* dir = std::getenv("EDDY_SOURCE_DIR");
  return dir != nullptr ? dir : ".";
}

class Receiver {
 public:
  // Starts the receiver (on `port`, 0 for any) and waits until it listens.
  Status Start(const std::filesystem::path& dir, uint16_t port = 0) {
    port_file_ = (dir / "receiver.port").string();
    log_path_ = (dir / "receiver.jsonl").string();
    std::filesystem::remove(port_file_);
    localdb::ChildOptions options;
    options.argv = {"/usr/bin/python3",
                    SourceDir() + "/tests/e2e/webhook_receiver.py",
                    "--port",
                    std::to_string(port),
                    "--port-file",
                    port_file_,
                    "--log",
                    log_path_};
    options.log_path = (dir / "receiver.out").string();
    EDDY_ASSIGN_OR_RETURN(process_, localdb::ChildProcess::Start(options));
    io::FileSystem* fs = io::DefaultFileSystem();
    auto deadline = std::chrono::steady_clock::now() + 20s;
    while (std::chrono::steady_clock::now() < deadline) {
      auto text = fs->ReadFile(port_file_);
      if (text.ok() && !text->empty()) {
        port_ = static_cast<uint16_t>(std::stoi(*text));
        return Status::Ok();
      }
      if (process_.TryWait()) return Unavailable("the receiver exited; see receiver.out");
      std::this_thread::sleep_for(20ms);  // polling a file another process writes
    }
    return Timeout("the receiver did not start within 20 s");
  }

  void Stop() { process_.Stop(SIGKILL, 5s); }

  // Sets the receiver's mode through its control endpoint.
  void Control(const std::string& json) {
    auto client = net::HttpClient::Create();
    ASSERT_TRUE(client.ok());
    auto reply =
        (*client)->Post("http://127.0.0.1:" + std::to_string(port_) + "/_control", {}, json);
    ASSERT_TRUE(reply.ok()) << reply.status().ToString();
    ASSERT_EQ(reply->status, 200) << reply->body;
  }

  // The JSON-lines log, one string per request.
  std::vector<std::string> Requests() const {
    std::vector<std::string> lines;
    auto text = io::DefaultFileSystem()->ReadFile(log_path_);
    if (!text.ok()) return lines;
    size_t start = 0;
    while (start < text->size()) {
      size_t end = text->find('\n', start);
      if (end == std::string::npos) end = text->size();
      if (end > start) lines.push_back(text->substr(start, end - start));
      start = end + 1;
    }
    return lines;
  }

  uint16_t port() const { return port_; }

 private:
  localdb::ChildProcess process_;
  std::string port_file_;
  std::string log_path_;
  uint16_t port_ = 0;
};

consume::SinkBatch Batch(size_t count) {
  consume::SinkBatch batch;
  batch.sink_name = "hook";
  batch.stream_name = "orders";
  for (size_t i = 0; i < count; ++i) {
    consume::SinkRecord record;
    record.shard_id = "shardId-000000000000";
    record.sequence_number =
        "4959033827149025660855969253836157109592157598913658" + std::to_string(8000 + i);
    record.partition_key = "key-" + std::to_string(i);
    record.data = R"({"op":"c","after":{"id":)" + std::to_string(i) + "}}";
    record.arrival_nanos = 1700000000000000000;
    batch.data_bytes += record.data.size();
    batch.records.push_back(std::move(record));
  }
  return batch;
}

class WebhookDestinationAgainstReceiver : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("eddy-webhook-receiver-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    Status started = receiver_.Start(dir_);
    ASSERT_TRUE(started.ok()) << started.ToString();
  }
  void TearDown() override {
    receiver_.Stop();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  std::unique_ptr<consume::Destination> Open(std::map<std::string, std::string> settings = {}) {
    consume::SinkSpec spec;
    spec.name = "hook";
    spec.stream = "orders";
    spec.url = "webhook+http://127.0.0.1:" + std::to_string(receiver_.port()) + "/fn";
    settings.emplace("header.Authorization", "Bearer test-token");
    spec.settings = std::move(settings);
    auto destination = sink::webhook::MakeWebhookDestination(spec);
    EXPECT_TRUE(destination.ok()) << destination.status().ToString();
    if (!destination.ok()) return nullptr;
    Status opened = (*destination)->Open();
    EXPECT_TRUE(opened.ok()) << opened.ToString();
    return std::move(destination).value();
  }

  std::filesystem::path dir_;
  Receiver receiver_;
};

TEST_F(WebhookDestinationAgainstReceiver, AcknowledgedBatchesArriveWhole) {
  auto destination = Open();
  ASSERT_NE(destination, nullptr);
  auto outcome = destination->Deliver(Batch(4));
  EXPECT_EQ(outcome.acknowledged, 4u);
  EXPECT_TRUE(outcome.failure.ok()) << outcome.failure.ToString();
  auto requests = receiver_.Requests();
  ASSERT_EQ(requests.size(), 1u);
  simdjson::dom::parser parser;
  simdjson::dom::element entry = parser.parse(requests[0]);
  EXPECT_EQ(std::string_view(entry["path"]), "/fn");
  EXPECT_EQ(std::string_view(entry["authorization"]), "Bearer test-token");
  simdjson::dom::array records = entry["body"]["Records"];
  ASSERT_EQ(records.size(), 4u);
  EXPECT_EQ(std::string_view(records.at(3)["kinesis"]["partitionKey"]), "key-3");
  EXPECT_EQ(std::string_view(records.at(0)["eventSource"]), "aws:kinesis");
}

TEST_F(WebhookDestinationAgainstReceiver, ErrorStatusesFailTheBatchRetriably) {
  auto destination = Open();
  ASSERT_NE(destination, nullptr);
  for (int status : {500, 503, 429, 400, 404}) {
    receiver_.Control(R"({"mode":"status","status":)" + std::to_string(status) + "}");
    auto outcome = destination->Deliver(Batch(2));
    EXPECT_EQ(outcome.acknowledged, 0u) << status;
    EXPECT_EQ(outcome.protocol_status, status);
    EXPECT_EQ(outcome.failure.code(), ErrorCode::kUnavailable) << outcome.failure.ToString();
    EXPECT_FALSE(outcome.item_failure);
  }
}

TEST_F(WebhookDestinationAgainstReceiver, HangIsATimeoutAndSlowWithinTheTimeoutSucceeds) {
  auto destination = Open({{"request_timeout", "1"}});
  ASSERT_NE(destination, nullptr);
  receiver_.Control(R"({"mode":"hang"})");
  auto hung = destination->Deliver(Batch(1));
  EXPECT_EQ(hung.acknowledged, 0u);
  EXPECT_EQ(hung.failure.code(), ErrorCode::kTimeout) << hung.failure.ToString();
  EXPECT_EQ(hung.protocol_status, 0);
  receiver_.Control(R"({"mode":"slow","delay":0.2})");
  auto slow = destination->Deliver(Batch(1));
  EXPECT_EQ(slow.acknowledged, 1u) << slow.failure.ToString();
  receiver_.Control(R"({"mode":"slow","delay":3})");
  auto too_slow = destination->Deliver(Batch(1));
  EXPECT_EQ(too_slow.failure.code(), ErrorCode::kTimeout) << too_slow.failure.ToString();
}

TEST_F(WebhookDestinationAgainstReceiver, ResetIsUnavailable) {
  auto destination = Open();
  ASSERT_NE(destination, nullptr);
  receiver_.Control(R"({"mode":"reset"})");
  auto outcome = destination->Deliver(Batch(3));
  EXPECT_EQ(outcome.acknowledged, 0u);
  EXPECT_EQ(outcome.failure.code(), ErrorCode::kUnavailable) << outcome.failure.ToString();
  receiver_.Control(R"({"mode":"ok"})");
  auto recovered = destination->Deliver(Batch(3));
  EXPECT_EQ(recovered.acknowledged, 3u) << recovered.failure.ToString();
}

TEST_F(WebhookDestinationAgainstReceiver, MalformedPartialReplyFailsOnlyWhenReportingFailures) {
  auto reporting = Open({{"report_batch_item_failures", "true"}});
  auto plain = Open();
  ASSERT_NE(reporting, nullptr);
  ASSERT_NE(plain, nullptr);
  receiver_.Control(R"({"mode":"malformed"})");
  auto failed = reporting->Deliver(Batch(2));
  EXPECT_EQ(failed.acknowledged, 0u);
  EXPECT_TRUE(failed.failure.IsRetriable()) << failed.failure.ToString();
  EXPECT_FALSE(failed.item_failure);
  auto ignored = plain->Deliver(Batch(2));
  EXPECT_EQ(ignored.acknowledged, 2u) << ignored.failure.ToString();
}

TEST_F(WebhookDestinationAgainstReceiver, BatchItemFailuresResumeAtTheFailedRecord) {
  auto destination = Open({{"report_batch_item_failures", "true"}});
  ASSERT_NE(destination, nullptr);
  receiver_.Control(R"({"mode":"partial","fail_index":2})");
  auto outcome = destination->Deliver(Batch(5));
  EXPECT_EQ(outcome.acknowledged, 2u);
  EXPECT_TRUE(outcome.item_failure);
  EXPECT_TRUE(outcome.failure.IsRetriable());
}

TEST_F(WebhookDestinationAgainstReceiver, RecoversWhenTheReceiverComesBack) {
  auto destination = Open();
  ASSERT_NE(destination, nullptr);
  uint16_t port = receiver_.port();
  receiver_.Stop();
  auto down = destination->Deliver(Batch(2));
  EXPECT_EQ(down.acknowledged, 0u);
  EXPECT_EQ(down.failure.code(), ErrorCode::kUnavailable) << down.failure.ToString();
  Status restarted = receiver_.Start(dir_, port);
  ASSERT_TRUE(restarted.ok()) << restarted.ToString();
  auto up = destination->Deliver(Batch(2));
  EXPECT_EQ(up.acknowledged, 2u) << up.failure.ToString();
}

}  // namespace
}  // namespace eddy
