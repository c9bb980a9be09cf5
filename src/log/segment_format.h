// Segment and segment-index files (docs/formats/log-segment.md).
//
// A segment file holds records of one shard in sequence order:
//
//   +--------------------------------------------------+
//   | "EDDYSEG1" (8) | u32 version = 1 | u32 shard index |   header, 16 bytes
//   +--------------------------------------------------+
//   | frame | frame | ...                               |
//
//   frame:  u32 masked CRC-32C of [length .. end of body]
//           u32 length of body
//           body:  u64 sequence number
//                  i64 arrival time, ns since epoch
//                  u8  kind (RecordKind: 0 data, 1 chunked head, 2 fragment)
//                  varint partition key length, partition key bytes
//                  source position (docs/formats/source-position.md)
//                  varint payload length, payload bytes
// Integers little-endian. The file is named by the lowest sequence number it may contain
// (20 decimal digits + ".seg"); a shard's segments are ordered by name.
//
// The index file "<same name>.idx" of a sealed segment:
//   "EDDYIDX1" (8) | u32 version = 1 |
//   u64 first sequence | u64 last sequence | u64 record count |
//   i64 min arrival | i64 max arrival | u64 segment bytes | u32 entry count |
//   entries: (u64 sequence, u64 file offset, i64 arrival) * entry count |
//   u32 masked CRC-32C of everything before it
// An index is a cache: when missing or invalid it is rebuilt by scanning the segment.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "log/record.h"

namespace eddy::log {

inline constexpr char kSegmentMagic[8] = {'E', 'D', 'D', 'Y', 'S', 'E', 'G', '1'};
inline constexpr uint32_t kSegmentVersion = 1;
inline constexpr size_t kSegmentHeaderBytes = 16;
inline constexpr size_t kFrameHeaderBytes = 8;
// Larger bodies are taken as a corrupt length (10 MiB payload + key + position + slack).
inline constexpr uint32_t kMaxFrameBodyBytes = (10u << 20) + (64u << 10);
inline constexpr char kIndexMagic[8] = {'E', 'D', 'D', 'Y', 'I', 'D', 'X', '1'};

std::string EncodeSegmentHeader(uint32_t shard_index);
// Checks magic and version; returns the shard index.
Result<uint32_t> DecodeSegmentHeader(std::string_view bytes);

// One frame's fields, borrowed: what the append paths encode straight from the records they
// were given, without first copying key, position and payload into a Record.
struct FrameFields {
  SequenceNumber sequence;
  int64_t arrival_nanos = 0;
  RecordKind kind = RecordKind::kData;
  std::string_view partition_key;
  const SourcePosition* position = nullptr;  // null: no position (encoded as empty)
  std::string_view payload;
};

// Appends one frame to `out`.
void EncodeFrame(const FrameFields& frame, std::string& out);
void EncodeFrame(const Record& record, std::string& out);
// Bytes the frame of `record` takes.
size_t FrameSize(const Record& record);

enum class FrameStatus : uint8_t { kOk, kIncomplete, kCorrupt };
struct FrameDecode {
  FrameStatus status = FrameStatus::kOk;
  size_t size = 0;    // bytes of the frame when kOk; bytes needed when kIncomplete (if known)
  std::string error;  // when kCorrupt
};
// Decodes the frame at the start of `bytes` into `record` (when not null).
FrameDecode DecodeFrame(std::string_view bytes, Record* record);
// The same checks (CRC, body layout, a well-formed source position), with `view` pointing into
// `bytes` instead of copying: nothing is allocated for a frame that is not corrupt.
FrameDecode DecodeFrameView(std::string_view bytes, RecordView* view);

struct IndexEntry {
  SequenceNumber sequence;
  uint64_t offset = 0;
  int64_t arrival_nanos = 0;
};

struct SegmentSummary {
  SequenceNumber first_sequence;  // 0 when empty
  SequenceNumber last_sequence;
  uint64_t record_count = 0;
  int64_t min_arrival = 0;
  int64_t max_arrival = 0;
  uint64_t bytes = 0;  // valid bytes, header included
  std::vector<IndexEntry> entries;
};

std::string EncodeIndex(const SegmentSummary& summary);
Result<SegmentSummary> DecodeIndex(std::string_view bytes);

// "00000000000000000042.seg".
std::string SegmentFileName(uint64_t base_sequence);
inline std::string SegmentFileName(SequenceNumber base) { return SegmentFileName(base.value()); }
// Returns the base sequence of a "<20 digits>.seg" name, or nullopt-like error.
Result<uint64_t> ParseSegmentFileName(std::string_view name);
// The index file of the segment at `segment_path`: "<base>.idx" beside "<base>.seg".
std::string SegmentIndexPath(const std::string& segment_path);

}  // namespace eddy::log
