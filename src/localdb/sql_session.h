// Small SQL sessions over libpq and libmariadb for setup, checks and workloads: connect with a
// deadline, run statements, read rows as text. Connection failures come back as ONE line that
// says what is wrong (unreachable host, bad password, unknown database, ...) and what to do,
// never the client library's multi-line text.
//
// Ownership: a session owns its connection and closes it on destruction; movable, not
// copyable. Thread safety: one thread at a time per session (the client libraries' rule).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

struct pg_conn;
struct st_mysql;

namespace eddy::localdb {

// Where and as whom to connect. Never logged with its password: use Describe().
struct SqlEndpoint {
  std::string host;         // name or address; empty means use `unix_socket`
  uint16_t port = 0;        // 0 means the client default (5432 / 3306)
  std::string unix_socket;  // PostgreSQL: the socket directory; MariaDB: the socket file
  std::string user;
  std::string password;
  std::string database;
  // Extra client settings: libpq keywords (sslmode, application_name, ...) for PostgreSQL;
  // for MariaDB the keys listed in MariadbSession::Connect.
  std::vector<std::pair<std::string, std::string>> parameters;

  // "user@host:port/db" (no password), for messages.
  std::string Describe() const;
};

// Rows as text; a NULL is std::nullopt.
struct SqlRows {
  std::vector<std::string> columns;
  std::vector<std::vector<std::optional<std::string>>> rows;

  // The value of row `row`, column `name`; nullopt when NULL or absent.
  std::optional<std::string> Get(size_t row, std::string_view name) const;
};

class PgSession {
 public:
  // Connects with `timeout` (rounded up to whole seconds, libpq's unit) unless the endpoint's
  // parameters set connect_timeout. Errors: Unavailable (cannot reach the server),
  // PermissionDenied (authentication, pg_hba), NotFound (no such database or role),
  // Timeout.
  static Result<PgSession> Connect(const SqlEndpoint& endpoint,
                                   std::chrono::seconds timeout = std::chrono::seconds(10));

  PgSession(PgSession&& other) noexcept;
  PgSession& operator=(PgSession&& other) noexcept;
  ~PgSession();

  // Runs one or more statements; rows are discarded.
  Status Execute(std::string_view sql);
  // Runs one statement with text parameters $1, $2, ...
  Result<SqlRows> Query(std::string_view sql, const std::vector<std::string>& parameters = {});

  pg_conn* raw() { return connection_; }

 private:
  explicit PgSession(pg_conn* connection) : connection_(connection) {}
  pg_conn* connection_ = nullptr;
};

class MariadbSession {
 public:
  // Parameters understood: connect_timeout (s), read_timeout (s), write_timeout (s),
  // ssl_mode (disable | required | verify_identity), ssl_ca, ssl_cert, ssl_key, charset.
  // Anything else is InvalidArgument. Error mapping as for PgSession.
  static Result<MariadbSession> Connect(const SqlEndpoint& endpoint,
                                        std::chrono::seconds timeout = std::chrono::seconds(10));

  MariadbSession(MariadbSession&& other) noexcept;
  MariadbSession& operator=(MariadbSession&& other) noexcept;
  ~MariadbSession();

  // Runs one statement (or several separated by ';' when they come from us, never user input).
  Status Execute(std::string_view sql);
  Result<SqlRows> Query(std::string_view sql);

  // A single-quoted SQL string literal with the server's escaping.
  std::string Quote(std::string_view text);

  st_mysql* raw() { return connection_; }

 private:
  explicit MariadbSession(st_mysql* connection) : connection_(connection) {}
  st_mysql* connection_ = nullptr;
};

// A double-quoted PostgreSQL identifier ("my ""table""").
std::string QuotePgIdentifier(std::string_view name);
// A single-quoted PostgreSQL literal ('it''s').
std::string QuotePgLiteral(std::string_view text);
// A backquoted MySQL identifier.
std::string QuoteMysqlIdentifier(std::string_view name);

}  // namespace eddy::localdb
