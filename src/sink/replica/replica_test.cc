// The replica core against a recording connection (no server): settings, table mapping, the
// PostgreSQL dialect's types and values, per-key collapse, the checkpoint row in the batch's
// transaction, schema following and error handling. The real-server tests are
// tests/e2e/replica_*.py.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "consume/checkpoint_store.h"
#include "sink/replica/postgres_target.h"
#include "sink/replica/replica_destination.h"

namespace eddy::sink::replica {
namespace {

using model::ConnectorKind;
using model::Operation;
using model::Value;
using model::ValueType;

model::Column Col(std::string name, std::string source_type, ValueType type, int pk = 0) {
  model::Column column;
  column.name = std::move(name);
  column.source_type = std::move(source_type);
  column.type = type;
  column.primary_key_ordinal = pk;
  column.nullable = pk == 0;
  return column;
}

TEST(ReplicaSettings, ParsesAndMapsTables) {
  auto settings = ReplicaSettings::Parse({{"table_name", "${schema}_${table}"},
                                          {"tables", "public.special=archive.kept"},
                                          {"create_tables", "false"}});
  ASSERT_TRUE(settings.ok()) << settings.status().ToString();
  EXPECT_FALSE(settings->create_tables);
  EXPECT_EQ(settings->MapTable({"db", "public", "orders"}, "tgt"),
            (TargetTable{"tgt", "public_orders"}));
  EXPECT_EQ(settings->MapTable({"db", "public", "special"}, "tgt"),
            (TargetTable{"archive", "kept"}));
  EXPECT_EQ(ReplicaSettings{}.MapTable({"shop", "", "items"}, "public"),
            (TargetTable{"public", "items"}));
}

TEST(ReplicaSettings, RejectsBadValuesNamingTheKey) {
  auto bad_bool = ReplicaSettings::Parse({{"create_tables", "maybe"}});
  ASSERT_FALSE(bad_bool.ok());
  EXPECT_NE(bad_bool.status().message().find("create_tables"), std::string::npos);
  auto bad_template = ReplicaSettings::Parse({{"table_name", "${nope}"}});
  ASSERT_FALSE(bad_template.ok());
  EXPECT_NE(bad_template.status().message().find("${table}"), std::string::npos);
  auto bad_pairs = ReplicaSettings::Parse({{"tables", "public.a"}});
  ASSERT_FALSE(bad_pairs.ok());
  EXPECT_NE(bad_pairs.status().message().find("SOURCE=TARGET"), std::string::npos);
}

TEST(PostgresTarget, UrlErrorsSayWhatToWrite) {
  auto no_db = MakePostgresTarget("postgresql://u:secret@h:5432", {});
  ASSERT_FALSE(no_db.ok());
  EXPECT_NE(no_db.status().message().find("DATABASE"), std::string::npos);
  EXPECT_EQ(no_db.status().message().find("secret"), std::string::npos);
  auto unknown = MakePostgresTarget("postgresql://u@h/db", {{"colour", "red"}});
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("'colour'"), std::string::npos);
  auto fine = MakePostgresTarget("postgresql://u:secret@h:5432/db?schema=s",
                                 {{"schema", "s"}, {"create_tables", "true"}});
  ASSERT_TRUE(fine.ok()) << fine.status().ToString();
  EXPECT_EQ(fine->default_space, "s");
  EXPECT_EQ(fine->display_url, "postgresql://u@h:5432/db?schema=s");
}

TEST(PostgresDialect, MapsTypes) {
  PostgresDialect d;
  model::Column numeric = Col("n", "numeric", ValueType::kDecimal);
  numeric.precision = 12;
  numeric.scale = 3;
  EXPECT_EQ(*d.MapType(numeric, ConnectorKind::kPostgres), "numeric(12,3)");
  model::Column varchar = Col("v", "varchar", ValueType::kText);
  varchar.length = 20;
  EXPECT_EQ(*d.MapType(varchar, ConnectorKind::kPostgres), "varchar(20)");
  model::Column array = Col("a", "_int4", ValueType::kArray);
  EXPECT_EQ(*d.MapType(array, ConnectorKind::kPostgres), "int4[]");
  EXPECT_EQ(*d.MapType(Col("e", "mood", ValueType::kEnum), ConnectorKind::kPostgres), "text");
  EXPECT_EQ(*d.MapType(Col("u", "bigint unsigned", ValueType::kUint64), ConnectorKind::kMariadb),
            "numeric(20,0)");
  EXPECT_EQ(*d.MapType(Col("d", "decimal(8,2)", ValueType::kDecimal), ConnectorKind::kMariadb),
            "numeric(8,2)");
  EXPECT_EQ(*d.MapType(Col("t", "datetime(3)", ValueType::kTimestamp), ConnectorKind::kMariadb),
            "timestamp(3)");
  EXPECT_EQ(*d.MapType(Col("t", "time", ValueType::kTime), ConnectorKind::kMariadb), "interval");
  EXPECT_EQ(*d.MapType(Col("b", "blob", ValueType::kBytes), ConnectorKind::kMariadb), "bytea");
}

TEST(PostgresDialect, RendersValuesInInputSyntax) {
  PostgresDialect d;
  auto render = [&](const Value& v, ConnectorKind source = ConnectorKind::kPostgres) {
    auto text = d.RenderValue(v, Col("c", "x", v.type()), source);
    EXPECT_TRUE(text.ok()) << text.status().ToString();
    return text.ok() && *text ? **text : std::string("<null>");
  };
  EXPECT_EQ(render(Value::Null()), "<null>");
  EXPECT_EQ(render(Value::Bool(true)), "t");
  EXPECT_EQ(render(Value::Float64(0.1)), "0.1");
  EXPECT_EQ(render(Value::Float32(-0.0f)), "-0");
  EXPECT_EQ(render(Value::Float64(std::numeric_limits<double>::quiet_NaN())), "NaN");
  EXPECT_EQ(render(Value::Bytes(std::string("\x00\xff", 2))), "\\x00ff");
  EXPECT_EQ(render(Value::Date(model::DateValue::FromCivil(-43, 3, 15))), "0044-03-15 BC");
  EXPECT_EQ(render(Value::Timestamp({model::TemporalKind::kFinite, -1})),
            "1969-12-31 23:59:59.999999");
  EXPECT_EQ(render(Value::TimestampTz({model::TemporalKind::kPositiveInfinity, 0})), "infinity");
  EXPECT_EQ(render(Value::TimeTz({3723000000, -19800})), "01:02:03-05:30");
  EXPECT_EQ(render(Value::Time(-3723000000), ConnectorKind::kMariadb), "-01:02:03");
  EXPECT_EQ(render(Value::Time(3000LL * 3600 * 1000000), ConnectorKind::kMariadb), "3000:00:00");
  EXPECT_EQ(render(Value::Interval({14, -3, 1500000})), "14 mons -3 days 1500000 microseconds");
  EXPECT_EQ(
      render(Value::Array({Value::Text("a\"b"), Value::Null(), Value::Array({Value::Int64(1)})})),
      "{\"a\\\"b\",NULL,{\"1\"}}");
  // MySQL dates with a zero month or day have no PostgreSQL twin: NULL, like the zero date.
  EXPECT_EQ(render(Value::TypedText("datetime", "2020-00-00 00:00:00"), ConnectorKind::kMariadb),
            "<null>");
  EXPECT_EQ(render(Value::Date({model::TemporalKind::kZero, 0}), ConnectorKind::kMariadb),
            "<null>");
  EXPECT_FALSE(d.RenderValue(Value::Text(std::string("a\0b", 3)),
                             Col("c", "text", ValueType::kText), ConnectorKind::kPostgres)
                   .ok());
}

// A connection that records statements and can fail on a pattern.
struct Recorder {
  std::vector<std::string> statements;
  std::vector<std::pair<std::string, size_t>> bulk;  // table, rows
  std::string fail_on;
  Status failure;
  std::optional<std::string> checkpoint;
  std::set<std::string> tables;  // existing tables (by name)
};

class RecordingConnection final : public TargetConnection {
 public:
  explicit RecordingConnection(std::shared_ptr<Recorder> r) : r_(std::move(r)) {}
  Status Begin() override { return Run("BEGIN"); }
  Status Commit() override { return Run("COMMIT"); }
  void Rollback() override { r_->statements.push_back("ROLLBACK"); }
  Status Execute(const std::string& sql) override {
    EDDY_RETURN_IF_ERROR(Run(sql));
    if (sql.starts_with("INSERT INTO \"s\".\"eddy_checkpoints\"")) {
      size_t start = sql.find("', '") + 4;
      r_->checkpoint = sql.substr(start, sql.find("', now()") - start);
    }
    if (sql.starts_with("CREATE TABLE IF NOT EXISTS \"s\".\"")) {
      r_->tables.insert(sql.substr(32, sql.find('"', 32) - 32));
    }
    return Status::Ok();
  }
  Result<std::vector<TextRow>> Query(const std::string& sql) override {
    EDDY_RETURN_IF_ERROR(Run(sql));
    if (sql.find("eddy_checkpoints") != std::string::npos) {
      if (!r_->checkpoint) return std::vector<TextRow>();
      return std::vector<TextRow>{{r_->checkpoint}};
    }
    for (const std::string& table : r_->tables) {
      if (sql.find("'" + table + "'") != std::string::npos) {
        return std::vector<TextRow>{{"id", "integer", "NO"}, {"v", "text", "YES"}};
      }
    }
    return std::vector<TextRow>();
  }
  Status BulkLoad(const TargetTable& table, const std::vector<std::string>&,
                  const std::vector<TextRow>& rows) override {
    EDDY_RETURN_IF_ERROR(Run("COPY " + table.ToString()));
    r_->bulk.emplace_back(table.ToString(), rows.size());
    return Status::Ok();
  }

 private:
  Status Run(const std::string& sql) {
    if (!r_->fail_on.empty() && sql.find(r_->fail_on) != std::string::npos) return r_->failure;
    r_->statements.push_back(sql);
    return Status::Ok();
  }
  std::shared_ptr<Recorder> r_;
};

struct Harness {
  std::shared_ptr<Recorder> recorder = std::make_shared<Recorder>();
  std::unique_ptr<consume::Destination> destination;
  std::shared_ptr<model::TableSchema> schema = std::make_shared<model::TableSchema>();
  uint64_t next_sequence = 1;

  explicit Harness(std::map<std::string, std::string> settings = {}) {
    schema->table = {"db", "public", "t"};
    schema->version = 1;
    schema->columns = {Col("id", "int4", ValueType::kInt64, 1), Col("v", "text", ValueType::kText)};
    schema->primary_key = {"id"};
    Target target;
    target.dialect = std::make_unique<PostgresDialect>();
    target.default_space = "s";
    target.display_url = "postgresql://test/db?schema=s";
    auto recorder_copy = recorder;
    target.connect = [recorder_copy]() -> Result<std::unique_ptr<TargetConnection>> {
      return std::unique_ptr<TargetConnection>(new RecordingConnection(recorder_copy));
    };
    consume::SinkSpec spec;
    spec.name = "replica";
    auto parsed = ReplicaSettings::Parse(settings);
    EXPECT_TRUE(parsed.ok());
    auto made = MakeReplicaDestination(spec, *parsed, std::move(target));
    EXPECT_TRUE(made.ok());
    destination = std::move(*made);
    EXPECT_TRUE(destination->Open().ok());
  }

  consume::SinkRecord Change(Operation op, int64_t id, std::optional<std::string> v,
                             bool unavailable = false) {
    auto event = std::make_shared<model::ChangeEvent>();
    event->op = op;
    event->table = schema->table;
    event->source.connector = ConnectorKind::kPostgres;
    model::Row row = {{"id", Value::Int64(id)},
                      {"v", unavailable ? Value::Unavailable()
                            : v         ? Value::Text(*v)
                                        : Value::Null()}};
    event->key = {{"id", Value::Int64(id)}};
    if (op == Operation::kDelete) {
      event->before = row;
    } else {
      event->after = row;
    }
    consume::SinkRecord record;
    record.sequence = SequenceNumber(next_sequence++);
    record.event = event;
    record.table_schema = schema;
    return record;
  }

  consume::DeliveryOutcome Deliver(std::vector<consume::SinkRecord> records) {
    consume::SinkBatch batch;
    batch.sink_name = "replica";
    batch.records = std::move(records);
    batch.checkpoint_after.shards[0].next = SequenceNumber(next_sequence);
    recorder->statements.clear();
    return destination->Deliver(batch);
  }
};

TEST(ReplicaDestination, OneTransactionPerBatchWithTheCheckpointRow) {
  Harness h;
  auto outcome =
      h.Deliver({h.Change(Operation::kRead, 1, "a"), h.Change(Operation::kRead, 2, "b"),
                 h.Change(Operation::kInsert, 3, "c"), h.Change(Operation::kUpdate, 3, "c2"),
                 h.Change(Operation::kDelete, 2, std::nullopt)});
  ASSERT_TRUE(outcome.failure.ok()) << outcome.failure.ToString();
  EXPECT_EQ(outcome.acknowledged, 5u);
  const auto& s = h.recorder->statements;
  ASSERT_GE(s.size(), 5u);
  EXPECT_EQ(s.front(), "BEGIN");
  EXPECT_EQ(s.back(), "COMMIT");
  EXPECT_NE(s[s.size() - 2].find("eddy_checkpoints"), std::string::npos);
  // Key 1: a snapshot row alone -> COPY; key 2: read then delete -> one delete; key 3: one
  // upsert holding the update's value.
  ASSERT_EQ(h.recorder->bulk.size(), 1u);
  EXPECT_EQ(h.recorder->bulk[0].second, 1u);
  std::string all;
  for (const auto& statement : s) all += statement + "\n";
  EXPECT_NE(all.find("DELETE FROM \"s\".\"t\" WHERE (\"id\") IN (('2'))"), std::string::npos)
      << all;
  EXPECT_NE(all.find("VALUES ('3','c2') ON CONFLICT (\"id\") DO UPDATE"), std::string::npos) << all;
  EXPECT_EQ(all.find("'c',"), std::string::npos) << all;
  auto stored = h.destination->ReadCheckpoint();
  ASSERT_TRUE(stored.ok());
  ASSERT_TRUE(stored->has_value());
  EXPECT_EQ((*stored)->shards.at(0).next, SequenceNumber(6));
}

TEST(ReplicaDestination, AResetCheckpointSupersedesTheCommittedOne) {
  Harness h;
  ASSERT_TRUE(h.Deliver({h.Change(Operation::kInsert, 1, "a")}).failure.ok());
  // `eddy sink reset` to an earlier position: the next batch carries generation 1.
  consume::SinkBatch batch;
  batch.records = {h.Change(Operation::kInsert, 2, "b")};
  batch.checkpoint_after.generation = 1;
  batch.checkpoint_after.shards[0].next = SequenceNumber(1);
  ASSERT_TRUE(h.destination->Deliver(batch).failure.ok());
  auto stored = h.destination->ReadCheckpoint();
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_EQ((*stored)->generation, 1u);
  EXPECT_EQ((*stored)->shards.at(0).next, SequenceNumber(1));
}

TEST(ReplicaDestination, UnchangedToastValuesAreLeftAlone) {
  Harness h;
  ASSERT_TRUE(h.Deliver({h.Change(Operation::kInsert, 1, "big")}).failure.ok());
  ASSERT_TRUE(h.Deliver({h.Change(Operation::kUpdate, 1, std::nullopt, true)}).failure.ok());
  std::string all;
  for (const auto& statement : h.recorder->statements) all += statement + "\n";
  EXPECT_NE(
      all.find("INSERT INTO \"s\".\"t\" (\"id\") VALUES ('1') ON CONFLICT (\"id\") DO NOTHING"),
      std::string::npos)
      << all;
}

TEST(ReplicaDestination, RetriableFailureRollsBackAndRetries) {
  Harness h;
  h.recorder->fail_on = "INSERT INTO \"s\".\"t\"";
  h.recorder->failure = Unavailable("deadlock detected (SQLSTATE 40P01)");
  auto outcome = h.Deliver({h.Change(Operation::kUpdate, 1, "a")});
  EXPECT_EQ(outcome.acknowledged, 0u);
  EXPECT_TRUE(outcome.failure.IsRetriable());
  EXPECT_NE(outcome.failure.message().find("s.t"), std::string::npos);
  EXPECT_EQ(h.recorder->statements.back(), "ROLLBACK");
  h.recorder->fail_on.clear();
  EXPECT_TRUE(h.Deliver({h.Change(Operation::kInsert, 1, "a")}).failure.ok());
}

TEST(ReplicaDestination, RefusedStatementIsPermanentAndNamesTheTable) {
  Harness h;
  h.recorder->fail_on = "INSERT INTO \"s\".\"t\"";
  h.recorder->failure = FailedPrecondition("column \"x\" violates not-null (SQLSTATE 23502)");
  auto outcome = h.Deliver({h.Change(Operation::kUpdate, 1, "a")});
  EXPECT_FALSE(outcome.failure.ok());
  EXPECT_FALSE(outcome.failure.IsRetriable());
  EXPECT_NE(outcome.failure.message().find("target table s.t"), std::string::npos);
}

TEST(ReplicaDestination, InsertsTakeTheBulkPathAndFallBackToUpsertsOnDuplicates) {
  Harness h;
  ASSERT_TRUE(
      h.Deliver({h.Change(Operation::kInsert, 1, "a"), h.Change(Operation::kInsert, 2, "b")})
          .failure.ok());
  ASSERT_EQ(h.recorder->bulk.size(), 1u);
  EXPECT_EQ(h.recorder->bulk[0].second, 2u);
  h.recorder->fail_on = "COPY";
  h.recorder->failure = FailedPrecondition("duplicate key value (SQLSTATE 23505)");
  auto outcome = h.Deliver({h.Change(Operation::kInsert, 1, "a")});
  ASSERT_TRUE(outcome.failure.ok()) << outcome.failure.ToString();
  EXPECT_EQ(outcome.acknowledged, 1u);
  std::string all;
  for (const auto& statement : h.recorder->statements) all += statement + "\n";
  EXPECT_NE(all.find("ROLLBACK"), std::string::npos) << all;
  EXPECT_NE(all.find("VALUES ('1','a') ON CONFLICT"), std::string::npos) << all;
}

TEST(ReplicaDestination, SchemaVersionsBecomeAlters) {
  Harness h;
  ASSERT_TRUE(h.Deliver({h.Change(Operation::kInsert, 1, "a")}).failure.ok());
  auto next = std::make_shared<model::TableSchema>(*h.schema);
  next->version = 2;
  next->columns.push_back(Col("w", "int8", ValueType::kInt64));
  h.schema = next;
  ASSERT_TRUE(h.Deliver({h.Change(Operation::kInsert, 2, "b")}).failure.ok());
  std::string all;
  for (const auto& statement : h.recorder->statements) all += statement + "\n";
  EXPECT_NE(all.find("ALTER TABLE \"s\".\"t\" ADD COLUMN IF NOT EXISTS \"w\" int8"),
            std::string::npos)
      << all;
  // Rename: same place, same type.
  auto renamed = std::make_shared<model::TableSchema>(*h.schema);
  renamed->version = 3;
  renamed->columns[2].name = "w2";
  h.schema = renamed;
  ASSERT_TRUE(h.Deliver({h.Change(Operation::kInsert, 3, "c")}).failure.ok());
  all.clear();
  for (const auto& statement : h.recorder->statements) all += statement + "\n";
  EXPECT_NE(all.find("RENAME COLUMN \"w\" TO \"w2\""), std::string::npos) << all;
  // A refused ALTER is permanent and names the DDL.
  auto widened = std::make_shared<model::TableSchema>(*h.schema);
  widened->version = 4;
  widened->columns[1].source_type = "int8";
  widened->columns[1].type = ValueType::kInt64;
  h.schema = widened;
  h.recorder->fail_on = "ALTER COLUMN";
  h.recorder->failure = FailedPrecondition("cannot cast (SQLSTATE 42804)");
  auto outcome = h.Deliver({h.Change(Operation::kInsert, 4, "4")});
  EXPECT_FALSE(outcome.failure.IsRetriable());
  EXPECT_NE(outcome.failure.message().find("ALTER TABLE \"s\".\"t\" ALTER COLUMN \"v\" TYPE int8"),
            std::string::npos)
      << outcome.failure.ToString();
}

TEST(ReplicaDestination, KeyAndNullabilityChangesFollow) {
  Harness h;
  ASSERT_TRUE(h.Deliver({h.Change(Operation::kInsert, 1, "a")}).failure.ok());
  // v becomes NOT NULL and joins the key.
  auto next = std::make_shared<model::TableSchema>(*h.schema);
  next->version = 2;
  next->columns[1].nullable = false;
  next->columns[1].primary_key_ordinal = 2;
  next->primary_key = {"id", "v"};
  h.schema = next;
  ASSERT_TRUE(h.Deliver({h.Change(Operation::kUpdate, 2, "b")}).failure.ok());
  std::string all;
  for (const auto& statement : h.recorder->statements) all += statement + "\n";
  EXPECT_NE(all.find("ALTER TABLE \"s\".\"t\" ALTER COLUMN \"v\" SET NOT NULL"), std::string::npos)
      << all;
  EXPECT_NE(all.find("contype = 'p'"), std::string::npos) << all;
  EXPECT_NE(all.find("ADD PRIMARY KEY (\"id\", \"v\")"), std::string::npos) << all;
  // The upsert after it uses the new key.
  EXPECT_NE(all.find("ON CONFLICT (\"id\",\"v\")"), std::string::npos) << all;
  // A key the target refuses (duplicates in the target) is FAILED naming the statement.
  auto back = std::make_shared<model::TableSchema>(*h.schema);
  back->version = 3;
  back->columns[1].nullable = true;
  back->columns[1].primary_key_ordinal = 0;
  back->primary_key = {"v"};
  back->columns[0].primary_key_ordinal = 0;
  back->columns[1].primary_key_ordinal = 1;
  h.schema = back;
  h.recorder->fail_on = "ADD PRIMARY KEY";
  h.recorder->failure = FailedPrecondition("could not create unique index (SQLSTATE 23505)");
  auto outcome = h.Deliver({h.Change(Operation::kInsert, 3, "c")});
  EXPECT_FALSE(outcome.failure.IsRetriable());
  EXPECT_NE(outcome.failure.message().find("ADD PRIMARY KEY (\"v\")"), std::string::npos)
      << outcome.failure.ToString();
}

TEST(ReplicaDestination, DroppedAndRenamedSourceTablesFollow) {
  Harness h;
  ASSERT_TRUE(h.Deliver({h.Change(Operation::kInsert, 1, "a")}).failure.ok());
  auto ddl = [&](model::SchemaChangeKind kind, std::string table, std::string previous) {
    auto event = std::make_shared<model::ChangeEvent>();
    event->op = Operation::kSchemaChange;
    event->table = {"db", "public", std::move(table)};
    event->source.connector = ConnectorKind::kMysql;
    event->schema_change.emplace();
    event->schema_change->kind = kind;
    event->schema_change->ddl = "the statement";
    event->schema_change->previous_name = std::move(previous);
    consume::SinkRecord record;
    record.sequence = SequenceNumber(h.next_sequence++);
    record.event = event;
    return record;
  };
  ASSERT_TRUE(h.Deliver({ddl(model::SchemaChangeKind::kRenameTable, "t2", "t")}).failure.ok());
  std::string all;
  for (const auto& statement : h.recorder->statements) all += statement + "\n";
  EXPECT_NE(all.find("ALTER TABLE IF EXISTS \"s\".\"t\" RENAME TO \"t2\""), std::string::npos)
      << all;
  ASSERT_TRUE(h.Deliver({ddl(model::SchemaChangeKind::kDropTable, "t2", "")}).failure.ok());
  all.clear();
  for (const auto& statement : h.recorder->statements) all += statement + "\n";
  EXPECT_NE(all.find("DROP TABLE IF EXISTS \"s\".\"t2\""), std::string::npos) << all;
}

TEST(ReplicaDestination, ARenameAcrossSchemasIsFailedNamingTheDdl) {
  Harness h(std::map<std::string, std::string>{{"tables", "public.t2=other.t2"}});
  auto event = std::make_shared<model::ChangeEvent>();
  event->op = Operation::kSchemaChange;
  event->table = {"db", "public", "t2"};
  event->schema_change.emplace();
  event->schema_change->kind = model::SchemaChangeKind::kRenameTable;
  event->schema_change->ddl = "RENAME TABLE t TO t2";
  event->schema_change->previous_name = "t";
  consume::SinkRecord record;
  record.sequence = SequenceNumber(h.next_sequence++);
  record.event = event;
  auto outcome = h.Deliver({record});
  EXPECT_FALSE(outcome.failure.IsRetriable());
  EXPECT_NE(outcome.failure.message().find("RENAME TABLE t TO t2"), std::string::npos)
      << outcome.failure.ToString();
}

TEST(ReplicaDestination, MissingTableWithoutCreateTablesIsFailedNamingIt) {
  Harness h(std::map<std::string, std::string>{{"create_tables", "false"}});
  auto outcome = h.Deliver({h.Change(Operation::kInsert, 1, "a")});
  EXPECT_FALSE(outcome.failure.IsRetriable());
  EXPECT_NE(outcome.failure.message().find("s.t"), std::string::npos);
  EXPECT_NE(outcome.failure.message().find("create_tables"), std::string::npos);
}

TEST(ReplicaDestination, SeveralLanesAreRefused) {
  consume::SinkSpec spec;
  spec.name = "r";
  spec.settings["parallelization_factor"] = "2";
  Target target;
  target.dialect = std::make_unique<PostgresDialect>();
  target.connect = [] { return Result<std::unique_ptr<TargetConnection>>(Unavailable("x")); };
  auto made = MakeReplicaDestination(spec, {}, std::move(target));
  ASSERT_FALSE(made.ok());
  EXPECT_NE(made.status().message().find("parallelization_factor"), std::string::npos);
}

}  // namespace
}  // namespace eddy::sink::replica
