// Fuzz target: any bytes given as a filter either parse into a pattern or give a clean
// InvalidArgument; a parsed pattern then matches documents (the input itself, and fixed
// records) without crashing. Filters come from configuration and `eddy run --sink` URLs.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "consume/filter_pattern.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto pattern = eddy::consume::FilterPattern::Parse(text);
  if (!pattern.ok()) {
    if (pattern.status().code() != eddy::ErrorCode::kInvalidArgument) std::abort();
    return 0;
  }
  if (pattern->pattern_count() == 0 ||
      pattern->pattern_count() > eddy::consume::FilterPattern::kMaxPatterns) {
    std::abort();
  }
  (void)pattern->MatchesJson(text);
  (void)pattern->MatchesJson(R"({"a":[1,"x",null,{"b":true}],"data":{"n":-1.5e3}})");
  eddy::consume::SinkRecord record;
  record.partition_key = "k";
  record.sequence_number = "1";
  record.data = std::string(text);
  (void)pattern->Matches(record);
  return 0;
}
