// DATA/alert-settings: the alert thresholds changed through `PATCH /admin/v1/alerts`, kept in
// the data directory so they survive a restart (docs/formats/alert-settings.md).
//
// The file holds only the keys a PATCH set, each with the text it was given (the text
// ApplyAlertSetting parses, webhook URL credentials included); at start they are applied on
// top of the config file's `[alerts]`, so a key never patched keeps following the config
// file.
//
//   eddy-alert-settings 1            magic and version, the first line
//   set KEY VALUE                    one line per key patched, sorted by key; both fields
//                                    percent-encoded (%, bytes < 0x21 and > 0x7e as %XX)
//   crc32c XXXXXXXX                  masked CRC-32C of every byte before this line
//
// Durability: SaveAlertSettingOverrides writes through io::FileSystem::WriteFileAtomically
// (temp file, fsync, rename, fsync of the directory): after a crash the file holds the
// settings before or after a change, never a mix. A file that fails its checks is
// kCorruption naming the file and line (eddy does not start on it); an absent file is no
// override.
//
// Thread safety: stateless functions.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "base/status.h"
#include "io/file_system.h"
#include "monitor/alerts.h"

namespace eddy::monitor {

inline constexpr std::string_view kAlertSettingsFile = "alert-settings";
inline constexpr std::string_view kAlertSettingsMagic = "eddy-alert-settings";
inline constexpr int kAlertSettingsVersion = 1;
inline constexpr size_t kMaxAlertSettingsBytes = 256 * 1024;

// Key -> the text it was set with.
using AlertSettingOverrides = std::map<std::string, std::string>;

std::string EncodeAlertSettingOverrides(const AlertSettingOverrides& overrides);
// kCorruption naming `where` and the line; every key and value is also checked with
// ApplyAlertSetting (a value eddy would refuse is corruption too).
Result<AlertSettingOverrides> DecodeAlertSettingOverrides(std::string_view text,
                                                          std::string_view where);

// DATA/alert-settings of `data_dir`; empty when the file does not exist.
Result<AlertSettingOverrides> LoadAlertSettingOverrides(io::FileSystem* fs,
                                                        const std::string& data_dir);
[[nodiscard]] Status SaveAlertSettingOverrides(io::FileSystem* fs, const std::string& data_dir,
                                               const AlertSettingOverrides& overrides);

// `settings` with every override applied (ApplyAlertSetting).
[[nodiscard]] Status ApplyAlertSettingOverrides(AlertSettings& settings,
                                                const AlertSettingOverrides& overrides);

}  // namespace eddy::monitor
