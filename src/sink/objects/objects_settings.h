// The settings an objects destination owns (`s3://BUCKET/PREFIX` and `file:///DIR`), parsed
// once from a consume::SinkSpec without I/O. docs/sinks/objects.md has the table. Names,
// defaults and ranges follow Amazon Data Firehose's S3 destination:
//
//   buffer_size_mb     1..128, default 5     flush when this many MiB of records (before
//                                            compression) are buffered
//   buffer_interval    0..900 s, default 300 ... or when the oldest buffered record waited this
//                                            long, whichever comes first (0: at once)
//   prefix             Firehose's Prefix expression, after the URL's PREFIX; without a
//                      !{timestamp:...} the default !{timestamp:yyyy/MM/dd/HH/} is appended
//   error_prefix       default !{firehose:error-output-type}/ (+ the timestamp when absent)
//   format             the runner's `format` (a renderer: the JSON lines of each record), or
//                      `parquet`: one Parquet file per table (and table-schema version) per
//                      flush, typed from the source catalog (parquet/writer.h)
//   compression        JSON lines: UNCOMPRESSED (default) | GZIP | ZSTD;
//                      parquet: SNAPPY (default) | ZSTD | UNCOMPRESSED (GZIP is refused)
//   compression_level  GZIP 1..9, default 1; ZSTD 1..19 (JSON lines) or 1..22 (parquet),
//                      default 3; refused for UNCOMPRESSED and SNAPPY. GZIP's default is zlib's
//                      fastest level: deflate at level 6 costs about 3.5x the CPU of level 1
//                      on JSON lines for about 20% fewer bytes (docs/sinks/objects.md)
//   file_extension     default .json, .json.gz or .json.zst; .parquet for parquet
//   version            the <version> in object names, default 1 (Firehose's stream version)
//   region, endpoint   s3:// only: the bucket's region (default AWS_REGION, else us-east-1)
//                      and a custom endpoint (path-style; http(s)://HOST:PORT)
//   if_none_match      s3:// only: send If-None-Match: * (default true for AWS, false with a
//                      custom endpoint, since s3rver and others ignore it)
//   multipart_threshold_mb, part_size_mb   s3:// only: objects from this size go up in
//                      parts (default 16 and 8; parts are at least 5 MiB on AWS)
//
// The runner's batching keys (batch_size, batch_bytes, max_batching_window) are refused in
// favour of the buffer_* keys, and parallelization_factor must stay 1 (objects are named by the
// first record they hold, which needs one writer in log order; docs/sinks/objects.md).
//
// Thread safety: values.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "base/status.h"
#include "consume/sink.h"
#include "parquet/writer.h"
#include "sink/objects/prefix_expression.h"

namespace eddy::sink::objects {

// Serialized by name in settings.
enum class Compression : uint8_t {
  kNone = 0,  // "UNCOMPRESSED"
  kGzip = 1,  // "GZIP" (zlib)
  kZstd = 2,  // "ZSTD"
};

// What an object holds. Parsed once from the `format` setting.
enum class ObjectFormat : uint8_t {
  kJsonLines = 0,  // the records as the runner rendered them, one per line
  kParquet = 1,    // format=parquet: the row images as typed columns plus the CDC columns
};

// The `format` value that selects Parquet; the runner renders records in its default format
// (native) for prefix evaluation and batching by bytes.
inline constexpr std::string_view kParquetFormat = "parquet";

enum class Backend : uint8_t {
  kFile = 0,  // file:///DIR
  kS3 = 1,    // s3://BUCKET/PREFIX
};

// Records per object at most (besides buffer_size_mb): bounds the memory of one flush.
inline constexpr uint32_t kMaxRecordsPerFlush = 500'000;

struct ObjectsSettings {
  Backend backend = Backend::kFile;
  std::string directory;  // kFile: absolute, without a trailing '/'
  std::string bucket;     // kS3
  std::string region;     // kS3; empty: the AWS chain's region, else us-east-1
  std::string endpoint;   // kS3; empty: AWS
  bool if_none_match = true;
  uint64_t multipart_threshold_bytes = 16u << 20;
  uint64_t part_size_bytes = 8u << 20;

  uint64_t buffer_bytes = 5u << 20;
  std::chrono::milliseconds buffer_interval{300'000};
  PrefixExpression prefix;        // URL prefix + `prefix` (+ the default timestamp)
  PrefixExpression error_prefix;  // URL prefix + `error_prefix` (+ the default timestamp)
  ObjectFormat format = ObjectFormat::kJsonLines;
  Compression compression = Compression::kNone;                              // JSON lines
  parquet::Compression parquet_compression = parquet::Compression::kSnappy;  // kParquet
  // The level of the codec in use (GZIP or ZSTD, JSON lines or Parquet); 0 without a level.
  int compression_level = 0;
  std::string file_extension = ".json";
  uint32_t version = 1;
};

inline constexpr int kDefaultGzipLevel = 1;
inline constexpr int kDefaultZstdLevel = 3;

// Parses and checks every setting; InvalidArgument names the key (or the URL part), the value
// and what is allowed. No I/O.
Result<ObjectsSettings> ParseObjectsSettings(const consume::SinkSpec& spec);

std::string_view CompressionName(Compression compression);

}  // namespace eddy::sink::objects
