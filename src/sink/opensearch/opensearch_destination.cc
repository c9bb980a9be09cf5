#include "sink/opensearch/opensearch_destination.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "base/backoff.h"
#include "base/logging.h"
#include "base/metrics.h"
#include "format/json.h"
#include "net/client_settings.h"
#include "net/http_client.h"
#include "net/http_client_pool.h"
#include "sink/opensearch/bulk.h"
#include "sink/opensearch/opensearch_settings.h"

namespace eddy::sink::opensearch {
namespace {

// The module's metric family (its probe), registered once in the process registry.
prometheus::Family<prometheus::Counter>& DocumentsFamily() {
  static prometheus::Family<prometheus::Counter>* family =
      &prometheus::BuildCounter()
           .Name("eddy_opensearch_documents_total")
           .Help(
               "Bulk actions of an OpenSearch sink by result: applied (indexed or deleted), "
               "already_applied (409: the index holds this change or a later one), retried "
               "(429/5xx items sent again), failed (written to the error location), skipped "
               "(records without a row: truncates, schema changes)")
           .Register(metrics::Registry());
  return *family;
}

int64_t NowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct Pending {
  size_t record = 0;
  BulkAction action;
  std::string document;  // index + '\n' + id: one document's actions go out one at a time
  bool done = false;
  int attempts = 0;
};

class OpenSearchDestination final : public consume::Destination {
 public:
  OpenSearchDestination(OpenSearchSettings settings, std::string sink_name, std::string data_dir,
                        io::FileSystem* fs)
      : settings_(std::move(settings)),
        sink_name_(std::move(sink_name)),
        error_path_(io::JoinPath(io::JoinPath(data_dir, "failures"),
                                 sink_name_ + ".AmazonOpenSearchService-failed.jsonl")),
        fs_(fs) {}

  std::optional<consume::BatchingOverride> Batching() const override {
    return consume::BatchingOverride{settings_.bulk_max_documents, settings_.bulk_max_bytes,
                                     settings_.bulk_window};
  }

  Status Open() override {
    EDDY_ASSIGN_OR_RETURN(net::HttpClientOptions client_options,
                          net::MakeClientOptions("opensearch", settings_, *fs_, &closing_));
    clients_.set_options(std::move(client_options));
    if (!settings_.username.empty()) {
      authorization_ =
          "Basic " + format::Base64Encode(settings_.username + ":" + settings_.password);
    }
    EDDY_ASSIGN_OR_RETURN(net::HttpResponse reply, Call("GET", "/", "", "GET /"));
    if (reply.status != 200) {
      return ErrorFromReply("GET /", reply.status, reply.body, settings_.endpoint);
    }
    if (!format::MinifyJson(reply.body).has_value()) {
      return FailedPrecondition("opensearch endpoint " + settings_.endpoint +
                                " answered GET / with something else than JSON; is it an "
                                "OpenSearch or Elasticsearch server?");
    }
    logging::Get("sink")->info("opensearch sink={} endpoint={} index={} ready", sink_name_,
                               settings_.endpoint, settings_.index_text);
    return Status::Ok();
  }

  consume::DeliveryOutcome Deliver(const consume::SinkBatch& batch) override {
    Counters& counters = CountersFor(batch);
    const size_t count = batch.records.size();
    std::vector<Pending> pending;
    std::vector<size_t> open_actions(count, 0);
    std::string failed_lines;
    consume::DeliveryOutcome outcome;
    Status failure;
    // Records from the first one that cannot be built for a reason other than its own content
    // (its index could not be created) wait for the runner's retry.
    size_t buildable = count;
    Status build_failure;

    for (size_t i = 0; i < count; ++i) {
      const consume::SinkRecord& record = batch.records[i];
      std::vector<BulkAction> actions;
      Status built = Build(record, &actions);
      if (!built.ok()) {
        if (built.code() != ErrorCode::kInvalidArgument && built.code() != ErrorCode::kNotFound) {
          build_failure = built;
          buildable = i;
          break;
        }
        BulkItemResult item{"", 400, "eddy_invalid_record", built.message()};
        failed_lines += FailedDocumentLine(BulkAction{}, item, 1, record.arrival_nanos / 1'000'000,
                                           NowMillis());
        counters.failed->Increment();
        logging::Get("sink")->warn(
            "opensearch sink={} record {} of shard {} not written: {} "
            "(written to {})",
            sink_name_, consume::SequenceNumberText(record), consume::ShardIdText(record),
            built.message(), error_path_);
        continue;
      }
      if (actions.empty()) counters.skipped->Increment();
      for (BulkAction& action : actions) {
        Pending entry;
        entry.record = i;
        entry.document = action.index + "\n" + action.id;
        entry.action = std::move(action);
        pending.push_back(std::move(entry));
        ++open_actions[i];
      }
    }

    Backoff backoff(
        BackoffPolicy{std::chrono::milliseconds(50), std::chrono::seconds(5), 2.0, 0.5});
    int failed_rounds = 0;
    std::vector<size_t> call;
    std::unordered_set<std::string_view> blocked;
    std::string body;
    while (failure.ok()) {
      call.clear();
      blocked.clear();
      body.clear();
      for (size_t n = 0; n < pending.size(); ++n) {
        Pending& entry = pending[n];
        if (entry.done) continue;
        if (!blocked.insert(entry.document).second) continue;
        size_t before = body.size();
        AppendBulkAction(entry.action, &body);
        if (!call.empty() && (call.size() == settings_.bulk_max_documents ||
                              body.size() > settings_.bulk_max_bytes)) {
          body.resize(before);  // the document waits for the next request
          continue;
        }
        call.push_back(n);
      }
      if (call.empty()) break;

      auto reply =
          Call("POST", "/_bulk?filter_path=" + std::string(kBulkFilterPath), body, "_bulk");
      if (!reply.ok()) {
        failure = reply.status();
        break;
      }
      outcome.protocol_status = reply->status;
      if (reply->status != 200) {
        failure = ErrorFromReply("_bulk", reply->status, reply->body, settings_.endpoint);
        break;
      }
      auto items = ParseBulkResponse(reply->body, call.size());
      if (!items.ok()) {
        failure = Unavailable("opensearch endpoint " + settings_.endpoint + ": " +
                              items.status().message());
        break;
      }
      size_t retriable = 0;
      std::string first_error;
      for (size_t n = 0; n < call.size(); ++n) {
        Pending& entry = pending[call[n]];
        const BulkItemResult& item = (*items)[n];
        ++entry.attempts;
        switch (ClassifyItem(entry.action.kind, item)) {
          case ItemOutcome::kApplied:
            (item.status == 409 ? counters.already_applied : counters.applied)->Increment();
            break;
          case ItemOutcome::kRetriable:
            ++retriable;
            counters.retried->Increment();
            if (first_error.empty()) {
              first_error =
                  std::to_string(item.status) + " " + item.error_type + ": " + item.error_reason;
            }
            continue;
          case ItemOutcome::kPermanent:
            failed_lines += FailedDocumentLine(
                entry.action, item, entry.attempts,
                batch.records[entry.record].arrival_nanos / 1'000'000, NowMillis());
            counters.failed->Increment();
            logging::Get("sink")->warn(
                "opensearch sink={} index={} id={} refused: {} {}: {} (written to {})", sink_name_,
                entry.action.index, entry.action.id, item.status, item.error_type,
                item.error_reason, error_path_);
            break;
        }
        entry.done = true;
        --open_actions[entry.record];
      }
      if (retriable == 0) {
        backoff.Reset();
        continue;
      }
      if (++failed_rounds > settings_.item_retries) {
        failure =
            Unavailable(std::to_string(retriable) + " of " + std::to_string(call.size()) +
                        " bulk actions into " + settings_.endpoint + " failed after " +
                        std::to_string(settings_.item_retries) + " retries (" + first_error + ")");
        break;
      }
      if (!WaitBeforeRetry(backoff.NextDelay())) {
        failure = Aborted("opensearch sink closing");
        break;
      }
    }

    // Refused documents are durable in the error location before their records count as
    // delivered.
    if (!failed_lines.empty()) {
      Status written = AppendFailed(failed_lines);
      if (!written.ok()) {
        outcome.acknowledged = 0;
        outcome.failure = written;
        return outcome;
      }
    }
    while (outcome.acknowledged < buildable && open_actions[outcome.acknowledged] == 0) {
      ++outcome.acknowledged;
    }
    if (outcome.acknowledged < count) {
      outcome.failure = !failure.ok()         ? failure
                        : !build_failure.ok() ? build_failure
                                              : Internal("opensearch delivery stopped");
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
  struct Counters {
    prometheus::Counter* applied = nullptr;
    prometheus::Counter* already_applied = nullptr;
    prometheus::Counter* retried = nullptr;
    prometheus::Counter* failed = nullptr;
    prometheus::Counter* skipped = nullptr;
  };

  Counters& CountersFor(const consume::SinkBatch& batch) {
    std::call_once(counters_once_, [&] {
      auto& family = DocumentsFamily();
      auto add = [&](const char* result) {
        return &family.Add(
            {{"stream", batch.stream_name}, {"sink", batch.sink_name}, {"result", result}});
      };
      counters_.applied = add("applied");
      counters_.already_applied = add("already_applied");
      counters_.retried = add("retried");
      counters_.failed = add("failed");
      counters_.skipped = add("skipped");
    });
    return counters_;
  }

  // The bulk actions of one record (none for records without a row). Errors: kInvalidArgument
  // and kNotFound for records that can never be written (to the error location); retriable
  // ones from index creation.
  Status Build(const consume::SinkRecord& record, std::vector<BulkAction>* actions) {
    const model::ChangeEvent* event = record.event.get();
    if (event == nullptr) {
      return InvalidArgument(
          "the record carries no change event; the opensearch sink needs a CDC stream");
    }
    if (!model::IsRowChange(event->op)) return Status::Ok();
    EDDY_ASSIGN_OR_RETURN(uint64_t version,
                          ExternalVersion(event->position, event->ordinal_in_transaction));
    std::string index =
        IndexName(settings_.index, settings_.rotation, event->table, record.arrival_nanos);
    if (settings_.create_index) EDDY_RETURN_IF_ERROR(EnsureIndex(index, record));
    if (event->op == model::Operation::kDelete) {
      EDDY_ASSIGN_OR_RETURN(std::string id, DocumentId(event->key));
      actions->push_back({ActionKind::kDelete, index, std::move(id), version, {}});
      return Status::Ok();
    }
    if (!event->after.has_value()) {
      return InvalidArgument("the " + std::string(model::OperationCode(event->op)) + " change of " +
                             event->table.QualifiedName() + " has no row image");
    }
    EDDY_ASSIGN_OR_RETURN(std::string id, DocumentId(event->key));
    if (event->op == model::Operation::kUpdate && event->before.has_value()) {
      auto old_key = KeyOf(*event->before, event->key);
      if (old_key.ok() && *old_key != event->key) {
        EDDY_ASSIGN_OR_RETURN(std::string old_id, DocumentId(*old_key));
        if (old_id != id) {
          actions->push_back({ActionKind::kDelete, index, std::move(old_id), version, {}});
        }
      }
    }
    BulkAction action{ActionKind::kIndex, std::move(index), std::move(id), version, {}};
    WriteDocument(*event->after, settings_.decimals, &action.source);
    actions->push_back(std::move(action));
    return Status::Ok();
  }

  // Creates `index` once with mappings from the record's table schema (an existing index is
  // kept as it is).
  Status EnsureIndex(const std::string& index, const consume::SinkRecord& record) {
    {
      std::lock_guard lock(created_mutex_);
      if (created_.count(index) != 0) return Status::Ok();
    }
    std::string body = "{}";
    if (record.table_schema != nullptr) {
      body = IndexCreationBody(*record.table_schema, settings_.decimals);
    }
    EDDY_ASSIGN_OR_RETURN(net::HttpResponse reply,
                          Call("PUT", "/" + index, body, "PUT /" + index, "application/json"));
    bool exists = reply.status == 400 &&
                  reply.body.find("resource_already_exists_exception") != std::string::npos;
    if (reply.status != 200 && !exists) {
      return ErrorFromReply("PUT /" + index, reply.status, reply.body, settings_.endpoint);
    }
    if (!exists) {
      logging::Get("sink")->info("opensearch sink={} created index={}", sink_name_, index);
    }
    std::lock_guard lock(created_mutex_);
    created_.insert(index);
    return Status::Ok();
  }

  Status AppendFailed(const std::string& lines) {
    std::lock_guard lock(error_mutex_);
    if (error_file_ == nullptr) {
      std::string directory = io::ParentPath(error_path_);
      EDDY_RETURN_IF_ERROR(fs_->CreateDirectories(directory));
      EDDY_ASSIGN_OR_RETURN(bool exists, fs_->Exists(error_path_));
      if (exists) {
        EDDY_ASSIGN_OR_RETURN(error_file_, fs_->Open(error_path_, io::OpenMode::kReadWrite));
      } else {
        EDDY_ASSIGN_OR_RETURN(error_file_, fs_->Open(error_path_, io::OpenMode::kCreateNew));
        EDDY_RETURN_IF_ERROR(fs_->SyncDirectory(directory));
      }
    }
    Status status = error_file_->Append(lines);
    if (status.ok()) status = error_file_->Sync();
    if (!status.ok()) {
      error_file_.reset();  // after a failed append or sync the file's state is unknown
      return IoError("opensearch sink error location " + error_path_ + ": " + status.message());
    }
    return Status::Ok();
  }

  // One request; the reply of any status, or the transport error with the fix.
  Result<net::HttpResponse> Call(std::string_view method, const std::string& path,
                                 std::string_view body, std::string_view what,
                                 std::string_view content_type = kContentType) {
    net::HttpHeaders headers;
    if (!body.empty()) headers.emplace_back("content-type", std::string(content_type));
    if (!authorization_.empty()) headers.emplace_back("authorization", authorization_);
    EDDY_ASSIGN_OR_RETURN(std::unique_ptr<net::HttpClient> client, clients_.Borrow());
    auto reply = client->Send(method, settings_.endpoint + path, headers, body);
    clients_.Return(std::move(client));
    if (!reply.ok()) {
      return net::EndpointError(
          reply.status(), "opensearch", settings_.endpoint, what,
          "start OpenSearch (or Elasticsearch) there or correct the sink URL");
    }
    return std::move(reply).value();
  }

  // False when the destination is closing.
  bool WaitBeforeRetry(std::chrono::milliseconds delay) {
    std::unique_lock lock(wait_mutex_);
    return !wake_.wait_for(lock, delay, [this] { return closing_.load(); });
  }

  const OpenSearchSettings settings_;
  const std::string sink_name_;
  const std::string error_path_;
  io::FileSystem* const fs_;
  // Set by Open, read-only afterwards.
  std::string authorization_;

  std::once_flag counters_once_;
  Counters counters_;
  std::atomic<bool> closing_{false};
  std::mutex wait_mutex_;
  std::condition_variable wake_;
  net::HttpClientPool clients_;
  std::mutex created_mutex_;  // guards created_
  std::set<std::string> created_;
  std::mutex error_mutex_;  // guards error_file_
  std::unique_ptr<io::File> error_file_;
};

}  // namespace

Result<std::unique_ptr<consume::Destination>> MakeOpenSearchDestinationWith(
    const consume::SinkSpec& spec, io::FileSystem* fs) {
  EDDY_ASSIGN_OR_RETURN(OpenSearchSettings settings, ParseOpenSearchSettings(spec));
  return std::unique_ptr<consume::Destination>(
      new OpenSearchDestination(std::move(settings), spec.name, spec.data_dir, fs));
}

Result<std::unique_ptr<consume::Destination>> MakeOpenSearchDestination(
    const consume::SinkSpec& spec) {
  return MakeOpenSearchDestinationWith(spec, io::DefaultFileSystem());
}

}  // namespace eddy::sink::opensearch
