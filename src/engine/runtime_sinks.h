// What is created at run time (sources and streams through the admin or DSQL API, sinks
// through POST /admin/v1/sinks) is recorded in one file of the data directory,
// DATA/runtime-sinks, so it starts again after a restart. Spec: docs/formats/runtime-sinks.md.
//
// Layout (text, UTF-8, '\n' line ends; fields separated by one space; every field is
// percent-encoded: '%', bytes below 0x21 and above 0x7e become %XX):
//
//   eddy-runtime-sinks 2                       magic and version (1: sink lines only)
//   source NAME URL                            version 2: one per source, creation order
//   stream NAME SOURCE                         version 2: one per stream, creation order
//   sink NAME STREAM URL                       one per sink, in creation order
//   setting KEY VALUE                          the settings of the source/stream/sink above
//   crc32c XXXXXXXX                            masked CRC-32C of every byte before this line
//
// A file with sinks only is written as version 1 (byte for byte what earlier versions wrote),
// so a data directory without run-time sources or streams stays readable by them.
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

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "consume/sink.h"
#include "io/file_system.h"

namespace eddy::engine {

inline constexpr std::string_view kRuntimeSinksFile = "runtime-sinks";
inline constexpr std::string_view kRuntimeSinksMagic = "eddy-runtime-sinks";
inline constexpr int kRuntimeSinksVersion = 1;      // sinks only
inline constexpr int kRuntimeResourcesVersion = 2;  // sources, streams and sinks
// A file larger than this is refused as corrupt (thousands of sinks fit).
inline constexpr size_t kMaxRuntimeSinksBytes = 16u << 20;

// A source or stream as recorded: its name, its URL (source) or source name (stream), and
// its settings as text (engine/config.h's SourceConfig/StreamConfig keys; the engine turns
// them into values with ApplySourceSetting/ApplyStreamSetting).
struct RuntimeSource {
  std::string name;
  std::string url;
  std::map<std::string, std::string> settings;
};
struct RuntimeStream {
  std::string name;
  std::string source;
  std::map<std::string, std::string> settings;
};
struct RuntimeResources {
  std::vector<RuntimeSource> sources;
  std::vector<RuntimeStream> streams;
  std::vector<consume::SinkSpec> sinks;
};

std::string EncodeRuntimeResources(const RuntimeResources& resources);
// `where` names the file in errors. Names are unique within each kind.
Result<RuntimeResources> DecodeRuntimeResources(std::string_view text, std::string_view where);

// The sinks-only forms (version 1 when there are no sources or streams).
std::string EncodeRuntimeSinks(const std::vector<consume::SinkSpec>& sinks);
Result<std::vector<consume::SinkSpec>> DecodeRuntimeSinks(std::string_view text,
                                                          std::string_view where);

// An absent file is an empty list.
Result<RuntimeResources> LoadRuntimeResources(io::FileSystem* fs, const std::string& data_dir);
[[nodiscard]] Status SaveRuntimeResources(io::FileSystem* fs, const std::string& data_dir,
                                          const RuntimeResources& resources);

}  // namespace eddy::engine
