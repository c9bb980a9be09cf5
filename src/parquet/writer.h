// ParquetWriter: writes one Parquet file of a table's rows, typed from the table's catalog
// schema (model::TableSchema), never from the data: a column that is NULL in every row is still
// a typed column of the file.
//
// What the file holds (docs/formats/parquet.md has the layout and the full type mapping):
// - one flat column per table column, in the schema's order, OPTIONAL (nullable) or REQUIRED;
// - optionally the CDC columns after them (CdcColumns below): the change's operation, commit
//   time, source position and transaction id;
// - DataPage V1 pages, PLAIN values, RLE definition levels, each page compressed on its own
//   (SNAPPY, ZSTD or none); several pages per column chunk and several row groups per file;
// - statistics (min/max in the type's defined order, null count) per column chunk, column orders,
//   LogicalType plus the legacy ConvertedType, field ids when given (Iceberg), key-value metadata.
//
// Memory: the writer buffers one row group at most (its column chunks must be contiguous in the
// file). A row group is closed when its buffered, compressed bytes reach
// WriterOptions::row_group_bytes or its rows reach row_group_rows; a page is closed when its
// encoded values reach page_bytes or its rows reach page_rows. So memory is bounded by about
// row_group_bytes + one open page per column, whatever the number of rows appended.
//
// Output: an io::File (appended to, never synced: the caller decides durability, usually a
// Sync() and a rename after Finish()) or a std::string the caller owns. The writer never seeks;
// offsets in the footer count from the first byte it wrote, so the output must start empty.
//
// Thread safety: one thread at a time per writer. Ownership: the writer keeps a pointer to the
// output (File or string) given to Open*; the caller keeps it alive until Finish() or until the
// writer is destroyed. An error that refuses a call before anything of it is appended (an
// event that is not a row change, AppendRow with the CDC columns on) leaves the writer usable.
// Any other error from Append*/Finish (a value that does not fit its column, an output error)
// makes it unusable: every later call returns that error and the output holds a partial file
// the caller discards.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "io/file_system.h"
#include "model/event.h"
#include "model/schema.h"
#include "model/value.h"

namespace eddy::parquet {

// Page body compression. Parsed once at the edge with ParseCompression.
enum class Compression : uint8_t {
  kNone = 0,
  kSnappy = 1,  // raw snappy block format (libsnappy), Parquet's SNAPPY codec
  kZstd = 2,    // one zstd frame per page (libzstd), Parquet's ZSTD codec
};
// "none" (also "uncompressed"), "snappy", "zstd"; case-insensitive.
Result<Compression> ParseCompression(std::string_view text);
std::string_view CompressionName(Compression compression);  // "none", "snappy", "zstd"

// The CDC columns appended after the table's columns when WriterOptions::cdc_columns is set.
// Names and types (docs/formats/parquet.md):
//   _eddy_op              STRING, REQUIRED   "c" insert, "u" update, "d" delete, "r" snapshot read
//   _eddy_commit_time     TIMESTAMP(MICROS, UTC-adjusted) INT64, REQUIRED   source commit time
//   _eddy_position        STRING, REQUIRED   the source position, SourcePosition::ToString()
//                                            ("lsn 16/B374D848 (commit end 16/B374D900)")
//   _eddy_transaction_id  STRING, OPTIONAL   source transaction id (NULL when the source gave none)
inline constexpr std::string_view kCdcOpColumn = "_eddy_op";
inline constexpr std::string_view kCdcCommitTimeColumn = "_eddy_commit_time";
inline constexpr std::string_view kCdcPositionColumn = "_eddy_position";
inline constexpr std::string_view kCdcTransactionIdColumn = "_eddy_transaction_id";
inline constexpr int kCdcColumnCount = 4;

struct WriterOptions {
  Compression compression = Compression::kSnappy;
  // zstd level when compression is kZstd (1..22).
  int zstd_level = 3;
  // A row group is closed when its buffered (compressed) bytes reach this, or its rows reach
  // row_group_rows. Bounds the writer's memory.
  uint64_t row_group_bytes = 64ull << 20;
  uint64_t row_group_rows = 1'000'000;
  // A page is closed when its encoded (uncompressed) values reach this, or its rows reach
  // page_rows.
  uint64_t page_bytes = 1ull << 20;
  uint64_t page_rows = 20'000;
  // Append the CDC columns (names above) after the table's columns. Rows are then appended with
  // AppendEvent (AppendRow fails, as it has no CDC values).
  bool cdc_columns = false;
  // Parquet field ids (SchemaElement.field_id), as Iceberg requires: empty for none, otherwise
  // one per written column in file order (the table's columns, then the CDC columns when on).
  std::vector<int32_t> field_ids;
  // FileMetaData.key_value_metadata, in this order (Iceberg: "iceberg.schema").
  std::vector<std::pair<std::string, std::string>> key_value_metadata;
  // UUID columns as FIXED_LEN_BYTE_ARRAY(16) + UUID (Iceberg's mapping; the default), or as
  // STRING in canonical text form, which plain Spark (without Iceberg) can read.
  bool uuid_as_string = false;
  // Binary statistics (strings, bytes) longer than this are truncated: the minimum to a
  // prefix, the maximum to a prefix incremented in its last character, both flagged inexact.
  // A maximum that cannot be incremented is omitted.
  size_t statistics_truncate_bytes = 64;
};

// The Parquet physical types (parquet.thrift Type), as the writer picks them per column.
enum class PhysicalType : uint8_t {
  kBoolean = 0,
  kInt32 = 1,
  kInt64 = 2,
  kFloat = 4,
  kDouble = 5,
  kByteArray = 6,
  kFixedLenByteArray = 7,
};

// How one table column is written; derived from the catalog schema alone (ColumnLayoutFor).
struct ColumnLayout {
  std::string name;
  PhysicalType physical = PhysicalType::kByteArray;
  int32_t type_length = 0;  // kFixedLenByteArray only
  bool optional = true;     // OPTIONAL (nullable) or REQUIRED
  // A short description of the logical type, for docs and errors: "INT(16,signed)",
  // "DECIMAL(10,2)", "TIMESTAMP(MICROS,UTC)", "STRING", "UUID", ...
  std::string logical;
};
// The layout the writer uses for `column` of `schema` (docs/formats/parquet.md has the table).
// The table matters for one type: TIME is a time of day in PostgreSQL (Parquet TIME) but a
// signed duration up to ±838 hours in MySQL/MariaDB (tables whose TableId::schema is empty),
// which Parquet TIME cannot hold, so MySQL TIME columns are STRING ("-838:59:59.000000").
ColumnLayout ColumnLayoutFor(const model::TableSchema& schema, const model::Column& column,
                             const WriterOptions& options);

// Per-column figures of a finished file, in file order (table columns, then CDC columns): what
// Iceberg manifests record (value_counts, null_value_counts, nan_value_counts, column_sizes,
// lower_bounds, upper_bounds).
struct ColumnStatistics {
  std::string name;
  std::optional<int32_t> field_id;
  PhysicalType physical = PhysicalType::kByteArray;
  std::string logical;       // the column's ColumnLayout::logical ("INT(32,unsigned)", ...)
  uint64_t value_count = 0;  // values including nulls (= rows)
  uint64_t null_count = 0;
  uint64_t nan_count = 0;           // float/double columns: NaN values (never part of min/max)
  uint64_t compressed_bytes = 0;    // the column's chunks on disk, page headers included
  uint64_t uncompressed_bytes = 0;  // the same before compression
  // Bounds over the non-null (and non-NaN) values; unset when there is none, or when the
  // maximum was too long to truncate upwards. Encoded as Parquet statistics are (PLAIN without
  // a length prefix): little-endian INT32/INT64 (unsigned columns: the bit pattern),
  // little-endian IEEE floats, raw bytes for BYTE_ARRAY/FIXED_LEN_BYTE_ARRAY (DECIMAL in FLBA:
  // big-endian two's complement). `*_exact` is false when the bound was truncated.
  std::optional<std::string> min_value;
  std::optional<std::string> max_value;
  bool min_exact = true;
  bool max_exact = true;
};

struct FileSummary {
  uint64_t file_bytes = 0;  // the file's exact size (Iceberg's file_size_in_bytes)
  uint64_t row_count = 0;
  uint32_t row_group_count = 0;
  std::vector<ColumnStatistics> columns;
};

class ParquetWriter {
 public:
  // Starts a file of `schema`'s rows written to `file` (which must be empty; appended to, not
  // synced). Fails with kInvalidArgument on options that cannot work (field id count, sizes,
  // zstd level, a column without a name or with duplicate names).
  static Result<std::unique_ptr<ParquetWriter>> Open(const model::TableSchema& schema,
                                                     const WriterOptions& options, io::File* file);
  // The same, written into `out` (cleared first).
  static Result<std::unique_ptr<ParquetWriter>> OpenBuffer(const model::TableSchema& schema,
                                                           const WriterOptions& options,
                                                           std::string* out);

  virtual ~ParquetWriter() = default;

  // Appends one row image. Fields are matched to the schema's columns by name (a row in the
  // schema's order is matched without lookups); a column missing from the row, a NULL and an
  // Unavailable value (unchanged TOAST) are written as NULL; a field naming no column is an
  // error. A value whose type does not fit its column's type is kInvalidArgument naming the
  // column and both types. Not allowed when cdc_columns is on.
  [[nodiscard]] virtual Status AppendRow(const model::Row& row) = 0;

  // Appends the event's row image with the CDC column values: `after` for c/u/r, `before` for d
  // (a delete's key-only before image leaves the other columns NULL). Only row changes
  // (model::IsRowChange) are accepted. Without cdc_columns the CDC values are dropped.
  [[nodiscard]] virtual Status AppendEvent(const model::ChangeEvent& event) = 0;

  // AppendEvent for an event in its stored encoding (model/event_codec.h, what the change log
  // holds), decoded straight into the columns without building a ChangeEvent: the same row,
  // values and errors as AppendEvent(DecodeEvent(encoded)). Bytes that do not decode are
  // kCorruption, and make the writer unusable.
  [[nodiscard]] virtual Status AppendStoredEvent(std::string_view encoded) = 0;

  // Rows appended so far, and the bytes written to the output so far plus the bytes buffered
  // (an estimate of the file's size, for callers that roll files by size).
  virtual uint64_t row_count() const = 0;
  virtual uint64_t estimated_bytes() const = 0;

  // Writes the remaining row group and the footer. The output then holds a complete file of
  // exactly summary.file_bytes bytes. Call once; later Append* calls fail.
  [[nodiscard]] virtual Result<FileSummary> Finish() = 0;
};

}  // namespace eddy::parquet
