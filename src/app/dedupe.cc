#include "app/dedupe.h"

#include <algorithm>

namespace eddy::app {

namespace {

std::vector<const LastWriterWins::Entry*> SortedByOrder(std::vector<const LastWriterWins::Entry*> entries) {
  std::sort(entries.begin(), entries.end(),
            [](const auto* a, const auto* b) { return a->order < b->order; });
  return entries;
}

}  // namespace

LastWriterWins::Outcome LastWriterWins::Put(std::string key, model::ChangeEvent event,
                                            ChangeOrder order, std::string sequence_number,
                                            bool live) {
  auto it = entries_.find(key);
  if (it != entries_.end()) {
    if (it->second.order >= order) return Outcome::kStale;
    if (it->second.live) --live_count_;
  } else {
    it = entries_.emplace(key, Entry{}).first;
    it->second.key = key;
  }
  Entry& entry = it->second;
  entry.event = std::move(event);
  entry.order = order;
  entry.sequence_number = std::move(sequence_number);
  entry.live = live;
  if (live) ++live_count_;
  changed_.insert(std::move(key));
  return Outcome::kApplied;
}

LastWriterWins::Outcome LastWriterWins::Add(model::ChangeEvent event, ChangeOrder order,
                                            std::string sequence_number) {
  if (event.op == model::Operation::kTruncate) {
    auto [it, inserted] = truncated_.emplace(event.table, order);
    if (!inserted) {
      if (it->second >= order) return Outcome::kStale;
      it->second = order;
    }
    for (auto& [key, entry] : entries_) {
      if (entry.live && entry.event.table == event.table && entry.order < order) {
        entry.live = false;
        --live_count_;
      }
    }
    std::string key = "truncate:" + event.PartitionKey();
    return Put(std::move(key), std::move(event), order, std::move(sequence_number), false);
  }
  if (!model::IsRowChange(event.op)) return Outcome::kIgnored;
  if (event.key.empty()) return Outcome::kKeyless;
  if (auto truncate = truncated_.find(event.table);
      truncate != truncated_.end() && order <= truncate->second) {
    return Outcome::kStale;
  }
  std::string key = event.PartitionKey();
  if (event.op == model::Operation::kUpdate && event.before) {
    // A primary key change: the row left its old key.
    model::ChangeEvent removal;
    removal.op = model::Operation::kDelete;
    removal.table = event.table;
    bool complete = true;
    for (const model::Field& field : event.key) {
      const model::Value* old_value = model::FindField(*event.before, field.name);
      if (old_value == nullptr) {
        complete = false;
        break;
      }
      removal.key.push_back(model::Field{field.name, *old_value});
    }
    if (complete) {
      std::string old_key = removal.PartitionKey();
      if (old_key != key) {
        removal.before = event.before;
        removal.position = event.position;
        removal.commit_time_ns = event.commit_time_ns;
        removal.capture_time_ns = event.capture_time_ns;
        removal.transaction_id = event.transaction_id;
        removal.source = event.source;
        Put(std::move(old_key), std::move(removal), order, sequence_number, false);
      }
    }
  }
  bool live = event.op != model::Operation::kDelete;
  return Put(std::move(key), std::move(event), order, std::move(sequence_number), live);
}

std::vector<const LastWriterWins::Entry*> LastWriterWins::Live() const {
  std::vector<const Entry*> live;
  live.reserve(live_count_);
  for (const auto& [key, entry] : entries_) {
    if (entry.live) live.push_back(&entry);
  }
  return SortedByOrder(std::move(live));
}

std::vector<const LastWriterWins::Entry*> LastWriterWins::TakeChanged() {
  std::vector<const Entry*> changed;
  changed.reserve(changed_.size());
  for (const std::string& key : changed_) changed.push_back(&entries_.at(key));
  changed_.clear();
  return SortedByOrder(std::move(changed));
}

}  // namespace eddy::app
