#include "sink/kinesis/kinesis_destination.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "aws/request_signer.h"
#include "base/backoff.h"
#include "net/client_settings.h"
#include "net/http_client.h"
#include "net/http_client_pool.h"
#include "sink/kinesis/kinesis_settings.h"
#include "sink/kinesis/put_records.h"

namespace eddy::sink::kinesis {
namespace {

constexpr size_t kDone = static_cast<size_t>(-1);

class KinesisDestination final : public consume::Destination {
 public:
  KinesisDestination(KinesisSettings settings, aws::EnvLookup env, io::FileSystem* fs)
      : settings_(std::move(settings)), env_(std::move(env)), fs_(fs) {}

  Status Open() override {
    auto credentials = aws::ResolveCredentials(env_, *fs_);
    if (!credentials.ok()) {
      return credentials.status().WithContext("kinesis sink (stream " + settings_.stream + ")");
    }
    credentials_ = std::move(credentials).value();
    region_ = settings_.region;
    if (region_.empty()) {
      auto region = aws::ResolveRegion(env_, *fs_);
      if (region.ok()) {
        region_ = *region;
      } else if (settings_.endpoint.starts_with("http://")) {
        region_ = "us-east-1";  // a local endpoint: the region only scopes the signature
      } else {
        return region.status().WithContext("kinesis sink endpoint " + settings_.endpoint);
      }
    }
    EDDY_ASSIGN_OR_RETURN(net::HttpClientOptions client_options,
                          net::MakeClientOptions("kinesis", settings_, *fs_, &closing_));
    clients_.set_options(std::move(client_options));
    auto reply = Call(kDescribeStreamSummaryTarget,
                      BuildDescribeStreamSummaryBody(settings_.stream), "DescribeStreamSummary");
    if (!reply.ok()) return reply.status();
    auto summary = ParseDescribeStreamSummaryReply(*reply);
    if (!summary.ok()) {
      return FailedPrecondition("kinesis endpoint " + settings_.endpoint +
                                " is not a Kinesis API: " + summary.status().message());
    }
    if (summary->status == "CREATING") {
      return Unavailable("Kinesis stream '" + settings_.stream +
                         "' is still CREATING; start the sink once it is ACTIVE");
    }
    if (summary->status == "DELETING") {
      return FailedPrecondition("Kinesis stream '" + settings_.stream +
                                "' is being deleted; create it again or choose another stream");
    }
    max_record_bytes_ = settings_.max_record_bytes != 0  ? settings_.max_record_bytes
                        : summary->max_record_bytes != 0 ? summary->max_record_bytes
                                                         : kDefaultMaxRecordBytes;
    return Status::Ok();
  }

  consume::DeliveryOutcome Deliver(const consume::SinkBatch& batch) override {
    struct Pending {
      std::string key;
      std::vector<std::string> entries;
      size_t next = 0;
      bool done = false;
    };
    const size_t count = batch.records.size();
    std::vector<Pending> pending(count);
    {
      std::lock_guard lock(progress_mutex_);
      for (size_t i = 0; i < count; ++i) {
        auto it = progress_.find(Id(batch.records[i]));
        if (it == progress_.end()) continue;
        if (it->second == kDone)
          pending[i].done = true;
        else
          pending[i].next = it->second;
      }
    }
    for (size_t i = 0; i < count; ++i) {
      if (pending[i].done) continue;
      pending[i].key = KinesisPartitionKey(batch.records[i].partition_key);
      pending[i].entries =
          SplitIntoEntries(pending[i].key, batch.records[i].data, max_record_bytes_);
    }

    Backoff backoff(
        BackoffPolicy{std::chrono::milliseconds(50), std::chrono::seconds(5), 2.0, 0.5});
    int failed_rounds = 0;
    Status failure;
    int protocol_status = 0;
    std::vector<std::pair<size_t, size_t>> call;  // (record, entry)
    std::vector<PutEntry> entries;
    std::unordered_set<std::string_view> blocked;
    std::string body;
    while (failure.ok()) {
      // The next call: per key, the first record not yet put, its next entry.
      call.clear();
      entries.clear();
      blocked.clear();
      size_t bytes = 0;
      for (size_t i = 0; i < count; ++i) {
        if (pending[i].done) continue;
        if (!blocked.insert(pending[i].key).second) continue;
        const std::string& entry = pending[i].entries[pending[i].next];
        size_t size = entry.size() + pending[i].key.size();
        if (!call.empty() &&
            (call.size() == kMaxRecordsPerCall || bytes + size > kMaxBytesPerCall)) {
          continue;  // the key stays blocked: its record waits for the next call
        }
        call.emplace_back(i, pending[i].next);
        entries.push_back({entry, pending[i].key});
        bytes += size;
      }
      if (call.empty()) break;

      BuildPutRecordsBody(settings_.stream, entries, &body);
      auto reply = Call(kPutRecordsTarget, body, "PutRecords", &protocol_status);
      if (!reply.ok()) {
        failure = reply.status();
        break;
      }
      auto results = ParsePutRecordsReply(*reply, call.size());
      if (!results.ok()) {
        failure = Unavailable("kinesis endpoint " + settings_.endpoint + ": " +
                              results.status().message());
        break;
      }
      size_t retriable = 0;
      std::string first_error;
      for (size_t n = 0; n < call.size(); ++n) {
        Pending& record = pending[call[n].first];
        const EntryResult& result = (*results)[n];
        if (result.ok) {
          if (++record.next == record.entries.size()) record.done = true;
          continue;
        }
        if (first_error.empty()) first_error = result.error_code + ": " + result.error_message;
        if (IsRetriableEntryError(result.error_code)) {
          ++retriable;
        } else if (failure.ok()) {
          failure = FailedPrecondition("Kinesis rejected a record of stream '" + settings_.stream +
                                       "': " + result.error_code + ": " + result.error_message);
        }
      }
      if (!failure.ok()) break;
      if (retriable == 0) {
        backoff.Reset();
        continue;
      }
      if (++failed_rounds > settings_.entry_retries) {
        failure = Unavailable(std::to_string(retriable) + " of " + std::to_string(call.size()) +
                              " records put into Kinesis stream '" + settings_.stream +
                              "' failed after " + std::to_string(settings_.entry_retries) +
                              " retries (" + first_error + ")");
        break;
      }
      if (!WaitBeforeRetry(backoff.NextDelay())) {
        failure = Aborted("kinesis sink closing");
        break;
      }
    }

    consume::DeliveryOutcome outcome;
    outcome.protocol_status = protocol_status;
    while (outcome.acknowledged < count && pending[outcome.acknowledged].done) {
      ++outcome.acknowledged;
    }
    {
      std::lock_guard lock(progress_mutex_);
      for (size_t i = 0; i < count; ++i) {
        if (i < outcome.acknowledged) {
          progress_.erase(Id(batch.records[i]));
        } else if (pending[i].done) {
          progress_[Id(batch.records[i])] = kDone;
        } else if (pending[i].next > 0) {
          progress_[Id(batch.records[i])] = pending[i].next;
        }
      }
    }
    if (outcome.acknowledged < count) {
      outcome.failure =
          failure.ok() ? Internal("kinesis delivery stopped without a reason") : failure;
    }
    return outcome;
  }

  Status Close() override {
    {
      std::lock_guard lock(wait_mutex_);
      closing_ = true;
    }
    wake_.notify_all();
    clients_.Close();
    return Status::Ok();
  }

 private:
  using RecordId = std::pair<uint32_t, std::string>;
  static RecordId Id(const consume::SinkRecord& record) {
    return {record.shard_index, record.sequence_number};
  }

  // One signed call; the reply body of a 200, else the classified error.
  Result<std::string> Call(std::string_view target, std::string_view body,
                           std::string_view operation, int* http_status = nullptr) {
    net::HttpHeaders headers = {{"content-type", std::string(kContentType)},
                                {"x-amz-target", std::string(target)}};
    aws::SigningInput input;
    input.method = "POST";
    input.url = settings_.endpoint;
    std::string payload_hash = aws::Sha256Hex(body);
    input.payload_hash = payload_hash;
    input.credentials = &credentials_;
    input.region = region_;
    input.service = "kinesis";
    input.time = std::chrono::system_clock::now();
    EDDY_RETURN_IF_ERROR(aws::SignRequest(input, &headers));
    EDDY_ASSIGN_OR_RETURN(std::unique_ptr<net::HttpClient> client, clients_.Borrow());
    auto reply = client->Post(settings_.endpoint, headers, body);
    clients_.Return(std::move(client));
    if (!reply.ok()) {
      return net::EndpointError(reply.status(), "kinesis", settings_.endpoint, operation,
                                "start the Kinesis endpoint or correct the sink URL");
    }
    if (http_status != nullptr) *http_status = reply->status;
    if (reply->status != 200) {
      return ErrorFromReply(operation, reply->status, reply->body, settings_.stream,
                            settings_.endpoint);
    }
    return std::move(reply->body);
  }

  // False when the destination is closing.
  bool WaitBeforeRetry(std::chrono::milliseconds delay) {
    std::unique_lock lock(wait_mutex_);
    return !wake_.wait_for(lock, delay, [this] { return closing_.load(); });
  }

  const KinesisSettings settings_;
  const aws::EnvLookup env_;
  io::FileSystem* const fs_;
  // Set by Open, read-only afterwards.
  aws::Credentials credentials_;
  std::string region_;
  size_t max_record_bytes_ = kDefaultMaxRecordBytes;

  std::atomic<bool> closing_{false};
  std::mutex wait_mutex_;
  std::condition_variable wake_;
  net::HttpClientPool clients_;
  std::mutex progress_mutex_;  // guards progress_
  // Records put (kDone) or partly put (entries done) but not yet acknowledged to the runner.
  std::map<RecordId, size_t> progress_;
};

}  // namespace

Result<std::unique_ptr<consume::Destination>> MakeKinesisDestinationWith(
    const consume::SinkSpec& spec, aws::EnvLookup env, io::FileSystem* fs) {
  EDDY_ASSIGN_OR_RETURN(KinesisSettings settings, ParseKinesisSettings(spec));
  return std::unique_ptr<consume::Destination>(
      new KinesisDestination(std::move(settings), std::move(env), fs));
}

Result<std::unique_ptr<consume::Destination>> MakeKinesisDestination(
    const consume::SinkSpec& spec) {
  return MakeKinesisDestinationWith(spec, aws::ProcessEnvironment(), io::DefaultFileSystem());
}

}  // namespace eddy::sink::kinesis
