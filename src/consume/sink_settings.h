// The sink runner's settings, parsed once at the edge from SinkSpec::settings (TOML keys of a
// `[[sink]]` table or the query parameters of `--sink URL`) into typed values.
//
// Names, defaults and ranges follow AWS Lambda's event source mappings for Kinesis and
// DynamoDB Streams (docs/configuration.md has the table), with snake_case names:
//
//   batch_size                     1..10000, default 100
//   max_batching_window            0..300 s, default 0 (deliver as soon as records are there)
//   batch_bytes                    1 B..6 MiB, default 6 MiB (Lambda's payload cap)
//   parallelization_factor         1..10, default 1 (concurrent batches per stream; per-key
//                                  order holds: a key always goes to the same lane)
//   starting_position              TRIM_HORIZON | LATEST | AT_TIMESTAMP, default TRIM_HORIZON
//                                  (Lambda has no default; a CDC sink starts at the oldest
//                                  record kept so nothing captured is missed)
//   starting_position_timestamp    epoch seconds (decimals allowed), with AT_TIMESTAMP
//   maximum_retry_attempts         -1..10000, default -1 (retry until it succeeds)
//   maximum_record_age             -1 or 60..604800 s, default -1 (no limit)
//   bisect_batch_on_function_error true | false, default false
//   on_failure                     where given-up records go: a file name in the data
//                                  directory, or an http(s) URL (delivered by the webhook
//                                  module); default DATA/failures/<sink>.jsonl
//   format                         any format::RendererNames(), default native
//   view_type                      KEYS_ONLY | NEW_IMAGE | OLD_IMAGE | NEW_AND_OLD_IMAGES,
//                                  default the stream's view type
//   max_backlog                    how far behind a sink may fall before it fails and stops
//                                  holding retention, default 7d
//   filter                         a Lambda filter pattern; applied through the filter hook
//                                  the engine registers (SinkRunnerOptions::filter)
//
// Durations take plain seconds ("60", as the AWS APIs name them) or eddy's duration strings
// ("60s", "5m", "500ms"; base/duration.h). Keys not listed are the destination's: the runner
// leaves them alone and the destination rejects the ones it does not know.
//
// Thread safety: values and pure functions.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "consume/sink.h"
#include "format/renderer.h"

namespace eddy::consume {

enum class StartingPosition : uint8_t {
  kTrimHorizon = 0,
  kLatest = 1,
  kAtTimestamp = 2,
};
std::string_view StartingPositionName(StartingPosition position);

enum class OnFailureKind : uint8_t {
  kFile = 0,     // JSON lines appended to a file in the data directory
  kWebhook = 1,  // POSTed by the webhook module (SinkRunnerOptions::failure_handler)
};

struct OnFailureTarget {
  OnFailureKind kind = OnFailureKind::kFile;
  std::string file_path;  // kFile: the full path (DATA/failures/<sink>.jsonl by default)
  std::string url;        // kWebhook
};

inline constexpr uint32_t kMaxBatchSize = 10'000;
inline constexpr uint64_t kDefaultBatchBytes = 6u << 20;
inline constexpr uint32_t kMaxParallelizationFactor = 10;
inline constexpr int32_t kMaxRetryAttempts = 10'000;

struct SinkSettings {
  uint32_t batch_size = 100;
  std::chrono::milliseconds max_batching_window{0};
  uint64_t batch_bytes = kDefaultBatchBytes;
  uint32_t parallelization_factor = 1;
  StartingPosition starting_position = StartingPosition::kTrimHorizon;
  int64_t starting_position_timestamp_nanos = 0;                // with kAtTimestamp
  int32_t maximum_retry_attempts = -1;                          // -1: no limit
  std::optional<std::chrono::milliseconds> maximum_record_age;  // nullopt: no limit
  bool bisect_batch_on_function_error = false;
  OnFailureTarget on_failure;
  std::string format = "native";              // a format::RendererNames() entry
  std::optional<format::ViewType> view_type;  // nullopt: the stream's eddy:view_type tag
  std::chrono::milliseconds max_backlog{7LL * 24 * 3600 * 1000};
  std::string filter;  // a Lambda filter pattern; empty: none
};

// Parses the runner's keys of `spec.settings` (and the defaults that depend on the spec, such
// as the on_failure file of the sink's name). kInvalidArgument naming the key, the value and
// what is allowed: "sink 'orders' setting batch_size = '0': must be 1-10000".
Result<SinkSettings> ParseSinkSettings(const SinkSpec& spec);

// True for the keys ParseSinkSettings owns.
bool IsRunnerSetting(std::string_view key);

// The settings that are not the runner's: what the destination parses.
std::map<std::string, std::string> DestinationSettings(const SinkSpec& spec);

}  // namespace eddy::consume
