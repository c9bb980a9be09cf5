// Fuzz target: the replication stream decoders must return a value or Corruption for any
// bytes, never crash or read out of bounds. The first byte selects the decode context.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "source/postgres/pg_types.h"
#include "source/postgres/pgoutput.h"

using namespace eddy::source::postgres;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  DecodeContext context{(data[0] & 1) != 0, (data[0] & 2) != 0};
  auto copy = DecodeCopyData(bytes);
  if (!copy.ok() && copy.status().code() != eddy::ErrorCode::kCorruption) std::abort();
  auto message = DecodePgOutput(bytes, context);
  if (!message.ok()) {
    if (message.status().code() != eddy::ErrorCode::kCorruption) std::abort();
  } else {
    (void)PgOutputMessageName(*message);
  }
  // Text values: every type the decoder models, on the same bytes.
  static const uint32_t kTypes[] = {16,   20,   700,  701,  1700, 17,   1082, 1083, 1114,
                                    1184, 1186, 1266, 2950, 1560, 1007, 1009, 1020, 1185};
  eddy::source::postgres::TypeRegistry registry;
  auto value = DecodeTextValue(kTypes[data[0] % (sizeof(kTypes) / sizeof(kTypes[0]))], bytes, registry);
  if (!value.ok() && value.status().code() != eddy::ErrorCode::kCorruption) std::abort();
  if (value.ok()) (void)value->DebugString();
  return 0;
}
