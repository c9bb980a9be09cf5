// Last-writer-wins deduplication of change events by primary key: the state `eddy tail
// --dedupe` prints, and the reference for the consumer recipe in docs/formats/consumers.md.
//
// A consumer of an at-least-once pipeline can see a change twice (a retried append, a replay
// from an earlier sequence number) and, across shards, out of commit order. Keeping per key
// the change with the greatest (commit ts_ns, log sequence number) and ignoring anything not
// greater makes the result the same whatever the duplicates and the arrival order:
//
//   - key: ChangeEvent::PartitionKey() (table + primary key values; the stream's key override
//     when one is configured);
//   - insert, update, snapshot read: the key's image becomes the change's `after`;
//   - delete: the key is removed (a tombstone remembers its order, so an older insert
//     arriving later does not bring the row back);
//   - an update that changes the primary key (PostgreSQL sends the old key in `before`) also
//     removes the old key;
//   - truncate: removes every key of the table whose change is older than the truncate, and
//     later-arriving older changes of that table are ignored;
//   - changes of tables without a key (empty `key`) cannot be deduplicated and are counted as
//     keyless; schema changes, messages, transaction BEGIN/END and heartbeats are ignored.
//
// Memory: one entry per key seen (live or deleted), holding its latest event.
// Thread safety: none (one thread).
#pragma once

#include <compare>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "model/event.h"

namespace eddy::app {

// Last-writer-wins order: commit time, then the log's sequence number (one counter per stream,
// so it orders records across shards; ties in commit time are broken by log order).
struct ChangeOrder {
  int64_t commit_time_ns = 0;
  uint64_t sequence = 0;
  auto operator<=>(const ChangeOrder&) const = default;
};

class LastWriterWins {
 public:
  struct Entry {
    std::string key;         // ChangeEvent::PartitionKey()
    model::ChangeEvent event;  // the winning change (a delete or truncate when not live)
    ChangeOrder order;
    std::string sequence_number;  // the record's sequence number as printed
    bool live = false;
  };
  enum class Outcome {
    kApplied,  // the change is the newest for its key
    kStale,    // an equal or newer change of the key (or a newer truncate) is known
    kKeyless,  // a row change of a table without a key
    kIgnored,  // not a row change or truncate
  };

  Outcome Add(model::ChangeEvent event, ChangeOrder order, std::string sequence_number);

  // The latest image of every live key, ordered by ChangeOrder.
  std::vector<const Entry*> Live() const;
  // Every key (and truncated table) whose state changed since the last call, live or not,
  // ordered by ChangeOrder; forgets them.
  std::vector<const Entry*> TakeChanged();

  size_t live_count() const { return live_count_; }

 private:
  Outcome Put(std::string key, model::ChangeEvent event, ChangeOrder order,
              std::string sequence_number, bool live);

  std::unordered_map<std::string, Entry> entries_;  // live keys and tombstones
  std::map<model::TableId, ChangeOrder> truncated_;  // newest truncate per table
  std::set<std::string> changed_;
  size_t live_count_ = 0;
};

}  // namespace eddy::app
