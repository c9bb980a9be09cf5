// A record in eddy's change log, as readers see it and as appenders supply it.
//
// Payloads are opaque bytes (the log does not know the event model). The on-disk framing is
// in log/segment_format.h and docs/formats/log-segment.md.
//
// Thread safety: values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/position.h"
#include "base/status.h"
#include "log/kinesis.h"

namespace eddy::log {

// Serialized in segment files; values never change.
enum class RecordKind : uint8_t {
  kData = 0,         // a whole payload
  kChunkedHead = 1,  // first record of a payload larger than the stream's max record size;
                     // its payload is a chunk header (log/chunking.h) followed by the
                     // first piece; `fragment` records follow in the same shard
  kFragment = 2,     // a continuation piece of the preceding chunked head
};

struct Record {
  SequenceNumber sequence;
  int64_t arrival_nanos = 0;  // when the log accepted it (ApproximateArrivalTimestamp)
  RecordKind kind = RecordKind::kData;
  std::string partition_key;
  std::string payload;
  SourcePosition position;  // of the change; empty for plain Kinesis PutRecord appends
};

// A record read in place (ShardReader::ReadViews): views into the bytes of the read batch that
// returned it, valid while that batch is neither cleared nor read into again. The source
// position stays encoded (its bytes as segment frames hold them, base/position.h) until a
// caller asks for it: readers that only render the payload never build it.
struct RecordView {
  SequenceNumber sequence;
  int64_t arrival_nanos = 0;
  RecordKind kind = RecordKind::kData;
  std::string_view partition_key;
  std::string_view position;  // SourcePosition::EncodeTo's bytes; checked when the frame was read
  std::string_view payload;

  Result<SourcePosition> DecodePosition() const;
  // An owned copy (position decoded).
  Result<Record> ToRecord() const;
};

// What an appender supplies for one record.
struct AppendRecord {
  std::string partition_key;  // 1..256 bytes for Kinesis clients; any non-empty for CDC
  std::string payload;
  // Overrides MD5(partition_key) for shard selection (Kinesis ExplicitHashKey). A producer may
  // also set it to HashKey::FromPartitionKey(partition_key), the same routing, to hash on its
  // own thread instead of the log's append path.
  std::optional<HashKey> explicit_hash_key;
  SourcePosition position;
};

// Where an appended record went. Returned only once it is durable.
struct AppendedRecord {
  uint32_t shard_index = 0;
  SequenceNumber sequence;  // of the record (the chunked head for split payloads)
};

}  // namespace eddy::log
