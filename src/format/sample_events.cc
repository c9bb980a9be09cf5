#include "format/sample_events.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>

namespace eddy::format::testing {

using model::ChangeEvent;
using model::Operation;
using model::Row;
using model::Value;

namespace {

constexpr int64_t kCommitNs = 1700000000123456789;   // 2023-11-14T22:13:20.123456789Z
constexpr int64_t kCaptureNs = 1700000000223456000;

ChangeEvent PostgresBase(Operation op) {
  ChangeEvent event;
  event.op = op;
  event.table = {"shop", "public", "orders"};
  event.position = SourcePosition(PostgresPosition{Lsn(0x16B374E000), Lsn(0x16B374D848)});
  event.commit_time_ns = kCommitNs;
  event.capture_time_ns = kCaptureNs;
  event.transaction_id = "7421";
  event.ordinal_in_transaction = 0;
  event.schema_version = 1;
  event.source.connector = model::ConnectorKind::kPostgres;
  event.source.server_name = "pg1";
  return event;
}

ChangeEvent MysqlBase(Operation op) {
  ChangeEvent event;
  event.op = op;
  event.table = {"shop", "", "orders"};
  MysqlPosition position;
  position.server_id = 1;
  position.end = BinlogPosition{"mysql-bin.000003", 1543};
  position.gtid = Gtid{"0-1-42"};
  event.position = SourcePosition(position);
  event.commit_time_ns = 1700000000000000000;
  event.capture_time_ns = kCaptureNs;
  event.transaction_id = "0-1-42";
  event.schema_version = 1;
  event.source.connector = model::ConnectorKind::kMariadb;
  event.source.server_name = "my1";
  event.source.mysql_thread_id = 17;
  event.source.mysql_row = 0;
  return event;
}

Row OrderRow(const char* status, const char* amount) {
  return Row{{"id", Value::Int64(1001)},
             {"customer", Value::Text("Zoë \"Z\" O'Neil\n")},
             {"amount", Value::Decimal(amount)},
             {"status", Value::Enum(status)},
             {"placed_at", Value::TimestampTz({model::TemporalKind::kFinite, 1700000000123456})},
             {"note", Value::Null()}};
}

}  // namespace

std::vector<NamedEvent> SampleEvents() {
  std::vector<NamedEvent> events;
  ChangeEvent insert = PostgresBase(Operation::kInsert);
  insert.key = {{"id", Value::Int64(1001)}};
  insert.after = OrderRow("new", "19.90");
  events.push_back({"pg_insert", insert});

  ChangeEvent update = PostgresBase(Operation::kUpdate);
  update.key = insert.key;
  update.ordinal_in_transaction = 1;
  update.before = OrderRow("new", "19.90");
  update.after = OrderRow("paid", "19.90");
  (*update.after)[5].value = Value::Unavailable();
  events.push_back({"pg_update", update});

  ChangeEvent update_no_before = update;
  update_no_before.before.reset();
  events.push_back({"pg_update_no_before", update_no_before});

  ChangeEvent remove = PostgresBase(Operation::kDelete);
  remove.key = insert.key;
  remove.before = Row{{"id", Value::Int64(1001)}};  // replica identity DEFAULT: key only
  events.push_back({"pg_delete", remove});

  ChangeEvent read = PostgresBase(Operation::kRead);
  read.key = insert.key;
  read.after = OrderRow("new", "19.90");
  read.source.snapshot = model::SnapshotMarker::kTrue;
  read.transaction_id = "";
  events.push_back({"pg_read", read});

  ChangeEvent truncate = PostgresBase(Operation::kTruncate);
  events.push_back({"pg_truncate", truncate});

  ChangeEvent message = PostgresBase(Operation::kMessage);
  message.table = {"shop", "", ""};
  message.message = model::LogicalMessage{"audit", "hello \x01", true};
  events.push_back({"pg_message", message});

  ChangeEvent my_insert = MysqlBase(Operation::kInsert);
  my_insert.key = {{"id", Value::Uint64(18446744073709551615u)}};
  my_insert.after = Row{{"id", Value::Uint64(18446744073709551615u)},
                        {"qty", Value::Int64(-3)},
                        {"shipped", Value::Date({model::TemporalKind::kZero, 0})},
                        {"window", Value::Time(-3020399000000)},
                        {"flags", Value::TypedText("set", "a,c")},
                        {"doc", Value::Json("{\"tags\": [\"x\", \"y\"], \"n\": 12345678901234567890}")}};
  events.push_back({"mysql_insert", my_insert});

  ChangeEvent my_update = MysqlBase(Operation::kUpdate);
  my_update.key = my_insert.key;
  my_update.before = my_insert.after;
  my_update.after = my_insert.after;
  (*my_update.after)[1].value = Value::Int64(5);
  my_update.source.mysql_row = 1;
  my_update.source.query = "UPDATE orders SET qty = 5";
  events.push_back({"mysql_update", my_update});

  ChangeEvent my_delete = MysqlBase(Operation::kDelete);
  my_delete.key = my_insert.key;
  my_delete.before = my_update.after;
  events.push_back({"mysql_delete", my_delete});

  // Schema changes: a column added (with the table's new columns), a table dropped (no
  // columns), a database-level statement (no table).
  ChangeEvent my_add_column = MysqlBase(Operation::kSchemaChange);
  my_add_column.transaction_id.clear();
  my_add_column.source.query.clear();
  model::SchemaChange add_column;
  add_column.kind = model::SchemaChangeKind::kAddColumn;
  add_column.ddl = "ALTER TABLE orders ADD COLUMN note varchar(40) NULL";
  model::TableSchema schema;
  schema.table = my_add_column.table;
  schema.version = 2;
  schema.columns = {
      {"id", "bigint unsigned", model::ValueType::kUint64, model::ValueType::kNull, false, 1, {}, {},
       {}, "", ""},
      {"qty", "int", model::ValueType::kInt64, model::ValueType::kNull, true, 0, {}, {}, {}, "", ""},
      {"price", "decimal", model::ValueType::kDecimal, model::ValueType::kNull, true, 0, {}, 10, 2, "",
       ""},
      {"note", "varchar", model::ValueType::kText, model::ValueType::kNull, true, 0, 40, {}, {}, "",
       ""}};
  schema.primary_key = {"id"};
  add_column.table_schema = schema;
  my_add_column.schema_change = add_column;
  events.push_back({"mysql_add_column", my_add_column});

  ChangeEvent my_drop_table = MysqlBase(Operation::kSchemaChange);
  my_drop_table.transaction_id.clear();
  my_drop_table.table.name = "old_orders";
  my_drop_table.schema_change = model::SchemaChange{model::SchemaChangeKind::kDropTable,
                                                    "DROP TABLE `old_orders`", std::nullopt, ""};
  events.push_back({"mysql_drop_table", my_drop_table});

  ChangeEvent my_create_database = MysqlBase(Operation::kSchemaChange);
  my_create_database.transaction_id.clear();
  my_create_database.table = {"archive", "", ""};
  my_create_database.schema_change = model::SchemaChange{
      model::SchemaChangeKind::kCreateDatabase, "CREATE DATABASE archive", std::nullopt, ""};
  events.push_back({"mysql_create_database", my_create_database});

  // Transaction metadata: BEGIN, an insert with its transaction block, END.
  ChangeEvent begin = PostgresBase(Operation::kTransactionBegin);
  begin.table = {};
  events.push_back({"pg_tx_begin", begin});
  ChangeEvent in_transaction = insert;
  in_transaction.ordinal_in_transaction = 1;
  in_transaction.transaction_order = model::TransactionOrder{2, 1};
  events.push_back({"pg_insert_with_transaction", in_transaction});
  ChangeEvent end = PostgresBase(Operation::kTransactionEnd);
  end.table = {};
  end.transaction_summary =
      model::TransactionSummary{3, {{"public.orders", 2}, {"public.order_lines", 1}}};
  events.push_back({"pg_tx_end", end});

  // A heartbeat: the position the capture has made durable, eddy's clock.
  ChangeEvent heartbeat = PostgresBase(Operation::kHeartbeat);
  heartbeat.table = {};
  heartbeat.transaction_id.clear();
  heartbeat.commit_time_ns = kCaptureNs;
  events.push_back({"pg_heartbeat", heartbeat});
  return events;
}

void CheckGoldenFiles(std::string_view format) {
  const char* source_dir = std::getenv("EDDY_SOURCE_DIR");
  ASSERT_NE(source_dir, nullptr) << "EDDY_SOURCE_DIR is set by ctest; run through ctest";
  auto renderer = MakeRenderer(format);
  ASSERT_TRUE(renderer.ok()) << renderer.status().ToString();
  std::filesystem::path dir = std::filesystem::path(source_dir) / "src/format/testdata" / std::string(format);
  const char* update = std::getenv("EDDY_UPDATE_GOLDEN");
  bool rewrite = update != nullptr && std::string(update) == "1";
  if (rewrite) std::filesystem::create_directories(dir);
  for (const NamedEvent& sample : SampleEvents()) {
    for (ViewType view : {ViewType::kNewAndOldImages, ViewType::kNewImage, ViewType::kOldImage,
                          ViewType::kKeysOnly}) {
      RecordContext context;
      context.sequence_number = "49590338271490256608559692538361571095921575989136588898";
      std::string rendered = (*renderer)->Render(sample.event, view, context);
      std::string file_name = sample.name + "." + std::string(ViewTypeName(view)) + ".json";
      std::filesystem::path path = dir / file_name;
      if (rewrite) {
        std::ofstream out(path, std::ios::binary);
        out << rendered << "\n";
        continue;
      }
      std::ifstream in(path, std::ios::binary);
      ASSERT_TRUE(in.good()) << "missing golden file " << path
                             << " (create with EDDY_UPDATE_GOLDEN=1)";
      std::string expected((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      EXPECT_EQ(rendered + "\n", expected) << format << " " << file_name;
    }
  }
}

}  // namespace eddy::format::testing
