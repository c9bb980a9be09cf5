#include "consume/sink_runner.h"

#include <algorithm>
#include <array>
#include <condition_variable>
#include <ctime>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <vector>

#include "base/helper_thread.h"
#include "base/logging.h"
#include "base/metrics.h"
#include "base/thread_name.h"
#include "consume/outstanding_records.h"
#include "consume/sequence_text.h"
#include "format/json.h"
#include "format/renderer.h"
#include "log/kinesis.h"
#include "log/stream_tags.h"
#include "model/event_codec.h"
#include "model/event_header.h"

namespace eddy::consume {
namespace {

using SteadyClock = std::chrono::steady_clock;

// The most records (and payload bytes) one read hands to Dispatch. Destinations with large
// batches (an object or an Iceberg commit of 100,000s of records) get them in several reads:
// the read vector stays small and warm, and lanes see records while the rest are decoded.
// Lanes with batching windows of 0 still wait for records already durable (more_coming_), so
// the chunking does not cut batches short.
constexpr size_t kReadChunkRecords = 10'000;
constexpr uint64_t kReadChunkBytes = 16u << 20;
// Delivered batches (of at most kReadChunkRecords records) kept for the control thread to fill
// again (SinkRunner::Impl::recycled_).
constexpr size_t kMaxRecycledBatches = 4;
// Reads of at least this many records are made into SinkRecords on two threads (the control
// thread and its helper); smaller ones are not worth the hand-over.
constexpr size_t kHelperMinRecords = 512;

constexpr std::array<SinkState, 6> kAllStates = {
    SinkState::kCreating, SinkState::kActive, SinkState::kImpaired,
    SinkState::kPaused,   SinkState::kFailed, SinkState::kDeleting,
};

// The module's metric families (its probe), registered once in the process registry.
struct SinkMetricFamilies {
  prometheus::Family<prometheus::Counter>& delivered_records;
  prometheus::Family<prometheus::Counter>& delivered_bytes;
  prometheus::Family<prometheus::Counter>& failures;
  prometheus::Family<prometheus::Counter>& retries;
  prometheus::Family<prometheus::Histogram>& batch_duration;
  prometheus::Family<prometheus::Gauge>& lag_records;
  prometheus::Family<prometheus::Gauge>& lag_seconds;
  prometheus::Family<prometheus::Gauge>& state;

  static SinkMetricFamilies& Get() {
    static SinkMetricFamilies* families = [] {
      auto& registry = metrics::Registry();
      return new SinkMetricFamilies{
          prometheus::BuildCounter()
              .Name("eddy_sink_delivered_records_total")
              .Help("Records a sink's destination acknowledged")
              .Register(registry),
          prometheus::BuildCounter()
              .Name("eddy_sink_delivered_bytes_total")
              .Help("Rendered bytes of the records a sink's destination acknowledged")
              .Register(registry),
          prometheus::BuildCounter()
              .Name("eddy_sink_failures_total")
              .Help("Failed deliveries and given-up records of a sink, by reason")
              .Register(registry),
          prometheus::BuildCounter()
              .Name("eddy_sink_retries_total")
              .Help("Batches a sink delivered again after a failure")
              .Register(registry),
          prometheus::BuildHistogram()
              .Name("eddy_sink_batch_duration_seconds")
              .Help("Time a sink's destination took to answer one batch")
              .Register(registry),
          prometheus::BuildGauge()
              .Name("eddy_sink_lag_records")
              .Help("Records committed to the stream that a sink has not delivered yet")
              .Register(registry),
          prometheus::BuildGauge()
              .Name("eddy_sink_lag_seconds")
              .Help("Age of the oldest record a sink has not delivered yet")
              .Register(registry),
          prometheus::BuildGauge()
              .Name("eddy_sink_state")
              .Help("1 for a sink's current state, 0 for the others")
              .Register(registry),
      };
    }();
    return *families;
  }
};

// One sink's children of the families.
struct SinkProbe {
  SinkProbe(const std::string& stream, const std::string& sink)
      : families(SinkMetricFamilies::Get()),
        labels{{"stream", stream}, {"sink", sink}},
        delivered_records(families.delivered_records.Add(labels)),
        delivered_bytes(families.delivered_bytes.Add(labels)),
        retries(families.retries.Add(labels)),
        batch_duration(families.batch_duration.Add(labels, metrics::LatencyBuckets())),
        lag_records(families.lag_records.Add(labels)),
        lag_seconds(families.lag_seconds.Add(labels)) {
    for (size_t i = 0; i < kAllStates.size(); ++i) {
      auto state_labels = labels;
      state_labels["state"] = std::string(SinkStateName(kAllStates[i]));
      states[i] = &families.state.Add(state_labels);
    }
  }

  void Failure(std::string_view reason, double count = 1) {
    auto failure_labels = labels;
    failure_labels["reason"] = std::string(reason);
    families.failures.Add(failure_labels).Increment(count);
  }

  void State(SinkState current) {
    for (size_t i = 0; i < kAllStates.size(); ++i) {
      states[i]->Set(kAllStates[i] == current ? 1 : 0);
    }
  }

  SinkMetricFamilies& families;
  std::map<std::string, std::string> labels;
  prometheus::Counter& delivered_records;
  prometheus::Counter& delivered_bytes;
  prometheus::Counter& retries;
  prometheus::Histogram& batch_duration;
  prometheus::Gauge& lag_records;
  prometheus::Gauge& lag_seconds;
  std::array<prometheus::Gauge*, kAllStates.size()> states{};
};

std::string FormatTime(int64_t nanos) {
  std::time_t seconds = static_cast<std::time_t>(nanos / 1'000'000'000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[32];
  std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

// The URL as logs and states show it: no credentials, no query (it may carry tokens).
std::string RedactUrl(const std::string& url) {
  std::string shown = url.substr(0, url.find_first_of("?#"));
  auto scheme_end = shown.find("://");
  if (scheme_end == std::string::npos) return shown;
  auto authority_start = scheme_end + 3;
  auto path_start = shown.find('/', authority_start);
  auto at = shown.rfind('@', path_start == std::string::npos ? shown.size() : path_start);
  if (at != std::string::npos && at >= authority_start)
    shown.erase(authority_start, at + 1 - authority_start);
  return shown;
}

std::string DescribeDuration(std::chrono::milliseconds duration) {
  auto millis = duration.count();
  if (millis % 86'400'000 == 0) return std::to_string(millis / 86'400'000) + "d";
  if (millis % 3'600'000 == 0) return std::to_string(millis / 3'600'000) + "h";
  if (millis % 60'000 == 0) return std::to_string(millis / 60'000) + "m";
  if (millis % 1000 == 0) return std::to_string(millis / 1000) + "s";
  return std::to_string(millis) + "ms";
}

std::string DescribeStart(const log::StartPosition& start) {
  switch (start.type) {
    case log::IteratorType::kTrimHorizon:
      return "trim-horizon";
    case log::IteratorType::kLatest:
      return "latest";
    case log::IteratorType::kAtSequenceNumber:
    case log::IteratorType::kAfterSequenceNumber:
      return "sequence " + std::to_string(start.sequence.value());
    case log::IteratorType::kAtTimestamp:
      return "timestamp " + FormatTime(start.timestamp_nanos);
  }
  return "trim-horizon";
}

// A lane's queued records in chunks, as Dispatch handed them over (one chunk per read and
// lane): queuing moves no record, and a batch that takes a whole chunk takes its vector.
// Moving every record into a deque and out into the batch was a large share of the control
// and lane threads' CPU.
class LaneQueue {
 public:
  size_t size() const { return count_; }
  bool empty() const { return count_ == 0; }
  uint64_t bytes() const { return bytes_; }
  // When the oldest queued record was queued (the batching window counts from it).
  SteadyClock::time_point front_queued_at() const { return chunks_.front().queued_at; }

  void PushBack(std::vector<SinkRecord> records, SteadyClock::time_point queued_at) {
    Push(std::move(records), queued_at, /*front=*/false);
  }
  // Records going first again (a batch put back): they precede everything queued.
  void PushFront(std::vector<SinkRecord> records, SteadyClock::time_point queued_at) {
    Push(std::move(records), queued_at, /*front=*/true);
  }

  // Moves the next records into `out` (empty on call): at most `max_records`, and while their
  // size_bytes stay within `max_bytes` (the first one always, unless `first_within_limit`:
  // a batch gathered in several takes already holds records).
  void Take(size_t max_records, uint64_t max_bytes, std::vector<SinkRecord>* out,
            bool first_within_limit = false) {
    uint64_t taken_bytes = 0;
    while (!chunks_.empty() && out->size() < max_records) {
      Chunk& chunk = chunks_.front();
      const size_t left = chunk.records.size() - chunk.head;
      if (out->empty() && chunk.head == 0 && left <= max_records && chunk.bytes <= max_bytes) {
        taken_bytes = chunk.bytes;
        *out = std::move(chunk.records);
        count_ -= left;
        bytes_ -= chunk.bytes;
        chunks_.pop_front();
        continue;
      }
      if (out->empty()) out->reserve(std::min(left, max_records));
      while (chunk.head < chunk.records.size() && out->size() < max_records) {
        SinkRecord& next = chunk.records[chunk.head];
        if ((!out->empty() || first_within_limit) && taken_bytes + next.size_bytes > max_bytes) {
          return;
        }
        taken_bytes += next.size_bytes;
        chunk.bytes -= next.size_bytes;
        bytes_ -= next.size_bytes;
        --count_;
        ++chunk.head;
        out->push_back(std::move(next));
      }
      if (chunk.head == chunk.records.size()) chunks_.pop_front();
    }
  }

  void Clear() {
    chunks_.clear();
    count_ = 0;
    bytes_ = 0;
  }

 private:
  struct Chunk {
    std::vector<SinkRecord> records;
    size_t head = 0;     // records[head..] are queued
    uint64_t bytes = 0;  // their size_bytes
    SteadyClock::time_point queued_at;
  };

  void Push(std::vector<SinkRecord> records, SteadyClock::time_point queued_at, bool front) {
    if (records.empty()) return;
    uint64_t bytes = 0;
    for (const SinkRecord& record : records) bytes += record.size_bytes;
    count_ += records.size();
    bytes_ += bytes;
    Chunk chunk{std::move(records), 0, bytes, queued_at};
    if (front) {
      chunks_.push_front(std::move(chunk));
    } else {
      chunks_.push_back(std::move(chunk));
    }
  }

  std::deque<Chunk> chunks_;
  size_t count_ = 0;
  uint64_t bytes_ = 0;
};

struct Lane {
  LaneQueue queue;
  bool busy = false;  // a batch is in flight
  std::string impaired_reason;
  int64_t impaired_since_nanos = 0;
  std::thread thread;
};

// A part of a batch being delivered: bisection splits a batch into parts delivered in order.
struct Part {
  std::vector<SinkRecord> records;
  int32_t attempts = 0;  // failed attempts of this part
  int last_status = 0;   // DeliveryOutcome::protocol_status of its last failed attempt
};

// What one thread making SinkRecords keeps between records.
struct MakeState {
  // The schema of the last record's table (records come in runs of one table and version).
  std::shared_ptr<const model::TableSchema> last_schema;
  format::RecordContext context;  // reused: its strings keep their capacity
  model::ChangeEvent header;      // an encoded row change's table and version, for SchemaOf
};

struct Request {
  ControlRequest request = ControlRequest::kNone;
  log::StartPosition reset_to;
  friend bool operator==(const Request& a, const Request& b) {
    return a.request == b.request && a.reset_to.type == b.reset_to.type &&
           a.reset_to.sequence == b.reset_to.sequence &&
           a.reset_to.timestamp_nanos == b.reset_to.timestamp_nanos;
  }
};

}  // namespace

class SinkRunner::Impl {
 public:
  Impl(SinkSpec spec, SinkSettings settings, std::shared_ptr<log::Stream> stream,
       CheckpointStore* store, std::unique_ptr<Destination> destination, SinkRunnerOptions options)
      : spec_(std::move(spec)),
        settings_(std::move(settings)),
        stream_(std::move(stream)),
        store_(store),
        destination_(std::move(destination)),
        options_(std::move(options)),
        clock_(options_.clock != nullptr ? options_.clock : &SystemClock::Instance()),
        file_system_(options_.file_system != nullptr ? options_.file_system
                                                     : io::DefaultFileSystem()),
        shown_url_(RedactUrl(spec_.url)),
        probe_(spec_.stream, spec_.name),
        lanes_(settings_.parallelization_factor) {
    if (!options_.open_reader) {
      options_.open_reader = [](std::shared_ptr<log::Stream> s, StreamReaderOptions o,
                                std::optional<Checkpoint> c) {
        return StreamReader::Open(std::move(s), std::move(o), std::move(c));
      };
    }
  }

  Status Start();
  Status Stop();
  void Post(Request request);
  SinkStatus Status_() const {
    std::lock_guard lock(mu_);
    return StatusLocked();
  }
  bool WaitFor(const std::function<bool(const SinkStatus&)>& predicate,
               SteadyClock::time_point deadline) const {
    std::unique_lock lock(mu_);
    return status_cv_.wait_until(lock, deadline, [&] { return predicate(StatusLocked()); });
  }
  const std::string& name() const { return spec_.name; }

 private:
  // Control thread.
  void ControlLoop();
  Status OpenReader(std::optional<Checkpoint> checkpoint, log::StartPosition start);
  // Fills `record` from `read` (views into the reader's buffers: the key, position and, on a
  // plain stream, the payload are copied into the record's own strings; a CDC payload is
  // decoded in place). `record` may be a recycled one: every field is set, and its strings
  // keep their capacity. False: the record is skipped (the format has no rendering for it).
  // Runs on the control thread and on the helper thread (for disjoint records): it reads only
  // what Dispatch prepared (shard_ids_, sequence_texts_) and `state`, the calling thread's.
  Result<bool> MakeRecord(const ReadRecordView& read, SinkRecord& record, MakeState& state);
  // The rest of MakeRecord for a record decoded whole: its table schema, its rendering (where
  // the runner renders), and the event. False: no rendering in the sink's format.
  bool FinishDecoded(const ReadRecordView& read, SinkRecord& record, MakeState& state,
                     model::ChangeEvent event);
  // MakeRecord for records[begin, end) into kept[begin, end); outcome[i]: 1 kept, 0 skipped;
  // stops at the first error (returned with its index).
  void MakeRecords(const std::vector<ReadRecordView>& records, size_t begin, size_t end,
                   std::vector<SinkRecord>& kept, std::vector<uint8_t>& outcome, MakeState& state,
                   std::optional<std::pair<size_t, ::eddy::Status>>& error);
  // A delivered batch's records, for MakeRecord to fill again (see recycled_).
  std::vector<SinkRecord> TakeRecycled();
  void Recycle(std::vector<SinkRecord>&& records);
  // The recorded schema of `event`'s table for SinkRecord::table_schema (see sink.h).
  // `last_schema`: the caller's cache of the last one found (records come in runs).
  std::shared_ptr<const model::TableSchema> SchemaOf(
      const model::ChangeEvent& event, std::shared_ptr<const model::TableSchema>& last_schema);
  // Turns the records of one read into SinkRecords and queues them in their lanes.
  // `more_coming`: the read was cut by its limits, so more records are durable already.
  void Dispatch(const StreamBatch& read, bool more_coming);
  void ApplyRequest(const Request& request);
  void UpdateLag();
  void PollStore();

  // Lane threads.
  void LaneLoop(size_t index);
  // For a destination that StagesRecords: gathers lane `index`'s next batch into `batch`
  // (empty on call), taking records from the queue as they come and handing each take to
  // Destination::Stage, until the batch limits, the batching window, or (without a window)
  // the end of what is durable. The lane is busy meanwhile. False: interrupted (stop, pause,
  // reset, a failure): the records went back to the front of the queue, the lane is not busy.
  // Called with `lock` (on mu_) held; returns with it held.
  bool GatherStaged(size_t index, std::unique_lock<std::mutex>& lock,
                    std::vector<SinkRecord>* batch);
  void DeliverBatch(size_t lane_index, std::vector<SinkRecord> records);
  bool GiveUp(size_t lane_index, const std::vector<SinkRecord>& records, const Status& error,
              const GiveUpContext& context);
  Status WriteFailures(const std::vector<SinkRecord>& records, const Status& error,
                       const GiveUpContext& context);
  // Renders a given-up record that was read without rendering (see render_), for on_failure.
  void RenderForFailure(SinkRecord& record) const;
  void Acknowledge(const std::vector<SinkRecord>& records, bool given_up);
  void Requeue(size_t lane_index, std::deque<Part>& parts);
  void SetLaneImpaired(size_t lane_index, const std::string& reason);
  void ClearLaneImpaired(size_t lane_index);
  bool WaitInterruptibly(SteadyClock::time_point deadline);

  // Any thread.
  void Fail(const std::string& reason, bool backlog);
  Status SaveState();
  void AdoptLocked(const ConsumerState& loaded);
  bool InterruptedLocked() const { return stopping_ || paused_ || failed_ || resetting_; }
  void SetMoreComingLocked(bool more) {
    if (more_coming_ && !more) work_cv_.notify_all();
    more_coming_ = more;
  }
  bool CanDeliverLocked() const { return !paused_ && !failed_ && !resetting_; }
  void UpdateStateLocked();
  // `excluding`: records to treat as acknowledged (a batch about to be delivered).
  Checkpoint CheckpointLocked(const OutstandingRecords::SortedKeys* excluding) const;
  SinkStatus StatusLocked() const;
  ConsumerState BuildStateLocked() const;

  const SinkSpec spec_;
  const SinkSettings settings_;
  const std::shared_ptr<log::Stream> stream_;
  CheckpointStore* const store_;
  const std::unique_ptr<Destination> destination_;
  SinkRunnerOptions options_;
  const Clock* const clock_;
  io::FileSystem* const file_system_;
  const std::string shown_url_;
  std::shared_ptr<logging::Logger> logger_ = logging::Get("sink");
  SinkProbe probe_;

  // Rendering (immutable after Start).
  bool cdc_ = false;
  // Records are rendered as they are read: the destination reads `data`, or the filter does.
  bool render_ = false;
  // Destination::TakesStoredEvents without rendering: records carry stored_event, not event.
  bool stored_events_ = false;
  bool encoded_rows_ = false;  // Destination::RendersEncodedRowChanges, and no filter
  // Every record gets its shard ID and sequence number as text (Destination::ReadsRecordIdText,
  // or a filter, which may match them); else only rendered records get the sequence number.
  bool id_text_ = true;
  // Destination::StagesRecords: lanes hand records over while they gather a batch.
  bool stages_ = false;
  // Destination::CommitsCheckpoint: the checkpoint file is a hint, not saved per batch.
  bool commits_checkpoint_ = false;
  size_t commits_checkpoint_from_ = 0;  // Destination::CommitsCheckpointFromRecords
  std::unique_ptr<format::Renderer> renderer_;
  format::ViewType view_ = format::ViewType::kNewAndOldImages;

  // Control thread only.
  std::unique_ptr<StreamReader> reader_;
  StreamReaderOptions read_limits_;     // the reader's per-read limits (max_records, max_bytes)
  std::vector<std::string> shard_ids_;  // by shard index, formatted once
  std::vector<std::optional<SequenceText>> sequence_texts_;  // by shard index
  // For the control thread's and the helper's part of a read.
  MakeState make_state_;
  MakeState helper_make_state_;
  // Takes half of each large read's MakeRecord work (null on a one-core machine).
  std::unique_ptr<HelperThread> helper_;
  std::vector<uint8_t> make_outcome_;  // Dispatch's per-record MakeRecord outcomes, reused
  std::thread control_thread_;

  std::mutex schema_mu_;  // a leaf: guards missing_schemas_
  std::set<std::pair<model::TableId, uint32_t>> missing_schemas_;  // warned about once

  std::mutex control_mu_;  // Stop callers
  std::mutex save_mu_;     // one checkpoint write at a time
  std::mutex failure_mu_;  // one on_failure write at a time
  // Delivered records handed back by lanes for MakeRecord to fill again (a leaf lock: nothing
  // else is locked while it is held).
  std::mutex recycle_mu_;
  std::vector<std::vector<SinkRecord>> recycled_;

  mutable std::mutex mu_;
  mutable std::condition_variable status_cv_;  // any status change; the control thread waits
  std::condition_variable work_cv_;            // lanes wait for work or interruption
  std::vector<Lane> lanes_;
  size_t queued_records_ = 0;
  OutstandingRecords outstanding_;
  Checkpoint read_frontier_;  // the reader's checkpoint after the last Next
  uint64_t generation_ = 0;   // of every checkpoint handed out; +1 on each reset
  bool checkpoint_dirty_ = false;
  // Acknowledged batches of a destination that commits the checkpoint with its data
  // (commits_checkpoint_) not saved to the file yet: saved with the next control interval.
  bool hint_dirty_ = false;
  std::optional<Request> inbox_;     // adopted, not applied yet
  std::optional<Request> consumed_;  // applied, still in the stored state until the next save
  bool applying_ = false;            // the control thread is applying a request
  // The control thread is reading and dispatching records that are durable now (its last read
  // returned some): a lane without a batching window waits for them up to its batch limits
  // instead of sending the part queued so far, as Lambda batches what a shard has.
  bool more_coming_ = false;
  bool stopping_ = false;
  bool stopped_ = false;
  bool paused_ = false;
  bool resetting_ = false;
  bool failed_ = false;
  std::string failed_reason_;
  bool holds_retention_ = true;
  std::string reader_impaired_reason_;
  int64_t reader_impaired_since_nanos_ = 0;
  SinkState state_ = SinkState::kCreating;
  std::string reason_;
  int64_t state_since_nanos_ = 0;
  uint64_t delivered_records_ = 0;
  uint64_t delivered_bytes_ = 0;
  uint64_t failed_records_ = 0;
  SourcePosition last_delivered_position_;
  int64_t last_delivered_arrival_nanos_ = 0;
  uint64_t last_delivered_sequence_ = 0;
  uint64_t lag_records_ = 0;
  double lag_seconds_ = 0;
  int64_t position_chosen_nanos_ = 0;  // a new sink's start or the last reset; 0 on a restart
  ::eddy::Status stop_status_;
};

// ---------------------------------------------------------------------------------------------
// Start and stop

Status SinkRunner::Impl::Start() {
  auto in_context = [this](const ::eddy::Status& status) {
    return status.WithContext("sink '" + spec_.name + "' (" + shown_url_ + ")");
  };
  {
    std::lock_guard lock(mu_);
    state_since_nanos_ = clock_->NowNanos();
    probe_.State(state_);
  }
  if (settings_.on_failure.kind == OnFailureKind::kWebhook && !options_.failure_handler) {
    return InvalidArgument("sink '" + spec_.name + "' setting on_failure = '" +
                           settings_.on_failure.url +
                           "': this build cannot deliver failures to a URL; use a file name");
  }
  log::StreamInfo info = stream_->Describe();
  cdc_ = log::IsCdcStream(info);
  if (cdc_) {
    auto renderer = format::MakeRenderer(settings_.format);
    if (!renderer.ok()) return in_context(renderer.status());
    renderer_ = std::move(*renderer);
    if (settings_.view_type) {
      view_ = *settings_.view_type;
    } else if (auto view = format::ParseViewType(log::StreamTag(info, log::kTagViewType));
               view.ok()) {
      view_ = *view;  // the stream's view type
    }
    render_ = destination_->UsesRenderedData() || static_cast<bool>(options_.filter);
    stored_events_ = !render_ && destination_->TakesStoredEvents();
    encoded_rows_ = destination_->RendersEncodedRowChanges() && !options_.filter &&
                    view_ == format::ViewType::kNewAndOldImages;
  }
  id_text_ = destination_->ReadsRecordIdText() || static_cast<bool>(options_.filter);

  // The saved state: where to resume, and what the operator asked while eddy was stopped.
  std::optional<ConsumerState> saved;
  if (store_ != nullptr) {
    auto loaded = store_->Load(spec_.name);
    if (loaded.ok()) {
      if (loaded->stream != spec_.stream) {
        return InvalidArgument("sink '" + spec_.name + "' reads stream '" + spec_.stream +
                               "', but the data directory has a sink of that name reading '" +
                               loaded->stream +
                               "': choose another name, or remove the old one's state");
      }
      saved = std::move(*loaded);
    } else if (loaded.status().code() != ErrorCode::kNotFound) {
      return in_context(loaded.status());
    }
  }

  if (!options_.destination_open) {
    if (Status opened = destination_->Open(); !opened.ok()) return in_context(opened);
  }
  commits_checkpoint_ = destination_->CommitsCheckpoint();
  commits_checkpoint_from_ = destination_->CommitsCheckpointFromRecords();
  stages_ = destination_->StagesRecords();
  auto destination_checkpoint = destination_->ReadCheckpoint();
  if (!destination_checkpoint.ok()) return in_context(destination_checkpoint.status());

  std::optional<Checkpoint> resume;
  if (saved) resume = saved->checkpoint;
  if (*destination_checkpoint) {
    resume = resume ? LaterCheckpoint(*resume, **destination_checkpoint) : **destination_checkpoint;
  }
  generation_ = resume ? resume->generation : 0;
  std::optional<Request> pending;
  if (saved) {
    delivered_records_ = saved->delivered_records;
    delivered_bytes_ = saved->delivered_bytes;
    failed_records_ = saved->failed_records;
    last_delivered_position_ = saved->last_delivered_position;
    last_delivered_arrival_nanos_ = saved->last_delivered_arrival_nanos;
    if (saved->request != ControlRequest::kNone) {
      pending = Request{saved->request, saved->reset_to};
    }
    paused_ = saved->state == SinkState::kPaused;
    // A sink that failed for its backlog stays failed until it is reset: retention no longer
    // kept its records. Other failures are retried by a restart.
    if (saved->state == SinkState::kFailed && !saved->holds_retention) {
      failed_ = true;
      holds_retention_ = false;
      failed_reason_ = saved->reason;
    }
  }
  if (!saved) position_chosen_nanos_ = clock_->NowNanos();
  log::StartPosition start = log::StartPosition::TrimHorizon();
  switch (settings_.starting_position) {
    case StartingPosition::kTrimHorizon:
      break;
    case StartingPosition::kLatest:
      start = log::StartPosition::Latest();
      break;
    case StartingPosition::kAtTimestamp:
      start = log::StartPosition::AtTimestamp(settings_.starting_position_timestamp_nanos);
      break;
  }
  if (pending) {
    // Applied now, before anything is read.
    switch (pending->request) {
      case ControlRequest::kPause:
        paused_ = true;
        break;
      case ControlRequest::kResume:
        paused_ = false;
        if (holds_retention_) failed_ = false;
        break;
      case ControlRequest::kReset:
        resume.reset();
        ++generation_;  // the destination's pre-reset checkpoint no longer counts
        position_chosen_nanos_ = clock_->NowNanos();
        start = pending->reset_to;
        paused_ = false;
        failed_ = false;
        holds_retention_ = true;
        logger_->info("sink={} reset to {} as requested", spec_.name, DescribeStart(start));
        break;
      case ControlRequest::kNone:
        break;
    }
    consumed_ = pending;
  }
  if (Status opened = OpenReader(resume, start); !opened.ok()) {
    destination_->Close().IgnoreError();  // the open error is what the operator needs
    if (opened.code() == ErrorCode::kTrimmed) {
      return in_context(::eddy::Status(
          ErrorCode::kTrimmed, opened.message() +
                                   "; its checkpoint fell behind the stream's retention: reset it "
                                   "with `eddy sink reset --name " +
                                   spec_.name +
                                   " --to trim-horizon` (records in between are lost to it)"));
    }
    return in_context(opened);
  }
  {
    std::lock_guard lock(mu_);
    UpdateStateLocked();
  }
  if (Status saved_state = SaveState(); !saved_state.ok()) {
    destination_->Close().IgnoreError();
    return in_context(saved_state);
  }
  SinkState started_state;
  {
    std::lock_guard lock(mu_);  // lanes change the state as soon as they run
    started_state = state_;
  }
  if (std::thread::hardware_concurrency() > 1) {
    helper_ = std::make_unique<HelperThread>("sink-records");
  }
  for (size_t i = 0; i < lanes_.size(); ++i) {
    lanes_[i].thread = std::thread([this, i] {
      NameCurrentThread("sink-lane-" + std::to_string(i));
      LaneLoop(i);
    });
  }
  control_thread_ = std::thread([this] {
    NameCurrentThread("sink-control");
    ControlLoop();
  });
  logger_->info("sink={} stream={} url={} started state={} lanes={}", spec_.name, spec_.stream,
                shown_url_, SinkStateName(started_state), lanes_.size());
  return ::eddy::Status::Ok();
}

Status SinkRunner::Impl::OpenReader(std::optional<Checkpoint> checkpoint,
                                    log::StartPosition start) {
  StreamReaderOptions reader_options;
  reader_options.start = start;
  reader_options.max_records =
      std::min(std::max<size_t>(settings_.batch_size, 100), kReadChunkRecords);
  reader_options.max_bytes =
      std::min(std::max<uint64_t>(settings_.batch_bytes, 1u << 20), kReadChunkBytes);
  read_limits_ = reader_options;
  auto reader = options_.open_reader(stream_, reader_options, std::move(checkpoint));
  if (!reader.ok()) return reader.status();
  reader_ = std::move(*reader);
  std::lock_guard lock(mu_);
  read_frontier_ = reader_->checkpoint();
  return ::eddy::Status::Ok();
}

Status SinkRunner::Impl::Stop() {
  std::lock_guard control(control_mu_);
  {
    std::lock_guard lock(mu_);
    if (stopped_) return stop_status_;
    stopping_ = true;
  }
  work_cv_.notify_all();
  status_cv_.notify_all();
  if (control_thread_.joinable()) control_thread_.join();
  for (auto& lane : lanes_) {
    if (lane.thread.joinable()) lane.thread.join();
  }
  ::eddy::Status saved = SaveState();
  ::eddy::Status closed = destination_->Close();
  std::lock_guard lock(mu_);
  stopped_ = true;
  stop_status_ = !saved.ok() ? saved : closed;
  if (!stop_status_.ok()) {
    stop_status_ = stop_status_.WithContext("stopping sink '" + spec_.name + "'");
  }
  logger_->info("sink={} stopped delivered_records={} checkpoint_saved={}", spec_.name,
                delivered_records_, saved.ok());
  status_cv_.notify_all();
  return stop_status_;
}

void SinkRunner::Impl::Post(Request request) {
  {
    std::lock_guard lock(mu_);
    inbox_ = std::move(request);
  }
  status_cv_.notify_all();
}

// ---------------------------------------------------------------------------------------------
// The control thread

void SinkRunner::Impl::ControlLoop() {
  Backoff read_backoff(options_.backoff);
  auto next_poll = SteadyClock::now() + options_.control_interval;
  // Reused across reads: the records of a read are views into the reader's buffers, held
  // until Dispatch has made SinkRecords of them (StreamReader::NextViews).
  StreamBatch read_batch;
  while (true) {
    std::optional<Request> request;
    bool can_read = false;
    {
      std::lock_guard lock(mu_);
      if (stopping_) break;
      request = std::exchange(inbox_, std::nullopt);
      if (request) {
        consumed_ = request;
        applying_ = true;
      }
    }
    if (request) {
      ApplyRequest(*request);
      SaveState().IgnoreError();  // logged by SaveState; the next save retries
      {
        std::lock_guard lock(mu_);
        applying_ = false;
      }
      status_cv_.notify_all();
      continue;
    }
    {
      std::lock_guard lock(mu_);
      size_t limit = std::max(options_.max_queued_records,
                              static_cast<size_t>(settings_.batch_size) * lanes_.size());
      can_read = !paused_ && !failed_ && queued_records_ < limit;
      if (!can_read) SetMoreComingLocked(false);
    }
    bool read_any = false;
    if (can_read) {
      ::eddy::Status read = reader_->NextViews(&read_batch);
      if (!read.ok()) {
        {
          std::lock_guard lock(mu_);
          SetMoreComingLocked(false);
        }
        if (read.code() == ErrorCode::kTrimmed) {
          Fail("sink '" + spec_.name + "' fell behind the retention of stream '" + spec_.stream +
                   "': " + read.message() + "; reset it with `eddy sink reset --name " +
                   spec_.name + " --to trim-horizon`",
               /*backlog=*/false);
          continue;
        }
        {
          std::lock_guard lock(mu_);
          if (reader_impaired_reason_.empty()) reader_impaired_since_nanos_ = clock_->NowNanos();
          reader_impaired_reason_ = "reading stream '" + spec_.stream + "' fails since " +
                                    FormatTime(reader_impaired_since_nanos_) + ": " +
                                    read.ToString();
          UpdateStateLocked();
        }
        SaveState().IgnoreError();
        WaitInterruptibly(SteadyClock::now() + read_backoff.NextDelay());
        continue;
      }
      read_backoff.Reset();
      bool was_impaired = false;
      {
        std::lock_guard lock(mu_);
        was_impaired = !reader_impaired_reason_.empty();
        reader_impaired_reason_.clear();
        if (was_impaired) UpdateStateLocked();
      }
      read_any = !read_batch.records.empty();
      if (read_any) {
        uint64_t read_bytes = 0;
        for (const ReadRecordView& read_record : read_batch.records) {
          read_bytes += read_record.record.payload.size() + read_record.record.partition_key.size();
        }
        bool cut = read_batch.records.size() >= read_limits_.max_records ||
                   read_bytes >= read_limits_.max_bytes - read_limits_.max_bytes / 8;
        Dispatch(read_batch, cut);
        read_batch.Clear();  // the reader's buffers go back to its pool
      } else {
        std::lock_guard lock(mu_);
        SetMoreComingLocked(false);
      }
    }
    UpdateLag();
    bool save = false;
    {
      std::lock_guard lock(mu_);
      save = std::exchange(checkpoint_dirty_, false);
    }
    if (save) SaveState().IgnoreError();
    if (store_ != nullptr && SteadyClock::now() >= next_poll) {
      bool save_hint = false;
      {
        std::lock_guard lock(mu_);
        save_hint = std::exchange(hint_dirty_, false);
      }
      // The hint file of a destination that commits its checkpoint (SaveState also adopts
      // what the operator requested, so it stands for PollStore then).
      if (save_hint) {
        SaveState().IgnoreError();
      } else {
        PollStore();
      }
      next_poll = SteadyClock::now() + options_.control_interval;
    }
    if (read_any) continue;
    auto deadline = std::min(SteadyClock::now() + options_.idle_wait, next_poll);
    if (can_read) {
      // A failed wait only means the next Next comes sooner.
      reader_->WaitForCommit(deadline).IgnoreError();
    } else {
      std::unique_lock lock(mu_);
      size_t limit = std::max(options_.max_queued_records,
                              static_cast<size_t>(settings_.batch_size) * lanes_.size());
      status_cv_.wait_until(lock, deadline, [&] {
        return stopping_ || inbox_.has_value() || (!paused_ && !failed_ && queued_records_ < limit);
      });
    }
  }
}

std::shared_ptr<const model::TableSchema> SinkRunner::Impl::SchemaOf(
    const model::ChangeEvent& event, std::shared_ptr<const model::TableSchema>& last_schema) {
  model::SchemaRegistry* schemas = options_.schemas.get();
  if (schemas == nullptr || event.table.name.empty()) return nullptr;
  if (event.op == model::Operation::kSchemaChange) {
    if (!event.schema_change || !event.schema_change->table_schema) return nullptr;
    const model::TableSchema& reported = *event.schema_change->table_schema;
    // The recorded version when the capture recorded this shape already; otherwise the
    // statement's schema as the source reported it, version 0 (not recorded: the table's next
    // row change brings the version its rows are decoded with).
    std::shared_ptr<const model::TableSchema> latest = schemas->Latest(event.table);
    if (latest != nullptr && model::SameShape(*latest, reported)) return latest;
    auto copy = std::make_shared<model::TableSchema>(reported);
    copy->version = 0;
    return copy;
  }
  if (!model::IsRowChange(event.op) && event.op != model::Operation::kTruncate) return nullptr;
  if (event.schema_version == 0) {
    // Events a capture stamps with no version (a MySQL TRUNCATE statement): the table's
    // latest schema.
    return schemas->Latest(event.table);
  }
  if (last_schema != nullptr && last_schema->version == event.schema_version &&
      last_schema->table == event.table) {
    return last_schema;
  }
  Result<std::shared_ptr<const model::TableSchema>> found =
      schemas->Find(event.table, event.schema_version);
  if (!found.ok()) {
    // Records written before the stream kept schemas (or by a capture that did not record
    // them): delivered without one.
    bool first;
    {
      std::lock_guard lock(schema_mu_);
      first = missing_schemas_.emplace(event.table, event.schema_version).second;
    }
    if (first) {
      logger_->warn(
          "no recorded schema for a record's table sink={} table={} version={} "
          "error=\"{}\"",
          spec_.name, event.table.ToString(), event.schema_version, found.status().ToString());
    }
    return nullptr;
  }
  last_schema = *found;
  return last_schema;
}

Result<bool> SinkRunner::Impl::MakeRecord(const ReadRecordView& read, SinkRecord& record,
                                          MakeState& state) {
  record.shard_index = read.shard_index;
  record.sequence = read.record.sequence;
  record.shard_creation_nanos = read.shard_creation_nanos;
  if (id_text_) {
    record.shard_id.assign(shard_ids_[read.shard_index]);  // into the recycled record's capacity
    sequence_texts_[read.shard_index]->Format(read.record.sequence, &record.sequence_number);
  } else {
    // ShardIdText(record) and SequenceNumberText(record) format them when needed.
    record.shard_id.clear();
    record.sequence_number.clear();
  }
  record.partition_key.assign(read.record.partition_key);
  record.arrival_nanos = read.record.arrival_nanos;
  // Kept as stored (the log checked it): decoded only for the last record of a batch.
  const std::string_view position = read.record.position;
  if (!position.empty() && static_cast<SourceKind>(position[0]) != SourceKind::kNone) {
    record.position.assign(position);
  } else {
    record.position.clear();
  }
  if (cdc_ && (stored_events_ || encoded_rows_)) {
    // The destination decodes rows itself (TakesStoredEvents), and so checks them, or renders
    // row changes from their stored bytes (RendersEncodedRowChanges): only the header is read
    // here, the payload is copied into the recycled record's buffer, and no ChangeEvent is
    // built.
    auto view = model::ReadStoredEventHeader(read.record.payload);
    if (!view.ok()) {
      return view.status().WithContext("record " + SequenceNumberText(record) + " of " +
                                       ShardIdText(record));
    }
    // Records come in runs of one table: the last schema found, compared in place. Anything
    // else (another table or version, a schema change, a truncate) is decoded whole (and so
    // checked) and looked up from the decoded event, but a row change for a destination that
    // renders it from its stored bytes: that one's schema is looked up from its header.
    const std::shared_ptr<const model::TableSchema>& last = state.last_schema;
    const bool row_change = model::IsRowChange(view->op);
    if (row_change && view->schema_version != 0 && last != nullptr &&
        last->version == view->schema_version && last->table.name == view->table &&
        last->table.schema == view->schema && last->table.database == view->database) {
      record.table_schema = last;
    } else if (stored_events_ || !row_change) {
      auto event = model::DecodeEvent(read.record.payload);
      if (!event.ok()) {
        return event.status().WithContext("record " + SequenceNumberText(record) + " of " +
                                          ShardIdText(record));
      }
      if (!stored_events_) return FinishDecoded(read, record, state, std::move(*event));
      record.table_schema = SchemaOf(*event, state.last_schema);
    } else {
      // A row change of another table or version than the record before: its schema from the
      // header alone (the destination decodes the rest, and falls back to decoding it whole
      // where its encoded path declines).
      model::ChangeEvent& header = state.header;
      header.op = view->op;
      header.table.database.assign(view->database);
      header.table.schema.assign(view->schema);
      header.table.name.assign(view->table);
      header.schema_version = view->schema_version;
      record.table_schema = SchemaOf(header, state.last_schema);
    }
    record.data.clear();
    record.stored_event.assign(read.record.payload);
    record.size_bytes = read.record.payload.size();
    record.event.reset();
    return true;
  }
  record.stored_event.clear();
  if (cdc_) {
    // Decoded straight from the segment bytes: the payload is never copied.
    auto event = model::DecodeEvent(read.record.payload);
    if (!event.ok()) {
      return event.status().WithContext("record " + SequenceNumberText(record) + " of " +
                                        ShardIdText(record));
    }
    return FinishDecoded(read, record, state, std::move(*event));
  }
  // A plain stream: the record's bytes, as GetRecords returns them in Data (copied into the
  // recycled record's buffer: destinations own SinkRecord::data).
  record.data.assign(read.record.payload);
  record.size_bytes = record.data.size();
  record.event.reset();
  record.table_schema.reset();
  return true;
}

bool SinkRunner::Impl::FinishDecoded(const ReadRecordView& read, SinkRecord& record,
                                     MakeState& state, model::ChangeEvent event) {
  record.stored_event.clear();
  record.table_schema = SchemaOf(event, state.last_schema);
  if (render_) {
    if (record.sequence_number.empty()) {  // a renderer may print it
      sequence_texts_[read.shard_index]->Format(read.record.sequence, &record.sequence_number);
    }
    format::RecordContext& context = state.context;
    context.sequence_number.assign(record.sequence_number);
    context.table_schema = record.table_schema.get();
    // Into the recycled record's buffer.
    renderer_->RenderTo(event, view_, context, &record.data);
    if (record.data.empty()) return false;  // no rendering in this format
    record.size_bytes = record.data.size();
  } else {
    // The destination lays out rows itself (UsesRenderedData): batches count stored bytes.
    record.data.clear();
    record.size_bytes = read.record.payload.size();
  }
  record.event = std::make_shared<const model::ChangeEvent>(std::move(event));
  return true;
}

void SinkRunner::Impl::MakeRecords(const std::vector<ReadRecordView>& records, size_t begin,
                                   size_t end, std::vector<SinkRecord>& kept,
                                   std::vector<uint8_t>& outcome, MakeState& state,
                                   std::optional<std::pair<size_t, ::eddy::Status>>& error) {
  for (size_t i = begin; i < end; ++i) {
    auto made = MakeRecord(records[i], kept[i], state);
    if (!made.ok()) {
      error.emplace(i, made.status());
      return;
    }
    outcome[i] = *made ? 1 : 0;
  }
}

std::vector<SinkRecord> SinkRunner::Impl::TakeRecycled() {
  std::lock_guard lock(recycle_mu_);
  if (recycled_.empty()) return {};
  std::vector<SinkRecord> records = std::move(recycled_.back());
  recycled_.pop_back();
  return records;
}

void SinkRunner::Impl::Recycle(std::vector<SinkRecord>&& records) {
  if (records.empty() || records.size() > kReadChunkRecords) return;  // freed by the caller
  std::lock_guard lock(recycle_mu_);
  if (recycled_.size() < kMaxRecycledBatches) recycled_.push_back(std::move(records));
}

void SinkRunner::Impl::Dispatch(const StreamBatch& read, bool more_coming) {
  const std::vector<ReadRecordView>& records = read.records;
  Checkpoint frontier = reader_->checkpoint();
  // What MakeRecord reads on both threads, prepared here: each shard's ID and sequence text.
  for (const ReadRecordView& record : records) {
    const uint32_t shard = record.shard_index;
    if (shard >= shard_ids_.size()) {
      shard_ids_.resize(shard + 1);
      sequence_texts_.resize(shard + 1);
    }
    if (shard_ids_[shard].empty()) shard_ids_[shard] = log::FormatShardId(shard);
    std::optional<SequenceText>& text = sequence_texts_[shard];
    if (!text || text->shard_creation_nanos() != record.shard_creation_nanos) {
      text.emplace(shard, record.shard_creation_nanos);
    }
  }
  // Filled in place: recycled records keep their strings' buffers, so a record costs no
  // allocation for its shard ID, key or sequence number.
  std::vector<SinkRecord> kept = TakeRecycled();
  if (kept.size() < records.size()) kept.resize(records.size());
  make_outcome_.assign(records.size(), 0);
  std::optional<std::pair<size_t, ::eddy::Status>> error;
  std::optional<std::pair<size_t, ::eddy::Status>> helper_error;
  // A large read is split with the helper thread: decoding and rendering are most of a CDC
  // sink's CPU, and the control thread is the one that feeds every lane.
  const size_t split = helper_ != nullptr && records.size() >= kHelperMinRecords
                           ? records.size() / 2
                           : records.size();
  if (split < records.size()) {
    helper_->Run([&] {
      MakeRecords(records, split, records.size(), kept, make_outcome_, helper_make_state_,
                  helper_error);
    });
  }
  MakeRecords(records, 0, split, kept, make_outcome_, make_state_, error);
  if (split < records.size()) {
    helper_->Wait();
    if (!error) error = std::move(helper_error);
  }
  if (error) {
    // A stored record that does not decode is corruption, not a delivery problem: stop here
    // (before it) so nothing after it is delivered out of order, and tell the operator.
    Fail("sink '" + spec_.name + "': " + error->second.ToString() +
             "; skip it with `eddy sink reset --name " + spec_.name +
             " --to SEQUENCE` (the record after it)",
         /*backlog=*/false);
    Recycle(std::move(kept));
    return;
  }
  // Skipped records (no rendering, or dropped by the filter) leave the vector; the kept ones
  // keep their order.
  size_t count = 0;
  bool skipped = false;
  for (size_t i = 0; i < records.size(); ++i) {
    bool keep = make_outcome_[i] != 0 && (!options_.filter || options_.filter(kept[i]));
    if (!keep) {
      skipped = true;
      continue;
    }
    if (count != i) std::swap(kept[count], kept[i]);
    ++count;
  }
  kept.resize(count);
  auto now = SteadyClock::now();
  {
    std::lock_guard lock(mu_);
    for (const auto& record : kept) {
      outstanding_.Add(record.shard_index, record.sequence.value(), record.arrival_nanos);
    }
    queued_records_ += kept.size();
    if (lanes_.size() == 1) {
      lanes_[0].queue.PushBack(std::move(kept), now);
    } else {
      // One vector per lane, each in read order.
      std::vector<std::vector<SinkRecord>> by_lane(lanes_.size());
      for (auto& record : kept) {
        size_t lane_index = std::hash<std::string>{}(record.partition_key) % lanes_.size();
        by_lane[lane_index].push_back(std::move(record));
      }
      for (size_t i = 0; i < lanes_.size(); ++i) {
        lanes_[i].queue.PushBack(std::move(by_lane[i]), now);
      }
    }
    read_frontier_ = std::move(frontier);
    if (skipped) checkpoint_dirty_ = true;
    SetMoreComingLocked(more_coming);
  }
  work_cv_.notify_all();
}

void SinkRunner::Impl::ApplyRequest(const Request& request) {
  switch (request.request) {
    case ControlRequest::kNone:
      return;
    case ControlRequest::kPause: {
      std::lock_guard lock(mu_);
      paused_ = true;
      UpdateStateLocked();
      logger_->info("sink={} paused", spec_.name);
      break;
    }
    case ControlRequest::kResume: {
      std::lock_guard lock(mu_);
      paused_ = false;
      if (holds_retention_) failed_ = false;  // a backlog failure needs a reset
      UpdateStateLocked();
      logger_->info("sink={} resumed state={}", spec_.name, SinkStateName(state_));
      break;
    }
    case ControlRequest::kReset: {
      std::unique_lock lock(mu_);
      resetting_ = true;
      UpdateStateLocked();
      work_cv_.notify_all();
      // The batches in flight finish (their retries stop); then nothing is outstanding.
      status_cv_.wait(lock, [&] {
        return stopping_ ||
               std::none_of(lanes_.begin(), lanes_.end(), [](const Lane& l) { return l.busy; });
      });
      if (stopping_) {
        resetting_ = false;
        return;
      }
      for (auto& lane : lanes_) lane.queue.Clear();
      queued_records_ = 0;
      outstanding_.Clear();
      lock.unlock();
      ::eddy::Status opened = OpenReader(std::nullopt, request.reset_to);
      lock.lock();
      resetting_ = false;
      if (!opened.ok()) {
        lock.unlock();
        Fail("sink '" + spec_.name + "' could not reset to " + DescribeStart(request.reset_to) +
                 ": " + opened.ToString(),
             /*backlog=*/false);
        return;
      }
      failed_ = false;
      paused_ = false;
      holds_retention_ = true;
      ++generation_;  // the destination's pre-reset checkpoint no longer counts
      position_chosen_nanos_ = clock_->NowNanos();
      UpdateStateLocked();
      logger_->info("sink={} reset to {}", spec_.name, DescribeStart(request.reset_to));
      break;
    }
  }
  work_cv_.notify_all();
  status_cv_.notify_all();
}

void SinkRunner::Impl::UpdateLag() {
  StreamReader::Backlog backlog = reader_->backlog();
  int64_t now = clock_->NowNanos();
  bool over_limit = false;
  std::string over_by;
  {
    std::lock_guard lock(mu_);
    int64_t oldest = backlog.oldest_arrival_nanos;
    if (int64_t arrival = outstanding_.OldestArrivalNanos();
        arrival != 0 && (oldest == 0 || arrival < oldest)) {
      oldest = arrival;
    }
    lag_records_ = backlog.records + outstanding_.size();
    lag_seconds_ = oldest == 0 ? 0.0 : std::max<double>(0, (now - oldest) / 1e9);
    probe_.lag_records.Set(static_cast<double>(lag_records_));
    probe_.lag_seconds.Set(lag_seconds_);
    // The limit counts from when the records arrived, or from when the operator chose this
    // position (a new sink, a reset), whichever is later: a sink started at the horizon of a
    // week-old stream has not fallen behind.
    int64_t behind_since = std::max(oldest, position_chosen_nanos_);
    if (holds_retention_ && oldest != 0 &&
        now - behind_since >
            std::chrono::duration_cast<std::chrono::nanoseconds>(settings_.max_backlog).count()) {
      over_limit = true;
      over_by = DescribeDuration(std::chrono::milliseconds((now - behind_since) / 1'000'000));
    }
  }
  status_cv_.notify_all();
  if (over_limit) {
    Fail("sink '" + spec_.name + "' is " + over_by + " behind stream '" + spec_.stream +
             "', more than max_backlog = " + DescribeDuration(settings_.max_backlog) +
             "; it no longer holds the stream's retention. Fix the destination, then `eddy sink "
             "reset --name " +
             spec_.name +
             " --to trim-horizon` (or --to latest to skip the backlog); raise max_backlog to "
             "allow longer outages",
         /*backlog=*/true);
  }
}

void SinkRunner::Impl::PollStore() {
  std::lock_guard save(save_mu_);
  auto loaded = store_->Load(spec_.name);
  if (!loaded.ok()) return;
  std::lock_guard lock(mu_);
  AdoptLocked(*loaded);
}

void SinkRunner::Impl::AdoptLocked(const ConsumerState& loaded) {
  if (loaded.request == ControlRequest::kNone) return;
  Request request{loaded.request, loaded.reset_to};
  if (consumed_ && *consumed_ == request) return;  // applied; the next save clears it
  if (inbox_ && *inbox_ == request) return;
  inbox_ = request;
  status_cv_.notify_all();
}

// ---------------------------------------------------------------------------------------------
// Lanes

void SinkRunner::Impl::LaneLoop(size_t index) {
  Lane& lane = lanes_[index];
  std::unique_lock lock(mu_);
  while (true) {
    work_cv_.wait(lock, [&] { return stopping_ || (CanDeliverLocked() && !lane.queue.empty()); });
    if (stopping_) break;
    if (stages_) {
      std::vector<SinkRecord> batch;
      if (!GatherStaged(index, lock, &batch)) continue;
      lock.unlock();
      DeliverBatch(index, std::move(batch));
      lock.lock();
      lane.busy = false;
      status_cv_.notify_all();
      continue;
    }
    auto full = [&] {
      return lane.queue.size() >= settings_.batch_size ||
             lane.queue.bytes() >= settings_.batch_bytes;
    };
    if (settings_.max_batching_window.count() > 0) {
      auto deadline = lane.queue.front_queued_at() + settings_.max_batching_window;
      work_cv_.wait_until(lock, deadline,
                          [&] { return stopping_ || !CanDeliverLocked() || full(); });
    } else {
      // No window: the batch is what is durable now, up to the limits (the control thread
      // may still be dispatching it in chunks).
      work_cv_.wait(lock,
                    [&] { return stopping_ || !CanDeliverLocked() || full() || !more_coming_; });
    }
    if (stopping_) break;
    if (!CanDeliverLocked() || lane.queue.empty()) continue;
    std::vector<SinkRecord> batch;
    lane.queue.Take(settings_.batch_size, settings_.batch_bytes, &batch);
    queued_records_ -= batch.size();
    lane.busy = true;
    lock.unlock();
    status_cv_.notify_all();  // room in the queues
    DeliverBatch(index, std::move(batch));
    lock.lock();
    lane.busy = false;
    status_cv_.notify_all();
  }
}

bool SinkRunner::Impl::GatherStaged(size_t index, std::unique_lock<std::mutex>& lock,
                                    std::vector<SinkRecord>* batch) {
  Lane& lane = lanes_[index];
  lane.busy = true;
  const bool windowed = settings_.max_batching_window.count() > 0;
  const auto deadline = lane.queue.front_queued_at() + settings_.max_batching_window;
  uint64_t batch_bytes = 0;
  std::vector<SinkRecord> slice;
  while (true) {
    // One read's chunk at a time (a chunk is taken whole, no record moved): the slices
    // Destination::Stage gets stay small while a backlog queues up ahead of the lane.
    const size_t most = std::min<size_t>(settings_.batch_size - batch->size(), kReadChunkRecords);
    lane.queue.Take(most, settings_.batch_bytes - batch_bytes, &slice,
                    /*first_within_limit=*/!batch->empty());
    queued_records_ -= slice.size();
    const size_t still_queued = lane.queue.size();
    // Records left queued after a take that got fewer than it could: the byte limit cut it.
    const bool bytes_cut = still_queued > 0 && slice.size() < most;
    if (!slice.empty()) {
      lock.unlock();
      status_cv_.notify_all();  // room in the queues: the control thread reads on meanwhile
      destination_->Stage(index, slice, /*first=*/batch->empty());
      for (const SinkRecord& record : slice) batch_bytes += record.size_bytes;
      if (batch->empty()) {
        *batch = std::move(slice);
      } else {
        // Room for the whole batch as far as its limits let it grow: batch_size records, or
        // batch_bytes at the average record size so far (so the room stays within what the
        // byte limit lets the batch hold). The batch's records are then moved once, not again
        // at each doubling of the vector, and no reallocation touches fresh pages for them.
        const size_t wanted = batch->size() + slice.size();
        if (batch->capacity() < wanted) {
          const uint64_t average = std::max<uint64_t>(1, batch_bytes / wanted);
          const uint64_t by_bytes = settings_.batch_bytes / average + 1;
          batch->reserve(std::min<size_t>(
              std::max<size_t>(settings_.batch_size, wanted),
              std::max<uint64_t>({2 * batch->size(), wanted + still_queued, by_bytes})));
        }
        batch->insert(batch->end(), std::make_move_iterator(slice.begin()),
                      std::make_move_iterator(slice.end()));
      }
      slice = {};
      lock.lock();
    }
    if (bytes_cut || batch->size() >= settings_.batch_size ||
        batch_bytes >= settings_.batch_bytes) {
      return true;
    }
    // The window passed: what was taken so far is the batch.
    if (windowed && SteadyClock::now() >= deadline) return true;
    auto arrived = [&] { return stopping_ || !CanDeliverLocked() || !lane.queue.empty(); };
    if (windowed) {
      work_cv_.wait_until(lock, deadline, arrived);
    } else {
      // No window: the batch is what is durable now, up to the limits.
      work_cv_.wait(lock, [&] { return arrived() || !more_coming_; });
    }
    if (stopping_ || !CanDeliverLocked()) {
      // Not delivered: the records are still outstanding and go first again.
      if (!batch->empty()) {
        queued_records_ += batch->size();
        lane.queue.PushFront(std::move(*batch), SteadyClock::now());
        batch->clear();
      }
      lane.busy = false;
      status_cv_.notify_all();
      return false;
    }
    if (lane.queue.empty()) return true;  // the window passed, or nothing more is durable
  }
}

bool SinkRunner::Impl::WaitInterruptibly(SteadyClock::time_point deadline) {
  std::unique_lock lock(mu_);
  return !work_cv_.wait_until(lock, deadline, [&] { return InterruptedLocked(); });
}

void SinkRunner::Impl::DeliverBatch(size_t lane_index, std::vector<SinkRecord> records) {
  std::deque<Part> parts;
  parts.push_back(Part{std::move(records), 0});
  Backoff backoff(options_.backoff);
  bool failed_before = false;
  while (!parts.empty()) {
    Part& part = parts.front();
    if (settings_.maximum_record_age) {
      int64_t oldest_allowed =
          clock_->NowNanos() -
          std::chrono::duration_cast<std::chrono::nanoseconds>(*settings_.maximum_record_age)
              .count();
      std::vector<SinkRecord> too_old;
      std::vector<SinkRecord> young;
      for (auto& record : part.records) {
        (record.arrival_nanos < oldest_allowed ? too_old : young).push_back(std::move(record));
      }
      part.records = std::move(young);
      if (!too_old.empty()) {
        Status error = InvalidArgument("older than maximum_record_age = " +
                                       DescribeDuration(*settings_.maximum_record_age));
        GiveUpContext context{"MaximumRecordAgeExceeded", part.last_status,
                              static_cast<uint32_t>(part.attempts)};
        if (!GiveUp(lane_index, too_old, error, context)) {
          // Interrupted while on_failure fails: they stay outstanding and go first again (a
          // key's older records precede its younger ones).
          part.records.insert(part.records.begin(), std::make_move_iterator(too_old.begin()),
                              std::make_move_iterator(too_old.end()));
          Requeue(lane_index, parts);
          return;
        }
      }
    }
    if (part.records.empty()) {
      parts.pop_front();
      continue;
    }
    bool interrupted = false;
    {
      std::lock_guard lock(mu_);
      // A batch taken before an interruption (stop, pause, reset, another lane's permanent
      // failure) is delivered once; its retries are not.
      interrupted = InterruptedLocked() && failed_before;
    }
    if (interrupted) {
      Requeue(lane_index, parts);
      ClearLaneImpaired(lane_index);
      return;
    }

    SinkBatch batch;
    batch.sink_name = spec_.name;
    batch.stream_name = spec_.stream;
    // Lent to the batch for the call and taken back after it: copying every record (its data,
    // sequence number, shard ID) per delivery was a large share of a push's CPU.
    batch.records = std::move(part.records);
    for (const auto& record : batch.records) batch.data_bytes += record.size_bytes;
    {
      OutstandingRecords::SortedKeys in_batch;
      OutstandingRecords::KeysOf(batch.records, &in_batch);
      std::lock_guard lock(mu_);
      batch.checkpoint_after = CheckpointLocked(&in_batch);
    }
    auto started = SteadyClock::now();
    DeliveryOutcome outcome = destination_->Deliver(batch);
    probe_.batch_duration.Observe(
        std::chrono::duration<double>(SteadyClock::now() - started).count());
    part.records = std::move(batch.records);
    const size_t batch_size = part.records.size();

    size_t acknowledged = std::min(outcome.acknowledged, part.records.size());
    if (acknowledged == part.records.size()) {
      Acknowledge(part.records, /*given_up=*/false);
      Recycle(std::move(part.records));
      part.records.clear();
    } else if (acknowledged > 0) {
      std::vector<SinkRecord> done(
          std::make_move_iterator(part.records.begin()),
          std::make_move_iterator(part.records.begin() + static_cast<ptrdiff_t>(acknowledged)));
      part.records.erase(part.records.begin(),
                         part.records.begin() + static_cast<ptrdiff_t>(acknowledged));
      Acknowledge(done, /*given_up=*/false);
    }
    if (part.records.empty()) {
      parts.pop_front();
      backoff.Reset();
      ClearLaneImpaired(lane_index);
      continue;
    }

    Status failure =
        outcome.failure.ok()
            ? Internal("the destination acknowledged " + std::to_string(acknowledged) + " of " +
                       std::to_string(batch_size) + " records without saying why")
            : outcome.failure;
    probe_.Failure(ErrorCodeName(failure.code()));
    failed_before = true;
    part.last_status = outcome.protocol_status;
    if (!failure.IsRetriable() && !outcome.item_failure) {
      Fail("delivering to " + shown_url_ + " failed: " + failure.ToString() +
               "; fix the destination or the sink's settings, then `eddy sink resume --name " +
               spec_.name + "` (or restart eddy)",
           /*backlog=*/false);
      Requeue(lane_index, parts);
      return;
    }
    if (settings_.bisect_batch_on_function_error && part.records.size() > 1) {
      // Split the failing part: at the record the destination named, else in halves. The
      // halves are delivered in order, so per-key order holds; a split is not a retry.
      size_t split = outcome.item_failure ? 1 : part.records.size() / 2;
      Part rest;
      rest.last_status = outcome.protocol_status;
      rest.records.assign(
          std::make_move_iterator(part.records.begin() + static_cast<ptrdiff_t>(split)),
          std::make_move_iterator(part.records.end()));
      part.records.resize(split);
      parts.insert(parts.begin() + 1, std::move(rest));
    } else {
      ++part.attempts;
      if (settings_.maximum_retry_attempts >= 0 &&
          part.attempts > settings_.maximum_retry_attempts) {
        std::vector<SinkRecord> given_up = std::move(part.records);
        parts.pop_front();
        GiveUpContext context{"RetryAttemptsExhausted", outcome.protocol_status,
                              static_cast<uint32_t>(part.attempts)};
        if (!GiveUp(lane_index, given_up, failure, context)) {
          // Put them back: they are still outstanding and come first.
          Part back;
          back.records = std::move(given_up);
          parts.push_front(std::move(back));
          Requeue(lane_index, parts);
          return;
        }
        backoff.Reset();
        continue;
      }
      probe_.retries.Increment();
    }
    std::string reason;
    {
      std::lock_guard lock(mu_);
      Lane& lane = lanes_[lane_index];
      int64_t since = lane.impaired_reason.empty() ? clock_->NowNanos() : lane.impaired_since_nanos;
      reason = "delivering to " + shown_url_ + " fails since " + FormatTime(since) + ": " +
               failure.ToString() + " (attempt " + std::to_string(backoff.attempts() + 1) + ")";
    }
    SetLaneImpaired(lane_index, reason);
    WaitInterruptibly(SteadyClock::now() + backoff.NextDelay());
  }
}

bool SinkRunner::Impl::GiveUp(size_t lane_index, const std::vector<SinkRecord>& records,
                              const Status& error, const GiveUpContext& context) {
  const std::string_view condition = context.condition;
  Backoff backoff(options_.backoff);
  while (true) {
    Status written = WriteFailures(records, error, context);
    if (written.ok()) break;
    std::string where = settings_.on_failure.kind == OnFailureKind::kFile
                            ? settings_.on_failure.file_path
                            : RedactUrl(settings_.on_failure.url);
    SetLaneImpaired(lane_index,
                    "writing given-up records to " + where + " fails: " + written.ToString());
    if (!WaitInterruptibly(SteadyClock::now() + backoff.NextDelay())) return false;
  }
  logger_->warn("sink={} gave up records={} condition={} error={} on_failure={}", spec_.name,
                records.size(), condition, error.ToString(),
                settings_.on_failure.kind == OnFailureKind::kFile
                    ? settings_.on_failure.file_path
                    : RedactUrl(settings_.on_failure.url));
  probe_.Failure(condition, static_cast<double>(records.size()));
  Acknowledge(records, /*given_up=*/true);
  return true;
}

Status SinkRunner::Impl::WriteFailures(const std::vector<SinkRecord>& records, const Status& error,
                                       const GiveUpContext& context) {
  const std::string_view condition = context.condition;
  std::lock_guard failure(failure_mu_);
  if (settings_.on_failure.kind == OnFailureKind::kWebhook) {
    SinkBatch batch;
    batch.sink_name = spec_.name;
    batch.stream_name = spec_.stream;
    batch.records = records;
    for (auto& record : batch.records) {
      RenderForFailure(record);
      batch.data_bytes += record.data.size();
    }
    return options_.failure_handler(settings_.on_failure, batch, error, context);
  }
  std::string lines;
  int64_t now = clock_->NowNanos();
  for (const auto& given_up : records) {
    SinkRecord rendered;
    if (given_up.data.empty() && (given_up.event != nullptr || !given_up.stored_event.empty())) {
      rendered = given_up;
      RenderForFailure(rendered);
    }
    const SinkRecord& record = rendered.data.empty() ? given_up : rendered;
    format::JsonWriter writer;
    writer.BeginObject();
    writer.Member("timestamp", FormatTime(now));
    writer.Member("condition", condition);
    writer.Member("error", error.ToString());
    writer.Member("sink", spec_.name);
    writer.Member("stream", spec_.stream);
    writer.Member("shardId", ShardIdText(record));
    writer.Member("sequenceNumber", SequenceNumberText(record));
    writer.Member("partitionKey", record.partition_key);
    writer.Key("approximateArrivalTimestamp");
    writer.Double(static_cast<double>(record.arrival_nanos) / 1e9);
    if (!record.position.empty()) {
      writer.Member("sourcePosition", SourcePositionOf(record).ToString());
    }
    // `data` is the record as rendered in the sink's format: one JSON document (null when
    // the format has none for it).
    writer.Key("data");
    if (record.data.empty()) {
      writer.Null();
    } else {
      writer.RawJson(record.data);
    }
    writer.EndObject();
    lines += writer.Take();
    lines += '\n';
  }
  const std::string& path = settings_.on_failure.file_path;
  std::string directory = io::ParentPath(path);
  EDDY_RETURN_IF_ERROR(file_system_->CreateDirectories(directory));
  EDDY_ASSIGN_OR_RETURN(bool exists, file_system_->Exists(path));
  EDDY_ASSIGN_OR_RETURN(
      std::unique_ptr<io::File> file,
      file_system_->Open(path, exists ? io::OpenMode::kReadWrite : io::OpenMode::kCreateNew));
  EDDY_ASSIGN_OR_RETURN(uint64_t size, file->Size());
  if (Status appended = file->Append(lines); !appended.ok()) {
    // Cut a short write away so the file stays whole lines.
    file->Truncate(size).IgnoreError();
    return appended.WithContext("appending to " + path);
  }
  EDDY_RETURN_IF_ERROR(file->Sync());
  if (!exists) EDDY_RETURN_IF_ERROR(file_system_->SyncDirectory(directory));
  return Status::Ok();
}

void SinkRunner::Impl::RenderForFailure(SinkRecord& record) const {
  if (!record.data.empty() || renderer_ == nullptr) return;
  if (record.event == nullptr && !record.stored_event.empty()) {
    auto event = model::DecodeEvent(record.stored_event);  // checked when it was read
    if (event.ok()) record.event = std::make_shared<const model::ChangeEvent>(std::move(*event));
  }
  if (record.event == nullptr) return;
  format::RecordContext context;
  context.sequence_number = SequenceNumberText(record);
  context.table_schema = record.table_schema.get();
  record.data = renderer_->Render(*record.event, view_, context);
}

void SinkRunner::Impl::Acknowledge(const std::vector<SinkRecord>& records, bool given_up) {
  uint64_t bytes = 0;
  {
    std::lock_guard lock(mu_);
    const SinkRecord* positioned = nullptr;  // the last delivered record with a position
    for (const auto& record : records) {
      outstanding_.Remove(record.shard_index, record.sequence.value());
      if (given_up) continue;
      bytes += record.size_bytes;
      if (record.sequence.value() >= last_delivered_sequence_ ||
          record.arrival_nanos > last_delivered_arrival_nanos_) {
        last_delivered_sequence_ = record.sequence.value();
        last_delivered_arrival_nanos_ = record.arrival_nanos;
        if (!record.position.empty()) positioned = &record;
      }
    }
    if (positioned != nullptr) {
      SourcePosition position = SourcePositionOf(*positioned);
      if (!position.empty()) last_delivered_position_ = std::move(position);
    }
    if (given_up) {
      failed_records_ += records.size();
    } else {
      delivered_records_ += records.size();
      delivered_bytes_ += bytes;
    }
  }
  if (!given_up) {
    probe_.delivered_records.Increment(static_cast<double>(records.size()));
    probe_.delivered_bytes.Increment(static_cast<double>(bytes));
  }
  status_cv_.notify_all();
  const bool committed_with_data =
      commits_checkpoint_ ||
      (commits_checkpoint_from_ > 0 && records.size() >= commits_checkpoint_from_);
  if (committed_with_data && !given_up) {
    // The destination committed the checkpoint with the batch: the file catches up with the
    // next control interval (given-up records are not in the destination's checkpoint yet,
    // so their positions are saved now).
    std::lock_guard lock(mu_);
    hint_dirty_ = true;
    return;
  }
  SaveState().IgnoreError();  // logged; the next save carries the position
}

void SinkRunner::Impl::Requeue(size_t lane_index, std::deque<Part>& parts) {
  {
    std::lock_guard lock(mu_);
    Lane& lane = lanes_[lane_index];
    auto now = SteadyClock::now();
    for (auto part = parts.rbegin(); part != parts.rend(); ++part) {
      queued_records_ += part->records.size();
      lane.queue.PushFront(std::move(part->records), now);
    }
  }
  parts.clear();
  work_cv_.notify_all();
}

void SinkRunner::Impl::SetLaneImpaired(size_t lane_index, const std::string& reason) {
  bool changed = false;
  {
    std::lock_guard lock(mu_);
    Lane& lane = lanes_[lane_index];
    if (lane.impaired_reason.empty()) lane.impaired_since_nanos = clock_->NowNanos();
    lane.impaired_reason = reason;
    SinkState before = state_;
    UpdateStateLocked();
    changed = before != state_;
  }
  if (changed) {
    logger_->warn("sink={} IMPAIRED: {}", spec_.name, reason);
    SaveState().IgnoreError();
  }
}

void SinkRunner::Impl::ClearLaneImpaired(size_t lane_index) {
  bool changed = false;
  {
    std::lock_guard lock(mu_);
    Lane& lane = lanes_[lane_index];
    if (lane.impaired_reason.empty()) return;
    lane.impaired_reason.clear();
    SinkState before = state_;
    UpdateStateLocked();
    changed = before != state_;
  }
  if (changed) {
    logger_->info("sink={} {} again", spec_.name, SinkStateName(SinkState::kActive));
    SaveState().IgnoreError();
  }
}

// ---------------------------------------------------------------------------------------------
// State

void SinkRunner::Impl::Fail(const std::string& reason, bool backlog) {
  {
    std::lock_guard lock(mu_);
    failed_ = true;
    failed_reason_ = reason;
    if (backlog) holds_retention_ = false;
    UpdateStateLocked();
  }
  logger_->error("sink={} FAILED: {}", spec_.name, reason);
  work_cv_.notify_all();
  status_cv_.notify_all();
  SaveState().IgnoreError();
}

void SinkRunner::Impl::UpdateStateLocked() {
  SinkState state = SinkState::kActive;
  std::string reason;
  if (failed_) {
    state = SinkState::kFailed;
    reason = failed_reason_;
  } else if (paused_) {
    state = SinkState::kPaused;
    reason = "paused by the operator (`eddy sink resume --name " + spec_.name + "` resumes it)";
  } else if (!reader_impaired_reason_.empty()) {
    state = SinkState::kImpaired;
    reason = reader_impaired_reason_;
  } else {
    for (const auto& lane : lanes_) {
      if (!lane.impaired_reason.empty()) {
        state = SinkState::kImpaired;
        reason = lane.impaired_reason;
        break;
      }
    }
  }
  if (state != state_) {
    state_since_nanos_ = clock_->NowNanos();
    probe_.State(state);
  }
  state_ = state;
  reason_ = std::move(reason);
  status_cv_.notify_all();
}

Checkpoint SinkRunner::Impl::CheckpointLocked(
    const OutstandingRecords::SortedKeys* excluding) const {
  Checkpoint checkpoint = read_frontier_;
  outstanding_.LowestInto(&checkpoint, excluding);
  checkpoint.generation = generation_;
  return checkpoint;
}

SinkStatus SinkRunner::Impl::StatusLocked() const {
  SinkStatus status;
  status.name = spec_.name;
  status.stream = spec_.stream;
  status.state = state_;
  status.reason = reason_;
  status.state_since_nanos = state_since_nanos_;
  status.delivered_records = delivered_records_;
  status.delivered_bytes = delivered_bytes_;
  status.failed_records = failed_records_;
  status.lag_records = lag_records_;
  status.lag_seconds = lag_seconds_;
  status.last_delivered_position = last_delivered_position_;
  status.last_delivered_arrival_nanos = last_delivered_arrival_nanos_;
  status.checkpoint = CheckpointLocked(nullptr);
  status.request_pending = inbox_.has_value() || applying_;
  return status;
}

ConsumerState SinkRunner::Impl::BuildStateLocked() const {
  ConsumerState state;
  state.name = spec_.name;
  state.stream = spec_.stream;
  state.url = shown_url_;
  state.state = state_;
  state.reason = reason_;
  state.state_since_nanos = state_since_nanos_;
  state.checkpoint = CheckpointLocked(nullptr);
  state.last_delivered_position = last_delivered_position_;
  state.last_delivered_arrival_nanos = last_delivered_arrival_nanos_;
  state.delivered_records = delivered_records_;
  state.delivered_bytes = delivered_bytes_;
  state.failed_records = failed_records_;
  if (inbox_) {
    state.request = inbox_->request;
    state.reset_to = inbox_->reset_to;
  }
  state.holds_retention = holds_retention_;
  return state;
}

Status SinkRunner::Impl::SaveState() {
  if (store_ == nullptr) return Status::Ok();
  std::lock_guard save(save_mu_);
  // An operator's request written since the last save is adopted before it is overwritten.
  auto loaded = store_->Load(spec_.name);
  ConsumerState state;
  std::optional<Request> consumed;
  {
    std::lock_guard lock(mu_);
    if (loaded.ok()) AdoptLocked(*loaded);
    state = BuildStateLocked();
    consumed = consumed_;
  }
  Status saved = store_->Save(state);
  if (!saved.ok()) {
    logger_->error("sink={} saving its checkpoint failed: {}", spec_.name, saved.ToString());
    return saved;
  }
  std::lock_guard lock(mu_);
  if (consumed_ == consumed) consumed_.reset();  // the stored request is gone now
  return saved;
}

// ---------------------------------------------------------------------------------------------
// SinkRunner

SinkRunner::SinkRunner(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SinkRunner::~SinkRunner() { Stop().IgnoreError(); }

Result<std::unique_ptr<SinkRunner>> SinkRunner::Start(SinkSpec spec, SinkSettings settings,
                                                      std::shared_ptr<log::Stream> stream,
                                                      CheckpointStore* store,
                                                      std::unique_ptr<Destination> destination,
                                                      SinkRunnerOptions options) {
  auto impl = std::make_unique<Impl>(std::move(spec), std::move(settings), std::move(stream), store,
                                     std::move(destination), std::move(options));
  EDDY_RETURN_IF_ERROR(impl->Start());
  return std::unique_ptr<SinkRunner>(new SinkRunner(std::move(impl)));
}

Status SinkRunner::Stop() { return impl_->Stop(); }
void SinkRunner::Pause() { impl_->Post(Request{ControlRequest::kPause, {}}); }
void SinkRunner::Resume() { impl_->Post(Request{ControlRequest::kResume, {}}); }
void SinkRunner::Reset(log::StartPosition to) { impl_->Post(Request{ControlRequest::kReset, to}); }
SinkStatus SinkRunner::status() const { return impl_->Status_(); }
const std::string& SinkRunner::name() const { return impl_->name(); }
bool SinkRunner::WaitFor(const std::function<bool(const SinkStatus&)>& predicate,
                         std::chrono::steady_clock::time_point deadline) const {
  return impl_->WaitFor(predicate, deadline);
}

}  // namespace eddy::consume
