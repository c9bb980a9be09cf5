#include "source/postgres/capture.h"

#include <fmt/ranges.h>
#include <fnmatch.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <condition_variable>
#include <deque>
#include <future>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <thread>

#include "base/backoff.h"
#include "base/clock.h"
#include "base/logging.h"
#include "base/thread_name.h"
#include "model/event_codec.h"
#include "source/capture_metrics.h"
#include "source/postgres/copy_text.h"
#include "source/postgres/event_builder.h"
#include "source/postgres/pg_connection.h"
#include "source/postgres/pgoutput.h"
#include "source/postgres/transaction_buffer.h"
#include "source/snapshot_records.h"
#include "source/snapshot_signal.h"

namespace eddy::source::postgres {
namespace {

using Clock = std::chrono::steady_clock;

std::shared_ptr<logging::Logger> Logger() { return logging::Get("postgres"); }

int64_t NowNanos() { return SystemClock::Instance().NowNanos(); }
int64_t NowPostgresMicros() { return NowNanos() / 1000 - kPostgresEpochOffsetMicros; }

// A failed append to the log, or an injected failure of an append step (append_hook): the
// log rolled the batch back, and the server sends everything not acknowledged again after a
// reconnect, so the failure is retriable (kUnavailable) where it is produced; except for a
// poisoned stream (kFailedPrecondition) or records it refuses (kInvalidArgument), which a
// reconnect does not fix. Status::IsRetriable() then decides at the retry loop, as everywhere.
Status AsAppendFailure(Status status) {
  if (status.ok() || status.IsRetriable() || status.code() == ErrorCode::kFailedPrecondition ||
      status.code() == ErrorCode::kInvalidArgument) {
    return status;
  }
  return Unavailable(status.ToString());
}

// Catalog lookups over an ordinary connection.
class SqlCatalog final : public CatalogLookup {
 public:
  explicit SqlCatalog(PgConnection* connection) : connection_(connection) {}

  Result<std::vector<std::string>> PrimaryKey(uint32_t relation_id) override {
    EDDY_ASSIGN_OR_RETURN(
        QueryRows rows,
        connection_->QueryParams(
            "SELECT a.attname FROM pg_index i "
            "CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord) "
            "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum "
            "WHERE i.indrelid = $1::oid AND i.indisprimary ORDER BY k.ord",
            {std::to_string(relation_id)}));
    std::vector<std::string> names;
    for (auto& row : rows.rows) names.push_back(row[0].value_or(""));
    return names;
  }

  Result<std::vector<std::string>> NotNullColumns(uint32_t relation_id) override {
    EDDY_ASSIGN_OR_RETURN(
        QueryRows rows,
        connection_->QueryParams("SELECT attname FROM pg_attribute WHERE attrelid = $1::oid "
                                 "AND attnum > 0 AND NOT attisdropped AND attnotnull "
                                 "ORDER BY attnum",
                                 {std::to_string(relation_id)}));
    std::vector<std::string> names;
    for (auto& row : rows.rows) names.push_back(row[0].value_or(""));
    return names;
  }

  Result<std::vector<CatalogType>> Types(uint32_t type_oid) override {
    std::vector<CatalogType> out;
    std::vector<uint32_t> pending = {type_oid};
    while (!pending.empty() && out.size() < 16) {
      uint32_t oid_value = pending.back();
      pending.pop_back();
      EDDY_ASSIGN_OR_RETURN(
          QueryRows rows,
          connection_->QueryParams(
              "SELECT n.nspname, t.typname, t.typtype, t.typcategory, t.typbasetype, t.typelem, "
              "COALESCE(e.typdelim, ',') FROM pg_type t "
              "JOIN pg_namespace n ON n.oid = t.typnamespace "
              "LEFT JOIN pg_type e ON e.oid = t.typelem WHERE t.oid = $1::oid",
              {std::to_string(oid_value)}));
      if (rows.rows.empty()) continue;
      const auto& row = rows.rows[0];
      CatalogType type;
      type.oid = oid_value;
      type.schema = row[0].value_or("");
      type.name = row[1].value_or("");
      type.kind = row[2].value_or("b").empty() ? 'b' : (*row[2])[0];
      type.is_array = row[3].value_or("") == "A";
      type.base_oid = static_cast<uint32_t>(std::stoul(row[4].value_or("0")));
      type.element_oid = static_cast<uint32_t>(std::stoul(row[5].value_or("0")));
      type.delimiter = row[6].value_or(",").empty() ? ',' : (*row[6])[0];
      // Built-in OIDs (below FirstNormalObjectId) are known to the decoder already.
      if (type.base_oid >= 16384) pending.push_back(type.base_oid);
      if (type.is_array && type.element_oid >= 16384) pending.push_back(type.element_oid);
      out.push_back(std::move(type));
    }
    return out;
  }

 private:
  PgConnection* connection_;
};

struct SlotState {
  bool exists = false;
  std::string wal_status;
  bool active = false;
};

}  // namespace

class PostgresCapture::Runner {
 public:
  Runner(PostgresCaptureOptions options, std::shared_ptr<log::Stream> stream)
      : options_(std::move(options)), stream_(std::move(stream)) {
    file_system_ = options_.file_system != nullptr ? options_.file_system : io::DefaultFileSystem();
    for (const std::string& table : options_.tables) {
      table_filter_.push_back(table.find('.') == std::string::npos ? "public." + table : table);
    }
    probe_ = std::make_unique<CaptureProbe>(stream_->name());
    if (!options_.signal_table.empty()) {
      signal_table_ = options_.signal_table.find('.') == std::string::npos
                          ? "public." + options_.signal_table
                          : options_.signal_table;
    }
    InitIncremental();
  }

  void Run() {
    std::thread appender([this] { AppenderLoop(); });
    slot_poller_ = std::make_unique<PeriodicPoller>(options_.slot_metrics_interval,
                                                    [this] { PollSlotMetrics(); });
    BackoffPolicy policy;
    policy.initial = options_.reconnect_initial_backoff;
    policy.max = options_.reconnect_max_backoff;
    Backoff backoff(policy);
    Status final_status;
    while (!StopRequested()) {
      SetState(CaptureState::kStarting);
      Status status = RunOnce();
      ResetStreamingState();
      if (StopRequested()) break;
      if (status.ok()) break;  // finished (initial_only)
      if (!status.IsRetriable()) {
        Logger()->error("capture stopped slot={} error=\"{}\"", options_.slot_name,
                        status.ToString());
        final_status = status;
        break;
      }
      {
        std::lock_guard lock(mu_);
        progress_.reconnects++;
        progress_.last_error = status.ToString();
        progress_.state = CaptureState::kReconnecting;
      }
      // A session that got somewhere starts the delays over.
      if (made_progress_) backoff.Reset();
      std::chrono::milliseconds delay = backoff.NextDelay();
      Logger()->warn("replication interrupted; reconnecting slot={} backoff_ms={} error=\"{}\"",
                     options_.slot_name, delay.count(), status.ToString());
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, delay, [&] { return stop_; });
    }
    {
      std::lock_guard lock(append_mu_);
      appender_stop_ = true;
      append_cv_.notify_all();
    }
    appender.join();
    slot_poller_.reset();
    std::lock_guard lock(mu_);
    final_status_ = final_status;
    progress_.state = !final_status.ok() ? CaptureState::kFailed
                      : stop_            ? CaptureState::kStopped
                                         : CaptureState::kFinished;
    if (!final_status.ok()) progress_.last_error = final_status.ToString();
    finished_ = true;
    cv_.notify_all();
  }

  void RequestSnapshot(SnapshotRequest request) { snapshotter_->Queue(std::move(request)); }

  void ControlSnapshot(SnapshotControl control) { snapshotter_->Queue(std::move(control)); }

  void RequestStop() {
    std::lock_guard lock(mu_);
    stop_ = true;
    cv_.notify_all();
  }

  bool WaitFinished(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return finished_; });
  }

  Status final_status() const {
    std::lock_guard lock(mu_);
    return final_status_;
  }

  PostgresCaptureProgress progress() const {
    std::lock_guard lock(mu_);
    PostgresCaptureProgress progress = progress_;
    progress.queued_appends = queued_appends_.load();
    return progress;
  }

 private:
  bool StopRequested() const {
    std::lock_guard lock(mu_);
    return stop_;
  }
  void SetState(CaptureState state) {
    std::lock_guard lock(mu_);
    progress_.state = state;
  }

  bool TableSelected(const model::TableId& table) const {
    if (table_filter_.empty()) return true;
    std::string name = table.QualifiedName();
    for (const std::string& pattern : table_filter_) {
      if (fnmatch(pattern.c_str(), name.c_str(), 0) == 0) return true;
    }
    return false;
  }

  // Table entries with shell-glob characters cannot be listed in a publication: such a
  // configuration publishes every table and filters here.
  bool FilterHasPatterns() const {
    return std::any_of(table_filter_.begin(), table_filter_.end(), [](const std::string& t) {
      return t.find_first_of("*?[") != std::string::npos;
    });
  }

  Lsn DurableEnd() {
    SourcePosition position = stream_->HighestDurablePosition();
    if (const PostgresPosition* pg = position.postgres()) return pg->commit_end_lsn;
    return Lsn::Invalid();
  }

  // ---- metrics ----

  // The counters of `table`, cached for runs of events of one table (capture thread only).
  TableCounters* CountersFor(const model::TableId& table) {
    if (last_counters_ == nullptr || !(table == last_table_)) {
      last_counters_ = probe_->Table(table);
      last_table_ = table;
    }
    return last_counters_;
  }

  // On the poller's thread, with a connection of its own: the replication connection never
  // waits for these queries, and they keep reporting while the capture reconnects.
  void PollSlotMetrics() {
    ReplicationStatus replication;
    replication.kind = "postgresql";
    replication.slot_name = options_.slot_name;
    Status status = [&]() -> Status {
      if (slot_connection_ == nullptr) {
        EDDY_ASSIGN_OR_RETURN(slot_connection_, PgConnection::Connect(options_.conninfo, false));
        // Bounds how long Stop() can wait for a poll on a struggling server.
        EDDY_RETURN_IF_ERROR(slot_connection_->Execute("SET statement_timeout = '5s'"));
      }
      // wal_status and safe_wal_size exist from PostgreSQL 13.
      bool has_wal_status = slot_connection_->server_version() >= 130000;
      EDDY_ASSIGN_OR_RETURN(
          QueryRows rows,
          slot_connection_->QueryParams(
              std::string("SELECT pg_wal_lsn_diff(CASE WHEN pg_is_in_recovery() THEN "
                          "pg_last_wal_receive_lsn() ELSE pg_current_wal_lsn() END, "
                          "confirmed_flush_lsn)::bigint::text, ") +
                  (has_wal_status ? "wal_status, safe_wal_size::text, " : "NULL, NULL, ") +
                  "active::text, restart_lsn::text, confirmed_flush_lsn::text "
                  "FROM pg_replication_slots WHERE slot_name = $1",
              {options_.slot_name}));
      if (rows.rows.empty()) {
        probe_->SetSourceLagBytes(std::nullopt);
        probe_->SetSlotWalStatus("");
        probe_->SetSlotSafeWalSize(std::nullopt);
        return Status::Ok();
      }
      auto number = [](const std::optional<std::string>& text) -> std::optional<int64_t> {
        int64_t value = 0;
        if (!text || text->empty() ||
            std::from_chars(text->data(), text->data() + text->size(), value).ec != std::errc()) {
          return std::nullopt;
        }
        return value;
      };
      const auto& row = rows.rows[0];
      replication.slot_exists = true;
      replication.lag_bytes = number(row[0]);
      replication.wal_status = row[1].value_or("");
      replication.safe_wal_size_bytes = number(row[2]);
      if (row[3]) replication.active = *row[3] == "true";
      replication.restart_lsn = row[4].value_or("");
      replication.confirmed_flush_lsn = row[5].value_or("");
      probe_->SetSourceLagBytes(replication.lag_bytes);
      probe_->SetSlotWalStatus(replication.wal_status);
      probe_->SetSlotSafeWalSize(replication.safe_wal_size_bytes);
      return Status::Ok();
    }();
    if (!status.ok()) {
      // Unknown rather than stale; the next poll reconnects.
      slot_connection_.reset();
      probe_->SetSourceLagBytes(std::nullopt);
      replication.error = status.ToString();
      Logger()->debug("slot metrics query failed slot={} error=\"{}\"", options_.slot_name,
                      status.ToString());
    }
    replication.polled_at_nanos = NowNanos();
    probe_->SetReplicationStatus(std::move(replication));
  }

  // ---- setup ----

  Status EnsurePublication(PgConnection& sql) {
    EDDY_ASSIGN_OR_RETURN(QueryRows rows,
                          sql.QueryParams("SELECT 1 FROM pg_publication WHERE pubname = $1",
                                          {options_.publication_name}));
    EDDY_RETURN_IF_ERROR(EnsureSignalTable(sql));
    if (!rows.rows.empty()) {
      if (!signal_table_.empty()) {
        size_t dot = signal_table_.find('.');
        EDDY_ASSIGN_OR_RETURN(
            QueryRows published,
            sql.QueryParams("SELECT 1 FROM pg_publication_tables WHERE "
                            "pubname = $1 AND schemaname = $2 AND tablename = $3",
                            {options_.publication_name, signal_table_.substr(0, dot),
                             signal_table_.substr(dot + 1)}));
        if (published.rows.empty()) {
          Logger()->warn(
              "signal table {} is not in publication {}: its signals are not seen; fix: ALTER "
              "PUBLICATION {} ADD TABLE {}",
              signal_table_, options_.publication_name, QuoteIdentifier(options_.publication_name),
              QualifiedSql(signal_table_));
        }
      }
      return Status::Ok();
    }
    std::string ddl = "CREATE PUBLICATION " + QuoteIdentifier(options_.publication_name);
    if (table_filter_.empty() || FilterHasPatterns()) {
      ddl += " FOR ALL TABLES";
    } else {
      ddl += " FOR TABLE ";
      for (size_t i = 0; i < table_filter_.size(); ++i) {
        if (i > 0) ddl += ", ";
        ddl += QualifiedSql(table_filter_[i]);
      }
      if (!signal_table_.empty() && std::find(table_filter_.begin(), table_filter_.end(),
                                              signal_table_) == table_filter_.end()) {
        ddl += ", " + QualifiedSql(signal_table_);
      }
    }
    Logger()->info("creating publication publication={} statement=\"{}\"",
                   options_.publication_name, ddl);
    return sql.Execute(ddl);
  }

  static std::string QualifiedSql(const std::string& table) {
    size_t dot = table.find('.');
    return QuoteIdentifier(table.substr(0, dot)) + "." + QuoteIdentifier(table.substr(dot + 1));
  }

  bool IsSignalTable(const model::TableId& table) const {
    return !signal_table_.empty() && table.QualifiedName() == signal_table_;
  }

  // Debezium's signal table layout, created when missing.
  Status EnsureSignalTable(PgConnection& sql) {
    if (signal_table_.empty()) return Status::Ok();
    Status created = sql.Execute("CREATE TABLE IF NOT EXISTS " + QualifiedSql(signal_table_) +
                                 " (id varchar(42) PRIMARY KEY, type varchar(32) NOT NULL, "
                                 "data varchar(2048) NULL)");
    if (!created.ok()) {
      return FailedPrecondition("signal table " + signal_table_ +
                                " does not exist and cannot be created (" + created.message() +
                                "): create it as (id varchar(42) PRIMARY KEY, type varchar(32) "
                                "NOT NULL, data varchar(2048) NULL) or grant CREATE on its "
                                "schema, or unset source.signal_table");
    }
    return Status::Ok();
  }

  // A committed row of the signal table: queued for the next snapshot step; a bad one is
  // logged and ignored.
  void OnSignalRow(const model::Row& row) {
    auto text = [&](const char* column) -> std::string {
      const model::Value* value = model::FindField(row, column);
      if (value == nullptr) return "";
      if (const std::string* string = value->TryGet<std::string>()) return *string;
      return "";
    };
    std::string id = text("id");
    std::string type = text("type");
    Result<SnapshotSignal> signal = ParseSnapshotSignal("signal:" + id, type, text("data"));
    if (!signal.ok()) {
      Logger()->error("ignoring a bad signal row table={} error=\"{}\"", signal_table_,
                      signal.status().message());
      return;
    }
    Logger()->info("signal received table={} id={} type={}", signal_table_, id, type);
    switch (signal->kind) {
      case SnapshotSignal::Kind::kExecute:
        snapshotter_->Queue(std::move(signal->request));
        break;
      case SnapshotSignal::Kind::kControl:
        snapshotter_->Queue(std::move(signal->control));
        break;
      case SnapshotSignal::Kind::kLog:
        Logger()->info("signal log id={} message=\"{}\"", id, signal->message);
        break;
    }
  }

  Result<SlotState> LookupSlot(PgConnection& sql) {
    EDDY_ASSIGN_OR_RETURN(
        QueryRows rows,
        sql.QueryParams("SELECT COALESCE(wal_status, ''), active::text, plugin, database "
                        "FROM pg_replication_slots WHERE slot_name = $1",
                        {options_.slot_name}));
    SlotState state;
    if (rows.rows.empty()) return state;
    state.exists = true;
    state.wal_status = rows.rows[0][0].value_or("");
    state.active = rows.rows[0][1].value_or("") == "true";
    std::string plugin = rows.rows[0][2].value_or("");
    if (plugin != "pgoutput") {
      return FailedPrecondition("replication slot \"" + options_.slot_name + "\" uses plugin \"" +
                                plugin + "\", not pgoutput: choose another slot name or drop it");
    }
    return state;
  }

  Status RunOnce() {
    made_progress_ = false;
    EDDY_RETURN_IF_ERROR(file_system_->CreateDirectories(options_.spill_dir));
    // The connections are made at once: each is a round of authentication (SCRAM hashes on
    // both ends, about 10 ms), part of every start's and every snapshot's time. A first start
    // of a blocking snapshot (no position in the log yet) also opens the snapshot's reading
    // connection now; it imports the slot's snapshot once the slot exists (TakeSnapshot), and
    // is closed unused if no snapshot is taken after all.
    auto connect = [this] { return PgConnection::Connect(options_.conninfo, false); };
    std::future<Result<std::unique_ptr<PgConnection>>> sql_connecting =
        std::async(std::launch::async, connect);
    std::future<Result<std::unique_ptr<PgConnection>>> reader_connecting;
    if (!snapshot_taken_ && !DurableEnd().IsValid() &&
        options_.snapshot_type == SnapshotType::kBlocking &&
        options_.snapshot_mode != SnapshotMode::kNoData) {
      reader_connecting = std::async(std::launch::async, connect);
    }
    Result<std::unique_ptr<PgConnection>> replication_connected =
        PgConnection::Connect(options_.conninfo, true);
    EDDY_ASSIGN_OR_RETURN(std::unique_ptr<PgConnection> sql, sql_connecting.get());
    EDDY_ASSIGN_OR_RETURN(std::unique_ptr<PgConnection> replication,
                          std::move(replication_connected));
    EDDY_ASSIGN_OR_RETURN(SystemIdentity identity, replication->IdentifySystem());
    int version = replication->server_version();
    if (version < 100000) {
      return FailedPrecondition("PostgreSQL " + std::to_string(version / 10000) +
                                " has no pgoutput; eddy needs PostgreSQL 10 or later");
    }
    SqlCatalog catalog(sql.get());
    builder_ = std::make_unique<EventBuilder>(identity.database, &catalog, options_.server_name,
                                              options_.schemas.get());

    EDDY_RETURN_IF_ERROR(EnsurePublication(*sql));
    EDDY_ASSIGN_OR_RETURN(SlotState slot, LookupSlot(*sql));
    Lsn durable = DurableEnd();
    bool have_position = durable.IsValid();
    bool slot_usable = slot.exists && slot.wal_status != "lost";
    proto_version_ = version >= 160000 ? 4 : version >= 150000 ? 3 : version >= 140000 ? 2 : 1;
    EDDY_RETURN_IF_ERROR(LoadIncremental());
    // An incremental initial snapshot already planned (running or complete) counts as taken.
    bool incremental_planned = snapshotter_->InitialPlanned() && slot_usable;
    bool incremental = options_.snapshot_type == SnapshotType::kIncremental;
    bool need_snapshot = false;
    switch (options_.snapshot_mode) {
      case SnapshotMode::kNoData:
        need_snapshot = false;
        break;
      // A snapshot this process already took counts as a position even when it stored no
      // rows (an empty snapshot records no position in the log).
      case SnapshotMode::kInitial:
      case SnapshotMode::kInitialOnly:
        need_snapshot = !have_position && !(snapshot_taken_ && slot_usable) && !incremental_planned;
        break;
      case SnapshotMode::kWhenNeeded:
        need_snapshot =
            (!have_position && !snapshot_taken_ && !incremental_planned) || !slot_usable;
        break;
      case SnapshotMode::kAlways:
        need_snapshot = !snapshot_taken_;
        break;
    }
    if (options_.snapshot_mode == SnapshotMode::kInitialOnly && have_position &&
        !(incremental_planned && !snapshotter_->Complete())) {
      Logger()->info("snapshot already in the log; initial_only has nothing to do");
      return Status::Ok();
    }
    if (!need_snapshot && !slot_usable) {
      if (slot.exists) {
        return FailedPrecondition(
            "replication slot \"" + options_.slot_name +
            "\" was invalidated (wal_status=lost): PostgreSQL removed WAL it still needed, so "
            "changes were lost; restart with snapshot mode when_needed or always to re-snapshot");
      }
      if (have_position) {
        return FailedPrecondition(
            "replication slot \"" + options_.slot_name +
            "\" does not exist but the log holds "
            "changes up to " +
            durable.ToString() +
            ": the slot was dropped and changes since "
            "then are lost; restart with snapshot mode when_needed or always to re-snapshot");
      }
      EDDY_ASSIGN_OR_RETURN(CreatedSlot created,
                            replication->CreateLogicalSlot(options_.slot_name, false));
      Logger()->info("created replication slot slot={} consistent_point={}", created.name,
                     created.consistent_point.ToString());
    }
    if (need_snapshot && incremental) {
      if (proto_version_ < 2) {
        return FailedPrecondition(
            "incremental snapshots need PostgreSQL 14 or later (pgoutput messages carry the "
            "watermarks); set source.snapshot_type = \"blocking\"");
      }
      if (slot.exists && slot.active) {
        return Unavailable("replication slot \"" + options_.slot_name +
                           "\" is still in use by another connection");
      }
      EDDY_ASSIGN_OR_RETURN(std::vector<PlannedTable> planned,
                            PublishedTables(*sql, identity.database));
      // Tables without a key are read in ctid ranges against the slot's exported snapshot,
      // which starts exactly where the stream does: a slot created earlier has none.
      bool export_snapshot = std::any_of(planned.begin(), planned.end(),
                                         [](const PlannedTable& table) { return table.ctid; });
      if (export_snapshot && slot_usable) {
        if (have_position) {
          return FailedPrecondition(
              "incremental snapshot: tables without a key are read against the snapshot the "
              "replication slot exports when it is created, but slot \"" +
              options_.slot_name + "\" exists and the log already holds changes up to " +
              durable.ToString() +
              "; set source.snapshot_type = \"blocking\" for this snapshot, or add primary "
              "keys");
        }
        Logger()->info(
            "dropping replication slot to export the snapshot tables without a key are read "
            "against slot={}",
            options_.slot_name);
        slot_usable = false;
      }
      std::string exported_snapshot;
      if (!slot_usable) {
        if (slot.exists) {
          Logger()->info("dropping the replication slot slot={}", options_.slot_name);
          EDDY_RETURN_IF_ERROR(
              sql->QueryParams("SELECT pg_drop_replication_slot($1)", {options_.slot_name})
                  .status());
        }
        EDDY_ASSIGN_OR_RETURN(CreatedSlot created,
                              replication->CreateLogicalSlot(options_.slot_name, export_snapshot));
        Logger()->info("created replication slot slot={} consistent_point={}", created.name,
                       created.consistent_point.ToString());
        exported_snapshot = created.snapshot_name;
      }
      EDDY_RETURN_IF_ERROR(PlanInitialIncremental(*sql, std::move(planned), exported_snapshot));
      snapshot_taken_ = true;
      return Stream(*replication, version, durable);
    }
    if (need_snapshot) {
      if (slot.exists && !have_position && options_.snapshot_mode != SnapshotMode::kAlways) {
        Logger()->warn(
            "stream {} holds no completed snapshot but slot {} exists: an earlier "
            "snapshot did not finish (its rows never became visible); the snapshot "
            "restarts from the beginning",
            stream_->name(), options_.slot_name);
      }
      if (slot.exists && slot.active) {
        // Typically the walsender of a process that just died, not yet gone: retry shortly.
        return Unavailable("replication slot \"" + options_.slot_name +
                           "\" is still in use by another connection; cannot recreate it for "
                           "the snapshot yet");
      }
      if (slot.exists) {
        Logger()->info("dropping replication slot to take a consistent snapshot slot={}",
                       options_.slot_name);
        EDDY_RETURN_IF_ERROR(
            sql->QueryParams("SELECT pg_drop_replication_slot($1)", {options_.slot_name}).status());
      }
      // Otherwise the reading connection authenticates while the slot is created.
      if (!reader_connecting.valid()) reader_connecting = std::async(std::launch::async, connect);
      EDDY_ASSIGN_OR_RETURN(CreatedSlot created,
                            replication->CreateLogicalSlot(options_.slot_name, true));
      Logger()->info(
          "created replication slot with exported snapshot slot={} "
          "consistent_point={} snapshot={}",
          created.name, created.consistent_point.ToString(), created.snapshot_name);
      SetState(CaptureState::kSnapshot);
      EDDY_ASSIGN_OR_RETURN(std::unique_ptr<PgConnection> reader, reader_connecting.get());
      EDDY_RETURN_IF_ERROR(TakeSnapshot(created, std::move(reader)));
      snapshot_taken_ = true;
      durable = DurableEnd();
      if (options_.snapshot_mode == SnapshotMode::kInitialOnly) return Status::Ok();
    }
    snapshot_taken_ = true;
    return Stream(*replication, version, durable);
  }

  // ---- snapshot ----

  // `reader`: a fresh connection of the source's (no transaction open yet).
  Status TakeSnapshot(const CreatedSlot& slot, std::unique_ptr<PgConnection> reader) {
    EDDY_RETURN_IF_ERROR(reader->Execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"));
    EDDY_RETURN_IF_ERROR(
        reader->Execute("SET TRANSACTION SNAPSHOT " + QuoteLiteral(slot.snapshot_name)));
    SqlCatalog catalog(reader.get());
    EventBuilder builder(builder_->database(), &catalog, options_.server_name,
                         options_.schemas.get());
    EDDY_ASSIGN_OR_RETURN(
        QueryRows tables,
        reader->QueryParams(
            "SELECT c.oid::text, n.nspname, c.relname, GREATEST(c.reltuples, 0)::bigint::text, "
            "c.relreplident::text FROM pg_publication_tables p "
            "JOIN pg_namespace n ON n.nspname = p.schemaname "
            "JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = p.tablename "
            "WHERE p.pubname = $1 ORDER BY 2, 3",
            {options_.publication_name}));
    uint64_t estimated = 0;
    uint64_t tables_remaining = 0;
    for (const auto& row : tables.rows) {
      estimated += std::stoull(row[3].value_or("0"));
      if (TableSelected({builder.database(), row[1].value_or(""), row[2].value_or("")})) {
        ++tables_remaining;
      }
    }
    probe_->SetSnapshotTablesRemaining(tables_remaining);
    EventTally snapshot_tally;  // applied once the snapshot is durable
    {
      std::lock_guard lock(mu_);
      progress_.snapshot_rows = 0;
      progress_.snapshot_rows_estimated = estimated;
    }
    PostgresPosition position{slot.consistent_point, slot.consistent_point};
    int64_t snapshot_time = NowNanos();
    auto started = Clock::now();
    // Rows go straight from COPY text to encoded records (source/snapshot_records.h), with the
    // value conversions of the stream (EventBuilder::EncodeTextValue).
    model::ChangeEvent shared;
    shared.position = SourcePosition(position);
    shared.commit_time_ns = snapshot_time;
    shared.transaction_id = "snapshot:" + slot.consistent_point.ToString();
    shared.source.connector = model::ConnectorKind::kPostgres;
    shared.source.server_name = options_.server_name;
    SnapshotRecordWriter writer(std::move(shared));
    // Parts of kSnapshotPartRecords: the append thread frames a part while its records are
    // still in the cache (10,000-record parts, ~3 MB, were read back from memory: the frame's
    // payload copy was a third of that thread's time; see docs/benchmarks.md).
    const size_t part_records =
        std::min<size_t>(options_.append_part_records, kSnapshotPartRecords);
    std::vector<log::AppendRecord> records;
    records.reserve(part_records);
    size_t records_bytes = 0;
    // The whole snapshot is one transaction ending at the consistent point: parts are written
    // as rows are read, but nothing is visible until the last row is in, so a snapshot
    // interrupted by a crash leaves no trace and the next one does not duplicate its rows.
    // A snapshot that fits in one part is a single AppendTransaction.
    // Parts are written on a thread of their own while the next part is read and encoded;
    // their records come back for reuse. Declared after `appender`: destroyed first, so an
    // early return waits for the part in flight before the appender aborts.
    std::unique_ptr<log::TransactionAppender> appender;
    std::optional<SnapshotAppendThread> part_thread;
    auto part_written = [&](size_t count) -> Status {
      if (count == 0) return Status::Ok();
      AppendStep step;
      step.kind = AppendStep::Kind::kSnapshotPart;
      step.records = count;
      return CallHook(step);
    };
    auto write_part = [&]() -> Status {
      if (appender == nullptr) {
        EDDY_ASSIGN_OR_RETURN(appender, stream_->BeginTransaction());
        part_thread.emplace([&appender](std::vector<log::AppendRecord>& part) {
          return appender->AppendReusing(&part);
        });
      }
      size_t written = 0;  // records of the part before this one, now in the log's files
      EDDY_RETURN_IF_ERROR(part_thread->Submit(records, &written));
      writer.Recycle(records);
      records.reserve(part_records);
      records_bytes = 0;
      return part_written(written);
    };
    auto part_full = [&]() -> Status {
      if (records.size() >= part_records || records_bytes >= options_.append_part_bytes) {
        return AsAppendFailure(write_part().WithContext("appending snapshot rows"));
      }
      return Status::Ok();
    };
    auto add = [&](std::string_view key, std::string_view rows) -> Status {
      writer.Add(key, rows, records);
      records_bytes += key.size() + rows.size() + 64;
      return part_full();
    };
    if (options_.snapshot_parallelism > 1) {
      // The rows come from several connections in batches; numbered and appended here.
      auto sink = [&](const SnapshotTablePlan& table, const EncodedRows& batch) -> Status {
        if (batch.empty()) return Status::Ok();
        writer.SetTable(table.id, table.version, NowNanos());
        for (const auto& [key, rows] : batch) EDDY_RETURN_IF_ERROR(add(key, rows));
        snapshot_tally.Add(probe_->Table(table.id), model::Operation::kRead, batch.size());
        probe_->AddSnapshotRows(table.id.QualifiedName(), batch.size());
        std::lock_guard lock(mu_);
        progress_.snapshot_rows += batch.size();
        return Status::Ok();
      };
      EDDY_RETURN_IF_ERROR(ReadSnapshotInParallel(slot, *reader, builder, tables, sink));
      probe_->SetSnapshotTablesRemaining(0);
    }
    const QueryRows no_tables;
    for (const auto& table_row : options_.snapshot_parallelism > 1 ? no_tables.rows : tables.rows) {
      std::string schema = table_row[1].value_or("");
      std::string name = table_row[2].value_or("");
      if (!TableSelected({builder.database(), schema, name})) continue;
      EDDY_ASSIGN_OR_RETURN(SnapshotTablePlan plan, PlanSnapshotTable(*reader, builder, table_row));
      const RelationInfo& relation = plan.relation;
      uint64_t table_rows = 0;
      uint64_t rows_since_progress = 0;
      const std::string qualified_name = plan.id.QualifiedName();
      writer.SetTable(plan.id, plan.version, NowNanos());
      SnapshotRowEncoding encoding(plan.id, plan.column_names, relation.key_columns);
      CopyRowDecoder decoder;
      auto report = [&]() {
        probe_->AddSnapshotRows(qualified_name, rows_since_progress);
        double seconds = std::chrono::duration<double>(Clock::now() - started).count();
        uint64_t done = 0;
        {
          std::lock_guard lock(mu_);
          progress_.snapshot_rows += rows_since_progress;
          done = progress_.snapshot_rows;
        }
        rows_since_progress = 0;
        Logger()->info(
            "snapshot progress table={}.{} table_rows={} rows_done={} "
            "rows_estimated={} rows_per_second={:.0f}",
            schema, name, table_rows, done, estimated,
            seconds > 0 ? static_cast<double>(done) / seconds : 0.0);
      };
      Status copied = reader->CopyOut(
          "COPY (" + plan.select + ") TO STDOUT", [&](std::string_view line) -> Status {
            EDDY_RETURN_IF_ERROR(
                decoder.EncodeInto(builder, relation, line, encoding, writer, records));
            records_bytes += 2 * writer.last_row_bytes() + 64;
            EDDY_RETURN_IF_ERROR(part_full());
            ++table_rows;
            if (++rows_since_progress == options_.snapshot_chunk_rows) {
              if (StopRequested()) return Aborted("capture stopped during the snapshot");
              report();
              writer.SetTable(plan.id, plan.version, NowNanos());
            }
            return Status::Ok();
          });
      if (!copied.ok()) return TableChangedOr(plan, std::move(copied));
      if (rows_since_progress > 0) report();
      if (table_rows > 0) {
        snapshot_tally.Add(probe_->Table(plan.id), model::Operation::kRead, table_rows);
      }
      probe_->SetSnapshotTablesRemaining(--tables_remaining);
    }
    EDDY_RETURN_IF_ERROR(writer.Finish(records));
    const uint64_t ordinal = writer.rows();
    EDDY_RETURN_IF_ERROR(reader->Execute("COMMIT"));
    // Also when every table was empty: the end position alone records that the snapshot is
    // complete, so a restart streams instead of snapshotting again.
    if (appender == nullptr) {
      EDDY_RETURN_IF_ERROR(AsAppendFailure(
          stream_->AppendTransaction(std::move(records), SourcePosition(position)).status()));
    } else {
      if (!records.empty()) EDDY_RETURN_IF_ERROR(AsAppendFailure(write_part()));
      size_t written = 0;
      EDDY_RETURN_IF_ERROR(AsAppendFailure(part_thread->Wait(&written)));
      EDDY_RETURN_IF_ERROR(part_written(written));
      EDDY_RETURN_IF_ERROR(AsAppendFailure(appender->Commit(SourcePosition(position)).status()));
    }
    snapshot_tally.Apply();
    AppendStep step;
    step.kind = AppendStep::Kind::kSnapshotCommit;
    step.records = ordinal;
    EDDY_RETURN_IF_ERROR(CallHook(step));
    Logger()->info("snapshot complete rows={} consistent_point={}", ordinal,
                   slot.consistent_point.ToString());
    made_progress_ = true;
    return Status::Ok();
  }

  // A table the blocking snapshot reads: its relation (catalog columns and types, primary
  // key, schema version recorded once) and the SELECT of its columns.
  struct SnapshotTablePlan {
    model::TableId id;
    uint32_t version = 0;
    RelationInfo relation;
    std::vector<std::string> column_names;
    // SELECT <columns> FROM <table>, in heap order: no ORDER BY, so PostgreSQL scans the table
    // sequentially as its own COPY does (an index scan in key order costs 2x on a table larger
    // than shared_buffers); one snapshot transaction holds each row once whatever the order,
    // as MySQL's and the parallel snapshot's do.
    std::string select;
  };
  // Rows encoded by a reader: (partition key, key and after rows) per row.
  using EncodedRows = std::vector<std::pair<std::string, std::string>>;

  // Plans the table of `table_row` (oid, schema, name, reltuples, relreplident).
  Result<SnapshotTablePlan> PlanSnapshotTable(
      PgConnection& reader, EventBuilder& builder,
      const std::vector<std::optional<std::string>>& table_row) {
    uint32_t relation_id = static_cast<uint32_t>(std::stoul(table_row[0].value_or("0")));
    std::string schema = table_row[1].value_or("");
    std::string name = table_row[2].value_or("");
    EDDY_ASSIGN_OR_RETURN(
        QueryRows columns,
        reader.QueryParams("SELECT attname, atttypid::text, atttypmod::text FROM pg_attribute "
                           "WHERE attrelid = $1::oid AND attnum > 0 AND NOT attisdropped "
                           "AND attgenerated = '' ORDER BY attnum",
                           {std::to_string(relation_id)}));
    SnapshotTablePlan plan;
    std::vector<RelationColumn> relation_columns;
    for (const auto& column : columns.rows) plan.column_names.push_back(column[0].value_or(""));
    for (size_t i = 0; i < columns.rows.size(); ++i) {
      RelationColumn column;
      column.name = plan.column_names[i];
      column.type_oid = static_cast<uint32_t>(std::stoul(columns.rows[i][1].value_or("0")));
      column.type_modifier = std::stoi(columns.rows[i][2].value_or("-1"));
      relation_columns.push_back(column);
    }
    char identity = table_row[4].value_or("d").empty() ? 'd' : (*table_row[4])[0];
    plan.relation = builder.MakeRelation(relation_id, schema, name, relation_columns,
                                         static_cast<ReplicaIdentity>(identity));
    EDDY_RETURN_IF_ERROR(builder.StampVersion(plan.relation));
    plan.id = plan.relation.schema.table;
    plan.version = plan.relation.schema.version;
    plan.select = "SELECT ";
    for (size_t i = 0; i < plan.column_names.size(); ++i) {
      if (i > 0) plan.select += ", ";
      plan.select += QuoteIdentifier(plan.column_names[i]);
    }
    if (plan.column_names.empty()) plan.select += "NULL";
    plan.select += " FROM " + QuoteIdentifier(schema) + "." + QuoteIdentifier(name);
    return plan;
  }

  // PostgreSQL resolves names against the current catalog, not the exported snapshot's: a
  // column or table dropped or renamed after the slot was created (undefined_column 42703,
  // undefined_table 42P01) fails the SELECT although the snapshot's catalog has it. The
  // snapshot starts over (a new slot and snapshot, after the DDL) instead of stopping the
  // capture. Other errors are returned as they are.
  static Status TableChangedOr(const SnapshotTablePlan& plan, Status status) {
    const std::string& text = status.message();
    if (text.find("[42703]") != std::string::npos || text.find("[42P01]") != std::string::npos) {
      return Unavailable("table " + QuoteIdentifier(plan.id.schema) + "." +
                         QuoteIdentifier(plan.id.name) + " changed while the snapshot started (" +
                         text + "); the snapshot starts again");
    }
    return status;
  }

  // One COPY text row into `encoding` (its values' encodings); keeps its buffers from row to
  // row.
  struct CopyRowDecoder {
    std::vector<std::optional<std::string_view>> values;
    std::string scratch;
    Status Encode(const EventBuilder& builder, const RelationInfo& relation, std::string_view line,
                  SnapshotRowEncoding& encoding) {
      Status split =
          SplitCopyTextRow(line, std::max<size_t>(1, encoding.columns()), values, scratch);
      if (!split.ok()) {
        return split.WithContext("snapshot of " + relation.schema.table.QualifiedName());
      }
      encoding.Clear();
      for (size_t i = 0; i < encoding.columns(); ++i) {
        EDDY_RETURN_IF_ERROR(builder.EncodeTextValue(relation, i, values[i], encoding.values()));
        encoding.EndValue();
      }
      return Status::Ok();
    }
    // Splits `line` and encodes it straight into `writer`'s next record (no per-row buffer);
    // `layout` gives the table's names and key.
    Status EncodeInto(const EventBuilder& builder, const RelationInfo& relation,
                      std::string_view line, const SnapshotRowEncoding& layout,
                      SnapshotRecordWriter& writer, std::vector<log::AppendRecord>& records) {
      Status split = SplitCopyTextRow(line, std::max<size_t>(1, layout.columns()), values, scratch);
      if (!split.ok()) {
        return split.WithContext("snapshot of " + relation.schema.table.QualifiedName());
      }
      return writer.AddEncoded(
          layout,
          [&](size_t column, ByteAppender& out) {
            return builder.EncodeTextValue(relation, column, values[column], out);
          },
          records);
    }
  };

  // The blocking snapshot over snapshot_parallelism connections: every selected table's pages
  // [0, pg_relation_size / block_size) split into that many ctid ranges (the last one open, so
  // pages added since cannot hide a row), read by worker connections that each import the
  // slot's exported snapshot. Each row is in exactly one range (a tuple's ctid is fixed in one
  // snapshot), so every row is read once. Batches of encoded rows go through a bounded queue to
  // `sink` on this thread; the first error stops every worker.
  Status ReadSnapshotInParallel(
      const CreatedSlot& slot, PgConnection& reader, EventBuilder& builder, const QueryRows& tables,
      const std::function<Status(const SnapshotTablePlan&, const EncodedRows&)>& sink) {
    struct Range {
      size_t table = 0;
      int64_t first_page = 0;
      int64_t end_page = -1;  // -1: to the end
    };
    const size_t workers = options_.snapshot_parallelism;
    std::vector<SnapshotTablePlan> planned;
    std::vector<Range> ranges;
    for (const auto& table_row : tables.rows) {
      if (!TableSelected(
              {builder.database(), table_row[1].value_or(""), table_row[2].value_or("")})) {
        continue;
      }
      // The version is recorded once, here; the workers share the plan.
      EDDY_ASSIGN_OR_RETURN(SnapshotTablePlan table, PlanSnapshotTable(reader, builder, table_row));
      EDDY_ASSIGN_OR_RETURN(QueryRows size,
                            reader.QueryParams("SELECT (pg_relation_size($1::oid) / "
                                               "current_setting('block_size')::bigint)::text",
                                               {std::to_string(table.relation.relation_id)}));
      int64_t pages = std::stoll(size.rows[0][0].value_or("0"));
      int64_t step = std::max<int64_t>(
          1, (pages + static_cast<int64_t>(workers) - 1) / static_cast<int64_t>(workers));
      for (int64_t first = 0;; first += step) {
        bool last = first + step >= pages;
        ranges.push_back({planned.size(), first, last ? -1 : first + step});
        if (last) break;
      }
      planned.push_back(std::move(table));
    }
    Logger()->info("snapshot reads {} table(s) in {} ctid range(s) over {} connections",
                   planned.size(), ranges.size(), workers);

    std::mutex mu;
    std::condition_variable cv;
    std::deque<std::pair<size_t, EncodedRows>> queue;
    size_t next_range = 0;
    size_t running = workers;
    bool stop = false;
    Status failure;
    auto work = [&]() -> Status {
      EDDY_ASSIGN_OR_RETURN(std::unique_ptr<PgConnection> sql,
                            PgConnection::Connect(options_.conninfo, false));
      EDDY_RETURN_IF_ERROR(sql->Execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"));
      EDDY_RETURN_IF_ERROR(
          sql->Execute("SET TRANSACTION SNAPSHOT " + QuoteLiteral(slot.snapshot_name)));
      // The plans' relations were resolved by `builder` (the types of their columns); the
      // value conversions only read it.
      CopyRowDecoder decoder;
      while (true) {
        size_t index = 0;
        {
          std::lock_guard lock(mu);
          if (stop || next_range >= ranges.size()) break;
          index = next_range++;
        }
        const Range& range = ranges[index];
        const SnapshotTablePlan& table = planned[range.table];
        SnapshotRowEncoding encoding(table.id, table.column_names, table.relation.key_columns);
        std::string select =
            table.select + " WHERE ctid >= '(" + std::to_string(range.first_page) + ",0)'::tid";
        if (range.end_page >= 0) {
          select += " AND ctid < '(" + std::to_string(range.end_page) + ",0)'::tid";
        }
        EncodedRows batch;
        auto hand_over = [&]() -> Status {
          std::unique_lock lock(mu);
          cv.wait(lock, [&] { return stop || queue.size() < 2 * workers; });
          if (stop) return Aborted("the snapshot stopped");
          queue.emplace_back(range.table, std::move(batch));
          batch = EncodedRows();
          cv.notify_all();
          return Status::Ok();
        };
        Status copied =
            sql->CopyOut("COPY (" + select + ") TO STDOUT", [&](std::string_view line) -> Status {
              EDDY_RETURN_IF_ERROR(decoder.Encode(builder, table.relation, line, encoding));
              auto& [key, rows] = batch.emplace_back();
              EDDY_RETURN_IF_ERROR(encoding.Finish(key, rows));
              if (batch.size() >= options_.snapshot_chunk_rows) return hand_over();
              return Status::Ok();
            });
        if (!copied.ok()) {
          {
            std::lock_guard lock(mu);
            if (stop) return Status::Ok();  // another worker's error (or a stop) is the one
          }
          return TableChangedOr(table, std::move(copied));
        }
        if (!batch.empty()) {
          Status handed = hand_over();
          if (!handed.ok()) return Status::Ok();
        }
      }
      return sql->Execute("COMMIT");
    };
    std::vector<std::thread> threads;
    for (size_t i = 0; i < workers; ++i) {
      threads.emplace_back([&] {
        NameCurrentThread("pg-snapshot");
        Status status = work();
        std::lock_guard lock(mu);
        if (!status.ok() && failure.ok()) {
          failure = status.WithContext("snapshot worker");
          stop = true;
        }
        --running;
        cv.notify_all();
      });
    }
    Status result;
    while (true) {
      std::pair<size_t, EncodedRows> batch;
      {
        std::unique_lock lock(mu);
        cv.wait_for(lock, std::chrono::milliseconds(200),
                    [&] { return !queue.empty() || running == 0; });
        if (queue.empty()) {
          if (running == 0) break;
          if (StopRequested() && result.ok()) {
            result = Aborted("capture stopped during the snapshot");
            stop = true;
            cv.notify_all();
          }
          continue;
        }
        batch = std::move(queue.front());
        queue.pop_front();
        cv.notify_all();
      }
      if (!result.ok()) continue;  // drained so that the workers can end
      result = sink(planned[batch.first], batch.second);
      if (!result.ok()) {
        std::lock_guard lock(mu);
        stop = true;
        cv.notify_all();
      }
    }
    for (std::thread& thread : threads) thread.join();
    if (!failure.ok()) return failure;
    return result;
  }
  log::AppendRecord ToRecord(const model::ChangeEvent& event) {
    log::AppendRecord record;
    record.partition_key = event.PartitionKey();
    record.payload = model::EncodeEvent(event);
    record.position = event.position;
    return record;
  }

  // ---- incremental snapshots (DBLog; source/incremental_snapshot.h, docs/snapshots.md) ----

  void InitIncremental() {
    IncrementalSnapshotter::Options options;
    options.file_system = file_system_;
    options.state_dir = options_.state_dir.empty() ? options_.spill_dir : options_.state_dir;
    options.log_module = "postgres";
    options.resolve_table = [this](std::string_view requested) -> Result<std::string> {
      std::string name = requested.find('.') == std::string_view::npos
                             ? "public." + std::string(requested)
                             : std::string(requested);
      size_t dot = name.find('.');
      model::TableId id{builder_ != nullptr ? builder_->database() : "", name.substr(0, dot),
                        name.substr(dot + 1)};
      if (!TableSelected(id)) {
        return FailedPrecondition(
            fmt::format("this stream does not capture it (the stream's tables: {})",
                        fmt::join(options_.tables, ", ")));
      }
      return name;
    };
    options.available = [this]() -> Status {
      if (proto_version_ < 2) {
        return FailedPrecondition("incremental snapshots need PostgreSQL 14 or later");
      }
      return Status::Ok();
    };
    snapshotter_ = std::make_unique<IncrementalSnapshotter>(std::move(options));
  }

  // Reads the progress file (if any) and applies the pending chunk rule against the log.
  Status LoadIncremental() {
    EDDY_RETURN_IF_ERROR(snapshotter_->Load(stream_->HighestDurablePosition()));
    PublishIncrementalState();
    return Status::Ok();
  }

  void PublishIncrementalState() {
    published_changes_ = snapshotter_->changes();
    std::string status = snapshotter_->StatusName();
    std::lock_guard lock(mu_);
    progress_.incremental_snapshot = std::move(status);
    progress_.incremental_chunks = snapshotter_->chunks_done();
    progress_.incremental_rows = snapshotter_->rows_done();
  }

  // One table of the initial incremental plan.
  struct PlannedTable {
    std::string name;  // qualified
    std::string oid;
    bool ctid = false;  // no primary key, REPLICA IDENTITY FULL: read in ctid (page) ranges
  };

  // Every selected table of the publication, in name order, with how it is read: in key order
  // (a primary key, or a REPLICA IDENTITY USING INDEX index: unique, NOT NULL columns), or in
  // ctid ranges (no key, REPLICA IDENTITY FULL). Refuses the tables no rule applies to
  // (no key, REPLICA IDENTITY DEFAULT or NOTHING), naming them and the fixes.
  Result<std::vector<PlannedTable>> PublishedTables(PgConnection& sql,
                                                    const std::string& database) {
    EDDY_ASSIGN_OR_RETURN(
        QueryRows tables,
        sql.QueryParams("SELECT p.schemaname, p.tablename, "
                        "EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND "
                        "i.indisprimary)::text, c.relreplident::text, c.oid::text "
                        "FROM pg_publication_tables p "
                        "JOIN pg_namespace n ON n.nspname = p.schemaname "
                        "JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = p.tablename "
                        "WHERE p.pubname = $1 ORDER BY 1, 2",
                        {options_.publication_name}));
    std::vector<PlannedTable> planned;
    std::string refused;
    for (const auto& row : tables.rows) {
      model::TableId id{database, row[0].value_or(""), row[1].value_or("")};
      if (!TableSelected(id) || IsSignalTable(id)) continue;
      PlannedTable table{id.QualifiedName(), row[4].value_or("0"), false};
      std::string identity = row[3].value_or("d");
      if (row[2].value_or("") != "true" && identity != "i") {
        if (identity != "f") {
          refused += (refused.empty() ? "" : ", ") + id.QualifiedName() + " (REPLICA IDENTITY " +
                     (identity == "n" ? "NOTHING" : "DEFAULT") + ")";
          continue;
        }
        table.ctid = true;
      }
      planned.push_back(std::move(table));
    }
    if (!refused.empty()) {
      return FailedPrecondition(
          "incremental snapshots read a table in primary-key order, or, without a key, in ctid "
          "ranges when its updates and deletes stream whole old rows; table(s) " +
          refused +
          " have no primary key and their updates and deletes do not stream whole old rows: run "
          "ALTER TABLE ... REPLICA IDENTITY FULL (ctid ranges), add a primary key (ALTER TABLE ... "
          "ADD PRIMARY KEY (...)) or a unique "
          "index as the replica identity (REPLICA IDENTITY USING INDEX ...), leave the table(s) "
          "out of the stream's tables, or set source.snapshot_type = \"blocking\"");
    }
    return planned;
  }

  Status PlanInitialIncremental(PgConnection& sql, std::vector<PlannedTable> tables,
                                const std::string& exported_snapshot) {
    std::vector<TableSnapshotProgress> entries;
    bool any_ctid = false;
    for (PlannedTable& table : tables) {
      TableSnapshotProgress entry;
      entry.table = std::move(table.name);
      entries.push_back(std::move(entry));
      any_ctid = any_ctid || table.ctid;
    }
    if (any_ctid) {
      EDDY_RETURN_IF_ERROR(PlanCtidEntries(sql, tables, exported_snapshot, entries));
    }
    EDDY_RETURN_IF_ERROR(snapshotter_->PlanInitialEntries(std::move(entries)));
    PublishIncrementalState();
    return Status::Ok();
  }

  // Plans the fresh entry `table` of a table without a key (REPLICA IDENTITY FULL) requested
  // on demand: a temporary replication slot exports a snapshot E at its consistent point C,
  // a point of the stream (transactions committed before C are the ones E sees; the slot
  // waits for the transactions in progress to end), and the entry is read in ctid ranges
  // against E like an initial one. The temporary slot is dropped when its connection closes,
  // right after. The log folded as a multiset from C equals the table.
  Status PlanOnDemandCtid(TableSnapshotProgress& table, const RelationInfo& relation) {
    EDDY_ASSIGN_OR_RETURN(std::unique_ptr<PgConnection> replication,
                          PgConnection::Connect(options_.conninfo, true));
    std::random_device random;
    std::string slot = fmt::format("eddy_snapshot_{:08x}{:08x}", random(), random());
    Result<CreatedSlot> created = replication->CreateLogicalSlot(slot, true, true);
    if (!created.ok()) {
      return created.status().WithContext("creating a temporary replication slot to read " +
                                          table.table +
                                          " (no key) in ctid ranges (it needs a free slot in "
                                          "max_replication_slots and a free max_wal_senders)");
    }
    std::vector<PlannedTable> tables = {
        PlannedTable{table.table, std::to_string(relation.relation_id), true}};
    std::vector<TableSnapshotProgress> entries = {table};
    EDDY_RETURN_IF_ERROR(PlanCtidEntries(*snapshot_sql_, tables, created->snapshot_name, entries));
    Logger()->info("incremental snapshot of table={} starts at consistent_point={}", table.table,
                   created->consistent_point.ToString());
    const TableSnapshotProgress& planned = entries[0];
    return snapshotter_->PlanCtid(table, planned.tuple_snapshot, planned.relation_file,
                                  std::strtoull(planned.upper_key[0].c_str(), nullptr, 10));
  }

  // A transaction id's distance from the tuple snapshot's xmax (mod 2^32) below which a tuple's
  // xmin counts as created after the snapshot: the snapshot's own span (the transactions
  // started while it runs) must stay below it, and every unfrozen tuple's xmin is within 2^31
  // transactions behind, so it is far above it (docs/snapshots.md, "Tables without a primary
  // key").
  static constexpr uint64_t kTupleHorizon = uint64_t{1} << 30;

  // The SQL condition that keeps a tuple created before `tuple_snapshot` (pg_snapshot text
  // "xmin:xmax:xip,..." of xid8 values): its raw xmin is neither in the snapshot's in-progress
  // list nor at or after its xmax (within kTupleHorizon, modulo 2^32).
  static Result<std::string> PreSnapshotCondition(const std::string& tuple_snapshot) {
    size_t first = tuple_snapshot.find(':');
    size_t second = first == std::string::npos ? first : tuple_snapshot.find(':', first + 1);
    if (second == std::string::npos) {
      return Corruption("incremental snapshot: tuple snapshot \"" + tuple_snapshot +
                        "\" is not xmin:xmax:xip");
    }
    uint64_t xmax = 0;
    std::string_view xmax_text =
        std::string_view(tuple_snapshot).substr(first + 1, second - first - 1);
    auto parsed = std::from_chars(xmax_text.data(), xmax_text.data() + xmax_text.size(), xmax);
    if (parsed.ec != std::errc() || parsed.ptr != xmax_text.data() + xmax_text.size()) {
      return Corruption("incremental snapshot: tuple snapshot \"" + tuple_snapshot +
                        "\" has no valid xmax");
    }
    std::string in_progress;
    std::string_view xip = std::string_view(tuple_snapshot).substr(second + 1);
    while (!xip.empty()) {
      size_t comma = xip.find(',');
      std::string_view one = xip.substr(0, comma);
      uint64_t xid = 0;
      auto done = std::from_chars(one.data(), one.data() + one.size(), xid);
      if (done.ec != std::errc() || done.ptr != one.data() + one.size()) {
        return Corruption("incremental snapshot: tuple snapshot \"" + tuple_snapshot +
                          "\" has a bad in-progress id");
      }
      in_progress += (in_progress.empty() ? "" : ",") + std::to_string(xid & 0xffffffffu);
      xip = comma == std::string_view::npos ? std::string_view() : xip.substr(comma + 1);
    }
    std::string distance = "(((xmin::text::bigint - " + std::to_string(xmax & 0xffffffffu) +
                           ") % 4294967296 + 4294967296) % 4294967296)";
    std::string condition = distance + " >= " + std::to_string(kTupleHorizon);
    if (!in_progress.empty()) {
      condition += " AND xmin::text::bigint <> ALL ('{" + in_progress + "}'::bigint[])";
    }
    return "(" + condition + ")";
  }

  static uint64_t SnapshotXmax(const std::string& tuple_snapshot) {
    size_t first = tuple_snapshot.find(':');
    if (first == std::string::npos) return 0;
    return std::strtoull(tuple_snapshot.c_str() + first + 1, nullptr, 10);
  }

  // The ctid entries of an initial plan: on `sql`, inside the replication slot's exported
  // snapshot (the stream starts exactly where it does), the snapshot's pg_snapshot text and
  // each keyless table's size in pages and relfilenode. The snapshot is the tuple snapshot of
  // every ctid entry: a tuple it sees was created before the stream's start (not in the
  // stream), one it does not see was created by a streamed transaction.
  Status PlanCtidEntries(PgConnection& sql, const std::vector<PlannedTable>& tables,
                         const std::string& exported_snapshot,
                         std::vector<TableSnapshotProgress>& entries) {
    if (exported_snapshot.empty()) {
      return FailedPrecondition(
          "incremental snapshot: tables without a key need the replication slot's exported "
          "snapshot");
    }
    EDDY_RETURN_IF_ERROR(sql.Execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"));
    Status planned = [&]() -> Status {
      EDDY_RETURN_IF_ERROR(
          sql.Execute("SET TRANSACTION SNAPSHOT " + QuoteLiteral(exported_snapshot)));
      EDDY_ASSIGN_OR_RETURN(QueryRows taken, sql.Query("SELECT pg_current_snapshot()::text"));
      std::string tuple_snapshot = taken.rows.empty() ? "" : taken.rows[0][0].value_or("");
      EDDY_ASSIGN_OR_RETURN(std::string pre, PreSnapshotCondition(tuple_snapshot));
      // A frozen tuple keeps its raw 32-bit xmin: once the cluster has used close to 2^32
      // transaction ids, a tuple created before the last wraparound could look new. Checked
      // once, on the tuples the snapshot sees (every one of them is old): none may.
      bool wrapped = SnapshotXmax(tuple_snapshot) + kTupleHorizon > (uint64_t{1} << 32);
      for (size_t i = 0; i < tables.size(); ++i) {
        if (!tables[i].ctid) continue;
        EDDY_ASSIGN_OR_RETURN(QueryRows size,
                              sql.QueryParams("SELECT (pg_relation_size($1::oid) / "
                                              "current_setting('block_size')::bigint)::text, "
                                              "pg_relation_filenode($1::oid)::text",
                                              {tables[i].oid}));
        TableSnapshotProgress& entry = entries[i];
        entry.tuple_snapshot = tuple_snapshot;
        entry.upper_key = {size.rows[0][0].value_or("0")};
        entry.relation_file = std::strtoull(size.rows[0][1].value_or("0").c_str(), nullptr, 10);
        if (wrapped) {
          size_t dot = entry.table.find('.');
          EDDY_ASSIGN_OR_RETURN(
              QueryRows ambiguous,
              sql.Query("SELECT count(*)::text FROM " +
                        QuoteIdentifier(entry.table.substr(0, dot)) + "." +
                        QuoteIdentifier(entry.table.substr(dot + 1)) + " WHERE NOT " + pre));
          std::string count = ambiguous.rows.empty() ? "0" : ambiguous.rows[0][0].value_or("0");
          if (count != "0") {
            return FailedPrecondition(
                "incremental snapshot: " + count + " row(s) of " + entry.table +
                " (a table without a key) were created so many transactions ago that their "
                "frozen transaction ids look newer than the snapshot's start: it cannot tell "
                "them from rows the stream carries; add a primary key, or set "
                "source.snapshot_type = \"blocking\"");
          }
        }
        Logger()->info(
            "incremental snapshot reads table={} in ctid ranges pages={} tuple_snapshot={}",
            entry.table, entry.upper_key[0], tuple_snapshot.substr(0, 64));
      }
      return Status::Ok();
    }();
    Status ended = sql.Execute(planned.ok() ? "COMMIT" : "ROLLBACK");
    EDDY_RETURN_IF_ERROR(planned);
    return ended;
  }

  // The relation of `table` as the snapshot reads it (catalog columns, primary key).
  Result<const RelationInfo*> SnapshotRelation(const std::string& table) {
    auto cached = snapshot_relations_.find(table);
    if (cached != snapshot_relations_.end()) return &cached->second;
    size_t dot = table.find('.');
    std::string schema = table.substr(0, dot);
    std::string name = table.substr(dot + 1);
    EDDY_ASSIGN_OR_RETURN(
        QueryRows found,
        snapshot_sql_->QueryParams(
            "SELECT c.oid::text, c.relreplident::text FROM pg_class c JOIN pg_namespace n ON "
            "n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2",
            {schema, name}));
    if (found.rows.empty()) return NotFound("table " + table + " does not exist");
    std::string oid = found.rows[0][0].value_or("0");
    EDDY_ASSIGN_OR_RETURN(
        QueryRows columns,
        snapshot_sql_->QueryParams(
            "SELECT attname, atttypid::text, atttypmod::text, format_type(atttypid, atttypmod) "
            "FROM pg_attribute WHERE attrelid = $1::oid AND attnum > 0 AND NOT attisdropped "
            "AND attgenerated = '' ORDER BY attnum",
            {oid}));
    std::vector<RelationColumn> relation_columns;
    std::vector<std::string> type_names;
    // RelationColumn holds views: the names live until MakeRelation has copied them.
    std::vector<std::string> column_names;
    for (const auto& column : columns.rows) column_names.push_back(column[0].value_or(""));
    for (size_t i = 0; i < columns.rows.size(); ++i) {
      const auto& column = columns.rows[i];
      RelationColumn relation_column;
      relation_column.name = column_names[i];
      relation_column.type_oid = static_cast<uint32_t>(std::stoul(column[1].value_or("0")));
      relation_column.type_modifier = std::stoi(column[2].value_or("-1"));
      relation_columns.push_back(relation_column);
      type_names.push_back(column[3].value_or("text"));
    }
    std::string identity_text = found.rows[0][1].value_or("d");
    char identity = identity_text.empty() ? 'd' : identity_text[0];
    if (identity == 'i') {
      // REPLICA IDENTITY USING INDEX: the stream keys the table's changes by the index's
      // columns (unique, NOT NULL), so its chunks are read in that order when there is no
      // primary key (MakeRelation prefers a primary key).
      EDDY_ASSIGN_OR_RETURN(
          QueryRows key,
          snapshot_sql_->QueryParams(
              "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
              "AND a.attnum = ANY (i.indkey) WHERE i.indrelid = $1::oid AND i.indisreplident",
              {oid}));
      for (const auto& row : key.rows) {
        for (size_t i = 0; i < column_names.size(); ++i) {
          if (column_names[i] == row[0].value_or("")) relation_columns[i].is_key = true;
        }
      }
    }
    RelationInfo relation =
        snapshot_builder_->MakeRelation(static_cast<uint32_t>(std::stoul(oid)), schema, name,
                                        relation_columns, static_cast<ReplicaIdentity>(identity));
    EDDY_RETURN_IF_ERROR(snapshot_builder_->StampVersion(relation));
    snapshot_type_names_[table] = std::move(type_names);
    return &snapshot_relations_.emplace(table, std::move(relation)).first->second;
  }

  // PostgreSQL writes a commit record to the WAL before the transaction becomes visible
  // (the WAL flush lies in between): a transaction whose commit precedes the low watermark in
  // the stream may still be invisible to a SELECT started right after the watermark returned.
  // Its change would then be neither in the chunk read nor inside the window, and the chunk's
  // stale row would win. So the chunk is read only once every transaction in progress when the
  // watermark had committed has ended, waiting at most a second: one still running after that
  // has not committed (and will commit after the watermark, inside the window).
  Status AwaitCommitsBeforeLowWatermark() {
    EDDY_ASSIGN_OR_RETURN(QueryRows taken,
                          snapshot_sql_->Query("SELECT pg_current_snapshot()::text"));
    std::string snapshot = taken.rows.empty() ? "" : taken.rows[0][0].value_or("");
    auto deadline = Clock::now() + std::chrono::seconds(1);
    while (true) {
      EDDY_ASSIGN_OR_RETURN(
          QueryRows running,
          snapshot_sql_->QueryParams("SELECT count(*)::text FROM pg_snapshot_xip($1::pg_snapshot) "
                                     "x WHERE pg_xact_status(x) = 'in progress'",
                                     {snapshot}));
      if (running.rows.empty() || running.rows[0][0].value_or("0") == "0") return Status::Ok();
      if (Clock::now() >= deadline || StopRequested()) return Status::Ok();
      EDDY_RETURN_IF_ERROR(snapshot_sql_->Query("SELECT pg_sleep(0.002)").status());
    }
  }

  Status EmitWatermark(const std::string& watermark) {
    return snapshot_sql_
        ->QueryParams("SELECT pg_logical_emit_message(true, $1, $2)",
                      {std::string(kWatermarkPrefix), watermark})
        .status()
        .WithContext("writing an incremental snapshot watermark");
  }

  // On the capture thread between replication messages (DBLog's "pause log processing"): takes
  // requests; when no chunk is in flight and the previous one is durable, reads the next chunk
  // between two watermarks. Its rows reach the log when the stream reaches the high watermark.
  Status StepIncremental() {
    EDDY_RETURN_IF_ERROR(snapshotter_->TakeRequests());
    Status stepped = snapshotter_->Idle() ? Status::Ok() : ReadNextChunk();
    if (snapshotter_->changes() != published_changes_) PublishIncrementalState();
    return stepped;
  }

  // One chunk of one entry (a table or a key range of it) being read.
  struct ChunkQuery {
    TableSnapshotProgress* table = nullptr;
    const RelationInfo* relation = nullptr;
    std::string select;  // the keys inlined as quoted literals (COPY takes no parameters)
    uint64_t sequence = 0;
    Status status;                      // of the read
    std::vector<EncodedRow> rows;       // read, encoded
    std::vector<std::string> last_key;  // the text key of the last row read
    // A ctid entry: the chunk reads pages [first page, end_page); `last`: the plan's last page.
    bool ctid = false;
    uint64_t end_page = 0;
    bool ctid_last = false;
  };

  // Reads `query`'s rows with COPY (they stream while they are decoded, as the blocking
  // snapshot's) straight into their encodings. Runs on the connection's own thread; the
  // builder's conversions only read it.
  Status ReadChunkRows(PgConnection& sql, ChunkQuery& query) const {
    const RelationInfo& relation = *query.relation;
    std::vector<std::string> names;
    names.reserve(relation.schema.columns.size());
    for (const model::Column& column : relation.schema.columns) names.push_back(column.name);
    SnapshotRowEncoding encoding(relation.schema.table, names, relation.key_columns);
    CopyRowDecoder decoder;
    query.rows.reserve(std::min<size_t>(options_.snapshot_chunk_rows, 1u << 16));
    query.last_key.resize(relation.key_columns.size());
    return sql.CopyOut(
        "COPY (" + query.select + ") TO STDOUT", [&](std::string_view line) -> Status {
          EDDY_RETURN_IF_ERROR(decoder.Encode(*snapshot_builder_, relation, line, encoding));
          EncodedRow& row = query.rows.emplace_back();
          // Room in front for the event's header, which OnWatermark puts there: the rows
          // become the record's payload without a second allocation and copy.
          row.rows.reserve(chunk_header_bytes_.load(std::memory_order_relaxed) +
                           2 * encoding.size_hint() + 16);
          EDDY_RETURN_IF_ERROR(encoding.Finish(row.partition_key, row.rows));
          for (size_t k = 0; k < relation.key_columns.size(); ++k) {
            const std::optional<std::string_view>& value = decoder.values[relation.key_columns[k]];
            query.last_key[k].assign(value.has_value() ? *value : std::string_view());
          }
          return Status::Ok();
        });
  }

  // The key range boundaries that split `table` into at most snapshot_parallelism ranges of
  // about equal row counts (none for a table of fewer than two chunks): the key of every
  // step-th row in key order, each found from the previous one (an index scan of step rows).
  Result<std::vector<std::vector<std::string>>> SplitPoints(const TableSnapshotProgress& table,
                                                            const RelationInfo& relation) {
    const std::vector<std::string>& type_names = snapshot_type_names_[table.table];
    const auto& columns = relation.schema.columns;
    std::string from = " FROM " + QuoteIdentifier(relation.schema.table.schema) + "." +
                       QuoteIdentifier(relation.schema.table.name);
    std::string condition = table.condition.empty() ? "" : "(" + table.condition + ")";
    EDDY_ASSIGN_OR_RETURN(QueryRows counted,
                          snapshot_sql_->Query("SELECT count(*)::text" + from +
                                               (condition.empty() ? "" : " WHERE " + condition)));
    uint64_t rows = counted.rows.empty() ? 0 : std::stoull(counted.rows[0][0].value_or("0"));
    uint64_t chunk = std::max<uint64_t>(options_.snapshot_chunk_rows, 1);
    uint64_t parts = std::min<uint64_t>(options_.snapshot_parallelism, rows / chunk);
    std::vector<std::vector<std::string>> boundaries;
    if (parts < 2) return boundaries;
    uint64_t step = rows / parts;
    std::string key_list;
    std::string parameters;
    for (size_t k = 0; k < relation.key_columns.size(); ++k) {
      size_t index = relation.key_columns[k];
      key_list += (k > 0 ? ", " : "") + QuoteIdentifier(columns[index].name);
      parameters += (k > 0 ? ", $" : "$") + std::to_string(k + 1) + "::" + type_names[index];
    }
    for (uint64_t part = 1; part < parts; ++part) {
      std::vector<std::string> where;
      if (!condition.empty()) where.push_back(condition);
      if (!boundaries.empty()) where.push_back("(" + key_list + ") > (" + parameters + ")");
      std::string select = "SELECT " + key_list + from;
      for (size_t i = 0; i < where.size(); ++i) {
        select += (i == 0 ? " WHERE " : " AND ") + where[i];
      }
      select += " ORDER BY " + key_list + " OFFSET " + std::to_string(step - 1) + " LIMIT 1";
      EDDY_ASSIGN_OR_RETURN(
          QueryRows found,
          snapshot_sql_->QueryParams(
              select, boundaries.empty() ? std::vector<std::string>() : boundaries.back()));
      if (found.rows.empty()) break;
      std::vector<std::string> key;
      for (const auto& value : found.rows[0]) key.push_back(value.value_or(""));
      boundaries.push_back(std::move(key));
    }
    return boundaries;
  }

  // Why the ctid entry `table` cannot go on ("" when it can): its relation was rewritten
  // (VACUUM FULL, CLUSTER, a column type change, TRUNCATE: rows moved to other pages, so the
  // pages read and not read no longer split its rows), or the snapshot has run through so many
  // transactions that a tuple's raw xmin no longer tells its age (kTupleHorizon). Also gives
  // the pages of one chunk (from the catalog's rows per page).
  Result<std::string> CheckCtidEntry(const TableSnapshotProgress& table,
                                     const RelationInfo& relation, uint64_t& pages_per_chunk) {
    EDDY_ASSIGN_OR_RETURN(
        QueryRows found,
        snapshot_sql_->QueryParams(
            "SELECT pg_relation_filenode(c.oid)::text, c.relpages::text, "
            "GREATEST(c.reltuples, 0)::bigint::text, "
            "pg_snapshot_xmax(pg_current_snapshot())::text FROM pg_class c WHERE c.oid = $1::oid",
            {std::to_string(relation.relation_id)}));
    if (found.rows.empty()) return "table " + table.table + " is gone";
    const auto& row = found.rows[0];
    uint64_t file = std::strtoull(row[0].value_or("0").c_str(), nullptr, 10);
    if (file != table.relation_file) {
      return "table " + table.table +
             " (no key, read in ctid ranges) was rewritten during its snapshot (VACUUM FULL, "
             "CLUSTER, TRUNCATE or a type change moved its rows to other pages); snapshot it "
             "again with a blocking snapshot, or add a primary key";
    }
    uint64_t now = std::strtoull(row[3].value_or("0").c_str(), nullptr, 10);
    if (now > SnapshotXmax(table.tuple_snapshot) + kTupleHorizon / 2) {
      return "the snapshot of " + table.table +
             " (no key, read in ctid ranges) has run through more than " +
             std::to_string(kTupleHorizon / 2) +
             " transactions: row versions can no longer be told apart by their transaction "
             "ids; snapshot it again";
    }
    double pages = std::strtod(row[1].value_or("0").c_str(), nullptr);
    double tuples = std::strtod(row[2].value_or("0").c_str(), nullptr);
    // Not analyzed yet: about 100 small rows per 8 KiB page.
    double per_page = pages > 0 && tuples > 0 ? tuples / pages : 100.0;
    pages_per_chunk = std::max<uint64_t>(
        1, static_cast<uint64_t>(static_cast<double>(options_.snapshot_chunk_rows) / per_page));
    return std::string();
  }

  // The statement reading the next chunk of the ctid entry `table`: the tuples created before
  // its tuple snapshot on the next pages (a TID range scan), in page order.
  Result<ChunkQuery> PrepareCtidChunk(TableSnapshotProgress& table, const RelationInfo& relation,
                                      uint64_t pages_per_chunk) {
    const auto& columns = relation.schema.columns;
    std::string select = "SELECT ";
    for (size_t i = 0; i < columns.size(); ++i) {
      if (i > 0) select += ", ";
      select += QuoteIdentifier(columns[i].name);
    }
    if (columns.empty()) select += "NULL";
    select += " FROM " + QuoteIdentifier(relation.schema.table.schema) + "." +
              QuoteIdentifier(relation.schema.table.name);
    if (table.upper_key.size() != 1 || table.last_key.size() > 1) {
      return Corruption("incremental snapshot of " + table.table +
                        ": a ctid entry needs one next page and one end page");
    }
    uint64_t first =
        table.last_key.empty() ? 0 : std::strtoull(table.last_key[0].c_str(), nullptr, 10);
    uint64_t end = std::strtoull(table.upper_key[0].c_str(), nullptr, 10);
    uint64_t next = std::min(end, first + pages_per_chunk);
    EDDY_ASSIGN_OR_RETURN(std::string pre, PreSnapshotCondition(table.tuple_snapshot));
    select += " WHERE ";
    if (!table.condition.empty()) select += "(" + table.condition + ") AND ";
    select += "ctid >= '(" + std::to_string(first) + ",0)'::tid AND ctid < '(" +
              std::to_string(next) + ",0)'::tid AND " + pre;
    ChunkQuery query;
    query.table = &table;
    query.relation = &relation;
    query.select = std::move(select);
    query.ctid = true;
    query.end_page = next;
    query.ctid_last = next >= end;
    return query;
  }

  // The statement reading the next chunk of `table` (after its last_key, up to its upper_key).
  Result<ChunkQuery> PrepareChunk(TableSnapshotProgress& table, const RelationInfo& relation) {
    const std::vector<std::string>& type_names = snapshot_type_names_[table.table];
    const auto& columns = relation.schema.columns;
    std::string select = "SELECT ";
    for (size_t i = 0; i < columns.size(); ++i) {
      if (i > 0) select += ", ";
      select += QuoteIdentifier(columns[i].name);
    }
    if (columns.empty()) select += "NULL";
    std::string key_list;
    size_t keys = relation.key_columns.size();
    for (size_t k = 0; k < keys; ++k) {
      key_list += (k > 0 ? ", " : "") + QuoteIdentifier(columns[relation.key_columns[k]].name);
    }
    // "(v1::type1, v2::type2, ...)": the stored text keys as typed literals.
    auto literal_key = [&](const std::vector<std::string>& key) {
      std::string out = "(";
      for (size_t k = 0; k < keys; ++k) {
        out +=
            (k > 0 ? ", " : "") + QuoteLiteral(key[k]) + "::" + type_names[relation.key_columns[k]];
      }
      return out + ")";
    };
    select += " FROM " + QuoteIdentifier(relation.schema.table.schema) + "." +
              QuoteIdentifier(relation.schema.table.name);
    std::vector<std::string> where;
    if (!table.condition.empty()) where.push_back("(" + table.condition + ")");
    for (const std::vector<std::string>* stored : {&table.last_key, &table.upper_key}) {
      if (!stored->empty() && stored->size() != keys) {
        return FailedPrecondition("incremental snapshot of " + table.table +
                                  ": the stored key has " + std::to_string(stored->size()) +
                                  " columns but the primary key now has " + std::to_string(keys));
      }
    }
    ChunkQuery query;
    query.table = &table;
    query.relation = &relation;
    if (!table.last_key.empty()) {
      where.push_back("(" + key_list + ") > " + literal_key(table.last_key));
    }
    if (!table.upper_key.empty()) {
      where.push_back("(" + key_list + ") <= " + literal_key(table.upper_key));
    }
    for (size_t i = 0; i < where.size(); ++i) select += (i == 0 ? " WHERE " : " AND ") + where[i];
    select += " ORDER BY " + key_list + " LIMIT " + std::to_string(options_.snapshot_chunk_rows);
    query.select = std::move(select);
    return query;
  }

  // Reads the next chunks: up to snapshot_parallelism entries (tables, or key ranges of a large
  // table split on its first chunk), each between its own low and high watermark; the low
  // watermarks are written first, then every chunk is read over its own connection at the same
  // time, then each chunk's rows are handed over and its high watermark written.
  Status ReadNextChunk() {
    // Completing the snapshot waits for the last chunk's append (one fsync).
    auto drain = [this]() -> Result<SourcePosition> {
      EDDY_RETURN_IF_ERROR(DrainAppends());
      return stream_->HighestDurablePosition();
    };
    const size_t parallelism = std::max<size_t>(options_.snapshot_parallelism, 1);
    EDDY_ASSIGN_OR_RETURN(
        std::vector<TableSnapshotProgress*> entries,
        snapshotter_->NextTables(stream_->HighestDurablePosition(), drain, parallelism));
    if (entries.empty()) return Status::Ok();
    if (snapshot_sql_ == nullptr) {
      EDDY_ASSIGN_OR_RETURN(snapshot_sql_, PgConnection::Connect(options_.conninfo, false));
      // The watermarks' commits flush the WAL: the walsender sends only flushed WAL, so on a
      // server with synchronous_commit = off each high watermark would wait for the WAL
      // writer (wal_writer_delay, 200 ms by default) before the chunk could close. `local`
      // flushes without waiting for synchronous standbys (the stream needs the local WAL only).
      EDDY_RETURN_IF_ERROR(snapshot_sql_->Execute("SET synchronous_commit = local"));
      snapshot_catalog_ = std::make_unique<SqlCatalog>(snapshot_sql_.get());
      snapshot_builder_ =
          std::make_unique<EventBuilder>(builder_->database(), snapshot_catalog_.get(),
                                         options_.server_name, options_.schemas.get());
    }
    std::vector<ChunkQuery> queries;
    std::set<std::string> considered;  // tables looked at for a split in this step
    for (size_t i = 0; i < entries.size(); ++i) {
      TableSnapshotProgress* table = entries[i];
      Result<const RelationInfo*> found = SnapshotRelation(table->table);
      if (!found.ok()) return snapshotter_->Skip(*table, found.status().message());
      if (table->ctid()) {
        uint64_t pages_per_chunk = 1;
        EDDY_ASSIGN_OR_RETURN(std::string refused,
                              CheckCtidEntry(*table, **found, pages_per_chunk));
        if (!refused.empty()) {
          snapshot_relations_.erase(table->table);
          return snapshotter_->Skip(*table, refused);
        }
        if (parallelism > 1 && IncrementalSnapshotter::Splittable(*table) &&
            snapshotter_->Entries(table->table) == 1 && considered.insert(table->table).second) {
          // Page ranges of about equal size, each read chunk by chunk on its own connection.
          uint64_t end = std::strtoull(table->upper_key[0].c_str(), nullptr, 10);
          uint64_t parts = std::min<uint64_t>(parallelism, end / pages_per_chunk);
          if (parts >= 2) {
            std::vector<std::vector<std::string>> boundaries;
            for (uint64_t part = 1; part < parts; ++part) {
              boundaries.push_back({std::to_string(end * part / parts)});
            }
            EDDY_RETURN_IF_ERROR(snapshotter_->SplitTable(*table, std::move(boundaries)));
            return Status::Ok();  // the next step reads the ranges
          }
        }
        EDDY_ASSIGN_OR_RETURN(ChunkQuery query, PrepareCtidChunk(*table, **found, pages_per_chunk));
        queries.push_back(std::move(query));
        continue;
      }
      if ((*found)->key_columns.empty()) {
        if ((*found)->replica_identity == ReplicaIdentity::kFull &&
            IncrementalSnapshotter::Splittable(*table)) {
          // On demand: planned in ctid ranges against a snapshot exported at a point of the
          // stream; the next step reads its chunks.
          // A failure (no free replication slot, say) skips the table, saying why; streaming
          // goes on, and a new request tries again.
          Status planned = PlanOnDemandCtid(*table, **found);
          if (planned.ok()) return planned;
          snapshot_relations_.erase(table->table);
          return snapshotter_->Skip(*table, planned.ToString());
        }
        return snapshotter_->Skip(
            *table, "table " + table->table +
                        " has no primary key and its updates and deletes do not stream whole old "
                        "rows: run ALTER TABLE ... REPLICA IDENTITY FULL (read in ctid ranges), "
                        "or add a primary key or REPLICA IDENTITY USING INDEX a unique index");
      }
      if (parallelism > 1 && IncrementalSnapshotter::Splittable(*table) &&
          considered.insert(table->table).second) {
        Result<std::vector<std::vector<std::string>>> boundaries = SplitPoints(*table, **found);
        if (!boundaries.ok()) {
          snapshot_relations_.erase(table->table);
          return snapshotter_->Skip(
              *table, "splitting into key ranges failed: " + boundaries.status().message());
        }
        if (!boundaries->empty()) {
          EDDY_RETURN_IF_ERROR(snapshotter_->SplitTable(*table, std::move(*boundaries)));
          return Status::Ok();  // the next step reads the ranges
        }
      }
      Result<ChunkQuery> query = PrepareChunk(*table, **found);
      if (!query.ok()) return query.status();
      queries.push_back(std::move(*query));
    }
    auto abandon = [this, &queries](Status status) {
      for (const ChunkQuery& query : queries) {
        if (query.sequence != 0) snapshotter_->AbandonChunk(query.sequence);
      }
      return status;
    };
    for (ChunkQuery& query : queries) {
      IncrementalSnapshotter::ChunkStart start = snapshotter_->BeginChunk(
          *query.table, query.relation->schema.table, KeyNames(*query.relation));
      query.sequence = start.sequence;
      if (Status wrote = EmitWatermark(start.low); !wrote.ok()) return abandon(wrote);
    }
    if (Status settled = AwaitCommitsBeforeLowWatermark(); !settled.ok()) {
      return abandon(settled);
    }
    // The first chunk on the snapshot connection, each other one on a worker connection of its
    // own (kept for the next chunks), all at the same time.
    while (snapshot_workers_.size() + 1 < queries.size()) {
      Result<std::unique_ptr<PgConnection>> worker =
          PgConnection::Connect(options_.conninfo, false);
      if (!worker.ok()) return abandon(worker.status());
      snapshot_workers_.push_back(std::move(*worker));
    }
    {
      std::vector<std::thread> threads;
      for (size_t i = 1; i < queries.size(); ++i) {
        threads.emplace_back([this, &queries, i]() {
          NameCurrentThread("pg-chunk-" + std::to_string(i));
          queries[i].status = ReadChunkRows(*snapshot_workers_[i - 1], queries[i]);
        });
      }
      queries[0].status = ReadChunkRows(*snapshot_sql_, queries[0]);
      for (std::thread& thread : threads) thread.join();
    }
    for (size_t i = 0; i < queries.size(); ++i) {
      Status finished = FinishChunk(queries[i]);
      if (!finished.ok()) {
        for (size_t j = i + 1; j < queries.size(); ++j) {
          snapshotter_->AbandonChunk(queries[j].sequence);
        }
        return finished;
      }
    }
    return Status::Ok();
  }

  static std::vector<std::string> KeyNames(const RelationInfo& relation) {
    std::vector<std::string> names;
    for (size_t index : relation.key_columns) names.push_back(relation.schema.columns[index].name);
    return names;
  }

  // The rows of one chunk read: handed to the snapshotter, then its high watermark written.
  Status FinishChunk(ChunkQuery& query) {
    TableSnapshotProgress* table = query.table;
    const RelationInfo& relation = *query.relation;
    if (!query.status.ok()) {
      // A bad additional condition (or a table changed under us): the table is skipped with
      // the server's words, the capture goes on.
      snapshotter_->AbandonChunk(query.sequence);
      Logger()->error("incremental snapshot chunk failed table={} statement=\"{}\"", table->table,
                      query.select);
      snapshot_relations_.erase(table->table);
      if (table->state != TableSnapshotState::kPending) return Status::Ok();  // skipped already
      return snapshotter_->Skip(*table, "reading a chunk failed: " + query.status.message());
    }
    bool last = query.rows.size() < options_.snapshot_chunk_rows;
    std::vector<EncodedRow> encoded = std::move(query.rows);
    std::vector<std::string> last_key =
        encoded.empty() ? table->last_key : std::move(query.last_key);
    if (query.ctid) {
      // A ctid chunk ends at its last page, however many rows it held; the key is the next page.
      last = query.ctid_last;
      last_key = {std::to_string(query.end_page)};
    }
    std::string high = snapshotter_->ReadChunk(query.sequence, std::move(encoded),
                                               relation.schema.version, std::move(last_key), last);
    if (Status wrote = EmitWatermark(high); !wrote.ok()) {
      snapshotter_->AbandonChunk(query.sequence);
      return wrote;
    }
    return Status::Ok();
  }

  // A watermark's transaction committed (in commit order). Returns true when the chunk's rows
  // were queued for the log at its position (the transaction needs nothing else).
  Result<bool> OnWatermark(const std::string& text, Lsn commit_lsn, Lsn end_lsn,
                           int64_t commit_time_us) {
    SourcePosition end(PostgresPosition{end_lsn, commit_lsn});
    // The table's previous chunk, read ahead of this one, may still be queued for the log.
    auto drain = [this]() -> Result<SourcePosition> {
      EDDY_RETURN_IF_ERROR(DrainAppends());
      return stream_->HighestDurablePosition();
    };
    EDDY_ASSIGN_OR_RETURN(std::optional<IncrementalSnapshotter::ChunkRows> chunk,
                          snapshotter_->OnWatermark(text, end, drain));
    if (!chunk.has_value()) return false;
    PublishIncrementalState();
    probe_->AddSnapshotRows(chunk->table, chunk->encoded.size());
    if (chunk->encoded.empty()) return false;
    int64_t commit_ns = (commit_time_us + kPostgresEpochOffsetMicros) * 1000;
    // The chunk is one log transaction at the watermark's position, queued in parts of at most
    // kSnapshotPartRecords records (kPart entries, then its kCommit) as a large streamed
    // transaction is: the appender thread frames each part while it is still in the cache,
    // instead of reading back a ~3 MB chunk the capture thread wrote long before. A chunk of
    // one part is a single kTransaction. Nothing of it is visible before the commit, so a crash
    // leaves the chunk out as a whole, as before (docs/snapshots.md, "Progress and crashes").
    const size_t part_records =
        std::min<size_t>(options_.append_part_records, kSnapshotPartRecords);
    const size_t chunk_rows = chunk->encoded.size();
    PendingAppend pending;
    pending.kind = PendingAppend::Kind::kTransaction;
    pending.transaction_id = chunk->transaction_id;
    // The fields the chunk's rows share, encoded once (model::RowEventEncoder); each record is
    // then byte for byte EncodeEvent of its read event.
    model::ChangeEvent shared;
    shared.table = chunk->id;
    shared.schema_version = chunk->schema_version;
    shared.position = end;
    shared.commit_time_ns = commit_ns;
    shared.capture_time_ns = NowNanos();
    shared.transaction_id = pending.transaction_id;
    shared.source.connector = model::ConnectorKind::kPostgres;
    shared.source.server_name = options_.server_name;
    shared.source.snapshot = model::SnapshotMarker::kIncremental;
    model::RowEventEncoder encoder;
    encoder.SetShared(shared);
    pending.records.reserve(std::min(chunk_rows, part_records));
    uint64_t ordinal = 0;
    std::string header;
    for (EncodedRow& row : chunk->encoded) {
      if (pending.records.size() == part_records) {
        PendingAppend part;
        part.kind = PendingAppend::Kind::kPart;
        part.snapshot_chunk = true;
        part.transaction_id = pending.transaction_id;
        part.count = pending.records.size();
        part.records = std::move(pending.records);
        pending.records.clear();
        pending.records.reserve(std::min(chunk_rows - ordinal, part_records));
        pending.kind = PendingAppend::Kind::kCommit;
        EDDY_RETURN_IF_ERROR(Enqueue(std::move(part)));
      }
      log::AppendRecord& record = pending.records.emplace_back();
      header.clear();
      encoder.BeginEvent(model::Operation::kRead, false, true, ordinal++, 0, header);
      // The header goes in front of the rows, in the room ReadChunkRows reserved (a move of
      // the rows' bytes, no allocation), and the string becomes the payload.
      row.rows.insert(0, header);
      record.payload = std::move(row.rows);
      record.partition_key = std::move(row.partition_key);
      record.position = end;
    }
    // The next chunks' rows reserve room for about this header (it grows with the ordinal).
    if (header.size() + 8 > chunk_header_bytes_.load(std::memory_order_relaxed)) {
      chunk_header_bytes_.store(header.size() + 8, std::memory_order_relaxed);
    }
    pending.tally.Add(CountersFor(chunk->id), model::Operation::kRead, chunk_rows);
    pending.snapshot_chunk = true;
    pending.count = pending.records.size();
    pending.total = chunk_rows;
    pending.end = end;
    pending.end_lsn = end_lsn;
    pending.commit_time_ns = commit_ns;
    last_enqueued_end_ = end_lsn;
    EDDY_RETURN_IF_ERROR(Enqueue(std::move(pending)));
    return true;
  }

  // ---- streaming ----

  struct OpenTransaction {
    uint32_t xid = 0;
    Lsn final_lsn;
    int64_t commit_time_us = 0;
    std::unique_ptr<TransactionBuffer> buffer;
    std::string watermark;  // an incremental snapshot's watermark written in this transaction
  };

  std::unique_ptr<TransactionBuffer> NewBuffer(uint32_t xid) {
    std::string path =
        io::JoinPath(options_.spill_dir, "tx-" + std::to_string(xid) + "-" +
                                             std::to_string(++buffer_counter_) + ".spill");
    return std::make_unique<TransactionBuffer>(file_system_, path,
                                               options_.transaction_memory_bytes);
  }

  void ResetStreamingState() {
    // Whatever was queued is appended (or dropped after an append error) before the next
    // attempt reads the durable position to resume from.
    Status drained = DrainAppends();
    drained.IgnoreError();  // already returned by the attempt that hit it
    {
      // The appender thread is idle (queue empty): a transaction whose parts were queued but
      // whose commit never was (the attempt failed or stopped mid-way) is discarded here.
      std::lock_guard lock(append_mu_);
      AbortOpenAppender("the attempt ended before its commit");
      append_error_ = Status::Ok();
    }
    replication_ = nullptr;
    committing_ = false;
    last_enqueued_end_ = Lsn::Invalid();
    current_.reset();
    skip_current_ = false;
    streams_.clear();
    in_stream_ = false;
    idle_ack_ = Lsn::Invalid();
    builder_.reset();  // it points at the catalog connection of the finished attempt
    // The chunk in flight is read again (its watermarks name this attempt only); the progress
    // file is reloaded by the next attempt.
    snapshotter_->AbandonChunks();
    snapshot_workers_.clear();
    snapshot_builder_.reset();
    snapshot_catalog_.reset();
    snapshot_sql_.reset();
    snapshot_relations_.clear();
  }

  bool Idle() { return !committing_ && !current_.has_value() && streams_.empty() && AppendsIdle(); }

  // The end of the last transaction durable or queued for appending.
  Lsn CapturedEnd() {
    Lsn durable = DurableEnd();
    return last_enqueued_end_ > durable ? last_enqueued_end_ : durable;
  }

  Lsn FlushPosition() {
    Lsn flush = DurableEnd();
    if (Idle() && idle_ack_ > flush) flush = idle_ack_;
    return flush;
  }

  Status SendFeedback(PgConnection& replication, bool reply_requested) {
    (void)reply_requested;
    Lsn flush = FlushPosition();
    EDDY_RETURN_IF_ERROR(replication.SendCopyData(
        EncodeStandbyStatusUpdate(flush, flush, Lsn::Invalid(), NowPostgresMicros(), false)));
    last_feedback_ = Clock::now();
    std::lock_guard lock(mu_);
    progress_.acknowledged_lsn = flush;
    progress_.durable_lsn = DurableEnd();
    return Status::Ok();
  }

  Status Stream(PgConnection& replication, int server_version, Lsn start) {
    int proto = server_version >= 160000   ? 4
                : server_version >= 150000 ? 3
                : server_version >= 140000 ? 2
                                           : 1;
    std::string options = "proto_version '" + std::to_string(proto) + "', publication_names " +
                          QuoteLiteral(QuoteIdentifier(options_.publication_name));
    if (proto >= 2) {
      // Messages also carry the incremental snapshots' watermarks (never captured as events).
      options += ", streaming 'on', messages 'true'";
    }
    EDDY_RETURN_IF_ERROR(replication.StartReplication(options_.slot_name, start, options));
    replication_ = &replication;
    Logger()->info("streaming slot={} publication={} start_lsn={} proto_version={}",
                   options_.slot_name, options_.publication_name, start.ToString(), proto);
    SetState(CaptureState::kStreaming);
    slot_poller_->Poke();  // the slot exists now: report its state without waiting
    {
      std::lock_guard lock(mu_);
      progress_.durable_lsn = DurableEnd();
    }
    last_feedback_ = Clock::now();
    while (true) {
      if (StopRequested()) {
        EDDY_RETURN_IF_ERROR(DrainAppends());
        return SendFeedback(replication, false);
      }
      EDDY_RETURN_IF_ERROR(AppendError());
      EDDY_RETURN_IF_ERROR(StepIncremental());
      if (options_.snapshot_mode == SnapshotMode::kInitialOnly && snapshotter_->InitialPlanned() &&
          snapshotter_->Complete() && !snapshotter_->ChunkInFlight()) {
        EDDY_RETURN_IF_ERROR(DrainAppends());
        Logger()->info("incremental snapshot complete; initial_only stops streaming");
        return SendFeedback(replication, false);
      }
      auto until_feedback =
          options_.feedback_interval -
          std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - last_feedback_);
      auto wait =
          std::clamp(until_feedback, std::chrono::milliseconds(0), std::chrono::milliseconds(100));
      EDDY_ASSIGN_OR_RETURN(std::optional<std::string> message, replication.Receive(wait));
      if (message) {
        EDDY_ASSIGN_OR_RETURN(CopyDataMessage copy, DecodeCopyData(*message));
        if (auto* keepalive = std::get_if<PrimaryKeepalive>(&copy)) {
          if (Idle() && keepalive->wal_end > idle_ack_) idle_ack_ = keepalive->wal_end;
          if (keepalive->reply_requested) EDDY_RETURN_IF_ERROR(SendFeedback(replication, true));
        } else {
          const XLogData& data = std::get<XLogData>(copy);
          EDDY_RETURN_IF_ERROR(Handle(data));
        }
      }
      if (Clock::now() - last_feedback_ >= options_.feedback_interval ||
          (ack_soon_ && Clock::now() - last_feedback_ >= std::chrono::milliseconds(500))) {
        ack_soon_ = false;
        EDDY_RETURN_IF_ERROR(SendFeedback(replication, false));
      }
    }
  }

  Status Handle(const XLogData& data) {
    EDDY_ASSIGN_OR_RETURN(PgOutputMessage message,
                          DecodePgOutput(data.payload, DecodeContext{in_stream_, false}));
    return std::visit([&](auto& m) -> Status { return On(m, data); }, message);
  }

  Status AddChange(uint32_t subxid, model::ChangeEvent event, const XLogData& data) {
    if (!TableSelected(event.table) && event.op != model::Operation::kMessage &&
        !IsSignalTable(event.table)) {
      return Status::Ok();
    }
    event.position = SourcePosition(PostgresPosition{Lsn::Invalid(), data.data_start});
    event.capture_time_ns = NowNanos();
    if (in_stream_) {
      auto it = streams_.find(stream_xid_);
      if (it == streams_.end()) {
        return Corruption("pgoutput change for streamed transaction " +
                          std::to_string(stream_xid_) + " without Stream Start");
      }
      return it->second->Add(subxid, std::move(event));
    }
    if (!current_) {
      return Corruption("pgoutput change outside a transaction at " + data.data_start.ToString());
    }
    if (skip_current_) return Status::Ok();
    return current_->buffer->Add(current_->xid, std::move(event));
  }

  Status On(const BeginMessage& m, const XLogData&) {
    if (current_) return Corruption("pgoutput Begin inside an open transaction");
    current_ = OpenTransaction{m.xid, m.final_lsn, m.commit_time_us, NewBuffer(m.xid), {}};
    // Already in the log (its commit record starts below the durable end): do not buffer it.
    skip_current_ = m.final_lsn < CapturedEnd();
    return Status::Ok();
  }
  Status On(const CommitMessage& m, const XLogData&) {
    if (!current_) return Corruption("pgoutput Commit without Begin at " + m.commit_lsn.ToString());
    OpenTransaction transaction = std::move(*current_);
    current_.reset();
    if (skip_current_) {
      skip_current_ = false;
      std::lock_guard lock(mu_);
      progress_.duplicate_transactions++;
      return Status::Ok();
    }
    if (!transaction.watermark.empty()) {
      EDDY_ASSIGN_OR_RETURN(bool appended, OnWatermark(transaction.watermark, m.commit_lsn,
                                                       m.end_lsn, m.commit_time_us));
      if (appended) return Status::Ok();
    }
    return Commit(*transaction.buffer, transaction.xid, m.commit_lsn, m.end_lsn, m.commit_time_us);
  }
  Status On(const OriginMessage&, const XLogData&) { return Status::Ok(); }
  Status On(const RelationMessage& m, const XLogData&) { return builder_->OnRelation(m); }
  Status On(const TypeMessage& m, const XLogData&) {
    builder_->OnType(m);
    return Status::Ok();
  }
  Status On(const InsertMessage& m, const XLogData& data) {
    EDDY_ASSIGN_OR_RETURN(model::ChangeEvent event, builder_->OnInsert(m));
    return AddChange(m.xid, std::move(event), data);
  }
  Status On(const UpdateMessage& m, const XLogData& data) {
    EDDY_ASSIGN_OR_RETURN(model::ChangeEvent event, builder_->OnUpdate(m));
    return AddChange(m.xid, std::move(event), data);
  }
  Status On(const DeleteMessage& m, const XLogData& data) {
    EDDY_ASSIGN_OR_RETURN(model::ChangeEvent event, builder_->OnDelete(m));
    return AddChange(m.xid, std::move(event), data);
  }
  Status On(const TruncateMessage& m, const XLogData& data) {
    EDDY_ASSIGN_OR_RETURN(std::vector<model::ChangeEvent> events, builder_->OnTruncate(m));
    for (model::ChangeEvent& event : events) {
      EDDY_RETURN_IF_ERROR(AddChange(m.xid, std::move(event), data));
    }
    return Status::Ok();
  }
  Status On(const LogicalDecodingMessage& m, const XLogData& data) {
    if (m.prefix == kWatermarkPrefix) {
      // Handled at the transaction's commit, in commit order with the changes around it.
      if (m.transactional && current_ && !in_stream_) current_->watermark = std::string(m.content);
      return Status::Ok();
    }
    if (!options_.capture_messages) return Status::Ok();
    model::ChangeEvent event = builder_->OnMessage(m);
    if (m.transactional) return AddChange(m.xid, std::move(event), data);
    // Non-transactional: its own one-event batch with no end position (delivered at least
    // once: a reconnect may deliver it again).
    event.position = SourcePosition(PostgresPosition{Lsn::Invalid(), m.lsn});
    event.capture_time_ns = NowNanos();
    event.commit_time_ns = event.capture_time_ns;
    PendingAppend pending;
    pending.records.push_back(ToRecord(event));
    pending.kind = PendingAppend::Kind::kMessage;
    pending.count = 1;
    pending.tally.Add(CountersFor(event.table), model::Operation::kMessage);
    pending.transaction_id = "message";
    return Enqueue(std::move(pending));
  }
  Status On(const StreamStartMessage& m, const XLogData&) {
    if (in_stream_) return Corruption("pgoutput Stream Start inside a stream block");
    in_stream_ = true;
    stream_xid_ = m.xid;
    if (streams_.find(m.xid) == streams_.end()) streams_[m.xid] = NewBuffer(m.xid);
    return Status::Ok();
  }
  Status On(const StreamStopMessage&, const XLogData&) {
    in_stream_ = false;
    return Status::Ok();
  }
  Status On(const StreamCommitMessage& m, const XLogData&) {
    auto it = streams_.find(m.xid);
    if (it == streams_.end()) {
      // Every change of it arrived before a reconnect we discarded: cannot happen, because the
      // server restarts the stream from the transaction's beginning.
      return Corruption("pgoutput Stream Commit for unknown transaction " + std::to_string(m.xid));
    }
    std::unique_ptr<TransactionBuffer> buffer = std::move(it->second);
    streams_.erase(it);
    return Commit(*buffer, m.xid, m.commit_lsn, m.end_lsn, m.commit_time_us);
  }
  Status On(const StreamAbortMessage& m, const XLogData&) {
    auto it = streams_.find(m.xid);
    if (it == streams_.end()) return Status::Ok();
    if (m.subxid == m.xid) {
      streams_.erase(it);
    } else {
      it->second->AbortSubtransaction(m.subxid);
    }
    return Status::Ok();
  }

  Status Commit(TransactionBuffer& buffer, uint32_t xid, Lsn commit_lsn, Lsn end_lsn,
                int64_t commit_time_us) {
    SourcePosition end(PostgresPosition{end_lsn, commit_lsn});
    if (end_lsn <= CapturedEnd()) {
      std::lock_guard lock(mu_);
      progress_.duplicate_transactions++;
      return Status::Ok();
    }
    if (buffer.count() == 0) {
      // Nothing captured (e.g. only filtered tables): no append; acknowledged when idle.
      if (Idle() && end_lsn > idle_ack_) idle_ack_ = end_lsn;
      return Status::Ok();
    }
    uint64_t ordinal = 0;
    int64_t commit_ns = (commit_time_us + kPostgresEpochOffsetMicros) * 1000;
    std::string transaction_id = std::to_string(xid);
    // Records are built part by part: a transaction that fits in one part is one
    // AppendTransaction; a larger one goes to the appender thread part by part (bounded by the
    // queue's byte budget) and is committed with its end position after the last part, so
    // memory stays bounded and the transaction still becomes visible only as a whole.
    PendingAppend part;
    size_t part_bytes = 0;
    size_t parts = 0;
    EventTally tally;  // the whole transaction's, applied once it is durable
    committing_ = true;
    Status replayed = buffer.ForEach([&](model::ChangeEvent&& event) -> Status {
      if (IsSignalTable(event.table)) {
        // Acted on at its commit, in commit order; not appended to the log.
        if (event.op == model::Operation::kInsert && event.after.has_value()) {
          OnSignalRow(*event.after);
        }
        return Status::Ok();
      }
      snapshotter_->OnChange(event);
      // The part is full and another record follows: hand the part over first (so a
      // transaction of exactly one part's size is still a single AppendTransaction).
      if (part.records.size() >= options_.append_part_records ||
          part_bytes >= options_.append_part_bytes) {
        if (StopRequested()) {
          return Aborted("capture stopped while appending transaction " + transaction_id);
        }
        part.kind = PendingAppend::Kind::kPart;
        part.count = part.records.size();
        part.transaction_id = transaction_id;
        EDDY_RETURN_IF_ERROR(Enqueue(std::move(part)));
        part = PendingAppend();
        part_bytes = 0;
        ++parts;
        // Replaying millions of rows takes longer than wal_sender_timeout: keep the walsender
        // from declaring us dead (the flush position does not move until the commit).
        EDDY_RETURN_IF_ERROR(KeepWalsenderAlive());
      }
      const PostgresPosition* change = event.position.postgres();
      Lsn change_lsn = change != nullptr ? change->change_lsn : Lsn::Invalid();
      event.position = SourcePosition(PostgresPosition{end_lsn, change_lsn});
      event.commit_time_ns = commit_ns;
      event.transaction_id = transaction_id;
      event.ordinal_in_transaction = ordinal++;
      tally.Add(CountersFor(event.table), event.op);
      part.records.push_back(ToRecord(event));
      part_bytes += RecordBytes(part.records.back());
      return Status::Ok();
    });
    committing_ = false;
    // An open part is aborted by ResetStreamingState once the attempt ends.
    EDDY_RETURN_IF_ERROR(replayed);
    part.kind = parts == 0 ? PendingAppend::Kind::kTransaction : PendingAppend::Kind::kCommit;
    part.spilled = buffer.spilled();
    part.count = part.records.size();
    part.total = ordinal;
    part.end = end;
    part.end_lsn = end_lsn;
    part.commit_time_ns = commit_ns;
    part.transaction_id = std::move(transaction_id);
    part.tally = std::move(tally);
    last_enqueued_end_ = end_lsn;
    return Enqueue(std::move(part));
  }

  static size_t RecordBytes(const log::AppendRecord& record) {
    return record.payload.size() + record.partition_key.size() + 64;
  }

  Status KeepWalsenderAlive() {
    if (replication_ == nullptr || Clock::now() - last_feedback_ < std::chrono::seconds(1)) {
      return Status::Ok();
    }
    return SendFeedback(*replication_, false);
  }

  // ---- the appender thread: appends committed transactions in order while the capture
  // thread decodes the next ones (the log's fsync overlaps with decoding). The queue is
  // bounded in bytes and entries; acknowledgements read the log's durable position, so
  // nothing queued is ever acknowledged.

  struct PendingAppend {
    enum class Kind {
      kTransaction,  // AppendTransaction(records, end)
      kMessage,      // a non-transactional message: AppendTransaction(records, {})
      kPart,         // part of a large transaction: BeginTransaction when none is open, Append
      kCommit,       // its last part: Append, then Commit(end)
    };
    Kind kind = Kind::kTransaction;
    std::vector<log::AppendRecord> records;
    SourcePosition end;  // empty for non-transactional messages
    Lsn end_lsn;
    int64_t commit_time_ns = 0;
    size_t count = 0;  // records in this entry
    size_t total = 0;  // kCommit: records in the whole transaction
    size_t bytes = 0;
    bool spilled = false;
    bool snapshot_chunk = false;  // an incremental snapshot chunk's rows (not a source transaction)
    std::string transaction_id;
    EventTally tally;  // kTransaction, kMessage, kCommit: the events it makes durable
  };

  Status Enqueue(PendingAppend pending) {
    for (const log::AppendRecord& record : pending.records) pending.bytes += RecordBytes(record);
    std::unique_lock lock(append_mu_);
    append_cv_.wait(lock, [&] {
      return !append_error_.ok() || append_queue_.empty() ||
             (append_queue_.size() < kMaxQueuedTransactions &&
              queued_bytes_ + pending.bytes <= options_.transaction_memory_bytes);
    });
    if (!append_error_.ok()) return append_error_;
    queued_bytes_ += pending.bytes;
    append_queue_.push_back(std::move(pending));
    queued_appends_ = append_queue_.size();
    append_cv_.notify_all();
    return Status::Ok();
  }

  void AppenderLoop() {
    std::unique_lock lock(append_mu_);
    while (true) {
      append_cv_.wait(lock, [&] { return appender_stop_ || !append_queue_.empty(); });
      if (append_queue_.empty()) return;  // stop requested and drained
      // Group commit: consecutive small transactions waiting in the queue go to the log in one
      // AppendTransaction (one fsync) ending at the last one's position. None of them is in
      // the log yet (duplicates are skipped before they are queued), each stays atomic and in
      // commit order, and a crash loses all of the batch or none, which the server resends.
      std::vector<PendingAppend*> batch = {&append_queue_.front()};
      if (batch[0]->kind == PendingAppend::Kind::kTransaction) {
        size_t records = batch[0]->count;
        size_t bytes = batch[0]->bytes;
        for (size_t i = 1; i < append_queue_.size(); ++i) {
          PendingAppend& next = append_queue_[i];
          if (next.kind != PendingAppend::Kind::kTransaction ||
              records + next.count > options_.append_part_records ||
              bytes + next.bytes > options_.append_part_bytes) {
            break;
          }
          records += next.count;
          bytes += next.bytes;
          batch.push_back(&next);  // deque elements stay put while the other thread appends
        }
      }
      appending_ = true;
      lock.unlock();
      Status status = batch.size() == 1 ? AppendOne(*batch[0]) : AppendBatch(batch);
      lock.lock();
      appending_ = false;
      std::string transaction_id = batch[0]->transaction_id;
      for (size_t i = 0; i < batch.size(); ++i) {
        queued_bytes_ -= append_queue_.front().bytes;
        append_queue_.pop_front();
      }
      queued_appends_ = append_queue_.size();
      if (!status.ok() && append_error_.ok()) {
        status = AsAppendFailure(status.WithContext("appending transaction " + transaction_id));
        append_error_ = status;
        // The server resends everything not acknowledged: drop what is queued behind it.
        append_queue_.clear();
        queued_bytes_ = 0;
        queued_appends_ = 0;
      }
      append_cv_.notify_all();
    }
  }

  // Runs on the appender thread (or, for the snapshot, on the capture thread while the
  // appender thread is idle).
  Status CallHook(const AppendStep& step) {
    if (!options_.append_hook) return Status::Ok();
    return AsAppendFailure(options_.append_hook(step));
  }

  // Discards a transaction being appended in parts (nothing of it became visible).
  void AbortOpenAppender(const std::string& why) {
    if (open_appender_ == nullptr) return;
    Status aborted = open_appender_->Abort();
    Logger()->warn(
        "discarded a transaction appended in parts ({}): the server sends it again "
        "abort_status=\"{}\"",
        why, aborted.ToString());
    open_appender_.reset();
  }

  Status AppendOne(PendingAppend& pending) {
    using Kind = PendingAppend::Kind;
    if (pending.kind == Kind::kTransaction || pending.kind == Kind::kMessage) {
      Result<log::AppendResult> appended =
          stream_->AppendTransaction(std::move(pending.records), pending.end);
      EDDY_RETURN_IF_ERROR(appended.status());
      made_progress_ = true;
      ack_soon_ = true;
      {
        std::lock_guard progress_lock(mu_);
        if (appended->duplicate) {
          progress_.duplicate_transactions++;
        } else if (pending.kind == Kind::kTransaction) {
          progress_.log_commits++;
          progress_.transactions++;
          progress_.events += pending.count;
          if (pending.spilled) progress_.spilled_transactions++;
          progress_.durable_lsn = pending.end_lsn;
        } else {
          progress_.events += pending.count;
        }
      }
      if (!appended->duplicate) {
        pending.tally.Apply();
        if (pending.kind == Kind::kTransaction) {
          probe_->TransactionDurable(pending.commit_time_ns, NowNanos());
        }
      }
      AppendStep step;
      step.kind = pending.kind == Kind::kMessage ? AppendStep::Kind::kMessage
                                                 : AppendStep::Kind::kTransaction;
      step.records = pending.count;
      step.end_lsn = pending.end_lsn;
      step.commit_time_ns = pending.commit_time_ns;
      step.duplicate = appended->duplicate;
      return CallHook(step);
    }
    Status status = AppendPart(pending);
    if (!status.ok()) AbortOpenAppender("append failed: " + status.ToString());
    return status;
  }

  Status AppendBatch(const std::vector<PendingAppend*>& batch) {
    std::vector<log::AppendRecord> records;
    size_t total = 0;
    for (const PendingAppend* pending : batch) total += pending->records.size();
    records.reserve(total);
    for (PendingAppend* pending : batch) {
      for (log::AppendRecord& record : pending->records) records.push_back(std::move(record));
      pending->records.clear();
    }
    Result<log::AppendResult> appended =
        stream_->AppendTransaction(std::move(records), batch.back()->end);
    EDDY_RETURN_IF_ERROR(appended.status());
    made_progress_ = true;
    ack_soon_ = true;
    {
      std::lock_guard progress_lock(mu_);
      if (appended->duplicate) {
        progress_.duplicate_transactions += batch.size();
      } else {
        progress_.log_commits++;
        for (const PendingAppend* pending : batch) {
          progress_.transactions++;
          progress_.events += pending->count;
          if (pending->spilled) progress_.spilled_transactions++;
        }
        progress_.durable_lsn = batch.back()->end_lsn;
      }
    }
    if (!appended->duplicate) {
      int64_t now = NowNanos();
      for (const PendingAppend* pending : batch) {
        pending->tally.Apply();
        probe_->TransactionDurable(pending->commit_time_ns, now);
      }
    }
    for (const PendingAppend* pending : batch) {
      AppendStep step;
      step.kind = AppendStep::Kind::kTransaction;
      step.records = pending->count;
      step.end_lsn = pending->end_lsn;
      step.commit_time_ns = pending->commit_time_ns;
      step.duplicate = appended->duplicate;
      EDDY_RETURN_IF_ERROR(CallHook(step));
    }
    return Status::Ok();
  }

  Status AppendPart(PendingAppend& pending) {
    if (open_appender_ == nullptr) {
      EDDY_ASSIGN_OR_RETURN(open_appender_, stream_->BeginTransaction());
    }
    if (!pending.records.empty()) {
      EDDY_RETURN_IF_ERROR(open_appender_->Append(std::move(pending.records)));
    }
    if (pending.kind == PendingAppend::Kind::kPart) {
      AppendStep step;
      step.kind = AppendStep::Kind::kPart;
      step.records = pending.count;
      return CallHook(step);
    }
    Result<log::TransactionCommitResult> committed = open_appender_->Commit(pending.end);
    open_appender_.reset();
    EDDY_RETURN_IF_ERROR(committed.status());
    made_progress_ = true;
    ack_soon_ = true;
    {
      std::lock_guard progress_lock(mu_);
      if (committed->duplicate) {
        progress_.duplicate_transactions++;
      } else {
        progress_.log_commits++;
        progress_.transactions++;
        if (!pending.snapshot_chunk) progress_.parted_transactions++;
        progress_.events += pending.total;
        if (pending.spilled) progress_.spilled_transactions++;
        progress_.durable_lsn = pending.end_lsn;
      }
    }
    if (!committed->duplicate) {
      pending.tally.Apply();
      probe_->TransactionDurable(pending.commit_time_ns, NowNanos());
    }
    if (!pending.snapshot_chunk) {
      Logger()->info("appended a large transaction in parts xid={} records={} end_lsn={}{}",
                     pending.transaction_id, pending.total, pending.end_lsn.ToString(),
                     committed->duplicate ? " (duplicate: already in the log)" : "");
    }
    AppendStep step;
    step.kind = AppendStep::Kind::kCommit;
    step.records = pending.total;
    step.end_lsn = pending.end_lsn;
    step.commit_time_ns = pending.commit_time_ns;
    step.duplicate = committed->duplicate;
    return CallHook(step);
  }

  // Waits until every queued transaction is appended (or failed); returns the append error.
  Status DrainAppends() {
    std::unique_lock lock(append_mu_);
    append_cv_.wait(lock, [&] { return append_queue_.empty() && !appending_; });
    return append_error_;
  }

  Status AppendError() {
    std::lock_guard lock(append_mu_);
    return append_error_;
  }

  bool AppendsIdle() {
    std::lock_guard lock(append_mu_);
    return append_queue_.empty() && !appending_;
  }

  static constexpr size_t kMaxQueuedTransactions = 1024;

  std::unique_ptr<CaptureProbe> probe_;
  std::unique_ptr<PeriodicPoller> slot_poller_;    // created and reset by Run()
  std::unique_ptr<PgConnection> slot_connection_;  // the poller's thread only
  model::TableId last_table_;                      // CountersFor: capture thread only
  TableCounters* last_counters_ = nullptr;

  PostgresCaptureOptions options_;
  std::shared_ptr<log::Stream> stream_;
  io::FileSystem* file_system_;
  std::vector<std::string> table_filter_;
  std::unique_ptr<EventBuilder> builder_;

  std::optional<OpenTransaction> current_;
  // Driven by the appender thread; touched by the capture thread only while that one is idle.
  std::unique_ptr<log::TransactionAppender> open_appender_;
  PgConnection* replication_ = nullptr;  // during Stream()
  bool committing_ = false;              // a transaction is being replayed into the queue
  std::map<uint32_t, std::unique_ptr<TransactionBuffer>> streams_;
  bool in_stream_ = false;
  uint32_t stream_xid_ = 0;
  Lsn idle_ack_;
  Clock::time_point last_feedback_;
  std::atomic<bool> ack_soon_{false};
  bool skip_current_ = false;
  Lsn last_enqueued_end_;
  std::mutex append_mu_;
  std::condition_variable append_cv_;
  std::deque<PendingAppend> append_queue_;
  size_t queued_bytes_ = 0;
  bool appending_ = false;
  bool appender_stop_ = false;
  Status append_error_;
  uint64_t buffer_counter_ = 0;
  bool snapshot_taken_ = false;
  int proto_version_ = 1;

  // Incremental snapshots: capture thread only (the snapshotter's Queue from any thread).
  std::unique_ptr<IncrementalSnapshotter> snapshotter_;
  uint64_t published_changes_ = 0;
  std::unique_ptr<PgConnection> snapshot_sql_;
  // Incremental snapshot chunks read at the same time (snapshot_parallelism - 1 connections).
  std::vector<std::unique_ptr<PgConnection>> snapshot_workers_;
  std::unique_ptr<SqlCatalog> snapshot_catalog_;
  std::unique_ptr<EventBuilder> snapshot_builder_;
  std::map<std::string, RelationInfo> snapshot_relations_;
  std::map<std::string, std::vector<std::string>> snapshot_type_names_;
  // The bytes a chunk row reserves in front for its event header (OnWatermark raises it to
  // the largest header seen; chunk readers on other threads read it).
  std::atomic<size_t> chunk_header_bytes_{160};
  std::string signal_table_;  // "schema.table"; empty: none
  std::atomic<bool> made_progress_{false};
  std::atomic<uint64_t> queued_appends_{0};

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  bool finished_ = false;
  Status final_status_;
  PostgresCaptureProgress progress_;
};

Result<std::unique_ptr<PostgresCapture>> PostgresCapture::Start(
    PostgresCaptureOptions options, std::shared_ptr<log::Stream> stream) {
  if (options.conninfo.empty()) return InvalidArgument("postgres capture: no source URL given");
  if (options.slot_name.empty() || options.publication_name.empty()) {
    return InvalidArgument("postgres capture: slot and publication names must not be empty");
  }
  if (options.spill_dir.empty()) {
    return InvalidArgument("postgres capture: a spill directory is required");
  }
  if (stream == nullptr) return InvalidArgument("postgres capture: no log stream given");
  if (options.snapshot_parallelism < 1 || options.snapshot_parallelism > 64) {
    return InvalidArgument("postgres capture: snapshot_parallelism must be 1..64");
  }
  if (options.snapshot_chunk_rows == 0) options.snapshot_chunk_rows = 1;
  std::unique_ptr<PostgresCapture> capture(new PostgresCapture());
  capture->runner_ = std::make_unique<Runner>(std::move(options), std::move(stream));
  Runner* runner = capture->runner_.get();
  capture->thread_ = std::thread([runner] {
    NameCurrentThread("pg-capture");
    runner->Run();
  });
  return capture;
}

PostgresCapture::~PostgresCapture() {
  Status status = Stop();
  status.IgnoreError();  // already logged by the capture thread
}

Status PostgresCapture::Stop() {
  if (runner_ == nullptr) return Status::Ok();
  runner_->RequestStop();
  if (thread_.joinable()) thread_.join();
  return runner_->final_status();
}

bool PostgresCapture::WaitUntilFinished(std::chrono::milliseconds timeout) {
  return runner_->WaitFinished(timeout);
}

PostgresCaptureProgress PostgresCapture::progress() const { return runner_->progress(); }

void PostgresCapture::RequestSnapshot(SnapshotRequest request) {
  runner_->RequestSnapshot(std::move(request));
}

void PostgresCapture::ControlSnapshot(SnapshotControl control) {
  runner_->ControlSnapshot(std::move(control));
}

}  // namespace eddy::source::postgres
