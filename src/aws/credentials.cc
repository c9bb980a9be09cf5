#include "aws/credentials.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>

namespace eddy::aws {
namespace {

std::string_view Trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
    text.remove_prefix(1);
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
    text.remove_suffix(1);
  }
  return text;
}

std::optional<std::string> NonEmpty(const EnvLookup& env, std::string_view name) {
  std::optional<std::string> value = env(name);
  if (value && value->empty()) return std::nullopt;
  return value;
}

std::string Profile(const EnvLookup& env) {
  return NonEmpty(env, "AWS_PROFILE").value_or("default");
}

// The file named by `variable`, else ~/.aws/`name`; empty when neither HOME nor the variable
// is set.
std::string FilePath(const EnvLookup& env, std::string_view variable, std::string_view name) {
  if (auto path = NonEmpty(env, variable)) return *path;
  if (auto home = NonEmpty(env, "HOME")) return *home + "/.aws/" + std::string(name);
  return "";
}

// The sections of `path`, or nullopt when it does not exist.
Result<std::optional<IniSections>> ReadIni(io::FileSystem& fs, const std::string& path) {
  if (path.empty()) return std::optional<IniSections>();
  auto exists = fs.Exists(path);
  if (!exists.ok()) return exists.status().WithContext("reading AWS file " + path);
  if (!*exists) return std::optional<IniSections>();
  auto text = fs.ReadFile(path);
  if (!text.ok()) return text.status().WithContext("reading AWS file " + path);
  auto sections = ParseIni(*text);
  if (!sections.ok()) {
    return InvalidArgument("AWS file " + path + " is malformed: " + sections.status().message());
  }
  return std::optional<IniSections>(std::move(*sections));
}

const std::string* Find(const std::map<std::string, std::string>& section, const char* key) {
  auto it = section.find(key);
  if (it == section.end() || it->second.empty()) return nullptr;
  return &it->second;
}

// Keys from one section; nullopt when the section has neither key.
Result<std::optional<Credentials>> FromSection(const IniSections& sections,
                                               const std::string& section,
                                               const std::string& path) {
  auto it = sections.find(section);
  if (it == sections.end()) return std::optional<Credentials>();
  const std::string* id = Find(it->second, "aws_access_key_id");
  const std::string* secret = Find(it->second, "aws_secret_access_key");
  if (id == nullptr && secret == nullptr) return std::optional<Credentials>();
  if (id == nullptr || secret == nullptr) {
    return InvalidArgument("AWS file " + path + " section [" + section + "] has " +
                           (id == nullptr ? "aws_secret_access_key but no aws_access_key_id"
                                          : "aws_access_key_id but no aws_secret_access_key") +
                           ": add the missing key");
  }
  Credentials credentials;
  credentials.access_key_id = *id;
  credentials.secret_access_key = *secret;
  if (const std::string* token = Find(it->second, "aws_session_token")) {
    credentials.session_token = *token;
  }
  credentials.source = path + " [" + section + "]";
  return std::optional<Credentials>(std::move(credentials));
}

std::string ConfigSection(const std::string& profile) {
  return profile == "default" ? "default" : "profile " + profile;
}

}  // namespace

EnvLookup ProcessEnvironment() {
  return [](std::string_view name) -> std::optional<std::string> {
    const char* value = std::getenv(std::string(name).c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

Result<IniSections> ParseIni(std::string_view text) {
  IniSections sections;
  std::map<std::string, std::string>* current = nullptr;
  size_t line_number = 0;
  while (!text.empty()) {
    size_t newline = text.find('\n');
    std::string_view raw = text.substr(0, newline);
    text = newline == std::string_view::npos ? std::string_view() : text.substr(newline + 1);
    ++line_number;
    bool indented = !raw.empty() && (raw.front() == ' ' || raw.front() == '\t');
    std::string_view line = Trim(raw);
    if (line.empty() || line.front() == '#' || line.front() == ';') continue;
    std::string where = "line " + std::to_string(line_number) + ": ";
    if (line.front() == '[') {
      if (line.back() != ']') {
        return InvalidArgument(where + "section header without closing ']'");
      }
      std::string name(Trim(line.substr(1, line.size() - 2)));
      if (name.empty()) return InvalidArgument(where + "empty section name '[]'");
      current = &sections[name];
      continue;
    }
    if (indented && current != nullptr) continue;  // a nested setting's continuation
    size_t equals = line.find('=');
    if (equals == std::string_view::npos) {
      return InvalidArgument(where + "expected 'key = value' or '[section]'");
    }
    if (current == nullptr) {
      return InvalidArgument(where + "'key = value' before any [section]");
    }
    std::string key(Trim(line.substr(0, equals)));
    if (key.empty()) return InvalidArgument(where + "empty key before '='");
    std::transform(key.begin(), key.end(), key.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    (*current)[key] = std::string(Trim(line.substr(equals + 1)));
  }
  return sections;
}

Result<Credentials> ResolveCredentials(const EnvLookup& env, io::FileSystem& fs) {
  std::optional<std::string> id = NonEmpty(env, "AWS_ACCESS_KEY_ID");
  std::optional<std::string> secret = NonEmpty(env, "AWS_SECRET_ACCESS_KEY");
  if (id && secret) {
    Credentials credentials;
    credentials.access_key_id = *id;
    credentials.secret_access_key = *secret;
    credentials.session_token = NonEmpty(env, "AWS_SESSION_TOKEN").value_or("");
    credentials.source = "environment";
    return credentials;
  }
  if (id || secret) {
    return InvalidArgument(id ? "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not: set "
                                "both, or unset both to use the shared credentials file"
                              : "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not: set "
                                "both, or unset both to use the shared credentials file");
  }
  std::string profile = Profile(env);
  std::string credentials_path = FilePath(env, "AWS_SHARED_CREDENTIALS_FILE", "credentials");
  auto credentials_file = ReadIni(fs, credentials_path);
  if (!credentials_file.ok()) return credentials_file.status();
  if (*credentials_file) {
    auto found = FromSection(**credentials_file, profile, credentials_path);
    if (!found.ok()) return found.status();
    if (*found) return std::move(**found);
  }
  std::string config_path = FilePath(env, "AWS_CONFIG_FILE", "config");
  auto config_file = ReadIni(fs, config_path);
  if (!config_file.ok()) return config_file.status();
  if (*config_file) {
    auto found = FromSection(**config_file, ConfigSection(profile), config_path);
    if (!found.ok()) return found.status();
    if (*found) return std::move(**found);
  }
  std::string where =
      credentials_path.empty() ? "~/.aws/credentials (HOME is not set)" : credentials_path;
  return PermissionDenied(
      "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and "
      "AWS_SESSION_TOKEN for temporary keys), or add aws_access_key_id and "
      "aws_secret_access_key to section [" +
      profile + "] of " + where + (*credentials_file ? "" : " (the file does not exist)") +
      " (profile from AWS_PROFILE, default 'default'; instance roles and SSO are not "
      "supported)");
}

Result<std::string> ResolveRegion(const EnvLookup& env, io::FileSystem& fs) {
  if (auto region = NonEmpty(env, "AWS_REGION")) return *region;
  if (auto region = NonEmpty(env, "AWS_DEFAULT_REGION")) return *region;
  std::string profile = Profile(env);
  std::string config_path = FilePath(env, "AWS_CONFIG_FILE", "config");
  auto config_file = ReadIni(fs, config_path);
  if (!config_file.ok()) return config_file.status();
  if (*config_file) {
    auto section = (*config_file)->find(ConfigSection(profile));
    if (section != (*config_file)->end()) {
      if (const std::string* region = Find(section->second, "region")) return *region;
    }
  }
  return InvalidArgument(
      "no AWS region: give it in the URL, or set AWS_REGION (or "
      "AWS_DEFAULT_REGION), or add 'region = ...' to section [" +
      ConfigSection(profile) + "] of " + (config_path.empty() ? "~/.aws/config" : config_path));
}

}  // namespace eddy::aws
