// A replication client for MySQL/MariaDB: connects with libmariadb (authentication and TLS are
// the library's job), registers as a replica with a configured server_id, starts a binlog dump
// (file/position, or MariaDB GTID via @slave_connect_state) and returns raw events one by one.
//
// Protocol details (docs/design/mysql-capture.md):
// - Before the dump: @master_binlog_checksum = @@global.binlog_checksum (the client declares it
//   understands checksums; events then carry the CRC the file has), @mariadb_slave_capability=4
//   (so MariaDB sends GTID/annotate/compressed events instead of dummy replacements) and
//   @master_heartbeat_period (the server sends a HEARTBEAT when idle).
// - COM_REGISTER_SLAVE and COM_BINLOG_DUMP go through libmariadb's command channel; events are
//   read with mysql_net_read_packet, which reassembles packets over 16 MB.
//
// Errors: Unavailable for a lost connection or a server that ended the stream (retriable);
// FailedPrecondition for a purged or unknown binlog file (naming it) and a server_id clash;
// PermissionDenied for missing REPLICATION SLAVE.
//
// Thread safety: one thread drives a client; Interrupt() may be called from any thread to
// unblock a pending ReadEvent (it shuts the socket down).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/position.h"
#include "base/status.h"
#include "localdb/sql_session.h"

namespace eddy::source::mysql {

struct BinlogClientOptions {
  localdb::SqlEndpoint endpoint;
  // The replica id this client registers with; must differ from the server's own id and from
  // every other replica of the server.
  uint32_t server_id = 0;
  std::chrono::milliseconds heartbeat_period{5000};
  std::chrono::seconds connect_timeout{10};
  // Ask MariaDB for ANNOTATE_ROWS events (the SQL text before row events).
  bool annotate_rows = true;
};

struct ServerInfo {
  std::string version;    // "10.11.6-MariaDB-0+deb12u1-log"
  bool mariadb = false;
  uint32_t server_id = 0;
  std::string binlog_checksum;  // "CRC32" / "NONE"
  std::string binlog_format;
  std::string binlog_row_image;
  std::string binlog_row_metadata;  // "" when the server does not have the variable
  bool log_bin = false;
};

class BinlogClient {
 public:
  // Connects and reads the server's settings. Does not start a dump.
  static Result<std::unique_ptr<BinlogClient>> Connect(const BinlogClientOptions& options);
  ~BinlogClient();
  BinlogClient(const BinlogClient&) = delete;
  BinlogClient& operator=(const BinlogClient&) = delete;

  const ServerInfo& server() const { return server_; }

  // Checks what capture needs (log_bin, ROW, FULL image, a unique server_id). Returns
  // FailedPrecondition with the setting that fixes it.
  Status CheckPrerequisites() const;

  // Registers as replica `server_id` and starts the dump at `start` (file and offset; offset 4
  // is the first event of a file). When `gtid_state` is not empty (MariaDB, e.g. "0-1-42"),
  // the dump starts after those GTIDs and `start` is ignored.
  Status StartDump(const BinlogPosition& start, const std::string& gtid_state = "");

  // The next event (header + body + checksum), valid until the next call. Blocks until one
  // arrives; heartbeats are events too (type 27).
  Result<std::string_view> ReadEvent();

  // Unblocks a pending ReadEvent from another thread; the client is unusable afterwards.
  void Interrupt();

  // Plain SQL on the same connection (only before StartDump).
  Result<localdb::SqlRows> Query(std::string_view sql);

  // The connection id (the server's thread id of this session), to find the dump thread.
  uint64_t connection_id() const;

 private:
  BinlogClient(const BinlogClientOptions& options, localdb::MariadbSession session);
  Status ReadServerInfo();
  Status Register();
  Status MapCommandError(const std::string& what);

  BinlogClientOptions options_;
  localdb::MariadbSession session_;
  ServerInfo server_;
  bool dumping_ = false;
  std::string start_file_;
  std::atomic<bool> interrupted_{false};
  std::atomic<int> socket_{-1};
};

// The binlog position the server is writing now (SHOW MASTER STATUS), through `client`.
Result<BinlogPosition> CurrentBinlogPosition(BinlogClient& client);

}  // namespace eddy::source::mysql
