#include "consume/outstanding_records.h"

#include <algorithm>

namespace eddy::consume {

void OutstandingRecords::KeysOf(const std::vector<SinkRecord>& records, SortedKeys* keys) {
  keys->clear();
  if (records.empty()) return;
  uint32_t max_shard = 0;
  for (const SinkRecord& record : records) max_shard = std::max(max_shard, record.shard_index);
  // One bucket per shard index up to the highest in the batch (a stream's shard indexes are
  // dense); beyond this many, a comparison sort.
  constexpr uint32_t kMaxBuckets = 1u << 16;
  if (max_shard >= kMaxBuckets) {
    keys->reserve(records.size());
    for (const SinkRecord& record : records) {
      keys->emplace_back(record.shard_index, record.sequence.value());
    }
    std::sort(keys->begin(), keys->end());
    return;
  }
  std::vector<size_t> next(static_cast<size_t>(max_shard) + 2, 0);
  for (const SinkRecord& record : records) ++next[record.shard_index + 1];
  for (size_t i = 1; i < next.size(); ++i) next[i] += next[i - 1];
  keys->resize(records.size());
  for (const SinkRecord& record : records) {
    (*keys)[next[record.shard_index]++] = {record.shard_index, record.sequence.value()};
  }
  // Ascending per shard already in read order; a batch in another order is sorted.
  if (!std::is_sorted(keys->begin(), keys->end())) std::sort(keys->begin(), keys->end());
}

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
