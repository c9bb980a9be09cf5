// Avro binary encoding and object container files: the small subset Iceberg needs (manifests
// and manifest lists), written by hand because Debian's avro-c drops the `field-id` attributes
// of a schema and cannot add user header metadata (docs/formats/avro.md).
//
// Encoder: appends the binary encoding of primitive values to a buffer; the caller encodes a
// record by writing its fields in schema order. ContainerWriter: collects encoded records and
// produces a whole container file (header with the schema JSON as given, byte for byte, and the
// user metadata; blocks of at most `records_per_block` records). Decoder/ReadContainer: the
// reverse, for files eddy reads back (the previous manifest list of a table); every read is
// bounds-checked and a malformed file is kCorruption naming what is wrong, never a crash.
//
// Plain value types; one thread at a time per object. Nothing here does I/O.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"

namespace eddy::avro {

enum class Codec : uint8_t {
  kNull = 0,     // blocks stored as encoded
  kDeflate = 1,  // each block's data compressed with raw deflate (RFC 1951)
};
// "null" or "deflate".
Result<Codec> ParseCodec(std::string_view name);
std::string_view CodecName(Codec codec);

class Encoder {
 public:
  void Null() {}
  void Boolean(bool value) { out_.push_back(value ? '\1' : '\0'); }
  void Int(int32_t value) { Long(value); }
  void Long(int64_t value) { PutVarintSigned64(out_, value); }
  void Double(double value);
  void String(std::string_view text) { Bytes(text); }
  void Bytes(std::string_view bytes);
  // A union: the branch's index; the caller then writes the branch's value (nothing for null).
  void UnionIndex(int64_t index) { Long(index); }
  // An array or map of `count` items: the block count (when count > 0), the caller's items,
  // then EndBlocks().
  void BeginBlock(int64_t count) {
    if (count > 0) Long(count);
  }
  void EndBlocks() { Long(0); }

  const std::string& bytes() const { return out_; }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

class Decoder {
 public:
  explicit Decoder(std::string_view bytes) : reader_(bytes) {}
  Result<bool> Boolean();
  Result<int32_t> Int();
  Result<int64_t> Long();
  Result<double> Double();
  Result<std::string_view> Bytes();
  Result<std::string_view> String() { return Bytes(); }
  // A union index in [0, branches); anything else is kCorruption.
  Result<int64_t> UnionIndex(int64_t branches);
  // The next block count of an array or map: > 0 items follow, 0 ends it (a negative count's
  // block byte size is read and ignored, as the spec allows).
  Result<int64_t> BlockCount();
  // `count` raw bytes (an Avro fixed, a sync marker).
  Result<std::string_view> Fixed(size_t count) { return reader_.ReadBytes(count); }
  bool empty() const { return reader_.empty(); }
  size_t remaining() const { return reader_.remaining(); }

 private:
  ByteReader reader_;
};

struct ContainerOptions {
  Codec codec = Codec::kNull;
  size_t records_per_block = 1000;
  // The 16-byte sync marker; empty: a random one.
  std::string sync;
};

class ContainerWriter {
 public:
  // `schema_json` is stored as "avro.schema" unchanged (so its field-id attributes survive);
  // `metadata` follows in order (keys must not start with "avro.").
  ContainerWriter(std::string schema_json,
                  std::vector<std::pair<std::string, std::string>> metadata,
                  ContainerOptions options = {});
  // One record's binary encoding (an Encoder's bytes).
  void Append(std::string record) { records_.push_back(std::move(record)); }
  size_t record_count() const { return records_.size(); }
  // The whole file.
  [[nodiscard]] Result<std::string> Finish() const;

 private:
  std::string schema_json_;
  std::vector<std::pair<std::string, std::string>> metadata_;
  ContainerOptions options_;
  std::vector<std::string> records_;
};

struct Container {
  std::map<std::string, std::string, std::less<>> metadata;  // includes avro.schema/avro.codec
  Codec codec = Codec::kNull;
  // Every block's (decompressed) data, concatenated: `record_count` encoded records back to back.
  std::string records;
  uint64_t record_count = 0;
};
[[nodiscard]] Result<Container> ReadContainer(std::string_view file);

}  // namespace eddy::avro
