// One GetRecords read of a shard, shared by the Kinesis and DynamoDB Streams services: reads a
// batch and, when a chunked payload (log/chunking.h) is cut by the batch end, reads on until it
// is whole, so the reply holds whole records only.
//
// Thread safety: a call uses its reader alone (a ShardReader is used by one thread).
#pragma once

#include <chrono>
#include <cstddef>
#include <vector>

#include "base/status.h"
#include "log/log_store.h"

namespace eddy::api {

struct ShardReadOptions {
  log::ReadLimits limits;  // of each batch read
  // Reading on to complete a chunked payload stops once this many payload + partition key
  // bytes have been read (the group is then left for the next call, which starts at its head).
  size_t max_bytes_read_on = SIZE_MAX;
  // When above zero and the first batch is empty on an open shard: wait up to this long for a
  // commit, then read once more (a tailing consumer sees a record without its idle-poll delay).
  std::chrono::milliseconds wait_when_empty{0};
};

struct ShardRead {
  std::vector<log::Record> records;  // whole records, in order
  // The last batch read, its records moved out: next_sequence, end_of_shard, child_indexes,
  // millis_behind_latest.
  log::ReadBatch last_batch;
  size_t bytes = 0;  // payload + partition key bytes read
  // Where the next call starts: after the last batch, or at the head of a chunked payload
  // that did not complete within the caps.
  SequenceNumber resume;
  bool group_pending = false;  // a chunked payload was read in part (it is read again next call)

  // The shard is closed and read to its end: no next iterator, the children come next.
  bool read_to_end() const { return last_batch.end_of_shard && !group_pending; }
};

// Reads from `reader` (at most 64 batches). Errors: the reader's, and kCorruption from the
// reassembly (log::Reassembler).
[[nodiscard]] Result<ShardRead> ReadWholeRecords(log::ShardReader& reader,
                                                 const ShardReadOptions& options);

}  // namespace eddy::api
