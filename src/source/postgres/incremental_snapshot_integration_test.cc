// Integration tests of PostgreSQL incremental snapshots (DBLog watermarks) against a real
// PostgreSQL 15 (src/localdb): every row read in chunks; the DBLog property under concurrent
// writers (the log after snapshot + stream, folded by key with the last writer winning, equals
// the table) for several chunk sizes; kill -9 in the middle of the snapshot resumes at the
// last chunk with every row exactly once; on-demand snapshots with a condition, pause, resume
// and stop; a table without a primary key is named in the error; snapshot_parallelism (key
// ranges covering every row once, the DBLog property at parallelism 2 and 4, kill -9 with
// ranges; the blocking snapshot's ctid ranges). The log, folding and the writers are shared
// with the MySQL test (source/incremental_snapshot_test_util.h).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <thread>
#include <tuple>

#include "localdb/local_postgres.h"
#include "log/log_store.h"
#include "model/event_codec.h"
#include "source/incremental_snapshot_test_util.h"
#include "source/postgres/capture.h"
#include "source/postgres/pg_connection.h"

namespace eddy::source::postgres {
namespace {

using model::ChangeEvent;
using model::Operation;
using std::chrono::milliseconds;
using std::chrono::seconds;

localdb::LocalPostgres* server = nullptr;
using testing::TestSeed;

class IncrementalSnapshotTest : public ::testing::Test {
 public:
  static void SetUpTestSuite() {
    auto started = localdb::LocalPostgres::Start();
    ASSERT_TRUE(started.ok()) << started.status().ToString();
    server = started->release();
  }
  static void TearDownTestSuite() {
    delete server;
    server = nullptr;
  }

 protected:
  void SetUp() override {
    ASSERT_NE(server, nullptr) << "PostgreSQL 15 did not start";
    name_ = testing::SanitizedTestName();
    dir_ = std::filesystem::temp_directory_path() /
           ("eddy_pginc_" + std::to_string(::getpid()) + "_" + name_);
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    OpenLog();
  }
  void TearDown() override {
    capture_.reset();
    log_.Close();
    std::filesystem::remove_all(dir_);
  }

  void OpenLog() { log_.Open(dir_); }

  // One run of a kill -9 test: the capture with `options` runs in a forked child and is killed
  // with SIGKILL, by itself once its `crash_after`-th chunk is durable, or, with `kill_after`,
  // by this process that long after the fork (wherever the child is, before its first chunk
  // too). Then the log is reopened here, and the dead walsender has let go of the slot, so the
  // next run can stream.
  void RunChildUntilKilled(const PostgresCaptureOptions& options, int crash_after,
                           std::optional<milliseconds> kill_after = std::nullopt) {
    log_.Close();  // the child takes the log directory's lock
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::alarm(60);
      auto store = log::LogStore::Open(dir_ + "/log");
      if (!store.ok()) ::_exit(2);
      auto stream = (*store)->GetStream("cdc");
      if (!stream.ok()) ::_exit(2);
      auto chunks = std::make_shared<int>(0);
      PostgresCaptureOptions child = options;
      const bool by_chunk = !kill_after.has_value();
      child.append_hook = [chunks, crash_after, by_chunk](const AppendStep& step) {
        // A chunk is durable at its kTransaction, or at its kCommit when it was appended in
        // parts (more rows than kSnapshotPartRecords).
        const bool chunk_durable =
            step.kind == AppendStep::Kind::kTransaction || step.kind == AppendStep::Kind::kCommit;
        if (by_chunk && chunk_durable && ++*chunks == crash_after) {
          ::kill(::getpid(), SIGKILL);
        }
        return Status::Ok();
      };
      auto capture = PostgresCapture::Start(child, *stream);
      if (!capture.ok()) ::_exit(3);
      (*capture)->WaitUntilFinished(seconds(55));
      ::_exit(4);
    }
    if (kill_after) {
      auto deadline = std::chrono::steady_clock::now() + *kill_after;
      while (std::chrono::steady_clock::now() < deadline) {
        int status = 0;
        if (::waitpid(pid, &status, WNOHANG) == pid) FAIL() << "child ended early " << status;
        std::this_thread::yield();
      }
      ::kill(pid, SIGKILL);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "wait status " << status;
    OpenLog();
    auto sql = PgConnection::Connect(server->Url(), false);
    ASSERT_TRUE(sql.ok());
    auto deadline = std::chrono::steady_clock::now() + seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      auto rows = (*sql)->Query(
          "SELECT count(*)::text FROM pg_replication_slots WHERE active AND slot_name = " +
          QuoteLiteral(options.slot_name));
      ASSERT_TRUE(rows.ok());
      if (rows->rows[0][0].value_or("") == "0") break;
      ASSERT_TRUE((*sql)->Query("SELECT pg_sleep(0.05)").ok());
    }
  }
  std::vector<ChangeEvent> ReadAll() const { return log_.ReadAll(); }

  PostgresCaptureOptions Options(std::vector<std::string> tables, size_t chunk_rows) {
    PostgresCaptureOptions options;
    options.conninfo = server->Url();
    options.slot_name = "slot_" + name_;
    options.publication_name = "pub_" + name_;
    options.tables = std::move(tables);
    options.spill_dir = dir_ + "/spill";
    options.state_dir = dir_ + "/state";
    options.snapshot_type = SnapshotType::kIncremental;
    options.snapshot_chunk_rows = chunk_rows;
    options.feedback_interval = milliseconds(500);
    options.reconnect_initial_backoff = milliseconds(50);
    options.reconnect_max_backoff = milliseconds(500);
    return options;
  }

  void StartCapture(PostgresCaptureOptions options) {
    auto capture = PostgresCapture::Start(std::move(options), log_.stream());
    ASSERT_TRUE(capture.ok()) << capture.status().ToString();
    capture_ = std::move(*capture);
  }

  void Sql(const std::string& sql) {
    Status status = server->Execute(sql);
    ASSERT_TRUE(status.ok()) << sql << ": " << status.ToString();
  }

  // Waits for the incremental snapshot to reach `state` ("complete", "paused", ...).
  void WaitSnapshotState(const std::string& state, seconds timeout = seconds(60)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      PostgresCaptureProgress progress = capture_->progress();
      if (progress.incremental_snapshot == state) return;
      ASSERT_NE(progress.state, CaptureState::kFailed) << progress.last_error;
      capture_->WaitUntilFinished(milliseconds(20));
    }
    FAIL() << "incremental snapshot did not reach " << state << "; it is "
           << capture_->progress().incremental_snapshot;
  }

  // Waits until the capture streams (its slot exists: changes committed from now on reach the
  // log; without a snapshot, earlier ones never do).
  void WaitStreaming() {
    auto deadline = std::chrono::steady_clock::now() + seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
      PostgresCaptureProgress progress = capture_->progress();
      if (progress.state == CaptureState::kStreaming) return;
      ASSERT_NE(progress.state, CaptureState::kFailed) << progress.last_error;
      capture_->WaitUntilFinished(milliseconds(20));
    }
    FAIL() << "the capture did not start streaming";
  }

  // Waits until the log holds every change committed so far: a marker row written now shows
  // up in the log.
  void WaitCaughtUp() {
    static int marker = 0;
    int id = ++marker;
    Sql("INSERT INTO marker_" + name_ + " VALUES (" + std::to_string(id) + ")");
    auto deadline = std::chrono::steady_clock::now() + seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
      for (const ChangeEvent& event : ReadAll()) {
        if (event.table.name == "marker_" + name_ && !event.key.empty() &&
            event.key[0].value.Get<int64_t>() == id) {
          return;
        }
      }
      ASSERT_NE(capture_->progress().state, CaptureState::kFailed)
          << capture_->progress().last_error;
      log_.WaitForData();
    }
    FAIL() << "the marker row never reached the log";
  }

  // The table `table` as the log tells it (last writer wins) and its snapshot reads per key.
  static std::map<int64_t, int64_t> Fold(const std::vector<ChangeEvent>& events,
                                         const std::string& table) {
    return testing::Fold(events, [&](const model::TableId& id) { return id.name == table; });
  }
  static std::map<int64_t, int> ReadCounts(const std::vector<ChangeEvent>& events,
                                           const std::string& table) {
    return testing::ReadCounts(events, [&](const model::TableId& id) { return id.name == table; });
  }

  std::map<int64_t, int64_t> TableRows(const std::string& table) {
    std::map<int64_t, int64_t> rows;
    auto sql = PgConnection::Connect(server->Url(), false);
    EXPECT_TRUE(sql.ok()) << sql.status().ToString();
    if (!sql.ok()) return rows;
    auto result = (*sql)->Query("SELECT id::text, v::text FROM " + table);
    EXPECT_TRUE(result.ok()) << result.status().ToString();
    if (!result.ok()) return rows;
    for (const auto& row : result->rows) {
      rows[std::stoll(row[0].value_or("0"))] = std::stoll(row[1].value_or("0"));
    }
    return rows;
  }

  std::string name_;
  std::string dir_;
  testing::TestLog log_;
  std::unique_ptr<PostgresCapture> capture_;
};

TEST_F(IncrementalSnapshotTest, ReadsEveryRowInChunksWhileStreaming) {
  std::string t = "t_" + name_;
  Sql("CREATE TABLE " + t + " (id bigint PRIMARY KEY, v bigint NOT NULL)");
  Sql("CREATE TABLE marker_" + name_ + " (id bigint PRIMARY KEY)");
  Sql("INSERT INTO " + t + " SELECT g, g * 10 FROM generate_series(1, 2500) g");
  StartCapture(Options({"public." + t, "public.marker_" + name_}, 300));
  WaitSnapshotState("complete");
  WaitCaughtUp();
  std::vector<ChangeEvent> events = ReadAll();
  std::map<int64_t, int> counts = ReadCounts(events, t);
  ASSERT_EQ(counts.size(), 2500u);
  for (const auto& [id, count] : counts) EXPECT_EQ(count, 1) << "id " << id;
  std::set<std::string> transactions;
  for (const ChangeEvent& event : events) {
    if (event.op == Operation::kRead) transactions.insert(event.transaction_id);
  }
  EXPECT_EQ(transactions.size(), 9u);  // ceil(2500 / 300) chunks, one log transaction each
  EXPECT_EQ(capture_->progress().state, CaptureState::kStreaming);
  EXPECT_EQ(Fold(events, t), TableRows(t));
}

// snapshot_parallelism: the blocking snapshot reads every table's ctid ranges over several
// connections that share the exported snapshot. Every row is read exactly once (also around
// pages emptied by deletes, in a table without a primary key and in an empty table), the rows
// are the table's, and the snapshot is still one log transaction.
TEST_F(IncrementalSnapshotTest, ParallelBlockingSnapshotReadsEveryRowOnce) {
  std::string t = "t_" + name_;
  std::string u = "u_" + name_;
  std::string e = "e_" + name_;
  Sql("CREATE TABLE " + t + " (id bigint PRIMARY KEY, v bigint NOT NULL, pad text)");
  Sql("CREATE TABLE " + u + " (id bigint, v bigint)");  // no key: read all the same
  Sql("CREATE TABLE " + e + " (id bigint PRIMARY KEY, v bigint NOT NULL)");
  Sql("CREATE TABLE marker_" + name_ + " (id bigint PRIMARY KEY)");
  Sql("INSERT INTO " + t + " SELECT g, g * 3, repeat('x', 200) FROM generate_series(1, 30000) g");
  Sql("DELETE FROM " + t + " WHERE id BETWEEN 5000 AND 9000 OR id % 7 = 0");
  Sql("UPDATE " + t + " SET v = v + 1 WHERE id % 11 = 0");  // new tuple versions elsewhere
  Sql("INSERT INTO " + u + " SELECT g, g FROM generate_series(1, 700) g");
  PostgresCaptureOptions options =
      Options({"public." + t, "public." + u, "public." + e, "public.marker_" + name_}, 500);
  options.snapshot_type = SnapshotType::kBlocking;
  options.snapshot_parallelism = 3;
  StartCapture(options);
  WaitCaughtUp();
  std::vector<ChangeEvent> events = ReadAll();
  std::map<int64_t, int> counts;
  std::map<int64_t, int64_t> values;
  std::set<std::string> transactions;
  size_t u_rows = 0;
  for (const ChangeEvent& event : events) {
    if (event.op != Operation::kRead) continue;
    transactions.insert(event.transaction_id);
    if (event.table.name == u) ++u_rows;
    if (event.table.name != t) continue;
    int64_t id = model::FindField(*event.after, "id")->Get<int64_t>();
    counts[id]++;
    values[id] = model::FindField(*event.after, "v")->Get<int64_t>();
  }
  std::map<int64_t, int64_t> table = TableRows(t);
  ASSERT_EQ(counts.size(), table.size());
  for (const auto& [id, count] : counts) EXPECT_EQ(count, 1) << "id " << id;
  EXPECT_TRUE(values == table) << "the snapshot's rows differ from the table";
  EXPECT_EQ(u_rows, 700u);
  EXPECT_EQ(transactions.size(), 1u);  // one consistent snapshot transaction
}

// snapshot_parallelism with incremental snapshots: a large table is split into key ranges
// (persisted in the progress file, one entry per range) read over several connections at once,
// next to a small table; every row is read exactly once, and the log equals the table.
TEST_F(IncrementalSnapshotTest, ParallelChunksOfOneTableCoverEveryRowOnce) {
  std::string t = "t_" + name_;
  std::string u = "u_" + name_;
  Sql("CREATE TABLE " + t + " (id bigint PRIMARY KEY, v bigint NOT NULL)");
  Sql("CREATE TABLE " + u + " (id bigint PRIMARY KEY, v bigint NOT NULL)");
  Sql("CREATE TABLE marker_" + name_ + " (id bigint PRIMARY KEY)");
  Sql("INSERT INTO " + t + " SELECT g * 3, g FROM generate_series(1, 3000) g");
  Sql("INSERT INTO " + u + " SELECT g, g FROM generate_series(1, 150) g");
  PostgresCaptureOptions options =
      Options({"public." + t, "public." + u, "public.marker_" + name_}, 200);
  options.snapshot_parallelism = 3;
  StartCapture(options);
  WaitSnapshotState("complete");
  WaitCaughtUp();
  std::vector<ChangeEvent> events = ReadAll();
  std::map<int64_t, int> counts = ReadCounts(events, t);
  ASSERT_EQ(counts.size(), 3000u);
  for (const auto& [id, count] : counts) EXPECT_EQ(count, 1) << "id " << id;
  std::map<int64_t, int> u_counts = ReadCounts(events, u);
  ASSERT_EQ(u_counts.size(), 150u);
  for (const auto& [id, count] : u_counts) EXPECT_EQ(count, 1) << "id " << id;
  EXPECT_EQ(Fold(events, t), TableRows(t));
  std::ifstream file(dir_ + "/state/" + std::string(kIncrementalSnapshotFile), std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  auto state = DecodeIncrementalSnapshotState(bytes);
  ASSERT_TRUE(state.ok()) << state.status().ToString();
  size_t ranges = 0;
  uint64_t rows = 0;
  for (const TableSnapshotProgress& entry : state->tables) {
    if (entry.table != "public." + t) continue;
    ++ranges;
    rows += entry.rows;
    EXPECT_EQ(entry.state, TableSnapshotState::kDone);
  }
  EXPECT_EQ(ranges, 3u);  // 3000 rows, chunks of 200, parallelism 3
  EXPECT_EQ(rows, 3000u);
}

// A table without a key whose updates and deletes do not stream whole old rows (REPLICA
// IDENTITY DEFAULT or NOTHING) has no rule to read it incrementally: the error names each such
// table, its identity and the fixes.
TEST_F(IncrementalSnapshotTest, TableWithoutPrimaryKeyIsNamed) {
  std::string t = "t_" + name_;
  std::string n = "n_" + name_;
  Sql("CREATE TABLE " + t + " (id bigint, v bigint)");
  Sql("CREATE TABLE " + n + " (id bigint, v bigint)");
  Sql("ALTER TABLE " + n + " REPLICA IDENTITY NOTHING");
  StartCapture(Options({"public." + t, "public." + n}, 100));
  ASSERT_TRUE(capture_->WaitUntilFinished(seconds(60)));
  Status status = capture_->Stop();
  EXPECT_EQ(status.code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(status.message().find("public." + t + " (REPLICA IDENTITY DEFAULT)"), std::string::npos)
      << status.ToString();
  EXPECT_NE(status.message().find("public." + n + " (REPLICA IDENTITY NOTHING)"), std::string::npos)
      << status.ToString();
  EXPECT_NE(status.message().find("primary key"), std::string::npos) << status.ToString();
  EXPECT_NE(status.message().find("REPLICA IDENTITY FULL"), std::string::npos) << status.ToString();
  EXPECT_NE(status.message().find("snapshot_type"), std::string::npos) << status.ToString();
}

// A table without a primary key whose replica identity is a unique index is read in that
// index's order, keyed by its columns as the stream keys its changes (here on demand); a table
// without any key whose identity is DEFAULT is skipped, the reason naming it and the fix.
TEST_F(IncrementalSnapshotTest, ReplicaIdentityIndexIsTheChunkKey) {
  std::string t = "t_" + name_;
  std::string k = "k_" + name_;
  Sql("CREATE TABLE " + t + " (v bigint NOT NULL, id bigint NOT NULL)");
  Sql("CREATE UNIQUE INDEX " + t + "_id ON " + t + " (id)");
  Sql("ALTER TABLE " + t + " REPLICA IDENTITY USING INDEX " + t + "_id");
  Sql("CREATE TABLE " + k + " (id bigint, v bigint)");
  Sql("CREATE TABLE marker_" + name_ + " (id bigint PRIMARY KEY)");
  Sql("INSERT INTO " + t + " SELECT g * 10, g FROM generate_series(1, 1000) g");
  Sql("INSERT INTO " + k + " VALUES (1, 1)");
  PostgresCaptureOptions options =
      Options({"public." + t, "public." + k, "public.marker_" + name_}, 300);
  options.snapshot_mode = SnapshotMode::kNoData;  // the tables are read on demand below
  StartCapture(options);
  WaitStreaming();
  WaitCaughtUp();
  capture_->RequestSnapshot({"request:index", {"public." + t}, {}});
  WaitSnapshotState("complete");
  Sql("UPDATE " + t + " SET v = 7 WHERE id = 5");
  WaitCaughtUp();
  std::vector<ChangeEvent> events = ReadAll();
  std::map<int64_t, int> counts = ReadCounts(events, t);
  ASSERT_EQ(counts.size(), 1000u);
  for (const auto& [id, count] : counts) EXPECT_EQ(count, 1) << "id " << id;
  EXPECT_EQ(Fold(events, t), TableRows(t));
  capture_->RequestSnapshot({"request:keyless", {"public." + k}, {}});
  std::optional<TableSnapshotProgress> entry;
  auto deadline = std::chrono::steady_clock::now() + seconds(60);
  while (!entry.has_value() && std::chrono::steady_clock::now() < deadline) {
    auto bytes = io::DefaultFileSystem()->ReadFile(dir_ + "/state/incremental_snapshot");
    ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
    auto state = DecodeIncrementalSnapshotState(*bytes);
    ASSERT_TRUE(state.ok()) << state.status().ToString();
    if (state->origin == "request:keyless" && state->tables.size() == 1 &&
        state->tables[0].state != TableSnapshotState::kPending) {
      entry = state->tables[0];
    } else {
      capture_->WaitUntilFinished(milliseconds(20));
    }
  }
  ASSERT_TRUE(entry.has_value()) << "the request was not acted on";
  EXPECT_EQ(entry->state, TableSnapshotState::kSkipped);
  EXPECT_NE(entry->reason.find("public." + k + " has no primary key"), std::string::npos)
      << entry->reason;
  EXPECT_NE(entry->reason.find("REPLICA IDENTITY FULL"), std::string::npos) << entry->reason;
}

// Tables without a key (REPLICA IDENTITY FULL): rows are a multiset, compared as
// (id, v, pad) -> copies.
using RowCounts = std::map<std::tuple<int64_t, int64_t, std::string>, int>;

// The table as the log tells it, folded as a multiset from the log's start (the stream began
// with the snapshot): c and r add their row, d removes one copy of its old row, u removes one
// copy of its old row and adds the new one (a change to a row the snapshot had not read yet
// finds no copy to remove: the chunk that reads the row's page later does not have it
// either), t empties the table.
RowCounts FoldMultiset(const std::vector<ChangeEvent>& events, const std::string& table) {
  RowCounts rows;
  auto of = [](const model::Row& row) {
    const model::Value* pad = model::FindField(row, "pad");
    return std::make_tuple(
        model::FindField(row, "id")->Get<int64_t>(), model::FindField(row, "v")->Get<int64_t>(),
        pad == nullptr || pad->is_null() ? std::string() : pad->Get<std::string>());
  };
  auto remove = [&](const model::Row& row) {
    auto found = rows.find(of(row));
    if (found != rows.end() && --found->second == 0) rows.erase(found);
  };
  for (const ChangeEvent& event : events) {
    if (event.table.name != table) continue;
    switch (event.op) {
      case Operation::kTruncate:
        rows.clear();
        break;
      case Operation::kDelete:
        remove(*event.before);
        break;
      case Operation::kUpdate:
        EXPECT_TRUE(event.before.has_value()) << "an update without its old row";
        if (event.before.has_value()) remove(*event.before);
        rows[of(*event.after)]++;
        break;
      case Operation::kInsert:
      case Operation::kRead:
        rows[of(*event.after)]++;
        break;
      default:
        break;
    }
  }
  return rows;
}

RowCounts TableMultiset(const std::string& table) {
  RowCounts rows;
  auto sql = PgConnection::Connect(server->Url(), false);
  EXPECT_TRUE(sql.ok()) << sql.status().ToString();
  if (!sql.ok()) return rows;
  auto result = (*sql)->Query("SELECT id::text, v::text, coalesce(pad, '') FROM " + table);
  EXPECT_TRUE(result.ok()) << result.status().ToString();
  if (!result.ok()) return rows;
  for (const auto& row : result->rows) {
    rows[std::make_tuple(std::stoll(row[0].value_or("0")), std::stoll(row[1].value_or("0")),
                         row[2].value_or(""))]++;
  }
  return rows;
}

// Creates the keyless table `t` (REPLICA IDENTITY FULL) with `rows` distinct rows spread over
// pages, holes left by deletes (later inserts land on pages not read yet), and 20 rows in 3
// identical copies each (ids -1..-20) that nobody changes.
void CreateKeylessTable(const std::function<void(const std::string&)>& sql, const std::string& t,
                        int rows) {
  sql("CREATE TABLE " + t + " (id bigint, v bigint, pad text)");
  sql("ALTER TABLE " + t + " REPLICA IDENTITY FULL");
  sql("INSERT INTO " + t + " SELECT g, g, repeat('p', 60) FROM generate_series(1, " +
      std::to_string(rows) + ") g");
  sql("INSERT INTO " + t + " SELECT -(g % 20) - 1, 0, 'twin' FROM generate_series(0, 59) g");
  sql("DELETE FROM " + t + " WHERE id > 0 AND id % 5 = 0");
  sql("VACUUM " + t);  // the holes are free space for the writers' inserts
}

// Two writers on connections of their own changing the keyless table `t` of
// CreateKeylessTable: inserts of new rows, deletes, updates in place and updates to a longer
// row (its new version goes to another page). Every value written is new, so no two rows but
// the untouched twins are ever equal. Paced by the snapshot (`chunks`: chunks done so far): at
// most 300 writes plus 40 per chunk.
class KeylessWriters {
 public:
  KeylessWriters(std::string table, uint64_t seed, std::function<uint64_t()> chunks)
      : table_(std::move(table)), chunks_(std::move(chunks)) {
    for (size_t w = 0; w < 2; ++w) threads_.emplace_back([this, seed, w] { Run(seed + w); });
  }
  ~KeylessWriters() { Stop(); }
  void Stop() {
    stop_ = true;
    for (std::thread& thread : threads_) {
      if (thread.joinable()) thread.join();
    }
  }
  uint64_t writes() const { return writes_.load(); }

 private:
  void Run(uint64_t seed) {
    auto connected = PgConnection::Connect(server->Url(), false);
    EXPECT_TRUE(connected.ok()) << connected.status().ToString();
    if (!connected.ok()) return;
    std::mt19937_64 random(seed);
    const std::string& t = table_;
    while (!stop_.load()) {
      if (writes_.load() >= 300 + 40 * chunks_()) {
        std::this_thread::sleep_for(milliseconds(2));  // pacing, not waiting for a result
        continue;
      }
      std::string id = std::to_string(random() % 3200 + 1);
      std::string value = std::to_string(unique_++);
      std::string statement;
      switch (random() % 4) {
        case 0:
          statement = "INSERT INTO " + t + " VALUES (" + value + ", " + value + ", 'new')";
          break;
        case 1:
          statement = "DELETE FROM " + t + " WHERE id = " + id;
          break;
        case 2:
          statement =
              "UPDATE " + t + " SET v = " + value + ", pad = repeat('m', 400) WHERE id = " + id;
          break;
        default:
          statement = "UPDATE " + t + " SET v = " + value + " WHERE id = " + id;
          break;
      }
      Status done = (*connected)->Execute(statement);
      EXPECT_TRUE(done.ok()) << statement << ": " << done.ToString();
      writes_++;
    }
  }

  std::string table_;
  std::function<uint64_t()> chunks_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> writes_{0};
  std::atomic<int64_t> unique_{1000000};
  std::vector<std::thread> threads_;
};

// Expects the log folded as a multiset (from its start) to equal the keyless table `t` of
// CreateKeylessTable, its 20 untouched rows in 3 copies each, every read marked incremental.
// Returns how many rows snapshots read.
size_t ExpectLogEqualsTable(const std::vector<ChangeEvent>& events, const std::string& t) {
  RowCounts folded = FoldMultiset(events, t);
  RowCounts table = TableMultiset(t);
  EXPECT_EQ(folded.size(), table.size());
  for (const auto& [row, copies] : table) {
    auto found = folded.find(row);
    EXPECT_EQ(found == folded.end() ? 0 : found->second, copies)
        << "row id=" << std::get<0>(row) << " v=" << std::get<1>(row);
  }
  for (const auto& [row, copies] : folded) {
    if (table.count(row) == 0) {
      ADD_FAILURE() << "row id=" << std::get<0>(row) << " v=" << std::get<1>(row) << " in the log "
                    << copies << " time(s), not in the table";
    }
  }
  for (int64_t twin = -20; twin <= -1; ++twin) {
    EXPECT_EQ(folded[std::make_tuple(twin, int64_t{0}, std::string("twin"))], 3) << twin;
  }
  size_t reads = 0;
  for (const ChangeEvent& event : events) {
    if (event.table.name == t && event.op == Operation::kRead) {
      EXPECT_EQ(event.source.snapshot, model::SnapshotMarker::kIncremental);
      ++reads;
    }
  }
  EXPECT_GT(reads, 0u);
  return reads;
}

// The DBLog property for a table without a key, read in ctid ranges: writers insert, update
// (in place and with a longer row that moves to another page) and delete while it is
// snapshotted; the log folded as a multiset equals the table, and the untouched identical rows
// are there in all their copies. Every image is unique except the untouched twins (an update
// or delete of one of several identical rows is ambiguous: docs/snapshots.md).
class KeylessDbLogPropertyTest : public IncrementalSnapshotTest,
                                 public ::testing::WithParamInterface<std::tuple<size_t, size_t>> {
};

TEST_P(KeylessDbLogPropertyTest, LogFoldedAsAMultisetEqualsTheTable) {
  uint64_t seed = TestSeed();
  SCOPED_TRACE("EDDY_TEST_SEED=" + std::to_string(seed));
  std::string t = "k_" + name_;
  CreateKeylessTable([this](const std::string& sql) { Sql(sql); }, t, 3000);
  Sql("CREATE TABLE marker_" + name_ + " (id bigint PRIMARY KEY)");
  const auto [chunk_rows, parallelism] = GetParam();
  PostgresCaptureOptions options = Options({"public." + t, "public.marker_" + name_}, chunk_rows);
  options.snapshot_parallelism = parallelism;
  StartCapture(options);
  KeylessWriters writers(t, seed, [this] { return capture_->progress().incremental_chunks; });
  WaitSnapshotState("complete", seconds(120));
  writers.Stop();
  EXPECT_GT(writers.writes(), 0u);
  WaitCaughtUp();
  std::vector<ChangeEvent> events = ReadAll();
  size_t reads = ExpectLogEqualsTable(events, t);
  if (parallelism > 1) {
    // The table was cut into page ranges, each read to its end.
    auto bytes = io::DefaultFileSystem()->ReadFile(dir_ + "/state/incremental_snapshot");
    ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
    auto state = DecodeIncrementalSnapshotState(*bytes);
    ASSERT_TRUE(state.ok()) << state.status().ToString();
    size_t ranges = 0;
    for (const TableSnapshotProgress& entry : state->tables) {
      if (entry.table != "public." + t) continue;
      ++ranges;
      EXPECT_EQ(entry.state, TableSnapshotState::kDone);
      EXPECT_EQ(entry.last_key, entry.upper_key);
    }
    EXPECT_EQ(ranges, parallelism);
  }
  std::cout << "chunk_rows=" << chunk_rows << " parallelism=" << parallelism
            << " writes=" << writers.writes() << " reads=" << reads << " events=" << events.size()
            << " seed=" << seed << std::endl;
}

// Chunk sizes at parallelism 1, then parallelism 3: page ranges read at once, each chunk
// between its own watermarks.
INSTANTIATE_TEST_SUITE_P(ChunkSizes, KeylessDbLogPropertyTest,
                         ::testing::Values(std::make_tuple(60, 1), std::make_tuple(500, 1),
                                           std::make_tuple(60, 3)));

// On demand (`eddy snapshot`, a signal): a table without a key is planned in ctid ranges
// against a snapshot a temporary replication slot exports at a point of the stream. The
// capture streams without an initial snapshot (no_data), so the log holds none of the table's
// rows before that point; writers change the table while it is read; the log folded as a
// multiset equals the table, and the temporary slot is gone.
TEST_F(IncrementalSnapshotTest, KeylessOnDemandSnapshot) {
  uint64_t seed = TestSeed();
  SCOPED_TRACE("EDDY_TEST_SEED=" + std::to_string(seed));
  std::string t = "k_" + name_;
  CreateKeylessTable([this](const std::string& sql) { Sql(sql); }, t, 3000);
  Sql("CREATE TABLE marker_" + name_ + " (id bigint PRIMARY KEY)");
  PostgresCaptureOptions options = Options({"public." + t, "public.marker_" + name_}, 80);
  options.snapshot_mode = SnapshotMode::kNoData;
  StartCapture(options);
  WaitStreaming();
  WaitCaughtUp();
  capture_->RequestSnapshot({"request:keyless", {"public." + t}, {}});
  // The writers start once the table is planned (its rows before that point are no change).
  auto deadline = std::chrono::steady_clock::now() + seconds(60);
  bool planned = false;
  while (!planned && std::chrono::steady_clock::now() < deadline) {
    auto bytes = io::DefaultFileSystem()->ReadFile(dir_ + "/state/incremental_snapshot");
    if (bytes.ok()) {
      auto state = DecodeIncrementalSnapshotState(*bytes);
      ASSERT_TRUE(state.ok()) << state.status().ToString();
      for (const TableSnapshotProgress& entry : state->tables) {
        ASSERT_NE(entry.state, TableSnapshotState::kSkipped) << entry.reason;
        planned = planned || entry.ctid();
      }
    }
    if (!planned) capture_->WaitUntilFinished(milliseconds(20));
  }
  ASSERT_TRUE(planned) << "the table was not planned in ctid ranges";
  KeylessWriters writers(t, seed, [this] { return capture_->progress().incremental_chunks; });
  WaitSnapshotState("complete", seconds(120));
  writers.Stop();
  EXPECT_GT(writers.writes(), 0u);
  WaitCaughtUp();
  size_t reads = ExpectLogEqualsTable(ReadAll(), t);
  std::cout << "writes=" << writers.writes() << " reads=" << reads << " seed=" << seed << std::endl;
  auto sql = PgConnection::Connect(server->Url(), false);
  ASSERT_TRUE(sql.ok());
  auto slots = (*sql)->Query(
      "SELECT count(*)::text FROM pg_replication_slots WHERE slot_name LIKE 'eddy_snapshot_%'");
  ASSERT_TRUE(slots.ok()) << slots.status().ToString();
  EXPECT_EQ(slots->rows[0][0].value_or(""), "0");
}

// kill -9 in the middle of a ctid-range snapshot, a few times: each run resumes at the last
// chunk (page range) the log holds, and in the end every row is in the log exactly once.
TEST_F(IncrementalSnapshotTest, KeylessKillNineResumesAtTheLastPageRange) {
  uint64_t seed = TestSeed();
  SCOPED_TRACE("EDDY_TEST_SEED=" + std::to_string(seed));
  std::mt19937_64 random(seed);
  std::string t = "k_" + name_;
  CreateKeylessTable([this](const std::string& sql) { Sql(sql); }, t, 4000);
  Sql("CREATE TABLE marker_" + name_ + " (id bigint PRIMARY KEY)");
  PostgresCaptureOptions options = Options({"public." + t, "public.marker_" + name_}, 60);
  size_t previous_rows = 0;
  auto reads = [&]() {
    RowCounts counts;
    for (const ChangeEvent& event : ReadAll()) {
      if (event.table.name != t || event.op != Operation::kRead) continue;
      const model::Row& row = *event.after;
      counts[std::make_tuple(model::FindField(row, "id")->Get<int64_t>(),
                             model::FindField(row, "v")->Get<int64_t>(),
                             model::FindField(row, "pad")->Get<std::string>())]++;
    }
    return counts;
  };
  for (int run = 0; run < 3; ++run) {
    ASSERT_NO_FATAL_FAILURE(RunChildUntilKilled(options, static_cast<int>(random() % 4) + 2));
    RowCounts counts = reads();
    size_t total = 0;
    for (const auto& [row, copies] : counts) {
      // Each distinct row once; the identical twins in their 3 copies at most.
      ASSERT_LE(copies, std::get<0>(row) > 0 ? 1 : 3)
          << "run " << run << " id " << std::get<0>(row);
      total += static_cast<size_t>(copies);
    }
    EXPECT_GT(total, previous_rows) << "run " << run;
    previous_rows = total;
  }
  StartCapture(options);
  WaitSnapshotState("complete");
  WaitCaughtUp();
  EXPECT_EQ(reads(), TableMultiset(t));
  EXPECT_EQ(FoldMultiset(ReadAll(), t), TableMultiset(t));
}

// The DBLog property: writers insert, update (also the key) and delete in the table while it is
// snapshotted; the log folded by key equals the table afterwards.
class DbLogPropertyTest : public IncrementalSnapshotTest,
                          public ::testing::WithParamInterface<std::tuple<size_t, size_t>> {};

TEST_P(DbLogPropertyTest, LogFoldedByKeyEqualsTheTable) {
  uint64_t seed = TestSeed();
  SCOPED_TRACE("EDDY_TEST_SEED=" + std::to_string(seed));
  std::string t = "t_" + name_;
  Sql("CREATE TABLE " + t + " (id bigint PRIMARY KEY, v bigint NOT NULL)");
  Sql("CREATE TABLE marker_" + name_ + " (id bigint PRIMARY KEY)");
  Sql("INSERT INTO " + t + " SELECT g, g FROM generate_series(1, 2000) g");
  testing::RandomWriters::Options workload;
  workload.table = t;
  workload.seed = seed;
  workload.connect = []() -> Result<testing::RandomWriters::Execute> {
    EDDY_ASSIGN_OR_RETURN(std::unique_ptr<PgConnection> sql,
                          PgConnection::Connect(server->Url(), false));
    std::shared_ptr<PgConnection> shared(std::move(sql));
    return testing::RandomWriters::Execute(
        [shared](const std::string& statement) { return shared->Execute(statement); });
  };
  workload.insert_if_absent = [](const std::string& table, const std::string& id) {
    return "INSERT INTO " + table + " VALUES (" + id + ", 1) ON CONFLICT DO NOTHING";
  };
  // Keys stay in 1..4000 (the snapshot's end is reachable whatever the writers do); the writers
  // run until the snapshot is complete.
  testing::RandomWriters writers(workload);
  const auto [chunk_rows, parallelism] = GetParam();
  PostgresCaptureOptions options = Options({"public." + t, "public.marker_" + name_}, chunk_rows);
  options.snapshot_parallelism = parallelism;
  // Chunks larger than this go to the log in parts of a transaction (here 128 and 1000).
  options.append_part_records = 100;
  StartCapture(options);
  WaitSnapshotState("complete", seconds(120));
  writers.Stop();
  EXPECT_GT(writers.writes(), 0u);
  WaitCaughtUp();
  std::vector<ChangeEvent> events = ReadAll();
  std::map<int64_t, int64_t> folded = Fold(events, t);
  std::map<int64_t, int64_t> table = TableRows(t);
  EXPECT_EQ(folded.size(), table.size());
  EXPECT_TRUE(folded == table) << "the log folded by key differs from the table";
  for (const auto& [id, count] : ReadCounts(events, t)) EXPECT_EQ(count, 1) << "id " << id;
  std::cout << "chunk_rows=" << chunk_rows << " parallelism=" << parallelism
            << " writes=" << writers.writes() << " events=" << events.size() << " seed=" << seed
            << std::endl;
}

// Chunk sizes at parallelism 1, then parallelism 2 and 4 (key ranges and chunks in flight at
// once, each between its own watermarks).
INSTANTIATE_TEST_SUITE_P(ChunkSizes, DbLogPropertyTest,
                         ::testing::Values(std::make_tuple(25, 1), std::make_tuple(128, 1),
                                           std::make_tuple(1000, 1), std::make_tuple(50, 2),
                                           std::make_tuple(50, 4)));

// kill -9 while chunks are being appended, a few times: each run resumes at the last chunk the
// log holds, and in the end every row is in the log exactly once.
class KillNineTest : public IncrementalSnapshotTest,
                     public ::testing::WithParamInterface<size_t> {};

// With parallelism 3 the table is split into key ranges; each range resumes at its own last
// chunk in the log.
TEST_P(KillNineTest, KillNineMidSnapshotResumesAtTheLastChunk) {
  uint64_t seed = TestSeed();
  SCOPED_TRACE("EDDY_TEST_SEED=" + std::to_string(seed));
  std::mt19937_64 random(seed);
  std::string t = "t_" + name_;
  Sql("CREATE TABLE " + t + " (id bigint PRIMARY KEY, v bigint NOT NULL)");
  Sql("CREATE TABLE marker_" + name_ + " (id bigint PRIMARY KEY)");
  // 100 chunks: chunks no longer wait on each other, so a random kill must come early for the
  // next run to find chunks left to crash on.
  Sql("INSERT INTO " + t + " SELECT g, g FROM generate_series(1, 5000) g");
  PostgresCaptureOptions options = Options({"public." + t, "public.marker_" + name_}, 50);
  options.snapshot_parallelism = GetParam();
  // Each 50-row chunk is one log transaction in four parts, so the random kills also land
  // between a chunk's parts (nothing of such a chunk may be in the log after the restart).
  options.append_part_records = 16;
  size_t previous_rows = 0;
  for (int run = 0; run < 4; ++run) {
    // A random kill can come after the last chunk (a fast build snapshots the 5,000 rows in
    // about 200 ms): with every row in the log there is no chunk left to crash on. The first
    // run always crashes after its n-th chunk, so at least one crash lands mid-snapshot.
    if (previous_rows == 5000) break;
    // Crash after the n-th chunk of this run is durable, or (odd runs) at a random moment.
    int crash_after = static_cast<int>(random() % 5) + 2;
    std::optional<milliseconds> kill_after;
    if (run % 2 == 1) kill_after = milliseconds(50 + random() % 250);
    ASSERT_NO_FATAL_FAILURE(RunChildUntilKilled(options, crash_after, kill_after));
    std::map<int64_t, int> counts = ReadCounts(ReadAll(), t);
    for (const auto& [id, count] : counts) ASSERT_EQ(count, 1) << "run " << run << " id " << id;
    EXPECT_GE(counts.size(), previous_rows) << "run " << run;
    previous_rows = counts.size();
  }
  EXPECT_GT(previous_rows, 0u) << "no chunk reached the log before the crashes";
  StartCapture(options);
  WaitSnapshotState("complete");
  WaitCaughtUp();
  std::map<int64_t, int> counts = ReadCounts(ReadAll(), t);
  ASSERT_EQ(counts.size(), 5000u);
  for (const auto& [id, count] : counts) EXPECT_EQ(count, 1) << "id " << id;
}

INSTANTIATE_TEST_SUITE_P(Parallelism, KillNineTest, ::testing::Values(1, 3));

TEST_F(IncrementalSnapshotTest, OnDemandWithConditionPauseResumeAndStop) {
  std::string t = "t_" + name_;
  std::string u = "u_" + name_;
  Sql("CREATE TABLE " + t + " (id bigint PRIMARY KEY, v bigint NOT NULL)");
  Sql("CREATE TABLE " + u + " (id bigint PRIMARY KEY, v bigint NOT NULL)");
  Sql("CREATE TABLE marker_" + name_ + " (id bigint PRIMARY KEY)");
  PostgresCaptureOptions options = Options({"public.*"}, 10);
  options.snapshot_type = SnapshotType::kBlocking;  // the initial snapshot finds empty tables
  StartCapture(options);
  WaitCaughtUp();
  Sql("INSERT INTO " + t + " SELECT g, g FROM generate_series(1, 200) g");
  Sql("INSERT INTO " + u + " SELECT g, g FROM generate_series(1, 500) g");

  // execute-snapshot with an additional condition: only the rows it selects are read.
  capture_->RequestSnapshot({"request:even", {t}, {{t, "id % 2 = 0"}}});
  WaitSnapshotState("complete");
  WaitCaughtUp();
  std::map<int64_t, int> counts = ReadCounts(ReadAll(), t);
  EXPECT_EQ(counts.size(), 100u);
  for (const auto& [id, count] : counts) EXPECT_EQ(id % 2, 0) << id;

  // Paused: no chunk is read while the stream goes on; resumed, every row is.
  capture_->RequestSnapshot({"request:all-u", {"public." + u}, {}});
  capture_->ControlSnapshot({SnapshotControl::Kind::kPause, "request:pause", {}});
  WaitSnapshotState("paused");
  WaitCaughtUp();
  size_t while_paused = ReadCounts(ReadAll(), u).size();
  EXPECT_LE(while_paused, 10u);  // at most the chunk that was in flight
  Sql("INSERT INTO " + t + " VALUES (100000, 1)");
  WaitCaughtUp();  // the capture streamed on
  EXPECT_EQ(ReadCounts(ReadAll(), u).size(), while_paused);
  capture_->ControlSnapshot({SnapshotControl::Kind::kResume, "request:resume", {}});
  WaitSnapshotState("complete");
  WaitCaughtUp();
  counts = ReadCounts(ReadAll(), u);
  EXPECT_EQ(counts.size(), 500u);
  for (const auto& [id, count] : counts) EXPECT_EQ(count, 1) << "id " << id;

  // Stopped while paused: the table is dropped from the snapshot, nothing more is read.
  std::string w = "w_" + name_;
  Sql("CREATE TABLE " + w + " (id bigint PRIMARY KEY, v bigint NOT NULL)");
  Sql("INSERT INTO " + w + " SELECT g, g FROM generate_series(1, 500) g");
  capture_->ControlSnapshot({SnapshotControl::Kind::kPause, "request:pause", {}});  // ignored
  capture_->RequestSnapshot({"request:w", {w}, {}});
  capture_->ControlSnapshot({SnapshotControl::Kind::kPause, "request:pause", {}});
  WaitSnapshotState("paused");
  capture_->ControlSnapshot({SnapshotControl::Kind::kStop, "request:stop", {"public." + w}});
  WaitSnapshotState("complete");
  WaitCaughtUp();
  size_t stopped = ReadCounts(ReadAll(), w).size();
  EXPECT_LE(stopped, 10u);
  Sql("INSERT INTO " + t + " VALUES (100001, 1)");
  WaitCaughtUp();
  EXPECT_EQ(ReadCounts(ReadAll(), w).size(), stopped);

  // A table outside the stream is refused (logged), the capture goes on.
  capture_->RequestSnapshot({"request:foreign", {"public.not_captured"}, {}});
  WaitCaughtUp();
  EXPECT_EQ(capture_->progress().state, CaptureState::kStreaming);
}

// Debezium's signal table: execute-snapshot with additional-conditions, pause and resume; a
// bad row is logged and ignored while capture goes on. Signal rows are not in the log.
TEST_F(IncrementalSnapshotTest, SignalTableDrivesSnapshots) {
  std::string t = "t_" + name_;
  std::string signals = "signal_" + name_;
  Sql("CREATE TABLE " + t + " (id bigint PRIMARY KEY, v bigint NOT NULL)");
  Sql("CREATE TABLE marker_" + name_ + " (id bigint PRIMARY KEY)");
  PostgresCaptureOptions options = Options({"public." + t, "public.marker_" + name_}, 20);
  options.snapshot_type = SnapshotType::kBlocking;
  options.signal_table = "public." + signals;  // created by the capture
  StartCapture(options);
  WaitCaughtUp();
  Sql("INSERT INTO " + t + " SELECT g, g FROM generate_series(1, 300) g");

  // Bad rows: unknown type, data that is not JSON, no tables. Each is logged and ignored.
  Sql("INSERT INTO " + signals +
      " VALUES ('bad-1', 'explode', '{}'), "
      "('bad-2', 'execute-snapshot', '{not json'), ('bad-3', 'execute-snapshot', "
      "'{\"data-collections\": []}')");
  Sql("INSERT INTO " + signals + " VALUES ('log-1', 'log', '{\"message\": \"hello\"}')");
  Sql("INSERT INTO " + signals +
      " VALUES ('ad-hoc-1', 'execute-snapshot', "
      "'{\"data-collections\": [\"public." +
      t +
      "\"], \"type\": \"incremental\", "
      "\"additional-conditions\": [{\"data-collection\": \"public." +
      t + "\", \"filter\": \"id <= 100\"}]}')");
  WaitSnapshotState("complete");
  WaitCaughtUp();
  std::vector<ChangeEvent> events = ReadAll();
  std::map<int64_t, int> counts = ReadCounts(events, t);
  EXPECT_EQ(counts.size(), 100u);
  EXPECT_EQ(counts.rbegin()->first, 100);
  for (const ChangeEvent& event : events) EXPECT_NE(event.table.name, signals);

  // pause-snapshot right after execute-snapshot, in one transaction: no chunk is read until
  // resume-snapshot.
  Sql("BEGIN; INSERT INTO " + signals +
      " VALUES ('ad-hoc-2', 'execute-snapshot', "
      "'{\"data-collections\": [\"" +
      t + "\"]}'); INSERT INTO " + signals + " VALUES ('pause-1', 'pause-snapshot', NULL); COMMIT");
  WaitSnapshotState("paused");
  WaitCaughtUp();
  EXPECT_EQ(ReadCounts(ReadAll(), t).size(), 100u);
  Sql("INSERT INTO " + signals + " VALUES ('resume-1', 'resume-snapshot', NULL)");
  WaitSnapshotState("complete");
  WaitCaughtUp();
  counts = ReadCounts(ReadAll(), t);
  EXPECT_EQ(counts.size(), 300u);
  EXPECT_EQ(counts[1], 2);  // read by both snapshots
  EXPECT_EQ(counts[300], 1);
  EXPECT_EQ(capture_->progress().state, CaptureState::kStreaming);
}

// `eddy snapshot` talks to the running capture through request files.
TEST_F(IncrementalSnapshotTest, RequestFilesAreAcceptedRejectedAndDone) {
  std::string t = "t_" + name_;
  Sql("CREATE TABLE " + t + " (id bigint PRIMARY KEY, v bigint NOT NULL)");
  Sql("CREATE TABLE marker_" + name_ + " (id bigint PRIMARY KEY)");
  PostgresCaptureOptions options = Options({"public." + t, "public.marker_" + name_}, 50);
  options.snapshot_type = SnapshotType::kBlocking;
  StartCapture(options);
  WaitCaughtUp();
  Sql("INSERT INTO " + t + " SELECT g, g FROM generate_series(1, 120) g");
  std::string requests = dir_ + "/state/snapshot-requests";
  std::filesystem::create_directories(requests);
  auto wait_for = [&](const std::string& path) {
    auto deadline = std::chrono::steady_clock::now() + seconds(30);
    while (std::chrono::steady_clock::now() < deadline && !std::filesystem::exists(path)) {
      ASSERT_NE(capture_->progress().state, CaptureState::kFailed);
      capture_->WaitUntilFinished(milliseconds(20));
    }
    ASSERT_TRUE(std::filesystem::exists(path)) << path;
  };
  {
    std::ofstream bad(requests + "/r1.request");
    bad << "{\"data-collections\": 5}";
  }
  wait_for(requests + "/r1.rejected");
  // The reason is written first, then the request removed: wait for both.
  auto removal_deadline = std::chrono::steady_clock::now() + seconds(30);
  while (std::chrono::steady_clock::now() < removal_deadline &&
         std::filesystem::exists(requests + "/r1.request")) {
    capture_->WaitUntilFinished(milliseconds(20));
  }
  EXPECT_FALSE(std::filesystem::exists(requests + "/r1.request"));
  {
    std::ofstream good(requests + "/r2.request");
    good << "{\"data-collections\": [\"public." + t +
                "\"], \"additional-conditions\": "
                "[{\"data-collection\": \"public." +
                t + "\", \"filter\": \"v > 20\"}]}";
  }
  wait_for(requests + "/r2.done");
  WaitCaughtUp();
  EXPECT_EQ(ReadCounts(ReadAll(), t).size(), 100u);
}

}  // namespace
}  // namespace eddy::source::postgres
