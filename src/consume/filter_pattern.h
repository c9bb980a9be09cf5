// FilterPattern: Lambda's event filtering (FilterCriteria) for sinks: EventBridge pattern
// syntax matched against each record before it is batched; records that match no pattern are
// skipped (and checkpointed past), as Lambda skips them.
//
// Input: one pattern object, or a JSON array of 1 to 5 pattern objects that are OR'd (Lambda's
// default quota of filters per event source mapping), or Lambda's FilterCriteria as written in
// CloudFormation and the API: {"Filters":[{"Pattern":"<a pattern as a JSON string>"}, ...]}.
//
// What a pattern is matched against (Lambda's record shapes):
//   kKinesis (default): {"kinesisSchemaVersion":"1.0","partitionKey","sequenceNumber",
//     "approximateArrivalTimestamp", "data": <the rendered record parsed as JSON>}; when the
//     record is not JSON, `data` is absent (a pattern on data then matches only through
//     {"exists": false}), as Lambda does not match non-JSON data.
//   kDynamoDb: the record's DynamoDB Streams shape ({"eventName","dynamodb":{"Keys",
//     "NewImage","OldImage",...},...}), rendered from the record's change event with the given
//     view type (a record without an event, or without a DynamoDB representation, matches
//     nothing).
//
// Syntax (https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventfiltering.html):
//   {"field": {"nested": [<matcher>, ...]}}  every field of an object must match (AND); the
//   list of a leaf matches when any matcher does (OR); a record value that is an array
//   matches when any element does. Matchers:
//     "text", 12.5, true, null  equal (strings character by character, numbers by their
//                               JSON spelling: 300 is not 300.0); [null] needs a present null,
//                               [""] an empty string
//     {"prefix": "s"}, {"suffix": "s"}, {"equals-ignore-case": "s"}   strings only
//     {"anything-but": v | [v, ...] | {"prefix"|"suffix"|"equals-ignore-case": "s"}}
//                               present and not equal to any (not matching the string test)
//     {"numeric": ["=", n] | [">"|">=", n] | ["<"|"<=", n] | [">"|">=", n, "<"|"<=", m]}
//                               JSON numbers compared as values
//     {"exists": true|false}    the field is present with a non-object value / is absent
// Parse errors are InvalidArgument naming the pattern, the field path and what is wrong.
//
// Thread safety: immutable after Parse; Matches may be called from any number of threads.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "consume/sink.h"
#include "format/renderer.h"

namespace eddy::consume {

enum class FilterSubject : uint8_t {
  kKinesis = 0,   // Lambda's Kinesis record: metadata plus `data`
  kDynamoDb = 1,  // Lambda's DynamoDB Streams record
};

struct FilterOptions {
  FilterSubject subject = FilterSubject::kKinesis;
  // kDynamoDb: the images the rendered record carries (the sink's view_type).
  format::ViewType view_type = format::ViewType::kNewAndOldImages;
};

class FilterPattern {
 public:
  // At most this many OR'd patterns.
  static constexpr size_t kMaxPatterns = 5;

  static Result<FilterPattern> Parse(std::string_view json_array_or_object,
                                     FilterOptions options = {});

  // True when any pattern matches the record (see the shapes above).
  bool Matches(const SinkRecord& record) const;
  // True when any pattern matches `document` (JSON text); false for text that is not JSON
  // or nests deeper than 512 levels.
  bool MatchesJson(std::string_view document) const;

  size_t pattern_count() const;

  // Internal representation (filter_pattern.cc); public so the matcher types stay local.
  struct Node;

 private:
  FilterPattern() = default;
  std::shared_ptr<const std::vector<Node>> patterns_;
  FilterOptions options_;
};

}  // namespace eddy::consume
