// Sinks created at run time (POST /admin/v1/sinks) are recorded in one file of the data
// directory, DATA/runtime-sinks, so they start again after a restart. Spec:
// docs/formats/runtime-sinks.md.
//
// Layout (text, UTF-8, '\n' line ends; fields separated by one space; every field is
// percent-encoded: '%', bytes below 0x21 and above 0x7e become %XX):
//
//   eddy-runtime-sinks 1                       magic and version
//   sink NAME STREAM URL                       one per sink, in creation order
//   setting KEY VALUE                          the settings of the sink line above
//   crc32c XXXXXXXX                            masked CRC-32C of every byte before this line
//
// Durability: SaveRuntimeSinks replaces the file atomically (io::FileSystem::
// WriteFileAtomically: temp file, fsync, rename, fsync of the directory), so after a crash it
// holds the last saved list or the one before. A file that fails its checks is kCorruption
// naming the file; it is never dropped silently. The URL and settings are stored as given
// (credentials included: the sink needs them to start again), so the data directory must be
// protected like the config file.
//
// Thread safety: pure functions; one writer (the engine's admin lock).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "consume/sink.h"
#include "io/file_system.h"

namespace eddy::engine {

inline constexpr std::string_view kRuntimeSinksFile = "runtime-sinks";
inline constexpr std::string_view kRuntimeSinksMagic = "eddy-runtime-sinks";
inline constexpr int kRuntimeSinksVersion = 1;
// A file larger than this is refused as corrupt (thousands of sinks fit).
inline constexpr size_t kMaxRuntimeSinksBytes = 16u << 20;

std::string EncodeRuntimeSinks(const std::vector<consume::SinkSpec>& sinks);
// `where` names the file in errors.
Result<std::vector<consume::SinkSpec>> DecodeRuntimeSinks(std::string_view text,
                                                          std::string_view where);

// An absent file is an empty list.
Result<std::vector<consume::SinkSpec>> LoadRuntimeSinks(io::FileSystem* fs,
                                                        const std::string& data_dir);
[[nodiscard]] Status SaveRuntimeSinks(io::FileSystem* fs, const std::string& data_dir,
                                      const std::vector<consume::SinkSpec>& sinks);

}  // namespace eddy::engine
