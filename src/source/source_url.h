// Source URLs: which database to capture and how to log in.
//
//   postgresql://user:pass@host:port/db?sslmode=require&application_name=x   (also postgres://)
//   mysql://user:pass@host:port/db?ssl_mode=required                         (also mariadb://)
//
// Every part is percent-decoded (a '@' or ':' in a password is written %40 / %3A). The host may
// be a name, an IPv4 address or a bracketed IPv6 address ([::1]); for PostgreSQL it may be empty
// with ?host=/run/postgresql naming a unix socket directory (libpq's convention). Query
// parameters are passed to the client library: any libpq keyword for PostgreSQL (but not the
// ones the URL itself carries), the MariadbSession keys for MySQL.
//
// The password never appears in ToString() or in error messages.
//
// Thread safety: values.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "localdb/sql_session.h"

namespace eddy::source {

enum class SourceKind : uint8_t {
  kPostgres = 1,
  kMysql = 2,  // MySQL and MariaDB: one protocol, one capture path
};

std::string_view SourceKindName(SourceKind kind);  // "postgresql", "mysql"

struct SourceUrl {
  SourceKind kind = SourceKind::kPostgres;
  std::string scheme;  // as written, lower case: postgresql, postgres, mysql, mariadb
  std::string user;
  std::string password;
  bool has_password = false;
  std::string host;    // decoded, without IPv6 brackets; may be empty for a PostgreSQL socket
  uint16_t port = 0;   // the default (5432 / 3306) when the URL has none
  std::string database;
  std::vector<std::pair<std::string, std::string>> parameters;  // decoded, in order

  // The URL with the password replaced by "****" (safe for logs and errors).
  std::string ToString() const;

  // Connection settings for localdb::PgSession / MariadbSession.
  localdb::SqlEndpoint ToEndpoint() const;

  // The value of parameter `name`, or "" when absent.
  std::string Parameter(std::string_view name) const;
};

inline constexpr uint16_t kDefaultPostgresPort = 5432;
inline constexpr uint16_t kDefaultMysqlPort = 3306;

// Parses and validates a source URL. Errors are InvalidArgument and name the part that is wrong
// (scheme, host, port, percent escape, parameter), never echoing the password.
Result<SourceUrl> ParseSourceUrl(std::string_view url);

// Decodes %XX escapes; InvalidArgument on a truncated or non-hex escape. `plus_is_space` for
// query strings ("a+b" = "a b").
Result<std::string> PercentDecode(std::string_view text, bool plus_is_space = false);

}  // namespace eddy::source
