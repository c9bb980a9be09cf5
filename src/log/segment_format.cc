#include "log/segment_format.h"

#include <cassert>
#include <cstdio>
#include <cstring>

#include "base/byte_cursor.h"
#include "base/bytes.h"
#include "base/crc32c.h"

namespace eddy::log {

std::string EncodeSegmentHeader(uint32_t shard_index) {
  std::string out(kSegmentMagic, sizeof kSegmentMagic);
  PutFixed32(out, kSegmentVersion);
  PutFixed32(out, shard_index);
  return out;
}

Result<uint32_t> DecodeSegmentHeader(std::string_view bytes) {
  if (bytes.size() < kSegmentHeaderBytes) {
    return Corruption("segment header truncated: " + std::to_string(bytes.size()) + " of " +
                      std::to_string(kSegmentHeaderBytes) + " bytes");
  }
  if (std::memcmp(bytes.data(), kSegmentMagic, sizeof kSegmentMagic) != 0) {
    return Corruption("not an eddy segment file (bad magic)");
  }
  uint32_t version = DecodeFixed32(bytes.data() + 8);
  if (version != kSegmentVersion) {
    return Corruption("segment format version " + std::to_string(version) +
                      " is not supported (this build reads version 1)");
  }
  return DecodeFixed32(bytes.data() + 12);
}

namespace {

// A varint (base/bytes.h's PutVarint64 layout) at `to`; returns the bytes written (at most 10).
size_t WriteVarint64(char* to, uint64_t v) {
  size_t n = 0;
  while (v >= 0x80) {
    to[n++] = static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  to[n++] = static_cast<char>(v);
  return n;
}

}  // namespace

void EncodeFrame(const FrameFields& frame, std::string& out) {
  // The position's bytes: the one byte of "none" for most frames (a snapshot's rows, MySQL row
  // changes), encoded once.
  static const std::string kNoPosition = [] {
    std::string bytes;
    SourcePosition().EncodeTo(bytes);
    return bytes;
  }();
  std::string_view position = kNoPosition;
  thread_local std::string position_bytes;
  if (frame.position != nullptr && !frame.position->empty()) {
    position_bytes.clear();
    frame.position->EncodeTo(position_bytes);
    position = position_bytes;
  }
  // The frame is written through a pointer into room made once (one resize, not a call per
  // field; the log's append threads frame every record), then trimmed to what was written.
  const size_t start = out.size();
  const size_t most = kFrameHeaderBytes + 8 + 8 + 1 + 10 + frame.partition_key.size() +
                      position.size() + 10 + frame.payload.size();
  out.resize(start + most);
  char* const frame_start = out.data() + start;
  char* p = frame_start + kFrameHeaderBytes;  // the CRC and length go in last
  EncodeFixed64(p, frame.sequence.value());
  EncodeFixed64(p + 8, static_cast<uint64_t>(frame.arrival_nanos));
  p[16] = static_cast<char>(static_cast<uint8_t>(frame.kind));
  p += 17;
  p += WriteVarint64(p, frame.partition_key.size());
  std::memcpy(p, frame.partition_key.data(), frame.partition_key.size());
  p += frame.partition_key.size();
  std::memcpy(p, position.data(), position.size());
  p += position.size();
  p += WriteVarint64(p, frame.payload.size());
  std::memcpy(p, frame.payload.data(), frame.payload.size());
  p += frame.payload.size();
  const size_t size = static_cast<size_t>(p - frame_start);
  out.resize(start + size);
  char* const framed = out.data() + start;
  EncodeFixed32(framed + 4, static_cast<uint32_t>(size - kFrameHeaderBytes));
  uint32_t crc = crc32c::Value(framed + 4, size - 4);
  EncodeFixed32(framed, crc32c::Mask(crc));
}

void EncodeFrame(const Record& record, std::string& out) {
  EncodeFrame(FrameFields{record.sequence, record.arrival_nanos, record.kind, record.partition_key,
                          &record.position, record.payload},
              out);
}

size_t FrameSize(const Record& record) {
  std::string scratch;
  record.position.EncodeTo(scratch);
  auto varint_size = [](uint64_t v) {
    size_t n = 1;
    while (v >= 0x80) {
      v >>= 7;
      ++n;
    }
    return n;
  };
  return kFrameHeaderBytes + 17 + varint_size(record.partition_key.size()) +
         record.partition_key.size() + scratch.size() + varint_size(record.payload.size()) +
         record.payload.size();
}

namespace {

// The size of the encoded source position at the start of `bytes`, or why it does not decode
// (SourcePosition::DecodeFrom's message): the error path of ReadBody.
Result<size_t> EncodedPositionSize(std::string_view bytes) {
  std::string_view rest = bytes;
  EDDY_RETURN_IF_ERROR(SourcePosition::DecodeFrom(rest).status());
  return bytes.size() - rest.size();
}

// The fields of a frame body that decoded, into `view`.
void SetView(RecordView* view, uint64_t sequence, uint64_t arrival, uint8_t kind,
             std::string_view key, std::string_view position, std::string_view payload) {
  view->sequence = SequenceNumber(sequence);
  view->arrival_nanos = static_cast<int64_t>(arrival);
  view->kind = static_cast<RecordKind>(kind);
  view->partition_key = key;
  view->position = position;
  view->payload = payload;
}

// A frame body's fields (after the CRC passed), with the checks and messages of each read.
Status ReadBody(std::string_view body, RecordView* view) {
  ByteReader reader(body);
  EDDY_ASSIGN_OR_RETURN(uint64_t sequence, reader.ReadFixed64());
  EDDY_ASSIGN_OR_RETURN(uint64_t arrival, reader.ReadFixed64());
  EDDY_ASSIGN_OR_RETURN(uint8_t kind, reader.ReadFixed8());
  if (kind > static_cast<uint8_t>(RecordKind::kFragment)) {
    return Corruption("unknown record kind " + std::to_string(kind));
  }
  EDDY_ASSIGN_OR_RETURN(std::string_view key, reader.ReadLengthPrefixed());
  std::string_view rest = reader.rest();
  EDDY_ASSIGN_OR_RETURN(size_t position_size, EncodedPositionSize(rest));
  ByteReader tail(rest.substr(position_size));
  EDDY_ASSIGN_OR_RETURN(std::string_view payload, tail.ReadLengthPrefixed());
  if (!tail.empty()) return Corruption("trailing bytes after the payload");
  SetView(view, sequence, arrival, kind, key, rest.substr(0, position_size), payload);
  return Status::Ok();
}

// ReadBody's reads and checks on a ByteCursor, without a Result each; false: ReadBody, run on
// the same bytes, says what is wrong. Debug builds check that ReadBody agrees.
bool ReadBodyFast(std::string_view body, RecordView* view) {
  ByteCursor cursor(body);
  uint64_t sequence, arrival;
  uint8_t kind;
  std::string_view key, payload;
  if (!cursor.Fixed64(&sequence) || !cursor.Fixed64(&arrival) || !cursor.Byte(&kind) ||
      kind > static_cast<uint8_t>(RecordKind::kFragment) || !cursor.LengthPrefixed(&key)) {
    return false;
  }
  const std::string_view rest = cursor.rest();
  const size_t position_size = SourcePosition::EncodedSize(rest);
  if (position_size == 0) return false;
  ByteCursor tail(rest.substr(position_size));
  if (!tail.LengthPrefixed(&payload) || !tail.empty()) return false;
  SetView(view, sequence, arrival, kind, key, rest.substr(0, position_size), payload);
  return true;
}

}  // namespace

FrameDecode DecodeFrameView(std::string_view bytes, RecordView* view) {
  FrameDecode result;
  if (bytes.size() < kFrameHeaderBytes) {
    result.status = FrameStatus::kIncomplete;
    result.size = kFrameHeaderBytes;
    return result;
  }
  uint32_t stored_crc = crc32c::Unmask(DecodeFixed32(bytes.data()));
  uint32_t length = DecodeFixed32(bytes.data() + 4);
  if (length > kMaxFrameBodyBytes || length < 18) {
    result.status = FrameStatus::kCorrupt;
    result.error = "frame length " + std::to_string(length) + " is out of range";
    return result;
  }
  if (bytes.size() < kFrameHeaderBytes + length) {
    result.status = FrameStatus::kIncomplete;
    result.size = kFrameHeaderBytes + length;
    return result;
  }
  uint32_t crc = crc32c::Value(bytes.data() + 4, 4 + length);
  if (crc != stored_crc) {
    result.status = FrameStatus::kCorrupt;
    result.error = "CRC mismatch";
    return result;
  }
  result.size = kFrameHeaderBytes + length;
  if (view == nullptr) return result;
  const std::string_view body = bytes.substr(kFrameHeaderBytes, length);
  if (ReadBodyFast(body, view)) [[likely]] {
#ifndef NDEBUG
    RecordView check;
    assert(ReadBody(body, &check).ok() && check.sequence == view->sequence &&
           check.arrival_nanos == view->arrival_nanos && check.kind == view->kind &&
           check.partition_key == view->partition_key && check.position == view->position &&
           check.payload == view->payload);
#endif
    return result;
  }
  if (Status read = ReadBody(body, view); !read.ok()) {
    result.status = FrameStatus::kCorrupt;
    result.error = "bad record body: " + read.message();
  }
  return result;
}

FrameDecode DecodeFrame(std::string_view bytes, Record* record) {
  if (record == nullptr) return DecodeFrameView(bytes, nullptr);
  RecordView view;
  FrameDecode result = DecodeFrameView(bytes, &view);
  if (result.status != FrameStatus::kOk) return result;
  auto position = view.DecodePosition();
  if (!position.ok()) {
    result.status = FrameStatus::kCorrupt;
    result.error = "bad record body: " + position.status().message();
    return result;
  }
  record->sequence = view.sequence;
  record->arrival_nanos = view.arrival_nanos;
  record->kind = view.kind;
  record->partition_key.assign(view.partition_key.data(), view.partition_key.size());
  record->position = std::move(*position);
  record->payload.assign(view.payload.data(), view.payload.size());
  return result;
}

Result<SourcePosition> RecordView::DecodePosition() const {
  std::string_view bytes = position;
  EDDY_ASSIGN_OR_RETURN(SourcePosition decoded, SourcePosition::DecodeFrom(bytes));
  if (!bytes.empty()) return Corruption("trailing bytes after the source position");
  return decoded;
}

Result<Record> RecordView::ToRecord() const {
  Record record;
  record.sequence = sequence;
  record.arrival_nanos = arrival_nanos;
  record.kind = kind;
  record.partition_key.assign(partition_key.data(), partition_key.size());
  EDDY_ASSIGN_OR_RETURN(record.position, DecodePosition());
  record.payload.assign(payload.data(), payload.size());
  return record;
}

std::string EncodeIndex(const SegmentSummary& summary) {
  std::string out(kIndexMagic, sizeof kIndexMagic);
  PutFixed32(out, 1);
  PutFixed64(out, summary.first_sequence.value());
  PutFixed64(out, summary.last_sequence.value());
  PutFixed64(out, summary.record_count);
  PutFixed64(out, static_cast<uint64_t>(summary.min_arrival));
  PutFixed64(out, static_cast<uint64_t>(summary.max_arrival));
  PutFixed64(out, summary.bytes);
  PutFixed32(out, static_cast<uint32_t>(summary.entries.size()));
  for (const auto& entry : summary.entries) {
    PutFixed64(out, entry.sequence.value());
    PutFixed64(out, entry.offset);
    PutFixed64(out, static_cast<uint64_t>(entry.arrival_nanos));
  }
  PutFixed32(out, crc32c::Mask(crc32c::Value(out)));
  return out;
}

Result<SegmentSummary> DecodeIndex(std::string_view bytes) {
  if (bytes.size() < 8 + 4 + 4 || std::memcmp(bytes.data(), kIndexMagic, 8) != 0) {
    return Corruption("not a segment index (bad magic or too short)");
  }
  uint32_t stored = crc32c::Unmask(DecodeFixed32(bytes.data() + bytes.size() - 4));
  if (crc32c::Value(bytes.data(), bytes.size() - 4) != stored) {
    return Corruption("segment index CRC mismatch");
  }
  ByteReader reader(bytes.substr(8, bytes.size() - 12));
  SegmentSummary summary;
  EDDY_ASSIGN_OR_RETURN(uint32_t version, reader.ReadFixed32());
  if (version != 1) return Corruption("segment index version " + std::to_string(version));
  EDDY_ASSIGN_OR_RETURN(uint64_t first_sequence, reader.ReadFixed64());
  EDDY_ASSIGN_OR_RETURN(uint64_t last_sequence, reader.ReadFixed64());
  summary.first_sequence = SequenceNumber(first_sequence);
  summary.last_sequence = SequenceNumber(last_sequence);
  EDDY_ASSIGN_OR_RETURN(summary.record_count, reader.ReadFixed64());
  EDDY_ASSIGN_OR_RETURN(uint64_t min_arrival, reader.ReadFixed64());
  EDDY_ASSIGN_OR_RETURN(uint64_t max_arrival, reader.ReadFixed64());
  summary.min_arrival = static_cast<int64_t>(min_arrival);
  summary.max_arrival = static_cast<int64_t>(max_arrival);
  EDDY_ASSIGN_OR_RETURN(summary.bytes, reader.ReadFixed64());
  EDDY_ASSIGN_OR_RETURN(uint32_t count, reader.ReadFixed32());
  if (static_cast<uint64_t>(count) * 24 != reader.remaining()) {
    return Corruption("segment index entry count does not match its size");
  }
  summary.entries.resize(count);
  for (auto& entry : summary.entries) {
    EDDY_ASSIGN_OR_RETURN(uint64_t sequence, reader.ReadFixed64());
    entry.sequence = SequenceNumber(sequence);
    EDDY_ASSIGN_OR_RETURN(entry.offset, reader.ReadFixed64());
    EDDY_ASSIGN_OR_RETURN(uint64_t arrival, reader.ReadFixed64());
    entry.arrival_nanos = static_cast<int64_t>(arrival);
  }
  return summary;
}

std::string SegmentFileName(uint64_t base_sequence) {
  char name[32];
  std::snprintf(name, sizeof name, "%020llu.seg", static_cast<unsigned long long>(base_sequence));
  return name;
}

Result<uint64_t> ParseSegmentFileName(std::string_view name) {
  if (name.size() != 24 || name.substr(20) != ".seg") {
    return InvalidArgument("not a segment file name: " + std::string(name));
  }
  uint64_t value = 0;
  for (char c : name.substr(0, 20)) {
    if (c < '0' || c > '9') return InvalidArgument("not a segment file name: " + std::string(name));
    value = value * 10 + static_cast<uint64_t>(c - '0');
  }
  return value;
}

std::string SegmentIndexPath(const std::string& segment_path) {
  return segment_path.substr(0, segment_path.size() - 4) + ".idx";
}

}  // namespace eddy::log
