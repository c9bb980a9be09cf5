#include "source/postgres/pg_connection.h"

#include <libpq-fe.h>
#include <sys/select.h>

#include <cerrno>
#include <cstring>
#include <string_view>

#include "source/postgres/pg_types.h"

namespace eddy::source::postgres {
namespace {

std::string OneLine(const char* text) {
  std::string out = text == nullptr ? "" : text;
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  for (char& c : out) {
    if (c == '\n') c = ' ';
  }
  return out;
}

struct ResultDeleter {
  void operator()(PGresult* result) const { PQclear(result); }
};
using ResultPtr = std::unique_ptr<PGresult, ResultDeleter>;

QueryRows RowsOf(PGresult* result) {
  QueryRows rows;
  int fields = PQnfields(result);
  for (int f = 0; f < fields; ++f) rows.columns.emplace_back(PQfname(result, f));
  int count = PQntuples(result);
  rows.rows.reserve(count);
  for (int r = 0; r < count; ++r) {
    std::vector<std::optional<std::string>> row;
    row.reserve(fields);
    for (int f = 0; f < fields; ++f) {
      if (PQgetisnull(result, r, f)) {
        row.emplace_back(std::nullopt);
      } else {
        row.emplace_back(std::string(PQgetvalue(result, r, f), PQgetlength(result, r, f)));
      }
    }
    rows.rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace

std::optional<std::string> QueryRows::Get(size_t row, std::string_view column) const {
  if (row >= rows.size()) return std::nullopt;
  for (size_t i = 0; i < columns.size(); ++i) {
    if (columns[i] == column) return rows[row][i];
  }
  return std::nullopt;
}

Result<std::unique_ptr<PgConnection>> PgConnection::Connect(const std::string& conninfo,
                                                            bool replication) {
  // expand_dbname: the first "dbname" value is the whole URL / conninfo; later keywords win.
  std::vector<const char*> keys = {"dbname", "client_encoding", "options", "application_name",
                                   "connect_timeout"};
  std::vector<const char*> values = {conninfo.c_str(), "UTF8", kPinnedSessionOptions, "eddy", "10"};
  if (replication) {
    keys.push_back("replication");
    values.push_back("database");
  }
  keys.push_back(nullptr);
  values.push_back(nullptr);
  pg_conn* connection = PQconnectdbParams(keys.data(), values.data(), 1);
  if (connection == nullptr) return Unavailable("cannot allocate a PostgreSQL connection");
  if (PQstatus(connection) != CONNECTION_OK) {
    std::string message = OneLine(PQerrorMessage(connection));
    PQfinish(connection);
    if (message.find("password authentication failed") != std::string::npos ||
        message.find("no pg_hba.conf entry") != std::string::npos ||
        message.find("must have replication") != std::string::npos ||
        message.find("permission denied") != std::string::npos) {
      return PermissionDenied("PostgreSQL refused the " +
                              std::string(replication ? "replication " : "") +
                              "connection: " + message +
                              " (the capture role needs LOGIN and REPLICATION, and pg_hba.conf "
                              "must allow replication connections)");
    }
    if (message.find("does not exist") != std::string::npos) {
      return NotFound("PostgreSQL: " + message);
    }
    return Unavailable("cannot connect to PostgreSQL: " + message);
  }
  return std::unique_ptr<PgConnection>(new PgConnection(connection));
}

PgConnection::~PgConnection() {
  if (connection_ != nullptr) PQfinish(connection_);
}

int PgConnection::server_version() const { return PQserverVersion(connection_); }
std::string PgConnection::database() const { return PQdb(connection_); }
int PgConnection::backend_pid() const { return PQbackendPID(connection_); }

Status PgConnection::ErrorFromResult(const void* raw_result, const std::string& what) const {
  const PGresult* result = static_cast<const PGresult*>(raw_result);
  if (PQstatus(connection_) != CONNECTION_OK) {
    return Unavailable("PostgreSQL connection lost during " + what + ": " +
                       OneLine(PQerrorMessage(connection_)));
  }
  std::string message =
      OneLine(result != nullptr ? PQresultErrorMessage(result) : PQerrorMessage(connection_));
  const char* state = result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  std::string sqlstate = state == nullptr ? "" : state;
  std::string text = what + " failed: " + message + (sqlstate.empty() ? "" : " [" + sqlstate + "]");
  if (sqlstate == "42704") return NotFound(text);
  if (sqlstate == "42501") return PermissionDenied(text);
  if (sqlstate.rfind("08", 0) == 0 || sqlstate.rfind("57P", 0) == 0) return Unavailable(text);
  return FailedPrecondition(text);
}

Status PgConnection::Execute(const std::string& sql) {
  ResultPtr result(PQexec(connection_, sql.c_str()));
  ExecStatusType status = PQresultStatus(result.get());
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    return ErrorFromResult(result.get(), "\"" + sql.substr(0, 120) + "\"");
  }
  return Status::Ok();
}

Result<QueryRows> PgConnection::Query(const std::string& sql) {
  ResultPtr result(PQexec(connection_, sql.c_str()));
  ExecStatusType status = PQresultStatus(result.get());
  if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
    return ErrorFromResult(result.get(), "\"" + sql.substr(0, 120) + "\"");
  }
  return RowsOf(result.get());
}

Status PgConnection::CopyOut(const std::string& copy_sql,
                             const std::function<Status(std::string_view row)>& on_row) {
  const std::string what = "\"" + copy_sql.substr(0, 120) + "\"";
  {
    ResultPtr started(PQexec(connection_, copy_sql.c_str()));
    if (PQresultStatus(started.get()) != PGRES_COPY_OUT) {
      if (PQresultStatus(started.get()) == PGRES_COMMAND_OK) {
        return FailedPrecondition(what + " is not a COPY TO STDOUT");
      }
      return ErrorFromResult(started.get(), what);
    }
  }
  Status failed;
  while (true) {
    char* buffer = nullptr;
    int length = PQgetCopyData(connection_, &buffer, 0);
    if (length == -1) break;  // the copy is done; its result follows
    if (length < 0) {
      return Unavailable("PostgreSQL connection lost during " + what + ": " +
                         OneLine(PQerrorMessage(connection_)));
    }
    Status status = on_row(std::string_view(buffer, static_cast<size_t>(length)));
    PQfreemem(buffer);
    if (!status.ok()) {
      failed = std::move(status);
      break;
    }
  }
  if (!failed.ok()) {
    // The server goes on sending rows: ask it to cancel the COPY, then read what is still on
    // the way (up to the cancellation's error) so the connection is usable afterwards.
    if (PGcancel* cancel = PQgetCancel(connection_); cancel != nullptr) {
      char error[256];
      (void)PQcancel(cancel, error, sizeof error);
      PQfreeCancel(cancel);
    }
    char* buffer = nullptr;
    while (PQgetCopyData(connection_, &buffer, 0) >= 0) {
      if (buffer != nullptr) PQfreemem(buffer);
      buffer = nullptr;
    }
    while (PGresult* raw = PQgetResult(connection_)) PQclear(raw);
    return failed;
  }
  while (PGresult* raw = PQgetResult(connection_)) {
    ResultPtr result(raw);
    if (PQresultStatus(raw) != PGRES_COMMAND_OK) return ErrorFromResult(raw, what);
  }
  return Status::Ok();
}

Result<QueryRows> PgConnection::QueryParams(const std::string& sql,
                                            const std::vector<std::string>& params) {
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const std::string& param : params) values.push_back(param.c_str());
  ResultPtr result(PQexecParams(connection_, sql.c_str(), static_cast<int>(values.size()), nullptr,
                                values.data(), nullptr, nullptr, 0));
  ExecStatusType status = PQresultStatus(result.get());
  if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
    return ErrorFromResult(result.get(), "\"" + sql.substr(0, 120) + "\"");
  }
  return RowsOf(result.get());
}

Result<SystemIdentity> PgConnection::IdentifySystem() {
  EDDY_ASSIGN_OR_RETURN(QueryRows rows, Query("IDENTIFY_SYSTEM"));
  if (rows.rows.size() != 1) return Corruption("IDENTIFY_SYSTEM returned no row");
  SystemIdentity identity;
  identity.system_id = rows.Get(0, "systemid").value_or("");
  identity.timeline = static_cast<uint32_t>(std::stoul(rows.Get(0, "timeline").value_or("0")));
  EDDY_ASSIGN_OR_RETURN(identity.xlog_position, Lsn::Parse(rows.Get(0, "xlogpos").value_or("")));
  identity.database = rows.Get(0, "dbname").value_or("");
  return identity;
}

Result<CreatedSlot> PgConnection::CreateLogicalSlot(const std::string& slot, bool export_snapshot,
                                                    bool temporary) {
  std::string sql = "CREATE_REPLICATION_SLOT " + QuoteIdentifier(slot) +
                    (temporary ? " TEMPORARY" : "") + " LOGICAL pgoutput " +
                    (export_snapshot ? "EXPORT_SNAPSHOT" : "NOEXPORT_SNAPSHOT");
  EDDY_ASSIGN_OR_RETURN(QueryRows rows, Query(sql));
  if (rows.rows.size() != 1) return Corruption("CREATE_REPLICATION_SLOT returned no row");
  CreatedSlot created;
  created.name = rows.Get(0, "slot_name").value_or(slot);
  EDDY_ASSIGN_OR_RETURN(created.consistent_point,
                        Lsn::Parse(rows.Get(0, "consistent_point").value_or("")));
  created.snapshot_name = rows.Get(0, "snapshot_name").value_or("");
  return created;
}

Status PgConnection::StartReplication(const std::string& slot, Lsn start,
                                      const std::string& options) {
  std::string sql = "START_REPLICATION SLOT " + QuoteIdentifier(slot) + " LOGICAL " +
                    start.ToString() + " (" + options + ")";
  ResultPtr result(PQexec(connection_, sql.c_str()));
  if (PQresultStatus(result.get()) != PGRES_COPY_BOTH) {
    Status error = ErrorFromResult(result.get(), "START_REPLICATION for slot \"" + slot + "\"");
    // 55006 (object_in_use): another walsender still holds the slot, typically the previous
    // connection of this capture, which the server has not finished tearing down after a
    // restart. It frees the slot within moments, so the capture reconnects with backoff.
    const char* state = PQresultErrorField(result.get(), PG_DIAG_SQLSTATE);
    if (state != nullptr && std::string_view(state) == "55006") {
      return Unavailable(error.message() + " (the slot is held by another connection; retrying)");
    }
    return error;
  }
  return Status::Ok();
}

Result<std::optional<std::string>> PgConnection::Receive(std::chrono::milliseconds timeout) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    char* buffer = nullptr;
    int length = PQgetCopyData(connection_, &buffer, 1);
    if (length > 0) {
      std::string message(buffer, static_cast<size_t>(length));
      PQfreemem(buffer);
      return std::optional<std::string>(std::move(message));
    }
    if (length == -1) {
      // The server ended the copy: collect the final result for its error text.
      ResultPtr result(PQgetResult(connection_));
      if (result != nullptr && PQresultStatus(result.get()) != PGRES_FATAL_ERROR) {
        // Ended without an error: the walsender stops streaming when the server shuts down
        // (it sends CopyDone after the last WAL). Retriable: the server comes back.
        while (PGresult* rest = PQgetResult(connection_)) PQclear(rest);
        return Unavailable(
            "PostgreSQL ended the replication stream without an error (server "
            "shutting down?)");
      }
      Status status = ErrorFromResult(result.get(), "replication stream");
      // Drain what remains so the connection can be closed cleanly.
      while (PGresult* rest = PQgetResult(connection_)) PQclear(rest);
      if (status.code() == ErrorCode::kFailedPrecondition ||
          status.code() == ErrorCode::kNotFound) {
        return status;
      }
      return Unavailable("PostgreSQL ended the replication stream: " + status.message());
    }
    if (length == -2) {
      return Unavailable("replication connection failed: " + OneLine(PQerrorMessage(connection_)));
    }
    if (attempt == 1) break;
    // Nothing buffered: wait for the socket.
    int socket = PQsocket(connection_);
    if (socket < 0) return Unavailable("replication connection has no socket");
    fd_set read_set;
    FD_ZERO(&read_set);
    FD_SET(socket, &read_set);
    timeval tv{static_cast<time_t>(timeout.count() / 1000),
               static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
    int ready = select(socket + 1, &read_set, nullptr, nullptr, &tv);
    if (ready < 0) {
      if (errno == EINTR) return std::optional<std::string>();
      return Unavailable(std::string("select on the replication socket failed: ") +
                         std::strerror(errno));
    }
    if (ready == 0) return std::optional<std::string>();
    if (PQconsumeInput(connection_) == 0) {
      return Unavailable("replication connection failed: " + OneLine(PQerrorMessage(connection_)));
    }
  }
  return std::optional<std::string>();
}

Status PgConnection::SendCopyData(std::string_view bytes) {
  if (PQputCopyData(connection_, bytes.data(), static_cast<int>(bytes.size())) != 1 ||
      PQflush(connection_) != 0) {
    return Unavailable("cannot send to the replication connection: " +
                       OneLine(PQerrorMessage(connection_)));
  }
  return Status::Ok();
}

std::string QuoteIdentifier(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

std::string QuoteLiteral(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') out.push_back('\'');
    out.push_back(c);
  }
  out.push_back('\'');
  return out;
}

}  // namespace eddy::source::postgres
