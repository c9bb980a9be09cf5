// The sink contract: what a destination implements, and what the sink runner (consume/)
// does around it for every destination alike.
//
// A sink is a supervised consumer of one stream of the change log, named uniquely in the data
// directory, with its own durable checkpoint. The runner (consume/sink_runner.h) owns
// everything destinations share:
//   - reading the stream from the checkpoint (consume::StreamReader: every shard, parents
//     before children, chunks reassembled), rendering each record in the sink's `format`;
//   - the `filter`, batching by records, bytes and time (`batch_size`, `batch_bytes`,
//     `max_batching_window`), `parallelization_factor` lanes per shard that keep per-key order;
//   - retries with the one Backoff (base/backoff.h) while the sink is IMPAIRED, the limits
//     `maximum_retry_attempts` and `maximum_record_age`, `bisect_batch_on_function_error`, and
//     `on_failure` for what the limits give up on;
//   - the checkpoint, written only after the destination acknowledged (CheckpointStore);
//   - states, metrics (delivered records and bytes, failures by reason, retries, batch
//     latency, lag, state), pause/resume/reset, and draining on stop.
// A destination adds only its protocol: how one batch reaches it and what it answered.
//
// Per-key order: a record of a partition key is never handed to Deliver before every earlier
// record of that key was acknowledged (or given up on by the configured limits), across
// retries, lanes and restarts. Records of one Deliver call are in sequence order per key.
//
// Threads: Open/Close are called from the runner's control thread. Deliver may be called
// concurrently from several lane threads, each call with records of disjoint keys; a
// destination that cannot deliver concurrently serializes internally.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/position.h"
#include "base/status.h"
#include "model/event.h"
#include "model/schema.h"

namespace eddy::consume {

// Lifecycle states, named as Aurora DSQL names a CDC stream's. Persisted by name in the
// checkpoint file (docs/formats/consumer-checkpoint.md); values never change.
enum class SinkState : uint8_t {
  kCreating = 0,  // opening the destination, resolving the starting position
  kActive = 1,    // delivering
  kImpaired = 2,  // the destination fails retriably; retrying with backoff (reason + since)
  kPaused = 3,    // stopped by the operator (`eddy sink pause`); the checkpoint holds
  kFailed = 4,    // a permanent error or the backlog limit; needs the operator (reason: the fix)
  kDeleting = 5,  // being removed
};

// One whole record (chunk groups reassembled) as a destination receives it.
struct SinkRecord {
  uint32_t shard_index = 0;
  // "shardId-000000000003"; empty, like sequence_number, for a destination that does not read
  // it (Destination::ReadsRecordIdText false): ShardIdText(record) gives it either way.
  std::string shard_id;
  SequenceNumber sequence;  // the log's sequence number (the chunk head's for a group)
  // Its Kinesis text form, as the API returns it. Empty for a destination that does not read
  // it (Destination::ReadsRecordIdText false) on records the runner did not render:
  // SequenceNumberText(record) gives the text either way.
  std::string sequence_number;
  int64_t shard_creation_nanos = 0;  // of the record's shard (part of the text form)
  std::string partition_key;
  int64_t arrival_nanos = 0;  // when the log accepted it (ApproximateArrivalTimestamp)
  // The change's position in the source as stored (SourcePosition::EncodeTo's bytes, checked
  // when the log read them); empty when it has none (plain appends, snapshot rows).
  // SourcePositionOf(record) decodes it: only the runner does, for the last record of a batch.
  std::string position;
  // The record rendered in the sink's `format` (what GetRecords returns as Data). Records
  // whose format has no rendering (a truncate in `dynamodb`) are never handed over.
  std::string data;
  // The decoded change event on a CDC stream (for destinations that lay out rows themselves:
  // tables, documents, Kafka keys); null on a plain Kinesis stream.
  // Null when the destination TakesStoredEvents: `stored_event` holds the event instead.
  std::shared_ptr<const model::ChangeEvent> event;
  // The event as the log stores it (model/event_codec.h; DecodeEventView reads it in place;
  // for a destination that TakesStoredEvents, only its header was read by the runner):
  // every record for a destination that TakesStoredEvents(), row changes (op c, u, d, r) for
  // one that RendersEncodedRowChanges(); the runner then leaves `event` (and for the latter
  // `data`) empty and builds no ChangeEvent. Empty otherwise. The record's own copy: valid as
  // long as the record.
  std::string stored_event;
  // The source catalog's schema of the event's table at event->schema_version; null for
  // plain streams and events without a table (heartbeats, transaction markers).
  std::shared_ptr<const model::TableSchema> table_schema;
  // What the record counts for in batch_bytes (and a batch window's byte limit) and in the
  // delivered-bytes metric: data.size() when the runner rendered it, else the size of the
  // stored event (see Destination::UsesRenderedData). Set by the runner.
  uint64_t size_bytes = 0;
};

// The Kinesis text form of `record`'s sequence number: record.sequence_number, or when that is
// empty (see there) the text formatted from the record's sequence, shard and shard creation
// time. For paths that need it for a few records (error messages, on_failure records).
std::string SequenceNumberText(const SinkRecord& record);
// record.shard_id, or when that is empty (see there) the ID formatted from its shard index.
std::string ShardIdText(const SinkRecord& record);
// record.position decoded; an empty position when it has none (or, which the log's checks
// rule out, its bytes do not decode).
SourcePosition SourcePositionOf(const SinkRecord& record);

// Where a consumer stands in one shard: the next record to deliver has sequence >= `next`.
// `finished` once a closed shard was read to its end (its children are then read).
struct ShardCheckpoint {
  SequenceNumber next;
  bool finished = false;
  friend bool operator==(const ShardCheckpoint&, const ShardCheckpoint&) = default;
};

// A consumer's durable position in its stream, per shard. Encoded as text for destinations
// that keep it with the data (EncodeCheckpoint / DecodeCheckpoint in consume/checkpoint.h).
struct Checkpoint {
  std::map<uint32_t, ShardCheckpoint> shards;
  // Incremented by each reset of the sink (`eddy sink reset`). A checkpoint of a later
  // generation supersedes one of an earlier generation whatever their positions, so a reset
  // backwards is not undone by a destination that still holds the pre-reset checkpoint with
  // its data; within one generation the later position of each shard wins.
  uint64_t generation = 0;
  friend bool operator==(const Checkpoint&, const Checkpoint&) = default;
};

struct SinkBatch {
  std::string sink_name;
  std::string stream_name;
  std::vector<SinkRecord> records;
  uint64_t data_bytes = 0;  // sum of records[i].size_bytes
  // The sink's checkpoint once this batch (and every batch before it) is acknowledged: a
  // destination that can commit it with the data (a Kafka transaction, an Iceberg snapshot
  // summary, a row in the target database) does so, and ReadCheckpoint returns it.
  Checkpoint checkpoint_after;
};

// A destination's answer to one batch.
struct DeliveryOutcome {
  // records[0, acknowledged) are acknowledged; == records.size() is full success.
  size_t acknowledged = 0;
  // Set when acknowledged < records.size(): why the rest failed. IsRetriable() decides whether
  // the runner retries (IMPAIRED) or applies the limits / goes FAILED.
  Status failure;
  // The destination says records[acknowledged] itself is bad (a Lambda batchItemFailures
  // reply, a per-item 400 from a bulk API), as opposed to the whole call failing: bisection
  // and on_failure then single it out.
  bool item_failure = false;
  // The destination protocol's status of the last call (an HTTP status), 0 when it gave none
  // (no reply: timeout, reset). The on-failure record's responseContext.statusCode.
  int protocol_status = 0;
};

// Batching a destination imposes instead of the runner's batch_size, batch_bytes and
// max_batching_window: destinations whose unit of delivery is large and time-bounded (an
// object per flush, Firehose's buffer_size_mb and buffer_interval) need limits beyond the
// runner's Lambda ranges. A batch is still cut at whichever limit comes first.
struct BatchingOverride {
  uint32_t batch_size = 0;              // records, >= 1
  uint64_t batch_bytes = 0;             // sum of rendered record sizes, >= 1
  std::chrono::milliseconds window{0};  // 0: deliver as soon as records are there
};

// The destination side of a sink: the only part a sink module writes.
class Destination {
 public:
  virtual ~Destination() = default;
  // The batching this destination needs, applied by the engine over the runner's settings
  // before the runner starts; nullopt (the default) keeps the runner's. Called once, before
  // Open, from the starting thread.
  virtual std::optional<BatchingOverride> Batching() const { return std::nullopt; }
  // Whether Deliver reads SinkRecord::data. A destination that lays out rows itself from
  // `event` and `table_schema` (Parquet files, Iceberg tables, replica tables) returns false,
  // and the runner does not render records for it: `data` stays empty (unless the sink has a
  // `filter`, which matches the rendered record), and records the limits give up on are
  // rendered for on_failure only then. Called once, before Open, from the starting thread.
  virtual bool UsesRenderedData() const { return true; }
  // With UsesRenderedData() false: whether Deliver reads the event in its stored encoding
  // (SinkRecord::stored_event) instead of a decoded SinkRecord::event. The runner then reads
  // only each record's header (model::ReadStoredEventHeader) to look up its table_schema
  // (records of another table or schema version than the record before it, and records that
  // are not row changes, it decodes whole), and the destination decodes rows straight into
  // its own layout (Parquet columns) without a ChangeEvent per record held for a whole batch.
  // The destination's decoding is then the check of the rest: stored bytes that do not decode
  // must fail Deliver with a non-retriable error naming the record (and how to skip it: `eddy
  // sink reset --to` the next sequence number), which makes the sink FAILED with nothing
  // after the record delivered, as the runner's own check would. Ignored when the runner renders
  // records (a `filter`): `event` is then set as usual. Called once, before Open, from the starting
  // thread.
  virtual bool TakesStoredEvents() const { return false; }
  // Whether Deliver renders row changes from SinkRecord::stored_event (the Kafka sink, which
  // writes Debezium's records and keys straight from the stored bytes). The runner then hands
  // row changes over undecoded and unrendered, with `table_schema` set, when the sink's view
  // type is NEW_AND_OLD_IMAGES (the images as stored); other records (and every record of a
  // sink with a `filter`, which matches rendered records) come as before. The runner reads
  // only a row change's header (model::ReadStoredEventHeader), so the destination decodes the
  // rest (whole, where its own encoded path declines a change) and so checks it: as with
  // TakesStoredEvents, stored bytes that do not decode fail Deliver with a non-retriable
  // Corruption naming the record and how to skip it.
  // Records the limits give up on are decoded and rendered for on_failure. Called once,
  // before Open, from the starting thread.
  virtual bool RendersEncodedRowChanges() const { return false; }
  // Whether Deliver reads the record's identity as Kinesis texts, SinkRecord::shard_id and
  // sequence_number, on every record (Lambda events, a record's identity in a retried
  // request). A destination that only needs them for the odd record (an error message, an
  // error output) returns false and calls ShardIdText and SequenceNumberText there: the runner
  // then leaves shard_id empty and formats sequence_number only for the records it renders (a
  // renderer may print it), which spares a large batch two allocations and a 192-bit decimal
  // per record. Called once, before Open, from the starting thread.
  virtual bool ReadsRecordIdText() const { return true; }
  // Streaming hand-off, for destinations that lay out a large batch themselves (an object's
  // Parquet file): whether the runner hands them each batch's records while it is still
  // gathering the batch (Stage below), so that the destination's work overlaps the runner's
  // reading instead of starting when the whole batch is read. Called once, before Open, from
  // the starting thread.
  virtual bool StagesRecords() const { return false; }
  // With StagesRecords(): the next records of the batch lane `lane` is gathering, in the order
  // Deliver will receive them, in slices of at most one read of the runner (10,000 records).
  // `first`: the first slice of a new batch; anything staged on that lane before is abandoned.
  // The runner's promise: the next Deliver on that lane, unless a `first` slice comes before
  // it, receives a batch whose records are exactly the records staged since the last `first`
  // slice, in that order (equal records: the SinkRecord objects themselves may have moved, so
  // a destination keeps no pointer into a slice after the call). A gathering the runner
  // abandons (stop, pause, reset) is not delivered; its records are gathered again later, from
  // a `first` slice. The destination's part: staging makes nothing visible and nothing durable
  // (the checkpoint advances only when Deliver acknowledges, as without staging), and Deliver
  // gives the same result with or without it: a retried batch, a bisected part, or any batch
  // that does not match what was staged (the destination checks, e.g. the count and the first
  // and last records' shard and sequence) is delivered from its records alone, and the staged
  // state is dropped. Called from the lane's thread, never concurrently with that lane's
  // Deliver; an error found while staging is reported by the Deliver that follows.
  virtual void Stage(size_t lane, const std::vector<SinkRecord>& records, bool first) {
    (void)lane;
    (void)records;
    (void)first;
  }
  // Connects and checks the destination (endpoint reachable, credentials, topic/bucket/table
  // exists). Called before the first batch; an error stops `eddy run` from starting, with the
  // message naming the setting and the fix.
  [[nodiscard]] virtual Status Open() = 0;
  // Delivers one batch (see the thread rules above). Must not return before the destination
  // acknowledged what it reports as acknowledged.
  virtual DeliveryOutcome Deliver(const SinkBatch& batch) = 0;
  // The checkpoint stored in the destination, for destinations that commit it with the data;
  // nullopt when the destination keeps none (the runner's checkpoint file then decides).
  [[nodiscard]] virtual Result<std::optional<Checkpoint>> ReadCheckpoint() {
    return std::optional<Checkpoint>();
  }
  // True when every acknowledged batch's checkpoint_after is committed with its data and
  // ReadCheckpoint returns it after any crash (a Kafka transaction, a replica transaction, an
  // Iceberg snapshot summary). The runner then does not write its checkpoint file after every
  // batch: the file becomes a hint that may lag the destination by up to a control interval
  // (sink_runner.h), and on start the destination's checkpoint decides. Called once, after
  // Open and before ReadCheckpoint, from the starting thread.
  virtual bool CommitsCheckpoint() const { return false; }
  // With CommitsCheckpoint() false: batches of at least this many acknowledged records are
  // treated as CommitsCheckpoint() says (their checkpoint is committed with their data; the
  // file is a hint saved with the next control interval), smaller ones are saved after each
  // batch as before. For a destination that commits every batch's checkpoint but whose small
  // batches the per-batch save paces (Kafka: back-to-back tiny transactions took the CPU the
  // capture needed), while a backlog's large batches need no pacing. 0 (the default): none.
  // Called once, after Open and before ReadCheckpoint, from the starting thread.
  virtual size_t CommitsCheckpointFromRecords() const { return 0; }
  // Flushes and releases connections; no Deliver follows.
  [[nodiscard]] virtual Status Close() = 0;
};

// A sink as configured: `[[sink]]` in TOML or `eddy run --sink URL`. Settings are the URL's
// query parameters (URL-decoded) and the TOML table's keys, by the same names.
struct SinkSpec {
  std::string name;    // unique in the data directory; 1-128 of [A-Za-z0-9_.-]
  std::string stream;  // the stream it reads
  std::string url;     // scheme selects the destination (webhook+http://, kafka://, ...)
  std::map<std::string, std::string> settings;
  std::string data_dir;  // for destinations that keep files (on_failure, file://)
};

// Builds a destination from a spec. It parses and validates the settings it owns (those the
// runner does not: consume/sink_settings.h lists the runner's) and rejects unknown ones with
// an error naming the key; it does no I/O (Open does).
using DestinationFactory =
    std::function<Result<std::unique_ptr<Destination>>(const SinkSpec& spec)>;

}  // namespace eddy::consume
