// Fuzz target: any bytes as an AWS shared credentials/config file either parse into sections
// or give a clean InvalidArgument; resolving credentials and region over the parsed file
// (through an in-memory file system) never crashes and gives a value or a clear error.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "aws/credentials.h"
#include "io/fault_file_system.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto sections = eddy::aws::ParseIni(text);
  if (!sections.ok() && sections.status().code() != eddy::ErrorCode::kInvalidArgument) {
    std::abort();
  }
  eddy::io::FaultInjectionFileSystem fs;
  if (!fs.CreateDirectories("/home/.aws").ok()) std::abort();
  if (!fs.WriteFileAtomically("/home/.aws/credentials", text).ok()) std::abort();
  if (!fs.WriteFileAtomically("/home/.aws/config", text).ok()) std::abort();
  for (const char* profile : {"default", "dev"}) {
    eddy::aws::EnvLookup env = [profile](std::string_view name) -> std::optional<std::string> {
      if (name == "HOME") return std::string("/home");
      if (name == "AWS_PROFILE") return std::string(profile);
      return std::nullopt;
    };
    auto credentials = eddy::aws::ResolveCredentials(env, fs);
    if (credentials.ok() &&
        (credentials->access_key_id.empty() || credentials->secret_access_key.empty())) {
      std::abort();
    }
    if (!credentials.ok() && credentials.status().message().empty()) std::abort();
    auto region = eddy::aws::ResolveRegion(env, fs);
    if (region.ok() && region->empty()) std::abort();
  }
  return 0;
}
