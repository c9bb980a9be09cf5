// SinkRunner: everything consume/sink.h says the runner owns, around one Destination.
//
// Threads
// - The control thread reads the stream (consume::StreamReader::NextViews, used by this
//   thread only: records stay in the log's buffers until they are made into SinkRecords) in
//   chunks of at most 10,000 records, decodes and renders each record (rendering only for
//   destinations that read SinkRecord::data, or for a filter; into the recycled record's
//   buffer), filters it, and hands each lane its records as one chunk; it applies control
//   requests (pause, resume, reset), watches the backlog limit and reports lag. On a machine
//   with more than one core a helper thread makes half of each read of 512 or more records
//   into SinkRecords, while the control thread makes the other half.
// - `parallelization_factor` lane threads. A record goes to lane hash(partition key) % factor,
//   so every record of a key goes through one lane, in read order; a lane delivers one batch
//   at a time and takes the next only when the current one is acknowledged or given up.
//   That is the per-key order guarantee, across retries, bisection and lanes.
//   Without a batching window a batch is what is durable when the lane takes it, up to the
//   limits: while the control thread is still dispatching records its last read left behind
//   (the read was cut by its limits), the lane waits for them. For a destination that
//   StagesRecords, the lane takes its batch from the queue one read's chunk at a time while
//   it waits, hands each chunk to Destination::Stage (so the destination's work overlaps the
//   reading), and delivers the gathered batch as above; a gathering interrupted by stop,
//   pause or reset puts its records back at the front of the queue, undelivered.
//
// Checkpoint: per shard, the lowest sequence number still outstanding in any lane (read but
// neither acknowledged nor given up), or the reader's position when none is. Records the
// filter drops, or the format has no rendering for, are never outstanding, so their positions
// move on. It is saved (CheckpointStore::Save: fsync'd, atomic) after every acknowledged batch
// and on every state change; a batch's SinkBatch::checkpoint_after is the checkpoint once it
// is acknowledged, for destinations that commit it with the data. For a destination whose
// Destination::CommitsCheckpoint is true (or after a batch of at least
// Destination::CommitsCheckpointFromRecords records) the file is a hint: after such batches it is
// saved by the control thread at most once per control_interval (still fsync'd and atomic, and
// at once for records given up to on_failure, on state changes and on stop), so it may lag the
// destination's checkpoint by that interval's batches, and no lane waits for an fsync. On
// start the runner resumes from the later of the store's checkpoint and
// Destination::ReadCheckpoint, per shard: the destination's decides.
//
// Failures (DeliveryOutcome):
// - records[0, acknowledged) are acknowledged; the rest of the batch is retried.
// - a retriable failure (Status::IsRetriable) or an item failure: the sink is IMPAIRED (reason:
//   what fails, since when) and the batch is retried after eddy::Backoff's delay. With
//   bisect_batch_on_function_error the failing part is split first (at the failing record for
//   an item failure, else in halves); splitting does not count as a retry. A part that used up
//   maximum_retry_attempts, or records older than maximum_record_age, are given up: written to
//   on_failure (a JSON line per record, DATA/failures/<sink>.jsonl by default, through
//   io::FileSystem and fsync'd before their positions are checkpointed) and counted.
// - a permanent failure of the whole call (not retriable, not an item failure): FAILED, with
//   the reason; nothing more is delivered until `eddy sink resume` or `reset`, or a restart.
// - the backlog limit: when the oldest undelivered record is older than max_backlog (counted
//   from the later of its arrival and when the operator chose the position: a new sink's
//   start, a reset), FAILED with a reason naming the sink and the fix, and the sink stops
//   holding retention (ConsumerState::holds_retention); only `eddy sink reset` clears that.
//
// Stop drains: no new batch starts, the batches in flight finish (their retries do not), the
// checkpoint is saved, and the destination is closed.
//
// Thread safety: every public method may be called from any thread. Lock order: control_mu_
// (serializes Pause/Resume/Reset/Stop callers) before mu_ (the runner's state) before
// save_mu_ (checkpoint writes) before failure_mu_ (on_failure writes); recycle_mu_ (delivered
// records handed back for reuse) is a leaf. Destination calls are
// made without holding mu_.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "base/backoff.h"
#include "base/clock.h"
#include "base/status.h"
#include "consume/checkpoint_format.h"  // SinkStateName
#include "consume/checkpoint_store.h"
#include "consume/sink.h"
#include "consume/sink_settings.h"
#include "consume/stream_reader.h"
#include "io/file_system.h"
#include "log/log_store.h"
#include "model/schema_registry.h"

namespace eddy::consume {

// Opens the runner's reader; tests substitute their own. The default is StreamReader::Open.
using ReaderOpener = std::function<Result<std::unique_ptr<StreamReader>>(
    std::shared_ptr<log::Stream> stream, StreamReaderOptions options,
    std::optional<Checkpoint> checkpoint)>;

// What the runner knew about the deliveries of records it gave up on.
struct GiveUpContext {
  std::string_view condition;  // "RetryAttemptsExhausted" or "MaximumRecordAgeExceeded"
  int status_code = 0;         // DeliveryOutcome::protocol_status of the last try; 0: none
  uint32_t attempts = 0;       // deliveries tried (Lambda's approximateInvokeCount)
};

// Delivers given-up records to an on_failure URL (the webhook module registers one).
using FailureHandler =
    std::function<Status(const OnFailureTarget& target, const SinkBatch& given_up,
                         const Status& error, const GiveUpContext& context)>;

struct SinkRunnerOptions {
  const Clock* clock = nullptr;           // nullptr: SystemClock (record age, lag, since)
  io::FileSystem* file_system = nullptr;  // nullptr: io::DefaultFileSystem() (on_failure)
  BackoffPolicy backoff;                  // delays between retries
  ReaderOpener open_reader;               // empty: StreamReader::Open
  // Records for which it returns false are skipped; their positions are still checkpointed.
  // Called from the control thread.
  std::function<bool(const SinkRecord&)> filter;
  // Required when settings.on_failure is a URL.
  FailureHandler failure_handler;
  // How often a running sink looks for an operator's ControlRequest in its consumer state.
  std::chrono::milliseconds control_interval{1000};
  // Longest wait for new commits before the control thread looks at its state again.
  std::chrono::milliseconds idle_wait{200};
  // The caller opened the destination already (the engine opens every sink's destination
  // before it starts anything, so an unreachable one starts nothing); Start does not call
  // Open again. Close is still the runner's.
  bool destination_open = false;
  // Back-pressure: the control thread stops reading while this many records are queued in
  // the lanes (at least one batch_size per lane is always allowed).
  size_t max_queued_records = 20'000;
  // The stream's table schemas (schema/schema_history.h): fills SinkRecord::table_schema.
  // Null: every record's table_schema stays null.
  std::shared_ptr<model::SchemaRegistry> schemas;
};

// What `eddy status` and the metrics show about a sink.
struct SinkStatus {
  std::string name;
  std::string stream;
  SinkState state = SinkState::kCreating;
  std::string reason;
  int64_t state_since_nanos = 0;
  uint64_t delivered_records = 0;
  uint64_t delivered_bytes = 0;
  uint64_t failed_records = 0;  // given up by the limits
  uint64_t lag_records = 0;
  double lag_seconds = 0;
  SourcePosition last_delivered_position;
  int64_t last_delivered_arrival_nanos = 0;
  Checkpoint checkpoint;
  // An operator request (Pause, Resume, Reset, or one found in the saved state) is waiting or
  // being applied.
  bool request_pending = false;
};

class SinkRunner {
 public:
  // Opens the destination (CREATING), resumes from the checkpoint (or the starting position
  // of a new sink), applies a ControlRequest recorded while eddy was stopped, and starts the
  // threads (ACTIVE, or PAUSED). An error (the destination's Open, a checkpoint that cannot be
  // read, a reader that cannot open) starts nothing; the message names the sink.
  // `store` must outlive the runner; it may be null (nothing persisted, for tests).
  static Result<std::unique_ptr<SinkRunner>> Start(SinkSpec spec, SinkSettings settings,
                                                   std::shared_ptr<log::Stream> stream,
                                                   CheckpointStore* store,
                                                   std::unique_ptr<Destination> destination,
                                                   SinkRunnerOptions options = {});
  ~SinkRunner();  // Stop()s
  SinkRunner(const SinkRunner&) = delete;
  SinkRunner& operator=(const SinkRunner&) = delete;

  // Drains (see above) and closes the destination; returns the first error of the checkpoint
  // save or Close. Idempotent.
  Status Stop();

  // Operator controls, applied by the control thread within a moment; what `eddy sink
  // pause|resume|reset` records in the consumer state reaches the same paths.
  void Pause();
  void Resume();
  // Drops what is queued, waits for the batches in flight, and continues from `to`
  // (TRIM_HORIZON, LATEST or a sequence number: each shard's first record at or after it).
  void Reset(log::StartPosition to);

  SinkStatus status() const;
  const std::string& name() const;

  // Blocks until `predicate(status())` holds or `deadline`; true when it held. For tests and
  // the supervisor (no polling: woken on every status change).
  bool WaitFor(const std::function<bool(const SinkStatus&)>& predicate,
               std::chrono::steady_clock::time_point deadline) const;

  class Impl;

 private:
  explicit SinkRunner(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace eddy::consume
