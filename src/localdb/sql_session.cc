#include "localdb/sql_session.h"

#include <libpq-fe.h>
#include <mysql.h>
#include <mysqld_error.h>
#include <errmsg.h>

#include <algorithm>
#include <cstring>

#include "base/logging.h"

namespace eddy::localdb {
namespace {

std::string Trim(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ' || text.back() == '\t' ||
                           text.back() == '\r')) {
    text.pop_back();
  }
  size_t start = 0;
  while (start < text.size() && (text[start] == ' ' || text[start] == '\t')) ++start;
  return text.substr(start);
}

bool Contains(const std::string& text, std::string_view needle) {
  return text.find(needle) != std::string::npos;
}

std::string ShortSql(std::string_view sql) {
  std::string out(sql.substr(0, 160));
  std::replace(out.begin(), out.end(), '\n', ' ');
  if (sql.size() > 160) out += "...";
  return out;
}

std::string Where(const SqlEndpoint& endpoint, std::string_view product) {
  std::string where(product);
  where += " at ";
  if (!endpoint.host.empty()) {
    where += endpoint.host + ":" + std::to_string(endpoint.port);
  } else {
    where += endpoint.unix_socket.empty() ? std::string("the default socket") : endpoint.unix_socket;
  }
  return where;
}

// libpq prints server notices ("relation ... already exists, skipping") on stderr by default;
// they belong in our log, at debug level.
void LogPgNotice(void* /*unused*/, const char* message) {
  logging::Get("localdb")->debug("postgres notice: {}", Trim(message));
}

// libpq's connection error is several lines ("connection to server at ... failed: FATAL: ...",
// a hint line, one block per address tried). Keep the reason from the first line and say what
// to do in one line.
Status MapPgConnectError(const std::string& raw, const SqlEndpoint& endpoint) {
  std::string first = raw.substr(0, raw.find('\n'));
  size_t failed = first.find("failed: ");
  if (failed != std::string::npos) first = first.substr(failed + 8);
  if (first.rfind("FATAL:", 0) == 0) first = first.substr(6);
  first = Trim(first);
  const std::string where = Where(endpoint, "PostgreSQL");
  if (Contains(first, "password authentication failed") ||
      Contains(first, "no password supplied") || Contains(first, "pg_hba.conf") ||
      Contains(first, "authentication failed") || Contains(first, "role \"")) {
    return PermissionDenied(where + " refused login for user '" + endpoint.user + "': " + first +
                            "; check the user name and password in the source URL");
  }
  if (Contains(first, "database \"") && Contains(first, "does not exist")) {
    return NotFound(where + ": database '" + endpoint.database +
                    "' does not exist; fix the database name in the source URL or create it");
  }
  if (Contains(first, "could not translate host name")) {
    return Unavailable("cannot reach " + where + ": " + first + "; check the host in the source URL");
  }
  if (Contains(first, "timeout expired")) {
    return Timeout("cannot reach " + where +
                   ": connection timed out; check the host, port and firewall");
  }
  return Unavailable("cannot reach " + where + ": " + first +
                     "; check the host and port, and that the server is running and accepts "
                     "TCP connections");
}

Status MapPgResultError(PGresult* result, pg_conn* connection, std::string_view sql) {
  const char* state = result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  std::string sqlstate = state != nullptr ? state : "";
  const char* primary = result != nullptr ? PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY)
                                          : nullptr;
  std::string message = primary != nullptr ? primary : Trim(PQerrorMessage(connection));
  message = "PostgreSQL: " + message + (sqlstate.empty() ? "" : " (SQLSTATE " + sqlstate + ")") +
            " in: " + ShortSql(sql);
  if (sqlstate == "42501") return PermissionDenied(message);
  if (sqlstate == "42P01" || sqlstate == "42704" || sqlstate == "3D000") return NotFound(message);
  if (sqlstate == "42710" || sqlstate == "42P07" || sqlstate == "42P04") {
    return AlreadyExists(message);
  }
  if (sqlstate.rfind("08", 0) == 0 || PQstatus(connection) != CONNECTION_OK) {
    return Unavailable(message);
  }
  return FailedPrecondition(message);
}

Status MapMariadbConnectError(st_mysql* connection, const SqlEndpoint& endpoint) {
  unsigned int code = mysql_errno(connection);
  std::string text = Trim(mysql_error(connection));
  const std::string where = Where(endpoint, "MySQL/MariaDB");
  switch (code) {
    case ER_ACCESS_DENIED_ERROR:
    case ER_ACCESS_DENIED_NO_PASSWORD_ERROR:
    case ER_HOST_NOT_PRIVILEGED:
      return PermissionDenied(where + " refused login for user '" + endpoint.user + "': " + text +
                              "; check the user name and password in the source URL");
    case ER_BAD_DB_ERROR:
      return NotFound(where + ": database '" + endpoint.database +
                      "' does not exist; fix the database name in the source URL or create it");
    case ER_DBACCESS_DENIED_ERROR:
      return PermissionDenied(where + ": user '" + endpoint.user + "' may not use database '" +
                              endpoint.database + "': " + text);
    case CR_UNKNOWN_HOST:
      return Unavailable("cannot reach " + where + ": unknown host name; check the host in the "
                         "source URL");
    default:
      break;
  }
  if (Contains(text, "timed out") || Contains(text, "(110)")) {
    return Timeout("cannot reach " + where +
                   ": connection timed out; check the host, port and firewall");
  }
  return Unavailable("cannot reach " + where + ": " + text +
                     "; check the host and port, and that the server is running");
}

Status MapMariadbQueryError(st_mysql* connection, std::string_view sql) {
  unsigned int code = mysql_errno(connection);
  std::string message = "MariaDB: " + Trim(mysql_error(connection)) + " (error " +
                        std::to_string(code) + ") in: " + ShortSql(sql);
  switch (code) {
    case ER_SPECIFIC_ACCESS_DENIED_ERROR:
    case ER_TABLEACCESS_DENIED_ERROR:
    case ER_DBACCESS_DENIED_ERROR:
    case ER_ACCESS_DENIED_ERROR:
    case ER_COLUMNACCESS_DENIED_ERROR:
      return PermissionDenied(message);
    case ER_NO_SUCH_TABLE:
    case ER_BAD_DB_ERROR:
      return NotFound(message);
    case ER_TABLE_EXISTS_ERROR:
    case ER_DB_CREATE_EXISTS:
      return AlreadyExists(message);
    case CR_SERVER_GONE_ERROR:
    case CR_SERVER_LOST:
      return Unavailable(message);
    default:
      return FailedPrecondition(message);
  }
}

}  // namespace

std::string SqlEndpoint::Describe() const {
  std::string out = user + "@";
  if (!host.empty()) {
    out += host + ":" + std::to_string(port);
  } else {
    out += unix_socket;
  }
  return out + "/" + database;
}

std::optional<std::string> SqlRows::Get(size_t row, std::string_view name) const {
  if (row >= rows.size()) return std::nullopt;
  for (size_t column = 0; column < columns.size(); ++column) {
    if (columns[column] == name) return rows[row][column];
  }
  return std::nullopt;
}

// ---------------------------------------------------------------- PostgreSQL

Result<PgSession> PgSession::Connect(const SqlEndpoint& endpoint, std::chrono::seconds timeout) {
  std::vector<std::pair<std::string, std::string>> settings;
  const std::string host = endpoint.host.empty() ? endpoint.unix_socket : endpoint.host;
  if (!host.empty()) settings.emplace_back("host", host);
  if (endpoint.port != 0) settings.emplace_back("port", std::to_string(endpoint.port));
  if (!endpoint.user.empty()) settings.emplace_back("user", endpoint.user);
  if (!endpoint.password.empty()) settings.emplace_back("password", endpoint.password);
  if (!endpoint.database.empty()) settings.emplace_back("dbname", endpoint.database);
  bool has_timeout = false;
  for (const auto& [key, value] : endpoint.parameters) {
    if (key == "connect_timeout") has_timeout = true;
    settings.emplace_back(key, value);
  }
  if (!has_timeout) {
    settings.emplace_back("connect_timeout",
                          std::to_string(std::max<int64_t>(1, timeout.count())));
  }
  std::vector<const char*> keywords;
  std::vector<const char*> values;
  for (const auto& [key, value] : settings) {
    keywords.push_back(key.c_str());
    values.push_back(value.c_str());
  }
  keywords.push_back(nullptr);
  values.push_back(nullptr);
  pg_conn* connection = PQconnectdbParams(keywords.data(), values.data(), 0);
  if (connection == nullptr) return ResourceExhausted("libpq could not allocate a connection");
  if (PQstatus(connection) != CONNECTION_OK) {
    std::string raw = PQerrorMessage(connection);
    PQfinish(connection);
    if (Contains(raw, "invalid connection option")) {
      return InvalidArgument("PostgreSQL: " + Trim(raw.substr(0, raw.find('\n'))) +
                             "; see the libpq connection parameters");
    }
    return MapPgConnectError(raw, endpoint);
  }
  PQsetNoticeProcessor(connection, LogPgNotice, nullptr);
  return PgSession(connection);
}

PgSession::PgSession(PgSession&& other) noexcept : connection_(other.connection_) {
  other.connection_ = nullptr;
}

PgSession& PgSession::operator=(PgSession&& other) noexcept {
  if (this != &other) {
    if (connection_ != nullptr) PQfinish(connection_);
    connection_ = other.connection_;
    other.connection_ = nullptr;
  }
  return *this;
}

PgSession::~PgSession() {
  if (connection_ != nullptr) PQfinish(connection_);
}

Status PgSession::Execute(std::string_view sql) {
  std::string text(sql);
  PGresult* result = PQexec(connection_, text.c_str());
  ExecStatusType status = result != nullptr ? PQresultStatus(result) : PGRES_FATAL_ERROR;
  Status out = Status::Ok();
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK && status != PGRES_EMPTY_QUERY) {
    out = MapPgResultError(result, connection_, sql);
  }
  PQclear(result);
  return out;
}

Result<SqlRows> PgSession::Query(std::string_view sql, const std::vector<std::string>& parameters) {
  std::string text(sql);
  std::vector<const char*> values;
  for (const std::string& parameter : parameters) values.push_back(parameter.c_str());
  PGresult* result = PQexecParams(connection_, text.c_str(), static_cast<int>(values.size()),
                                  nullptr, values.empty() ? nullptr : values.data(), nullptr,
                                  nullptr, 0);
  ExecStatusType status = result != nullptr ? PQresultStatus(result) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    Status error = MapPgResultError(result, connection_, sql);
    PQclear(result);
    return error;
  }
  SqlRows rows;
  const int column_count = PQnfields(result);
  for (int column = 0; column < column_count; ++column) {
    rows.columns.emplace_back(PQfname(result, column));
  }
  const int row_count = PQntuples(result);
  rows.rows.reserve(row_count);
  for (int row = 0; row < row_count; ++row) {
    std::vector<std::optional<std::string>> values_out;
    values_out.reserve(column_count);
    for (int column = 0; column < column_count; ++column) {
      if (PQgetisnull(result, row, column)) {
        values_out.emplace_back(std::nullopt);
      } else {
        values_out.emplace_back(std::string(PQgetvalue(result, row, column),
                                            PQgetlength(result, row, column)));
      }
    }
    rows.rows.push_back(std::move(values_out));
  }
  PQclear(result);
  return rows;
}

// ---------------------------------------------------------------- MariaDB

Result<MariadbSession> MariadbSession::Connect(const SqlEndpoint& endpoint,
                                               std::chrono::seconds timeout) {
  st_mysql* connection = mysql_init(nullptr);
  if (connection == nullptr) return ResourceExhausted("libmariadb could not allocate a connection");
  unsigned int connect_timeout = static_cast<unsigned int>(std::max<int64_t>(1, timeout.count()));
  for (const auto& [key, value] : endpoint.parameters) {
    auto number = [&]() -> Result<unsigned int> {
      char* end = nullptr;
      unsigned long parsed = std::strtoul(value.c_str(), &end, 10);
      if (value.empty() || *end != '\0' || parsed > 86400) {
        return InvalidArgument("MySQL parameter " + key + "=" + value +
                               " must be a number of seconds (0-86400)");
      }
      return static_cast<unsigned int>(parsed);
    };
    Status problem = Status::Ok();
    if (key == "connect_timeout") {
      Result<unsigned int> seconds = number();
      if (seconds.ok()) connect_timeout = *seconds; else problem = seconds.status();
    } else if (key == "read_timeout" || key == "write_timeout") {
      Result<unsigned int> seconds = number();
      if (seconds.ok()) {
        mysql_optionsv(connection,
                       key == "read_timeout" ? MYSQL_OPT_READ_TIMEOUT : MYSQL_OPT_WRITE_TIMEOUT,
                       &*seconds);
      } else {
        problem = seconds.status();
      }
    } else if (key == "ssl_mode" || key == "sslmode") {
      if (value == "disable" || value == "disabled") {
        // libmariadb does not use TLS unless asked.
      } else if (value == "required" || value == "require") {
        my_bool enforce = 1;
        my_bool no_verify = 0;
        mysql_optionsv(connection, MYSQL_OPT_SSL_ENFORCE, &enforce);
        mysql_optionsv(connection, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &no_verify);
      } else if (value == "verify_identity" || value == "verify-full") {
        my_bool enforce = 1;
        my_bool verify = 1;
        mysql_optionsv(connection, MYSQL_OPT_SSL_ENFORCE, &enforce);
        mysql_optionsv(connection, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &verify);
      } else {
        problem = InvalidArgument("MySQL parameter ssl_mode=" + value +
                                  " is not one of disable, required, verify_identity");
      }
    } else if (key == "ssl_ca") {
      mysql_optionsv(connection, MYSQL_OPT_SSL_CA, value.c_str());
    } else if (key == "ssl_cert") {
      mysql_optionsv(connection, MYSQL_OPT_SSL_CERT, value.c_str());
    } else if (key == "ssl_key") {
      mysql_optionsv(connection, MYSQL_OPT_SSL_KEY, value.c_str());
    } else if (key == "charset") {
      mysql_optionsv(connection, MYSQL_SET_CHARSET_NAME, value.c_str());
    } else {
      problem = InvalidArgument("unknown MySQL connection parameter '" + key +
                                "'; known: connect_timeout, read_timeout, write_timeout, "
                                "ssl_mode, ssl_ca, ssl_cert, ssl_key, charset");
    }
    if (!problem.ok()) {
      mysql_close(connection);
      return problem;
    }
  }
  mysql_optionsv(connection, MYSQL_OPT_CONNECT_TIMEOUT, &connect_timeout);
  const bool use_socket = endpoint.host.empty();
  const char* host = use_socket ? "localhost" : endpoint.host.c_str();
  const char* socket = use_socket && !endpoint.unix_socket.empty() ? endpoint.unix_socket.c_str()
                                                                    : nullptr;
  if (!use_socket) {
    unsigned int protocol = MYSQL_PROTOCOL_TCP;
    mysql_optionsv(connection, MYSQL_OPT_PROTOCOL, &protocol);
  }
  if (mysql_real_connect(connection, host, endpoint.user.c_str(), endpoint.password.c_str(),
                         endpoint.database.empty() ? nullptr : endpoint.database.c_str(),
                         endpoint.port, socket, CLIENT_MULTI_STATEMENTS) == nullptr) {
    Status error = MapMariadbConnectError(connection, endpoint);
    mysql_close(connection);
    return error;
  }
  return MariadbSession(connection);
}

MariadbSession::MariadbSession(MariadbSession&& other) noexcept
    : connection_(other.connection_) {
  other.connection_ = nullptr;
}

MariadbSession& MariadbSession::operator=(MariadbSession&& other) noexcept {
  if (this != &other) {
    if (connection_ != nullptr) mysql_close(connection_);
    connection_ = other.connection_;
    other.connection_ = nullptr;
  }
  return *this;
}

MariadbSession::~MariadbSession() {
  if (connection_ != nullptr) mysql_close(connection_);
}

Status MariadbSession::Execute(std::string_view sql) {
  if (mysql_real_query(connection_, sql.data(), sql.size()) != 0) {
    return MapMariadbQueryError(connection_, sql);
  }
  // Drain every result of a multi-statement text; an error in a later statement shows here.
  while (true) {
    MYSQL_RES* result = mysql_store_result(connection_);
    if (result != nullptr) mysql_free_result(result);
    int more = mysql_next_result(connection_);
    if (more > 0) return MapMariadbQueryError(connection_, sql);
    if (more < 0) break;
  }
  return Status::Ok();
}

Result<SqlRows> MariadbSession::Query(std::string_view sql) {
  if (mysql_real_query(connection_, sql.data(), sql.size()) != 0) {
    return MapMariadbQueryError(connection_, sql);
  }
  MYSQL_RES* result = mysql_store_result(connection_);
  SqlRows rows;
  if (result == nullptr) {
    if (mysql_errno(connection_) != 0) return MapMariadbQueryError(connection_, sql);
  } else {
    const unsigned int column_count = mysql_num_fields(result);
    MYSQL_FIELD* fields = mysql_fetch_fields(result);
    for (unsigned int column = 0; column < column_count; ++column) {
      rows.columns.emplace_back(fields[column].name);
    }
    while (MYSQL_ROW row = mysql_fetch_row(result)) {
      unsigned long* lengths = mysql_fetch_lengths(result);
      std::vector<std::optional<std::string>> values;
      values.reserve(column_count);
      for (unsigned int column = 0; column < column_count; ++column) {
        if (row[column] == nullptr) {
          values.emplace_back(std::nullopt);
        } else {
          values.emplace_back(std::string(row[column], lengths[column]));
        }
      }
      rows.rows.push_back(std::move(values));
    }
    mysql_free_result(result);
  }
  // Discard any further results so the connection stays usable.
  while (mysql_next_result(connection_) == 0) {
    MYSQL_RES* extra = mysql_store_result(connection_);
    if (extra != nullptr) mysql_free_result(extra);
  }
  return rows;
}

std::string MariadbSession::Quote(std::string_view text) {
  std::string out(text.size() * 2 + 1, '\0');
  unsigned long length = mysql_real_escape_string(connection_, out.data(), text.data(),
                                                  text.size());
  out.resize(length);
  return "'" + out + "'";
}

std::string QuotePgIdentifier(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string QuotePgLiteral(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') out += '\'';
    out += c;
  }
  return out + "'";
}

std::string QuoteMysqlIdentifier(std::string_view name) {
  std::string out = "`";
  for (char c : name) {
    if (c == '`') out += '`';
    out += c;
  }
  return out + "`";
}

}  // namespace eddy::localdb
