// Fuzz target: any bytes given as a prefix or error_prefix (configuration, --sink URLs) either
// parse or give a clean InvalidArgument; a parsed expression evaluates against fixed fields
// without crashing, and its result never holds a ".." segment from a partition value.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "sink/objects/prefix_expression.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using eddy::sink::objects::PrefixExpression;
  using eddy::sink::objects::PrefixKind;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  for (PrefixKind kind : {PrefixKind::kData, PrefixKind::kError}) {
    auto expression = PrefixExpression::Parse(text, kind, "prefix");
    if (!expression.ok()) {
      if (expression.status().code() != eddy::ErrorCode::kInvalidArgument) std::abort();
      continue;
    }
    auto fields = [&](std::string_view name) -> eddy::Result<std::optional<std::string>> {
      if (name.size() % 3 == 0) return std::optional<std::string>();
      if (name.size() % 3 == 1) return eddy::InvalidArgument("missing");
      return std::optional<std::string>(std::string(text.substr(0, 40)));
    };
    for (int64_t nanos : {int64_t{0}, int64_t{1'796'403'909'000'000'000}, int64_t{-1}}) {
      auto value = expression->Evaluate(nanos, fields, "processing-failed");
      if (value.ok() && value->size() > eddy::sink::objects::kMaxPrefixBytes) std::abort();
    }
    std::string escaped = eddy::sink::objects::EscapePartitionValue(text);
    if (escaped.find('/') != std::string::npos || escaped == ".." || escaped == ".") std::abort();
  }
  return 0;
}
