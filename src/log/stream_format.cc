#include "log/stream_format.h"

#include <cstdio>
#include <cstring>

#include "base/bytes.h"
#include "base/crc32c.h"

namespace eddy::log {
namespace {

void PutHashKey(std::string& out, HashKey key) {
  PutFixed64(out, key.high);
  PutFixed64(out, key.low);
}

Result<HashKey> ReadHashKey(ByteReader& reader) {
  HashKey key;
  EDDY_ASSIGN_OR_RETURN(key.high, reader.ReadFixed64());
  EDDY_ASSIGN_OR_RETURN(key.low, reader.ReadFixed64());
  return key;
}

void PutOptional(std::string& out, const std::optional<ShardIndex>& value) {
  PutVarint64(out, value ? uint64_t{value->value()} + 1 : 0);
}

Result<std::optional<ShardIndex>> ReadOptional(ByteReader& reader) {
  EDDY_ASSIGN_OR_RETURN(uint64_t raw, reader.ReadVarint64());
  if (raw == 0) return std::optional<ShardIndex>();
  if (raw - 1 > UINT32_MAX) return Corruption("shard index out of range");
  return std::optional<ShardIndex>(ShardIndex(static_cast<uint32_t>(raw - 1)));
}

}  // namespace

std::string EncodeStreamMeta(const StreamMeta& meta) {
  std::string out(kMetaMagic, sizeof kMetaMagic);
  PutFixed32(out, 1);
  PutLengthPrefixed(out, meta.name);
  PutFixed8(out, static_cast<uint8_t>(meta.options.ordering));
  PutVarint64(out, meta.options.shard_count);
  PutVarintSigned64(out, meta.options.retention_nanos);
  PutVarint64(out, meta.options.retention_bytes);
  PutVarint64(out, meta.options.max_record_bytes);
  PutVarint64(out, meta.options.tags.size());
  for (const auto& [key, value] : meta.options.tags) {
    PutLengthPrefixed(out, key);
    PutLengthPrefixed(out, value);
  }
  PutVarintSigned64(out, meta.creation_nanos);
  PutVarint64(out, meta.meta_version);
  PutVarint64(out, meta.next_shard_index.value());
  PutVarint64(out, meta.shards.size());
  for (const auto& shard : meta.shards) {
    PutVarint64(out, shard.index.value());
    PutOptional(out, shard.parent_index);
    PutOptional(out, shard.adjacent_parent_index);
    PutVarint64(out, shard.child_indexes.size());
    for (ShardIndex child : shard.child_indexes) PutVarint64(out, child.value());
    PutHashKey(out, shard.hash_range.start);
    PutHashKey(out, shard.hash_range.end);
    PutVarintSigned64(out, shard.creation_nanos);
    PutVarint64(out, shard.starting_sequence.value());
    PutVarint64(out, shard.ending_sequence ? shard.ending_sequence->value() + 1 : 0);
    PutFixed8(out, static_cast<uint8_t>((shard.open ? 1 : 0) | (shard.expired ? 2 : 0)));
  }
  PutFixed32(out, crc32c::Mask(crc32c::Value(out)));
  return out;
}

Result<StreamMeta> DecodeStreamMeta(std::string_view bytes) {
  if (bytes.size() < 16 || std::memcmp(bytes.data(), kMetaMagic, 8) != 0) {
    return Corruption("not an eddy stream.meta file (bad magic or too short)");
  }
  uint32_t stored = crc32c::Unmask(DecodeFixed32(bytes.data() + bytes.size() - 4));
  if (crc32c::Value(bytes.data(), bytes.size() - 4) != stored) {
    return Corruption("stream.meta CRC mismatch");
  }
  ByteReader reader(bytes.substr(8, bytes.size() - 12));
  EDDY_ASSIGN_OR_RETURN(uint32_t version, reader.ReadFixed32());
  if (version != 1) return Corruption("stream.meta version " + std::to_string(version));
  StreamMeta meta;
  EDDY_ASSIGN_OR_RETURN(std::string_view name, reader.ReadLengthPrefixed());
  meta.name = std::string(name);
  EDDY_ASSIGN_OR_RETURN(uint8_t ordering, reader.ReadFixed8());
  if (ordering != 1 && ordering != 2) return Corruption("unknown ordering mode");
  meta.options.ordering = static_cast<OrderingMode>(ordering);
  EDDY_ASSIGN_OR_RETURN(uint64_t shard_count, reader.ReadVarint64());
  meta.options.shard_count = static_cast<uint32_t>(shard_count);
  EDDY_ASSIGN_OR_RETURN(meta.options.retention_nanos, reader.ReadVarintSigned64());
  EDDY_ASSIGN_OR_RETURN(meta.options.retention_bytes, reader.ReadVarint64());
  EDDY_ASSIGN_OR_RETURN(uint64_t max_record, reader.ReadVarint64());
  meta.options.max_record_bytes = static_cast<uint32_t>(max_record);
  EDDY_ASSIGN_OR_RETURN(uint64_t tag_count, reader.ReadVarint64());
  for (uint64_t i = 0; i < tag_count; ++i) {
    EDDY_ASSIGN_OR_RETURN(std::string_view key, reader.ReadLengthPrefixed());
    EDDY_ASSIGN_OR_RETURN(std::string_view value, reader.ReadLengthPrefixed());
    meta.options.tags[std::string(key)] = std::string(value);
  }
  EDDY_ASSIGN_OR_RETURN(meta.creation_nanos, reader.ReadVarintSigned64());
  EDDY_ASSIGN_OR_RETURN(meta.meta_version, reader.ReadVarint64());
  EDDY_ASSIGN_OR_RETURN(uint64_t next_index, reader.ReadVarint64());
  meta.next_shard_index = ShardIndex(static_cast<uint32_t>(next_index));
  EDDY_ASSIGN_OR_RETURN(uint64_t count, reader.ReadVarint64());
  if (count > reader.remaining()) return Corruption("shard count exceeds the file");
  for (uint64_t i = 0; i < count; ++i) {
    ShardMeta shard;
    EDDY_ASSIGN_OR_RETURN(uint64_t index, reader.ReadVarint64());
    shard.index = ShardIndex(static_cast<uint32_t>(index));
    EDDY_ASSIGN_OR_RETURN(shard.parent_index, ReadOptional(reader));
    EDDY_ASSIGN_OR_RETURN(shard.adjacent_parent_index, ReadOptional(reader));
    EDDY_ASSIGN_OR_RETURN(uint64_t children, reader.ReadVarint64());
    if (children > reader.remaining()) return Corruption("child count exceeds the file");
    for (uint64_t c = 0; c < children; ++c) {
      EDDY_ASSIGN_OR_RETURN(uint64_t child, reader.ReadVarint64());
      shard.child_indexes.push_back(ShardIndex(static_cast<uint32_t>(child)));
    }
    EDDY_ASSIGN_OR_RETURN(shard.hash_range.start, ReadHashKey(reader));
    EDDY_ASSIGN_OR_RETURN(shard.hash_range.end, ReadHashKey(reader));
    EDDY_ASSIGN_OR_RETURN(shard.creation_nanos, reader.ReadVarintSigned64());
    EDDY_ASSIGN_OR_RETURN(uint64_t starting, reader.ReadVarint64());
    shard.starting_sequence = SequenceNumber(starting);
    EDDY_ASSIGN_OR_RETURN(uint64_t ending, reader.ReadVarint64());
    if (ending != 0) shard.ending_sequence = SequenceNumber(ending - 1);
    EDDY_ASSIGN_OR_RETURN(uint8_t flags, reader.ReadFixed8());
    shard.open = (flags & 1) != 0;
    shard.expired = (flags & 2) != 0;
    meta.shards.push_back(std::move(shard));
  }
  if (!reader.empty()) return Corruption("trailing bytes in stream.meta");
  return meta;
}

void EncodeCommitFrame(const CommitRecord& record, std::string& out) {
  size_t start = out.size();
  PutFixed32(out, kCommitMarker);
  out.append(8, '\0');
  PutFixed64(out, record.commit_number);
  PutFixed64(out, record.meta_version);
  PutFixed64(out, record.last_sequence.value());
  PutFixed64(out, static_cast<uint64_t>(record.commit_nanos));
  record.position.EncodeTo(out);
  PutVarint64(out, record.shards.size());
  for (const auto& shard : record.shards) {
    PutVarint64(out, shard.shard_index.value());
    PutVarint64(out, shard.segment_base.value());
    PutVarint64(out, shard.end_offset);
    PutVarint64(out, shard.last_sequence.value());
    PutVarintSigned64(out, shard.last_arrival);
  }
  uint32_t length = static_cast<uint32_t>(out.size() - start - kCommitFrameHeaderBytes);
  EncodeFixed32(out.data() + start + 8, length);
  uint32_t crc = crc32c::Value(out.data() + start + 8, out.size() - start - 8);
  EncodeFixed32(out.data() + start + 4, crc32c::Mask(crc));
}

namespace {

// Decodes the frame at `bytes`; nullopt when it is not a valid frame.
std::optional<std::pair<CommitRecord, size_t>> DecodeCommitFrame(std::string_view bytes,
                                                                 std::string* reason) {
  if (bytes.size() < kCommitFrameHeaderBytes) {
    *reason = "truncated commit record header";
    return std::nullopt;
  }
  if (DecodeFixed32(bytes.data()) != kCommitMarker) {
    *reason = "missing commit record marker";
    return std::nullopt;
  }
  uint32_t length = DecodeFixed32(bytes.data() + 8);
  if (bytes.size() - kCommitFrameHeaderBytes < length) {
    *reason = "truncated commit record";
    return std::nullopt;
  }
  uint32_t stored = crc32c::Unmask(DecodeFixed32(bytes.data() + 4));
  if (crc32c::Value(bytes.data() + 8, 4 + length) != stored) {
    *reason = "commit record CRC mismatch";
    return std::nullopt;
  }
  ByteReader reader(bytes.substr(kCommitFrameHeaderBytes, length));
  CommitRecord record;
  auto parse = [&]() -> Status {
    EDDY_ASSIGN_OR_RETURN(record.commit_number, reader.ReadFixed64());
    EDDY_ASSIGN_OR_RETURN(record.meta_version, reader.ReadFixed64());
    EDDY_ASSIGN_OR_RETURN(uint64_t last_sequence, reader.ReadFixed64());
    record.last_sequence = SequenceNumber(last_sequence);
    EDDY_ASSIGN_OR_RETURN(uint64_t nanos, reader.ReadFixed64());
    record.commit_nanos = static_cast<int64_t>(nanos);
    std::string_view rest = reader.rest();
    size_t before = rest.size();
    EDDY_ASSIGN_OR_RETURN(record.position, SourcePosition::DecodeFrom(rest));
    EDDY_RETURN_IF_ERROR(reader.ReadBytes(before - rest.size()).status());
    EDDY_ASSIGN_OR_RETURN(uint64_t count, reader.ReadVarint64());
    if (count > reader.remaining()) return Corruption("shard count exceeds the record");
    for (uint64_t i = 0; i < count; ++i) {
      ShardCommit shard;
      EDDY_ASSIGN_OR_RETURN(uint64_t index, reader.ReadVarint64());
      shard.shard_index = ShardIndex(static_cast<uint32_t>(index));
      EDDY_ASSIGN_OR_RETURN(uint64_t segment_base, reader.ReadVarint64());
      shard.segment_base = SequenceNumber(segment_base);
      EDDY_ASSIGN_OR_RETURN(shard.end_offset, reader.ReadVarint64());
      EDDY_ASSIGN_OR_RETURN(uint64_t shard_last, reader.ReadVarint64());
      shard.last_sequence = SequenceNumber(shard_last);
      EDDY_ASSIGN_OR_RETURN(shard.last_arrival, reader.ReadVarintSigned64());
      record.shards.push_back(shard);
    }
    if (!reader.empty()) return Corruption("trailing bytes in commit record");
    return Status::Ok();
  };
  Status status = parse();
  if (!status.ok()) {
    *reason = "bad commit record body: " + status.message();
    return std::nullopt;
  }
  return std::make_pair(std::move(record), kCommitFrameHeaderBytes + length);
}

}  // namespace

Result<JournalScan> ScanJournal(std::string_view bytes) {
  if (bytes.size() < sizeof kJournalMagic ||
      std::memcmp(bytes.data(), kJournalMagic, sizeof kJournalMagic) != 0) {
    return Corruption("not an eddy commit journal (bad magic or too short)");
  }
  JournalScan scan;
  size_t offset = sizeof kJournalMagic;
  scan.valid_end = offset;
  while (offset < bytes.size()) {
    std::string reason;
    auto frame = DecodeCommitFrame(bytes.substr(offset), &reason);
    if (frame) {
      scan.last = std::move(frame->first);
      offset += frame->second;
      scan.valid_end = offset;
      ++scan.records;
      continue;
    }
    // Resynchronise: look for a later valid record (mid-journal corruption) before taking
    // the rest as a torn tail.
    size_t bad = offset;
    size_t probe = offset + 1;
    bool found = false;
    while (probe + kCommitFrameHeaderBytes <= bytes.size()) {
      if (DecodeFixed32(bytes.data() + probe) == kCommitMarker) {
        std::string ignored;
        if (DecodeCommitFrame(bytes.substr(probe), &ignored)) {
          found = true;
          break;
        }
      }
      ++probe;
    }
    if (!found) break;
    if (!scan.corrupt_offset) {
      scan.corrupt_offset = bad;
      scan.corrupt_reason = reason;
    }
    offset = probe;
  }
  scan.invalid_bytes = bytes.size() - scan.valid_end;
  return scan;
}

std::string JournalFileName(uint64_t generation) {
  char name[40];
  std::snprintf(name, sizeof name, "commit-%020llu.log",
                static_cast<unsigned long long>(generation));
  return name;
}

Result<uint64_t> ParseJournalFileName(std::string_view name) {
  if (name.size() != 31 || name.substr(0, 7) != "commit-" || name.substr(27) != ".log") {
    return InvalidArgument("not a commit journal name: " + std::string(name));
  }
  uint64_t value = 0;
  for (char c : name.substr(7, 20)) {
    if (c < '0' || c > '9') return InvalidArgument("not a commit journal name");
    value = value * 10 + static_cast<uint64_t>(c - '0');
  }
  return value;
}

}  // namespace eddy::log
