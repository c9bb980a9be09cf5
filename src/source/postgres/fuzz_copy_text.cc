// Fuzz target: a COPY text row from the server (untrusted bytes) splits into values or gives
// Corruption, never a crash; every value views the line or the scratch buffer. The first byte
// picks the expected column count.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "source/postgres/copy_text.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  size_t columns = 1 + data[0] % 16;
  std::string_view line(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::vector<std::optional<std::string_view>> values;
  std::string scratch;
  eddy::Status status = eddy::source::postgres::SplitCopyTextRow(line, columns, values, scratch);
  if (!status.ok()) {
    if (status.code() != eddy::ErrorCode::kCorruption) std::abort();
    return 0;
  }
  if (values.size() != columns) std::abort();
  for (const auto& value : values) {
    if (!value) continue;
    const char* begin = value->data();
    bool in_line = begin >= line.data() && begin + value->size() <= line.data() + line.size();
    bool in_scratch =
        begin >= scratch.data() && begin + value->size() <= scratch.data() + scratch.size();
    if (!in_line && !in_scratch && !value->empty()) std::abort();
  }
  return 0;
}
