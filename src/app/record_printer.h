// Renders a stream's records as the JSON lines `eddy tail` and `eddy demo` print, from the
// records a consume::StreamReader returns.
//
// A CDC stream's records are change events rendered with format::MakeRenderer in the format
// and view type chosen by the options or the stream's tags (log/stream_tags.h); a plain
// Kinesis stream's records print as {SequenceNumber, ShardId, PartitionKey, Data (base64),
// ApproximateArrivalTimestamp (ms)}.
//
// Thread safety: immutable after Create; AppendLine may be called from any thread.
#pragma once

#include <memory>
#include <string>

#include "base/status.h"
#include "consume/stream_reader.h"
#include "format/renderer.h"
#include "log/log_store.h"

namespace eddy::app {

struct RecordPrinterOptions {
  std::string format;     // empty: the stream's eddy:format tag, else native
  std::string view_type;  // empty: the stream's eddy:view_type tag, else NEW_AND_OLD_IMAGES
};

class RecordPrinter {
 public:
  // kInvalidArgument for an unknown format or view type.
  static Result<RecordPrinter> Create(const log::StreamInfo& info,
                                      const RecordPrinterOptions& options);

  // True when the stream holds change events (written by a capture); then renderer() and
  // view_type() are the format and view chosen.
  bool cdc() const { return renderer_ != nullptr; }
  const format::Renderer* renderer() const { return renderer_.get(); }
  format::ViewType view_type() const { return view_; }

  // Appends the record's line and a newline to `out`; nothing when the format has no record
  // for the event (dynamodb and a truncate). kCorruption naming the record when a CDC
  // record's payload does not decode.
  [[nodiscard]] Status AppendLine(const consume::ReadRecord& read, std::string* out) const;
  // The same from a record read in place (consume::StreamReader::NextViews).
  [[nodiscard]] Status AppendLine(const consume::ReadRecordView& read, std::string* out) const;

 private:
  RecordPrinter() = default;
  Status Append(uint32_t shard_index, int64_t shard_creation_nanos, SequenceNumber sequence,
                std::string_view partition_key, std::string_view payload, int64_t arrival_nanos,
                std::string* out) const;
  std::shared_ptr<const format::Renderer> renderer_;  // null on a plain Kinesis stream
  format::ViewType view_ = format::ViewType::kNewAndOldImages;
  bool native_ = false;  // the native format: its fast path applies
};

}  // namespace eddy::app
