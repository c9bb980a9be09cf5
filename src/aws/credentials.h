// AWS credentials and region, resolved the way the AWS CLI and SDKs resolve them, for the
// outbound clients (S3, Kinesis sinks).
//
// Credential chain (first match wins):
//   1. environment: AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN);
//   2. the shared credentials file: AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials,
//      section [PROFILE];
//   3. the config file: AWS_CONFIG_FILE or ~/.aws/config, section [profile PROFILE]
//      ([default] for the default profile), which the CLI also accepts keys in.
// PROFILE is AWS_PROFILE, else "default". Region: AWS_REGION, AWS_DEFAULT_REGION, then
// `region` in the config file's profile section. Instance roles, SSO and credential_process
// are not supported (the error says so).
//
// Files are read through io::FileSystem; a missing file is skipped, an unreadable or
// malformed one is an error naming the file and line. Errors say what to set.
//
// Thread safety: pure functions over their arguments; the process environment is read
// through an EnvLookup (ProcessEnvironment() reads getenv, safe while nothing calls setenv).
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "io/file_system.h"

namespace eddy::aws {

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // empty for long-term keys
  // Where they came from ("environment", "/root/.aws/credentials [default]"), for messages.
  std::string source;
};

// name -> value of an environment variable, nullopt when unset.
using EnvLookup = std::function<std::optional<std::string>(std::string_view name)>;
EnvLookup ProcessEnvironment();

// An INI file as the AWS CLI writes them: `[section]` headers, `key = value` lines, `#` and
// `;` comment lines, blank lines. Section names are trimmed; keys are trimmed and lower-cased;
// values trimmed. Keys before any section, lines without '=' and unclosed section headers are
// errors (kInvalidArgument, "line N: ..."). Indented continuation lines (nested settings such
// as `s3 =` blocks) are skipped. A repeated key keeps the last value.
using IniSections = std::map<std::string, std::map<std::string, std::string>>;
Result<IniSections> ParseIni(std::string_view text);

// The credential chain above. Errors: kPermissionDenied "no AWS credentials: set
// AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or add [PROFILE] to FILE ..."; kInvalidArgument
// for half-set variables or a profile that has only one of the two keys; file errors as read.
Result<Credentials> ResolveCredentials(const EnvLookup& env, io::FileSystem& fs);

// The region chain above. kInvalidArgument "no AWS region: ..." when none is found.
Result<std::string> ResolveRegion(const EnvLookup& env, io::FileSystem& fs);

}  // namespace eddy::aws
