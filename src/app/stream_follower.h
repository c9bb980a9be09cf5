// Follows one stream of the change log and renders its records as JSON lines: what
// `eddy tail` prints and what `eddy demo` shows as changes arrive.
//
// Order: records of each shard in sequence order; across shards, merged by sequence number
// (one per-stream counter), which is commit order for what was durable when each Poll began.
// Shards created by resharding are picked up on the next Poll.
//
// Thread safety: one thread per follower. The stream (and its store) must outlive it.
#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "base/status.h"
#include "format/renderer.h"
#include "log/chunking.h"
#include "log/log_store.h"

namespace eddy::app {

struct FollowerOptions {
  std::string format;     // empty: the stream's eddy:format tag, else native
  std::string view_type;  // empty: the stream's eddy:view_type tag, else NEW_AND_OLD_IMAGES
  log::StartPosition start = log::StartPosition::TrimHorizon();
};

class StreamFollower {
 public:
  // kInvalidArgument for an unknown format or view type.
  static Result<std::unique_ptr<StreamFollower>> Create(std::shared_ptr<log::Stream> stream,
                                                        FollowerOptions options);

  // Calls `emit` with every record durable now and not yet emitted, one rendered JSON line
  // (no newline) each. Stops at the first error.
  Status Poll(const std::function<void(const std::string& line)>& emit);

  // Like Poll, but hands over each whole record (chunks reassembled), unrendered, with its
  // Kinesis sequence number text and shard index. Stops at the first error `each` returns.
  using RecordCallback = std::function<Status(const log::Record& record,
                                              const std::string& sequence, uint32_t shard_index)>;
  Status PollRecords(const RecordCallback& each);

  // True when the stream holds change events (written by a capture); then renderer() and
  // view_type() are the format and view chosen by the options or the stream's tags.
  bool cdc() const { return cdc_; }
  const format::Renderer* renderer() const { return renderer_.get(); }
  format::ViewType view_type() const { return view_; }

  // Waits until an open shard may have new data, or `deadline`.
  void WaitForData(std::chrono::steady_clock::time_point deadline);

 private:
  struct ShardCursor {
    uint32_t shard_index = 0;
    int64_t creation_nanos = 0;
    std::unique_ptr<log::ShardReader> reader;
    log::Reassembler reassembler;
    std::deque<log::Record> buffered;
    bool finished = false;  // closed shard fully read
  };

  StreamFollower() = default;
  Status OpenNewShards();
  Status Refill(ShardCursor& cursor);
  Result<std::string> Render(const log::Record& record, const std::string& sequence,
                             uint32_t shard_index);

  std::shared_ptr<log::Stream> stream_;
  FollowerOptions options_;
  log::StreamInfo info_;
  bool cdc_ = false;
  std::unique_ptr<format::Renderer> renderer_;
  format::ViewType view_ = format::ViewType::kNewAndOldImages;
  bool opened_once_ = false;
  std::map<uint32_t, ShardCursor> cursors_;
};

}  // namespace eddy::app
