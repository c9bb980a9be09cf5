// OutstandingRecords: the records a sink runner has read but that are neither acknowledged nor
// given up yet, per shard, in sequence order. The sink's checkpoint is, per shard, the lowest
// outstanding sequence number (consume/sink_runner.h), and its lag counts from the oldest
// outstanding arrival.
//
// Records are added in increasing sequence order per shard (the order the stream reader
// yields them) and removed in any order (lanes acknowledge independently). Each shard keeps a
// deque of entries; a removal marks its entry and drops the marked prefix, so adding and
// removing cost no allocation per record and the lowest outstanding record is the front.
//
// Thread safety: none; the sink runner guards it with its state mutex.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <utility>
#include <vector>

#include "consume/sink.h"

namespace eddy::consume {

class OutstandingRecords {
 public:
  // (shard, sequence) pairs, sorted ascending: records to treat as no longer outstanding.
  using SortedKeys = std::vector<std::pair<uint32_t, uint64_t>>;

  // The keys of `records`, sorted, into `*keys` (cleared first). Records in read order
  // (ascending per shard, shards interleaved, as a lane's batch is) are placed by shard in one
  // counting pass instead of a comparison sort; any other order is sorted as well.
  static void KeysOf(const std::vector<SinkRecord>& records, SortedKeys* keys);

  void Add(uint32_t shard, uint64_t sequence, int64_t arrival_nanos);
  // False when (shard, sequence) is not outstanding (never added, or removed already).
  bool Remove(uint32_t shard, uint64_t sequence);
  void Clear();

  size_t size() const { return count_; }
  // The earliest arrival among outstanding records; 0 when there are none.
  int64_t OldestArrivalNanos() const;
  // Sets checkpoint->shards[shard] to the lowest outstanding sequence of every shard that has
  // one, skipping the records in `excluding` (may be null). Shards with none are left as they
  // are.
  void LowestInto(Checkpoint* checkpoint, const SortedKeys* excluding) const;

 private:
  struct Entry {
    uint64_t sequence;
    int64_t arrival_nanos;
    bool removed;
  };
  struct Shard {
    std::deque<Entry> entries;  // ascending by sequence; front is never removed
  };
  std::map<uint32_t, Shard> shards_;
  size_t count_ = 0;
};

}  // namespace eddy::consume
