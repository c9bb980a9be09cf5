// ParquetReader: reads flat Parquet files (one leaf column per top-level field, no nesting)
// into typed model::Values: the files eddy's writer writes and the files other engines
// (DuckDB, hyparquet-writer, Spark/Iceberg writers) write into Iceberg tables.
//
// What it decodes (docs/formats/parquet.md, "Reading"):
// - data pages v1 (levels inside the compressed body) and v2 (levels before it, uncompressed);
//   dictionary pages;
// - PLAIN, PLAIN_DICTIONARY / RLE_DICTIONARY values, RLE booleans, RLE/bit-packed hybrid
//   definition levels (max level 1: OPTIONAL or REQUIRED leaves at the top level);
// - UNCOMPRESSED, SNAPPY, GZIP and ZSTD pages;
// - the logical types of eddy's type matrices: integers (8..64 bits, signed or unsigned),
//   DECIMAL (INT32, INT64, FIXED_LEN_BYTE_ARRAY, BYTE_ARRAY; as decimal text), DATE,
//   TIME and TIMESTAMP (MILLIS/MICROS/NANOS, UTC-adjusted or local; as microseconds),
//   INT96 timestamps, STRING/ENUM/JSON, UUID, plain binary, float and double. Both LogicalType
//   and the legacy ConvertedType annotations are understood.
// Anything else (nested or repeated columns, other encodings or codecs) is
// kFailedPrecondition naming what is not supported; it never guesses.
//
// Untrusted bytes: every read is bounds-checked in every build type (no assert-only checks);
// page sizes, value counts and decompressed sizes are checked against the file's size and
// fixed limits before anything is allocated (kMaxRowsPerByte, kMaxPageBytes), so a small file
// cannot make the reader allocate without bound. Malformed input is kCorruption.
//
// Ownership and threads: Open keeps a view of the file's bytes; the caller keeps them alive
// and unchanged while the reader is used. A reader is immutable after Open: const methods may
// be called from several threads at once.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "model/value.h"
#include "parquet/parquet_format.h"

namespace eddy::parquet {

// What a column's annotation makes of its physical values.
enum class ReadLogical : uint8_t {
  kNone = 0,   // the physical type itself (BYTE_ARRAY without annotation: bytes)
  kString,     // STRING / UTF8 / ENUM: text
  kJson,       // JSON: JSON text
  kInteger,    // INT(bits, signed): int64, or uint64 when unsigned
  kDecimal,    // DECIMAL(precision, scale): decimal text
  kDate,       // DATE: days
  kTime,       // TIME: microseconds of the day
  kTimestamp,  // TIMESTAMP: microseconds (utc: an instant; else wall clock)
  kUuid,       // UUID (FIXED_LEN_BYTE_ARRAY(16))
};

enum class TimeUnit : uint8_t { kMillis = 0, kMicros = 1, kNanos = 2 };

struct ReaderColumn {
  std::string name;
  std::optional<int32_t> field_id;
  format::Type physical = format::Type::kByteArray;
  int32_t type_length = 0;  // FIXED_LEN_BYTE_ARRAY
  bool optional = true;
  ReadLogical logical = ReadLogical::kNone;
  int32_t precision = 0;  // kDecimal
  int32_t scale = 0;      // kDecimal
  int32_t bit_width = 0;  // kInteger (8, 16, 32, 64)
  bool is_signed = true;  // kInteger
  bool utc = false;       // kTimestamp, kTime
  TimeUnit unit = TimeUnit::kMicros;
};

class ParquetReader {
 public:
  // Limits for untrusted input: a file holds at most max(kMinRowLimit, kMaxRowsPerByte * its
  // size) rows (a run-length encoded page can describe many rows in few bytes; real files
  // spend far more than a byte per 64 rows), and no page decompresses to more than
  // kMaxPageBytes.
  static constexpr uint64_t kMaxRowsPerByte = 64;
  static constexpr uint64_t kMinRowLimit = 1 << 16;
  static constexpr uint64_t kMaxPageBytes = 1ull << 30;

  // Parses the footer of `file` (the whole file's bytes; a view is kept).
  static Result<ParquetReader> Open(std::string_view file);

  const std::vector<ReaderColumn>& columns() const { return columns_; }
  uint64_t row_count() const { return row_count_; }
  size_t row_group_count() const { return row_groups_.size(); }
  const std::vector<std::pair<std::string, std::string>>& key_value_metadata() const {
    return key_value_metadata_;
  }
  // The value of footer metadata `key`, or nullopt.
  std::optional<std::string_view> Metadata(std::string_view key) const;
  // The index of the column with Parquet field id `field_id`, or nullopt.
  std::optional<size_t> ColumnWithFieldId(int32_t field_id) const;

  // The values of column `column` in row group `group`, one per row (NULL for a null).
  Result<std::vector<model::Value>> ReadColumn(size_t group, size_t column) const;

  // Every row of the file, fields named and ordered as columns() (NULLs included).
  Result<std::vector<model::Row>> ReadRows() const;

  // Implementation detail (public for the .cc's helpers): one column chunk's location.
  struct Chunk {
    int32_t codec = 0;  // parquet.thrift CompressionCodec
    int64_t num_values = 0;
    int64_t start = 0;  // the dictionary page's offset when there is one, else the first page's
    int64_t total_compressed_size = 0;
  };
  struct RowGroup {
    int64_t num_rows = 0;
    std::vector<Chunk> chunks;  // one per column
  };

 private:
  std::string_view file_;
  std::vector<ReaderColumn> columns_;
  std::vector<RowGroup> row_groups_;
  std::vector<std::pair<std::string, std::string>> key_value_metadata_;
  uint64_t row_count_ = 0;
};

}  // namespace eddy::parquet
