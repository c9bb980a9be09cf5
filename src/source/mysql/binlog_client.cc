#include "source/mysql/binlog_client.h"

#include <mysql.h>
#include <mysqld_error.h>
#include <errmsg.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>

#include "base/bytes.h"
#include "base/logging.h"

namespace eddy::source::mysql {
namespace {

constexpr uint16_t kDumpFlagSendAnnotateRows = 0x02;
// ER_SLAVE_SAME_ID (MariaDB 10.x): another replica registered with our server_id.
constexpr unsigned int kErrorReplicaSameId = 4052;

std::string Upper(std::string text) {
  for (char& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return text;
}

bool HasParameter(const localdb::SqlEndpoint& endpoint, const std::string& key) {
  for (const auto& [name, value] : endpoint.parameters) {
    if (name == key) return true;
  }
  return false;
}

}  // namespace

BinlogClient::BinlogClient(const BinlogClientOptions& options, localdb::MariadbSession session)
    : options_(options), session_(std::move(session)) {}

BinlogClient::~BinlogClient() {
  int fd = socket_.exchange(-1);
  if (fd >= 0) ::close(fd);
}

Result<std::unique_ptr<BinlogClient>> BinlogClient::Connect(const BinlogClientOptions& options) {
  if (options.server_id == 0) {
    return InvalidArgument("the replica server_id must be a non-zero number unique among the "
                           "server's replicas (set mysql server_id in the capture options)");
  }
  localdb::SqlEndpoint endpoint = options.endpoint;
  // A silent server sends a heartbeat every period; three missed ones mean the link is dead.
  if (!HasParameter(endpoint, "read_timeout")) {
    int64_t seconds = std::max<int64_t>(
        5, (options.heartbeat_period.count() * 3 + 999) / 1000);
    endpoint.parameters.emplace_back("read_timeout", std::to_string(seconds));
  }
  EDDY_ASSIGN_OR_RETURN(localdb::MariadbSession session,
                        localdb::MariadbSession::Connect(endpoint, options.connect_timeout));
  std::unique_ptr<BinlogClient> client(new BinlogClient(options, std::move(session)));
  // Row events of up to 1 GiB (the server's own ceiling) must fit in the client's buffer.
  unsigned long max_packet = 1ul << 30;
  mysql_optionsv(client->session_.raw(), MYSQL_OPT_MAX_ALLOWED_PACKET, &max_packet);
  client->session_.raw()->net.max_packet_size = max_packet;
  // Our own descriptor of the socket: Interrupt() shuts the socket down through it, and it
  // cannot be reused by another connection while we hold it (libmariadb closes its descriptor
  // on a read error, and the number could then belong to someone else).
  int fd = static_cast<int>(mysql_get_socket(client->session_.raw()));
  client->socket_ = fd >= 0 ? ::dup(fd) : -1;
  EDDY_RETURN_IF_ERROR(client->ReadServerInfo());
  return client;
}

Result<localdb::SqlRows> BinlogClient::Query(std::string_view sql) {
  if (dumping_) return FailedPrecondition("SQL on a connection that is streaming the binlog");
  return session_.Query(sql);
}

uint64_t BinlogClient::connection_id() const {
  return mysql_thread_id(const_cast<localdb::MariadbSession&>(session_).raw());
}

Status BinlogClient::ReadServerInfo() {
  EDDY_ASSIGN_OR_RETURN(localdb::SqlRows rows,
                        session_.Query("SELECT @@version, @@server_id, @@log_bin, "
                                       "@@binlog_format, @@binlog_row_image, @@binlog_checksum"));
  if (rows.rows.empty()) return Internal("SELECT @@version returned no row");
  auto cell = [&](size_t i) { return rows.rows[0][i].value_or(""); };
  server_.version = cell(0);
  server_.mariadb = server_.version.find("MariaDB") != std::string::npos;
  server_.server_id = static_cast<uint32_t>(std::strtoul(cell(1).c_str(), nullptr, 10));
  server_.log_bin = cell(2) == "1" || Upper(cell(2)) == "ON";
  server_.binlog_format = Upper(cell(3));
  server_.binlog_row_image = Upper(cell(4));
  server_.binlog_checksum = Upper(cell(5));
  auto metadata = session_.Query("SELECT @@binlog_row_metadata");
  if (metadata.ok() && !metadata->rows.empty()) {
    server_.binlog_row_metadata = Upper(metadata->rows[0][0].value_or(""));
  }
  return Status::Ok();
}

Status BinlogClient::CheckPrerequisites() const {
  if (!server_.log_bin) {
    return FailedPrecondition("the server does not write a binary log; start it with "
                              "log_bin=mysql-bin (and binlog_format=ROW, binlog_row_image=FULL)");
  }
  if (server_.binlog_format != "ROW") {
    return FailedPrecondition("binlog_format is " + server_.binlog_format +
                              "; capture needs ROW: SET GLOBAL binlog_format='ROW' and put "
                              "binlog_format=ROW in the server configuration");
  }
  if (server_.binlog_row_image != "FULL") {
    return FailedPrecondition("binlog_row_image is " + server_.binlog_row_image +
                              "; capture needs FULL row images: SET GLOBAL "
                              "binlog_row_image='FULL'");
  }
  if (server_.server_id == options_.server_id) {
    return FailedPrecondition("the capture's replica server_id " +
                              std::to_string(options_.server_id) +
                              " equals the server's own server_id; choose another id, unique "
                              "among all servers and replicas");
  }
  return Status::Ok();
}

Status BinlogClient::MapCommandError(const std::string& what) {
  MYSQL* mysql = session_.raw();
  unsigned int code = mysql_errno(mysql);
  std::string text = mysql_error(mysql);
  std::string message = what + ": " + text + " (error " + std::to_string(code) + ")";
  if (code == kErrorReplicaSameId || text.find("same server_uuid/server_id") != std::string::npos) {
    return FailedPrecondition(message + "; the replica server_id " +
                              std::to_string(options_.server_id) +
                              " is already used by another replica of this server: configure a "
                              "unique server_id for the capture");
  }
  switch (code) {
    case ER_MASTER_FATAL_ERROR_READING_BINLOG: {  // 1236
      std::string lower = text;
      for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (lower.find("server_id") != std::string::npos ||
          lower.find("server ids") != std::string::npos ||
          lower.find("server_uuid") != std::string::npos) {
        return FailedPrecondition(message + "; the replica server_id " +
                                  std::to_string(options_.server_id) +
                                  " is already in use; configure a unique server_id");
      }
      return FailedPrecondition(message + "; the binlog file " + start_file_ +
                                " (or a later one) is no longer on the server (purged?) or "
                                "the position is invalid: take a new snapshot or start from the "
                                "current position");
    }
    case ER_SPECIFIC_ACCESS_DENIED_ERROR:
    case ER_ACCESS_DENIED_ERROR:
    case ER_DBACCESS_DENIED_ERROR:
      return PermissionDenied(message + "; grant REPLICATION SLAVE ON *.* to the capture user");
    case CR_SERVER_LOST:
    case CR_SERVER_GONE_ERROR:
    case CR_CONNECTION_ERROR:
    case CR_CONN_HOST_ERROR:
    case ER_CONNECTION_KILLED:
    case ER_SERVER_SHUTDOWN:
    case CR_NET_PACKET_TOO_LARGE:
      return Unavailable(message);
    default:
      break;
  }
  if (interrupted_) return Aborted("binlog client interrupted");
  if (code >= 2000 && code < 3000) return Unavailable(message);  // client-side (network) errors
  return Status(ErrorCode::kUnavailable, message);
}

Status BinlogClient::Register() {
  // COM_REGISTER_SLAVE: u32 server_id, u8 host len + host, u8 user len + user,
  // u8 password len + password, u16 port, u32 replication rank, u32 master id.
  std::string payload;
  PutFixed32(payload, options_.server_id);
  std::string host = "eddy";
  payload.push_back(static_cast<char>(host.size()));
  payload += host;
  payload.push_back(0);  // user
  payload.push_back(0);  // password
  PutFixed16(payload, 0);
  PutFixed32(payload, 0);
  PutFixed32(payload, 0);
  MYSQL* mysql = session_.raw();
  if (mysql->methods->db_command(mysql, COM_REGISTER_SLAVE, payload.data(), payload.size(), 0,
                                 nullptr) != 0) {
    return MapCommandError("registering as replica " + std::to_string(options_.server_id));
  }
  return Status::Ok();
}

Status BinlogClient::StartDump(const BinlogPosition& start, const std::string& gtid_state) {
  if (dumping_) return FailedPrecondition("the binlog dump already started");
  start_file_ = start.file;
  std::string checksum = server_.binlog_checksum.empty() ? "NONE" : server_.binlog_checksum;
  std::string setup = "SET @master_binlog_checksum = '" + checksum +
                      "', @source_binlog_checksum = '" + checksum +
                      "', @mariadb_slave_capability = 4, @master_heartbeat_period = " +
                      std::to_string(static_cast<uint64_t>(options_.heartbeat_period.count()) *
                                     1'000'000);
  EDDY_RETURN_IF_ERROR(session_.Execute(setup));
  if (!gtid_state.empty()) {
    if (!server_.mariadb) {
      return Unimplemented("GTID resume is implemented for MariaDB only; resume by file/position");
    }
    EDDY_RETURN_IF_ERROR(session_.Execute("SET @slave_connect_state = " + session_.Quote(gtid_state) +
                                          ", @slave_gtid_strict_mode = 0, "
                                          "@slave_gtid_ignore_duplicates = 0"));
  }
  EDDY_RETURN_IF_ERROR(Register());
  // COM_BINLOG_DUMP: u32 position, u16 flags, u32 server_id, file name (rest of packet).
  std::string payload;
  uint64_t offset = gtid_state.empty() ? std::max<uint64_t>(start.offset, 4) : 4;
  if (offset > 0xFFFFFFFFull) {
    return Unimplemented("binlog offsets above 4 GiB need COM_BINLOG_DUMP_GTID");
  }
  PutFixed32(payload, static_cast<uint32_t>(offset));
  uint16_t flags = options_.annotate_rows && server_.mariadb ? kDumpFlagSendAnnotateRows : 0;
  PutFixed16(payload, flags);
  PutFixed32(payload, options_.server_id);
  if (gtid_state.empty()) payload += start.file;
  MYSQL* mysql = session_.raw();
  if (mysql->methods->db_command(mysql, COM_BINLOG_DUMP, payload.data(), payload.size(), 1,
                                 nullptr) != 0) {
    return MapCommandError("starting the binlog dump at " + start.ToString());
  }
  dumping_ = true;
  return Status::Ok();
}

Result<std::string_view> BinlogClient::ReadEvent() {
  if (!dumping_) return FailedPrecondition("ReadEvent before StartDump");
  if (interrupted_) return Aborted("binlog client interrupted");
  MYSQL* mysql = session_.raw();
  unsigned long length = mysql_net_read_packet(mysql);
  if (length == static_cast<unsigned long>(packet_error)) {
    if (interrupted_) return Aborted("binlog client interrupted");
    return MapCommandError("reading the binlog stream");
  }
  const unsigned char* data = mysql->net.read_pos;
  if (length == 0) return Corruption("empty packet in the binlog stream");
  if (data[0] == 0xFE && length < 9) {
    return Unavailable("the server ended the binlog stream (EOF)");
  }
  if (data[0] != 0x00) {
    return Corruption("binlog stream packet starts with byte " + std::to_string(data[0]) +
                      " (expected 0x00)");
  }
  return std::string_view(reinterpret_cast<const char*>(data) + 1, length - 1);
}

void BinlogClient::Interrupt() {
  interrupted_ = true;
  int fd = socket_.load();
  if (fd >= 0) ::shutdown(fd, SHUT_RDWR);
}

Result<BinlogPosition> CurrentBinlogPosition(BinlogClient& client) {
  EDDY_ASSIGN_OR_RETURN(localdb::SqlRows rows, client.Query("SHOW MASTER STATUS"));
  if (rows.rows.empty()) {
    return FailedPrecondition("SHOW MASTER STATUS returned nothing: binary logging is off; "
                              "start the server with log_bin");
  }
  BinlogPosition position;
  position.file = rows.Get(0, "File").value_or("");
  position.offset = std::strtoull(rows.Get(0, "Position").value_or("0").c_str(), nullptr, 10);
  if (position.file.empty()) return Internal("SHOW MASTER STATUS without a file name");
  return position;
}

}  // namespace eddy::source::mysql
