// Oversized payloads, as Aurora DSQL streams them: a payload larger than the stream's max
// record size is stored as one `chunked` head record followed by `fragment` records in the
// same shard with consecutive sequence numbers, committed together.
//
// Head payload layout (little-endian), then the first piece of the payload:
//   u32 magic 0x4b4e4843 ("CHNK")
//   u32 fragment count (records after the head)
//   u64 total payload size
//   u32 masked CRC-32C of the whole payload
// Fragment payloads are the following pieces, in order.
//
// Thread safety: a Reassembler is used by one thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "log/record.h"

namespace eddy::log {

inline constexpr uint32_t kChunkMagic = 0x4b4e4843;
inline constexpr size_t kChunkHeaderBytes = 20;

// Splits `record` into pieces of at most `max_record_bytes` (partition key included) when it
// is larger; returns {record} unchanged otherwise. Returned records carry kinds.
struct ChunkPiece {
  RecordKind kind;
  std::string payload;
};
std::vector<ChunkPiece> SplitPayload(std::string_view partition_key, std::string_view payload,
                                     uint32_t max_record_bytes);

// Feeds records read from one shard in order; returns whole records: kData records as they
// are, a chunked group as one kData record (sequence and arrival of the head) once its last
// fragment arrives. A group cut by the trim horizon (fragments without a head) is skipped and
// counted; a CRC mismatch of a reassembled payload is kCorruption.
class Reassembler {
 public:
  Result<std::optional<Record>> Add(Record record);
  // True while a head has been seen but not all of its fragments.
  bool pending() const { return head_.has_value(); }
  uint64_t skipped_fragments() const { return skipped_fragments_; }

 private:
  std::optional<Record> head_;
  uint32_t remaining_ = 0;
  uint64_t total_size_ = 0;
  uint32_t crc_ = 0;
  uint64_t skipped_fragments_ = 0;
};

}  // namespace eddy::log
