// ShapingStream: a log::Stream decorator between a capture and its stream's log that
//   - shapes every change event before it is stored (table and column filters, masks, message
//     key overrides; format/shaping.h), so an excluded or masked value never reaches the disk,
//     any format, or any reader;
//   - with transaction metadata on, frames each source transaction with a BEGIN record before
//     its first change and an END record (event count, per-table counts) after its last, and
//     sets each change's transaction block {total_order, data_collection_order} (Debezium's
//     provide.transaction.metadata);
//   - appends heartbeat records when asked (AppendHeartbeatIfIdle), so an idle stream shows
//     liveness and the capture's durable position.
//
// Transactions: each run of streamed changes (insert, update, delete, truncate) with the same
// transaction_id is one transaction; snapshot reads, messages and schema changes are neither
// framed nor counted, and do not end a run (a transactional message stays inside its
// transaction's BEGIN/END). An AppendTransaction holds whole transactions (BEGIN and END are written in
// the same atomic append). A TransactionAppender (a transaction appended in parts) writes BEGIN
// with the first part that has a change, accumulates the counts across parts, and writes END
// as a last part at Commit; Abort forgets them. Counts are of the records the stream stores
// (after table filters).
//
// An AppendTransaction whose events are all filtered out still goes through with no records
// and the same end position, so the stream's exactly-once position keeps moving. Everything
// else is forwarded unchanged. Payloads that are not change events are refused (kInternal):
// only captures write through this decorator.
//
// Thread safety: as log::Stream; AppendHeartbeatIfIdle may be called from another thread
// than the capture's.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "format/shaping.h"
#include "log/log_store.h"
#include "model/event.h"
#include "model/schema_registry.h"

namespace eddy::engine {

struct ShapingStreamOptions {
  std::optional<format::Shaper> shaper;  // nullopt: events are stored as the capture gave them
  bool transaction_metadata = false;
  // For heartbeats: the connector and server name they carry until the stream has seen an
  // event (after that, those of the last event).
  model::ConnectorKind connector = model::ConnectorKind::kUnknown;
  std::string server_name;
  const Clock* clock = &SystemClock::Instance();  // must outlive the stream
};

class ShapingStream : public log::Stream {
 public:
  // Appends one heartbeat record when nothing was appended for `interval_nanos` (by the
  // options' clock) and no transaction is being appended in parts; returns whether it did.
  // The heartbeat carries the stream's highest durable source position and the clock's time;
  // it is appended without an end position, so it never moves the exactly-once high-water mark.
  virtual Result<bool> AppendHeartbeatIfIdle(int64_t interval_nanos) = 0;
};

std::shared_ptr<ShapingStream> MakeShapingStream(std::shared_ptr<log::Stream> inner,
                                                 ShapingStreamOptions options);

// Calls AppendHeartbeatIfIdle on each stream from one background thread, checking every
// quarter interval (at least every 25 ms, at most every second), until Stop or destruction.
// A failed heartbeat append is logged and retried at the next check.
class Heartbeater {
 public:
  struct Entry {
    std::shared_ptr<ShapingStream> stream;
    int64_t interval_nanos = 0;
  };
  explicit Heartbeater(std::vector<Entry> entries);
  ~Heartbeater();
  Heartbeater(const Heartbeater&) = delete;
  Heartbeater& operator=(const Heartbeater&) = delete;
  void Stop();
  uint64_t heartbeats() const { return heartbeats_.load(); }

 private:
  void Loop();

  std::vector<Entry> entries_;
  std::mutex mutex_;
  std::condition_variable stop_changed_;
  bool stopping_ = false;  // guarded by mutex_
  std::atomic<uint64_t> heartbeats_{0};
  std::thread thread_;
};
// Shaping only (no transaction metadata).
std::shared_ptr<ShapingStream> MakeShapingStream(std::shared_ptr<log::Stream> inner,
                                                 format::Shaper shaper);

// The schema registry a capture writes through when its stream shapes events: each schema is
// shaped as the stream shapes a schema change's (columns the stream hides are not in it)
// before `inner` versions and records it, so a recorded schema has exactly the columns the
// stream's rows have. A table the stream excludes is not recorded (version 0: its events
// never reach the log). Find and Latest are `inner`'s.
std::shared_ptr<model::SchemaRegistry> MakeShapingSchemaRegistry(
    std::shared_ptr<model::SchemaRegistry> inner, format::Shaper shaper);

}  // namespace eddy::engine
