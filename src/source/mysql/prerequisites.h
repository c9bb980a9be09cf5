// `eddy check` for MySQL and MariaDB: connects with the source URL's credentials and reports
// every prerequisite of binlog capture:
//   server_version, log_bin, binlog_format (ROW), binlog_row_image (FULL),
//   binlog_row_metadata (FULL), server_id (non-zero), replication_privileges (REPLICATION SLAVE
//   plus REPLICATION CLIENT / MariaDB BINLOG MONITOR), select_privilege, binlog_retention
//   (warn when binlogs expire sooner than CheckOptions::min_binlog_retention), and on MySQL
//   gtid_mode (warn when off).
// Each failed item carries the exact setting or SQL that fixes it.
//
// Connection failures (unreachable host, bad password, no such database) are returned as the
// Status, one line; anything else is an item.
//
// Thread safety: reentrant; each call uses its own connection.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "base/status.h"
#include "source/prerequisites_report.h"
#include "source/source_url.h"

namespace eddy::source::mysql {

// `url.kind` must be kMysql.
Result<CheckReport> CheckPrerequisites(const SourceUrl& url, const CheckOptions& options = {});

// Privileges from SHOW GRANTS lines, upper case ("SELECT", "REPLICATION SLAVE",
// "ALL PRIVILEGES"). Column-level and role grants are ignored.
struct MysqlGrants {
  std::set<std::string> global;                               // ON *.*
  std::map<std::string, std::set<std::string>> per_database;  // ON `db`.*
  std::set<std::string> roles;                                // GRANT `role` TO ...

  // True when `privilege` is granted on *.* (directly or through ALL PRIVILEGES).
  bool HasGlobal(const std::string& privilege) const;
  // True when `privilege` is granted on *.* or on `database`.*.
  bool HasOnDatabase(const std::string& privilege, const std::string& database) const;
};
MysqlGrants ParseShowGrants(const std::vector<std::string>& lines);

}  // namespace eddy::source::mysql
