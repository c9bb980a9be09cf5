// StreamReader: the one reader of a whole stream of the change log. The API's iterators are
// per shard; everything that follows a stream (`eddy tail`, `eddy demo`, every sink) uses this.
//
// What it does
// - Reads every shard of the stream. Records come out merged by sequence number (one
//   per-stream counter, so this is commit order for what was durable when a Next call began).
// - Lineage: after a reshard, a child shard is read only once its parent(s) were read to their
//   ends, so every key's records come out in order across a split or merge.
// - Chunk groups (log/chunking.h) are reassembled: a record comes out whole, with the head's
//   sequence number. Checkpoint() taken while a group is half read names the group's head, so
//   a reader resumed from it reads the whole group again and never skips the head.
// - Waiting: WaitForCommit blocks on the stream's commit counter (log::Stream::WaitForCommit),
//   not on one shard and not by polling.
//
// Reading in place: NextViews hands out records as views into the segment bytes the log read
// (log::ShardReader::ReadViews), with buffers recycled once no batch holds them; Next gives
// owned copies of the same records.
//
// Thread safety: one thread drives a reader. The stream (and its store) must outlive it.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "base/status.h"
#include "consume/sink.h"
#include "log/log_store.h"

namespace eddy::consume {

// A whole record and where it came from.
struct ReadRecord {
  uint32_t shard_index = 0;
  int64_t shard_creation_nanos = 0;  // for the Kinesis sequence number text
  log::Record record;                // kind kData; chunk groups reassembled
  // The shard position just after this record (after its last fragment for a chunk group):
  // where a consumer that acknowledged it resumes in this shard. Zero in records a
  // StreamReader did not produce; After() then falls back to record.sequence + 1, which also
  // resumes correctly (fragments without their head are skipped), only with a longer read.
  SequenceNumber next_in_shard;
};

// A whole record read in place (StreamReader::NextViews): views into segment bytes that the
// StreamBatch holding it keeps alive.
struct ReadRecordView {
  uint32_t shard_index = 0;
  int64_t shard_creation_nanos = 0;
  log::RecordView record;        // kind kData; chunk groups reassembled
  SequenceNumber next_in_shard;  // as ReadRecord::next_in_shard
  // An owned copy, the source position decoded (kCorruption if its bytes do not decode).
  [[nodiscard]] Result<ReadRecord> ToReadRecord() const;
};

// Records NextViews returned and the buffers their views point into. Meant to be reused: each
// NextViews call clears it first (releasing what it held), so a consumer that keeps one or a
// few batches reads without allocating. A batch may be handed to and released on another
// thread than the reader's (buffers go back to the reader's pool under a lock).
class StreamBatch {
 public:
  std::vector<ReadRecordView> records;
  // Drops the records and releases the buffers.
  void Clear() {
    records.clear();
    holds_.clear();
  }
  // For readers: keeps `buffer` alive as long as the batch holds records (once per buffer;
  // a batch holds a few, one or two per shard).
  void Hold(const std::shared_ptr<const void>& buffer) {
    for (auto it = holds_.rbegin(); it != holds_.rend(); ++it) {
      if (*it == buffer) return;
    }
    holds_.push_back(buffer);
  }

 private:
  std::vector<std::shared_ptr<const void>> holds_;  // the buffers records point into
};

struct StreamReaderOptions {
  // Where to start when no checkpoint is given: TRIM_HORIZON, LATEST, AT_TIMESTAMP, or a
  // sequence number (AT_/AFTER_SEQUENCE_NUMBER apply to every shard: each begins at its first
  // record at or after it).
  log::StartPosition start = log::StartPosition::TrimHorizon();
  // Per Next call: at most this many records / payload bytes (at least one record).
  size_t max_records = 1000;
  size_t max_bytes = 8u << 20;
};

class StreamReader {
 public:
  // Opens at `options.start`, or at `checkpoint` when given (shards it does not name, e.g.
  // created by a later reshard, start at their beginning; finished shards are skipped).
  // kTrimmed when a checkpointed position fell behind the retention horizon.
  static Result<std::unique_ptr<StreamReader>> Open(std::shared_ptr<log::Stream> stream,
                                                    StreamReaderOptions options,
                                                    std::optional<Checkpoint> checkpoint = {});
  virtual ~StreamReader() = default;

  // Appends to `out` the next records durable now, in merged order, up to the limits; none
  // when caught up. Picks up shards created by resharding.
  [[nodiscard]] virtual Status Next(std::vector<ReadRecord>* out) = 0;
  // The same records as Next, in place: `batch` is cleared, then holds the next records as
  // views (nothing copied, source positions left encoded) and keeps their buffers alive until
  // it is cleared, reused or destroyed. Next and NextViews may be mixed on one reader.
  [[nodiscard]] virtual Status NextViews(StreamBatch* batch) = 0;

  // The position after every record Next has returned so far (see the chunk-group rule above).
  virtual Checkpoint checkpoint() const = 0;
  // The position just after `record` in its shard, for consumers that acknowledge records out
  // of the order Next returned them (sink lanes keep their own per-shard positions).
  static ShardCheckpoint After(const ReadRecord& record);

  // Blocks until the stream commits something this reader has not seen, or `deadline`.
  [[nodiscard]] virtual Status WaitForCommit(std::chrono::steady_clock::time_point deadline) = 0;

  // Records committed in the stream after the reader's position, and the arrival time of the
  // oldest one not yet returned (0 when caught up): the lag a sink reports.
  struct Backlog {
    uint64_t records = 0;
    int64_t oldest_arrival_nanos = 0;
  };
  virtual Backlog backlog() = 0;
};

}  // namespace eddy::consume
