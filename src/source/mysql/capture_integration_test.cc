// MySQL capture against a real MariaDB 10.11 (src/localdb): every column type with edge values
// compared with the server's own text output, insert/update/delete, DDL mid-stream, snapshot,
// restart exactly once, a killed dump thread, statement-based events, purged binlogs, a
// server_id clash and events over 16 MB.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <thread>

#include "base/sanitizer.h"
#include "io/fault_file_system.h"
#include "localdb/local_mariadb.h"
#include "log/chunking.h"
#include "log/log_store.h"
#include "model/event_codec.h"
#include "source/mysql/capture.h"
#include "source/mysql/snapshot.h"

namespace eddy::source::mysql {
namespace {

using namespace std::chrono_literals;
using model::ChangeEvent;
using model::Value;

constexpr uint32_t kCaptureServerId = 4242;

// Runs `f` when the scope ends (also when an ASSERT returns early).
class ScopeExit {
 public:
  explicit ScopeExit(std::function<void()> f) : f_(std::move(f)) {}
  ~ScopeExit() { f_(); }
  ScopeExit(const ScopeExit&) = delete;
  ScopeExit& operator=(const ScopeExit&) = delete;

 private:
  std::function<void()> f_;
};

class MysqlCaptureTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    localdb::LocalMariadbOptions options;
    options.extra_arguments = {"--max_allowed_packet=64M", "--binlog_cache_size=1M"};
    auto server = localdb::LocalMariadb::Start(options);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(*server).release();
    auto url = server_->CreateCaptureUser();
    ASSERT_TRUE(url.ok()) << url.status().ToString();
    capture_url_ = *url;
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  void SetUp() override {
    ASSERT_NE(server_, nullptr);
    dir_ = std::filesystem::temp_directory_path() /
           ("eddy-mysql-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    OpenStore();
    database_ = std::string("t_") + ::testing::UnitTest::GetInstance()->current_test_info()->name();
    for (char& c : database_) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    Exec("DROP DATABASE IF EXISTS " + database_ + "; CREATE DATABASE " + database_ +
         " CHARACTER SET utf8mb4");
  }
  void TearDown() override {
    capture_.reset();
    stream_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  void OpenStore() {
    stream_.reset();
    store_.reset();
    auto store = log::LogStore::Open((dir_ / "log").string());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
    auto stream = store_->GetStream("cdc");
    if (!stream.ok()) {
      log::StreamOptions options;
      options.ordering = log::OrderingMode::kOrdered;
      options.shard_count = 1;
      stream = store_->CreateStream("cdc", options);
    }
    ASSERT_TRUE(stream.ok()) << stream.status().ToString();
    stream_ = *stream;
  }

  static void Exec(const std::string& sql) {
    Status status = server_->Execute(sql);
    ASSERT_TRUE(status.ok()) << status.ToString() << "\n" << sql;
  }

  BinlogPosition MasterPosition() {
    auto session = server_->Connect();
    EXPECT_TRUE(session.ok());
    auto rows = session->Query("SHOW MASTER STATUS");
    EXPECT_TRUE(rows.ok() && !rows->rows.empty());
    return BinlogPosition{rows->Get(0, "File").value_or(""),
                          std::stoull(rows->Get(0, "Position").value_or("0"))};
  }

  // PURGE skips files a (just stopped) dump thread still has open: retry until they are gone.
  void PurgeTo(const std::string& file) {
    auto deadline = std::chrono::steady_clock::now() + 30s;
    while (std::chrono::steady_clock::now() < deadline) {
      Exec("PURGE BINARY LOGS TO '" + file + "'");
      auto session = server_->Connect();
      ASSERT_TRUE(session.ok());
      auto logs = session->Query("SHOW BINARY LOGS");
      ASSERT_TRUE(logs.ok());
      if (!logs->rows.empty() && logs->rows[0][0].value_or("") == file) return;
      std::this_thread::sleep_for(50ms);
    }
    FAIL() << "binlogs before " << file << " were not purged";
  }

  MysqlCaptureOptions Options(SnapshotMode mode = SnapshotMode::kNoData) {
    MysqlCaptureOptions options;
    options.url = capture_url_;
    options.server_id = kCaptureServerId;
    options.snapshot_mode = mode;
    options.data_dir = (dir_ / "data").string();
    options.server_name = "test";
    options.tables = {};
    options.heartbeat_period = 1000ms;
    options.reconnect_initial_backoff = 50ms;
    options.reconnect_max_backoff = 500ms;
    options.include_query = true;
    return options;
  }

  void StartCapture(MysqlCaptureOptions options) {
    auto capture = MysqlCapture::Start(std::move(options), stream_);
    ASSERT_TRUE(capture.ok()) << capture.status().ToString();
    capture_ = std::move(*capture);
  }

  // Waits until the log's durable position reaches `target` (the end of the last commit).
  void WaitForPosition(const BinlogPosition& target, std::chrono::seconds timeout = 60s) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      SourcePosition highest = stream_->HighestDurablePosition();
      if (highest.mysql() != nullptr && highest.mysql()->end >= target) return;
      if (capture_ != nullptr) {
        auto progress = capture_->progress();
        ASSERT_NE(progress.state, CaptureState::kFailed) << progress.last_error;
      }
      std::this_thread::sleep_for(20ms);  // polling the durable position, bounded by deadline
    }
    FAIL() << "timed out waiting for " << target.ToString()
           << "; durable=" << stream_->HighestDurablePosition().ToString()
           << " state=" << (capture_ ? CaptureStateName(capture_->progress().state) : "none")
           << " error=" << (capture_ ? capture_->progress().last_error : "");
  }

  // WaitForPosition, then until the capture's progress counts what is durable: the log makes an
  // append visible before the append worker records it in the progress (AppendDone).
  void WaitForProgress(const BinlogPosition& target, std::chrono::seconds timeout = 60s) {
    WaitForPosition(target, timeout);
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (capture_->progress().durable < target) {
      ASSERT_LT(std::chrono::steady_clock::now(), deadline)
          << "the progress stayed at " << capture_->progress().durable.ToString();
      std::this_thread::sleep_for(1ms);  // polling the progress, bounded by deadline
    }
  }

  std::vector<ChangeEvent> ReadEvents() {
    std::vector<ChangeEvent> events;
    auto reader = stream_->OpenReader(0, log::StartPosition::TrimHorizon());
    EXPECT_TRUE(reader.ok()) << reader.status().ToString();
    if (!reader.ok()) return events;
    log::Reassembler reassembler;
    while (true) {
      auto batch = (*reader)->Read(log::ReadLimits{});
      EXPECT_TRUE(batch.ok()) << batch.status().ToString();
      if (!batch.ok() || batch->records.empty()) break;
      for (auto& record : batch->records) {
        auto whole = reassembler.Add(std::move(record));
        EXPECT_TRUE(whole.ok()) << whole.status().ToString();
        if (!whole.ok() || !whole->has_value()) continue;
        auto event = model::DecodeEvent((*whole)->payload);
        EXPECT_TRUE(event.ok()) << event.status().ToString();
        if (event.ok()) events.push_back(std::move(*event));
      }
    }
    return events;
  }

  // The row changes (c, u, d, r) of `table`.
  std::vector<ChangeEvent> EventsOf(const std::string& table, const std::vector<ChangeEvent>& all) {
    std::vector<ChangeEvent> out;
    for (const auto& event : all) {
      if (event.table.database == database_ && event.table.name == table &&
          model::IsRowChange(event.op)) {
        out.push_back(event);
      }
    }
    return out;
  }

  static localdb::LocalMariadb* server_;
  static std::string capture_url_;
  std::filesystem::path dir_;
  std::string database_;
  std::unique_ptr<log::LogStore> store_;
  std::shared_ptr<log::Stream> stream_;
  std::unique_ptr<MysqlCapture> capture_;
};

localdb::LocalMariadb* MysqlCaptureTest::server_ = nullptr;
std::string MysqlCaptureTest::capture_url_;

const char kTypesTable[] = R"(CREATE TABLE types (
  id INT NOT NULL PRIMARY KEY,
  ti TINYINT, tiu TINYINT UNSIGNED, si SMALLINT, siu SMALLINT UNSIGNED,
  mi MEDIUMINT, miu MEDIUMINT UNSIGNED, i INT, iu INT UNSIGNED, bi BIGINT, biu BIGINT UNSIGNED,
  d1 DECIMAL(1,0), d2 DECIMAL(10,2), d3 DECIMAL(65,30), d4 DECIMAL(18,9) UNSIGNED, d5 DECIMAL(5,5),
  f FLOAT, db DOUBLE, y YEAR, dt DATE,
  t0 TIME, t1 TIME(1), t2 TIME(2), t3 TIME(3), t4 TIME(4), t5 TIME(5), t6 TIME(6),
  dt0 DATETIME, dt3 DATETIME(3), dt6 DATETIME(6),
  ts0 TIMESTAMP NULL DEFAULT NULL, ts2 TIMESTAMP(2) NULL DEFAULT NULL, ts6 TIMESTAMP(6) NULL DEFAULT NULL,
  b1 BIT(1), b10 BIT(10), b64 BIT(64),
  c CHAR(10), c255 CHAR(255), vc VARCHAR(300), l1 VARCHAR(20) CHARACTER SET latin1,
  u2 VARCHAR(20) CHARACTER SET ucs2, tx TEXT, ltx LONGTEXT,
  bn BINARY(4), vb VARBINARY(20), bl BLOB, mb MEDIUMBLOB,
  e ENUM('small','medium','large'), s SET('a','b','c','d'),
  j JSON, g GEOMETRY
) ENGINE=InnoDB)";

const char* kTypeRows[] = {
    // Minimums, negatives, zero dates, empty strings.
    "(1, -128, 0, -32768, 0, -8388608, 0, -2147483648, 0, -9223372036854775808, 0,"
    " -9, -99999999.99, -99999999999999999999999999999999999.999999999999999999999999999999,"
    " 0, -0.99999, -3.40282e38, -1.7976931348623157e308, 1901, '1000-01-01',"
    " '-838:59:59', '-838:59:59.9', '-00:00:00.01', '-00:00:01.001', '-12:34:56.7891',"
    " '-00:00:00.00001', '-838:59:59.000001',"
    " '1000-01-01 00:00:00', '1000-01-01 00:00:00.001', '1000-01-01 00:00:00.000001',"
    " '1970-01-01 00:00:01', '1970-01-01 00:00:01.01', '1970-01-01 00:00:01.000001',"
    " b'0', b'0', b'0', '', '', '', '', '', '', '', '', '', '', '', 'small', '',"
    " '{}', ST_GeomFromText('POINT(0 0)'))",
    // Maximums and 4-byte UTF-8.
    "(2, 127, 255, 32767, 65535, 8388607, 16777215, 2147483647, 4294967295,"
    " 9223372036854775807, 18446744073709551615,"
    " 9, 99999999.99, 99999999999999999999999999999999999.999999999999999999999999999999,"
    " 999999999.999999999, 0.99999, 3.40282e38, 1.7976931348623157e308, 2155, '9999-12-31',"
    " '838:59:59', '838:59:59.9', '838:59:59.99', '838:59:59.999', '838:59:59.9999',"
    " '838:59:59.99999', '838:59:59.999999',"
    " '9999-12-31 23:59:59', '9999-12-31 23:59:59.999', '9999-12-31 23:59:59.999999',"
    " '2038-01-19 03:14:07', '2038-01-19 03:14:07.99', '2038-01-19 03:14:07.999999',"
    " b'1', b'1111111111', b'1111111111111111111111111111111111111111111111111111111111111111',"
    " 'abcdefghij', REPEAT('\xF0\x9F\x98\x80', 255), REPEAT('\xC3\xA9', 300), 'caf\xC3\xA9 "
    "\xE2\x82\xAC',"
    " 'caf\xC3\xA9', '\xF0\x9F\x8E\x89 text', REPEAT('x', 70000),"
    " 0x00FF0102, 0x000102FF, 0xDEADBEEF00, REPEAT(0x5A, 70000), 'large', 'a,b,c,d',"
    " '{\"k\": [1, 2.5, \"s\", null, true], \"n\": {\"x\": -1}}',"
    " ST_GeomFromText('POLYGON((0 0,10 0,10 10,0 10,0 0))'))",
    // Zero dates and odd decimals; NULLs elsewhere.
    "(3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,"
    " 0, 0.01, -0.000000000000000000000000000001, 0.000000001, 0.00001, 0, 0, 0, '0000-00-00',"
    " '00:00:00', '00:00:00.0', '00:00:00.00', '00:00:00.000', '00:00:00.0000', '00:00:00.00000',"
    " '00:00:00.000000', '0000-00-00 00:00:00', '0000-00-00 00:00:00.000', '2020-00-00 00:00:00',"
    " '0000-00-00 00:00:00', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,"
    " NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)",
};

// Compares every column of the captured rows with the server's own text output, parsed by
// the snapshot's text parser (an independent path from the binlog's binary encoding).
void ExpectRowsMatchServer(localdb::LocalMariadb& server, const std::string& database,
                           const std::vector<ChangeEvent>& events,
                           const std::string& table = "types") {
  auto session = server.Connect(database);
  ASSERT_TRUE(session.ok());
  ASSERT_TRUE(session->Execute("SET NAMES utf8mb4").ok());
  ASSERT_TRUE(session->Execute("SET time_zone = '+00:00'").ok());
  auto columns = session->Query(
      "SELECT COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, IFNULL(CHARACTER_SET_NAME,''), IS_NULLABLE, "
      "IFNULL(NUMERIC_PRECISION,0), IFNULL(NUMERIC_SCALE,0), IFNULL(DATETIME_PRECISION,0) FROM "
      "information_schema.COLUMNS WHERE TABLE_SCHEMA = '" +
      database + "' AND TABLE_NAME = '" + table + "' ORDER BY ORDINAL_POSITION");
  ASSERT_TRUE(columns.ok());
  std::vector<SnapshotColumn> described;
  for (const auto& row : columns->rows) {
    described.push_back(DescribeSnapshotColumn(*row[0], *row[1], *row[2], *row[3], *row[4] == "YES",
                                               std::stoi(*row[5]), std::stoi(*row[6]),
                                               std::stoi(*row[7]), true));
  }
  auto rows = session->Query("SELECT * FROM " + table + " ORDER BY id");
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->rows.size(), events.size());
  for (size_t r = 0; r < events.size(); ++r) {
    const ChangeEvent& event = events[r];
    ASSERT_TRUE(event.after.has_value());
    ASSERT_EQ(event.after->size(), described.size());
    for (size_t c = 0; c < described.size(); ++c) {
      SCOPED_TRACE("row " + std::to_string(r) + " column " + described[c].name + " (" +
                   described[c].column_type + ")");
      const Value& captured = (*event.after)[c].value;
      EXPECT_EQ((*event.after)[c].name, described[c].name);
      const auto& text = rows->rows[r][c];
      if (!text.has_value()) {
        EXPECT_TRUE(captured.is_null()) << captured.DebugString();
        continue;
      }
      auto expected = ParseTextValue(described[c], *text);
      ASSERT_TRUE(expected.ok()) << expected.status().ToString() << " text=" << *text;
      if (described[c].type == model::ValueType::kFloat32) {
        // The text protocol prints FLOAT with 6 significant digits.
        ASSERT_EQ(captured.type(), model::ValueType::kFloat32);
        float got = captured.Get<float>();
        float want = expected->Get<float>();
        EXPECT_NEAR(got, want, std::fabs(want) * 1e-5 + 1e-30) << *text;
        continue;
      }
      EXPECT_EQ(captured, *expected)
          << "captured " << captured.DebugString() << " server text '" << *text << "'";
    }
  }
}

TEST_F(MysqlCaptureTest, EveryTypeMatchesTheServersOwnOutput) {
  Exec(std::string("USE ") + database_ + "; " + kTypesTable);
  BinlogPosition start = MasterPosition();
  MysqlCaptureOptions options = Options(SnapshotMode::kNoData);
  options.start_position = start;
  StartCapture(options);
  auto session = server_->Connect(database_);
  ASSERT_TRUE(session.ok());
  ASSERT_TRUE(session->Execute("SET NAMES utf8mb4").ok());
  ASSERT_TRUE(session->Execute("SET time_zone = '+00:00'").ok());
  ASSERT_TRUE(session->Execute("SET sql_mode = ''").ok());
  for (const char* row : kTypeRows) {
    Status status = session->Execute(std::string("INSERT INTO types VALUES ") + row);
    ASSERT_TRUE(status.ok()) << status.ToString();
  }
  // YEAR before other numeric columns: MariaDB gives YEAR a SIGNEDNESS bit.
  ASSERT_TRUE(session
                  ->Execute("CREATE TABLE years (id INT PRIMARY KEY, y YEAR, u INT UNSIGNED, "
                            "s TINYINT, d DECIMAL(5,2) UNSIGNED, f DOUBLE, b BIGINT)")
                  .ok());
  ASSERT_TRUE(session
                  ->Execute("INSERT INTO years VALUES (1, 2000, 4294967295, -1, 999.99, "
                            "-0.5, -9223372036854775808), (2, 0, 0, 127, 0, 0, 0)")
                  .ok());
  WaitForPosition(MasterPosition());
  ExpectRowsMatchServer(*server_, database_, EventsOf("years", ReadEvents()), "years");
  std::vector<ChangeEvent> events = EventsOf("types", ReadEvents());
  ASSERT_EQ(events.size(), 3u);
  for (const auto& event : events) {
    EXPECT_EQ(event.op, model::Operation::kInsert);
    EXPECT_EQ(event.source.connector, model::ConnectorKind::kMariadb);
    ASSERT_NE(event.position.mysql(), nullptr);
    EXPECT_EQ(event.position.mysql()->server_id, 1u);
    EXPECT_FALSE(event.position.mysql()->gtid.empty());
    EXPECT_EQ(event.key.size(), 1u);
    EXPECT_NE(event.source.query.find("INSERT INTO types"), std::string::npos);
  }
  ExpectRowsMatchServer(*server_, database_, events);
  // Spot checks of exact values independent of the text parser.
  const model::Row& max_row = *events[1].after;
  EXPECT_EQ(*model::FindField(max_row, "biu"), Value::Uint64(18446744073709551615ull));
  EXPECT_EQ(*model::FindField(max_row, "bi"), Value::Int64(9223372036854775807ll));
  EXPECT_EQ(*model::FindField(*events[0].after, "d3"),
            Value::Decimal("-99999999999999999999999999999999999.999999999999999999999999999999"));
  EXPECT_EQ(*model::FindField(*events[0].after, "t6"),
            Value::Time(-(838LL * 3600 + 59 * 60 + 59) * 1000000 - 1));
  EXPECT_EQ(*model::FindField(*events[2].after, "dt"),
            Value::Date(model::DateValue{model::TemporalKind::kZero, 0}));
  EXPECT_EQ(*model::FindField(*events[2].after, "dt6"),
            Value::TypedText("datetime", "2020-00-00 00:00:00.000000"));
  EXPECT_EQ(*model::FindField(max_row, "e"), Value::Enum("large"));
  EXPECT_EQ(*model::FindField(max_row, "s"), Value::TypedText("set", "a,b,c,d"));
  EXPECT_EQ(*model::FindField(max_row, "bn"), Value::Bytes(std::string("\x00\xFF\x01\x02", 4)));

  // The snapshot path gives the same rows (op r) as the binlog path.
  capture_.reset();
  std::filesystem::remove_all(dir_ / "log");
  OpenStore();
  MysqlCaptureOptions snapshot_options = Options(SnapshotMode::kInitialOnly);
  snapshot_options.tables = {database_ + ".types"};
  StartCapture(snapshot_options);
  ASSERT_TRUE(capture_->WaitUntilFinished(60s));
  ASSERT_TRUE(capture_->Stop().ok()) << capture_->progress().last_error;
  std::vector<ChangeEvent> snapshot = EventsOf("types", ReadEvents());
  ASSERT_EQ(snapshot.size(), 3u);
  for (size_t i = 0; i < snapshot.size(); ++i) {
    EXPECT_EQ(snapshot[i].op, model::Operation::kRead);
    EXPECT_EQ(snapshot[i].schema_version, events[i].schema_version);
  }
  EXPECT_EQ(snapshot[0].source.snapshot, model::SnapshotMarker::kFirst);
  EXPECT_EQ(snapshot[2].source.snapshot, model::SnapshotMarker::kLast);
  ExpectRowsMatchServer(*server_, database_, snapshot);
  EXPECT_EQ(capture_->progress().snapshot_rows, 3u);
}

// A row renders the same whether it came from the snapshot or from the binlog: every column of
// the type table plus FLOAT/DOUBLE values the text protocol cannot carry exactly (FLOAT's
// largest and smallest values, -0, subnormals, values needing 9 significant digits), read both
// ways and compared value for value (floating-point values bit for bit). The text protocol
// prints FLOAT with 6 significant digits and -0 as 0, hence the snapshot's binary protocol.
TEST_F(MysqlCaptureTest, SnapshotValuesEqualStreamedValues) {
  Exec(std::string("USE ") + database_ + "; " + kTypesTable);
  Exec("CREATE TABLE " + database_ +
       ".floats (id INT PRIMARY KEY, f FLOAT, fu FLOAT UNSIGNED, fmd FLOAT(7,3), d DOUBLE, "
       "dmd DOUBLE(12,4))");
  BinlogPosition start = MasterPosition();
  MysqlCaptureOptions options = Options(SnapshotMode::kNoData);
  options.start_position = start;
  StartCapture(options);
  auto session = server_->Connect(database_);
  ASSERT_TRUE(session.ok());
  ASSERT_TRUE(session->Execute("SET NAMES utf8mb4").ok());
  ASSERT_TRUE(session->Execute("SET time_zone = '+00:00'").ok());
  ASSERT_TRUE(session->Execute("SET sql_mode = ''").ok());
  for (const char* row : kTypeRows) {
    Status status = session->Execute(std::string("INSERT INTO types VALUES ") + row);
    ASSERT_TRUE(status.ok()) << status.ToString();
  }
  const char* float_rows[] = {
      "(1, 3.4028235e38, 3.4028235e38, 1234.5678, 1.7976931348623157e308, 12345678.12345)",
      "(2, -3.4028235e38, 0, -1234.567, -1.7976931348623157e308, -0.00005)",
      // A FLOAT underflowing to zero keeps its sign: -0 (the server turns -0 literals into 0).
      "(3, -1e-50, -1e-50, -1e-50, -1e-300 * 1e-300, -1e-50)",
      "(4, 1.17549435e-38, 1.4e-45, 0.001, 4.9e-324, 0.0001)",
      "(5, 0.1, 16777217, 9999.999, 0.1, 99999999.9999)",
      "(6, 123456.789, 7.0000005, -0.0005, 2.2250738585072014e-308, 1e-10)",
      "(7, 1e-45, 3.3e38, 1, 123456789.123456789, 0.5)",
  };
  for (const char* row : float_rows) {
    Status status = session->Execute(std::string("INSERT INTO floats VALUES ") + row);
    ASSERT_TRUE(status.ok()) << status.ToString() << " " << row;
  }
  WaitForPosition(MasterPosition());
  std::vector<ChangeEvent> all = ReadEvents();
  std::vector<ChangeEvent> streamed_types = EventsOf("types", all);
  std::vector<ChangeEvent> streamed_floats = EventsOf("floats", all);
  ASSERT_EQ(streamed_types.size(), std::size(kTypeRows));
  ASSERT_EQ(streamed_floats.size(), std::size(float_rows));
  // The binlog keeps FLOAT's sign of zero and all of its bits.
  EXPECT_TRUE(std::signbit((*streamed_floats[2].after)[1].value.Get<float>()));
  EXPECT_EQ((*streamed_floats[0].after)[1].value, Value::Float32(3.4028235e38f));

  capture_.reset();
  std::filesystem::remove_all(dir_ / "log");
  OpenStore();
  MysqlCaptureOptions snapshot_options = Options(SnapshotMode::kInitialOnly);
  snapshot_options.tables = {database_ + ".types", database_ + ".floats"};
  StartCapture(snapshot_options);
  ASSERT_TRUE(capture_->WaitUntilFinished(60s));
  ASSERT_TRUE(capture_->Stop().ok()) << capture_->progress().last_error;
  std::vector<ChangeEvent> snapshot_all = ReadEvents();
  for (const auto& [table, streamed] : {std::pair{std::string("types"), streamed_types},
                                        std::pair{std::string("floats"), streamed_floats}}) {
    std::vector<ChangeEvent> snapshot = EventsOf(table, snapshot_all);
    ASSERT_EQ(snapshot.size(), streamed.size()) << table;
    for (size_t r = 0; r < snapshot.size(); ++r) {
      EXPECT_EQ(snapshot[r].op, model::Operation::kRead);
      EXPECT_EQ(snapshot[r].key, streamed[r].key) << table << " row " << r;
      EXPECT_EQ(snapshot[r].PartitionKey(), streamed[r].PartitionKey());
      ASSERT_TRUE(snapshot[r].after.has_value() && streamed[r].after.has_value());
      const model::Row& got = *snapshot[r].after;
      const model::Row& want = *streamed[r].after;
      ASSERT_EQ(got.size(), want.size());
      for (size_t c = 0; c < got.size(); ++c) {
        EXPECT_EQ(got[c].name, want[c].name);
        EXPECT_EQ(got[c].value, want[c].value)
            << table << " row " << r << " column " << want[c].name << ": snapshot "
            << got[c].value.DebugString() << ", binlog " << want[c].value.DebugString();
      }
    }
  }
}

TEST_F(MysqlCaptureTest, InsertUpdateDeleteAndDdlMidStream) {
  Exec("CREATE TABLE " + database_ + ".items (id INT PRIMARY KEY, name VARCHAR(20), qty INT)");
  MysqlCaptureOptions options = Options(SnapshotMode::kNoData);
  options.start_position = MasterPosition();
  StartCapture(options);
  Exec(
      "USE " + database_ +
      "; INSERT INTO items VALUES (1,'one',10),(2,'two',20);"
      " BEGIN; UPDATE items SET qty = qty + 1 WHERE id = 1; DELETE FROM items WHERE id = 2; COMMIT;"
      " ALTER TABLE items ADD COLUMN note TEXT;"
      " INSERT INTO items VALUES (3,'three',30,'after ddl');"
      " UPDATE items SET id = 4 WHERE id = 3");
  WaitForPosition(MasterPosition());
  std::vector<ChangeEvent> events = EventsOf("items", ReadEvents());
  ASSERT_EQ(events.size(), 6u);
  EXPECT_EQ(events[0].op, model::Operation::kInsert);
  EXPECT_EQ(events[1].op, model::Operation::kInsert);
  EXPECT_EQ(events[0].transaction_id, events[1].transaction_id);
  EXPECT_EQ(events[1].ordinal_in_transaction, 1u);
  EXPECT_EQ(events[2].op, model::Operation::kUpdate);
  EXPECT_EQ(*model::FindField(*events[2].before, "qty"), Value::Int64(10));
  EXPECT_EQ(*model::FindField(*events[2].after, "qty"), Value::Int64(11));
  EXPECT_EQ(events[3].op, model::Operation::kDelete);
  EXPECT_EQ(events[3].key, (model::Row{model::Field{"id", Value::Int64(2)}}));
  EXPECT_FALSE(events[3].after.has_value());
  EXPECT_EQ(events[2].transaction_id, events[3].transaction_id);
  EXPECT_EQ(events[2].position, events[3].position);
  EXPECT_EQ(events[4].after->size(), 4u);
  EXPECT_EQ(*model::FindField(*events[4].after, "note"), Value::Text("after ddl"));
  EXPECT_EQ(events[4].schema_version, events[0].schema_version + 1);
  EXPECT_EQ(events[5].op, model::Operation::kUpdate);
  EXPECT_EQ(events[5].key, (model::Row{model::Field{"id", Value::Int64(4)}}));
  EXPECT_GE(capture_->progress().ddl_statements, 1u);
  // Positions strictly increase across transactions.
  for (size_t i = 1; i < events.size(); ++i) {
    EXPECT_TRUE(events[i - 1].position.mysql()->end <= events[i].position.mysql()->end);
  }
  // The schema history survives a restart: versions continue.
  ASSERT_TRUE(capture_->Stop().ok());
  capture_.reset();
  StartCapture(Options(SnapshotMode::kNoData));
  Exec("INSERT INTO " + database_ + ".items VALUES (5,'five',50,'x')");
  WaitForPosition(MasterPosition());
  events = EventsOf("items", ReadEvents());
  ASSERT_EQ(events.size(), 7u);
  EXPECT_EQ(events[6].schema_version, events[4].schema_version);
}

TEST_F(MysqlCaptureTest, RestartIsExactlyOnce) {
  Exec("CREATE TABLE " + database_ + ".counter (id INT PRIMARY KEY, v INT)");
  MysqlCaptureOptions options = Options(SnapshotMode::kNoData);
  options.start_position = MasterPosition();
  StartCapture(options);
  std::string sql = "USE " + database_ + ";";
  for (int i = 0; i < 50; ++i) sql += " INSERT INTO counter VALUES (" + std::to_string(i) + ", 0);";
  Exec(sql);
  WaitForPosition(MasterPosition());
  ASSERT_TRUE(capture_->Stop().ok());
  capture_.reset();
  // Changes while the capture is down, then restart from the log's durable position.
  sql = "USE " + database_ + ";";
  for (int i = 50; i < 100; ++i)
    sql += " INSERT INTO counter VALUES (" + std::to_string(i) + ", 0);";
  Exec(sql);
  OpenStore();  // as after a process restart
  StartCapture(Options(SnapshotMode::kNoData));
  WaitForPosition(MasterPosition());
  std::vector<ChangeEvent> events = EventsOf("counter", ReadEvents());
  ASSERT_EQ(events.size(), 100u);
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(events[static_cast<size_t>(i)].key[0].value, Value::Int64(i));
  }
}

TEST_F(MysqlCaptureTest, KilledDumpThreadReconnectsWithoutLossOrDuplicates) {
  Exec("CREATE TABLE " + database_ + ".k (id INT PRIMARY KEY)");
  MysqlCaptureOptions options = Options(SnapshotMode::kNoData);
  options.start_position = MasterPosition();
  StartCapture(options);
  int next = 0;
  for (int round = 0; round < 3; ++round) {
    std::string sql = "USE " + database_ + ";";
    for (int i = 0; i < 30; ++i) sql += " INSERT INTO k VALUES (" + std::to_string(next++) + ");";
    Exec(sql);
    // Find and kill the dump thread (Binlog Dump command) of our replica.
    auto deadline = std::chrono::steady_clock::now() + 30s;
    uint64_t id = 0;
    while (id == 0 && std::chrono::steady_clock::now() < deadline) {
      id = capture_->dump_connection_id();
      if (id == 0) std::this_thread::sleep_for(10ms);
    }
    ASSERT_NE(id, 0u);
    // The server may report the dump thread unknown when it is already ending (it then still
    // drops the connection); anything else is a test failure.
    Status killed = server_->Execute("KILL " + std::to_string(id));
    if (!killed.ok()) {
      EXPECT_NE(killed.message().find("Unknown thread id"), std::string::npos) << killed.ToString();
    }
    sql = "USE " + database_ + ";";
    for (int i = 0; i < 30; ++i) sql += " INSERT INTO k VALUES (" + std::to_string(next++) + ");";
    Exec(sql);
  }
  WaitForPosition(MasterPosition());
  EXPECT_GE(capture_->progress().reconnects, 1u);
  std::vector<ChangeEvent> events = EventsOf("k", ReadEvents());
  ASSERT_EQ(events.size(), static_cast<size_t>(next));
  for (int i = 0; i < next; ++i)
    EXPECT_EQ(events[static_cast<size_t>(i)].key[0].value, Value::Int64(i));
}

TEST_F(MysqlCaptureTest, StatementBasedEventIsAClearError) {
  Exec("CREATE TABLE " + database_ + ".sb (id INT PRIMARY KEY)");
  MysqlCaptureOptions options = Options(SnapshotMode::kNoData);
  options.start_position = MasterPosition();
  StartCapture(options);
  Exec("USE " + database_ + "; SET SESSION binlog_format = 'STATEMENT'; INSERT INTO sb VALUES (1)");
  ASSERT_TRUE(capture_->WaitUntilFinished(30s));
  Status status = capture_->Stop();
  EXPECT_EQ(status.code(), ErrorCode::kFailedPrecondition) << status.ToString();
  EXPECT_NE(status.message().find("statement-based"), std::string::npos) << status.ToString();
  EXPECT_NE(status.message().find("binlog_format=ROW"), std::string::npos) << status.ToString();
}

// A transaction that fails to decode (here a MINIMAL row image in its middle) must leave none
// of its rows in the log, although the transactions decoded before it in the same batch are
// appended on the way out.
TEST_F(MysqlCaptureTest, TransactionFailingMidwayLeavesNoneOfItsRows) {
  Exec("CREATE TABLE " + database_ + ".half (id INT PRIMARY KEY, v INT)");
  BinlogPosition start = MasterPosition();
  Exec("INSERT INTO " + database_ + ".half VALUES (1, 1)");
  Exec("USE " + database_ +
       "; BEGIN; INSERT INTO half VALUES (2, 2), (3, 3); "
       "SET SESSION binlog_row_image = 'MINIMAL'; UPDATE half SET v = 9 WHERE id = 1; COMMIT");
  MysqlCaptureOptions options = Options(SnapshotMode::kNoData);
  options.start_position = start;
  StartCapture(options);
  ASSERT_TRUE(capture_->WaitUntilFinished(30s));
  Status status = capture_->Stop();
  EXPECT_EQ(status.code(), ErrorCode::kFailedPrecondition) << status.ToString();
  EXPECT_NE(status.message().find("binlog_row_image"), std::string::npos) << status.ToString();
  std::vector<ChangeEvent> rows = EventsOf("half", ReadEvents());
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].op, model::Operation::kInsert);
  EXPECT_EQ(rows[0].after->front().value, model::Value::Int64(1));
}

TEST_F(MysqlCaptureTest, PurgedBinlogNamesTheFile) {
  BinlogPosition old = MasterPosition();
  Exec("FLUSH BINARY LOGS");
  Exec("CREATE TABLE " + database_ + ".p (id INT PRIMARY KEY)");
  BinlogPosition now = MasterPosition();
  PurgeTo(now.file);
  MysqlCaptureOptions options = Options(SnapshotMode::kNoData);
  options.start_position = old;
  StartCapture(options);
  ASSERT_TRUE(capture_->WaitUntilFinished(30s));
  Status status = capture_->Stop();
  EXPECT_EQ(status.code(), ErrorCode::kFailedPrecondition) << status.ToString();
  EXPECT_NE(status.message().find(old.file), std::string::npos) << status.ToString();
}

TEST_F(MysqlCaptureTest, PurgedBinlogUnderWhenNeededTakesAFreshSnapshot) {
  Exec("CREATE TABLE " + database_ + ".w (id INT PRIMARY KEY)");
  Exec("INSERT INTO " + database_ + ".w VALUES (1), (2)");
  MysqlCaptureOptions options = Options(SnapshotMode::kWhenNeeded);
  options.tables = {database_ + ".w"};
  StartCapture(options);
  WaitForPosition(MasterPosition());
  ASSERT_TRUE(capture_->Stop().ok());
  capture_.reset();
  Exec("INSERT INTO " + database_ + ".w VALUES (3)");
  Exec("FLUSH BINARY LOGS");
  BinlogPosition now = MasterPosition();
  PurgeTo(now.file);
  StartCapture(options);
  WaitForPosition(MasterPosition());
  std::vector<ChangeEvent> events = EventsOf("w", ReadEvents());
  // Two snapshots: {1,2} then {1,2,3}; row 3's insert was in the purged file.
  ASSERT_EQ(events.size(), 5u);
  for (const auto& event : events) EXPECT_EQ(event.op, model::Operation::kRead);
  EXPECT_EQ(events[4].key[0].value, Value::Int64(3));
}

TEST_F(MysqlCaptureTest, ServerIdEqualToTheServersIsRefused) {
  MysqlCaptureOptions options = Options(SnapshotMode::kNoData);
  options.server_id = 1;  // LocalMariadb's own server_id
  StartCapture(options);
  ASSERT_TRUE(capture_->WaitUntilFinished(30s));
  Status status = capture_->Stop();
  EXPECT_EQ(status.code(), ErrorCode::kFailedPrecondition) << status.ToString();
  EXPECT_NE(status.message().find("server_id"), std::string::npos) << status.ToString();
}

// A cleanly stopped capture ends its dump thread on the server at once, so `eddy run` started
// again right away finds its server_id free (the old registration would otherwise stay until
// the idle dump thread's next heartbeat, 30 s here).
TEST_F(MysqlCaptureTest, StopEndsTheDumpThreadSoARestartFindsTheServerIdFree) {
  MysqlCaptureOptions options = Options(SnapshotMode::kNoData);
  options.heartbeat_period = 30s;
  StartCapture(options);
  auto deadline = std::chrono::steady_clock::now() + 30s;
  while (capture_->progress().state != CaptureState::kStreaming) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << capture_->progress().last_error;
    capture_->WaitUntilFinished(10ms);
  }
  ASSERT_TRUE(capture_->Stop().ok());
  auto registered = [&] {
    auto session = server_->Connect();
    EXPECT_TRUE(session.ok());
    auto hosts = session->Query("SHOW SLAVE HOSTS");
    EXPECT_TRUE(hosts.ok());
    for (size_t i = 0; hosts.ok() && i < hosts->rows.size(); ++i) {
      if (hosts->Get(i, "Server_id").value_or("") == std::to_string(kCaptureServerId)) return true;
    }
    return false;
  };
  deadline = std::chrono::steady_clock::now() + 10s;
  while (registered()) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline)
        << "server_id " << kCaptureServerId << " is still registered after Stop";
    std::this_thread::sleep_for(20ms);  // polling the server's replica list, bounded
  }
  // Started again at once, it streams (no "another replica is registered" refusal).
  StartCapture(options);
  deadline = std::chrono::steady_clock::now() + 30s;
  while (capture_->progress().state != CaptureState::kStreaming) {
    ASSERT_NE(capture_->progress().state, CaptureState::kFailed) << capture_->progress().last_error;
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << capture_->progress().last_error;
    capture_->WaitUntilFinished(10ms);
  }
}

TEST_F(MysqlCaptureTest, DuplicateReplicaServerIdIsAClearError) {
  // A second capture (its own stream) registers with the same replica server_id.
  std::unique_ptr<log::LogStore> other_store;
  {
    auto store = log::LogStore::Open((dir_ / "other").string());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    other_store = std::move(*store);
  }
  log::StreamOptions stream_options;
  stream_options.ordering = log::OrderingMode::kOrdered;
  auto other_stream = other_store->CreateStream("cdc", stream_options);
  ASSERT_TRUE(other_stream.ok());
  StartCapture(Options(SnapshotMode::kNoData));
  auto deadline = std::chrono::steady_clock::now() + 30s;
  while (capture_->dump_connection_id() == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
  }
  MysqlCaptureOptions options = Options(SnapshotMode::kNoData);
  options.data_dir = (dir_ / "other-data").string();
  auto second = MysqlCapture::Start(options, *other_stream);
  ASSERT_TRUE(second.ok());
  // One of the two gives up with an error that names the server_id.
  deadline = std::chrono::steady_clock::now() + 120s;
  while (std::chrono::steady_clock::now() < deadline) {
    if (capture_->progress().state == CaptureState::kFailed ||
        (*second)->progress().state == CaptureState::kFailed)
      break;
    std::this_thread::sleep_for(20ms);
  }
  Status first_status = capture_->Stop();
  Status second_status = (*second)->Stop();
  Status failed = first_status.ok() ? second_status : first_status;
  EXPECT_EQ(failed.code(), ErrorCode::kFailedPrecondition) << failed.ToString();
  EXPECT_NE(failed.message().find("server_id " + std::to_string(kCaptureServerId)),
            std::string::npos)
      << failed.ToString();
}

TEST_F(MysqlCaptureTest, EventsOver16MegabytesAreReassembled) {
  Exec("CREATE TABLE " + database_ + ".big (id INT PRIMARY KEY, data LONGBLOB)");
  MysqlCaptureOptions options = Options(SnapshotMode::kNoData);
  options.start_position = MasterPosition();
  StartCapture(options);
  Exec("INSERT INTO " + database_ + ".big VALUES (1, REPEAT(0x41, 20 * 1024 * 1024))");
  WaitForPosition(MasterPosition(), 120s);
  std::vector<ChangeEvent> events = EventsOf("big", ReadEvents());
  ASSERT_EQ(events.size(), 1u);
  const Value* data = model::FindField(*events[0].after, "data");
  ASSERT_NE(data, nullptr);
  ASSERT_EQ(data->type(), model::ValueType::kBytes);
  EXPECT_EQ(data->Get<model::BytesValue>().data, std::string(20u << 20, 'A'));
}

// Large transactions (200,000-row insert, update and delete statements) arrive whole; prints
// eddy's capture rate next to mariadb-binlog decoding the same binlog range (a figure, not a
// timed assertion).
TEST_F(MysqlCaptureTest, LargeTransactionsArriveWholeAndRateIsReported) {
  // Under a sanitizer the same work runs an order of magnitude slower; the transaction is
  // still far larger than any batch, which is what the test is about.
  constexpr int kRows = static_cast<int>(ScaledForSanitizers(200000, 40000));
  Exec("CREATE TABLE " + database_ +
       ".retail_trans (id BIGINT PRIMARY KEY, store INT, "
       "amount DECIMAL(10,2), note VARCHAR(40), ts DATETIME(6))");
  BinlogPosition start = MasterPosition();
  Exec("USE " + database_ +
       "; INSERT INTO retail_trans SELECT seq, seq % 97, seq / 7, "
       "CONCAT('note ', seq), '2024-01-01 00:00:00' + INTERVAL seq SECOND FROM seq_1_to_" +
       std::to_string(kRows) +
       "; UPDATE retail_trans SET amount = amount + 1; "
       "DELETE FROM retail_trans");
  BinlogPosition end = MasterPosition();
  MysqlCaptureOptions options = Options(SnapshotMode::kNoData);
  options.start_position = start;
  options.include_query = false;
  auto began = std::chrono::steady_clock::now();
  StartCapture(options);
  WaitForPosition(end, 300s);
  double eddy_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
  std::vector<ChangeEvent> events = EventsOf("retail_trans", ReadEvents());
  ASSERT_EQ(events.size(), static_cast<size_t>(3 * kRows));
  EXPECT_EQ(events[0].op, model::Operation::kInsert);
  EXPECT_EQ(events[kRows].op, model::Operation::kUpdate);
  EXPECT_EQ(events[2 * kRows].op, model::Operation::kDelete);
  EXPECT_EQ(events[kRows - 1].ordinal_in_transaction, static_cast<uint64_t>(kRows - 1));
  EXPECT_EQ(events[0].transaction_id, events[kRows - 1].transaction_id);

  // mariadb-binlog decoding the same range from the server, rows printed (-v), to /dev/null.
  std::string command = "mariadb-binlog --read-from-remote-server --host=127.0.0.1 --port=" +
                        std::to_string(server_->port()) +
                        " --user=eddy --password=eddy -v "
                        "--start-position=" +
                        std::to_string(start.offset) +
                        " --stop-position=" + std::to_string(end.offset) + " " + start.file +
                        " > /dev/null 2>&1";
  auto tool_began = std::chrono::steady_clock::now();
  int rc = std::system(command.c_str());
  double tool_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - tool_began).count();
  EXPECT_EQ(rc, 0) << command;
  auto progress = capture_->progress();
  std::printf("[ figures ] capture thread: decode %.2f s, durable appends %.2f s\n",
              progress.decode_nanos / 1e9, progress.append_nanos / 1e9);
  std::printf(
      "[ figures ] %d row changes: eddy capture (decode + durable log) %.2f s = %.0f "
      "changes/s; mariadb-binlog -v %.2f s = %.0f changes/s; ratio eddy/mariadb-binlog "
      "= %.2f\n",
      3 * kRows, eddy_seconds, 3 * kRows / eddy_seconds, tool_seconds, 3 * kRows / tool_seconds,
      tool_seconds / eddy_seconds);
}

TEST_F(MysqlCaptureTest, InitialSnapshotThenStreamingHasNoGapOrOverlap) {
  Exec("CREATE TABLE " + database_ + ".snap (id INT PRIMARY KEY, v VARCHAR(10))");
  std::string sql = "USE " + database_ + ";";
  for (int i = 0; i < 25; ++i) sql += " INSERT INTO snap VALUES (" + std::to_string(i) + ", 'a');";
  Exec(sql);
  MysqlCaptureOptions options = Options(SnapshotMode::kInitial);
  options.tables = {database_ + ".snap"};
  options.snapshot_chunk_rows = 7;
  StartCapture(options);
  Exec("USE " + database_ +
       "; INSERT INTO snap VALUES (100, 'b'); UPDATE snap SET v = 'c' WHERE id = 0");
  WaitForPosition(MasterPosition());
  std::vector<ChangeEvent> events = EventsOf("snap", ReadEvents());
  // Every row once: 25 snapshot reads (or fewer if the insert raced the snapshot start) plus
  // the streamed changes after the snapshot position; the final state must match the table.
  std::map<int64_t, std::string> state;
  size_t reads = 0;
  for (const auto& event : events) {
    int64_t id = event.key[0].value.Get<int64_t>();
    if (event.op == model::Operation::kRead) ++reads;
    if (event.op == model::Operation::kRead || event.op == model::Operation::kInsert) {
      EXPECT_EQ(state.count(id), 0u) << "row " << id << " twice";
    }
    state[id] = model::FindField(*event.after, "v")->Get<std::string>();
  }
  EXPECT_GE(reads, 25u);
  EXPECT_EQ(state.size(), 26u);
  EXPECT_EQ(state[0], "c");
  EXPECT_EQ(state[100], "b");
}

// A transaction far beyond large_transaction_bytes spills to the data directory and is
// appended in parts: every row once, in order, as one transaction; a restart adds nothing.
TEST_F(MysqlCaptureTest, HugeTransactionSpillsAndIsCapturedOnceWhole) {
  // ~4 MiB of rows (1.6 MiB under a sanitizer): either way above the 1 MiB spill threshold.
  constexpr int kRows = static_cast<int>(ScaledForSanitizers(200000, 80000));
  Exec("CREATE TABLE " + database_ + ".huge (id BIGINT PRIMARY KEY, note VARCHAR(40))");
  BinlogPosition start = MasterPosition();
  Exec("USE " + database_ + "; INSERT INTO huge SELECT seq, CONCAT('note ', seq) FROM seq_1_to_" +
       std::to_string(kRows));
  BinlogPosition end = MasterPosition();
  MysqlCaptureOptions options = Options(SnapshotMode::kNoData);
  options.start_position = start;
  options.large_transaction_bytes = 1u << 20;
  options.append_batch_bytes = 1u << 20;
  StartCapture(options);
  WaitForPosition(end, 300s);
  EXPECT_EQ(capture_->progress().spilled_transactions, 1u);
  std::vector<ChangeEvent> events = EventsOf("huge", ReadEvents());
  ASSERT_EQ(events.size(), static_cast<size_t>(kRows));
  for (size_t i = 0; i < events.size(); ++i) {
    ASSERT_EQ(events[i].key[0].value, Value::Int64(static_cast<int64_t>(i + 1))) << i;
    ASSERT_EQ(events[i].ordinal_in_transaction, i);
    ASSERT_EQ(events[i].transaction_id, events[0].transaction_id);
    ASSERT_NE(events[i].source.query.find("INSERT INTO huge"), std::string::npos);
  }
  EXPECT_EQ(events.back().position.mysql()->end, end);
  // Restart: the transaction is not captured again.
  ASSERT_TRUE(capture_->Stop().ok());
  capture_.reset();
  Exec("INSERT INTO " + database_ + ".huge VALUES (0, 'after')");
  OpenStore();
  StartCapture(Options(SnapshotMode::kNoData));
  WaitForPosition(MasterPosition());
  events = EventsOf("huge", ReadEvents());
  ASSERT_EQ(events.size(), static_cast<size_t>(kRows + 1));
  EXPECT_EQ(events.back().key[0].value, Value::Int64(0));
}

// A failure in the middle of a spilled transaction (disk full while spilling) leaves nothing of
// it in the log; the capture reconnects, reads the transaction again and appends it once.
TEST_F(MysqlCaptureTest, HugeTransactionFailureIsRetriedOnce) {
  constexpr int kRows = 100000;
  Exec("CREATE TABLE " + database_ + ".huge (id BIGINT PRIMARY KEY, note VARCHAR(40))");
  BinlogPosition start = MasterPosition();
  Exec("USE " + database_ + "; INSERT INTO huge SELECT seq, CONCAT('note ', seq) FROM seq_1_to_" +
       std::to_string(kRows));
  BinlogPosition end = MasterPosition();
  io::FaultInjectionFileSystem data_fs;
  ScopeExit cleanup([this] { capture_.reset(); });  // before data_fs, which it uses
  // The spill buffer writes 1 MiB at a time (~2 MiB of rows here): the second write fails.
  data_fs.InjectFault(io::FaultOperation::kAppend, NoSpace("injected: disk full"),
                      "mysql-transaction.spill", /*skip=*/1, /*count=*/1);
  MysqlCaptureOptions options = Options(SnapshotMode::kNoData);
  options.start_position = start;
  options.file_system = &data_fs;
  options.data_dir = "/data";
  options.large_transaction_bytes = 1u << 20;
  options.append_batch_bytes = 1u << 20;
  StartCapture(options);
  WaitForProgress(end, 300s);
  auto progress = capture_->progress();
  EXPECT_GE(progress.reconnects, 1u);
  EXPECT_EQ(progress.spilled_transactions, 2u);
  EXPECT_EQ(progress.transactions, 1u);
  std::vector<ChangeEvent> events = EventsOf("huge", ReadEvents());
  EXPECT_EQ(events.size(), static_cast<size_t>(kRows));
  for (size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i].key[0].value, Value::Int64(static_cast<int64_t>(i + 1))) << i;
  }
}

// MariaDB resumes by GTID (the server's state at the checkpoint as @slave_connect_state), also
// when binlog rotations happened while running and while stopped: every row exactly once.
TEST_F(MysqlCaptureTest, RestartAfterRotationResumesByGtid) {
  Exec("CREATE TABLE " + database_ + ".rot (id INT PRIMARY KEY)");
  auto insert = [&](int from, int to) {
    std::string sql = "USE " + database_ + ";";
    for (int i = from; i < to; ++i) sql += " INSERT INTO rot VALUES (" + std::to_string(i) + ");";
    Exec(sql);
  };
  MysqlCaptureOptions options = Options(SnapshotMode::kNoData);
  options.start_position = MasterPosition();
  StartCapture(options);
  insert(0, 10);
  Exec("FLUSH BINARY LOGS");
  insert(10, 20);
  WaitForPosition(MasterPosition());
  EXPECT_FALSE(capture_->progress().resume_gtid_state.empty());
  ASSERT_TRUE(capture_->Stop().ok());
  capture_.reset();
  SourcePosition durable = stream_->HighestDurablePosition();
  ASSERT_NE(durable.mysql(), nullptr);
  insert(20, 30);
  Exec("FLUSH BINARY LOGS");
  insert(30, 40);
  OpenStore();
  StartCapture(Options(SnapshotMode::kNoData));
  WaitForPosition(MasterPosition());
  // One GTID domain: the state at the checkpoint is the last captured transaction's GTID.
  EXPECT_EQ(capture_->progress().resume_gtid_state, durable.mysql()->gtid.text);
  std::vector<ChangeEvent> events = EventsOf("rot", ReadEvents());
  ASSERT_EQ(events.size(), 40u);
  for (int i = 0; i < 40; ++i) {
    EXPECT_EQ(events[static_cast<size_t>(i)].key[0].value, Value::Int64(i));
  }
  EXPECT_NE(events.front().position.mysql()->end.file, events.back().position.mysql()->end.file);
}

// Every DDL on a captured table becomes one schema change event (database, table, ddl text,
// CREATE TABLE columns) in order with the row events around it; TRUNCATE is op `t`.
TEST_F(MysqlCaptureTest, SchemaChangeEventsAreInOrderWithRows) {
  MysqlCaptureOptions options = Options(SnapshotMode::kNoData);
  options.start_position = MasterPosition();
  StartCapture(options);
  Exec("USE " + database_ +
       "; CREATE TABLE ddl (id INT PRIMARY KEY, v VARCHAR(10) NOT NULL); "
       "INSERT INTO ddl VALUES (1, 'a'); ALTER TABLE ddl ADD COLUMN w BIGINT; "
       "INSERT INTO ddl VALUES (2, 'b', 7); TRUNCATE TABLE ddl; RENAME TABLE ddl TO ddl2; "
       "INSERT INTO ddl2 VALUES (3, 'c', 8); DROP TABLE ddl2");
  WaitForPosition(MasterPosition());
  std::vector<ChangeEvent> all = ReadEvents();
  std::vector<ChangeEvent> events;
  for (const auto& event : all) {
    if (event.table.database == database_ &&
        (event.table.name == "ddl" || event.table.name == "ddl2")) {
      events.push_back(event);
    }
  }
  ASSERT_EQ(events.size(), 8u);
  using model::Operation;
  using model::SchemaChangeKind;
  EXPECT_EQ(events[0].op, Operation::kSchemaChange);
  ASSERT_TRUE(events[0].schema_change.has_value());
  EXPECT_EQ(events[0].schema_change->kind, SchemaChangeKind::kCreateTable);
  EXPECT_NE(events[0].schema_change->ddl.find("CREATE TABLE ddl"), std::string::npos);
  ASSERT_TRUE(events[0].schema_change->table_schema.has_value());
  const model::TableSchema& created = *events[0].schema_change->table_schema;
  ASSERT_EQ(created.columns.size(), 2u);
  EXPECT_EQ(created.columns[1].name, "v");
  EXPECT_FALSE(created.columns[1].nullable);
  EXPECT_EQ(created.primary_key, std::vector<std::string>{"id"});
  EXPECT_FALSE(events[0].position.mysql()->gtid.empty());
  EXPECT_EQ(events[1].op, Operation::kInsert);
  EXPECT_EQ(events[2].op, Operation::kSchemaChange);
  EXPECT_EQ(events[2].schema_change->kind, SchemaChangeKind::kAddColumn);
  // The ALTER's event carries the table's new columns (followed from the CREATE and the rows).
  ASSERT_TRUE(events[2].schema_change->table_schema.has_value());
  const model::TableSchema& altered = *events[2].schema_change->table_schema;
  ASSERT_EQ(altered.columns.size(), 3u);
  EXPECT_EQ(altered.columns[2].name, "w");
  EXPECT_EQ(altered.columns[2].type, model::ValueType::kInt64);
  EXPECT_EQ(altered.primary_key, std::vector<std::string>{"id"});
  EXPECT_EQ(events[3].op, Operation::kInsert);
  EXPECT_EQ(events[3].after->size(), 3u);
  EXPECT_EQ(events[4].op, Operation::kTruncate);
  EXPECT_EQ(events[5].op, Operation::kSchemaChange);
  EXPECT_EQ(events[5].schema_change->kind, SchemaChangeKind::kRenameTable);
  EXPECT_EQ(events[5].table.name, "ddl2");
  EXPECT_EQ(events[5].schema_change->previous_name, "ddl");
  ASSERT_TRUE(events[5].schema_change->table_schema.has_value());
  EXPECT_EQ(events[5].schema_change->table_schema->table.name, "ddl2");
  EXPECT_EQ(events[5].schema_change->table_schema->columns.size(), 3u);
  EXPECT_EQ(events[6].op, Operation::kInsert);
  EXPECT_EQ(events[7].op, Operation::kSchemaChange);
  EXPECT_EQ(events[7].schema_change->kind, SchemaChangeKind::kDropTable);
  // Each DDL is its own transaction, after the previous row change.
  for (size_t i = 1; i < 8; ++i) {
    EXPECT_LT(events[i - 1].position.mysql()->end, events[i].position.mysql()->end) << i;
  }
}

// ALTERs in a row, with no rows between them, are followed one after the other; after a
// restart the capture has not seen the table's columns, so the first ALTER carries none (rather
// than a guess), and the next rows' TABLE_MAP makes them known again.
TEST_F(MysqlCaptureTest, AlterColumnsAreFollowedAndUnknownAfterARestart) {
  MysqlCaptureOptions options = Options(SnapshotMode::kNoData);
  options.start_position = MasterPosition();
  StartCapture(options);
  Exec("USE " + database_ +
       "; CREATE TABLE alt (id INT PRIMARY KEY, a INT, b TEXT); "
       "ALTER TABLE alt ADD COLUMN c DECIMAL(8,2) AFTER id; ALTER TABLE alt DROP COLUMN a; "
       "ALTER TABLE alt CHANGE b note VARCHAR(20) NOT NULL, ENGINE=InnoDB");
  WaitForPosition(MasterPosition());
  ASSERT_TRUE(capture_->Stop().ok());
  capture_.reset();
  options.start_position = BinlogPosition{};  // resume from the log
  StartCapture(options);
  Exec("USE " + database_ +
       "; ALTER TABLE alt ADD COLUMN d INT; INSERT INTO alt VALUES "
       "(1, 2.5, 'n', 4); ALTER TABLE alt MODIFY d BIGINT");
  WaitForPosition(MasterPosition());
  std::vector<ChangeEvent> events;
  for (const auto& event : ReadEvents()) {
    if (event.table.database == database_ && event.table.name == "alt") events.push_back(event);
  }
  ASSERT_EQ(events.size(), 7u);
  auto names = [](const ChangeEvent& event) {
    std::vector<std::string> out;
    if (event.schema_change && event.schema_change->table_schema) {
      for (const auto& column : event.schema_change->table_schema->columns)
        out.push_back(column.name);
    }
    return out;
  };
  using Strings = std::vector<std::string>;
  EXPECT_EQ(names(events[0]), (Strings{"id", "a", "b"}));
  EXPECT_EQ(names(events[1]), (Strings{"id", "c", "a", "b"}));
  EXPECT_EQ(names(events[2]), (Strings{"id", "c", "b"}));
  EXPECT_EQ(names(events[3]), (Strings{"id", "c", "note"}));
  EXPECT_EQ(events[3].schema_change->table_schema->columns[2].type, model::ValueType::kText);
  EXPECT_FALSE(events[3].schema_change->table_schema->columns[2].nullable);
  EXPECT_EQ(events[1].schema_change->table_schema->columns[1].source_type, "decimal(8,2)");
  // After the restart: no columns known for the first ALTER; the insert's TABLE_MAP fixes that.
  EXPECT_FALSE(events[4].schema_change->table_schema.has_value());
  EXPECT_EQ(events[5].op, model::Operation::kInsert);
  EXPECT_EQ(names(events[6]), (Strings{"id", "c", "note", "d"}));
  EXPECT_EQ(events[6].schema_change->table_schema->columns[3].type, model::ValueType::kInt64);
}

// The log fails (disk full) while the parts of a huge transaction are being appended: the
// appender is aborted and nothing of the transaction is visible; the capture retries and the
// transaction arrives once. After a simulated power loss it is still there, once.
TEST_F(MysqlCaptureTest, LogFailureInsideAHugeTransactionIsRetriedOnce) {
  constexpr int kRows = 100000;
  Exec("CREATE TABLE " + database_ + ".huge (id BIGINT PRIMARY KEY, note VARCHAR(40))");
  BinlogPosition start = MasterPosition();
  Exec("USE " + database_ + "; INSERT INTO huge SELECT seq, CONCAT('note ', seq) FROM seq_1_to_" +
       std::to_string(kRows));
  BinlogPosition end = MasterPosition();
  io::FaultInjectionFileSystem fs;
  log::LogStoreOptions store_options;
  store_options.file_system = &fs;
  auto open_stream = [&](std::unique_ptr<log::LogStore>& store) {
    auto opened = log::LogStore::Open("/log", store_options);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    store = std::move(*opened);
    auto stream = store->GetStream("cdc");
    if (!stream.ok()) {
      log::StreamOptions options;
      options.ordering = log::OrderingMode::kOrdered;
      stream = store->CreateStream("cdc", options);
    }
    ASSERT_TRUE(stream.ok()) << stream.status().ToString();
    stream_ = *stream;
  };
  std::unique_ptr<log::LogStore> store;
  // Whatever fails below, the capture and stream go before `fs` and `store` they use.
  ScopeExit cleanup([this] {
    capture_.reset();
    stream_.reset();
  });
  open_stream(store);
  // Parts are ~1 MiB: the second segment append of the transaction fails (a short write).
  fs.InjectFault(io::FaultOperation::kAppend, NoSpace("injected: disk full"), ".seg",
                 /*skip=*/1, /*count=*/1);
  MysqlCaptureOptions options = Options(SnapshotMode::kNoData);
  options.start_position = start;
  options.file_system = &fs;
  options.data_dir = "/data";
  options.large_transaction_bytes = 1u << 20;
  options.append_batch_bytes = 1u << 20;
  StartCapture(options);
  WaitForProgress(end, 300s);
  auto progress = capture_->progress();
  EXPECT_GE(progress.reconnects, 1u);
  EXPECT_EQ(progress.transactions, 1u);
  EXPECT_EQ(EventsOf("huge", ReadEvents()).size(), static_cast<size_t>(kRows));
  ASSERT_TRUE(capture_->Stop().ok());
  capture_.reset();
  stream_.reset();
  store.reset();
  fs.SimulateCrash();
  open_stream(store);
  std::vector<ChangeEvent> events = EventsOf("huge", ReadEvents());
  ASSERT_EQ(events.size(), static_cast<size_t>(kRows));
  for (size_t i = 0; i < events.size(); ++i) {
    ASSERT_EQ(events[i].key[0].value, Value::Int64(static_cast<int64_t>(i + 1))) << i;
  }
  stream_.reset();
}

}  // namespace
}  // namespace eddy::source::mysql
