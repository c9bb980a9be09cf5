// The column metrics of a manifest entry (Iceberg spec, "Manifests": column_sizes,
// value_counts, null_value_counts, nan_value_counts, lower_bounds, upper_bounds), taken from
// the statistics the Parquet writer gathered while writing the file.
//
// Bounds are what readers prune files by, so a wrong bound silently drops live rows from a
// query. eddy therefore writes a bound only where every Iceberg reader orders values as the
// Parquet writer did (docs/formats/iceberg.md, "Column bounds"): never for uuid (Java compares
// UUIDs signed), never for a 64-bit unsigned column kept as long (readers compare signed), and
// for strings only when the bound holds no code point at or above U+E000 (Java compares UTF-16
// code units, which order such characters differently from UTF-8 bytes). Counts are always
// exact.
//
// Pure functions, no I/O, thread-compatible.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "iceberg/manifest.h"
#include "iceberg/table_metadata.h"
#include "parquet/writer.h"

namespace eddy::iceberg {

// Fills `file`'s column metrics (replacing any) from `summary`, for the columns of `schema`
// that the file's columns name by field id; columns without a field id are skipped.
void SetColumnMetrics(const Schema& schema, const parquet::FileSummary& summary, DataFile* file);

enum class BoundKind { kLower, kUpper };

// `parquet_bound` (a min_value or max_value of `column`, encoded as Parquet statistics are) in
// Iceberg's single-value binary serialization for a field of `iceberg_type` (spec, Appendix D);
// nullopt where eddy writes no bound (see above). A floating-point zero is widened to cover
// both signed zeros (-0.0 as a lower bound, +0.0 as an upper one).
std::optional<std::string> IcebergBound(std::string_view iceberg_type,
                                        const parquet::ColumnStatistics& column,
                                        std::string_view parquet_bound, BoundKind kind);

}  // namespace eddy::iceberg
