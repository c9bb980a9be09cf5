// The result of `eddy check`: one item per prerequisite of capture, each saying whether it
// holds, what is wrong, and the exact setting or SQL that fixes it.
//
// Thread safety: values.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace eddy::source {

enum class CheckStatus : uint8_t {
  kOk = 0,
  kWarn = 1,  // capture can start, but something will bite later (e.g. short binlog retention)
  kFail = 2,  // capture cannot start (or would break the application) until fixed
};

std::string_view CheckStatusName(CheckStatus status);  // "ok", "warn", "fail"

struct CheckItem {
  std::string name;    // stable identifier: "wal_level", "binlog_format", "table public.t", ...
  CheckStatus status = CheckStatus::kOk;
  std::string detail;  // what was found, and for warn/fail what is wrong
  std::string fix;     // for warn/fail: the exact setting or SQL that fixes it
};

struct CheckReport {
  std::string source;          // the URL, password redacted
  std::string server_version;  // as the server reports it
  std::vector<CheckItem> items;

  // True when no item failed: `eddy check` exits 0 exactly then.
  bool CanCapture() const;
  // The first item named `name`, or nullptr.
  const CheckItem* Find(std::string_view name) const;
  // One line per item: "FAIL wal_level: is 'replica'; ... fix: ALTER SYSTEM SET ...".
  std::string ToText() const;
};

// What to check beyond the server-wide prerequisites.
struct CheckOptions {
  std::string publication;          // PostgreSQL: check this publication when not empty
  std::vector<std::string> tables;  // "schema.table" (PostgreSQL) / "db.table"; empty = all
  std::chrono::seconds connect_timeout{10};
  // Warn when binlogs expire sooner than this (MySQL/MariaDB).
  std::chrono::seconds min_binlog_retention{3 * 24 * 3600};
};

}  // namespace eddy::source
