// The settings an OpenSearch destination owns, parsed once from a consume::SinkSpec
// (docs/sinks/opensearch.md has the table). The runner's settings (filter, retries, ...) are
// the runner's and skipped here; the runner's batch limits are replaced by the bulk limits
// below through Destination::Batching.
//
// URL: opensearch+http://[USER:PASSWORD@]HOST:PORT[/PATH] or opensearch+https://...; the same
// sink serves Elasticsearch 7 and 8 (their _bulk API is the same).
//
// Thread safety: values.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "consume/sink.h"

namespace eddy::sink::opensearch {

// Firehose's IndexRotationPeriod: what piece of the record's arrival time (UTC) is appended
// to the index name.
enum class IndexRotation : uint8_t {
  kNoRotation = 0,  // "myindex"
  kOneHour = 1,     // "myindex-2016-02-25-13"
  kOneDay = 2,      // "myindex-2016-02-25"
  kOneWeek = 3,     // "myindex-2016-w08" (weeks start on Sunday; days before the first
                    // Sunday of the year are week 00)
  kOneMonth = 4,    // "myindex-2016-02"
};
// "NoRotation", "OneHour", "OneDay", "OneWeek", "OneMonth" (case-insensitive).
Result<IndexRotation> ParseIndexRotation(std::string_view text);

// The `index` template, parsed: literal text and the placeholders ${db}, ${schema}, ${table}.
struct IndexTemplate {
  enum class Part : uint8_t { kLiteral, kDatabase, kSchema, kTable };
  struct Piece {
    Part part = Part::kLiteral;
    std::string text;  // kLiteral only
  };
  std::vector<Piece> pieces;
};
// InvalidArgument names the problem: an unknown ${...}, an unclosed ${, characters an index
// name cannot hold (\ / * ? " < > | space , # :), upper case.
Result<IndexTemplate> ParseIndexTemplate(std::string_view text);

enum class DecimalMode : uint8_t {
  kString = 0,  // exact digits as a JSON string; mapped as keyword (the default)
  kNumber = 1,  // a JSON number; mapped as scaled_float (scale known) or double
};

struct OpenSearchSettings {
  // "http(s)://host[:port][/path]" without "opensearch+", userinfo, query or trailing '/'.
  std::string endpoint;
  std::string username;  // basic auth, from the URL's userinfo or `username`
  std::string password;
  IndexTemplate index;  // `index`, default "${table}"
  std::string index_text = "${table}";
  IndexRotation rotation = IndexRotation::kNoRotation;
  DecimalMode decimals = DecimalMode::kString;
  // Create each index before its first write with mappings from the source catalog's table
  // schema (a 400 resource_already_exists_exception counts as created).
  bool create_index = false;
  // Bulk request limits: a request holds at most this many actions and NDJSON bytes; the
  // runner's batches are cut at the same documents/bytes (Destination::Batching).
  uint32_t bulk_max_documents = 1000;
  uint64_t bulk_max_bytes = 5u << 20;
  std::chrono::milliseconds bulk_window{100};
  // Rounds of retrying the items that failed retriably (429, 5xx) inside one delivery
  // before the batch goes back to the runner as a retriable failure (IMPAIRED).
  int item_retries = 8;
  std::chrono::milliseconds request_timeout{60'000};
  std::chrono::milliseconds connect_timeout{10'000};
  std::string ca_file;
};

// Parses and checks every setting; InvalidArgument names the key or URL part and the
// accepted values. No I/O.
Result<OpenSearchSettings> ParseOpenSearchSettings(const consume::SinkSpec& spec);

}  // namespace eddy::sink::opensearch
