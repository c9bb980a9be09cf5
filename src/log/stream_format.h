// Stream metadata and commit journal files (docs/formats/log-commit-journal.md and
// docs/formats/log-stream-meta.md).
//
// streams/<name>/stream.meta, replaced atomically (temp + fsync + rename + fsync dir):
//   "EDDYMETA" (8) | u32 version = 1 | body | u32 masked CRC-32C of everything before it
//   body: name, options, creation time, meta version, next shard index, shards
//         (see EncodeStreamMeta for the field order; strings and maps length-prefixed).
//
// streams/<name>/commit-<20-digit generation>.log, append-only:
//   "EDDYCJ01" (8)
//   commit records, each:
//     u32 marker 0x544d4345 ("ECMT") | u32 masked CRC-32C of [length .. end] | u32 length |
//     body:  u64 commit number | u64 meta version | u64 last sequence (stream counter) |
//            i64 commit time ns | source position (end of the last transaction) |
//            varint shard count | per shard: varint shard index, varint active segment base,
//            varint committed end offset in it, varint last sequence, zigzag varint last
//            arrival ns
// Every commit record carries the state of every shard that has one, so the last valid
// record alone defines the stream; older records matter only for forensics.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/position.h"
#include "base/shard_index.h"
#include "base/status.h"
#include "log/kinesis.h"
#include "log/log_store.h"

namespace eddy::log {

// "shardId-000000000003" for index 3 (kinesis.h takes the raw index).
inline std::string FormatShardId(ShardIndex index) { return FormatShardId(index.value()); }

inline constexpr char kMetaMagic[8] = {'E', 'D', 'D', 'Y', 'M', 'E', 'T', 'A'};
inline constexpr char kJournalMagic[8] = {'E', 'D', 'D', 'Y', 'C', 'J', '0', '1'};
inline constexpr uint32_t kCommitMarker = 0x544d4345;
inline constexpr size_t kCommitFrameHeaderBytes = 12;

struct ShardMeta {
  ShardIndex index;
  std::optional<ShardIndex> parent_index;
  std::optional<ShardIndex> adjacent_parent_index;
  std::vector<ShardIndex> child_indexes;
  HashKeyRange hash_range;
  int64_t creation_nanos = 0;
  SequenceNumber starting_sequence;
  std::optional<SequenceNumber> ending_sequence;
  bool open = true;
  bool expired = false;
};

struct StreamMeta {
  std::string name;
  StreamOptions options;
  int64_t creation_nanos = 0;
  uint64_t meta_version = 1;
  ShardIndex next_shard_index;
  std::vector<ShardMeta> shards;  // by index
};

std::string EncodeStreamMeta(const StreamMeta& meta);
Result<StreamMeta> DecodeStreamMeta(std::string_view bytes);

struct ShardCommit {
  ShardIndex shard_index;
  SequenceNumber segment_base;  // the active segment's base sequence (its file name)
  uint64_t end_offset = 0;
  SequenceNumber last_sequence;  // 0 when the shard has no record
  int64_t last_arrival = 0;
};

struct CommitRecord {
  uint64_t commit_number = 0;
  uint64_t meta_version = 0;
  SequenceNumber last_sequence;  // the stream counter
  int64_t commit_nanos = 0;
  SourcePosition position;
  std::vector<ShardCommit> shards;
};

// Appends a framed commit record.
void EncodeCommitFrame(const CommitRecord& record, std::string& out);

struct JournalScan {
  std::optional<CommitRecord> last;  // last valid commit record
  uint64_t valid_end = 0;            // offset just past it (or past the header)
  uint64_t records = 0;
  // Bytes after valid_end that did not form a valid record (a torn tail, or corruption).
  uint64_t invalid_bytes = 0;
  // Set when valid records were found after an invalid region (mid-journal corruption).
  std::optional<uint64_t> corrupt_offset;
  std::string corrupt_reason;
};
// Scans journal bytes (header included). A bad header is kCorruption.
Result<JournalScan> ScanJournal(std::string_view bytes);

std::string JournalFileName(uint64_t generation);
Result<uint64_t> ParseJournalFileName(std::string_view name);

}  // namespace eddy::log
