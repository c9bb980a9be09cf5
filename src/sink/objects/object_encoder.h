// How a group of records becomes one object's bytes. The objects destination groups a flush's
// records by their evaluated prefix and hands each group to the encoder: JSON lines (one record
// per line, in the sink's `format`, each line ending in '\n', then compressed). Parquet
// (format=parquet) encodes decoded rows, not lines: the destination groups those by table
// schema too and writes each group with parquet::ParquetWriter (objects_destination.cc).
//
// Thread safety: an encoder is immutable; Encode may run on several threads at once (and starts
// short-lived threads of its own for compression).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "consume/sink.h"
#include "sink/objects/objects_settings.h"

namespace eddy::sink::objects {

class ObjectEncoder {
 public:
  virtual ~ObjectEncoder() = default;
  virtual std::string_view content_type() const = 0;
  // The object's bytes for `lines` (each without a trailing newline), in order.
  virtual Result<std::string> Encode(const std::vector<std::string_view>& lines) const = 0;
};

// JSON lines with `compression` at `level` (GZIP 1-9, ZSTD 1-19; ignored for kNone).
std::unique_ptr<ObjectEncoder> MakeJsonLinesEncoder(Compression compression, int level);

// Compression runs on up to this many threads (the calling one included), at most the
// machine's cores: deflate is the largest cost of a GZIP flush.
inline constexpr unsigned kMaxCompressionThreads = 4;
// GZIP input per member.
inline constexpr size_t kGzipMemberBytes = 1u << 20;

// `bytes` as gzip (RFC 1952) at zlib `level` (1-9): one member per kGzipMemberBytes of input,
// compressed on several threads and concatenated in order. A gzip file is a series of members whose
// contents concatenate (RFC 1952 2.2); gunzip, zcat, DuckDB, Athena and Spark read it as one
// stream. Input up to kGzipMemberBytes gives one member.
Result<std::string> GzipCompress(std::string_view bytes, int level);
// One zstd frame of `bytes` at `level`, with the content size; libzstd's worker threads for
// large inputs (the frame is the same format either way).
Result<std::string> ZstdCompress(std::string_view bytes, int level);

}  // namespace eddy::sink::objects
