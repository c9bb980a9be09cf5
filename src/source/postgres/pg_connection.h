// A libpq connection for capture: either a replication connection (replication=database:
// replication commands and simple-query SQL, CopyBoth streaming) or an ordinary one (catalog
// queries, snapshot reads). Both pin the session settings of kPinnedSessionOptions and
// client_encoding=UTF8 so values render predictably.
//
// Errors: cannot connect / connection lost -> Unavailable (retriable); authentication ->
// PermissionDenied; a missing replication slot (SQLSTATE 42704) -> NotFound; an invalidated
// slot or other server refusals -> FailedPrecondition; protocol surprises -> Corruption.
//
// Ownership: owns the PGconn. Thread safety: one thread at a time.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/position.h"
#include "base/status.h"

struct pg_conn;

namespace eddy::source::postgres {

struct QueryRows {
  std::vector<std::string> columns;
  std::vector<std::vector<std::optional<std::string>>> rows;
  std::optional<std::string> Get(size_t row, std::string_view column) const;
};

struct SystemIdentity {
  std::string system_id;
  uint32_t timeline = 0;
  Lsn xlog_position;
  std::string database;
};

struct CreatedSlot {
  std::string name;
  Lsn consistent_point;
  std::string snapshot_name;  // empty unless exported
};

class PgConnection {
 public:
  // `conninfo`: a postgresql:// URL or key=value string (libpq syntax).
  static Result<std::unique_ptr<PgConnection>> Connect(const std::string& conninfo,
                                                       bool replication);
  ~PgConnection();
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  int server_version() const;  // 150004 for 15.4
  std::string database() const;
  int backend_pid() const;

  // Simple-query protocol (the only one a replication connection accepts).
  Status Execute(const std::string& sql);
  Result<QueryRows> Query(const std::string& sql);
  // Extended protocol with text parameters (ordinary connections only).
  Result<QueryRows> QueryParams(const std::string& sql, const std::vector<std::string>& params);

  // Runs `copy_sql` (a COPY ... TO STDOUT) and hands every data message to `on_row` as it
  // arrives (text format: one row per message, '\n' included; the view is valid only during
  // the call). The rows stream: libpq holds one message at a time, however big the result.
  // An error from `on_row` stops the copy (the connection is then reset: its COPY cannot be
  // cancelled in place) and is returned.
  Status CopyOut(const std::string& copy_sql,
                 const std::function<Status(std::string_view row)>& on_row);

  // ---- replication connection ----
  Result<SystemIdentity> IdentifySystem();
  // CREATE_REPLICATION_SLOT name [TEMPORARY] LOGICAL pgoutput EXPORT_SNAPSHOT |
  // NOEXPORT_SNAPSHOT. A temporary slot is dropped when the connection closes.
  Result<CreatedSlot> CreateLogicalSlot(const std::string& slot, bool export_snapshot,
                                        bool temporary = false);
  // START_REPLICATION SLOT ... LOGICAL start (options); enters CopyBoth.
  Status StartReplication(const std::string& slot, Lsn start, const std::string& options);
  // Waits up to `timeout` for one CopyData message; nullopt on timeout. Unavailable when the
  // server ends the stream or the connection drops.
  Result<std::optional<std::string>> Receive(std::chrono::milliseconds timeout);
  Status SendCopyData(std::string_view bytes);

  pg_conn* raw() { return connection_; }

 private:
  explicit PgConnection(pg_conn* connection) : connection_(connection) {}
  Status ErrorFromResult(const void* result, const std::string& what) const;
  pg_conn* connection_ = nullptr;
};

// A double-quoted identifier and a single-quoted literal (standard_conforming_strings on).
std::string QuoteIdentifier(std::string_view name);
std::string QuoteLiteral(std::string_view text);

}  // namespace eddy::source::postgres
