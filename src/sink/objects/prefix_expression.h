// Firehose's S3 prefix expressions, parsed once when the sink is configured and evaluated per
// record:
//
//   literal text                        copied
//   !{timestamp:PATTERN}                the record's arrival time (UTC) formatted with a
//                                       subset of Java's DateTimeFormatter: yyyy uuuu yy MM
//                                       dd HH mm ss, 'quoted text', '' for a quote; other
//                                       non-letters literal
//   !{partitionKeyFromQuery:NAME}       a field of the record as delivered (NAME a dotted
//                                       path: source.table, after.region, metadata.table-name)
//   !{firehose:error-output-type}       why records failed (error_prefix only)
//
// `!{firehose:random-string}` and `!{partitionKeyFromLambda:...}` are refused: a random part
// would give a retried flush a new key (a duplicate object), and eddy runs no Lambda.
// Partition values are escaped the way Hive escapes partition values (bytes outside
// A-Z a-z 0-9 - _ . ~ become %XX), so a value never adds a '/' or a ".." segment to a key;
// null and "" become __HIVE_DEFAULT_PARTITION__.
//
// Thread safety: an expression is immutable once parsed; Evaluate may run on any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace eddy::sink::objects {

// Firehose's limit on an evaluated prefix.
inline constexpr size_t kMaxPrefixBytes = 512;
inline constexpr std::string_view kHiveDefaultPartition = "__HIVE_DEFAULT_PARTITION__";

enum class PrefixKind : uint8_t {
  kData = 0,   // `prefix`: no error-output-type
  kError = 1,  // `error_prefix`: must hold !{firehose:error-output-type}; no partition keys
};

// A field's value for !{partitionKeyFromQuery:NAME}: the text of a string, number or boolean;
// nullopt for a JSON null. An error when the field is missing or not a scalar.
using FieldLookup = std::function<Result<std::optional<std::string>>(std::string_view name)>;

class PrefixExpression {
 public:
  // InvalidArgument naming `setting`, the offending part and the fix.
  static Result<PrefixExpression> Parse(std::string_view text, PrefixKind kind,
                                        std::string_view setting);

  // The prefix for one record. Errors (a missing field, a result over 512 bytes) name the
  // expression; the record then goes to the error prefix.
  Result<std::string> Evaluate(int64_t arrival_nanos, const FieldLookup& fields,
                               std::string_view error_output_type = {}) const;

  bool has_timestamp() const { return has_timestamp_; }
  // The field paths the expression reads, in order of first use.
  const std::vector<std::string>& fields() const { return fields_; }
  const std::string& text() const { return text_; }

 private:
  enum class PartKind : uint8_t { kLiteral, kTimestamp, kField, kErrorOutputType };
  enum class TimeToken : uint8_t {
    kLiteral,
    kYear4,
    kYear2,
    kMonth,
    kDay,
    kHour,
    kMinute,
    kSecond
  };
  struct TimePart {
    TimeToken token;
    std::string literal;
  };
  struct Part {
    PartKind kind;
    std::string text;            // literal text, or the field path
    std::vector<TimePart> time;  // kTimestamp
  };

  static Result<std::vector<TimePart>> ParseTimestampPattern(std::string_view pattern,
                                                             std::string_view setting);

  std::string text_;
  std::vector<Part> parts_;
  std::vector<std::string> fields_;
  bool has_timestamp_ = false;
};

// Hive's escaping of one partition value (see above).
std::string EscapePartitionValue(std::string_view value);

}  // namespace eddy::sink::objects
