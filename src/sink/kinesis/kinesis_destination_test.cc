// The destination against a scripted Kinesis endpoint: eddy's own HTTP server with a handler
// that verifies each request's SigV4 signature (api/sigv4.h), answers DescribeStreamSummary
// and PutRecords, and fails entries or whole calls as a test scripts. Real endpoints
// (kinesalite, `eddy serve`) are tests/e2e/kinesis_sink.py's.
#include "sink/kinesis/kinesis_destination.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <algorithm>
#include <functional>
#include <map>
#include <mutex>
#include <set>

#include "api/http_server.h"
#include "api/sigv4.h"
#include "format/json.h"
#include "io/fault_file_system.h"
#include "log/chunking.h"
#include "sink/kinesis/put_records.h"

namespace eddy::sink::kinesis {
namespace {

constexpr const char* kKeyId = "AKIDKINESISTEST";
constexpr const char* kSecret = "kinesis-test-secret";

std::string Decode64(std::string_view text) {
  static const std::string kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  uint32_t buffer = 0;
  int bits = 0;
  for (char c : text) {
    if (c == '=') break;
    buffer = (buffer << 6) | static_cast<uint32_t>(kAlphabet.find(c));
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xff));
    }
  }
  return out;
}

// What the scripted endpoint does.
struct Endpoint {
  std::mutex mutex;
  std::vector<std::pair<std::string, std::string>> stored;  // (key, data) in put order
  std::vector<std::vector<std::string>> calls;              // keys of each PutRecords call
  std::vector<size_t> call_bytes;
  int signature_failures = 0;
  // Whole-call status for the next PutRecords calls (popped); 200 when empty.
  std::vector<int> call_status;
  // (call number, entry index) -> error code.
  std::function<std::string(size_t call, size_t entry, const std::string& key)> entry_error;
  std::string summary_error;  // __type for DescribeStreamSummary
  std::string max_record_kib;
};

std::unique_ptr<api::HttpServer> Start(Endpoint& endpoint) {
  auto verifier = api::MakeStaticCredentialVerifier({{kKeyId, kSecret}});
  api::HttpServerOptions options;
  options.listen = "127.0.0.1:0";
  auto server = api::HttpServer::Start(
      options, [&endpoint, verifier](const api::HttpRequest& request, api::HttpResponse* response) {
        std::lock_guard lock(endpoint.mutex);
        response->headers.emplace_back("content-type", "application/x-amz-json-1.1");
        auto parsed = api::ParseSigV4(request);
        std::optional<api::ApiError> rejected =
            parsed.error ? parsed.error : verifier(*parsed.authorization, request);
        if (rejected) {
          ++endpoint.signature_failures;
          response->status = 400;
          response->body = R"({"__type":")" + rejected->type + R"(","message":"signature"})";
          return;
        }
        const std::string* target = request.Header("x-amz-target");
        simdjson::dom::parser parser;
        simdjson::padded_string padded(request.body);
        simdjson::dom::element document = parser.parse(padded).value();
        if (target != nullptr && *target == kDescribeStreamSummaryTarget) {
          if (!endpoint.summary_error.empty()) {
            response->status = 400;
            response->body =
                R"({"__type":")" + endpoint.summary_error + R"(","message":"scripted"})";
            return;
          }
          response->body = R"({"StreamDescriptionSummary":{"StreamName":"out",)"
                           R"("StreamStatus":"ACTIVE")" +
                           (endpoint.max_record_kib.empty()
                                ? std::string()
                                : ",\"MaxRecordSizeInKiB\":" + endpoint.max_record_kib) +
                           "}}";
          return;
        }
        if (!endpoint.call_status.empty()) {
          response->status = endpoint.call_status.front();
          endpoint.call_status.erase(endpoint.call_status.begin());
          if (response->status != 200) {
            response->body = R"({"__type":"InternalFailure","message":"scripted"})";
            return;
          }
        }
        size_t call = endpoint.calls.size();
        endpoint.calls.emplace_back();
        size_t bytes = 0;
        std::string reply = R"({"FailedRecordCount":0,"Records":[)";
        size_t index = 0;
        for (simdjson::dom::element record : document["Records"].get_array()) {
          std::string key(record["PartitionKey"].get_string().value());
          std::string data = Decode64(record["Data"].get_string().value());
          bytes += key.size() + data.size();
          endpoint.calls.back().push_back(key);
          std::string error =
              endpoint.entry_error ? endpoint.entry_error(call, index, key) : std::string();
          if (index++ > 0) reply += ",";
          if (error.empty()) {
            endpoint.stored.emplace_back(key, data);
            reply += R"({"SequenceNumber":")" + std::to_string(endpoint.stored.size()) +
                     R"(","ShardId":"shardId-000000000000"})";
          } else {
            reply += R"({"ErrorCode":")" + error + R"(","ErrorMessage":"scripted"})";
          }
        }
        endpoint.call_bytes.push_back(bytes);
        response->body = reply + "]}";
      });
  EXPECT_TRUE(server.ok()) << server.status().ToString();
  return std::move(server).value();
}

aws::EnvLookup Env(std::map<std::string, std::string> values = {
                       {"AWS_ACCESS_KEY_ID", kKeyId}, {"AWS_SECRET_ACCESS_KEY", kSecret}}) {
  return [values = std::move(values)](std::string_view name) -> std::optional<std::string> {
    auto it = values.find(std::string(name));
    if (it == values.end()) return std::nullopt;
    return it->second;
  };
}

consume::SinkSpec Spec(uint16_t port, std::map<std::string, std::string> settings = {}) {
  consume::SinkSpec spec;
  spec.name = "k";
  spec.stream = "orders";
  spec.url = "kinesis+http://127.0.0.1:" + std::to_string(port) + "?stream=out";
  spec.settings = std::move(settings);
  spec.settings.emplace("stream", "out");
  return spec;
}

consume::SinkBatch Batch(size_t count, size_t keys, size_t first = 0, size_t data_size = 0) {
  consume::SinkBatch batch;
  batch.sink_name = "k";
  batch.stream_name = "orders";
  for (size_t i = first; i < first + count; ++i) {
    consume::SinkRecord record;
    record.shard_id = "shardId-000000000000";
    record.sequence_number = std::to_string(1000 + i);
    record.partition_key = "k" + std::to_string(i % keys);
    record.data = R"({"n":)" + std::to_string(i) + "}";
    if (data_size > record.data.size()) record.data.resize(data_size, ' ');
    batch.data_bytes += record.data.size();
    batch.records.push_back(std::move(record));
  }
  return batch;
}

class KinesisDestinationTest : public ::testing::Test {
 protected:
  std::unique_ptr<consume::Destination> Open(std::map<std::string, std::string> settings = {}) {
    server_ = Start(endpoint_);
    auto destination =
        MakeKinesisDestinationWith(Spec(server_->port(), std::move(settings)), Env(), &fs_);
    EXPECT_TRUE(destination.ok()) << destination.status().ToString();
    Status opened = (*destination)->Open();
    EXPECT_TRUE(opened.ok()) << opened.ToString();
    return std::move(destination).value();
  }

  // Every record of the batches reached the endpoint once, and each key's in order.
  void ExpectStoredOnceInOrder(size_t count, size_t keys) {
    std::lock_guard lock(endpoint_.mutex);
    ASSERT_EQ(endpoint_.stored.size(), count);
    std::map<std::string, int> last;
    for (const auto& [key, data] : endpoint_.stored) {
      int n = std::stoi(data.substr(5));
      auto it = last.find(key);
      if (it != last.end()) {
        EXPECT_EQ(n, it->second + static_cast<int>(keys)) << key;
      }
      last[key] = n;
    }
  }

  io::FaultInjectionFileSystem fs_;
  Endpoint endpoint_;
  std::unique_ptr<api::HttpServer> server_;
};

TEST_F(KinesisDestinationTest, PutsEveryRecordSignedWithOneEntryPerKeyPerCall) {
  auto destination = Open();
  auto outcome = destination->Deliver(Batch(30, 10));
  EXPECT_EQ(outcome.acknowledged, 30u);
  EXPECT_TRUE(outcome.failure.ok()) << outcome.failure.ToString();
  ExpectStoredOnceInOrder(30, 10);
  std::lock_guard lock(endpoint_.mutex);
  EXPECT_EQ(endpoint_.signature_failures, 0);
  ASSERT_EQ(endpoint_.calls.size(), 3u);
  for (const auto& keys : endpoint_.calls) {
    EXPECT_EQ(std::set<std::string>(keys.begin(), keys.end()).size(), keys.size());
  }
}

TEST_F(KinesisDestinationTest, CallsStayWithin500RecordsAnd5MiB) {
  auto destination = Open();
  auto outcome = destination->Deliver(Batch(1200, 1200));
  EXPECT_EQ(outcome.acknowledged, 1200u);
  {
    std::lock_guard lock(endpoint_.mutex);
    ASSERT_EQ(endpoint_.calls.size(), 3u);
    EXPECT_EQ(endpoint_.calls[0].size(), 500u);
    EXPECT_EQ(endpoint_.calls[2].size(), 200u);
    endpoint_.calls.clear();
    endpoint_.call_bytes.clear();
    endpoint_.stored.clear();
  }
  // 12 records of 900 KB: at most 5 MiB per call.
  auto big = destination->Deliver(Batch(12, 12, 0, 900'000));
  EXPECT_EQ(big.acknowledged, 12u);
  std::lock_guard lock(endpoint_.mutex);
  EXPECT_EQ(endpoint_.stored.size(), 12u);
  for (size_t bytes : endpoint_.call_bytes) EXPECT_LE(bytes, kMaxBytesPerCall);
  EXPECT_GE(endpoint_.calls.size(), 3u);
}

TEST_F(KinesisDestinationTest, LargeRecordsAreChunkedToTheStreamsRecordSize) {
  endpoint_.max_record_kib = "1024";
  auto destination = Open();
  consume::SinkBatch batch = Batch(3, 2, 0, 2'500'000);  // keys k0 k1 k0
  auto outcome = destination->Deliver(batch);
  EXPECT_EQ(outcome.acknowledged, 3u) << outcome.failure.ToString();
  std::lock_guard lock(endpoint_.mutex);
  // 3 entries per record, each within 1 MiB with its key; a key's entries in order.
  ASSERT_EQ(endpoint_.stored.size(), 9u);
  std::map<std::string, log::Reassembler> readers;
  std::map<std::string, std::vector<std::string>> whole;
  for (const auto& [key, data] : endpoint_.stored) {
    EXPECT_LE(key.size() + data.size(), size_t{1} << 20);
    log::Record record;
    record.partition_key = key;
    record.payload = data;
    bool head = data.size() >= 4 && static_cast<uint8_t>(data[0]) == 0x43 && data[1] == 'H' &&
                data[2] == 'N' && data[3] == 'K';
    record.kind = head ? log::RecordKind::kChunkedHead : log::RecordKind::kFragment;
    auto added = readers[key].Add(std::move(record));
    ASSERT_TRUE(added.ok()) << added.status().ToString();
    if (*added) whole[key].push_back((*added)->payload);
  }
  ASSERT_EQ(whole["k0"].size(), 2u);
  EXPECT_EQ(whole["k0"][0], batch.records[0].data);
  EXPECT_EQ(whole["k0"][1], batch.records[2].data);
  ASSERT_EQ(whole["k1"].size(), 1u);
  EXPECT_EQ(whole["k1"][0], batch.records[1].data);
}

TEST_F(KinesisDestinationTest, RetriesOnlyFailedEntriesAndKeepsPerKeyOrder) {
  // The first two calls fail every entry of key k3 with throttling, the third call's k5 with
  // an internal failure.
  endpoint_.entry_error = [](size_t call, size_t, const std::string& key) -> std::string {
    if (call < 2 && key == "k3") return "ProvisionedThroughputExceededException";
    if (call == 2 && key == "k5") return "InternalFailure";
    return "";
  };
  auto destination = Open();
  auto outcome = destination->Deliver(Batch(40, 8));
  EXPECT_EQ(outcome.acknowledged, 40u) << outcome.failure.ToString();
  ExpectStoredOnceInOrder(40, 8);
  std::lock_guard lock(endpoint_.mutex);
  // Failed entries were resent alone with what was due, not with their successors.
  size_t k3_sends = 0;
  for (const auto& keys : endpoint_.calls) {
    k3_sends += std::count(keys.begin(), keys.end(), "k3");
  }
  EXPECT_EQ(k3_sends, 5u + 2u);
}

TEST_F(KinesisDestinationTest, EntryRetriesExhaustedHandBackAPrefixWithoutDuplicatesLater) {
  bool throttle = true;
  endpoint_.entry_error = [&throttle](size_t, size_t, const std::string& key) -> std::string {
    return throttle && key == "k1" ? "ProvisionedThroughputExceededException" : "";
  };
  auto destination = Open({{"entry_retries", "2"}});
  consume::SinkBatch batch = Batch(6, 3);  // k0 k1 k2 k0 k1 k2
  auto first = destination->Deliver(batch);
  EXPECT_EQ(first.acknowledged, 1u);  // k0's first; k1's first keeps failing
  EXPECT_TRUE(first.failure.IsRetriable()) << first.failure.ToString();
  EXPECT_NE(first.failure.message().find("ProvisionedThroughputExceededException"),
            std::string::npos);
  {
    std::lock_guard lock(endpoint_.mutex);
    throttle = false;
  }
  // The runner retries the unacknowledged rest: records already put are not put again.
  consume::SinkBatch rest;
  rest.records.assign(batch.records.begin() + 1, batch.records.end());
  auto second = destination->Deliver(rest);
  EXPECT_EQ(second.acknowledged, 5u) << second.failure.ToString();
  ExpectStoredOnceInOrder(6, 3);
}

TEST_F(KinesisDestinationTest, WholeCallFailuresAreRetriableForTheRunner) {
  auto destination = Open();
  {
    std::lock_guard lock(endpoint_.mutex);
    endpoint_.call_status = {500};
  }
  auto failed = destination->Deliver(Batch(4, 4));
  EXPECT_EQ(failed.acknowledged, 0u);
  EXPECT_TRUE(failed.failure.IsRetriable());
  EXPECT_EQ(failed.protocol_status, 500);
  auto retried = destination->Deliver(Batch(4, 4));
  EXPECT_EQ(retried.acknowledged, 4u);
  ExpectStoredOnceInOrder(4, 4);
}

TEST_F(KinesisDestinationTest, PermanentEntryErrorsFailTheBatch) {
  endpoint_.entry_error = [](size_t, size_t, const std::string& key) -> std::string {
    return key == "k1" ? "KMSAccessDeniedException" : "";
  };
  auto destination = Open();
  auto outcome = destination->Deliver(Batch(2, 2));
  EXPECT_EQ(outcome.acknowledged, 1u);
  EXPECT_FALSE(outcome.failure.IsRetriable());
  EXPECT_NE(outcome.failure.message().find("KMSAccessDeniedException"), std::string::npos);
}

TEST_F(KinesisDestinationTest, OpenErrorsSayWhatToFix) {
  server_ = Start(endpoint_);
  auto open = [&](aws::EnvLookup env, std::map<std::string, std::string> settings = {},
                  uint16_t port = 0) {
    auto destination = MakeKinesisDestinationWith(
        Spec(port != 0 ? port : server_->port(), std::move(settings)), std::move(env), &fs_);
    EXPECT_TRUE(destination.ok());
    return (*destination)->Open();
  };
  Status no_credentials = open(Env({}));
  EXPECT_EQ(no_credentials.code(), ErrorCode::kPermissionDenied);
  EXPECT_NE(no_credentials.message().find("no AWS credentials: set AWS_ACCESS_KEY_ID"),
            std::string::npos)
      << no_credentials.message();

  Status wrong_secret =
      open(Env({{"AWS_ACCESS_KEY_ID", kKeyId}, {"AWS_SECRET_ACCESS_KEY", "wrong"}}));
  EXPECT_EQ(wrong_secret.code(), ErrorCode::kPermissionDenied);
  EXPECT_NE(wrong_secret.message().find("InvalidSignatureException"), std::string::npos)
      << wrong_secret.message();

  {
    std::lock_guard lock(endpoint_.mutex);
    endpoint_.summary_error = "ResourceNotFoundException";
  }
  Status missing = open(Env());
  EXPECT_EQ(missing.code(), ErrorCode::kNotFound);
  EXPECT_NE(missing.message().find("create the stream"), std::string::npos) << missing.message();

  api::HttpServerOptions options;
  options.listen = "127.0.0.1:0";
  auto unused = api::HttpServer::Start(options, [](const auto&, auto*) {});
  ASSERT_TRUE(unused.ok());
  uint16_t closed_port = (*unused)->port();
  (*unused)->Stop();
  Status unreachable = open(Env(), {}, closed_port);
  EXPECT_TRUE(unreachable.IsRetriable()) << unreachable.ToString();
  EXPECT_NE(unreachable.message().find("start the Kinesis endpoint or correct the sink URL"),
            std::string::npos)
      << unreachable.message();
}

}  // namespace
}  // namespace eddy::sink::kinesis
