#pragma once

// The field encoding of eddy's small line-oriented state files (runtime resources, alert
// setting overrides): fields separated by one space, each field's bytes outside printable
// ASCII (and '%' and space) written as %XX. Any byte string round-trips; a line splits into
// fields with no quoting rules. Pure functions, no I/O.

#include <string>
#include <string_view>
#include <vector>

namespace eddy {

// Appends ' ' and `text` escaped.
void AppendEscapedField(std::string& out, std::string_view text);

// Undoes the escaping of one field into `out`; false for a '%' not followed by two hex digits.
[[nodiscard]] bool DecodeEscapedField(std::string_view field, std::string* out);

// The value of one hex digit (either case), or -1.
int HexDigitValue(char c);

// The fields of a line split at each space (an empty field between two spaces stays).
std::vector<std::string_view> SplitEscapedFields(std::string_view line);

}  // namespace eddy
