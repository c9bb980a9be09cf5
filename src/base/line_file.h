#pragma once

// The shared layout of eddy's small line-oriented state files (runtime resources, alert
// setting overrides): lines of fields separated by one space, each field's bytes outside
// printable ASCII (and '%' and space) written as %XX, so any byte string round-trips and a
// line splits with no quoting rules; the file ends with a trailer line "crc32c XXXXXXXX" (the
// masked CRC-32C of every byte before it), so a torn or damaged write is detected. Pure
// functions, no I/O; each file's own header line and records are its format's business.

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace eddy {

// Appends ' ' and `text` escaped.
void AppendEscapedField(std::string& out, std::string_view text);

// Undoes the escaping of one field into `out`; false for a '%' not followed by two hex digits.
[[nodiscard]] bool DecodeEscapedField(std::string_view field, std::string* out);

// The value of one hex digit (either case), or -1.
int HexDigitValue(char c);

// The fields of a line split at each space (an empty field between two spaces stays).
std::vector<std::string_view> SplitEscapedFields(std::string_view line);

// Appends the trailer for everything in `out` so far.
void AppendCrcTrailer(std::string& out);

// The bytes before a valid trailer; otherwise Corruption saying what is wrong ("no crc32c line
// (a torn write?)", "bad crc32c line", "CRC mismatch"), for the caller to put in context.
[[nodiscard]] Result<std::string_view> BodyBeforeCrcTrailer(std::string_view text);

}  // namespace eddy
