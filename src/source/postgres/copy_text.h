// One row of PostgreSQL's COPY ... TO STDOUT text format, split into its column values.
//
// The format (PostgreSQL's documentation, "COPY", File Formats / Text Format): one row per
// line ending in '\n'; columns separated by a tab; a column that is exactly "\N" is NULL;
// otherwise the column is the type output function's text with backslash escapes: \b \f \n
// \r \t \v for those control characters, \\ for a backslash, \d, \dd or \ddd (octal) and \xh or
// \xhh (hex) for a byte, and a backslash before any other character for that character. The
// unescaped text is exactly what a text-format SELECT returns for the value, which is what
// pgoutput sends for it, so one decoder (pg_types.h) serves the stream and the snapshot.
//
// The bytes come from the server and are treated as untrusted: a wrong column count, a
// trailing backslash or a byte escape that is not one are Corruption, never a crash.
//
// Ownership: the values view either `line` or `scratch`; both must outlive them and `scratch`
// is not to be touched until they are used. Thread safety: none needed (no state).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace eddy::source::postgres {

// Splits `line` (one COPY data message, its final '\n' optional) into exactly `columns`
// values, nullopt for NULL. `values` is cleared first; unescaped values are written to
// `scratch`, which is reserved to the line's size first so the views stay valid.
[[nodiscard]] Status SplitCopyTextRow(std::string_view line, size_t columns,
                                      std::vector<std::optional<std::string_view>>& values,
                                      std::string& scratch);

}  // namespace eddy::source::postgres
