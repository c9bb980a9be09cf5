// Fuzz target: any bytes as DATA/alert-settings either decode or give a kCorruption with a
// message; nothing crashes, and what decodes encodes back to the same bytes (the format has one
// spelling) and applies without error.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "monitor/alert_settings_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto decoded = eddy::monitor::DecodeAlertSettingOverrides(text, "alert-settings");
  if (!decoded.ok()) {
    if (decoded.status().code() != eddy::ErrorCode::kCorruption ||
        decoded.status().message().empty()) {
      std::abort();
    }
    return 0;
  }
  auto again = eddy::monitor::DecodeAlertSettingOverrides(
      eddy::monitor::EncodeAlertSettingOverrides(*decoded), "alert-settings");
  if (!again.ok() || *again != *decoded) std::abort();
  eddy::monitor::AlertSettings settings;
  if (!eddy::monitor::ApplyAlertSettingOverrides(settings, *decoded).ok()) std::abort();
  return 0;
}
