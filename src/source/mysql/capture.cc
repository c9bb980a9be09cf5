#include "source/mysql/capture.h"

#include <algorithm>
#include <cctype>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "base/backoff.h"
#include "base/bytes.h"
#include "base/clock.h"
#include "base/logging.h"
#include "base/thread_name.h"
#include "log/kinesis.h"
#include "model/event.h"
#include "model/event_codec.h"
#include "source/capture_metrics.h"
#include "source/mysql/binlog_client.h"
#include "source/mysql/binlog_event.h"
#include "source/mysql/column_type.h"
#include "source/mysql/ddl_parser.h"
#include "source/mysql/incremental_snapshot.h"
#include "source/mysql/schema_history.h"
#include "source/mysql/snapshot.h"
#include "source/snapshot_signal.h"
#include "source/source_url.h"

namespace eddy::source::mysql {
namespace {

std::string UpperFirstWord(std::string_view query, size_t max_words = 1) {
  std::string out;
  size_t i = 0;
  size_t words = 0;
  // Skip leading whitespace and /* comments */.
  while (i < query.size()) {
    if (std::isspace(static_cast<unsigned char>(query[i]))) {
      ++i;
    } else if (query.substr(i, 2) == "/*") {
      size_t end = query.find("*/", i + 2);
      i = end == std::string_view::npos ? query.size() : end + 2;
    } else {
      break;
    }
  }
  while (i < query.size() && words < max_words) {
    while (i < query.size() && !std::isspace(static_cast<unsigned char>(query[i])) &&
           query[i] != ';') {
      out.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(query[i]))));
      ++i;
    }
    ++words;
    if (words < max_words) {
      while (i < query.size() && std::isspace(static_cast<unsigned char>(query[i]))) ++i;
      out.push_back(' ');
    }
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

bool IsSystemDatabase(std::string_view database) {
  return database == "mysql" || database == "information_schema" ||
         database == "performance_schema" || database == "sys";
}

// Bounded queue between the socket reader thread and the decoder.
class EventQueue {
 public:
  explicit EventQueue(size_t max_bytes) : max_bytes_(max_bytes) {}

  // Blocks while full; false when closed.
  bool Push(std::string event) {
    std::unique_lock lock(mu_);
    not_full_.wait(lock, [&] { return closed_ || bytes_ < max_bytes_ || items_.empty(); });
    if (closed_) return false;
    bytes_ += event.size();
    items_.push_back(std::move(event));
    not_empty_.notify_one();
    return true;
  }
  void Fail(Status status) {
    std::lock_guard lock(mu_);
    if (error_.ok()) error_ = std::move(status);
    not_empty_.notify_all();
  }
  void Close() {
    std::lock_guard lock(mu_);
    closed_ = true;
    not_full_.notify_all();
    not_empty_.notify_all();
  }
  bool Empty() {
    std::lock_guard lock(mu_);
    return items_.empty();
  }
  // Blocks until an event, the reader's error, or close.
  Result<std::string> Pop() {
    std::unique_lock lock(mu_);
    not_empty_.wait(lock, [&] { return closed_ || !items_.empty() || !error_.ok(); });
    if (!items_.empty()) {
      std::string event = std::move(items_.front());
      items_.pop_front();
      bytes_ -= event.size();
      not_full_.notify_one();
      return event;
    }
    if (!error_.ok()) return error_;
    return Aborted("capture stopping");
  }
  // Pop, or nullopt when nothing arrived within `timeout` (the incremental snapshot steps
  // between events also while the binlog is idle).
  Result<std::optional<std::string>> PopFor(std::chrono::milliseconds timeout) {
    {
      std::unique_lock lock(mu_);
      if (!not_empty_.wait_for(lock, timeout,
                               [&] { return closed_ || !items_.empty() || !error_.ok(); })) {
        return std::optional<std::string>();
      }
    }
    EDDY_ASSIGN_OR_RETURN(std::string event, Pop());
    return std::optional<std::string>(std::move(event));
  }

 private:
  std::mutex mu_;
  std::condition_variable not_empty_;
  std::condition_variable not_full_;
  std::deque<std::string> items_;
  size_t bytes_ = 0;
  size_t max_bytes_;
  bool closed_ = false;
  Status error_;
};

struct CachedTable {
  std::string raw_body;  // the TABLE_MAP body it was built from (maps repeat every transaction)
  TableMapEvent map;
  model::TableSchema schema;
  bool captured = false;
  // Encoded once per table map, copied into every event (captured tables only): each column
  // name as the event encoding writes it, and the table part of the partition key.
  std::vector<std::string> encoded_names;
  RowEncodePlan plan;  // how rows are encoded: the column names above and each column's kind
  std::string partition_key_table;
  TableCounters* counters = nullptr;  // captured tables: the table's event counters (metrics)
};

// A rows event of an open transaction, kept as the raw bytes the reader received (moved, not
// copied): rows are decoded into change events only at commit, when the transaction's end
// position, commit time and id are known. Raw rows are several times smaller than decoded
// events, and decoding straight into encoded records avoids holding ChangeEvents at all.
struct PendingRows {
  std::string raw;  // the whole event as received
  size_t body_offset = 0;
  size_t body_size = 0;
  uint8_t type = 0;
  uint8_t post_header = 0;
  std::shared_ptr<const CachedTable> table;
  std::shared_ptr<const std::string> annotate;  // ANNOTATE_ROWS text in force (include_query)
  // Set instead of the above for a DDL statement: one schema change (or truncate) event.
  std::shared_ptr<const DdlChange> ddl;
  std::string_view body() const { return std::string_view(raw).substr(body_offset, body_size); }
};

// A committed row of the signal or the watermark table (incremental snapshots): acted on at its
// transaction's commit, never logged.
struct ControlRow {
  bool signal = false;  // the signal table; else the watermark table
  std::string id;
  std::string type;
  std::string data;
};

struct PendingTransaction {
  bool open = false;
  bool standalone = false;  // MariaDB GTID FL_STANDALONE: no XID/COMMIT follows
  std::string gtid;
  BinlogPosition begin;
  uint32_t thread_id = 0;
  std::shared_ptr<const std::string> annotate;
  std::vector<PendingRows> rows;  // in memory until the transaction spills
  // Signal and watermark rows (incremental snapshots), in binlog order.
  std::vector<ControlRow> control;
  size_t raw_bytes = 0;
  uint64_t row_events = 0;  // rows events and DDL items
  uint64_t ddl_items = 0;
  bool ddl_only() const { return row_events == ddl_items; }
  // Beyond large_transaction_bytes the rows events go to the spill file instead of `rows`;
  // `spill_tables` are the tables they refer to (by index).
  bool spilled = false;
  std::vector<std::shared_ptr<const CachedTable>> spill_tables;
  std::vector<std::shared_ptr<const DdlChange>> spill_ddls;  // kDdl frames refer to these
  const std::string* spill_annotate = nullptr;  // last annotate text written to the spill
  std::shared_ptr<const std::string> spill_annotate_owner;
};

// The rows events of one large open transaction, written to a file in the data directory as
// they arrive and read back at its commit, so that memory stays bounded whatever the
// transaction's size. Frames: u8 kind (1 rows, 2 annotate text) | u32 table index | u8 event
// type | u8 post-header length | u32 size | size bytes (the rows event body, or the text).
// The file is scratch: truncated for every spilled transaction, never read after a restart.
class SpillFile {
 public:
  static constexpr uint8_t kRows = 1;
  static constexpr uint8_t kAnnotate = 2;
  static constexpr uint8_t kDdl = 3;  // table index = index into spill_ddls
  struct Frame {
    uint8_t kind = 0;
    uint32_t table_index = 0;
    uint8_t type = 0;
    uint8_t post_header = 0;
    std::string_view bytes;  // valid until the next Next()
  };

  SpillFile(io::FileSystem* file_system, std::string path)
      : file_system_(file_system), path_(std::move(path)) {}
  ~SpillFile() {
    if (file_ != nullptr) {
      file_.reset();
      file_system_->Remove(path_).IgnoreError();
    }
  }

  Status Start() {
    EDDY_ASSIGN_OR_RETURN(file_, file_system_->Open(path_, io::OpenMode::kCreateOrTruncate));
    buffer_.clear();
    written_ = 0;
    return Status::Ok();
  }
  Status Write(uint8_t kind, uint32_t table_index, uint8_t type, uint8_t post_header,
               std::string_view bytes) {
    buffer_.push_back(static_cast<char>(kind));
    PutFixed32(buffer_, table_index);
    buffer_.push_back(static_cast<char>(type));
    buffer_.push_back(static_cast<char>(post_header));
    PutFixed32(buffer_, static_cast<uint32_t>(bytes.size()));
    buffer_.append(bytes);
    if (buffer_.size() >= kBufferBytes) return FlushBuffer();
    return Status::Ok();
  }
  // Ends writing; reading starts at the beginning.
  Status StartReading() {
    EDDY_RETURN_IF_ERROR(FlushBuffer());
    read_offset_ = 0;
    buffer_.clear();
    buffer_pos_ = 0;
    return Status::Ok();
  }
  // The next frame, or std::nullopt at the end.
  Result<std::optional<Frame>> Next() {
    constexpr size_t kHeader = 11;
    if (read_offset_ + (buffer_.size() - buffer_pos_) == written_) return std::optional<Frame>();
    EDDY_RETURN_IF_ERROR(Fill(kHeader));
    std::string_view header(buffer_.data() + buffer_pos_, kHeader);
    ByteReader reader(header);
    Frame frame;
    EDDY_ASSIGN_OR_RETURN(frame.kind, reader.ReadFixed8());
    EDDY_ASSIGN_OR_RETURN(frame.table_index, reader.ReadFixed32());
    EDDY_ASSIGN_OR_RETURN(frame.type, reader.ReadFixed8());
    EDDY_ASSIGN_OR_RETURN(frame.post_header, reader.ReadFixed8());
    EDDY_ASSIGN_OR_RETURN(uint32_t size, reader.ReadFixed32());
    EDDY_RETURN_IF_ERROR(Fill(kHeader + size));
    frame.bytes = std::string_view(buffer_.data() + buffer_pos_ + kHeader, size);
    buffer_pos_ += kHeader + size;
    return std::optional<Frame>(frame);
  }
  uint64_t size() const { return written_; }

 private:
  static constexpr size_t kBufferBytes = 1u << 20;

  Status FlushBuffer() {
    if (buffer_.empty()) return Status::Ok();
    EDDY_RETURN_IF_ERROR(file_->Append(buffer_).WithContext("writing the spill file " + path_));
    written_ += buffer_.size();
    buffer_.clear();
    return Status::Ok();
  }
  // Makes at least `size` unread bytes available in the buffer.
  Status Fill(size_t size) {
    size_t have = buffer_.size() - buffer_pos_;
    if (have >= size) return Status::Ok();
    buffer_.erase(0, buffer_pos_);
    buffer_pos_ = 0;
    size_t want = std::max(size - have, kBufferBytes);
    want = static_cast<size_t>(std::min<uint64_t>(want, written_ - read_offset_));
    if (have + want < size) return Corruption("spill file " + path_ + " ends inside a frame");
    buffer_.resize(have + want);
    EDDY_ASSIGN_OR_RETURN(size_t got, file_->ReadAt(read_offset_, want, buffer_.data() + have));
    if (got != want) return Corruption("short read from the spill file " + path_);
    read_offset_ += want;
    return Status::Ok();
  }

  io::FileSystem* file_system_;
  std::string path_;
  std::unique_ptr<io::File> file_;
  std::string buffer_;
  size_t buffer_pos_ = 0;
  uint64_t written_ = 0;
  uint64_t read_offset_ = 0;
};

// Appends batches on its own thread so that decoding the next transactions overlaps the
// durable append (write + fsync) of the previous batch. One batch in flight at a time: Submit
// waits for the previous one first, so batches reach the log in order and at most two are in
// memory. `done` runs on the worker thread after each append (success or not).
class AppendWorker {
 public:
  struct Job {
    std::vector<log::AppendRecord> records;
    MysqlPosition position;
    uint64_t transactions = 0;
    uint64_t events = 0;
    EventTally tally;                              // events by table and op (metrics)
    std::vector<CaptureProbe::CommitRun> commits;  // commit times of its transactions
  };
  using Done = std::function<void(const Job&, const Result<log::AppendResult>&, int64_t)>;

  AppendWorker(log::Stream* stream, Done done)
      : stream_(stream), done_(std::move(done)), thread_([this] { Loop(); }) {}
  ~AppendWorker() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
      cv_.notify_all();
    }
    thread_.join();
  }
  AppendWorker(const AppendWorker&) = delete;
  AppendWorker& operator=(const AppendWorker&) = delete;

  // Waits for the batch in flight, then hands `job` over. Returns the previous batch's error.
  // `spent` receives the records of the batch before (their memory, for reuse).
  Status Submit(Job job, std::vector<log::AppendRecord>* spent) {
    EDDY_RETURN_IF_ERROR(Wait());
    std::lock_guard lock(mu_);
    spent->swap(spent_);
    spent_.clear();
    job_ = std::move(job);
    busy_ = true;
    cv_.notify_all();
    return Status::Ok();
  }
  // Waits until no batch is in flight; returns (and clears) the error of the last one.
  Status Wait() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !busy_; });
    Status error = std::move(error_);
    error_ = Status::Ok();
    return error;
  }

 private:
  void Loop() {
    std::unique_lock lock(mu_);
    while (true) {
      cv_.wait(lock, [&] { return stop_ || busy_; });
      if (!busy_) return;  // stopping and idle
      Job job = std::move(job_);
      lock.unlock();
      auto began = std::chrono::steady_clock::now();
      auto result = stream_->AppendTransactionReusing(&job.records, SourcePosition(job.position));
      int64_t nanos = (std::chrono::steady_clock::now() - began).count();
      done_(job, result, nanos);
      lock.lock();
      spent_ = std::move(job.records);
      if (!result.ok()) error_ = result.status().WithContext("appending to the log");
      busy_ = false;
      cv_.notify_all();
    }
  }

  log::Stream* stream_;
  Done done_;
  std::mutex mu_;
  std::condition_variable cv_;
  Job job_;
  std::vector<log::AppendRecord> spent_;  // the last batch's records, back from the log
  bool busy_ = false;
  bool stop_ = false;
  Status error_;
  std::thread thread_;  // last: starts after the members above exist
};

}  // namespace

class MysqlCapture::Runner {
 public:
  Runner(MysqlCaptureOptions options, std::shared_ptr<log::Stream> stream, SourceUrl url)
      : options_(std::move(options)), stream_(std::move(stream)), url_(std::move(url)) {
    for (const std::string& table : options_.tables) filter_.insert(table);
    progress_.state = CaptureState::kStarting;
    probe_ = std::make_unique<CaptureProbe>(stream_->name());
    InitIncremental();
  }

  void Run() {
    binlog_poller_ = std::make_unique<PeriodicPoller>(options_.lag_metrics_interval,
                                                      [this] { PollBinlogLag(); });
    Status status = RunLoop();
    binlog_poller_.reset();
    appender_.reset();  // idle by now: every session drains it before returning
    std::lock_guard lock(mu_);
    if (status.ok() || stopping_) {
      progress_.state = stopping_ ? CaptureState::kStopped : CaptureState::kFinished;
    } else {
      progress_.state = CaptureState::kFailed;
      progress_.last_error = status.ToString();
      log_->error("mysql capture failed error=\"{}\"", status.ToString());
    }
    final_status_ = stopping_ ? Status::Ok() : status;
    finished_ = true;
    finished_cv_.notify_all();
  }

  void RequestStop() {
    std::lock_guard lock(mu_);
    stopping_ = true;
    if (client_ != nullptr) client_->Interrupt();
    if (queue_ != nullptr) queue_->Close();
    if (snapshot_ != nullptr) snapshot_->Cancel();
    finished_cv_.notify_all();
  }

  Status final_status() {
    std::lock_guard lock(mu_);
    return final_status_;
  }

  bool WaitUntilFinished(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    return finished_cv_.wait_for(lock, timeout, [&] { return finished_; });
  }

  MysqlCaptureProgress progress() const {
    std::lock_guard lock(mu_);
    return progress_;
  }

  uint64_t dump_connection_id() const {
    std::lock_guard lock(mu_);
    return dump_connection_id_;
  }

  void QueueSnapshot(SnapshotRequest request) { snapshotter_->Queue(std::move(request)); }
  void QueueSnapshot(SnapshotControl control) { snapshotter_->Queue(std::move(control)); }

 private:
  bool stopping() const {
    std::lock_guard lock(mu_);
    return stopping_;
  }
  void SetState(CaptureState state) {
    std::lock_guard lock(mu_);
    progress_.state = state;
  }

  bool Captured(const std::string& database, const std::string& table) const {
    if (IsSystemDatabase(database) || IsControlTable(database, table)) return false;
    if (filter_.empty()) return true;
    return filter_.count(database + "." + table) > 0;
  }
  bool DatabaseCaptured(const std::string& database) const {
    if (IsSystemDatabase(database)) return false;
    if (filter_.empty()) return true;
    for (const std::string& entry : filter_) {
      if (entry.compare(0, database.size() + 1, database + ".") == 0) return true;
    }
    return false;
  }

  BinlogClientOptions ClientOptions() const {
    BinlogClientOptions client;
    client.endpoint = url_.ToEndpoint();
    client.server_id = options_.server_id;
    client.heartbeat_period = options_.heartbeat_period;
    client.annotate_rows = options_.include_query;
    return client;
  }

  Status LoadCollations(BinlogClient& client) {
    auto rows = client.Query(
        "SELECT ID, CHARACTER_SET_NAME, COLLATION_NAME FROM information_schema.COLLATIONS");
    if (!rows.ok()) return Status::Ok();  // the built-in table still applies
    for (const auto& row : rows->rows) {
      if (!row[0] || !row[1]) continue;
      const auto id = static_cast<uint32_t>(std::strtoul(row[0]->c_str(), nullptr, 10));
      collations_[id] = *row[1];
      if (row[2]) collation_names_[id] = *row[2];
    }
    return Status::Ok();
  }

  // On the poller's thread, with a connection of its own: binlog bytes on the server after
  // the log's durable position (SHOW BINARY LOGS sizes), so the dump connection never waits.
  void PollBinlogLag() {
    ReplicationStatus replication;
    replication.kind = "mysql";
    Status status = [&]() -> Status {
      const MysqlPosition* durable = nullptr;
      SourcePosition highest = stream_->HighestDurablePosition();
      durable = highest.mysql();
      if (durable != nullptr) {
        replication.binlog_file = durable->end.file;
        replication.binlog_position = durable->end.offset;
        replication.gtid = durable->gtid.text;
      }
      if (lag_client_ == nullptr) {
        BinlogClientOptions client = ClientOptions();
        client.connect_timeout = std::chrono::seconds(5);
        EDDY_ASSIGN_OR_RETURN(lag_client_, BinlogClient::Connect(client));
      }
      EDDY_ASSIGN_OR_RETURN(auto rows, lag_client_->Query("SHOW BINARY LOGS"));
      std::optional<int64_t> behind;
      for (const auto& row : rows.rows) {
        if (!row[0] || !row[1]) continue;
        int64_t size = std::strtoll(row[1]->c_str(), nullptr, 10);
        replication.server_binlog_file = *row[0];  // the last one listed is the current one
        replication.server_binlog_position = static_cast<uint64_t>(std::max<int64_t>(size, 0));
        if (durable == nullptr || durable->end.file.empty()) continue;
        if (*row[0] == durable->end.file) {
          behind = std::max<int64_t>(size - static_cast<int64_t>(durable->end.offset), 0);
        } else if (behind.has_value()) {
          *behind += size;  // files after the durable one (listed in order)
        }
      }
      replication.lag_bytes = behind;
      probe_->SetSourceLagBytes(behind);  // unknown when the durable file is gone
      return Status::Ok();
    }();
    if (!status.ok()) {
      lag_client_.reset();
      probe_->SetSourceLagBytes(std::nullopt);
      replication.error = status.ToString();
      log_->debug("binlog lag query failed error=\"{}\"", status.ToString());
    }
    replication.polled_at_nanos = SystemClock::Instance().NowNanos();
    probe_->SetReplicationStatus(std::move(replication));
  }

  Status RunLoop() {
    log_ = logging::Get("mysql");
    file_system_ = options_.file_system != nullptr ? options_.file_system : io::DefaultFileSystem();
    appender_ = std::make_unique<AppendWorker>(
        stream_.get(), [this](const AppendWorker::Job& job, const Result<log::AppendResult>& result,
                              int64_t nanos) { AppendDone(job, result, nanos); });
    EDDY_ASSIGN_OR_RETURN(history_, SchemaHistory::Open(options_.file_system, options_.data_dir));
    SourcePosition highest = stream_->HighestDurablePosition();
    if (!highest.empty() && highest.mysql() == nullptr) {
      return FailedPrecondition("stream " + stream_->name() +
                                " holds positions of another source kind; give the MySQL "
                                "capture its own stream");
    }
    if (highest.mysql() != nullptr) {
      resume_ = highest.mysql()->end;
      durable_ = *highest.mysql();
    }
    {
      std::lock_guard lock(mu_);
      progress_.durable = durable_.end;
      progress_.durable_gtid = durable_.gtid.text;
    }

    BackoffPolicy policy;
    policy.initial = options_.reconnect_initial_backoff;
    policy.max = options_.reconnect_max_backoff;
    Backoff backoff(policy);
    uint32_t failures = 0;
    bool first_connection = true;
    while (!stopping()) {
      Status status = Session(first_connection);
      if (stopping()) return Status::Ok();
      if (status.ok()) return Status::Ok();  // initial_only finished
      bool same_id =
          status.message().find("is already used by another replica") != std::string::npos;
      // Our own previous dump thread may still be ending (after a kill or a network drop) when
      // we reconnect; the server then reports the id as taken. A few retries tell the two apart.
      if (same_id && ++same_id_errors_ < kMaxSameIdErrors) {
        log_->warn("mysql replica server_id reported in use; retrying server_id={} attempt={}",
                   options_.server_id, same_id_errors_);
      } else if (!status.IsRetriable()) {
        return status;
      }
      if (!same_id) same_id_errors_ = 0;
      EDDY_RETURN_IF_ERROR(CheckFlapping(status));
      session_started_ = {};
      ++failures;
      if (options_.max_reconnect_attempts != 0 && failures > options_.max_reconnect_attempts) {
        return status.WithContext("giving up after " + std::to_string(failures - 1) +
                                  " reconnect attempts");
      }
      if (made_progress_) {
        failures = 1;
        backoff.Reset();
        made_progress_ = false;
      }
      {
        std::lock_guard lock(mu_);
        progress_.state = CaptureState::kReconnecting;
        progress_.reconnects++;
        progress_.last_error = status.ToString();
        dump_connection_id_ = 0;
      }
      std::chrono::milliseconds delay = backoff.NextDelay();
      log_->warn("mysql binlog connection lost; reconnecting backoff_ms={} error=\"{}\"",
                 delay.count(), status.ToString());
      std::unique_lock lock(mu_);
      finished_cv_.wait_for(lock, delay, [&] { return stopping_; });
      lock.unlock();
      first_connection = false;
    }
    return Status::Ok();
  }

  // One connection: connect, check, (snapshot,) dump and decode until an error or stop.
  Status Session(bool first_connection) {
    EDDY_ASSIGN_OR_RETURN(std::unique_ptr<BinlogClient> client,
                          BinlogClient::Connect(ClientOptions()));
    EDDY_RETURN_IF_ERROR(client->CheckPrerequisites());
    const ServerInfo& server = client->server();
    if (server.binlog_row_metadata != "FULL") {
      return FailedPrecondition(
          "binlog_row_metadata is '" + server.binlog_row_metadata +
          "'; capture needs FULL (column names, signedness, charsets, ENUM/SET labels and the "
          "primary key in every TABLE_MAP): SET GLOBAL binlog_row_metadata='FULL' "
          "(MariaDB 10.5+ / MySQL 8.0.1+)");
    }
    mariadb_ = server.mariadb;
    if (collations_.empty()) EDDY_RETURN_IF_ERROR(LoadCollations(*client));
    EDDY_RETURN_IF_ERROR(StartIncremental());

    if (first_connection) {
      bool no_position = !resume_.has_value();
      bool snapshot = options_.snapshot_mode == SnapshotMode::kAlways ||
                      (no_position && options_.snapshot_mode != SnapshotMode::kNoData);
      if (snapshot && options_.snapshot_type == SnapshotType::kIncremental) {
        // Streaming starts now; the tables are read in chunks while it runs.
        EDDY_RETURN_IF_ERROR(PlanInitialIncremental());
      } else if (snapshot) {
        EDDY_RETURN_IF_ERROR(RunSnapshot(server));
        if (options_.snapshot_mode == SnapshotMode::kInitialOnly) return Status::Ok();
      }
      if (!resume_.has_value()) {
        if (options_.start_position.has_value()) {
          resume_ = *options_.start_position;
        } else {
          EDDY_ASSIGN_OR_RETURN(BinlogPosition current, CurrentBinlogPosition(*client));
          resume_ = current;
        }
      }
    } else if (!resume_.has_value()) {
      EDDY_ASSIGN_OR_RETURN(BinlogPosition current, CurrentBinlogPosition(*client));
      resume_ = current;
    }
    Status available = CheckBinlogAvailable(*client, *resume_);
    if (!available.ok()) {
      if (options_.snapshot_mode != SnapshotMode::kWhenNeeded) return available;
      log_->warn("mysql resume position lost; taking a fresh snapshot (when_needed) error=\"{}\"",
                 available.ToString());
      EDDY_RETURN_IF_ERROR(RunSnapshot(server));
    }

    // Re-read the durable position: a previous session may have appended more.
    SourcePosition highest = stream_->HighestDurablePosition();
    if (highest.mysql() != nullptr && highest.mysql()->end > *resume_) {
      resume_ = highest.mysql()->end;
      durable_ = *highest.mysql();
    }
    EDDY_RETURN_IF_ERROR(CheckServerIdUnused(*client));
    std::string gtid_state = server.mariadb ? GtidStateAt(*client, *resume_) : std::string();
    EDDY_RETURN_IF_ERROR(client->StartDump(*resume_, gtid_state));
    session_started_ = std::chrono::steady_clock::now();
    log_->info("mysql binlog streaming start={} gtid_state=\"{}\" server_id={} server=\"{}\"",
               resume_->ToString(), gtid_state, options_.server_id, server.version);
    {
      std::lock_guard lock(mu_);
      progress_.resume_gtid_state = gtid_state;
    }
    EventQueue queue(options_.queue_bytes);
    {
      std::lock_guard lock(mu_);
      if (stopping_) return Status::Ok();
      client_ = client.get();
      queue_ = &queue;
      dump_connection_id_ = client->connection_id();
      progress_.state = CaptureState::kStreaming;
    }
    binlog_poller_->Poke();  // a position is known now: report the lag without waiting
    BinlogClient* raw_client = client.get();
    std::thread reader([raw_client, &queue] {
      while (true) {
        auto event = raw_client->ReadEvent();
        if (!event.ok()) {
          queue.Fail(event.status());
          return;
        }
        if (!queue.Push(std::string(*event))) return;
      }
    });
    Status status = Stream(queue, server);
    {
      std::lock_guard lock(mu_);
      client_ = nullptr;
      queue_ = nullptr;
    }
    const uint64_t dump_thread = raw_client->connection_id();
    raw_client->Interrupt();
    queue.Close();
    reader.join();
    if (stopping()) EndDumpThread(dump_thread);
    return status;
  }

  // The server's dump thread notices a closed connection only when it next writes (an event or
  // a heartbeat, up to heartbeat_period later); until then it stays registered under our
  // server_id, and a capture started again at once would find the id taken
  // (CheckServerIdUnused). On a clean stop the dump thread is ended at once: a user may kill
  // the threads of its own connections. Best effort: a failure only means the next start may
  // wait for the old registration to go.
  void EndDumpThread(uint64_t connection_id) {
    if (connection_id == 0) return;
    auto session = localdb::MariadbSession::Connect(url_.ToEndpoint(), std::chrono::seconds(5));
    if (!session.ok()) return;
    Status killed = session->Execute("KILL CONNECTION " + std::to_string(connection_id));
    if (!killed.ok()) {
      log_->debug("mysql could not end the dump thread id={} error=\"{}\"", connection_id,
                  killed.ToString());
    }
  }

  // Another replica registered with our server_id makes the server kill one of the two dump
  // threads whenever the other connects: an endless disconnect loop. SHOW SLAVE HOSTS (needs
  // REPLICATION MASTER ADMIN on MariaDB 10.5+) lists registered replicas; our own previous
  // registration disappears when our old dump thread ends, so a hit is re-checked briefly.
  Status CheckServerIdUnused(BinlogClient& client) {
    for (int attempt = 0; attempt < 4; ++attempt) {
      auto rows = client.Query("SHOW SLAVE HOSTS");
      if (!rows.ok()) return Status::Ok();  // no privilege: the flapping check below applies
      bool taken = false;
      for (size_t i = 0; i < rows->rows.size(); ++i) {
        if (rows->Get(i, "Server_id").value_or("") == std::to_string(options_.server_id)) {
          taken = true;
        }
      }
      if (!taken) return Status::Ok();
      std::unique_lock lock(mu_);
      if (finished_cv_.wait_for(lock, std::chrono::milliseconds(500), [&] { return stopping_; })) {
        return Aborted("capture stopping");
      }
    }
    return FailedPrecondition("another replica is registered with server_id " +
                              std::to_string(options_.server_id) +
                              " (SHOW SLAVE HOSTS); the server would disconnect one of them "
                              "whenever the other connects. Give this capture a unique "
                              "server_id");
  }

  // Called after a session ended by a lost connection: many short-lived sessions in a row mean
  // the server keeps dropping us, which is what a duplicate server_id looks like when SHOW
  // SLAVE HOSTS is not permitted.
  Status CheckFlapping(const Status& lost) {
    auto lived = std::chrono::steady_clock::now() - session_started_;
    if (session_started_.time_since_epoch().count() != 0 && lived < std::chrono::seconds(3)) {
      ++short_sessions_;
    } else {
      short_sessions_ = 0;
    }
    if (short_sessions_ >= kMaxShortSessions) {
      return FailedPrecondition(
          "the server closed the binlog connection " + std::to_string(short_sessions_) +
          " times in a row within seconds of each start (last: " + lost.message() +
          "); this is what happens when another replica uses the same server_id " +
          std::to_string(options_.server_id) + ": give this capture a unique server_id");
    }
    return Status::Ok();
  }

  // MariaDB: the server's GTID state (every domain's last GTID) at the binlog position `at`
  // (BINLOG_GTID_POS), so the dump resumes by GTID (@slave_connect_state) at exactly the
  // transaction after our checkpoint, with the server checking the GTID sequence. Empty (resume
  // by file/offset) when the server has no GTIDs, or cannot map the position.
  std::string GtidStateAt(BinlogClient& client, const BinlogPosition& at) {
    for (char c : at.file) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '_') {
        return "";
      }
    }
    auto rows = client.Query("SELECT BINLOG_GTID_POS('" + at.file + "', " +
                             std::to_string(at.offset) + ")");
    if (!rows.ok() || rows->rows.empty() || !rows->rows[0][0].has_value()) return "";
    return *rows->rows[0][0];
  }

  // Fails with a message naming the file when the resume file is no longer on the server.
  Status CheckBinlogAvailable(BinlogClient& client, const BinlogPosition& position) {
    auto rows = client.Query("SHOW BINARY LOGS");
    if (!rows.ok()) return Status::Ok();  // privilege missing: the dump reports it instead
    for (size_t i = 0; i < rows->rows.size(); ++i) {
      if (rows->rows[i][0] && *rows->rows[i][0] == position.file) return Status::Ok();
    }
    std::string oldest = rows->rows.empty() ? "" : rows->rows[0][0].value_or("");
    return FailedPrecondition("binlog file " + position.file + " needed to resume at " +
                              position.ToString() + " is no longer on the server (oldest is " +
                              oldest +
                              "; purged or expired): changes after that position are lost to "
                              "capture; take a new snapshot (snapshot mode always, or a new "
                              "stream)");
  }

  Status RunSnapshot(const ServerInfo& server) {
    SetState(CaptureState::kSnapshot);
    SnapshotOptions snapshot_options;
    snapshot_options.endpoint = url_.ToEndpoint();
    snapshot_options.tables = options_.tables;
    snapshot_options.chunk_rows = options_.snapshot_chunk_rows;
    snapshot_options.parallelism = options_.snapshot_parallelism;
    snapshot_options.server_name = options_.server_name;
    snapshot_options.mariadb = server.mariadb;
    snapshot_options.history = history_.get();
    snapshot_options.schemas = options_.schemas.get();
    Snapshotter snapshotter(snapshot_options, stream_);
    {
      std::lock_guard lock(mu_);
      snapshot_ = &snapshotter;
    }
    uint64_t rows_counted = 0;
    std::map<std::string, uint64_t> table_rows;  // counted as op r events once durable
    Result<MysqlPosition> result = snapshotter.Run([&](const SnapshotProgress& p) {
      if (p.rows > rows_counted && !p.table.empty()) {
        probe_->AddSnapshotRows(p.table, p.rows - rows_counted);
        table_rows[p.table] += p.rows - rows_counted;
      }
      rows_counted = p.rows;
      probe_->SetSnapshotTablesRemaining(p.tables - p.tables_done);
      std::lock_guard lock(mu_);
      progress_.snapshot_rows = p.rows;
      progress_.snapshot_tables = p.tables;
      progress_.snapshot_tables_done = p.tables_done;
    });
    {
      std::lock_guard lock(mu_);
      snapshot_ = nullptr;
    }
    if (!result.ok()) return result.status().WithContext("snapshot");
    for (const auto& [table, rows] : table_rows) {
      probe_->Table(table)->For(model::Operation::kRead).Increment(static_cast<double>(rows));
    }
    resume_ = result->end;
    durable_ = *result;
    made_progress_ = true;
    std::lock_guard lock(mu_);
    progress_.durable = durable_.end;
    progress_.durable_gtid = durable_.gtid.text;
    return Status::Ok();
  }

  // ---- incremental snapshots (source/incremental_snapshot.h: the shared driver;
  // mysql/incremental_snapshot.h: watermark table and chunk reads; docs/snapshots.md) ----

  void InitIncremental() {
    IncrementalSnapshotter::Options options;
    options.file_system =
        options_.file_system != nullptr ? options_.file_system : io::DefaultFileSystem();
    options.state_dir = options_.data_dir;
    options.log_module = "mysql";
    options.resolve_table = [this](std::string_view name) -> Result<std::string> {
      std::string qualified = name.find('.') == std::string_view::npos
                                  ? url_.database + "." + std::string(name)
                                  : std::string(name);
      EDDY_ASSIGN_OR_RETURN(auto split, SplitTableName(qualified, "table"));
      if (!Captured(split.first, split.second)) {
        std::string tables;
        for (const std::string& table : filter_) tables += (tables.empty() ? "" : ", ") + table;
        return FailedPrecondition("this stream does not capture it (the stream's tables: " +
                                  (tables.empty() ? std::string("every table") : tables) + ")");
      }
      return qualified;
    };
    options.available = [this]() -> Status {
      if (!watermark_table_error_.empty()) return FailedPrecondition(watermark_table_error_);
      return Status::Ok();
    };
    snapshotter_ = std::make_unique<IncrementalSnapshotter>(std::move(options));
    watermark_id_ = "eddy-" + std::to_string(options_.server_id);
    std::string watermark = options_.watermark_table;
    if (watermark.empty() && !url_.database.empty()) {
      watermark = url_.database + "." + std::string(kDefaultWatermarkTable);
    }
    if (watermark.empty()) {
      watermark_table_error_ =
          "incremental snapshots write their watermarks to a table: name it with "
          "source.watermark_table = \"database.table\" (or put a database in the source URL)";
    } else if (auto split = SplitTableName(watermark, "source.watermark_table"); split.ok()) {
      watermark_table_ = *split;
    } else {
      watermark_table_error_ = split.status().message();
    }
    if (auto split = SplitTableName(options_.signal_table, "source.signal_table"); split.ok()) {
      signal_table_ = *split;
    }
  }

  bool IsControlTable(const std::string& database, const std::string& table) const {
    return (watermark_table_.second == table && watermark_table_.first == database) ||
           (signal_table_.second == table && signal_table_.first == database);
  }

  Status EnsureChunkReader() {
    if (chunk_reader_ != nullptr) return Status::Ok();
    EDDY_ASSIGN_OR_RETURN(std::unique_ptr<ChunkReader> reader, NewChunkReader());
    if (watermark_table_error_.empty()) {
      EDDY_RETURN_IF_ERROR(
          reader->EnsureControlTable(watermark_table_.first + "." + watermark_table_.second));
    }
    if (!signal_table_.first.empty()) {
      EDDY_RETURN_IF_ERROR(reader->EnsureControlTable(options_.signal_table));
    }
    chunk_reader_ = std::move(reader);
    return Status::Ok();
  }

  // A reader on a connection of its own (the capture's, or a worker's with
  // snapshot_parallelism).
  Result<std::unique_ptr<ChunkReader>> NewChunkReader() {
    ChunkReaderOptions options;
    options.endpoint = url_.ToEndpoint();
    options.mariadb = mariadb_;
    options.server_name = options_.server_name;
    options.watermark_table = watermark_table_.first + "." + watermark_table_.second;
    options.watermark_id = watermark_id_;
    options.assign_version = [this](model::TableSchema& schema) -> Status {
      if (options_.schemas != nullptr) {
        SetTypeModifiers(schema);
        EDDY_ASSIGN_OR_RETURN(schema.version, options_.schemas->AssignVersion(schema));
        return Status::Ok();
      }
      return history_->AssignVersion(schema, BinlogPosition{current_file_, current_offset_});
    };
    return ChunkReader::Connect(std::move(options));
  }

  // Each session: the progress file against the log (the pending chunk rule), a new attempt id;
  // the signal table exists before streaming starts.
  Status StartIncremental() {
    chunk_reader_.reset();
    chunk_workers_.clear();
    EDDY_RETURN_IF_ERROR(snapshotter_->Load(stream_->HighestDurablePosition()));
    PublishIncremental();
    if (!signal_table_.first.empty()) EDDY_RETURN_IF_ERROR(EnsureChunkReader());
    return Status::Ok();
  }

  Status PlanInitialIncremental() {
    // A planned initial snapshot resumes (source.snapshot_mode = always: a finished one is
    // taken again).
    if (snapshotter_->InitialPlanned() &&
        (options_.snapshot_mode != SnapshotMode::kAlways || !snapshotter_->Complete())) {
      return Status::Ok();
    }
    if (!watermark_table_error_.empty()) return FailedPrecondition(watermark_table_error_);
    EDDY_RETURN_IF_ERROR(EnsureChunkReader());
    EDDY_ASSIGN_OR_RETURN(std::vector<std::string> tables,
                          chunk_reader_->CapturedTables(
                              [this](const std::string& database, const std::string& table) {
                                return Captured(database, table);
                              }));
    EDDY_RETURN_IF_ERROR(snapshotter_->PlanInitial(std::move(tables)));
    PublishIncremental();
    return Status::Ok();
  }

  void PublishIncremental() {
    published_changes_ = snapshotter_->changes();
    std::string status = snapshotter_->StatusName();
    std::lock_guard lock(mu_);
    progress_.incremental_snapshot = std::move(status);
    progress_.incremental_chunks = snapshotter_->chunks_done();
    progress_.incremental_rows = snapshotter_->rows_done();
  }

  // Between two binlog events: takes requests; when no chunk is in flight and the previous one
  // is durable, reads the next chunk between its low and high watermark.
  Status StepIncremental() {
    EDDY_RETURN_IF_ERROR(snapshotter_->TakeRequests());
    Status stepped = snapshotter_->Idle() ? Status::Ok() : ReadNextChunk();
    if (snapshotter_->changes() != published_changes_) PublishIncremental();
    return stepped;
  }

  // Reads the next chunks: up to snapshot_parallelism entries (tables, or key ranges of a large
  // table split on its first chunk), each between its own low and high watermark; the low
  // watermarks are written first, then every chunk is read on its own connection at the same
  // time, then each chunk's rows are handed over and its high watermark written.
  Status ReadNextChunk() {
    auto drain = [this]() -> Result<SourcePosition> {
      EDDY_RETURN_IF_ERROR(DrainAppends());
      return stream_->HighestDurablePosition();
    };
    const size_t parallelism = std::max<size_t>(options_.snapshot_parallelism, 1);
    EDDY_ASSIGN_OR_RETURN(
        std::vector<TableSnapshotProgress*> entries,
        snapshotter_->NextTables(stream_->HighestDurablePosition(), drain, parallelism));
    if (entries.empty()) return Status::Ok();
    EDDY_RETURN_IF_ERROR(EnsureChunkReader());
    auto lost = [this](Status status) {
      snapshotter_->AbandonChunks();
      chunk_reader_.reset();
      chunk_workers_.clear();
      return status;
    };
    while (chunk_workers_.size() + 1 < entries.size()) {
      Result<std::unique_ptr<ChunkReader>> worker = NewChunkReader();
      if (!worker.ok()) return lost(worker.status());
      chunk_workers_.push_back(std::move(*worker));
    }
    auto reader_of = [this](size_t i) {
      return i == 0 ? chunk_reader_.get() : chunk_workers_[i - 1].get();
    };
    struct Pending {
      TableSnapshotProgress* table = nullptr;
      uint64_t sequence = 0;
      Status status;  // of the read
      Chunk chunk;
    };
    std::vector<Pending> pending;
    std::set<std::string> considered;  // tables looked at for a split in this step
    for (size_t i = 0; i < entries.size(); ++i) {
      TableSnapshotProgress* table = entries[i];
      const std::string& name = table->table;
      // Described on the capture thread by every reader that reads it (schema versions).
      Result<std::pair<model::TableId, std::vector<std::string>>> key = reader_of(i)->Key(name);
      if (!key.ok()) {
        if (key.status().IsRetriable()) return lost(key.status());
        return snapshotter_->Skip(*table, key.status().message());
      }
      if (parallelism > 1 && IncrementalSnapshotter::Splittable(*table) &&
          considered.insert(name).second) {
        Result<std::vector<std::vector<std::string>>> boundaries = chunk_reader_->SplitPoints(
            name, table->condition, parallelism, options_.snapshot_chunk_rows);
        if (!boundaries.ok()) {
          if (boundaries.status().IsRetriable()) return lost(boundaries.status());
          return snapshotter_->Skip(
              *table, "splitting into key ranges failed: " + boundaries.status().message());
        }
        if (!boundaries->empty()) {
          EDDY_RETURN_IF_ERROR(snapshotter_->SplitTable(*table, std::move(*boundaries)));
          return Status::Ok();  // the next step reads the ranges
        }
      }
      pending.push_back(Pending{table, 0, Status::Ok(), Chunk{}});
    }
    for (Pending& chunk : pending) {
      EDDY_ASSIGN_OR_RETURN(auto key, chunk_reader_->Key(chunk.table->table));
      IncrementalSnapshotter::ChunkStart start =
          snapshotter_->BeginChunk(*chunk.table, key.first, key.second);
      chunk.sequence = start.sequence;
      if (Status wrote = chunk_reader_->WriteWatermark(start.low); !wrote.ok()) return lost(wrote);
    }
    {
      auto read = [this, &pending](size_t i, ChunkReader* reader) {
        const TableSnapshotProgress& table = *pending[i].table;
        Result<Chunk> chunk = reader->Read(table.table, table.condition, table.last_key,
                                           table.upper_key, options_.snapshot_chunk_rows);
        if (chunk.ok()) {
          pending[i].chunk = std::move(*chunk);
        } else {
          pending[i].status = chunk.status();
        }
      };
      std::vector<std::thread> threads;
      for (size_t i = 1; i < pending.size(); ++i) threads.emplace_back(read, i, reader_of(i));
      read(0, reader_of(0));
      for (std::thread& thread : threads) thread.join();
    }
    for (Pending& entry : pending) {
      TableSnapshotProgress* table = entry.table;
      Chunk* chunk = &entry.chunk;
      if (!entry.status.ok()) {
        if (entry.status.IsRetriable()) return lost(entry.status);
        // A condition the server rejects, a table gone or changed: skipped with its words.
        snapshotter_->AbandonChunk(entry.sequence);
        if (table->state != TableSnapshotState::kPending) continue;  // skipped already
        EDDY_RETURN_IF_ERROR(snapshotter_->Skip(*table, entry.status.message()));
        continue;
      }
      bool last = chunk->rows.size() < options_.snapshot_chunk_rows;
      std::vector<std::string> last_key = chunk->rows.empty() ? table->last_key : chunk->last_key;
      std::string high = snapshotter_->ReadChunk(entry.sequence, std::move(chunk->rows),
                                                 chunk->schema_version, std::move(last_key), last);
      if (Status wrote = chunk_reader_->WriteWatermark(high); !wrote.ok()) return lost(wrote);
    }
    return Status::Ok();
  }

  static std::string ControlText(const std::optional<model::Value>& value) {
    if (!value.has_value() || value->is_null()) return "";
    if (const std::string* text = value->TryGet<std::string>()) return *text;
    if (const model::BytesValue* bytes = value->TryGet<model::BytesValue>()) return bytes->data;
    return "";
  }

  // Rows of the signal or watermark table: kept with the transaction, acted on at its commit.
  Status HandleControlRows(uint8_t type, std::string_view body, uint8_t post_header,
                           const TableMapEvent& map) {
    bool signal = signal_table_.second == map.table && signal_table_.first == map.database;
    if (!map.has_column_names) {
      return FailedPrecondition("TABLE_MAP of " + map.database + "." + map.table +
                                " has no column names: set binlog_row_metadata=FULL");
    }
    EDDY_ASSIGN_OR_RETURN(RowsEvent rows, ParseRowsEvent(type, body, post_header, map));
    if (rows.kind == RowsKind::kDelete) return Status::Ok();
    auto column = [&](std::string_view name) -> int {
      for (size_t i = 0; i < map.columns.size(); ++i) {
        if (map.columns[i].name == name) return static_cast<int>(i);
      }
      return -1;
    };
    int id = column("id");
    int kind = column("type");
    int data = column("data");
    if (id < 0 || kind < 0) {
      log_->error("ignoring rows of {}.{}: a signal table has the columns id, type and data",
                  map.database, map.table);
      return Status::Ok();
    }
    if (!pending_.open) BeginTransaction("", false, current_offset_);
    const size_t step = rows.kind == RowsKind::kUpdate ? 2 : 1;  // updates: before, after
    for (size_t i = step - 1; i < rows.rows.size(); i += step) {
      const RowImage& image = rows.rows[i];
      ControlRow row;
      row.signal = signal;
      row.id = ControlText(image[static_cast<size_t>(id)]);
      row.type = ControlText(image[static_cast<size_t>(kind)]);
      if (data >= 0) row.data = ControlText(image[static_cast<size_t>(data)]);
      // Another capture's watermarks (its own row id) are not ours.
      if (!signal && (row.id != watermark_id_ || row.type != kWatermarkPrefix)) continue;
      pending_.control.push_back(std::move(row));
    }
    return Status::Ok();
  }

  void OnSignal(const ControlRow& row) {
    Result<SnapshotSignal> signal = ParseSnapshotSignal("signal:" + row.id, row.type, row.data);
    if (!signal.ok()) {
      log_->error("ignoring a bad signal row table={} error=\"{}\"", options_.signal_table,
                  signal.status().message());
      return;
    }
    log_->info("signal received table={} id={} type={}", options_.signal_table, row.id, row.type);
    Status applied;
    switch (signal->kind) {
      case SnapshotSignal::Kind::kExecute:
        applied = snapshotter_->AddRequest(signal->request);
        break;
      case SnapshotSignal::Kind::kControl:
        applied = snapshotter_->ApplyControl(signal->control);
        break;
      case SnapshotSignal::Kind::kLog:
        log_->info("signal log id={} message=\"{}\"", row.id, signal->message);
        break;
    }
    if (!applied.ok()) {
      log_->error("signal id={} could not be applied error=\"{}\"", row.id, applied.ToString());
    }
  }

  // A committed transaction with signal or watermark rows, in commit order. At our high
  // watermark the chunk's surviving rows join the batch at this transaction's position.
  Status OnControlRows(const std::vector<ControlRow>& rows, const MysqlPosition& position,
                       uint32_t timestamp) {
    for (const ControlRow& row : rows) {
      if (row.signal) {
        OnSignal(row);
        continue;
      }
      // The table's previous chunk, read ahead of this one, may still be in the batch or
      // queued for the log; the batch holds whole transactions before this one.
      auto drain = [this]() -> Result<SourcePosition> {
        EDDY_RETURN_IF_ERROR(DrainAppends());
        return stream_->HighestDurablePosition();
      };
      EDDY_ASSIGN_OR_RETURN(std::optional<IncrementalSnapshotter::ChunkRows> chunk,
                            snapshotter_->OnWatermark(row.data, SourcePosition(position), drain));
      if (!chunk.has_value() || chunk->encoded.empty()) continue;
      probe_->AddSnapshotRows(chunk->table, chunk->encoded.size());
      // The fields the chunk's rows share, encoded once; each record is then byte for byte
      // EncodeEvent of its read event.
      model::ChangeEvent shared;
      shared.table = chunk->id;
      shared.schema_version = chunk->schema_version;
      shared.position = SourcePosition(position);
      shared.commit_time_ns = static_cast<int64_t>(timestamp) * 1'000'000'000;
      shared.capture_time_ns = SystemClock::Instance().NowNanos();
      shared.transaction_id = chunk->transaction_id;
      shared.source.connector =
          mariadb_ ? model::ConnectorKind::kMariadb : model::ConnectorKind::kMysql;
      shared.source.server_name = options_.server_name;
      shared.source.snapshot = model::SnapshotMarker::kIncremental;
      model::RowEventEncoder encoder;
      encoder.SetShared(shared);
      uint64_t ordinal = 0;
      for (EncodedRow& encoded : chunk->encoded) {
        log::AppendRecord& record = NextRecord(batch_);
        encoder.BeginEvent(model::Operation::kRead, false, true, ordinal++, 0, record.payload);
        record.payload += encoded.rows;
        record.partition_key = std::move(encoded.partition_key);
        record.explicit_hash_key = log::HashKey::FromPartitionKey(record.partition_key);
        batch_bytes_ += record.payload.size() + record.partition_key.size();
      }
      batch_tally_.Add(probe_->Table(chunk->id), model::Operation::kRead, chunk->encoded.size());
      batch_events_ += chunk->encoded.size();
      batch_position_ = position;
    }
    if (snapshotter_->changes() != published_changes_) PublishIncremental();
    return Status::Ok();
  }

  // A change of the chunk's table inside its window: its key, and an update's old key.
  Status NoteWindowKeys(ChunkWindow& window, const CachedTable& table, RowsKind kind,
                        const log::AppendRecord& record) {
    window.OnKey(record.partition_key);
    if (kind != RowsKind::kUpdate) return Status::Ok();
    std::string old_key = table.partition_key_table;
    for (uint32_t column : table.map.primary_key) {
      if (!first_image_.Has(column)) return PartialImage(table, column);
      EDDY_RETURN_IF_ERROR(
          model::AppendPartitionKeyValueEncoded(first_image_.Value(column), old_key));
    }
    if (old_key != record.partition_key) window.OnKey(std::move(old_key));
    return Status::Ok();
  }

  Status Stream(EventQueue& queue, const ServerInfo& server) {
    BinlogDecoder decoder(server.binlog_checksum == "CRC32");
    tables_.clear();
    pending_ = PendingTransaction{};
    current_file_ = resume_->file;
    current_offset_ = resume_->offset;
    submitted_ = durable_;
    while (true) {
      if (queue.Empty() && batch_position_.has_value()) {
        EDDY_RETURN_IF_ERROR(FlushBatch());
      }
      // Between two events (DBLog's "pause log processing"): the next chunk, requests.
      if (Status stepped = StepIncremental(); !stepped.ok()) {
        Status drained = DrainAppends();
        return drained.ok() ? stepped : drained;
      }
      Result<std::optional<std::string>> popped = queue.PopFor(kIncrementalStep);
      if (popped.ok() && !popped->has_value()) continue;
      Result<std::string> event = popped.ok() ? Result<std::string>(std::move(**popped))
                                              : Result<std::string>(popped.status());
      if (!event.ok()) {
        // Keep what was decoded: it is whole transactions.
        Status drained = DrainAppends();
        if (stopping() || !drained.ok()) return drained;
        return event.status();
      }
      {
        std::lock_guard lock(mu_);
        progress_.binlog_bytes += event->size();
      }
      auto decode_began = std::chrono::steady_clock::now();
      Status status = HandleEvent(decoder, *event);
      decode_nanos_ += (std::chrono::steady_clock::now() - decode_began).count();
      if (!status.ok()) {
        Status drained = DrainAppends();
        if (!drained.ok()) return drained;
        return status.WithContext("at " + current_file_ + ":" + std::to_string(current_offset_));
      }
      if (batch_bytes_ >= options_.append_batch_bytes) EDDY_RETURN_IF_ERROR(FlushBatch());
    }
  }

  // `raw` may be moved from (rows events are kept until their transaction commits).
  Status HandleEvent(BinlogDecoder& decoder, std::string& raw) {
    EDDY_ASSIGN_OR_RETURN(FramedEvent framed, decoder.Frame(raw));
    const EventHeader& header = framed.header;
    const uint8_t type = header.type;
    const bool artificial = (header.flags & kEventFlagArtificial) != 0 || header.log_pos == 0;
    // Offset just after this event in the current file.
    uint64_t end_offset = header.log_pos != 0 ? header.log_pos : current_offset_;
    auto post = [&](uint8_t fallback) { return decoder.PostHeaderLength(type, fallback); };

    switch (static_cast<EventType>(type)) {
      case EventType::kRotate: {
        EDDY_ASSIGN_OR_RETURN(RotateEvent rotate, ParseRotate(framed.body, post(8)));
        current_file_ = rotate.next_file;
        current_offset_ = rotate.position;
        tables_.clear();
        return Status::Ok();
      }
      case EventType::kFormatDescription:
      case EventType::kGtidList:
      case EventType::kBinlogCheckpoint:
      case EventType::kMysqlPreviousGtids:
      case EventType::kStop:
      case EventType::kIntvar:
      case EventType::kRand:
      case EventType::kUserVar:
      case EventType::kStartEncryption:
      case EventType::kMysqlTransactionContext:
      case EventType::kMysqlViewChange:
        break;
      case EventType::kHeartbeat:
      case EventType::kMysqlHeartbeatV2: {
        {
          std::lock_guard lock(mu_);
          progress_.heartbeats++;
        }
        // The server sends a heartbeat only when it has nothing else to send: every event up
        // to its position (in the file it names) has been processed. With no group open, that
        // position is a safe resume point; logging it keeps an idle capture's position current
        // (e.g. across a binlog rotation) without re-reading skipped events after a restart.
        if (type == static_cast<uint8_t>(EventType::kHeartbeat) && !pending_.open &&
            header.log_pos >= 4 && !framed.body.empty()) {
          BinlogPosition at{std::string(framed.body), header.log_pos};
          const MysqlPosition& last = batch_position_.has_value() ? *batch_position_ : submitted_;
          if (last.end.file.empty() || at > last.end) {
            MysqlPosition position;
            position.server_id = last.server_id != 0 ? last.server_id : header.server_id;
            position.end = at;
            position.gtid = last.gtid;
            batch_position_ = position;
          }
        }
        return Status::Ok();
      }
      case EventType::kMariadbGtid: {
        EDDY_ASSIGN_OR_RETURN(MariadbGtidEvent gtid,
                              ParseMariadbGtid(framed.body, header.server_id));
        if (gtid.flags & (kGtidFlagPreparedXa)) {
          // XA PREPARE: the group is prepared, not committed; XA COMMIT comes later as a query.
          return Unimplemented("XA transactions (XA PREPARE in the binlog) are not supported");
        }
        BeginTransaction(gtid.Text(), (gtid.flags & kGtidFlagStandalone) != 0, end_offset);
        break;
      }
      case EventType::kMysqlGtid:
      case EventType::kMysqlAnonymousGtid: {
        EDDY_ASSIGN_OR_RETURN(MysqlGtidEvent gtid, ParseMysqlGtid(framed.body));
        BeginTransaction(type == static_cast<uint8_t>(EventType::kMysqlGtid) ? gtid.Text() : "",
                         false, end_offset);
        break;
      }
      case EventType::kAnnotateRows:
      case EventType::kRowsQuery: {
        if (options_.include_query) {
          EDDY_ASSIGN_OR_RETURN(std::string text, ParseAnnotateRows(type, framed.body));
          pending_.annotate = std::make_shared<const std::string>(std::move(text));
        }
        break;
      }
      case EventType::kQuery:
      case EventType::kQueryCompressed: {
        EDDY_ASSIGN_OR_RETURN(QueryEvent query, ParseQuery(type, framed.body, post(13)));
        EDDY_RETURN_IF_ERROR(HandleQuery(query, header, end_offset));
        break;
      }
      case EventType::kXid: {
        EDDY_RETURN_IF_ERROR(ParseXid(framed.body).status());
        EDDY_RETURN_IF_ERROR(Commit(header, end_offset));
        break;
      }
      case EventType::kTableMap: {
        EDDY_RETURN_IF_ERROR(HandleTableMap(framed.body, post(8), end_offset));
        break;
      }
      case EventType::kIncident:
        return FailedPrecondition(
            "the server wrote an INCIDENT event into the binlog (events "
            "may be missing, e.g. after a failed non-transactional "
            "statement); capture cannot guarantee completeness past it");
      case EventType::kMysqlTransactionPayload:
        return Unimplemented(
            "MySQL binlog_transaction_compression (TRANSACTION_PAYLOAD events) "
            "is not supported; set binlog_transaction_compression=OFF");
      case EventType::kMysqlPartialUpdateRows:
        return FailedPrecondition(
            "PARTIAL_UPDATE_ROWS events (binlog_row_value_options="
            "PARTIAL_JSON) carry partial JSON images; unset "
            "binlog_row_value_options");
      default:
        if (IsRowsEvent(type)) {
          EDDY_RETURN_IF_ERROR(HandleRows(type, raw, framed.body, post(8)));
        }
        break;
    }
    if (!artificial) current_offset_ = end_offset;
    return Status::Ok();
  }

  void BeginTransaction(std::string gtid, bool standalone, uint64_t end_offset) {
    if (pending_.open && pending_.row_events > 0) {
      log_->warn("mysql transaction without commit dropped gtid={} rows_events={}", pending_.gtid,
                 pending_.row_events);
    }
    pending_ = PendingTransaction{};
    pending_.open = true;
    pending_.standalone = standalone;
    pending_.gtid = std::move(gtid);
    pending_.begin = BinlogPosition{current_file_, end_offset};
  }

  static bool IsStatementDml(const std::string& word) {
    return word == "INSERT" || word == "UPDATE" || word == "DELETE" || word == "REPLACE" ||
           word == "LOAD";
  }

  Status HandleQuery(const QueryEvent& query, const EventHeader& header, uint64_t end_offset) {
    std::string word = UpperFirstWord(query.query);
    if (word == "BEGIN" || word == "XA") {
      if (!pending_.open) BeginTransaction("", false, end_offset);
      pending_.thread_id = query.thread_id;
      return Status::Ok();
    }
    if (word == "COMMIT" || word == "ROLLBACK") {
      // ROLLBACK is logged only when non-transactional tables were changed: those changes are
      // permanent and are in the row events before it.
      if (word == "ROLLBACK" && UpperFirstWord(query.query, 2) == "ROLLBACK TO")
        return Status::Ok();
      pending_.thread_id = pending_.thread_id ? pending_.thread_id : query.thread_id;
      return Commit(header, end_offset);
    }
    if (word == "SAVEPOINT") return Status::Ok();
    if (IsStatementDml(word)) {
      if (query.database.empty() || DatabaseCaptured(query.database)) {
        return FailedPrecondition(
            "statement-based event in the binlog (" + word + " in database '" + query.database +
            "', thread " + std::to_string(query.thread_id) +
            "): its rows cannot be captured; the session used binlog_format=STATEMENT or MIXED. "
            "Set binlog_format=ROW globally and for every session");
      }
      return Status::Ok();
    }
    // DDL (or another statement without rows): record it, emit a schema change event for
    // each captured table (or database) it changes, then end its event group.
    if (query.database.empty() || DatabaseCaptured(query.database) || filter_.empty()) {
      EDDY_RETURN_IF_ERROR(history_->RecordDdl(query.database, query.query,
                                               BinlogPosition{current_file_, end_offset}));
      std::lock_guard lock(mu_);
      progress_.ddl_statements++;
    }
    for (DdlChange& change : ClassifyDdl(query.database, query.query, mariadb_)) {
      bool captured = !change.table.empty()
                          ? Captured(change.database, change.table) ||
                                (!change.change.previous_name.empty() &&
                                 Captured(change.database, change.change.previous_name))
                          : !change.database.empty() && DatabaseCaptured(change.database);
      if (!captured) continue;
      TrackSchema(change);
      if (!pending_.open) BeginTransaction("", true, current_offset_);
      auto shared = std::make_shared<const DdlChange>(std::move(change));
      pending_.row_events++;
      pending_.ddl_items++;
      if (pending_.spilled) {
        pending_.spill_ddls.push_back(shared);
        EDDY_RETURN_IF_ERROR(spill_->Write(
            SpillFile::kDdl, static_cast<uint32_t>(pending_.spill_ddls.size() - 1), 0, 0, {}));
      } else {
        PendingRows item;
        item.ddl = std::move(shared);
        pending_.rows.push_back(std::move(item));
      }
    }
    tables_.clear();  // table ids are reassigned after DDL
    if (!pending_.open || pending_.standalone || pending_.ddl_only()) {
      pending_.thread_id = query.thread_id;
      return Commit(header, end_offset);
    }
    return Status::Ok();
  }

  // Keeps known_schemas_ (each captured table's columns as of the current binlog position)
  // through a DDL statement, and gives an ALTER TABLE's schema change event the table's new
  // columns when its columns before are known: from a TABLE_MAP or a CREATE TABLE seen since
  // this capture started and followed through every DDL since. Otherwise (after a restart, or
  // an ALTER the parser cannot follow) the event carries no column list rather than a guess.
  void TrackSchema(DdlChange& change) {
    using model::SchemaChangeKind;
    if (change.table.empty()) return;
    const std::string key = SchemaKey(change.database, change.table);
    const std::string previous_key = change.change.previous_name.empty()
                                         ? key
                                         : SchemaKey(change.database, change.change.previous_name);
    switch (change.change.kind) {
      case SchemaChangeKind::kCreateTable:
        if (change.change.table_schema) {
          known_schemas_[key] = *change.change.table_schema;
        } else {
          known_schemas_.erase(key);
        }
        return;
      case SchemaChangeKind::kDropTable:
        known_schemas_.erase(key);
        return;
      case SchemaChangeKind::kOther:  // CREATE/DROP INDEX, TRUNCATE: the columns stay
        return;
      default:
        break;
    }
    auto before = known_schemas_.find(previous_key);
    if (before == known_schemas_.end()) return;
    std::optional<model::TableSchema> after =
        TableSchemaAfter(before->second, change.change.ddl, mariadb_);
    known_schemas_.erase(before);
    if (!after) return;
    change.change.table_schema = *after;
    known_schemas_[key] = std::move(*after);
  }

  // The column's declared type and collation (column_type.h), as the snapshot records them.
  void SetDeclaredType(const ColumnInfo& info, model::Column& column) const {
    column.declared_type = DeclaredTypeFromTableMap(info);
    if ((info.IsCharacter() || info.IsEnumOrSet()) && info.charset != "binary" &&
        info.collation != kBinaryCollation) {
      auto name = collation_names_.find(info.collation);
      if (name != collation_names_.end()) column.collation = name->second;
    }
  }

  static std::string SchemaKey(const std::string& database, const std::string& table) {
    return database + '\0' + table;
  }

  Status HandleTableMap(std::string_view body, uint8_t post_header, uint64_t end_offset) {
    EDDY_ASSIGN_OR_RETURN(uint64_t table_id, PeekRowsTableId(body, post_header));
    auto it = tables_.find(table_id);
    if (it != tables_.end() && it->second->raw_body == body) return Status::Ok();
    EDDY_ASSIGN_OR_RETURN(TableMapEvent map, ParseTableMap(body, post_header, mariadb_));
    CachedTable cached;
    cached.raw_body = std::string(body);
    cached.captured = Captured(map.database, map.table);
    for (ColumnInfo& column : map.columns) {
      if ((column.IsCharacter() || column.IsEnumOrSet()) && column.collation != 0) {
        auto known = collations_.find(column.collation);
        if (known != collations_.end()) column.charset = known->second;
      }
    }
    if (cached.captured) {
      if (!map.has_column_names) {
        return FailedPrecondition("TABLE_MAP of " + map.database + "." + map.table +
                                  " has no column names: set binlog_row_metadata=FULL");
      }
      model::TableSchema& schema = cached.schema;
      schema.table = model::TableId{map.database, "", map.table};
      for (size_t i = 0; i < map.columns.size(); ++i) {
        const ColumnInfo& info = map.columns[i];
        model::Column column;
        column.name = info.name;
        column.source_type = info.SourceTypeName();
        column.type = info.ValueType();
        column.nullable = info.nullable;
        SetDeclaredType(info, column);
        schema.columns.push_back(std::move(column));
      }
      for (size_t k = 0; k < map.primary_key.size(); ++k) {
        model::Column& column = schema.columns[map.primary_key[k]];
        column.primary_key_ordinal = static_cast<int>(k + 1);
        schema.primary_key.push_back(column.name);
      }
      if (options_.schemas != nullptr) {
        SetTypeModifiers(schema);
        Result<uint32_t> version = options_.schemas->AssignVersion(schema);
        if (!version.ok()) {
          return version.status().WithContext("recording the schema of " +
                                              schema.table.QualifiedName());
        }
        schema.version = *version;
      } else {
        EDDY_RETURN_IF_ERROR(
            history_->AssignVersion(schema, BinlogPosition{current_file_, end_offset}));
      }
      for (const ColumnInfo& info : map.columns) {
        std::string& name = cached.encoded_names.emplace_back();
        model::AppendFieldName(info.name, name);
      }
      EDDY_ASSIGN_OR_RETURN(cached.plan, RowEncodePlan::For(map, &cached.encoded_names));
      model::AppendPartitionKeyTable(schema.table, cached.partition_key_table);
      cached.counters = probe_->Table(schema.table);
      known_schemas_[SchemaKey(map.database, map.table)] = schema;
    }
    cached.map = std::move(map);
    tables_[table_id] = std::make_shared<const CachedTable>(std::move(cached));
    return Status::Ok();
  }

  Status HandleRows(uint8_t type, std::string& raw, std::string_view body, uint8_t post_header) {
    EDDY_ASSIGN_OR_RETURN(uint64_t table_id, PeekRowsTableId(body, post_header));
    if (table_id == 0x00FFFFFF) return Status::Ok();  // dummy event that frees table maps
    auto it = tables_.find(table_id);
    if (it == tables_.end()) {
      return Corruption("rows event " + EventTypeName(type) + " for table id " +
                        std::to_string(table_id) +
                        " without a preceding TABLE_MAP (did streaming start inside a "
                        "transaction?)");
    }
    if (!it->second->captured) {
      if (!IsControlTable(it->second->map.database, it->second->map.table)) return Status::Ok();
      return HandleControlRows(type, body, post_header, it->second->map);
    }
    if (!pending_.open) BeginTransaction("", false, current_offset_);
    PendingRows rows;
    rows.type = type;
    rows.post_header = post_header;
    rows.table = it->second;
    rows.annotate = pending_.annotate;
    rows.body_offset = static_cast<size_t>(body.data() - raw.data());
    rows.body_size = body.size();
    pending_.raw_bytes += raw.size();
    pending_.row_events++;
    if (pending_.spilled) return SpillRows(rows.table, type, post_header, body, rows.annotate);
    rows.raw = std::move(raw);  // `body` points into the moved buffer, which stays put
    pending_.rows.push_back(std::move(rows));
    if (pending_.raw_bytes > options_.large_transaction_bytes) {
      // Too large to hold: move what we have to the spill file, and the rest as it comes.
      if (spill_ == nullptr) {
        spill_ = std::make_unique<SpillFile>(
            file_system_, io::JoinPath(options_.data_dir, "mysql-transaction.spill"));
      }
      EDDY_RETURN_IF_ERROR(spill_->Start());
      pending_.spilled = true;
      std::vector<PendingRows> held = std::move(pending_.rows);
      pending_.rows = {};
      for (const PendingRows& pending : held) {
        if (pending.ddl != nullptr) {
          pending_.spill_ddls.push_back(pending.ddl);
          EDDY_RETURN_IF_ERROR(spill_->Write(
              SpillFile::kDdl, static_cast<uint32_t>(pending_.spill_ddls.size() - 1), 0, 0, {}));
          continue;
        }
        EDDY_RETURN_IF_ERROR(SpillRows(pending.table, pending.type, pending.post_header,
                                       pending.body(), pending.annotate));
      }
      std::lock_guard lock(mu_);
      progress_.spilled_transactions++;
    }
    return Status::Ok();
  }

  Status SpillRows(const std::shared_ptr<const CachedTable>& table, uint8_t type,
                   uint8_t post_header, std::string_view body,
                   const std::shared_ptr<const std::string>& annotate) {
    if (annotate != nullptr && annotate.get() != pending_.spill_annotate) {
      EDDY_RETURN_IF_ERROR(spill_->Write(SpillFile::kAnnotate, 0, 0, 0, *annotate));
      pending_.spill_annotate = annotate.get();
      pending_.spill_annotate_owner = annotate;
    }
    uint32_t index = 0;
    while (index < pending_.spill_tables.size() && pending_.spill_tables[index] != table) ++index;
    if (index == pending_.spill_tables.size()) pending_.spill_tables.push_back(table);
    return spill_->Write(SpillFile::kRows, index, type, post_header, body);
  }

  // Appends `image` as an encoded row (every column; all must be present).
  static Status EncodeImage(const CachedTable& table, const EncodedRowImage& image,
                            std::string& out) {
    const size_t columns = table.map.columns.size();
    if (image.missing != 0) {
      for (size_t i = 0; i < columns; ++i) {
        if (!image.Has(i)) return PartialImage(table, i);
      }
    }
    model::AppendRowFieldCount(columns, out);
    out += image.encoded();  // names and values, already in field order
    return Status::Ok();
  }

  static Status PartialImage(const CachedTable& table, size_t column) {
    return FailedPrecondition(
        "partial row image for " + table.map.database + "." + table.map.table + " (column " +
        table.map.columns[column].name +
        " missing): the session used binlog_row_image=MINIMAL or NOBLOB; capture needs FULL "
        "images");
  }

  // Sets the fields every event of the transaction shares on the scratch event.
  void PrepareScratch(const PendingTransaction& transaction, const MysqlPosition& position,
                      uint32_t timestamp) {
    model::ChangeEvent& event = scratch_;
    event.position = SourcePosition(position);
    event.commit_time_ns = static_cast<int64_t>(timestamp) * 1'000'000'000;
    event.capture_time_ns = SystemClock::Instance().NowNanos();
    event.transaction_id =
        transaction.gtid.empty() ? transaction.begin.ToString() : transaction.gtid;
    event.source.connector =
        mariadb_ ? model::ConnectorKind::kMariadb : model::ConnectorKind::kMysql;
    event.source.server_name = options_.server_name;
    event.source.mysql_thread_id = transaction.thread_id;
    event.source.query.clear();
    scratch_ordinal_ = 0;
  }

  // Decodes one rows event straight into encoded change-event records appended to `out` (one
  // scratch ChangeEvent whose rows keep their capacity: no per-row event objects); adds their
  // bytes to `bytes`. Returns the number of events.
  Result<uint64_t> EncodeRowsEvent(uint8_t type, uint8_t post_header, std::string_view body,
                                   const CachedTable& table, const std::string* annotate,
                                   std::vector<log::AppendRecord>& out, size_t& bytes,
                                   EventTally& tally) {
    model::ChangeEvent& event = scratch_;
    EDDY_RETURN_IF_ERROR(rows_reader_.Open(type, body, post_header, table.map));
    event.table = table.schema.table;
    event.schema_version = table.schema.version;
    if (options_.include_query) {
      if (annotate != nullptr) {
        event.source.query = *annotate;
      } else {
        event.source.query.clear();
      }
    }
    encoder_.SetShared(event);
    const RowsKind kind = rows_reader_.header().kind;
    const model::Operation op = kind == RowsKind::kWrite    ? model::Operation::kInsert
                                : kind == RowsKind::kUpdate ? model::Operation::kUpdate
                                                            : model::Operation::kDelete;
    const std::vector<uint32_t>& key_columns = table.map.primary_key;
    // An incremental snapshot chunk of this table is between its watermarks: note every key.
    std::vector<ChunkWindow*>& windows = windows_scratch_;
    snapshotter_->WindowsOf(table.schema.table, windows);
    uint64_t count = 0;
    while (!rows_reader_.done()) {
      EDDY_RETURN_IF_ERROR(rows_reader_.NextEncoded(first_image_, second_image_, table.plan));
      // The key comes from the after image of an update (a key change moves the row).
      const EncodedRowImage& key_image = kind == RowsKind::kUpdate ? second_image_ : first_image_;
      log::AppendRecord& record = NextRecord(out);
      record.partition_key = table.partition_key_table;
      for (uint32_t column : key_columns) {
        if (!key_image.Has(column)) return PartialImage(table, column);
        EDDY_RETURN_IF_ERROR(
            model::AppendPartitionKeyValueEncoded(key_image.Value(column), record.partition_key));
      }
      // The shard hash (MD5 of the key) is computed here rather than on the append thread,
      // which is the busier of the two (the routing is the same).
      record.explicit_hash_key = log::HashKey::FromPartitionKey(record.partition_key);
      for (ChunkWindow* window : windows) {
        EDDY_RETURN_IF_ERROR(NoteWindowKeys(*window, table, kind, record));
      }
      std::string& payload = record.payload;
      payload.reserve(payload_hint_);
      encoder_.BeginEvent(op, kind != RowsKind::kWrite, kind != RowsKind::kDelete,
                          scratch_ordinal_++, static_cast<uint32_t>(count), payload);
      model::AppendRowFieldCount(key_columns.size(), payload);
      for (uint32_t column : key_columns) payload += key_image.Field(column);
      EDDY_RETURN_IF_ERROR(EncodeImage(table, first_image_, payload));
      if (kind == RowsKind::kUpdate)
        EDDY_RETURN_IF_ERROR(EncodeImage(table, second_image_, payload));
      payload_hint_ = payload.size() + 32;
      // The record carries no position of its own: the payload has the event's, and the
      // transaction's end position goes to the log with the batch (AppendTransaction).
      bytes += payload.size() + record.partition_key.size();
      ++count;
    }
    tally.Add(table.counters, op, count);
    return count;
  }

  // Appends a record to `out` for the caller to fill: a spent one from the append worker when
  // there is one (its key and payload keep their memory), else a new one.
  log::AppendRecord& NextRecord(std::vector<log::AppendRecord>& out) {
    if (spare_records_.empty()) return out.emplace_back();
    log::AppendRecord& record = out.emplace_back(std::move(spare_records_.back()));
    spare_records_.pop_back();
    record.partition_key.clear();
    if (record.payload.capacity() > (64u << 10)) {
      std::string().swap(record.payload);  // a rare huge row's memory is not kept
    } else {
      record.payload.clear();
    }
    record.explicit_hash_key.reset();
    record.position = SourcePosition();
    return record;
  }

  // One schema change (or truncate) event for a DDL item of the transaction.
  void EncodeDdl(const DdlChange& ddl, std::vector<log::AppendRecord>& out, size_t& bytes,
                 EventTally& tally) {
    model::ChangeEvent& event = scratch_;
    event.op = ddl.action == DdlChange::Action::kTruncate ? model::Operation::kTruncate
                                                          : model::Operation::kSchemaChange;
    event.table = model::TableId{ddl.database, "", ddl.table};
    event.schema_version = 0;
    event.key.clear();
    event.source.mysql_row = 0;
    event.ordinal_in_transaction = scratch_ordinal_++;
    if (ddl.action == DdlChange::Action::kSchemaChange) event.schema_change = ddl.change;
    if (event.op == model::Operation::kTruncate) {
      snapshotter_->WindowsOf(event.table, windows_scratch_);
      for (ChunkWindow* window : windows_scratch_) window->OnTruncate();
    }
    std::string query = std::move(event.source.query);
    event.source.query.clear();
    log::AppendRecord record;
    record.partition_key = event.PartitionKey();
    model::EncodeEvent(event, record.payload);
    record.position = event.position;
    bytes += record.payload.size() + record.partition_key.size();
    out.push_back(std::move(record));
    tally.Add(probe_->Table(event.table), event.op);
    event.schema_change.reset();
    event.source.query = std::move(query);
  }

  // Appends a spilled transaction in parts (log TransactionAppender): the spill file is read
  // back one rows event at a time, so neither the source rows nor the encoded events are ever
  // all in memory. Nothing is visible until the final Commit; any error aborts the parts.
  Status CommitSpilled(const PendingTransaction& transaction, const MysqlPosition& position,
                       uint32_t timestamp) {
    EDDY_RETURN_IF_ERROR(DrainAppends());  // batches before it reach the log first
    EDDY_RETURN_IF_ERROR(spill_->StartReading());
    auto began = std::chrono::steady_clock::now();
    PrepareScratch(transaction, position, timestamp);
    auto appender = stream_->BeginTransaction();
    if (!appender.ok() && appender.status().code() != ErrorCode::kUnimplemented) {
      return appender.status().WithContext("starting a transaction appended in parts");
    }
    // Without TransactionAppender support in the log, the transaction is appended whole (the
    // source rows still stay on disk until the commit).
    log::TransactionAppender* parts = appender.ok() ? appender->get() : nullptr;
    std::vector<log::AppendRecord> part;
    size_t part_bytes = 0;
    uint64_t events = 0;
    EventTally tally;
    const std::string* annotate = nullptr;
    std::string annotate_text;
    Status status = [&]() -> Status {
      while (true) {
        EDDY_ASSIGN_OR_RETURN(std::optional<SpillFile::Frame> frame, spill_->Next());
        if (!frame.has_value()) return Status::Ok();
        if (frame->kind == SpillFile::kAnnotate) {
          annotate_text.assign(frame->bytes);
          annotate = &annotate_text;
          continue;
        }
        if (frame->kind == SpillFile::kDdl) {
          if (frame->table_index >= transaction.spill_ddls.size()) {
            return Corruption("spill file refers to DDL " + std::to_string(frame->table_index));
          }
          EncodeDdl(*transaction.spill_ddls[frame->table_index], part, part_bytes, tally);
          ++events;
          continue;
        }
        if (frame->table_index >= transaction.spill_tables.size()) {
          return Corruption("spill file refers to table " + std::to_string(frame->table_index));
        }
        EDDY_ASSIGN_OR_RETURN(
            uint64_t count, EncodeRowsEvent(frame->type, frame->post_header, frame->bytes,
                                            *transaction.spill_tables[frame->table_index], annotate,
                                            part, part_bytes, tally));
        events += count;
        if (parts != nullptr && part_bytes >= options_.append_batch_bytes) {
          EDDY_RETURN_IF_ERROR(
              parts->Append(std::move(part)).WithContext("appending a large transaction part"));
          part = {};
          part_bytes = 0;
        }
      }
    }();
    decode_nanos_ += (std::chrono::steady_clock::now() - began).count();
    if (!status.ok()) {
      if (parts != nullptr) parts->Abort().IgnoreError();
      return status;
    }
    bool duplicate = false;
    auto append_began = std::chrono::steady_clock::now();
    if (parts != nullptr) {
      if (!part.empty()) {
        Status appended = parts->Append(std::move(part));
        if (!appended.ok()) {
          parts->Abort().IgnoreError();
          return appended.WithContext("appending a large transaction to the log");
        }
      }
      auto committed = parts->Commit(SourcePosition(position));
      if (!committed.ok()) {
        parts->Abort().IgnoreError();
        return committed.status().WithContext("committing a large transaction to the log");
      }
      duplicate = committed->duplicate;
    } else {
      auto appended = stream_->AppendTransaction(std::move(part), SourcePosition(position));
      if (!appended.ok()) return appended.status().WithContext("appending to the log");
      duplicate = appended->duplicate;
    }
    int64_t append_nanos = (std::chrono::steady_clock::now() - append_began).count();
    if (!duplicate) {
      tally.Apply();
      probe_->TransactionDurable(static_cast<int64_t>(timestamp) * 1'000'000'000,
                                 SystemClock::Instance().NowNanos());
    }
    submitted_ = position;
    durable_ = position;
    resume_ = position.end;
    made_progress_ = true;
    std::lock_guard lock(mu_);
    progress_.append_nanos += append_nanos;
    progress_.decode_nanos = decode_nanos_;
    if (duplicate) {
      progress_.duplicate_transactions++;
    } else {
      progress_.transactions++;
      progress_.events += events;
    }
    progress_.durable = position.end;
    progress_.durable_gtid = position.gtid.text;
    return Status::Ok();
  }

  Status Commit(const EventHeader& header, uint64_t end_offset) {
    MysqlPosition position;
    position.server_id = header.server_id;
    position.end = BinlogPosition{current_file_, end_offset};
    position.gtid = Gtid{pending_.gtid};
    PendingTransaction transaction = std::move(pending_);
    pending_ = PendingTransaction{};
    if (!submitted_.end.file.empty() && position.end <= submitted_.end) {
      std::lock_guard lock(mu_);
      progress_.duplicate_transactions++;
      return Status::Ok();
    }
    if (batch_position_.has_value() && position.end <= batch_position_->end) {
      return Status::Ok();
    }
    if (!transaction.control.empty()) {
      EDDY_RETURN_IF_ERROR(OnControlRows(transaction.control, position, header.timestamp));
    }
    if (transaction.spilled) return CommitSpilled(transaction, position, header.timestamp);
    PrepareScratch(transaction, position, header.timestamp);
    uint64_t events = 0;
    // A transaction that fails to decode must leave none of its records in the batch: the
    // error path still appends the batch (whole transactions before it) to the log.
    const size_t batch_records_before = batch_.size();
    const size_t batch_bytes_before = batch_bytes_;
    transaction_tally_.Clear();
    for (const PendingRows& pending : transaction.rows) {
      if (pending.ddl != nullptr) {
        EncodeDdl(*pending.ddl, batch_, batch_bytes_, transaction_tally_);
        ++events;
        continue;
      }
      auto count =
          EncodeRowsEvent(pending.type, pending.post_header, pending.body(), *pending.table,
                          pending.annotate.get(), batch_, batch_bytes_, transaction_tally_);
      if (!count.ok()) {
        batch_.resize(batch_records_before);
        batch_bytes_ = batch_bytes_before;
        return count.status();
      }
      events += *count;
    }
    batch_events_ += events;
    batch_transactions_++;
    batch_position_ = position;
    batch_tally_.Merge(transaction_tally_);
    const int64_t commit_ns = static_cast<int64_t>(header.timestamp) * 1'000'000'000;
    if (!batch_commits_.empty() && batch_commits_.back().commit_time_ns == commit_ns) {
      batch_commits_.back().transactions++;
    } else {
      batch_commits_.push_back({commit_ns, 1});
    }
    return Status::Ok();
  }

  // Hands the decoded batch to the append worker (waiting for the batch before it first).
  Status FlushBatch() {
    if (!batch_position_.has_value()) return Status::Ok();
    AppendWorker::Job job;
    job.records = std::move(batch_);
    job.position = *batch_position_;
    job.transactions = batch_transactions_;
    job.events = batch_events_;
    job.tally = std::move(batch_tally_);
    job.commits = std::move(batch_commits_);
    batch_tally_.Clear();
    batch_commits_.clear();
    // The next batch goes into the vector the spent records were taken from (empty once
    // NextRecord has used them all), so its memory is not allocated and faulted in anew.
    batch_ = {};
    if (spare_records_.empty()) batch_.swap(spare_records_);
    // Batches are alike in size: growing the next one by doubling would move its records ~15
    // times.
    batch_.reserve(job.records.size());
    batch_position_.reset();
    batch_bytes_ = 0;
    batch_transactions_ = 0;
    batch_events_ = 0;
    submitted_ = job.position;
    {
      std::lock_guard lock(mu_);
      progress_.decode_nanos = decode_nanos_;
    }
    auto began = std::chrono::steady_clock::now();
    Status status = appender_->Submit(std::move(job), &spare_records_);
    append_wait_nanos_ += (std::chrono::steady_clock::now() - began).count();
    {
      std::lock_guard lock(mu_);
      progress_.append_wait_nanos = append_wait_nanos_;
    }
    return status;
  }

  // Flushes and waits until everything handed over is durable (or failed).
  Status DrainAppends() {
    Status flushed = FlushBatch();
    auto began = std::chrono::steady_clock::now();
    Status waited = appender_->Wait();
    append_wait_nanos_ += (std::chrono::steady_clock::now() - began).count();
    {
      std::lock_guard lock(mu_);
      progress_.append_wait_nanos = append_wait_nanos_;
    }
    return flushed.ok() ? waited : flushed;
  }

  // Runs on the append worker after each append.
  void AppendDone(const AppendWorker::Job& job, const Result<log::AppendResult>& result,
                  int64_t nanos) {
    std::lock_guard lock(mu_);
    progress_.append_nanos += nanos;
    if (!result.ok()) return;
    durable_ = job.position;
    resume_ = job.position.end;
    made_progress_ = true;
    if (result->duplicate) {
      progress_.duplicate_transactions += job.transactions;
    } else {
      progress_.transactions += job.transactions;
      progress_.events += job.events;
      job.tally.Apply();
      probe_->TransactionsDurable(job.commits, SystemClock::Instance().NowNanos());
    }
    progress_.durable = job.position.end;
    progress_.durable_gtid = job.position.gtid.text;
  }

  MysqlCaptureOptions options_;
  std::shared_ptr<log::Stream> stream_;
  SourceUrl url_;
  std::set<std::string> filter_;
  std::shared_ptr<logging::Logger> log_;
  std::unique_ptr<SchemaHistory> history_;
  std::map<uint32_t, std::string> collations_;
  std::map<uint32_t, std::string> collation_names_;  // id -> "latin1_swedish_ci"
  bool mariadb_ = true;

  // Streaming state (capture thread only).
  std::optional<BinlogPosition> resume_;
  MysqlPosition durable_;
  bool made_progress_ = false;
  static constexpr int kMaxShortSessions = 8;
  static constexpr int kMaxSameIdErrors = 3;
  int same_id_errors_ = 0;
  std::chrono::steady_clock::time_point session_started_{};
  int short_sessions_ = 0;
  std::string current_file_;
  uint64_t current_offset_ = 0;
  std::map<uint64_t, std::shared_ptr<const CachedTable>> tables_;
  // Captured tables' columns as of the current position (see TrackSchema), by SchemaKey.
  std::map<std::string, model::TableSchema> known_schemas_;
  PendingTransaction pending_;
  std::vector<log::AppendRecord> batch_;
  std::optional<MysqlPosition> batch_position_;
  size_t batch_bytes_ = 0;
  uint64_t batch_transactions_ = 0;
  uint64_t batch_events_ = 0;
  EventTally batch_tally_;                              // the batch's events (metrics)
  std::vector<CaptureProbe::CommitRun> batch_commits_;  // its transactions' commit times
  EventTally transaction_tally_;                        // scratch for Commit
  std::unique_ptr<CaptureProbe> probe_;
  std::unique_ptr<PeriodicPoller> binlog_poller_;  // created and reset by Run()
  std::unique_ptr<BinlogClient> lag_client_;       // the poller's thread only
  int64_t decode_nanos_ = 0;
  int64_t append_wait_nanos_ = 0;
  // Streaming state read and written by the capture thread only; durable_, resume_ and
  // made_progress_ are written by the append worker (under mu_) and read by the capture
  // thread only once the worker is idle (AppendWorker::Wait orders the two).
  MysqlPosition submitted_;  // end of the last batch handed to the append worker
  std::unique_ptr<AppendWorker> appender_;
  model::ChangeEvent scratch_;
  RowsEventReader rows_reader_;
  model::RowEventEncoder encoder_;
  EncodedRowImage first_image_;
  EncodedRowImage second_image_;
  std::vector<log::AppendRecord> spare_records_;  // spent records whose memory is reused
  size_t payload_hint_ = 256;
  uint64_t scratch_ordinal_ = 0;
  std::unique_ptr<SpillFile> spill_;
  io::FileSystem* file_system_ = nullptr;

  mutable std::mutex mu_;
  std::condition_variable finished_cv_;
  bool stopping_ = false;
  bool finished_ = false;
  Status final_status_;
  MysqlCaptureProgress progress_;
  BinlogClient* client_ = nullptr;
  EventQueue* queue_ = nullptr;
  Snapshotter* snapshot_ = nullptr;
  uint64_t dump_connection_id_ = 0;

  // Incremental snapshots (capture thread; the snapshotter's Queue from any thread).
  static constexpr std::chrono::milliseconds kIncrementalStep{200};
  std::unique_ptr<IncrementalSnapshotter> snapshotter_;
  std::unique_ptr<ChunkReader> chunk_reader_;
  // Readers of the chunks read at the same time (snapshot_parallelism - 1 connections).
  std::vector<std::unique_ptr<ChunkReader>> chunk_workers_;
  std::vector<ChunkWindow*> windows_scratch_;  // the open windows of the rows event's table
  std::pair<std::string, std::string> watermark_table_;  // {database, table}; empty: none
  std::pair<std::string, std::string> signal_table_;
  std::string watermark_table_error_;  // why no watermark table could be named
  std::string watermark_id_;
  uint64_t published_changes_ = 0;
};

Result<std::unique_ptr<MysqlCapture>> MysqlCapture::Start(MysqlCaptureOptions options,
                                                          std::shared_ptr<log::Stream> stream) {
  if (stream == nullptr) return InvalidArgument("MySQL capture needs a log stream");
  if (options.data_dir.empty()) {
    return InvalidArgument("MySQL capture needs a data directory for its schema history");
  }
  if (options.snapshot_parallelism < 1 || options.snapshot_parallelism > 64) {
    return InvalidArgument("MySQL capture: source.snapshot_parallelism must be 1..64");
  }
  if (options.server_id == 0) {
    return InvalidArgument(
        "MySQL capture needs a replica server_id: a non-zero number unique "
        "among the server's replicas (and different from its own)");
  }
  for (const std::string& table : options.tables) {
    if (table.find('.') == std::string::npos) {
      return InvalidArgument("table '" + table + "' must be written database.table");
    }
  }
  for (const std::string* table : {&options.signal_table, &options.watermark_table}) {
    if (!table->empty()) {
      EDDY_RETURN_IF_ERROR(SplitTableName(*table, table == &options.signal_table
                                                      ? "source.signal_table"
                                                      : "source.watermark_table")
                               .status());
    }
  }
  if (options.snapshot_type == SnapshotType::kIncremental &&
      options.snapshot_mode == SnapshotMode::kInitialOnly) {
    return InvalidArgument(
        "snapshot_mode initial_only with snapshot_type incremental: an incremental snapshot "
        "runs while streaming; use snapshot_type blocking for a snapshot without streaming");
  }
  EDDY_ASSIGN_OR_RETURN(SourceUrl url, ParseSourceUrl(options.url));
  if (url.kind != SourceKind::kMysql) {
    return InvalidArgument("MySQL capture needs a mysql:// or mariadb:// URL, got " +
                           url.ToString());
  }
  std::unique_ptr<MysqlCapture> capture(new MysqlCapture());
  capture->runner_ =
      std::make_unique<Runner>(std::move(options), std::move(stream), std::move(url));
  Runner* runner = capture->runner_.get();
  capture->thread_ = std::thread([runner] {
    NameCurrentThread("mysql-capture");
    runner->Run();
  });
  return capture;
}

MysqlCapture::~MysqlCapture() { Stop().IgnoreError(); }

Status MysqlCapture::Stop() {
  if (runner_ == nullptr) return Status::Ok();
  runner_->RequestStop();
  if (thread_.joinable()) thread_.join();
  return runner_->final_status();
}

bool MysqlCapture::WaitUntilFinished(std::chrono::milliseconds timeout) {
  return runner_->WaitUntilFinished(timeout);
}

MysqlCaptureProgress MysqlCapture::progress() const { return runner_->progress(); }

uint64_t MysqlCapture::dump_connection_id() const { return runner_->dump_connection_id(); }

void MysqlCapture::RequestSnapshot(SnapshotRequest request) {
  runner_->QueueSnapshot(std::move(request));
}

void MysqlCapture::ControlSnapshot(SnapshotControl control) {
  runner_->QueueSnapshot(std::move(control));
}

}  // namespace eddy::source::mysql
