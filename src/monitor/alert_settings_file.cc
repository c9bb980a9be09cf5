#include "monitor/alert_settings_file.h"

#include <fmt/format.h>

#include <vector>

#include "base/line_file.h"

namespace eddy::monitor {

std::string EncodeAlertSettingOverrides(const AlertSettingOverrides& overrides) {
  std::string out = fmt::format("{} {}\n", kAlertSettingsMagic, kAlertSettingsVersion);
  for (const auto& [key, value] : overrides) {
    out += "set";
    AppendEscapedField(out, key);
    AppendEscapedField(out, value);
    out += '\n';
  }
  AppendCrcTrailer(out);
  return out;
}

Result<AlertSettingOverrides> DecodeAlertSettingOverrides(std::string_view text,
                                                          std::string_view where) {
  auto corrupt = [&](size_t line_number, std::string_view what) {
    return Corruption(fmt::format(
        "{} line {}: {}; the file holds the alert settings changed through PATCH "
        "/admin/v1/alerts: fix or remove it (the config file's [alerts] then applies alone)",
        where, line_number, what));
  };
  if (text.size() > kMaxAlertSettingsBytes) return corrupt(0, "larger than the 256 KiB limit");
  Result<std::string_view> checked = BodyBeforeCrcTrailer(text);
  if (!checked.ok()) return corrupt(0, checked.status().message());
  std::string_view body = *checked;

  AlertSettingOverrides overrides;
  AlertSettings check;
  size_t line_number = 0;
  size_t begin = 0;
  while (begin < body.size()) {
    size_t end = body.find('\n', begin);
    if (end == std::string_view::npos) return corrupt(line_number + 1, "no line end");
    std::string_view line = body.substr(begin, end - begin);
    begin = end + 1;
    ++line_number;
    if (line_number == 1) {
      if (line != fmt::format("{} {}", kAlertSettingsMagic, kAlertSettingsVersion)) {
        return corrupt(line_number, fmt::format("expected '{} {}' (another version of eddy?)",
                                                kAlertSettingsMagic, kAlertSettingsVersion));
      }
      continue;
    }
    std::vector<std::string_view> fields = SplitEscapedFields(line);
    std::string key, value;
    if (fields.size() != 3 || fields[0] != "set" || !DecodeEscapedField(fields[1], &key) ||
        !DecodeEscapedField(fields[2], &value)) {
      return corrupt(line_number, "expected 'set KEY VALUE'");
    }
    if (overrides.count(key)) return corrupt(line_number, "'" + key + "' is set twice");
    if (Status valid = ApplyAlertSetting(check, key, value); !valid.ok()) {
      return corrupt(line_number, valid.message());
    }
    overrides[key] = value;
  }
  if (line_number == 0) return corrupt(1, "no header line");
  return overrides;
}

Result<AlertSettingOverrides> LoadAlertSettingOverrides(io::FileSystem* fs,
                                                        const std::string& data_dir) {
  std::string path = io::JoinPath(data_dir, std::string(kAlertSettingsFile));
  EDDY_ASSIGN_OR_RETURN(bool exists, fs->Exists(path));
  if (!exists) return AlertSettingOverrides();
  EDDY_ASSIGN_OR_RETURN(std::string text, fs->ReadFile(path));
  return DecodeAlertSettingOverrides(text, path);
}

Status SaveAlertSettingOverrides(io::FileSystem* fs, const std::string& data_dir,
                                 const AlertSettingOverrides& overrides) {
  EDDY_RETURN_IF_ERROR(fs->CreateDirectories(data_dir));
  return fs->WriteFileAtomically(io::JoinPath(data_dir, std::string(kAlertSettingsFile)),
                                 EncodeAlertSettingOverrides(overrides));
}

Status ApplyAlertSettingOverrides(AlertSettings& settings, const AlertSettingOverrides& overrides) {
  for (const auto& [key, value] : overrides) {
    EDDY_RETURN_IF_ERROR(ApplyAlertSetting(settings, key, value));
  }
  return Status::Ok();
}

}  // namespace eddy::monitor
