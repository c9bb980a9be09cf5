// Table schemas from the source catalog, as a sink sees them: the real `eddy run` captures a
// table with every type of the capture tests' type matrices (plus a column null in every row
// and NOT NULL columns) from a throwaway PostgreSQL or MariaDB server (src/localdb), then an
// ALTER TABLE ADD/DROP COLUMN, and is restarted. Afterwards a consume::SinkRunner (the path
// every sink takes) reads the data directory and each record's SinkRecord::table_schema must
// be the catalog's schema of its table at that record: columns in order, types, nullability,
// primary key, precision/scale/length, checked against the server's information_schema; a
// snapshot row and a streamed row share one schema; versions stay unique across the restart;
// and `eddy log schemas` prints what was recorded.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "consume/sink_runner.h"
#include "consume/sink_settings.h"
#include "consume/stream_reader.h"
#include "localdb/local_mariadb.h"
#include "localdb/local_postgres.h"
#include "localdb/process.h"
#include "log/log_store.h"
#include "model/event_codec.h"
#include "schema/schema_history.h"

namespace eddy {
namespace {

using std::chrono::steady_clock;

std::string ReadFile(const std::string& path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

// Runs a command; its exit status and combined output.
std::pair<int, std::string> RunCommand(const std::string& command) {
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return {-1, "popen failed"};
  std::string output;
  char buffer[4096];
  while (size_t n = std::fread(buffer, 1, sizeof(buffer), pipe)) output.append(buffer, n);
  int status = ::pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

// A destination that keeps every record it is given.
class CollectingDestination final : public consume::Destination {
 public:
  struct Shared {
    std::mutex mu;
    std::vector<consume::SinkRecord> records;
  };
  explicit CollectingDestination(std::shared_ptr<Shared> shared) : shared_(std::move(shared)) {}
  Status Open() override { return Status::Ok(); }
  consume::DeliveryOutcome Deliver(const consume::SinkBatch& batch) override {
    std::lock_guard lock(shared_->mu);
    for (const auto& record : batch.records) shared_->records.push_back(record);
    consume::DeliveryOutcome outcome;
    outcome.acknowledged = batch.records.size();
    return outcome;
  }
  Status Close() override { return Status::Ok(); }

 private:
  std::shared_ptr<Shared> shared_;
};

// What the server's catalog says about one column.
struct CatalogColumn {
  std::string name;
  bool nullable = true;
  std::optional<int32_t> length;
  std::optional<int32_t> precision;
  std::optional<int32_t> scale;
};

class TableSchemasTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/eddy-schemas-test-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
    data_dir_ = dir_ + "/data";
  }
  void TearDown() override {
    eddy_.Stop(SIGKILL, std::chrono::seconds(5));
    std::filesystem::remove_all(dir_);
  }

  void StartEddy(const std::string& source, const std::string& tables) {
    log_path_ = dir_ + "/eddy-" + std::to_string(++starts_) + ".log";
    std::vector<std::string> args = {EDDY_BINARY,  "run",     "--source",     source,
                                     "--data-dir", data_dir_, "--stream",     "s",
                                     "--tables",   tables,    "--api-listen", "127.0.0.1:0"};
    auto child = localdb::ChildProcess::Start(localdb::ChildOptions{args, {}, log_path_, {}, 9});
    ASSERT_TRUE(child.ok()) << child.status().ToString();
    eddy_ = std::move(*child);
  }

  void StopEddy() {
    int status = eddy_.Stop(SIGTERM, std::chrono::seconds(60));
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
        << localdb::DescribeWaitStatus(status) << "\n"
        << ReadFile(log_path_);
  }

  // Follows the stream (read-only, next to the running writer) until a row change whose key
  // column `id` equals `id` is in the log.
  void WaitForRow(int64_t id) {
    auto deadline = steady_clock::now() + std::chrono::seconds(90);
    while (steady_clock::now() < deadline) {
      if (auto status = eddy_.TryWait()) {
        FAIL() << "eddy exited (" << localdb::DescribeWaitStatus(*status) << "):\n"
               << ReadFile(log_path_);
      }
      log::LogStoreOptions options;
      options.read_only = true;
      auto store = log::LogStore::Open(data_dir_, options);
      if (store.ok()) {
        auto stream = (*store)->GetStream("s");
        if (stream.ok()) {
          auto reader = consume::StreamReader::Open(*stream, {});
          ASSERT_TRUE(reader.ok()) << reader.status().ToString();
          std::vector<consume::ReadRecord> records;
          while (true) {
            records.clear();
            ASSERT_TRUE((*reader)->Next(&records).ok());
            if (records.empty()) break;
            for (const auto& record : records) {
              auto event = model::DecodeEvent(record.record.payload);
              ASSERT_TRUE(event.ok()) << event.status().ToString();
              for (const auto& field : event->key) {
                if (field.name == "id" &&
                    field.value.CanonicalText() == model::Value::Int64(id).CanonicalText()) {
                  return;
                }
              }
            }
          }
          // Caught up without it: wait for the writer's next commit.
          (*reader)
              ->WaitForCommit(steady_clock::now() + std::chrono::milliseconds(500))
              .IgnoreError();
          continue;
        }
      }
      // The data directory or stream is not created yet: nothing to block on.
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    FAIL() << "row id=" << id << " never reached the log\n" << ReadFile(log_path_);
  }

  // Every record of the stream as a sink receives it, eddy stopped.
  std::vector<consume::SinkRecord> ReadAsASink(size_t expected) {
    log::LogStoreOptions options;
    options.read_only = true;
    auto store = log::LogStore::Open(data_dir_, options);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    if (!store.ok()) return {};
    auto stream = (*store)->GetStream("s");
    EXPECT_TRUE(stream.ok());
    schema::SchemaHistoryOptions history_options;
    history_options.read_only = true;
    auto history =
        schema::SchemaHistory::Open(schema::SchemaHistoryPath(data_dir_, "s"), history_options);
    EXPECT_TRUE(history.ok()) << history.status().ToString();
    if (!stream.ok() || !history.ok()) return {};
    consume::SinkSpec spec;
    spec.name = "schemas-reader";
    spec.stream = "s";
    spec.url = "collect://test";
    spec.data_dir = dir_;
    spec.settings = {{"format", "native"}};
    auto settings = consume::ParseSinkSettings(spec);
    EXPECT_TRUE(settings.ok()) << settings.status().ToString();
    auto shared = std::make_shared<CollectingDestination::Shared>();
    consume::SinkRunnerOptions runner_options;
    runner_options.schemas = *history;
    auto runner =
        consume::SinkRunner::Start(spec, *settings, *stream, nullptr,
                                   std::make_unique<CollectingDestination>(shared), runner_options);
    EXPECT_TRUE(runner.ok()) << runner.status().ToString();
    if (!runner.ok()) return {};
    EXPECT_TRUE((*runner)->WaitFor(
        [&](const consume::SinkStatus& status) { return status.delivered_records >= expected; },
        steady_clock::now() + std::chrono::seconds(60)));
    EXPECT_TRUE((*runner)->Stop().ok());
    std::lock_guard lock(shared->mu);
    return shared->records;
  }

  // The row changes of the stream by their `id`, in log order.
  static std::map<int64_t, std::vector<const consume::SinkRecord*>> RowsById(
      const std::vector<consume::SinkRecord>& records) {
    std::map<int64_t, std::vector<const consume::SinkRecord*>> rows;
    for (const auto& record : records) {
      if (record.event == nullptr || !model::IsRowChange(record.event->op)) continue;
      for (const auto& field : record.event->key) {
        if (field.name != "id") continue;
        std::string text = field.value.CanonicalText();
        rows[std::stoll(text.substr(text.find(':') + 1))].push_back(&record);
      }
    }
    return rows;
  }

  // The recorded schema equals the catalog's: column names in order, nullability, key and
  // modifiers; every column typed (never the placeholder types).
  static void ExpectCatalogSchema(const model::TableSchema& schema,
                                  const std::vector<CatalogColumn>& catalog,
                                  const std::vector<std::string>& primary_key) {
    ASSERT_EQ(schema.columns.size(), catalog.size());
    for (size_t i = 0; i < catalog.size(); ++i) {
      const model::Column& column = schema.columns[i];
      SCOPED_TRACE("column " + catalog[i].name);
      EXPECT_EQ(column.name, catalog[i].name);
      EXPECT_EQ(column.nullable, catalog[i].nullable);
      EXPECT_FALSE(column.source_type.empty());
      EXPECT_NE(column.type, model::ValueType::kNull);
      EXPECT_NE(column.type, model::ValueType::kUnavailable);
      if (catalog[i].length) {
        EXPECT_EQ(column.length, catalog[i].length);
      }
      EXPECT_EQ(column.precision, catalog[i].precision);
      EXPECT_EQ(column.scale, catalog[i].scale);
      auto key = std::find(primary_key.begin(), primary_key.end(), column.name);
      EXPECT_EQ(column.primary_key_ordinal,
                key == primary_key.end() ? 0 : static_cast<int>(key - primary_key.begin()) + 1);
    }
    EXPECT_EQ(schema.primary_key, primary_key);
  }

  std::string dir_;
  std::string data_dir_;
  std::string log_path_;
  int starts_ = 0;
  localdb::ChildProcess eddy_;
};

std::optional<int32_t> Number(const std::string& text) {
  if (text.empty() || text == "NULL" || text == "\\N") return std::nullopt;
  return std::stoi(text);
}

// ---- PostgreSQL ----

const char kPgTypesTable[] = R"(
  CREATE TYPE mood AS ENUM ('sad', 'happy', 'very happy');
  CREATE DOMAIN positive_int AS int4 CHECK (VALUE > 0);
  CREATE TABLE types_t (
    id int PRIMARY KEY, b bool, i2 int2, i4 int4, i8 int8, n numeric, nn numeric(10,2),
    f4 float4, f8 float8, t text, vc varchar(20), c char(3), by bytea, d date, tm time,
    ttz timetz, ts timestamp, tstz timestamptz, iv interval, u uuid, j json, jb jsonb,
    ai int4[], at text[], e mood, ea mood[], dom positive_int, inet_v inet, cidr_v cidr,
    mac macaddr, bits bit(4), vbits varbit, money_v money, x xml, pt point, bx box,
    circ circle, rng int4range, tsr tstzrange, oid_v oid,
    ts3 timestamp(3), tm6 time(6), req int NOT NULL DEFAULT 7, never_null text);
)";

const char kPgRow[] =
    "(%ID%, true, 1, 2, 3, 4.5, 12345678.91, 1.5, 2.5, 'text', 'varchar', 'ab', '\\x00ff', "
    "'2024-02-29', '13:45:01.5', '23:59:59-01', '2024-01-01 00:00:00', "
    "'2024-01-01 00:00:00+00', '1 day', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{\"a\": 1}', "
    "'{\"b\": 2}', '{1,2}', '{a,b}', 'happy', '{sad}', 5, '192.168.0.1/24', '10.0.0.0/8', "
    "'08:00:2b:01:02:03', B'1010', B'1', 12.34, '<a/>', '(1,2)', '((0,0),(1,1))', "
    "'<(1,2),3>', '[1,5)', '[2024-01-01 00:00:00+00,infinity)', 42, "
    "'2024-01-01 00:00:00.123', '01:02:03.456789', 1, NULL)";

std::string PgRow(int id) {
  std::string row = kPgRow;
  row.replace(row.find("%ID%"), 4, std::to_string(id));
  return row;
}

std::vector<CatalogColumn> CatalogColumns(const localdb::SqlRows& rows) {
  std::vector<CatalogColumn> columns;
  for (const auto& row : rows.rows) {
    CatalogColumn column;
    column.name = row[0].value_or("");
    column.nullable = row[1].value_or("") == "t" || row[1].value_or("") == "YES";
    column.length = Number(row[2].value_or(""));
    column.precision = Number(row[3].value_or(""));
    column.scale = Number(row[4].value_or(""));
    columns.push_back(column);
  }
  return columns;
}

std::vector<CatalogColumn> PgCatalog(const localdb::LocalPostgres& pg) {
  auto session = pg.Connect();
  EXPECT_TRUE(session.ok()) << session.status().ToString();
  if (!session.ok()) return {};
  auto rows = session->Query(
      "SELECT a.attname, NOT a.attnotnull, "
      "CASE WHEN a.atttypid IN (1042, 1043) AND a.atttypmod >= 4 THEN a.atttypmod - 4 "
      "WHEN a.atttypid IN (1560, 1562) AND a.atttypmod >= 0 THEN a.atttypmod END, "
      "CASE WHEN a.atttypid = 1700 AND a.atttypmod >= 4 THEN ((a.atttypmod - 4) >> 16) & 65535 "
      "WHEN a.atttypid IN (1083, 1266, 1114, 1184) AND a.atttypmod >= 0 THEN a.atttypmod END, "
      "CASE WHEN a.atttypid = 1700 AND a.atttypmod >= 4 THEN (a.atttypmod - 4) & 65535 END "
      "FROM pg_attribute a WHERE a.attrelid = 'types_t'::regclass AND a.attnum > 0 "
      "AND NOT a.attisdropped ORDER BY a.attnum");
  EXPECT_TRUE(rows.ok()) << rows.status().ToString();
  return rows.ok() ? CatalogColumns(*rows) : std::vector<CatalogColumn>{};
}

TEST_F(TableSchemasTest, PostgresSchemasBeforeAndAfterAlterAndAcrossARestart) {
  auto pg = localdb::LocalPostgres::Start();
  ASSERT_TRUE(pg.ok()) << pg.status().ToString();
  ASSERT_TRUE((*pg)->Execute(kPgTypesTable).ok());
  ASSERT_TRUE((*pg)->Execute("INSERT INTO types_t VALUES " + PgRow(1) + ", " + PgRow(2)).ok());
  std::vector<CatalogColumn> catalog_before = PgCatalog(**pg);

  StartEddy((*pg)->Url(), "public.types_t");
  WaitForRow(2);  // the snapshot is in: what follows is streamed
  ASSERT_TRUE((*pg)->Execute("INSERT INTO types_t VALUES " + PgRow(101)).ok());
  WaitForRow(101);
  ASSERT_TRUE((*pg)
                  ->Execute("ALTER TABLE types_t ADD COLUMN extra numeric(7,3) NOT NULL "
                            "DEFAULT 1.5; ALTER TABLE types_t DROP COLUMN vc")
                  .ok());
  ASSERT_TRUE((*pg)->Execute("INSERT INTO types_t (id, extra) VALUES (201, 2.25)").ok());
  WaitForRow(201);
  std::vector<CatalogColumn> catalog_after = PgCatalog(**pg);
  StopEddy();

  // A restart: the capture meets the table again (a new Relation message) and must give the
  // same shape the same version, not start over at 1.
  StartEddy((*pg)->Url(), "public.types_t");
  ASSERT_TRUE((*pg)->Execute("INSERT INTO types_t (id, extra) VALUES (301, 3.5)").ok());
  WaitForRow(301);
  StopEddy();

  std::vector<consume::SinkRecord> records = ReadAsASink(5);
  auto rows = RowsById(records);
  for (int64_t id : {1, 2, 101, 201, 301}) {
    ASSERT_EQ(rows[id].size(), 1u) << "id " << id;
    ASSERT_NE(rows[id][0]->table_schema, nullptr) << "id " << id;
  }
  const auto& v1 = rows[1][0]->table_schema;
  EXPECT_EQ(rows[1][0]->event->op, model::Operation::kRead);
  EXPECT_EQ(rows[101][0]->event->op, model::Operation::kInsert);
  // Snapshot and streamed rows of one shape: one version, one shared schema.
  EXPECT_EQ(v1.get(), rows[2][0]->table_schema.get());
  EXPECT_EQ(v1.get(), rows[101][0]->table_schema.get());
  EXPECT_EQ(v1->version, 1u);
  EXPECT_EQ(v1->table, (model::TableId{"eddy", "public", "types_t"}));
  ExpectCatalogSchema(*v1, catalog_before, {"id"});
  // Types the catalog fixes, spot-checked by kind.
  auto type_of = [](const model::TableSchema& schema, const std::string& name) {
    const model::Column* column = schema.FindColumn(name);
    return column == nullptr ? model::ValueType::kNull : column->type;
  };
  EXPECT_EQ(type_of(*v1, "i8"), model::ValueType::kInt64);
  EXPECT_EQ(type_of(*v1, "nn"), model::ValueType::kDecimal);
  EXPECT_EQ(type_of(*v1, "by"), model::ValueType::kBytes);
  EXPECT_EQ(type_of(*v1, "tstz"), model::ValueType::kTimestampTz);
  EXPECT_EQ(type_of(*v1, "u"), model::ValueType::kUuid);
  EXPECT_EQ(type_of(*v1, "jb"), model::ValueType::kJson);
  EXPECT_EQ(type_of(*v1, "e"), model::ValueType::kEnum);
  EXPECT_EQ(type_of(*v1, "never_null"), model::ValueType::kText);  // null in every row
  ASSERT_NE(v1->FindColumn("ai"), nullptr);
  EXPECT_EQ(v1->FindColumn("ai")->type, model::ValueType::kArray);
  EXPECT_NE(v1->FindColumn("ai")->element_type, model::ValueType::kNull);

  const auto& v2 = rows[201][0]->table_schema;
  EXPECT_EQ(v2->version, 2u);
  ExpectCatalogSchema(*v2, catalog_after, {"id"});
  EXPECT_EQ(v2->FindColumn("vc"), nullptr);
  ASSERT_NE(v2->FindColumn("extra"), nullptr);
  EXPECT_EQ(v2->FindColumn("extra")->type, model::ValueType::kDecimal);
  // After the restart: the same version and the same shared schema.
  EXPECT_EQ(rows[301][0]->table_schema.get(), v2.get());

  // Operators see the same history.
  auto [code, output] =
      RunCommand(std::string(EDDY_BINARY) + " log schemas --data-dir " + data_dir_ + " --stream s");
  EXPECT_EQ(code, 0) << output;
  EXPECT_NE(output.find("public.types_t version 1"), std::string::npos) << output;
  EXPECT_NE(output.find("public.types_t version 2"), std::string::npos) << output;
  EXPECT_EQ(output.find("version 3"), std::string::npos) << output;
  EXPECT_NE(output.find("extra numeric(7,3) NOT NULL"), std::string::npos) << output;
}

// ---- MariaDB ----

const char kMariadbTypesTable[] = R"(CREATE TABLE types (
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
  j JSON, g GEOMETRY,
  req INT NOT NULL DEFAULT 7, never_null TEXT
) ENGINE=InnoDB)";

std::string MariadbRow(int id) {
  return "(" + std::to_string(id) +
         ", -128, 0, -32768, 0, -8388608, 0, -2147483648, 0, -9223372036854775808, 0,"
         " -9, -99999999.99, 1.5, 0, -0.99999, 1.5, 2.5, 1901, '2024-02-29',"
         " '-838:59:59', '12:00:00.1', '00:00:00.01', '00:00:01.001', '12:34:56.7891',"
         " '00:00:00.00001', '838:59:59.000001',"
         " '2024-01-01 00:00:00', '2024-01-01 00:00:00.001', '2024-01-01 00:00:00.000001',"
         " '1970-01-01 00:00:01', '1970-01-01 00:00:01.01', '1970-01-01 00:00:01.000001',"
         " b'1', b'101', b'1', 'c', 'c255', 'vc', 'l1', 'u2', 'tx', 'ltx',"
         " 0x00FF0102, 0x01, 0x02, 0x03, 'medium', 'a,c',"
         " '{\"k\": 1}', ST_GeomFromText('POINT(0 0)'), 1, NULL)";
}

std::vector<CatalogColumn> MariadbCatalog(const localdb::LocalMariadb& db) {
  auto session = db.Connect("eddy");
  EXPECT_TRUE(session.ok()) << session.status().ToString();
  if (!session.ok()) return {};
  auto rows = session->Query(
      "SELECT COLUMN_NAME, IS_NULLABLE, NULL, "
      "IF(DATA_TYPE = 'decimal', NUMERIC_PRECISION, "
      "IF(DATA_TYPE IN ('time', 'datetime', 'timestamp') AND DATETIME_PRECISION > 0, "
      "DATETIME_PRECISION, NULL)), "
      "IF(DATA_TYPE = 'decimal', NUMERIC_SCALE, NULL) FROM information_schema.COLUMNS "
      "WHERE TABLE_SCHEMA = 'eddy' AND TABLE_NAME = 'types' ORDER BY ORDINAL_POSITION");
  EXPECT_TRUE(rows.ok()) << rows.status().ToString();
  return rows.ok() ? CatalogColumns(*rows) : std::vector<CatalogColumn>{};
}

TEST_F(TableSchemasTest, MariadbSchemasBeforeAndAfterAlterAndAcrossARestart) {
  auto db = localdb::LocalMariadb::Start();
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  ASSERT_TRUE((*db)->Execute(kMariadbTypesTable, "eddy").ok());
  ASSERT_TRUE(
      (*db)
          ->Execute("INSERT INTO types VALUES " + MariadbRow(1) + ", " + MariadbRow(2), "eddy")
          .ok());
  std::vector<CatalogColumn> catalog_before = MariadbCatalog(**db);

  StartEddy((*db)->Url(), "eddy.types");
  WaitForRow(2);  // the snapshot is in: what follows is streamed
  ASSERT_TRUE((*db)->Execute("INSERT INTO types VALUES " + MariadbRow(101), "eddy").ok());
  WaitForRow(101);
  ASSERT_TRUE((*db)
                  ->Execute("ALTER TABLE types ADD COLUMN extra DECIMAL(7,3) NOT NULL "
                            "DEFAULT 1.5, DROP COLUMN vc",
                            "eddy")
                  .ok());
  ASSERT_TRUE((*db)->Execute("INSERT INTO types (id, extra) VALUES (201, 2.25)", "eddy").ok());
  WaitForRow(201);
  std::vector<CatalogColumn> catalog_after = MariadbCatalog(**db);
  StopEddy();

  // The server forgets the stopped replica's registration a moment after its connection
  // closes; until then the capture refuses to register the same server_id (by design).
  auto admin = (*db)->Connect();
  ASSERT_TRUE(admin.ok()) << admin.status().ToString();
  auto registered_deadline = steady_clock::now() + std::chrono::seconds(60);
  while (true) {
    auto hosts = admin->Query("SHOW SLAVE HOSTS");
    ASSERT_TRUE(hosts.ok()) << hosts.status().ToString();
    if (hosts->rows.empty()) break;
    ASSERT_LT(steady_clock::now(), registered_deadline) << "the replica stays registered";
    // Waiting for the server to notice a closed connection: nothing to block on.
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }

  StartEddy((*db)->Url(), "eddy.types");
  ASSERT_TRUE((*db)->Execute("INSERT INTO types (id, extra) VALUES (301, 3.5)", "eddy").ok());
  WaitForRow(301);
  StopEddy();

  std::vector<consume::SinkRecord> records = ReadAsASink(6);  // five rows and the ALTER
  auto rows = RowsById(records);
  for (int64_t id : {1, 2, 101, 201, 301}) {
    ASSERT_EQ(rows[id].size(), 1u) << "id " << id;
    ASSERT_NE(rows[id][0]->table_schema, nullptr) << "id " << id;
  }
  const auto& v1 = rows[1][0]->table_schema;
  EXPECT_EQ(rows[1][0]->event->op, model::Operation::kRead);
  EXPECT_EQ(rows[101][0]->event->op, model::Operation::kInsert);
  EXPECT_EQ(v1.get(), rows[2][0]->table_schema.get());
  EXPECT_EQ(v1.get(), rows[101][0]->table_schema.get()) << "snapshot and binlog schemas differ";
  EXPECT_EQ(v1->version, 1u);
  ExpectCatalogSchema(*v1, catalog_before, {"id"});
  auto type_of = [](const model::TableSchema& schema, const std::string& name) {
    const model::Column* column = schema.FindColumn(name);
    return column == nullptr ? model::ValueType::kNull : column->type;
  };
  EXPECT_EQ(type_of(*v1, "biu"), model::ValueType::kUint64);
  EXPECT_EQ(type_of(*v1, "d3"), model::ValueType::kDecimal);
  EXPECT_EQ(type_of(*v1, "dt6"), model::ValueType::kTimestamp);
  EXPECT_EQ(type_of(*v1, "ts6"), model::ValueType::kTimestampTz);
  EXPECT_EQ(type_of(*v1, "mb"), model::ValueType::kBytes);
  EXPECT_EQ(type_of(*v1, "never_null"), model::ValueType::kText);  // null in every row

  const auto& v2 = rows[201][0]->table_schema;
  EXPECT_EQ(v2->version, 2u);
  ExpectCatalogSchema(*v2, catalog_after, {"id"});
  EXPECT_EQ(v2->FindColumn("vc"), nullptr);
  ASSERT_NE(v2->FindColumn("extra"), nullptr);
  EXPECT_EQ(rows[301][0]->table_schema.get(), v2.get());

  // The ALTER itself: a schema change record with the table's schema after it.
  bool saw_alter = false;
  for (const auto& record : records) {
    if (record.event == nullptr || record.event->op != model::Operation::kSchemaChange) continue;
    saw_alter = true;
    ASSERT_NE(record.table_schema, nullptr);
    EXPECT_NE(record.table_schema->FindColumn("extra"), nullptr);
    EXPECT_EQ(record.table_schema->FindColumn("vc"), nullptr);
  }
  EXPECT_TRUE(saw_alter);

  auto [code, output] =
      RunCommand(std::string(EDDY_BINARY) + " log schemas --data-dir " + data_dir_ + " --stream s");
  EXPECT_EQ(code, 0) << output;
  EXPECT_NE(output.find("eddy.types version 2"), std::string::npos) << output;
  EXPECT_EQ(output.find("version 3"), std::string::npos) << output;
}

// kill -9 of `eddy run` at moments spread over a workload that alters the table between
// inserts: after every restart the capture resumes, and in the end every row change in the log
// has its schema, whose columns are exactly the row's fields (no event ever outran its
// schema), and no version names two shapes.
TEST_F(TableSchemasTest, KilledWhileTheTableChangesNoRecordLacksItsSchema) {
  auto pg = localdb::LocalPostgres::Start();
  ASSERT_TRUE(pg.ok()) << pg.status().ToString();
  ASSERT_TRUE((*pg)->Execute("CREATE TABLE churn (id int PRIMARY KEY, v text)").ok());
  constexpr int kRounds = 6;
  constexpr int kStepsPerRound = 8;
  int next_id = 1;
  int columns = 0;
  for (int round = 0; round < kRounds; ++round) {
    StartEddy((*pg)->Url(), "public.churn");
    if (round > 0) WaitForRow(next_id - 1);  // the previous round's last row is durable
    for (int step = 0; step < kStepsPerRound; ++step) {
      // Every other step changes the table's shape, then writes rows of the new shape.
      if (step % 2 == 1) {
        std::string sql = (columns % 3 == 2)
                              ? "ALTER TABLE churn DROP COLUMN c" + std::to_string(columns - 1)
                              : "ALTER TABLE churn ADD COLUMN c" + std::to_string(columns) +
                                    " numeric(" + std::to_string(5 + columns) + ",2)";
        ASSERT_TRUE((*pg)->Execute(sql).ok()) << sql;
        ++columns;
      }
      ASSERT_TRUE((*pg)
                      ->Execute("INSERT INTO churn (id, v) VALUES (" + std::to_string(next_id) +
                                ", 'r'), (" + std::to_string(next_id + 1) + ", 's')")
                      .ok());
      next_id += 2;
    }
    // Kill at a different point of the capture's progress each round.
    if (round % 2 == 0) WaitForRow(next_id - 1 - 2 * (round % 4));
    eddy_.Stop(SIGKILL, std::chrono::seconds(10));
  }
  StartEddy((*pg)->Url(), "public.churn");
  WaitForRow(next_id - 1);
  StopEddy();

  std::vector<consume::SinkRecord> records = ReadAsASink(static_cast<size_t>(next_id - 1));
  std::map<std::pair<std::string, uint32_t>, std::vector<std::string>> shapes;
  std::set<int64_t> ids;
  for (const auto& record : records) {
    if (record.event == nullptr || !model::IsRowChange(record.event->op)) continue;
    ASSERT_NE(record.table_schema, nullptr) << "no schema for " << record.event->DebugString();
    ASSERT_TRUE(record.event->after.has_value());
    std::vector<std::string> fields;
    for (const auto& field : *record.event->after) fields.push_back(field.name);
    std::vector<std::string> schema_columns;
    for (const auto& column : record.table_schema->columns) schema_columns.push_back(column.name);
    EXPECT_EQ(fields, schema_columns) << "version " << record.table_schema->version;
    EXPECT_EQ(record.table_schema->version, record.event->schema_version);
    auto [it, inserted] =
        shapes.emplace(std::make_pair("churn", record.table_schema->version), schema_columns);
    if (!inserted) {
      EXPECT_EQ(it->second, schema_columns) << "a version named two shapes";
    }
    for (const auto& field : record.event->key) {
      std::string text = field.value.CanonicalText();
      ids.insert(std::stoll(text.substr(text.find(':') + 1)));
    }
  }
  EXPECT_EQ(ids.size(), static_cast<size_t>(next_id - 1));  // every row, none lost
  EXPECT_GE(shapes.size(), 2u);
}

}  // namespace
}  // namespace eddy
