#include "log/chunking.h"

#include <algorithm>

#include "base/bytes.h"
#include "base/crc32c.h"

namespace eddy::log {

std::vector<ChunkPiece> SplitPayload(std::string_view partition_key, std::string_view payload,
                                     uint32_t max_record_bytes) {
  std::vector<ChunkPiece> pieces;
  if (partition_key.size() + payload.size() <= max_record_bytes) {
    pieces.push_back({RecordKind::kData, std::string(payload)});
    return pieces;
  }
  size_t piece = max_record_bytes > partition_key.size() + kChunkHeaderBytes + 1
                     ? max_record_bytes - partition_key.size()
                     : kChunkHeaderBytes + 1;
  size_t head_piece = piece - kChunkHeaderBytes;
  size_t rest = payload.size() > head_piece ? payload.size() - head_piece : 0;
  uint32_t fragments = static_cast<uint32_t>((rest + piece - 1) / piece);
  std::string head;
  PutFixed32(head, kChunkMagic);
  PutFixed32(head, fragments);
  PutFixed64(head, payload.size());
  PutFixed32(head, crc32c::Mask(crc32c::Value(payload)));
  size_t first = std::min(head_piece, payload.size());
  head.append(payload.data(), first);
  pieces.push_back({RecordKind::kChunkedHead, std::move(head)});
  for (size_t offset = first; offset < payload.size(); offset += piece) {
    size_t size = std::min(piece, payload.size() - offset);
    pieces.push_back({RecordKind::kFragment, std::string(payload.substr(offset, size))});
  }
  return pieces;
}

Result<std::optional<Record>> Reassembler::Add(Record record) {
  switch (record.kind) {
    case RecordKind::kData:
      if (head_) {
        head_.reset();
        return Corruption("record " + std::to_string(record.sequence.value()) +
                          " interrupts a chunked payload before its last fragment");
      }
      return std::optional<Record>(std::move(record));
    case RecordKind::kChunkedHead: {
      if (head_) {
        head_.reset();
        return Corruption("chunked head " + std::to_string(record.sequence.value()) +
                          " interrupts an earlier chunked payload");
      }
      ByteReader reader(record.payload);
      EDDY_ASSIGN_OR_RETURN(uint32_t magic, reader.ReadFixed32());
      if (magic != kChunkMagic) return Corruption("chunked head without the chunk magic");
      EDDY_ASSIGN_OR_RETURN(remaining_, reader.ReadFixed32());
      EDDY_ASSIGN_OR_RETURN(total_size_, reader.ReadFixed64());
      EDDY_ASSIGN_OR_RETURN(uint32_t masked, reader.ReadFixed32());
      crc_ = crc32c::Unmask(masked);
      record.payload.erase(0, kChunkHeaderBytes);
      record.kind = RecordKind::kData;
      head_ = std::move(record);
      break;
    }
    case RecordKind::kFragment:
      if (!head_) {
        ++skipped_fragments_;  // its head fell behind the trim horizon
        return std::optional<Record>();
      }
      if (remaining_ == 0) return Corruption("more fragments than the chunked head announced");
      head_->payload += record.payload;
      --remaining_;
      break;
  }
  if (head_ && remaining_ == 0) {
    Record whole = std::move(*head_);
    head_.reset();
    if (whole.payload.size() != total_size_ || crc32c::Value(whole.payload) != crc_) {
      return Corruption("reassembled payload of record " +
                        std::to_string(whole.sequence.value()) +
                        " does not match its size or CRC");
    }
    return std::optional<Record>(std::move(whole));
  }
  return std::optional<Record>();
}

}  // namespace eddy::log
