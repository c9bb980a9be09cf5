// Integration tests of MySQL/MariaDB incremental snapshots (DBLog watermarks in a watermark
// table) against a real MariaDB 10.11 (src/localdb): every row read in chunks while streaming;
// the DBLog property under concurrent writers (the log after snapshot + stream, folded by key
// with the last writer winning, equals the table) for several chunk sizes; kill -9 in the
// middle of the snapshot resumes at the last chunk with every row exactly once; the signal
// table (execute with additional-conditions, pause, resume, stop, bad rows); request files; a
// table without a primary key is named in the error; snapshot_parallelism (key ranges covering
// every row once, the DBLog property at parallelism 2 and 4, kill -9 with ranges, the parallel
// blocking snapshot as one consistent view). The log, folding and the writers are shared with
// the PostgreSQL test (source/incremental_snapshot_test_util.h).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <thread>
#include <tuple>

#include "base/sanitizer.h"
#include "localdb/local_mariadb.h"
#include "log/log_store.h"
#include "model/event_codec.h"
#include "source/incremental_snapshot_test_util.h"
#include "source/mysql/capture.h"
#include "source/mysql/snapshot.h"

namespace eddy::source::mysql {
namespace {

using model::ChangeEvent;
using model::Operation;
using std::chrono::milliseconds;
using std::chrono::seconds;

localdb::LocalMariadb* server = nullptr;
std::string capture_url;

using testing::TestSeed;

class MysqlIncrementalSnapshotTest : public ::testing::Test {
 public:
  static void SetUpTestSuite() {
    auto started = localdb::LocalMariadb::Start();
    ASSERT_TRUE(started.ok()) << started.status().ToString();
    server = started->release();
    auto url = server->CreateCaptureUser();
    ASSERT_TRUE(url.ok()) << url.status().ToString();
    capture_url = *url;
    // What the capture user needs for incremental snapshots besides capture: to create and
    // write the watermark and signal tables (docs/snapshots.md).
    Status granted = server->Execute("GRANT CREATE, INSERT, UPDATE ON *.* TO 'eddy_capture'@'%'");
    ASSERT_TRUE(granted.ok()) << granted.ToString();
  }
  static void TearDownTestSuite() {
    delete server;
    server = nullptr;
  }

 protected:
  void SetUp() override {
    ASSERT_NE(server, nullptr) << "MariaDB 10.11 did not start";
    name_ = testing::SanitizedTestName();
    db_ = "inc_" + name_;
    if (db_.size() > 60) db_ = db_.substr(0, 60);
    dir_ = std::filesystem::temp_directory_path() /
           ("eddy_myinc_" + std::to_string(::getpid()) + "_" + name_);
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    Sql("DROP DATABASE IF EXISTS " + db_);
    Sql("CREATE DATABASE " + db_ + " CHARACTER SET utf8mb4");
    Sql("CREATE TABLE " + db_ + ".marker (id bigint PRIMARY KEY)");
    OpenLog();
  }
  void TearDown() override {
    capture_.reset();
    log_.Close();
    std::filesystem::remove_all(dir_);
  }

  void OpenLog() { log_.Open(dir_); }
  std::vector<ChangeEvent> ReadAll() const { return log_.ReadAll(); }

  MysqlCaptureOptions Options(std::vector<std::string> tables, size_t chunk_rows) {
    MysqlCaptureOptions options;
    options.url = capture_url;
    // One replica id per test: a dump thread of a capture killed by an earlier test may still be
    // registered under its id for a moment.
    options.server_id = 4300 + static_cast<uint32_t>(std::hash<std::string>{}(name_) % 500);
    options.snapshot_mode = SnapshotMode::kInitial;
    options.snapshot_type = SnapshotType::kIncremental;
    options.snapshot_chunk_rows = chunk_rows;
    options.data_dir = dir_ + "/state";
    options.server_name = "test";
    options.tables = std::move(tables);
    options.tables.push_back(db_ + ".marker");
    options.watermark_table = db_ + ".eddy_watermark";
    options.heartbeat_period = milliseconds(500);
    options.reconnect_initial_backoff = milliseconds(50);
    options.reconnect_max_backoff = milliseconds(500);
    return options;
  }

  void StartCapture(MysqlCaptureOptions options) {
    auto capture = MysqlCapture::Start(std::move(options), log_.stream());
    ASSERT_TRUE(capture.ok()) << capture.status().ToString();
    capture_ = std::move(*capture);
  }

  static void Sql(const std::string& sql) {
    Status status = server->Execute(sql);
    ASSERT_TRUE(status.ok()) << sql << ": " << status.ToString();
  }

  void WaitSnapshotState(const std::string& state, seconds timeout = seconds(90)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      MysqlCaptureProgress progress = capture_->progress();
      if (progress.incremental_snapshot == state) return;
      ASSERT_NE(progress.state, CaptureState::kFailed) << progress.last_error;
      capture_->WaitUntilFinished(milliseconds(20));
    }
    FAIL() << "incremental snapshot did not reach " << state << "; it is "
           << capture_->progress().incremental_snapshot;
  }

  // Waits until the log holds every change committed so far (a marker row written now).
  void WaitCaughtUp() {
    static int marker = 0;
    int id = ++marker;
    Sql("INSERT INTO " + db_ + ".marker VALUES (" + std::to_string(id) + ")");
    auto deadline = std::chrono::steady_clock::now() + seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
      for (const ChangeEvent& event : ReadAll()) {
        if (event.table.name == "marker" && event.table.database == db_ && !event.key.empty() &&
            event.key[0].value.Get<int64_t>() == id) {
          return;
        }
      }
      ASSERT_NE(capture_->progress().state, CaptureState::kFailed)
          << capture_->progress().last_error;
      log_.WaitForData();
    }
    std::string seen;
    for (const ChangeEvent& event : ReadAll()) {
      seen += " " + event.table.QualifiedName() + ":" + std::to_string(static_cast<int>(event.op)) +
              (event.key.empty() ? "" : "=" + event.key[0].value.DebugString());
    }
    FAIL() << "the marker row " << id << " never reached the log; the log holds" << seen;
  }

  // The table `table` of this test's database as the log tells it (last writer wins) and its
  // snapshot reads per key.
  std::map<int64_t, int64_t> Fold(const std::vector<ChangeEvent>& events,
                                  const std::string& table) const {
    return testing::Fold(
        events, [&](const model::TableId& id) { return id.name == table && id.database == db_; });
  }
  std::map<int64_t, int> ReadCounts(const std::vector<ChangeEvent>& events,
                                    const std::string& table) const {
    return testing::ReadCounts(
        events, [&](const model::TableId& id) { return id.name == table && id.database == db_; });
  }

  std::map<int64_t, int64_t> TableRows(const std::string& table) {
    std::map<int64_t, int64_t> rows;
    auto session = server->Connect();
    EXPECT_TRUE(session.ok()) << session.status().ToString();
    if (!session.ok()) return rows;
    auto result = session->Query("SELECT id, v FROM " + db_ + "." + table);
    EXPECT_TRUE(result.ok()) << result.status().ToString();
    if (!result.ok()) return rows;
    for (const auto& row : result->rows) {
      rows[std::stoll(row[0].value_or("0"))] = std::stoll(row[1].value_or("0"));
    }
    return rows;
  }

  // The DBLog property test's writers on `table`, each on a session of its own.
  static testing::RandomWriters::Options Writers(const std::string& table, uint64_t seed) {
    testing::RandomWriters::Options workload;
    workload.table = table;
    workload.seed = seed;
    workload.max_writes = 200000;
    workload.connect = []() -> Result<testing::RandomWriters::Execute> {
      EDDY_ASSIGN_OR_RETURN(localdb::MariadbSession session, server->Connect());
      auto shared = std::make_shared<localdb::MariadbSession>(std::move(session));
      return testing::RandomWriters::Execute(
          [shared](const std::string& statement) { return shared->Execute(statement); });
    };
    workload.insert_if_absent = [](const std::string& table_name, const std::string& id) {
      return "INSERT IGNORE INTO " + table_name + " VALUES (" + id + ", 1)";
    };
    return workload;
  }

  // INSERT ... SELECT of `rows` rows (id 1..rows, v = id * factor) without a sequence engine.
  void Fill(const std::string& table, int rows, int factor = 1) {
    std::string values;
    for (int id = 1; id <= rows; ++id) {
      values += (values.empty() ? "" : ",") + std::string("(") + std::to_string(id) + "," +
                std::to_string(id * factor) + ")";
      if (id % 1000 == 0 || id == rows) {
        Sql("INSERT INTO " + db_ + "." + table + " VALUES " + values);
        values.clear();
      }
    }
  }

  std::string name_;
  std::string db_;
  std::string dir_;
  testing::TestLog log_;
  std::unique_ptr<MysqlCapture> capture_;
};

TEST_F(MysqlIncrementalSnapshotTest, ReadsEveryRowInChunksWhileStreaming) {
  Sql("CREATE TABLE " + db_ + ".t (id bigint PRIMARY KEY, v bigint NOT NULL)");
  Fill("t", 2500, 10);
  StartCapture(Options({db_ + ".t"}, 300));
  WaitSnapshotState("complete");
  WaitCaughtUp();
  std::vector<ChangeEvent> events = ReadAll();
  std::map<int64_t, int> counts = ReadCounts(events, "t");
  ASSERT_EQ(counts.size(), 2500u);
  for (const auto& [id, count] : counts) EXPECT_EQ(count, 1) << "id " << id;
  std::set<std::string> transactions;
  for (const ChangeEvent& event : events) {
    if (event.op == Operation::kRead) transactions.insert(event.transaction_id);
    EXPECT_NE(event.table.name, "eddy_watermark");  // watermarks are never logged
  }
  EXPECT_EQ(transactions.size(), 9u);  // ceil(2500 / 300) chunks
  EXPECT_EQ(capture_->progress().state, CaptureState::kStreaming);
  EXPECT_EQ(Fold(events, "t"), TableRows("t"));
}

TEST_F(MysqlIncrementalSnapshotTest, CompositeKeyIsReadInKeyOrder) {
  Sql("CREATE TABLE " + db_ + ".c (a int, b varchar(10), v bigint, PRIMARY KEY (a, b))");
  std::string values;
  for (int a = 1; a <= 30; ++a) {
    for (const char* b : {"x", "y", "z"}) {
      values += (values.empty() ? "" : ",") + std::string("(") + std::to_string(a) + ",'" + b +
                "'," + std::to_string(a) + ")";
    }
  }
  Sql("INSERT INTO " + db_ + ".c VALUES " + values);
  StartCapture(Options({db_ + ".c"}, 7));
  WaitSnapshotState("complete");
  WaitCaughtUp();
  std::set<std::pair<int64_t, std::string>> keys;
  size_t reads = 0;
  for (const ChangeEvent& event : ReadAll()) {
    if (event.table.name != "c" || event.op != Operation::kRead) continue;
    ++reads;
    keys.insert({event.key[0].value.Get<int64_t>(), event.key[1].value.Get<std::string>()});
  }
  EXPECT_EQ(reads, 90u);
  EXPECT_EQ(keys.size(), 90u);
}

// snapshot_parallelism: a large table and a composite-key table are split into key ranges
// (one progress entry per range) read over several connections at once; every row is read
// exactly once and the log equals the table.
TEST_F(MysqlIncrementalSnapshotTest, ParallelChunksOfOneTableCoverEveryRowOnce) {
  Sql("CREATE TABLE " + db_ + ".t (id bigint PRIMARY KEY, v bigint NOT NULL)");
  Fill("t", 3000, 10);
  MysqlCaptureOptions options = Options({db_ + ".t"}, 200);
  options.snapshot_parallelism = 4;
  StartCapture(options);
  WaitSnapshotState("complete");
  WaitCaughtUp();
  std::vector<ChangeEvent> events = ReadAll();
  std::map<int64_t, int> counts = ReadCounts(events, "t");
  ASSERT_EQ(counts.size(), 3000u);
  for (const auto& [id, count] : counts) EXPECT_EQ(count, 1) << "id " << id;
  EXPECT_EQ(Fold(events, "t"), TableRows("t"));
  std::ifstream file(dir_ + "/state/" + std::string(kIncrementalSnapshotFile), std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  auto state = DecodeIncrementalSnapshotState(bytes);
  ASSERT_TRUE(state.ok()) << state.status().ToString();
  size_t ranges = 0;
  for (const TableSnapshotProgress& entry : state->tables) {
    if (entry.table == db_ + ".t") ++ranges;
  }
  EXPECT_EQ(ranges, 4u);  // 3000 rows, chunks of 200, parallelism 4
}

// The composite key split into ranges at a small chunk size: (a, b) boundaries in the middle
// of an `a` group are exercised.
TEST_F(MysqlIncrementalSnapshotTest, ParallelRangesOfACompositeKey) {
  Sql("CREATE TABLE " + db_ + ".c (a int, b varchar(10), v bigint, PRIMARY KEY (a, b))");
  std::string values;
  for (int a = 1; a <= 30; ++a) {
    for (const char* b : {"x", "y", "z"}) {
      values += (values.empty() ? "" : ",") + std::string("(") + std::to_string(a) + ",'" + b +
                "'," + std::to_string(a) + ")";
    }
  }
  Sql("INSERT INTO " + db_ + ".c VALUES " + values);
  MysqlCaptureOptions options = Options({db_ + ".c"}, 7);
  options.snapshot_parallelism = 4;  // 90 rows: 4 ranges of 22 rows, boundaries inside groups
  StartCapture(options);
  WaitSnapshotState("complete");
  WaitCaughtUp();
  std::map<std::pair<int64_t, std::string>, int> keys;
  for (const ChangeEvent& event : ReadAll()) {
    if (event.table.name != "c" || event.op != Operation::kRead) continue;
    keys[{event.key[0].value.Get<int64_t>(), event.key[1].value.Get<std::string>()}]++;
  }
  EXPECT_EQ(keys.size(), 90u);
  for (const auto& [key, count] : keys) EXPECT_EQ(count, 1) << key.first << key.second;
}

// snapshot_parallelism with the blocking snapshot: three connections on one consistent view
// read key ranges of a large table, a composite-key table and a keyless one while writers change
// the large table. Every row is read at most once (each exactly once for the untouched
// tables), the snapshot is one log transaction, and the log (snapshot, then the stream from the
// snapshot's position) folded by key equals the table: the connections' views are one cut.
TEST_F(MysqlIncrementalSnapshotTest, ParallelBlockingSnapshotIsOneConsistentView) {
  uint64_t seed = TestSeed();
  SCOPED_TRACE("EDDY_TEST_SEED=" + std::to_string(seed));
  Sql("CREATE TABLE " + db_ + ".t (id bigint PRIMARY KEY, v bigint NOT NULL)");
  Fill("t", 3000);
  Sql("CREATE TABLE " + db_ + ".c (a int, b varchar(10), v bigint, PRIMARY KEY (a, b))");
  std::string values;
  for (int a = 1; a <= 100; ++a) {
    for (const char* b : {"x", "y", "z"}) {
      values += (values.empty() ? "" : ",") + std::string("(") + std::to_string(a) + ",'" + b +
                "'," + std::to_string(a) + ")";
    }
  }
  Sql("INSERT INTO " + db_ + ".c VALUES " + values);
  Sql("CREATE TABLE " + db_ + ".nokey (id bigint, v bigint)");
  Fill("nokey", 500);
  testing::RandomWriters writers(Writers(db_ + ".t", seed));
  auto deadline = std::chrono::steady_clock::now() + seconds(30);
  while (writers.writes() < 50 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  MysqlCaptureOptions options = Options({db_ + ".t", db_ + ".c", db_ + ".nokey"}, 200);
  options.snapshot_type = SnapshotType::kBlocking;
  options.snapshot_parallelism = 3;
  StartCapture(options);
  deadline = std::chrono::steady_clock::now() + seconds(60);
  while (capture_->progress().state != CaptureState::kStreaming &&
         std::chrono::steady_clock::now() < deadline) {
    ASSERT_NE(capture_->progress().state, CaptureState::kFailed) << capture_->progress().last_error;
    capture_->WaitUntilFinished(milliseconds(20));
  }
  writers.Stop();
  WaitCaughtUp();
  std::vector<ChangeEvent> events = ReadAll();
  std::set<std::string> transactions;
  std::map<int64_t, int> t_reads;
  std::map<std::pair<int64_t, std::string>, int> c_reads;
  size_t nokey_reads = 0;
  size_t first = 0;
  size_t last = 0;
  for (const ChangeEvent& event : events) {
    if (event.op != Operation::kRead) continue;
    transactions.insert(event.transaction_id);
    first += event.source.snapshot == model::SnapshotMarker::kFirst ? 1 : 0;
    last += event.source.snapshot == model::SnapshotMarker::kLast ? 1 : 0;
    if (event.table.name == "t") t_reads[event.key[0].value.Get<int64_t>()]++;
    if (event.table.name == "c") {
      c_reads[{event.key[0].value.Get<int64_t>(), event.key[1].value.Get<std::string>()}]++;
    }
    if (event.table.name == "nokey") ++nokey_reads;
  }
  EXPECT_EQ(transactions.size(), 1u);  // one consistent snapshot transaction
  EXPECT_EQ(first, 1u);
  EXPECT_EQ(last, 1u);
  for (const auto& [id, count] : t_reads) EXPECT_EQ(count, 1) << "id " << id;
  EXPECT_EQ(c_reads.size(), 300u);
  for (const auto& [key, count] : c_reads) EXPECT_EQ(count, 1) << key.first << key.second;
  EXPECT_EQ(nokey_reads, 500u);
  std::map<int64_t, int64_t> folded = Fold(events, "t");
  std::map<int64_t, int64_t> table = TableRows("t");
  EXPECT_EQ(folded.size(), table.size());
  EXPECT_TRUE(folded == table) << "the snapshot and the stream differ from the table";
  std::cout << "writes=" << writers.writes() << " events=" << events.size() << " seed=" << seed
            << std::endl;
}

// The blocking snapshot is one log transaction written in parts (here of snapshot_chunk_size = 7
// records; at most kSnapshotPartRecords): nothing of it is visible before it ends, so a snapshot
// cancelled after several parts adds nothing to the log (a crash is the same: recovery truncates
// the uncommitted parts), and one that finishes adds every row once, first and last marked.
// Sequential and parallel.
TEST_F(MysqlIncrementalSnapshotTest, BlockingSnapshotIsVisibleOnlyWhenItEnds) {
  Sql("CREATE TABLE " + db_ + ".a (id bigint PRIMARY KEY, v bigint NOT NULL)");
  Fill("a", 50);
  Sql("CREATE TABLE " + db_ + ".b (id bigint PRIMARY KEY, v bigint NOT NULL)");
  Fill("b", 50);
  for (size_t parallelism : {size_t{1}, size_t{2}}) {
    SCOPED_TRACE("parallelism " + std::to_string(parallelism));
    SnapshotOptions options;
    options.endpoint = server->Endpoint();
    options.tables = {db_ + ".a", db_ + ".b"};
    options.chunk_rows = 7;
    options.server_name = "test";
    options.parallelism = parallelism;
    // A later binlog position than the previous iteration's snapshot, which the log would
    // otherwise discard as a duplicate (its end position is not above the log's).
    Sql("INSERT INTO " + db_ + ".marker VALUES (" + std::to_string(parallelism) + ")");
    const size_t before = ReadAll().size();
    Snapshotter cancelled(options, log_.stream());
    uint64_t rows_at_cancel = 0;
    Result<MysqlPosition> interrupted = cancelled.Run([&](const SnapshotProgress& progress) {
      if (rows_at_cancel == 0 && progress.rows >= 21) {
        rows_at_cancel = progress.rows;
        cancelled.Cancel();
      }
    });
    EXPECT_FALSE(interrupted.ok());
    EXPECT_GE(rows_at_cancel, 21u);  // at least three parts were written before the cancel
    EXPECT_EQ(ReadAll().size(), before) << "a part of the interrupted snapshot is visible";

    Snapshotter whole(options, log_.stream());
    Result<MysqlPosition> finished = whole.Run([](const SnapshotProgress&) {});
    ASSERT_TRUE(finished.ok()) << finished.status().ToString();
    std::vector<ChangeEvent> events = ReadAll();
    ASSERT_EQ(events.size(), before + 100);
    std::map<std::pair<std::string, int64_t>, int> reads;
    size_t first = 0;
    size_t last = 0;
    for (size_t i = before; i < events.size(); ++i) {
      const ChangeEvent& event = events[i];
      EXPECT_EQ(event.op, Operation::kRead);
      EXPECT_EQ(event.ordinal_in_transaction, i - before);
      reads[{event.table.name, event.key[0].value.Get<int64_t>()}]++;
      first += event.source.snapshot == model::SnapshotMarker::kFirst ? 1 : 0;
      last += event.source.snapshot == model::SnapshotMarker::kLast ? 1 : 0;
    }
    EXPECT_EQ(reads.size(), 100u);
    for (const auto& [key, count] : reads) EXPECT_EQ(count, 1) << key.first << " " << key.second;
    EXPECT_EQ(first, 1u);
    EXPECT_EQ(last, 1u);
  }
}

TEST_F(MysqlIncrementalSnapshotTest, TableWithoutPrimaryKeyIsNamed) {
  Sql("CREATE TABLE " + db_ + ".nokey (id bigint, v bigint)");
  StartCapture(Options({db_ + ".nokey"}, 100));
  ASSERT_TRUE(capture_->WaitUntilFinished(seconds(60)));
  Status status = capture_->Stop();
  EXPECT_EQ(status.code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(status.message().find(db_ + ".nokey"), std::string::npos) << status.ToString();
  EXPECT_NE(status.message().find("primary key"), std::string::npos) << status.ToString();
  EXPECT_NE(status.message().find("snapshot_type"), std::string::npos) << status.ToString();
}

// Bad settings are refused at Start, naming the setting and the shape it needs.
TEST_F(MysqlIncrementalSnapshotTest, BadSettingsAreNamed) {
  MysqlCaptureOptions options = Options({db_ + ".t"}, 100);
  options.watermark_table = "no_database";
  auto bad = MysqlCapture::Start(options, log_.stream());
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("source.watermark_table 'no_database' is not of the form "
                                        "database.table"),
            std::string::npos)
      << bad.status().ToString();
  options = Options({db_ + ".t"}, 100);
  options.signal_table = "a.b.c";
  bad = MysqlCapture::Start(options, log_.stream());
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("source.signal_table"), std::string::npos);
  options = Options({db_ + ".t"}, 100);
  options.snapshot_mode = SnapshotMode::kInitialOnly;
  bad = MysqlCapture::Start(options, log_.stream());
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("initial_only"), std::string::npos);
}

// The DBLog property: writers insert, update (also the key) and delete in the table while it is
// snapshotted; the log folded by key equals the table afterwards.
class MysqlDbLogPropertyTest : public MysqlIncrementalSnapshotTest,
                               public ::testing::WithParamInterface<std::tuple<size_t, size_t>> {};

TEST_P(MysqlDbLogPropertyTest, LogFoldedByKeyEqualsTheTable) {
  uint64_t seed = TestSeed();
  SCOPED_TRACE("EDDY_TEST_SEED=" + std::to_string(seed));
  std::string t = db_ + ".t";
  Sql("CREATE TABLE " + t + " (id bigint PRIMARY KEY, v bigint NOT NULL)");
  // Under the sanitizers a chunk's round trips take seconds (2,000 rows at chunk size 25 took
  // 251 s under ASan): 500 rows still give 20 chunks at the smallest size.
  Fill("t", static_cast<int>(ScaledForSanitizers(2000, 500)));
  // The writers start with the capture and write until the snapshot is complete.
  const auto [chunk_rows, parallelism] = GetParam();
  MysqlCaptureOptions options = Options({t}, chunk_rows);
  options.snapshot_parallelism = parallelism;
  StartCapture(options);
  testing::RandomWriters::Options workload = Writers(t, seed);
  // 500 writes, then 100 more for each finished chunk: writes overlap every chunk's window
  // without burying the watermarks under a backlog the capture cannot work off in time.
  workload.budget = [this] { return 500 + 100 * capture_->progress().incremental_chunks; };
  testing::RandomWriters writers(std::move(workload));
  WaitSnapshotState("complete", seconds(150));
  writers.Stop();
  EXPECT_GT(writers.writes(), 0u);
  WaitCaughtUp();
  std::vector<ChangeEvent> events = ReadAll();
  std::map<int64_t, int64_t> folded = Fold(events, "t");
  std::map<int64_t, int64_t> table = TableRows("t");
  EXPECT_EQ(folded.size(), table.size());
  EXPECT_TRUE(folded == table) << "the log folded by key differs from the table";
  for (const auto& [id, count] : ReadCounts(events, "t")) EXPECT_EQ(count, 1) << "id " << id;
  size_t streamed = 0;
  for (const ChangeEvent& event : events) streamed += event.op != Operation::kRead ? 1 : 0;
  EXPECT_GT(streamed, 0u) << "no write ran while the snapshot did";
  std::cout << "chunk_rows=" << chunk_rows << " parallelism=" << parallelism
            << " writes=" << writers.writes() << " streamed=" << streamed
            << " events=" << events.size() << " seed=" << seed << std::endl;
}

// Chunk sizes at parallelism 1, then parallelism 2 and 4 (key ranges and chunks in flight at
// once, each between its own watermarks).
INSTANTIATE_TEST_SUITE_P(ChunkSizes, MysqlDbLogPropertyTest,
                         ::testing::Values(std::make_tuple(25, 1), std::make_tuple(128, 1),
                                           std::make_tuple(1000, 1), std::make_tuple(50, 2),
                                           std::make_tuple(50, 4)));

// kill -9 at random moments while chunks are read, a few times: each run resumes at the last
// chunk the log holds; in the end every row is in the log exactly once.
class MysqlKillNineTest : public MysqlIncrementalSnapshotTest,
                          public ::testing::WithParamInterface<size_t> {};

// With parallelism 3 the table is split into key ranges; each range resumes at its own last
// chunk in the log.
TEST_P(MysqlKillNineTest, KillNineMidSnapshotResumesAtTheLastChunk) {
  uint64_t seed = TestSeed();
  SCOPED_TRACE("EDDY_TEST_SEED=" + std::to_string(seed));
  std::mt19937_64 random(seed);
  Sql("CREATE TABLE " + db_ + ".t (id bigint PRIMARY KEY, v bigint NOT NULL)");
  Fill("t", 5000);
  MysqlCaptureOptions options = Options({db_ + ".t"}, 10);
  options.snapshot_parallelism = GetParam();
  size_t previous_rows = 0;
  for (int run = 0; run < 4; ++run) {
    log_.Close();  // the child takes the log directory's lock
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::alarm(60);
      auto store = log::LogStore::Open(dir_ + "/log");
      if (!store.ok()) ::_exit(2);
      auto stream = (*store)->GetStream("cdc");
      if (!stream.ok()) ::_exit(2);
      auto capture = MysqlCapture::Start(options, *stream);
      if (!capture.ok()) ::_exit(3);
      (*capture)->WaitUntilFinished(seconds(55));
      ::_exit(4);
    }
    // Kill it once its progress file has moved on by a few chunks (the last one may not be
    // durable in the log yet), at a random moment after that.
    auto deadline = std::chrono::steady_clock::now() + seconds(30);
    uint64_t target = previous_rows + 50 + random() % 400;
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid, &status, WNOHANG) == pid) FAIL() << "child ended early " << status;
      std::ifstream file(dir_ + "/state/incremental_snapshot", std::ios::binary);
      std::string bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
      auto state = DecodeIncrementalSnapshotState(bytes);
      uint64_t rows = 0;
      if (state.ok()) {
        for (const TableSnapshotProgress& table : state->tables) rows += table.rows;
      }
      if (rows >= target) break;
      std::this_thread::sleep_for(milliseconds(random() % 5));
    }
    ::kill(pid, SIGKILL);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "wait status " << status;
    OpenLog();
    std::map<int64_t, int> counts = ReadCounts(ReadAll(), "t");
    for (const auto& [id, count] : counts) ASSERT_EQ(count, 1) << "run " << run << " id " << id;
    EXPECT_GE(counts.size(), previous_rows) << "run " << run;
    previous_rows = counts.size();
  }
  EXPECT_GT(previous_rows, 0u) << "no chunk reached the log before the crashes";
  StartCapture(options);
  WaitSnapshotState("complete");
  WaitCaughtUp();
  std::map<int64_t, int> counts = ReadCounts(ReadAll(), "t");
  ASSERT_EQ(counts.size(), 5000u);
  for (const auto& [id, count] : counts) EXPECT_EQ(count, 1) << "id " << id;
}

// Debezium's signal table: execute-snapshot with additional-conditions, pause, resume and stop;
// bad rows are logged and ignored while capture goes on. Signal rows are not in the log.
INSTANTIATE_TEST_SUITE_P(Parallelism, MysqlKillNineTest, ::testing::Values(1, 3));

TEST_F(MysqlIncrementalSnapshotTest, SignalTableDrivesSnapshots) {
  std::string t = db_ + ".t";
  std::string signals = db_ + ".eddy_signal";
  Sql("CREATE TABLE " + t + " (id bigint PRIMARY KEY, v bigint NOT NULL)");
  MysqlCaptureOptions options = Options({t}, 20);
  options.snapshot_type = SnapshotType::kBlocking;  // the initial snapshot finds an empty table
  options.signal_table = signals;                   // created by the capture
  StartCapture(options);
  WaitCaughtUp();
  Fill("t", 300);

  Sql("INSERT INTO " + signals +
      " VALUES ('bad-1', 'explode', '{}'), ('bad-2', 'execute-snapshot', '{not json'), "
      "('bad-3', 'execute-snapshot', '{\"data-collections\": []}')");
  Sql("INSERT INTO " + signals + " VALUES ('log-1', 'log', '{\"message\": \"hello\"}')");
  Sql("INSERT INTO " + signals +
      " VALUES ('ad-hoc-1', 'execute-snapshot', '{\"data-collections\": [\"" + t +
      "\"], \"type\": \"incremental\", \"additional-conditions\": [{\"data-collection\": \"" + t +
      "\", \"filter\": \"id <= 100\"}]}')");
  WaitSnapshotState("complete");
  WaitCaughtUp();
  std::vector<ChangeEvent> events = ReadAll();
  std::map<int64_t, int> counts = ReadCounts(events, "t");
  EXPECT_EQ(counts.size(), 100u);
  EXPECT_EQ(counts.rbegin()->first, 100);
  for (const ChangeEvent& event : events) EXPECT_NE(event.table.name, "eddy_signal");

  // execute + pause in one transaction: no chunk is read until resume.
  Sql("BEGIN; INSERT INTO " + signals +
      " VALUES ('ad-hoc-2', 'execute-snapshot', "
      "'{\"data-collections\": [\"" +
      t + "\"]}'); INSERT INTO " + signals + " VALUES ('pause-1', 'pause-snapshot', NULL); COMMIT");
  WaitSnapshotState("paused");
  WaitCaughtUp();
  EXPECT_EQ(ReadCounts(ReadAll(), "t").size(), 100u);
  Sql("INSERT INTO " + signals + " VALUES ('resume-1', 'resume-snapshot', NULL)");
  WaitSnapshotState("complete");
  WaitCaughtUp();
  counts = ReadCounts(ReadAll(), "t");
  EXPECT_EQ(counts.size(), 300u);
  EXPECT_EQ(counts[1], 2);  // read by both snapshots
  EXPECT_EQ(counts[300], 1);

  // stop-snapshot while paused: the table is dropped, nothing more is read.
  Sql("BEGIN; INSERT INTO " + signals +
      " VALUES ('ad-hoc-3', 'execute-snapshot', "
      "'{\"data-collections\": [\"" +
      t + "\"]}'); INSERT INTO " + signals + " VALUES ('pause-2', 'pause-snapshot', NULL); COMMIT");
  WaitSnapshotState("paused");
  Sql("INSERT INTO " + signals + " VALUES ('stop-1', 'stop-snapshot', '{\"data-collections\": [\"" +
      t + "\"]}')");
  WaitSnapshotState("complete");
  WaitCaughtUp();
  EXPECT_EQ(ReadCounts(ReadAll(), "t")[300], 1);
  EXPECT_EQ(capture_->progress().state, CaptureState::kStreaming);
}

// `eddy snapshot` talks to the running capture through request files.
TEST_F(MysqlIncrementalSnapshotTest, RequestFilesAreAcceptedRejectedAndDone) {
  std::string t = db_ + ".t";
  Sql("CREATE TABLE " + t + " (id bigint PRIMARY KEY, v bigint NOT NULL)");
  MysqlCaptureOptions options = Options({t}, 50);
  options.snapshot_type = SnapshotType::kBlocking;
  StartCapture(options);
  WaitCaughtUp();
  Fill("t", 120);
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
  {
    std::ofstream good(requests + "/r2.request");
    good << "{\"data-collections\": [\"" + t +
                "\"], \"additional-conditions\": [{\"data-collection\": \"" + t +
                "\", \"filter\": \"v > 20\"}]}";
  }
  wait_for(requests + "/r2.done");
  WaitCaughtUp();
  EXPECT_EQ(ReadCounts(ReadAll(), "t").size(), 100u);
  // A condition the server rejects skips the table with its words; capture goes on.
  capture_->RequestSnapshot({"request:bad-where", {t}, {{t, "no_such_column = 1"}}});
  WaitSnapshotState("complete");
  WaitCaughtUp();
  EXPECT_EQ(capture_->progress().state, CaptureState::kStreaming);
}

}  // namespace
}  // namespace eddy::source::mysql
