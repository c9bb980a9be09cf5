#include "consume/outstanding_records.h"

#include <algorithm>

namespace eddy::consume {

void OutstandingRecords::Add(uint32_t shard, uint64_t sequence, int64_t arrival_nanos) {
  std::deque<Entry>& entries = shards_[shard].entries;
  Entry entry{sequence, arrival_nanos, false};
  if (entries.empty() || entries.back().sequence < sequence) {
    entries.push_back(entry);
  } else {
    // Out of order (not how the reader yields records, but kept correct): insert in place,
    // or revive a removed entry of the same sequence.
    auto at = std::lower_bound(entries.begin(), entries.end(), sequence,
                               [](const Entry& e, uint64_t s) { return e.sequence < s; });
    if (at != entries.end() && at->sequence == sequence) {
      if (!at->removed) return;
      at->removed = false;
      at->arrival_nanos = arrival_nanos;
    } else {
      entries.insert(at, entry);
    }
  }
  ++count_;
}

bool OutstandingRecords::Remove(uint32_t shard, uint64_t sequence) {
  auto found = shards_.find(shard);
  if (found == shards_.end()) return false;
  std::deque<Entry>& entries = found->second.entries;
  if (!entries.empty() && entries.front().sequence == sequence) {
    // The common case: acknowledgements arrive in read order.
    entries.pop_front();
    --count_;
    while (!entries.empty() && entries.front().removed) entries.pop_front();
    if (entries.empty()) shards_.erase(found);
    return true;
  }
  auto at = std::lower_bound(entries.begin(), entries.end(), sequence,
                             [](const Entry& e, uint64_t s) { return e.sequence < s; });
  if (at == entries.end() || at->sequence != sequence || at->removed) return false;
  at->removed = true;
  --count_;
  while (!entries.empty() && entries.front().removed) entries.pop_front();
  if (entries.empty()) shards_.erase(found);
  return true;
}

void OutstandingRecords::Clear() {
  shards_.clear();
  count_ = 0;
}

int64_t OutstandingRecords::OldestArrivalNanos() const {
  int64_t oldest = 0;
  for (const auto& [index, shard] : shards_) {
    // Arrival times follow sequence order closely but not strictly (a chunk group's head):
    // the front is the oldest to within the log's clock steps, which is what lag needs.
    for (const Entry& entry : shard.entries) {
      if (entry.removed) continue;
      if (oldest == 0 || entry.arrival_nanos < oldest) oldest = entry.arrival_nanos;
      break;
    }
  }
  return oldest;
}

void OutstandingRecords::LowestInto(Checkpoint* checkpoint, const SortedKeys* excluding) const {
  for (const auto& [index, shard] : shards_) {
    SortedKeys::const_iterator skip;
    SortedKeys::const_iterator skip_end;
    if (excluding != nullptr) {
      skip = std::lower_bound(excluding->begin(), excluding->end(), std::pair(index, uint64_t{0}));
      skip_end = excluding->end();
    }
    for (const Entry& entry : shard.entries) {
      if (entry.removed) continue;
      if (excluding != nullptr) {
        while (skip != skip_end && skip->first == index && skip->second < entry.sequence) ++skip;
        if (skip != skip_end && skip->first == index && skip->second == entry.sequence) continue;
      }
      checkpoint->shards[index] = ShardCheckpoint{SequenceNumber(entry.sequence), false};
      break;
    }
  }
}

}  // namespace eddy::consume
