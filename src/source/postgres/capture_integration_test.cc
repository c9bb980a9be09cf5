// Integration tests of PostgreSQL capture against a real PostgreSQL 15 (src/localdb): snapshot
// plus streaming with every type, replica identity and TOAST, schema change, large and streamed
// transactions with spill, walsender termination, restart exactly-once, and a dropped slot;
// transactions appended in parts (invisible until commit, aborted on error, a crash mid-way),
// a crash in the middle of the snapshot, and PostgreSQL restarts (fast and immediate).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "base/sanitizer.h"
#include "localdb/local_postgres.h"
#include "log/log_store.h"
#include "model/event_codec.h"
#include "source/incremental_snapshot_test_util.h"
#include "source/postgres/capture.h"
#include "source/postgres/pg_connection.h"
#include "source/postgres/pg_types.h"

namespace eddy::source::postgres {
namespace {

using model::ChangeEvent;
using model::Operation;
using model::TemporalKind;
using model::Value;
using std::chrono::milliseconds;
using std::chrono::seconds;

localdb::LocalPostgres* server = nullptr;

class CaptureTest : public ::testing::Test {
 public:
  static void SetUpTestSuite() {
    localdb::LocalPostgresOptions options;
    // Small enough that a few thousand rows make PostgreSQL stream the transaction.
    options.settings.push_back({"logical_decoding_work_mem", "64kB"});
    auto started = localdb::LocalPostgres::Start(options);
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
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    name_ = info->name();
    for (char& c : name_) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    dir_ = std::filesystem::temp_directory_path() /
           ("eddy_pgcap_" + std::to_string(::getpid()) + "_" + name_);
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    OpenLog();
  }
  void TearDown() override {
    capture_.reset();
    stream_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  void OpenLog() {
    stream_.reset();
    store_.reset();
    auto store = log::LogStore::Open(dir_ + "/log");
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

  PostgresCaptureOptions Options(std::vector<std::string> tables) {
    PostgresCaptureOptions options;
    options.conninfo = server->Url();
    options.slot_name = "slot_" + name_;
    options.publication_name = "pub_" + name_;
    options.tables = std::move(tables);
    options.spill_dir = dir_ + "/spill";
    options.feedback_interval = milliseconds(500);
    options.reconnect_initial_backoff = milliseconds(50);
    options.reconnect_max_backoff = milliseconds(500);
    return options;
  }

  void StartCapture(PostgresCaptureOptions options) {
    auto capture = PostgresCapture::Start(std::move(options), stream_);
    ASSERT_TRUE(capture.ok()) << capture.status().ToString();
    capture_ = std::move(*capture);
  }

  // Waits until the capture streams (the snapshot, if any, is complete), so that changes made
  // afterwards arrive as streamed changes rather than as snapshot rows.
  void WaitStreaming(seconds timeout = seconds(60)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      CaptureState state = capture_->progress().state;
      if (state == CaptureState::kStreaming) return;
      ASSERT_NE(state, CaptureState::kFailed) << capture_->progress().last_error;
      capture_->WaitUntilFinished(milliseconds(20));
    }
    FAIL() << "capture did not reach streaming; state=" << capture_->progress().state;
  }

  void Sql(const std::string& sql) {
    Status status = server->Execute(sql);
    ASSERT_TRUE(status.ok()) << sql << ": " << status.ToString();
  }

  std::vector<ChangeEvent> ReadAll() { return source::testing::ReadAllEvents(*stream_); }

  // Waits until the log holds at least `count` events (or the capture failed).
  std::vector<ChangeEvent> WaitForEvents(size_t count, seconds timeout = seconds(90)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    std::vector<ChangeEvent> events;
    while (std::chrono::steady_clock::now() < deadline) {
      events = ReadAll();
      if (events.size() >= count) return events;
      if (capture_ != nullptr && capture_->progress().state == CaptureState::kFailed) break;
      std::unique_ptr<log::ShardReader> reader =
          std::move(*stream_->OpenReader(0, log::StartPosition::Latest()));
      Status waited = reader->WaitForData(std::chrono::steady_clock::now() + milliseconds(200));
      waited.IgnoreError();
    }
    ADD_FAILURE() << "expected " << count << " events, have " << events.size() << "; capture state="
                  << (capture_ ? CaptureStateName(capture_->progress().state) : "none")
                  << " error=" << (capture_ ? capture_->progress().last_error : "");
    return events;
  }

  static std::vector<ChangeEvent> OfTable(const std::vector<ChangeEvent>& events,
                                          const std::string& table) {
    std::vector<ChangeEvent> out;
    for (const ChangeEvent& event : events) {
      if (event.table.name == table) out.push_back(event);
    }
    return out;
  }

  // Runs a capture over the log in a child process that SIGKILLs itself from the append hook
  // when `crash_at` says so: a crash at an exact point of the append path, with no Abort and
  // no destructor run. Returns once the child is dead, with the log reopened (recovered).
  void CaptureInChildAndCrash(PostgresCaptureOptions options,
                              std::function<bool(const AppendStep&)> crash_at) {
    stream_.reset();
    store_.reset();  // the child takes the log directory's lock
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::alarm(120);  // never outlive a broken test
      auto store = log::LogStore::Open(dir_ + "/log");
      if (!store.ok()) ::_exit(2);
      auto stream = (*store)->GetStream("cdc");
      if (!stream.ok()) ::_exit(2);
      options.append_hook = [crash_at](const AppendStep& step) -> Status {
        if (crash_at(step)) ::kill(::getpid(), SIGKILL);
        return Status::Ok();
      };
      auto capture = PostgresCapture::Start(options, *stream);
      if (!capture.ok()) ::_exit(3);
      (*capture)->WaitUntilFinished(milliseconds(110000));
      ::_exit(4);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
        << "the child did not crash where intended; wait status " << status;
    OpenLog();
  }

  // Waits until no connection uses the slot (the walsender of a dead process has exited).
  void WaitSlotInactive(const std::string& slot) {
    auto sql = PgConnection::Connect(server->Url(), false);
    ASSERT_TRUE(sql.ok()) << sql.status().ToString();
    auto deadline = std::chrono::steady_clock::now() + seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
      auto rows = (*sql)->Query("SELECT active::text FROM pg_replication_slots WHERE slot_name = " +
                                QuoteLiteral(slot));
      ASSERT_TRUE(rows.ok()) << rows.status().ToString();
      if (rows->rows.empty() || rows->rows[0][0].value_or("") == "false") return;
      auto waited = (*sql)->Query("SELECT pg_sleep(0.05)");  // the server paces the poll
      ASSERT_TRUE(waited.ok());
    }
    FAIL() << "slot " << slot << " stayed active";
  }

  // Every key of `table` in the log, with how often it appears, per op.
  static std::map<int64_t, int> KeyCounts(const std::vector<ChangeEvent>& events,
                                          const std::string& table, Operation op) {
    std::map<int64_t, int> seen;
    for (const ChangeEvent& event : events) {
      if (event.table.name == table && event.op == op) seen[event.key.at(0).value.Get<int64_t>()]++;
    }
    return seen;
  }

  static void ExpectEachOnce(const std::map<int64_t, int>& seen, int64_t from, int64_t to) {
    EXPECT_EQ(seen.size(), static_cast<size_t>(to - from + 1));
    int reported = 0;
    for (int64_t id = from; id <= to; ++id) {
      auto it = seen.find(id);
      int count = it == seen.end() ? 0 : it->second;
      if (count != 1 && reported++ < 5)
        ADD_FAILURE() << "id " << id << " seen " << count << " times";
    }
  }

  std::string name_;
  std::string dir_;
  std::unique_ptr<log::LogStore> store_;
  std::shared_ptr<log::Stream> stream_;
  std::unique_ptr<PostgresCapture> capture_;
};

const Value& Field(const ChangeEvent& event, const std::string& name) {
  static const Value missing = Value::TypedText("missing", name);
  const Value* value = model::FindField(*event.after, name);
  return value != nullptr ? *value : missing;
}

constexpr int64_t kMicrosPerDay = 86'400'000'000LL;

// Every built-in type with edge values, captured by the snapshot (ids < 100) and by streaming
// (the same rows again with id + 100): both paths must decode to the same values, which must
// also equal the decoding of the server's own text output for the row.
TEST_F(CaptureTest, EveryTypeThroughSnapshotAndStreaming) {
  Sql(R"(
    CREATE TYPE mood AS ENUM ('sad', 'happy', 'very happy');
    CREATE DOMAIN positive_int AS int4 CHECK (VALUE > 0);
    CREATE TABLE types_t (
      id int PRIMARY KEY, b bool, i2 int2, i4 int4, i8 int8, n numeric, nn numeric(10,2),
      f4 float4, f8 float8, t text, vc varchar(20), c char(3), by bytea, d date, tm time,
      ttz timetz, ts timestamp, tstz timestamptz, iv interval, u uuid, j json, jb jsonb,
      ai int4[], at text[], e mood, ea mood[], dom positive_int, inet_v inet, cidr_v cidr,
      mac macaddr, bits bit(4), vbits varbit, money_v money, x xml, pt point, bx box,
      circ circle, rng int4range, tsr tstzrange, oid_v oid);
  )");
  const std::string row1 =
      "(1, true, -32768, -2147483648, -9223372036854775808, 'NaN', 12345678.91, 'NaN', "
      "'-Infinity', E'tab\\there \"q\" \\\\ nl\\n emoji \U0001F600', 'varchar', 'ab', "
      "'\\x00ff', '4714-11-24 BC', '24:00:00', '23:59:59.999999-15:59', "
      "'294276-12-31 23:59:59.999999', '0044-03-15 12:00:00+00 BC', "
      "'-178000000 years -1 days +00:00:00.000001', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', "
      "'{\"a\": [1, 2.50]}', '{\"b\": null, \"a\": 1}', '{{1,NULL},{3,4}}', "
      "ARRAY['a,b', 'say \"hi\"', NULL, 'NULL', ''], 'very happy', '{sad,\"very happy\"}', 5, "
      "'192.168.0.1/24', '10.0.0.0/8', '08:00:2b:01:02:03', B'1010', B'1', 1234.56, "
      "'<a>b</a>', '(1,2)', '((0,0),(1,1))', '<(1,2),3>', '[1,5)', "
      "'[2024-01-01 00:00:00+00,infinity)', 4294967295)";
  const std::string row2 =
      "(2, false, 32767, 2147483647, 9223372036854775807, '" + std::string(500, '9') + "." +
      std::string(500, '1') +
      "', -0.01, 'Infinity', 1.7976931348623157e308, '', NULL, NULL, '\\x', 'infinity', "
      "'00:00:00', '00:00:00+14', '-infinity', 'infinity', '00:00:00', "
      "'00000000-0000-0000-0000-000000000000', 'null', '[]', '{}', '{}', 'sad', '{}', 1, "
      "'::1', '::/0', 'ff:ff:ff:ff:ff:ff', B'0000', B'', -1, '<b/>', '(-1.5,2e-10)', "
      "'((1,1),(1,1))', '<(0,0),0>', 'empty', 'empty', 0)";
  const std::string row3 =
      "(3, NULL, NULL, NULL, NULL, '-Infinity', NULL, '-0', 5e-324, NULL, NULL, NULL, NULL, "
      "'2024-02-29', '13:45:01.5', NULL, '1970-01-01 00:00:00', '1970-01-01 01:00:00+01', "
      "'1 year 2 mons 3 days 04:05:06.789', NULL, NULL, NULL, '[0:1]={7,8}', NULL, NULL, NULL, "
      "NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)";
  // Floating-point values whose text needs every digit (9 for float4, 17 for float8), and -0.
  const std::string row4 =
      "(4, NULL, NULL, NULL, NULL, NULL, NULL, '3.4028235e38', '0.1', NULL, NULL, NULL, NULL, "
      "NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "
      "NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)";
  const std::string row5 =
      "(5, NULL, NULL, NULL, NULL, NULL, NULL, '7.0000005', '-0', NULL, NULL, NULL, NULL, NULL, "
      "NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "
      "NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)";
  const std::string row6 =
      "(6, NULL, NULL, NULL, NULL, NULL, NULL, '1.17549435e-38', '123456789.12345679', NULL, NULL, "
      "NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "
      "NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)";
  Sql("INSERT INTO types_t VALUES " + row1 + ", " + row2 + ", " + row3 + ", " + row4 + ", " + row5 +
      ", " + row6);

  StartCapture(Options({"public.types_t"}));
  std::vector<ChangeEvent> snapshot = WaitForEvents(6);
  ASSERT_EQ(snapshot.size(), 6u);
  for (const ChangeEvent& event : snapshot) EXPECT_EQ(event.op, Operation::kRead);
  EXPECT_EQ(snapshot[0].source.snapshot, model::SnapshotMarker::kFirst);
  EXPECT_EQ(snapshot[5].source.snapshot, model::SnapshotMarker::kLast);

  Sql("INSERT INTO types_t SELECT id + 100, b, i2, i4, i8, n, nn, f4, f8, t, vc, c, by, d, tm, "
      "ttz, ts, tstz, iv, u, j, jb, ai, at, e, ea, dom, inet_v, cidr_v, mac, bits, vbits, "
      "money_v, x, pt, bx, circ, rng, tsr, oid_v FROM types_t");
  std::vector<ChangeEvent> all = WaitForEvents(12);
  ASSERT_EQ(all.size(), 12u);
  for (size_t i = 0; i < 6; ++i) {
    const ChangeEvent& read = all[i];
    const ChangeEvent& streamed = all[i + 6];
    EXPECT_EQ(streamed.op, Operation::kInsert);
    ASSERT_EQ(read.after->size(), streamed.after->size());
    for (size_t c = 1; c < read.after->size(); ++c) {
      EXPECT_EQ((*read.after)[c], (*streamed.after)[c])
          << "column " << (*read.after)[c].name << ": snapshot "
          << (*read.after)[c].value.DebugString() << " stream "
          << (*streamed.after)[c].value.DebugString();
      EXPECT_NE((*streamed.after)[c].value.type(), model::ValueType::kUnavailable);
    }
  }

  // The server's own text, decoded independently, gives the same values.
  auto sql = PgConnection::Connect(server->Url(), false);
  ASSERT_TRUE(sql.ok()) << sql.status().ToString();
  auto rows = (*sql)->Query("SELECT * FROM types_t WHERE id = 101");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  auto types = (*sql)->Query(
      "SELECT a.attname, a.atttypid::text FROM pg_attribute a WHERE a.attrelid = "
      "'types_t'::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum");
  ASSERT_TRUE(types.ok());
  const ChangeEvent& streamed_row1 = all[6];
  int compared = 0;
  for (size_t c = 0; c < rows->columns.size(); ++c) {
    uint32_t type_oid = static_cast<uint32_t>(std::stoul(*types->rows[c][1]));
    if (type_oid >= 16384) continue;  // enum/domain need the catalog; covered above
    const auto& text = rows->rows[0][c];
    ASSERT_TRUE(text.has_value());
    auto expected = DecodeTextValue(type_oid, *text, TypeRegistry());
    ASSERT_TRUE(expected.ok()) << rows->columns[c] << ": " << expected.status().ToString();
    EXPECT_EQ(Field(streamed_row1, rows->columns[c]), *expected) << rows->columns[c];
    ++compared;
  }
  EXPECT_GE(compared, 35);

  // Spot checks of the edge values.
  const ChangeEvent& r1 = all[0];
  EXPECT_EQ(Field(r1, "i8"), Value::Int64(std::numeric_limits<int64_t>::min()));
  EXPECT_EQ(Field(r1, "n"), Value::Decimal("NaN"));
  EXPECT_EQ(Field(r1, "nn"), Value::Decimal("12345678.91"));
  EXPECT_TRUE(std::isnan(Field(r1, "f4").Get<float>()));
  EXPECT_EQ(Field(r1, "f8"), Value::Float64(-std::numeric_limits<double>::infinity()));
  EXPECT_EQ(Field(r1, "t"), Value::Text("tab\there \"q\" \\ nl\n emoji \U0001F600"));
  EXPECT_EQ(Field(r1, "c"), Value::Text("ab "));
  EXPECT_EQ(Field(r1, "by"), Value::Bytes(std::string("\x00\xff", 2)));
  EXPECT_EQ(Field(r1, "d"), Value::Date(model::DateValue::FromCivil(-4713, 11, 24)));
  EXPECT_EQ(Field(r1, "tm"), Value::Time(kMicrosPerDay));
  EXPECT_EQ(Field(r1, "ttz"), Value::TimeTz({kMicrosPerDay - 1, -(15 * 3600 + 59 * 60)}));
  EXPECT_EQ(Field(r1, "ts"), Value::TypedText("timestamp", "294276-12-31 23:59:59.999999"));
  EXPECT_EQ(Field(r1, "tstz"),
            Value::TimestampTz(
                {TemporalKind::kFinite,
                 model::DaysFromCivil({-43, 3, 15}) * kMicrosPerDay + 12LL * 3600 * 1'000'000}));
  EXPECT_EQ(Field(r1, "iv"), Value::Interval({-2136000000, -1, 1}));
  EXPECT_EQ(Field(r1, "jb"), Value::Json("{\"a\": 1, \"b\": null}"));
  EXPECT_EQ(Field(r1, "ai"), Value::Array({Value::Array({Value::Int64(1), Value::Null()}),
                                           Value::Array({Value::Int64(3), Value::Int64(4)})}));
  EXPECT_EQ(Field(r1, "at"), Value::Array({Value::Text("a,b"), Value::Text("say \"hi\""),
                                           Value::Null(), Value::Text("NULL"), Value::Text("")}));
  EXPECT_EQ(Field(r1, "e"), Value::Enum("very happy"));
  EXPECT_EQ(Field(r1, "ea"), Value::Array({Value::Enum("sad"), Value::Enum("very happy")}));
  EXPECT_EQ(Field(r1, "dom"), Value::Int64(5));
  EXPECT_EQ(Field(r1, "bits"), Value::Bits("1010"));
  EXPECT_EQ(Field(r1, "money_v"), Value::TypedText("money", "$1,234.56"));
  EXPECT_EQ(Field(r1, "oid_v"), Value::Int64(4294967295LL));
  const ChangeEvent& r2 = all[1];
  EXPECT_EQ(Field(r2, "n").Get<model::DecimalValue>().text.size(), 1001u);
  EXPECT_EQ(Field(r2, "d"), Value::Date({TemporalKind::kPositiveInfinity, 0}));
  EXPECT_EQ(Field(r2, "ts"), Value::Timestamp({TemporalKind::kNegativeInfinity, 0}));
  EXPECT_EQ(Field(r2, "vc"), Value::Null());
  EXPECT_EQ(Field(r2, "by"), Value::Bytes(""));
  const ChangeEvent& r3 = all[2];
  EXPECT_EQ(Field(r3, "f4"), Value::Float32(-0.0f));
  EXPECT_EQ(Field(r3, "tstz"), Value::TimestampTz({TemporalKind::kFinite, 0}));
  EXPECT_EQ(Field(r3, "ai"), Value::Array({Value::Int64(7), Value::Int64(8)}));
  EXPECT_EQ(Field(all[3], "f4"), Value::Float32(3.4028235e38f));
  EXPECT_EQ(Field(all[3], "f8"), Value::Float64(0.1));
  EXPECT_EQ(Field(all[4], "f4"), Value::Float32(7.0000005f));
  EXPECT_EQ(Field(all[4], "f8"), Value::Float64(-0.0));
  EXPECT_EQ(Field(all[5], "f4"), Value::Float32(1.17549435e-38f));
  EXPECT_EQ(Field(all[5], "f8"), Value::Float64(123456789.12345679));
  EXPECT_TRUE(capture_->Stop().ok());
}

TEST_F(CaptureTest, DmlReplicaIdentityToastTruncateAndSchemaChange) {
  Sql("CREATE TABLE dml_t (id int PRIMARY KEY, small text, big text)");
  PostgresCaptureOptions options = Options({"public.dml_t"});
  options.capture_messages = true;
  StartCapture(options);
  WaitStreaming();
  // An uncompressible value above the TOAST threshold, stored out of line.
  const std::string big_sql =
      "(SELECT string_agg(md5(g::text), '') FROM generate_series(1, 200) g)";
  Sql("INSERT INTO dml_t VALUES (1, 'a', " + big_sql + ")");
  Sql("UPDATE dml_t SET small = 'b' WHERE id = 1");  // DEFAULT: big unchanged TOAST
  Sql("UPDATE dml_t SET id = 2 WHERE id = 1");       // key change: before = key
  Sql("ALTER TABLE dml_t REPLICA IDENTITY FULL");
  Sql("UPDATE dml_t SET small = 'c' WHERE id = 2");  // FULL: big from the old tuple
  Sql("DELETE FROM dml_t WHERE id = 2");             // FULL: before = whole row
  Sql("ALTER TABLE dml_t ADD COLUMN extra int DEFAULT 7");
  Sql("INSERT INTO dml_t (id, small) VALUES (3, 'new shape')");
  Sql("SELECT pg_logical_emit_message(true, 'audit', 'hello')");
  Sql("BEGIN; INSERT INTO dml_t (id) VALUES (4); "
      "SELECT pg_logical_emit_message(true, 'audit', 'in tx'); COMMIT");
  Sql("TRUNCATE dml_t");
  std::vector<ChangeEvent> events = WaitForEvents(10);
  ASSERT_EQ(events.size(), 10u);
  std::string big = events[0].after->at(2).value.Get<std::string>();
  EXPECT_EQ(big.size(), 6400u);

  EXPECT_EQ(events[1].op, Operation::kUpdate);
  EXPECT_FALSE(events[1].before.has_value());
  EXPECT_TRUE(Field(events[1], "big").is_unavailable()) << Field(events[1], "big").DebugString();
  EXPECT_EQ(Field(events[1], "small"), Value::Text("b"));

  ASSERT_TRUE(events[2].before.has_value());
  EXPECT_EQ(events[2].before->size(), 1u);
  EXPECT_EQ(events[2].before->at(0).value, Value::Int64(1));
  EXPECT_EQ(events[2].key.at(0).value, Value::Int64(2));

  ASSERT_TRUE(events[3].before.has_value());
  EXPECT_EQ(events[3].before->size(), 3u);
  EXPECT_EQ(Field(events[3], "big"), Value::Text(big));
  EXPECT_EQ(events[3].key.size(), 1u);

  EXPECT_EQ(events[4].op, Operation::kDelete);
  EXPECT_EQ(events[4].before->size(), 3u);
  EXPECT_EQ(events[4].key.at(0).value, Value::Int64(2));

  EXPECT_EQ(events[5].op, Operation::kInsert);
  EXPECT_EQ(events[5].after->size(), 4u);
  EXPECT_EQ(Field(events[5], "extra"), Value::Int64(7));
  EXPECT_GT(events[5].schema_version, events[0].schema_version);

  EXPECT_EQ(events[6].op, Operation::kMessage);
  EXPECT_EQ(events[6].message->prefix, "audit");
  EXPECT_EQ(events[6].message->content, "hello");
  EXPECT_EQ(events[7].op, Operation::kInsert);
  EXPECT_EQ(events[8].op, Operation::kMessage);
  EXPECT_EQ(events[8].transaction_id, events[7].transaction_id);
  EXPECT_EQ(events[8].ordinal_in_transaction, 1u);
  EXPECT_EQ(events[9].op, Operation::kTruncate);

  // Positions: commit end LSNs never decrease; commit times are plausible nanoseconds.
  for (size_t i = 1; i < events.size(); ++i) {
    EXPECT_LE(events[i - 1].position.postgres()->commit_end_lsn,
              events[i].position.postgres()->commit_end_lsn);
  }
  EXPECT_GT(events[0].commit_time_ns, 1'600'000'000'000'000'000LL);
  EXPECT_TRUE(capture_->Stop().ok());
}

TEST_F(CaptureTest, LargeStreamedTransactionSpillsAndDropsRolledBackSubtransaction) {
  Sql("CREATE TABLE big_t (id int PRIMARY KEY, pad text)");
  PostgresCaptureOptions options = Options({"public.big_t"});
  options.transaction_memory_bytes = 256 * 1024;
  StartCapture(options);
  WaitStreaming();
  Sql("BEGIN; INSERT INTO big_t SELECT g, repeat('x', 100) FROM generate_series(1, 20000) g; "
      "SAVEPOINT s1; INSERT INTO big_t SELECT g, 'gone' FROM generate_series(20001, 25000) g; "
      "ROLLBACK TO SAVEPOINT s1; "
      "INSERT INTO big_t SELECT g, 'kept' FROM generate_series(30001, 30010) g; COMMIT");
  std::vector<ChangeEvent> events = WaitForEvents(20010);
  ASSERT_EQ(events.size(), 20010u);
  std::string transaction = events[0].transaction_id;
  for (size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i].transaction_id, transaction);
    EXPECT_EQ(events[i].ordinal_in_transaction, i);
    int64_t id = events[i].key.at(0).value.Get<int64_t>();
    EXPECT_TRUE(id <= 20000 || id > 30000) << id;
  }
  PostgresCaptureProgress progress = capture_->progress();
  EXPECT_GE(progress.spilled_transactions, 1u);
  EXPECT_EQ(progress.transactions, 1u);
  EXPECT_TRUE(capture_->Stop().ok());
}

TEST_F(CaptureTest, WalsenderKilledMidStreamLosesAndDuplicatesNothing) {
  Sql("CREATE TABLE kill_t (id int PRIMARY KEY)");
  StartCapture(Options({"public.kill_t"}));
  WaitStreaming();
  const int kTransactions = 300;
  for (int i = 1; i <= kTransactions; ++i) {
    Sql("INSERT INTO kill_t VALUES (" + std::to_string(i) + ")");
    if (i % 100 == 50) {
      Sql("SELECT pg_terminate_backend(pid) FROM pg_stat_replication WHERE application_name = "
          "'eddy'");
    }
  }
  std::vector<ChangeEvent> events = WaitForEvents(kTransactions);
  std::map<int64_t, int> seen;
  for (const ChangeEvent& event : events) seen[event.key.at(0).value.Get<int64_t>()]++;
  EXPECT_EQ(seen.size(), static_cast<size_t>(kTransactions));
  for (const auto& [id, count] : seen) EXPECT_EQ(count, 1) << "id " << id;
  EXPECT_EQ(events.size(), static_cast<size_t>(kTransactions));
  EXPECT_GE(capture_->progress().reconnects, 1u);
  EXPECT_TRUE(capture_->Stop().ok());
}

TEST_F(CaptureTest, RestartResumesExactlyOnceAndAcknowledgesOnlyDurable) {
  Sql("CREATE TABLE restart_t (id int PRIMARY KEY)");
  Sql("INSERT INTO restart_t SELECT generate_series(1, 10)");
  StartCapture(Options({"public.restart_t"}));
  std::vector<ChangeEvent> first = WaitForEvents(10);
  Lsn events_before_restart_start = first.back().position.postgres()->commit_end_lsn;
  Sql("INSERT INTO restart_t SELECT generate_series(11, 20)");
  WaitForEvents(20);
  ASSERT_TRUE(capture_->Stop().ok());
  capture_.reset();

  // Feedback reached the server: the slot's confirmed flush advanced at least to the start of
  // what the log holds (it may pass it when idle: keepalive WAL ends are acknowledged).
  auto sql = PgConnection::Connect(server->Url(), false);
  ASSERT_TRUE(sql.ok());
  auto slot = (*sql)->Query(
      "SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE "
      "slot_name = 'slot_" +
      name_ + "'");
  ASSERT_TRUE(slot.ok());
  auto confirmed = Lsn::Parse(*slot->rows.at(0).at(0));
  ASSERT_TRUE(confirmed.ok());
  EXPECT_GE(*confirmed, events_before_restart_start);

  // Changes while eddy is down, then a restart over the same log directory.
  Sql("INSERT INTO restart_t SELECT generate_series(21, 30)");
  OpenLog();
  StartCapture(Options({"public.restart_t"}));
  WaitStreaming();
  Sql("INSERT INTO restart_t SELECT generate_series(31, 40)");
  std::vector<ChangeEvent> events = WaitForEvents(40);
  std::map<int64_t, int> seen;
  for (const ChangeEvent& event : events) seen[event.key.at(0).value.Get<int64_t>()]++;
  EXPECT_EQ(seen.size(), 40u);
  for (const auto& [id, count] : seen) EXPECT_EQ(count, 1) << "id " << id;
  // No second snapshot: 10 snapshot rows, the rest streamed.
  size_t reads = 0;
  for (const ChangeEvent& event : events) reads += event.op == Operation::kRead;
  EXPECT_EQ(reads, 10u);
  EXPECT_TRUE(capture_->Stop().ok());
}

TEST_F(CaptureTest, DroppedSlotIsAClearErrorAndWhenNeededResnapshots) {
  Sql("CREATE TABLE slot_t (id int PRIMARY KEY)");
  Sql("INSERT INTO slot_t VALUES (1)");
  StartCapture(Options({"public.slot_t"}));
  WaitForEvents(1);
  ASSERT_TRUE(capture_->Stop().ok());
  capture_.reset();
  Sql("SELECT pg_drop_replication_slot('slot_" + name_ + "')");

  StartCapture(Options({"public.slot_t"}));
  ASSERT_TRUE(capture_->WaitUntilFinished(milliseconds(60000)));
  Status failed = capture_->Stop();
  EXPECT_EQ(failed.code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(failed.message().find("slot_" + name_), std::string::npos) << failed.ToString();
  capture_.reset();

  PostgresCaptureOptions options = Options({"public.slot_t"});
  options.snapshot_mode = SnapshotMode::kWhenNeeded;
  StartCapture(options);
  std::vector<ChangeEvent> events = WaitForEvents(2);
  EXPECT_EQ(events.back().op, Operation::kRead);
  EXPECT_TRUE(capture_->Stop().ok());
}

// An idle captured table on a busy cluster: the slot still advances (keepalive WAL ends are
// acknowledged when nothing is in flight), so it does not pin WAL.
TEST_F(CaptureTest, IdleSlotAdvancesWhileOtherTablesWrite) {
  Sql("CREATE TABLE idle_t (id int PRIMARY KEY)");
  Sql("CREATE TABLE busy_t (id int PRIMARY KEY, pad text)");
  Sql("INSERT INTO idle_t VALUES (1)");
  StartCapture(Options({"public.idle_t"}));
  WaitStreaming();
  WaitForEvents(1);
  Lsn durable = stream_->HighestDurablePosition().postgres()->commit_end_lsn;
  Sql("INSERT INTO busy_t SELECT g, repeat('y', 200) FROM generate_series(1, 5000) g");
  auto sql = PgConnection::Connect(server->Url(), false);
  ASSERT_TRUE(sql.ok());
  auto deadline = std::chrono::steady_clock::now() + seconds(60);
  Lsn confirmed;
  while (std::chrono::steady_clock::now() < deadline) {
    auto slot = (*sql)->Query(
        "SELECT confirmed_flush_lsn::text FROM pg_replication_slots "
        "WHERE slot_name = 'slot_" +
        name_ + "'");
    ASSERT_TRUE(slot.ok());
    confirmed = *Lsn::Parse(*slot->rows.at(0).at(0));
    if (confirmed > durable) break;
    capture_->WaitUntilFinished(milliseconds(100));
  }
  EXPECT_GT(confirmed, durable) << "the slot did not advance past " << durable.ToString();
  // Nothing of busy_t reached the log.
  EXPECT_EQ(ReadAll().size(), 1u);
  EXPECT_TRUE(capture_->Stop().ok());
}

TEST_F(CaptureTest, GlobTableFilterPublishesAllAndFiltersHere) {
  Sql("CREATE TABLE glob_a1 (id int PRIMARY KEY); CREATE TABLE glob_a2 (id int PRIMARY KEY); "
      "CREATE TABLE glob_b (id int PRIMARY KEY)");
  Sql("INSERT INTO glob_a1 VALUES (1); INSERT INTO glob_b VALUES (1)");
  StartCapture(Options({"public.glob_a*"}));
  WaitStreaming();
  Sql("INSERT INTO glob_a2 VALUES (2); INSERT INTO glob_b VALUES (2); "
      "INSERT INTO glob_a1 VALUES (3)");
  std::vector<ChangeEvent> events = WaitForEvents(3);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].op, Operation::kRead);
  EXPECT_EQ(events[0].table.name, "glob_a1");
  EXPECT_EQ(events[1].table.name, "glob_a2");
  EXPECT_EQ(events[2].table.name, "glob_a1");
  EXPECT_TRUE(capture_->Stop().ok());
}

// Terminating the walsender while large transactions are being streamed in S..E blocks: the
// partial in-progress transactions are discarded and received again whole.
TEST_F(CaptureTest, WalsenderKilledDuringStreamedTransactions) {
  Sql("CREATE TABLE kill_big_t (id int PRIMARY KEY, pad text)");
  PostgresCaptureOptions options = Options({"public.kill_big_t"});
  options.transaction_memory_bytes = 128 * 1024;
  StartCapture(options);
  WaitStreaming();
  const int kRounds = 3;
  const int kRows = 5000;
  for (int round = 0; round < kRounds; ++round) {
    Sql("INSERT INTO kill_big_t SELECT g, repeat('z', 100) FROM generate_series(" +
        std::to_string(round * kRows + 1) + ", " + std::to_string((round + 1) * kRows) + ") g");
    Sql("SELECT pg_terminate_backend(pid) FROM pg_stat_replication WHERE application_name = "
        "'eddy'");
  }
  std::vector<ChangeEvent> events = WaitForEvents(kRounds * kRows);
  std::map<int64_t, int> seen;
  for (const ChangeEvent& event : events) seen[event.key.at(0).value.Get<int64_t>()]++;
  EXPECT_EQ(seen.size(), static_cast<size_t>(kRounds * kRows));
  for (const auto& [id, count] : seen) {
    if (count != 1) {
      ADD_FAILURE() << "id " << id << " seen " << count << " times";
      break;
    }
  }
  EXPECT_EQ(events.size(), static_cast<size_t>(kRounds * kRows));
  EXPECT_GE(capture_->progress().reconnects, 1u);
  // A reconnect resumes streaming; it never re-snapshots (the initial snapshot was empty).
  size_t inserts = std::count_if(events.begin(), events.end(), [](const ChangeEvent& event) {
    return event.op == Operation::kInsert;
  });
  EXPECT_EQ(inserts, events.size());
  EXPECT_TRUE(capture_->Stop().ok());
}

TEST_F(CaptureTest, SnapshotReadsInChunksWithMarkers) {
  Sql("CREATE TABLE chunk_t (a int, b text, PRIMARY KEY (b, a))");
  Sql("INSERT INTO chunk_t SELECT g, 'k' || (g % 3) FROM generate_series(1, 100) g");
  Sql("CREATE TABLE chunk_empty_t (id int PRIMARY KEY)");
  PostgresCaptureOptions options = Options({"public.chunk_t", "public.chunk_empty_t"});
  options.snapshot_chunk_rows = 7;
  StartCapture(options);
  WaitStreaming();
  std::vector<ChangeEvent> events = WaitForEvents(100);
  ASSERT_EQ(events.size(), 100u);
  std::set<std::pair<std::string, int64_t>> keys;
  for (size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i].op, Operation::kRead);
    EXPECT_EQ(events[i].ordinal_in_transaction, i);
    ASSERT_EQ(events[i].key.size(), 2u);
    EXPECT_EQ(events[i].key[0].name, "b");
    keys.insert({events[i].key[0].value.Get<std::string>(), events[i].key[1].value.Get<int64_t>()});
    model::SnapshotMarker expected = i == 0    ? model::SnapshotMarker::kFirst
                                     : i == 99 ? model::SnapshotMarker::kLast
                                               : model::SnapshotMarker::kTrue;
    EXPECT_EQ(events[i].source.snapshot, expected) << i;
  }
  EXPECT_EQ(keys.size(), 100u);  // each row once (in heap order: the read has no ORDER BY)
  PostgresCaptureProgress progress = capture_->progress();
  EXPECT_EQ(progress.snapshot_rows, 100u);
  EXPECT_TRUE(capture_->Stop().ok());
}

// A transaction far larger than one part, streamed by the server (logical_decoding_work_mem is
// 64kB) and spilled here: appended in parts, and no reader — in this process or a read-only
// store as another process would open — sees any of it before the commit.
TEST_F(CaptureTest, LargeTransactionIsAppendedInPartsAndInvisibleUntilCommit) {
  Sql("CREATE TABLE huge_t (id int PRIMARY KEY, pad text)");
  struct Gate {
    std::mutex mu;
    std::condition_variable cv;
    int parts = 0;
    bool reached = false;
    bool released = false;
  };
  auto gate = std::make_shared<Gate>();
  PostgresCaptureOptions options = Options({"public.huge_t"});
  options.transaction_memory_bytes = 1 << 20;
  options.append_hook = [gate](const AppendStep& step) -> Status {
    if (step.kind != AppendStep::Kind::kPart) return Status::Ok();
    std::unique_lock lock(gate->mu);
    if (++gate->parts == 2) {
      gate->reached = true;
      gate->cv.notify_all();
      gate->cv.wait_for(lock, seconds(120), [&] { return gate->released; });
    }
    return Status::Ok();
  };
  auto release = [gate] {
    std::lock_guard lock(gate->mu);
    gate->released = true;
    gate->cv.notify_all();
  };
  StartCapture(options);
  WaitStreaming();
  // 20 parts of 10,000 records (4 under a sanitizer): the test needs two.
  const int kRows = static_cast<int>(ScaledForSanitizers(200000, 40000));
  Sql("INSERT INTO huge_t SELECT g, 'row ' || g FROM generate_series(1, " + std::to_string(kRows) +
      ") g");
  {
    std::unique_lock lock(gate->mu);
    bool reached = gate->cv.wait_for(lock, seconds(180), [&] { return gate->reached; });
    if (!reached) {
      lock.unlock();
      release();
      FAIL() << "the second part was never written; state=" << capture_->progress().state
             << " error=" << capture_->progress().last_error;
    }
  }
  // Two parts (20,000 records) are in the shard files, not committed.
  EXPECT_EQ(ReadAll().size(), 0u);
  log::LogStoreOptions read_only;
  read_only.read_only = true;
  auto other = log::LogStore::Open(dir_ + "/log", read_only);
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  auto other_stream = (*other)->GetStream("cdc");
  ASSERT_TRUE(other_stream.ok());
  auto other_reader = (*other_stream)->OpenReader(0, log::StartPosition::TrimHorizon());
  ASSERT_TRUE(other_reader.ok());
  auto other_batch = (*other_reader)->Read(log::ReadLimits{});
  ASSERT_TRUE(other_batch.ok());
  EXPECT_EQ(other_batch->records.size(), 0u);
  // The durable position is still the (empty) snapshot's consistent point.
  ASSERT_NE((*other_stream)->HighestDurablePosition().postgres(), nullptr);
  EXPECT_EQ((*other_stream)->HighestDurablePosition().postgres()->commit_end_lsn,
            stream_->HighestDurablePosition().postgres()->commit_end_lsn);
  release();

  std::vector<ChangeEvent> events = WaitForEvents(kRows, seconds(300));
  ASSERT_EQ(events.size(), static_cast<size_t>(kRows));
  std::string transaction = events[0].transaction_id;
  Lsn end = events[0].position.postgres()->commit_end_lsn;
  for (size_t i = 0; i < events.size(); ++i) {
    if (events[i].transaction_id != transaction || events[i].ordinal_in_transaction != i ||
        events[i].position.postgres()->commit_end_lsn != end) {
      ADD_FAILURE() << "event " << i << " has transaction " << events[i].transaction_id
                    << " ordinal " << events[i].ordinal_in_transaction;
      break;
    }
  }
  ExpectEachOnce(KeyCounts(events, "huge_t", Operation::kInsert), 1, kRows);
  EXPECT_EQ(stream_->HighestDurablePosition().postgres()->commit_end_lsn, end);
  PostgresCaptureProgress progress = capture_->progress();
  EXPECT_EQ(progress.parted_transactions, 1u);
  EXPECT_GE(progress.spilled_transactions, 1u);
  {
    std::lock_guard lock(gate->mu);
    EXPECT_GE(gate->parts, kRows / 10000 - 1);
  }
  EXPECT_TRUE(capture_->Stop().ok());
}

// An append failure in the middle of a transaction being appended in parts: the parts are
// discarded, the capture reconnects, the server sends the transaction again, and the log has
// it exactly once (with the small transactions around it).
TEST_F(CaptureTest, AppendErrorMidTransactionDiscardsPartsAndResendsExactlyOnce) {
  Sql("CREATE TABLE fault_t (id int PRIMARY KEY)");
  auto parts = std::make_shared<std::atomic<int>>(0);
  PostgresCaptureOptions options = Options({"public.fault_t"});
  options.append_part_records = 1000;
  options.append_hook = [parts](const AppendStep& step) -> Status {
    if (step.kind == AppendStep::Kind::kPart && ++*parts == 3) {
      return IoError("injected failure after the third part");
    }
    return Status::Ok();
  };
  StartCapture(options);
  WaitStreaming();
  Sql("INSERT INTO fault_t VALUES (1)");
  Sql("INSERT INTO fault_t SELECT generate_series(2, 20001)");
  Sql("INSERT INTO fault_t VALUES (20002)");
  std::vector<ChangeEvent> events = WaitForEvents(20002);
  EXPECT_EQ(events.size(), 20002u);
  ExpectEachOnce(KeyCounts(events, "fault_t", Operation::kInsert), 1, 20002);
  PostgresCaptureProgress progress = capture_->progress();
  EXPECT_GE(progress.reconnects, 1u);
  EXPECT_EQ(progress.parted_transactions, 1u);
  EXPECT_GT(parts->load(), 3);
  EXPECT_TRUE(capture_->Stop().ok());
}

// The process dies (SIGKILL, no Abort) after some parts of a large transaction were written:
// recovery leaves no trace of them, and the restarted capture, which the slot sends the
// transaction again, stores it exactly once.
TEST_F(CaptureTest, CrashMidTransactionLeavesNothingAndRestartCapturesOnce) {
  Sql("CREATE TABLE crash_t (id int PRIMARY KEY, pad text)");
  Sql("INSERT INTO crash_t VALUES (0, 'snapshot')");
  PostgresCaptureOptions options = Options({"public.crash_t"});
  options.append_part_records = 2000;
  options.transaction_memory_bytes = 512 * 1024;
  StartCapture(options);
  WaitForEvents(1);
  ASSERT_TRUE(capture_->Stop().ok());
  capture_.reset();
  Lsn before_crash = stream_->HighestDurablePosition().postgres()->commit_end_lsn;

  Sql("INSERT INTO crash_t SELECT g, repeat('c', 50) FROM generate_series(1, 30000) g");
  auto parts = std::make_shared<int>(0);
  CaptureInChildAndCrash(options, [parts](const AppendStep& step) {
    return step.kind == AppendStep::Kind::kPart && ++*parts == 4;
  });
  // Only the snapshot row: the four parts written before the crash were never committed.
  std::vector<ChangeEvent> after_crash = ReadAll();
  ASSERT_EQ(after_crash.size(), 1u);
  EXPECT_EQ(after_crash[0].op, Operation::kRead);
  EXPECT_EQ(stream_->HighestDurablePosition().postgres()->commit_end_lsn, before_crash);

  WaitSlotInactive(options.slot_name);
  Sql("INSERT INTO crash_t VALUES (30001, 'after')");
  StartCapture(options);
  std::vector<ChangeEvent> events = WaitForEvents(30002);
  EXPECT_EQ(events.size(), 30002u);
  ExpectEachOnce(KeyCounts(events, "crash_t", Operation::kInsert), 1, 30001);
  EXPECT_EQ(capture_->progress().parted_transactions, 1u);
  EXPECT_TRUE(capture_->Stop().ok());
}

// A crash in the middle of the initial snapshot: the snapshot is one transaction ending at the
// slot's consistent point, so nothing of the interrupted attempt is visible; the restart takes
// the snapshot again (no gap, no duplicate) and then streams.
TEST_F(CaptureTest, SnapshotInterruptedByCrashRestartsWithoutGapOrDuplicate) {
  Sql("CREATE TABLE snapcrash_t (id int PRIMARY KEY, pad text)");
  Sql("INSERT INTO snapcrash_t SELECT g, 'initial' FROM generate_series(1, 30000) g");
  Sql("ANALYZE snapcrash_t");
  PostgresCaptureOptions options = Options({"public.snapcrash_t"});
  options.snapshot_chunk_rows = 1000;
  options.append_part_records = 5000;
  auto parts = std::make_shared<int>(0);
  CaptureInChildAndCrash(options, [parts](const AppendStep& step) {
    return step.kind == AppendStep::Kind::kSnapshotPart && ++*parts == 2;
  });
  EXPECT_EQ(ReadAll().size(), 0u);
  EXPECT_TRUE(stream_->HighestDurablePosition().empty());

  // Changes while the capture is down belong to the next snapshot.
  Sql("INSERT INTO snapcrash_t SELECT g, 'while down' FROM generate_series(30001, 30010) g");
  Sql("UPDATE snapcrash_t SET pad = 'updated while down' WHERE id = 1");
  WaitSlotInactive(options.slot_name);
  StartCapture(options);
  WaitStreaming();
  Sql("INSERT INTO snapcrash_t SELECT g, 'streamed' FROM generate_series(30011, 30020) g");
  std::vector<ChangeEvent> events = WaitForEvents(30020);
  EXPECT_EQ(events.size(), 30020u);
  ExpectEachOnce(KeyCounts(events, "snapcrash_t", Operation::kRead), 1, 30010);
  ExpectEachOnce(KeyCounts(events, "snapcrash_t", Operation::kInsert), 30011, 30020);
  ASSERT_FALSE(events.empty());
  // The row updated while the capture was down has its new value (wherever the heap keeps it).
  size_t updated = 0;
  for (size_t i = 0; i < events.size(); ++i) {
    if (Field(events[i], "id") == Value::Int64(1)) updated = i;
  }
  EXPECT_EQ(Field(events[updated], "pad"), Value::Text("updated while down"));
  EXPECT_EQ(events[0].source.snapshot, model::SnapshotMarker::kFirst);
  EXPECT_EQ(events[30009].source.snapshot, model::SnapshotMarker::kLast);
  PostgresCaptureProgress progress = capture_->progress();
  EXPECT_EQ(progress.snapshot_rows, 30010u);
  EXPECT_GE(progress.snapshot_rows_estimated, 30000u);
  EXPECT_TRUE(capture_->Stop().ok());
}

// Small transactions that queue up while the log is busy are group-committed: one append (one
// fsync) for the batch, each transaction still exactly once and in commit order.
TEST_F(CaptureTest, QueuedSmallTransactionsAreGroupCommittedExactlyOnce) {
  Sql("CREATE TABLE group_t (id int PRIMARY KEY)");
  struct Gate {
    std::mutex mu;
    std::condition_variable cv;
    bool held = false;
    bool released = false;
  };
  auto gate = std::make_shared<Gate>();
  PostgresCaptureOptions options = Options({"public.group_t"});
  options.append_hook = [gate](const AppendStep& step) -> Status {
    if (step.kind != AppendStep::Kind::kTransaction) return Status::Ok();
    std::unique_lock lock(gate->mu);
    if (!gate->held) {  // hold the appender thread after the first transaction
      gate->held = true;
      gate->cv.wait_for(lock, seconds(120), [&] { return gate->released; });
    }
    return Status::Ok();
  };
  StartCapture(options);
  WaitStreaming();
  const int kTransactions = 50;
  for (int i = 1; i <= kTransactions; ++i)
    Sql("INSERT INTO group_t VALUES (" + std::to_string(i) + ")");
  // All but the held one (or two, when the second arrived before the first append began)
  // wait in the queue.
  auto deadline = std::chrono::steady_clock::now() + seconds(60);
  while (capture_->progress().queued_appends < kTransactions - 2 &&
         std::chrono::steady_clock::now() < deadline) {
    capture_->WaitUntilFinished(milliseconds(10));
  }
  auto settle = std::chrono::steady_clock::now() + seconds(2);
  while (capture_->progress().queued_appends < kTransactions - 1 &&
         std::chrono::steady_clock::now() < settle) {
    capture_->WaitUntilFinished(milliseconds(10));
  }
  EXPECT_GE(capture_->progress().queued_appends, static_cast<uint64_t>(kTransactions - 2));
  {
    std::lock_guard lock(gate->mu);
    gate->released = true;
    gate->cv.notify_all();
  }
  std::vector<ChangeEvent> events = WaitForEvents(kTransactions);
  ASSERT_EQ(events.size(), static_cast<size_t>(kTransactions));
  for (int i = 0; i < kTransactions; ++i) {
    EXPECT_EQ(events[i].key.at(0).value, Value::Int64(i + 1));
    EXPECT_EQ(events[i].ordinal_in_transaction, 0u);
  }
  // The counters follow the append that made the events readable: wait for them.
  auto counted = std::chrono::steady_clock::now() + seconds(10);
  while (capture_->progress().transactions < static_cast<uint64_t>(kTransactions) &&
         std::chrono::steady_clock::now() < counted) {
    capture_->WaitUntilFinished(milliseconds(10));
  }
  PostgresCaptureProgress progress = capture_->progress();
  EXPECT_EQ(progress.transactions, static_cast<uint64_t>(kTransactions));
  // The first one, then the ones queued behind it in one batch.
  EXPECT_GE(progress.log_commits, 2u);
  EXPECT_LE(progress.log_commits, 3u);
  EXPECT_EQ(stream_->HighestDurablePosition().postgres()->commit_end_lsn,
            events.back().position.postgres()->commit_end_lsn);
  EXPECT_TRUE(capture_->Stop().ok());
}

// pg_ctl on a server's data directory (as the postgres user when we are root, as localdb runs
// it). `pg_ctl restart` reuses the previous command line (postmaster.opts): same port, same
// settings. The restarted postmaster is no longer localdb's child, so the test stops it.
Status PgCtl(const localdb::LocalPostgres& pg, const std::string& arguments) {
  std::string output = pg.dir() + "/pg_ctl.out";
  std::string command = std::string(localdb::kPostgresBinDir) + "/pg_ctl -D '" + pg.dir() +
                        "/data' -w -t 60 " + arguments;
  if (::geteuid() == 0) command = "runuser -u postgres -- " + command;
  command += " > '" + output + "' 2>&1";
  int status = std::system(command.c_str());
  if (status == 0) return Status::Ok();
  std::ifstream in(output);
  std::stringstream text;
  text << in.rdbuf();
  return Internal("pg_ctl " + arguments + " failed (status " + std::to_string(status) +
                  "): " + text.str());
}

// PostgreSQL is restarted twice (fast, then immediate: crash recovery) while a writer commits
// one-row transactions: the capture reconnects with backoff and the log has every committed
// row exactly once.
TEST_F(CaptureTest, ServerRestartsMidStreamLoseAndDuplicateNothing) {
  localdb::LocalPostgresOptions server_options;
  // localdb turns synchronous_commit off for speed; then an immediate shutdown loses the last
  // commits the writer was told had succeeded. With it on, every acknowledged commit survives.
  server_options.settings.push_back({"synchronous_commit", "on"});
  auto started = localdb::LocalPostgres::Start(server_options);
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  std::unique_ptr<localdb::LocalPostgres> pg = std::move(*started);
  bool restarted = false;
  struct StopRestarted {
    localdb::LocalPostgres* pg;
    bool* restarted;
    ~StopRestarted() {
      if (*restarted) {
        Status stopped = PgCtl(*pg, "stop -m fast");
        if (!stopped.ok()) ADD_FAILURE() << stopped.ToString();
      }
    }
  } stop_restarted{pg.get(), &restarted};
  ASSERT_TRUE(pg->Execute("CREATE TABLE restart_srv_t (id int PRIMARY KEY)").ok());

  PostgresCaptureOptions options = Options({"public.restart_srv_t"});
  options.conninfo = pg->Url();
  StartCapture(options);
  WaitStreaming();

  const int kRows = 3000;
  struct Shared {
    std::mutex mu;
    std::condition_variable cv;
    int committed = 0;
    int errors = 0;
    bool done = false;
    std::string failure;
  };
  auto shared = std::make_shared<Shared>();
  std::string url = pg->Url();
  std::thread writer([shared, url] {
    std::unique_ptr<PgConnection> sql;
    auto deadline = std::chrono::steady_clock::now() + seconds(240);
    for (int id = 1; id <= kRows;) {
      if (std::chrono::steady_clock::now() > deadline) {
        std::lock_guard lock(shared->mu);
        shared->failure = "writer ran out of time at id " + std::to_string(id);
        break;
      }
      if (sql == nullptr) {
        auto connected = PgConnection::Connect(url, false);
        if (!connected.ok()) {
          std::unique_lock lock(shared->mu);
          shared->errors++;
          // The server is restarting: retry, paced (bounded by the deadline above).
          shared->cv.wait_for(lock, milliseconds(20));
          continue;
        }
        sql = std::move(*connected);
      }
      // A commit whose outcome was lost with the connection is retried; ON CONFLICT makes the
      // retry harmless either way.
      Status inserted = sql->Execute("INSERT INTO restart_srv_t VALUES (" + std::to_string(id) +
                                     ") ON CONFLICT DO NOTHING");
      if (!inserted.ok()) {
        sql.reset();
        std::lock_guard lock(shared->mu);
        shared->errors++;
        continue;
      }
      std::lock_guard lock(shared->mu);
      shared->committed = id;
      shared->cv.notify_all();
      ++id;
    }
    std::lock_guard lock(shared->mu);
    shared->done = true;
    shared->cv.notify_all();
  });
  auto wait_committed = [&](int count) {
    std::unique_lock lock(shared->mu);
    return shared->cv.wait_for(lock, seconds(120),
                               [&] { return shared->committed >= count || shared->done; });
  };
  EXPECT_TRUE(wait_committed(kRows / 3));
  Status fast = PgCtl(*pg, "restart -m fast -l '" + pg->dir() + "/restart.log'");
  restarted = true;
  EXPECT_TRUE(fast.ok()) << fast.ToString();
  EXPECT_TRUE(wait_committed(2 * kRows / 3));
  Status immediate = PgCtl(*pg, "restart -m immediate -l '" + pg->dir() + "/restart.log'");
  EXPECT_TRUE(immediate.ok()) << immediate.ToString();
  writer.join();
  {
    std::lock_guard lock(shared->mu);
    ASSERT_TRUE(shared->failure.empty()) << shared->failure;
    EXPECT_EQ(shared->committed, kRows);
  }
  // The table after the restarts holds every row the writer was told was committed.
  auto count = PgConnection::Connect(pg->Url(), false);
  ASSERT_TRUE(count.ok()) << count.status().ToString();
  auto rows = (*count)->Query(
      "SELECT count(*)::text, min(id)::text, max(id)::text FROM "
      "restart_srv_t");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(rows->rows.at(0).at(0).value_or(""), std::to_string(kRows));
  std::vector<ChangeEvent> events = WaitForEvents(kRows, seconds(120));
  EXPECT_EQ(events.size(), static_cast<size_t>(kRows));
  ExpectEachOnce(KeyCounts(events, "restart_srv_t", Operation::kInsert), 1, kRows);
  EXPECT_GE(capture_->progress().reconnects, 2u);
  EXPECT_TRUE(capture_->Stop().ok());
  capture_.reset();
}

}  // namespace
}  // namespace eddy::source::postgres
