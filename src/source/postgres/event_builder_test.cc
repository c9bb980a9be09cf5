#include "source/postgres/event_builder.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "io/file_system.h"
#include "model/event_codec.h"
#include "source/postgres/transaction_buffer.h"

namespace eddy::source::postgres {
namespace {

using model::Operation;
using model::Value;

class FakeCatalog final : public CatalogLookup {
 public:
  Result<std::vector<std::string>> PrimaryKey(uint32_t relation_id) override {
    auto it = keys.find(relation_id);
    if (it == keys.end()) return std::vector<std::string>{};
    return it->second;
  }
  Result<std::vector<CatalogType>> Types(uint32_t type_oid) override {
    std::vector<CatalogType> out;
    if (type_oid == 16400) out.push_back({16400, "public", "mood", 'e', false, 0, 0, ','});
    return out;
  }
  Result<std::vector<std::string>> NotNullColumns(uint32_t relation_id) override {
    auto it = not_null.find(relation_id);
    if (it == not_null.end()) return std::vector<std::string>{};
    return it->second;
  }
  std::map<uint32_t, std::vector<std::string>> keys;
  std::map<uint32_t, std::vector<std::string>> not_null;
};

RelationMessage Orders(ReplicaIdentity identity) {
  RelationMessage m;
  m.relation_id = 100;
  m.schema = "public";
  m.name = "orders";
  m.replica_identity = identity;
  bool full = identity == ReplicaIdentity::kFull;
  m.columns = {{true, "id", oid::kInt4, -1},
               {full, "body", oid::kText, -1},
               {full, "feeling", 16400, -1}};
  return m;
}

TupleValue T(std::string_view text) { return {TupleValueKind::kText, text}; }
TupleValue Null() { return {TupleValueKind::kNull, {}}; }
TupleValue Toast() { return {TupleValueKind::kUnchangedToast, {}}; }

TEST(EventBuilderTest, InsertBuildsKeyAndAfterWithCatalogTypes) {
  FakeCatalog catalog;
  catalog.keys[100] = {"id"};
  EventBuilder builder("shop", &catalog, "prod");
  ASSERT_TRUE(builder.OnRelation(Orders(ReplicaIdentity::kDefault)).ok());
  InsertMessage insert{0, 100, {T("7"), T("hello"), T("happy")}};
  Result<model::ChangeEvent> event = builder.OnInsert(insert);
  ASSERT_TRUE(event.ok()) << event.status().ToString();
  EXPECT_EQ(event->op, Operation::kInsert);
  EXPECT_EQ(event->table.QualifiedName(), "public.orders");
  EXPECT_EQ(event->table.database, "shop");
  EXPECT_EQ(event->schema_version, 1u);
  ASSERT_EQ(event->key.size(), 1u);
  EXPECT_EQ(event->key[0].value, Value::Int64(7));
  ASSERT_TRUE(event->after.has_value());
  EXPECT_EQ((*event->after)[2].value, Value::Enum("happy"));
  EXPECT_FALSE(event->before.has_value());
  EXPECT_EQ(event->source.server_name, "prod");
}

TEST(EventBuilderTest, DefaultIdentityUpdateAndDeleteCarryOnlyTheKey) {
  EventBuilder builder("shop", nullptr);
  ASSERT_TRUE(builder.OnRelation(Orders(ReplicaIdentity::kDefault)).ok());
  // Unchanged TOAST without a full old tuple: Unavailable, not NULL.
  UpdateMessage update{0, 100, OldTupleKind::kNone, {}, {T("7"), Toast(), Null()}};
  auto updated = builder.OnUpdate(update);
  ASSERT_TRUE(updated.ok());
  EXPECT_FALSE(updated->before.has_value());
  EXPECT_TRUE((*updated->after)[1].value.is_unavailable());
  EXPECT_TRUE((*updated->after)[2].value.is_null());

  UpdateMessage key_change{0, 100, OldTupleKind::kKey, {T("7"), Null(), Null()},
                           {T("8"), T("b"), Null()}};
  auto moved = builder.OnUpdate(key_change);
  ASSERT_TRUE(moved.ok());
  ASSERT_TRUE(moved->before.has_value());
  ASSERT_EQ(moved->before->size(), 1u);
  EXPECT_EQ((*moved->before)[0].value, Value::Int64(7));
  EXPECT_EQ(moved->key[0].value, Value::Int64(8));

  DeleteMessage deleted{0, 100, OldTupleKind::kKey, {T("8"), Null(), Null()}};
  auto gone = builder.OnDelete(deleted);
  ASSERT_TRUE(gone.ok());
  EXPECT_EQ(gone->op, Operation::kDelete);
  ASSERT_EQ(gone->before->size(), 1u);
  EXPECT_EQ(gone->key[0].value, Value::Int64(8));
  EXPECT_FALSE(gone->after.has_value());
}

TEST(EventBuilderTest, FullIdentityTakesUnchangedToastFromTheOldTuple) {
  FakeCatalog catalog;
  catalog.keys[100] = {"id"};
  EventBuilder builder("shop", &catalog);
  ASSERT_TRUE(builder.OnRelation(Orders(ReplicaIdentity::kFull)).ok());
  UpdateMessage update{0, 100, OldTupleKind::kFull, {T("7"), T("big text"), T("sad")},
                       {T("7"), Toast(), T("happy")}};
  auto event = builder.OnUpdate(update);
  ASSERT_TRUE(event.ok());
  EXPECT_EQ((*event->after)[1].value, Value::Text("big text"));
  EXPECT_EQ((*event->before)[2].value, Value::Enum("sad"));
  // The key is the primary key even though FULL flags every column.
  ASSERT_EQ(event->key.size(), 1u);
  EXPECT_EQ(event->key[0].name, "id");
}

TEST(EventBuilderTest, SchemaChangeBumpsTheVersion) {
  EventBuilder builder("shop", nullptr);
  ASSERT_TRUE(builder.OnRelation(Orders(ReplicaIdentity::kDefault)).ok());
  ASSERT_TRUE(builder.OnRelation(Orders(ReplicaIdentity::kDefault)).ok());
  EXPECT_EQ(builder.FindRelation(100)->schema.version, 1u);
  RelationMessage altered = Orders(ReplicaIdentity::kDefault);
  altered.columns.push_back({false, "added", oid::kInt8, -1});
  ASSERT_TRUE(builder.OnRelation(altered).ok());
  EXPECT_EQ(builder.FindRelation(100)->schema.version, 2u);
  InsertMessage old_shape{0, 100, {T("1"), T("x"), Null()}};
  EXPECT_EQ(builder.OnInsert(old_shape).status().code(), ErrorCode::kCorruption);
  InsertMessage new_shape{0, 100, {T("1"), T("x"), Null(), T("5")}};
  auto event = builder.OnInsert(new_shape);
  ASSERT_TRUE(event.ok());
  EXPECT_EQ(event->schema_version, 2u);
  EXPECT_EQ((*event->after)[3].value, Value::Int64(5));
}

// An in-memory registry with the SchemaHistory rule (latest shape keeps its version).
class MemoryRegistry final : public model::SchemaRegistry {
 public:
  Result<uint32_t> AssignVersion(const model::TableSchema& schema) override {
    auto& versions = schemas[schema.table];
    if (!versions.empty() && model::SameShape(*versions.rbegin()->second, schema)) {
      return versions.rbegin()->first;
    }
    if (fail) return Status(ErrorCode::kIoError, "disk gone");
    uint32_t version = versions.empty() ? 1 : versions.rbegin()->first + 1;
    auto recorded = std::make_shared<model::TableSchema>(schema);
    recorded->version = version;
    versions[version] = recorded;
    return version;
  }
  Result<std::shared_ptr<const model::TableSchema>> Find(const model::TableId& table,
                                                         uint32_t version) override {
    auto it = schemas[table].find(version);
    if (it == schemas[table].end()) return NotFound("no such version");
    return std::shared_ptr<const model::TableSchema>(it->second);
  }
  std::shared_ptr<const model::TableSchema> Latest(const model::TableId& table) override {
    auto& versions = schemas[table];
    return versions.empty() ? nullptr : versions.rbegin()->second;
  }
  std::map<model::TableId, std::map<uint32_t, std::shared_ptr<model::TableSchema>>> schemas;
  bool fail = false;
};

TEST(EventBuilderTest, RegistryVersionsContinueAcrossBuildersAndMatchTheSnapshot) {
  MemoryRegistry registry;
  FakeCatalog catalog;
  catalog.keys[100] = {"id"};
  catalog.not_null[100] = {"id", "body"};
  {
    EventBuilder builder("shop", &catalog, "", &registry);
    // The snapshot meets the table first, from catalog columns.
    RelationInfo snapshot = builder.MakeRelation(100, "public", "orders",
                                                 {{false, "id", oid::kInt4, -1},
                                                  {false, "body", oid::kText, -1},
                                                  {false, "feeling", 16400, -1}},
                                                 ReplicaIdentity::kDefault);
    ASSERT_TRUE(builder.StampVersion(snapshot).ok());
    EXPECT_EQ(snapshot.schema.version, 1u);
    // Streaming's Relation message of the same shape: the same version.
    ASSERT_TRUE(builder.OnRelation(Orders(ReplicaIdentity::kDefault)).ok());
    const model::TableSchema& schema = builder.FindRelation(100)->schema;
    EXPECT_EQ(schema.version, 1u);
    EXPECT_TRUE(model::SameShape(schema, snapshot.schema));
    EXPECT_FALSE(schema.columns[0].nullable);
    EXPECT_FALSE(schema.columns[1].nullable);  // NOT NULL from the catalog
    EXPECT_TRUE(schema.columns[2].nullable);
    RelationMessage altered = Orders(ReplicaIdentity::kDefault);
    altered.columns.push_back({false, "added", oid::kNumeric, (12 << 16 | 3) + 4});
    ASSERT_TRUE(builder.OnRelation(altered).ok());
    EXPECT_EQ(builder.FindRelation(100)->schema.version, 2u);
  }
  // A restarted capture (a new builder) meets the current shape: version 2 again, not 1.
  EventBuilder restarted("shop", &catalog, "", &registry);
  RelationMessage altered = Orders(ReplicaIdentity::kDefault);
  altered.columns.push_back({false, "added", oid::kNumeric, (12 << 16 | 3) + 4});
  ASSERT_TRUE(restarted.OnRelation(altered).ok());
  EXPECT_EQ(restarted.FindRelation(100)->schema.version, 2u);
  auto event = restarted.OnInsert({0, 100, {T("1"), T("x"), Null(), T("1.500")}});
  ASSERT_TRUE(event.ok());
  EXPECT_EQ(event->schema_version, 2u);
  auto recorded = registry.Find(event->table, 2);
  ASSERT_TRUE(recorded.ok());
  EXPECT_EQ((*recorded)->columns[3].precision, 12);
  EXPECT_EQ((*recorded)->columns[3].scale, 3);
  // A registry that cannot record fails the Relation message: no event without its schema.
  registry.fail = true;
  RelationMessage again = altered;
  again.columns.push_back({false, "more", oid::kInt8, -1});
  Status status = restarted.OnRelation(again);
  EXPECT_EQ(status.code(), ErrorCode::kIoError);
  EXPECT_NE(status.message().find("public.orders"), std::string::npos) << status.ToString();
}

TEST(EventBuilderTest, EncodeTextValueWritesWhatTheDecodedValueEncodesTo) {
  FakeCatalog catalog;
  catalog.keys[100] = {"id"};
  EventBuilder builder("shop", &catalog, "");
  RelationInfo relation = builder.MakeRelation(100, "public", "orders",
                                               {{false, "id", oid::kInt4, -1},
                                                {false, "body", oid::kText, -1},
                                                {false, "feeling", 16400, -1}},
                                               ReplicaIdentity::kDefault);
  // The text column takes the snapshot's shortcut (no model::Value in between); its bytes must
  // be EncodeValue's, as for every other type.
  const std::vector<std::optional<std::string_view>> values = {"42", "h\u00e9llo, \"w\" \\ tab\t",
                                                               "happy"};
  Result<model::Row> row = builder.RowFromText(relation, values);
  ASSERT_TRUE(row.ok()) << row.status().ToString();
  for (size_t column = 0; column < values.size(); ++column) {
    std::string direct;
    ASSERT_TRUE(builder.EncodeTextValue(relation, column, values[column], direct).ok());
    std::string expected;
    model::EncodeValue((*row)[column].value, expected);
    EXPECT_EQ(direct, expected) << "column " << column;
  }
  std::string null_bytes;
  ASSERT_TRUE(builder.EncodeTextValue(relation, 1, std::nullopt, null_bytes).ok());
  std::string expected_null;
  model::EncodeValue(Value::Null(), expected_null);
  EXPECT_EQ(null_bytes, expected_null);
}

// Timestamps take the snapshot's shortcut too (finite values; the rest take the general path).
TEST(EventBuilderTest, EncodeTextValueOfTimestampsWritesWhatTheDecodedValueEncodesTo) {
  FakeCatalog catalog;
  EventBuilder builder("shop", &catalog, "");
  RelationInfo relation = builder.MakeRelation(
      101, "public", "times",
      {{false, "at", oid::kTimestamp, -1}, {false, "at_tz", oid::kTimestampTz, -1}},
      ReplicaIdentity::kDefault);
  const std::vector<std::pair<std::string_view, std::string_view>> cases = {
      {"2026-01-01 00:00:00", "2026-01-01 00:00:00+00"},
      {"2026-12-06 12:34:56.789", "2026-12-06 12:34:56.789012+05:30"},
      {"1969-12-31 23:59:59.999999", "1969-12-31 23:59:59.999999-08"},
      {"0044-03-15 12:00:00 BC", "0044-03-15 12:00:00+00 BC"},
      {"infinity", "-infinity"},
      {"294277-01-01 00:00:00", "294277-01-01 00:00:00+00"},  // beyond int64 micros: text
  };
  for (const auto& [at, at_tz] : cases) {
    const std::vector<std::optional<std::string_view>> values = {at, at_tz};
    Result<model::Row> row = builder.RowFromText(relation, values);
    ASSERT_TRUE(row.ok()) << at << ": " << row.status().ToString();
    for (size_t column = 0; column < values.size(); ++column) {
      std::string direct = "prefix";
      ASSERT_TRUE(builder.EncodeTextValue(relation, column, values[column], direct).ok());
      std::string expected = "prefix";
      model::EncodeValue((*row)[column].value, expected);
      EXPECT_EQ(direct, expected) << *values[column];
    }
  }
  std::string out;
  Status bad = builder.EncodeTextValue(relation, 0, std::string_view("2026-13-01 00:00:00"), out);
  EXPECT_EQ(bad.code(), ErrorCode::kCorruption) << bad.ToString();
  EXPECT_NE(bad.message().find("column at"), std::string::npos) << bad.ToString();
}

TEST(EventBuilderTest, UnknownRelationAndBadValuesAreErrors) {
  EventBuilder builder("shop", nullptr);
  InsertMessage insert{0, 999, {T("1")}};
  EXPECT_EQ(builder.OnInsert(insert).status().code(), ErrorCode::kCorruption);
  ASSERT_TRUE(builder.OnRelation(Orders(ReplicaIdentity::kDefault)).ok());
  InsertMessage bad{0, 100, {T("seven"), T("x"), Null()}};
  auto event = builder.OnInsert(bad);
  EXPECT_EQ(event.status().code(), ErrorCode::kCorruption);
  EXPECT_NE(event.status().message().find("column id"), std::string::npos);
}

TEST(EventBuilderTest, TruncateAndMessages) {
  EventBuilder builder("shop", nullptr);
  ASSERT_TRUE(builder.OnRelation(Orders(ReplicaIdentity::kDefault)).ok());
  auto events = builder.OnTruncate(TruncateMessage{0, 0, {100}});
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ((*events)[0].op, Operation::kTruncate);
  model::ChangeEvent message = builder.OnMessage({0, true, Lsn(5), "ddl", "ALTER"});
  EXPECT_EQ(message.op, Operation::kMessage);
  EXPECT_EQ(message.message->prefix, "ddl");
  EXPECT_EQ(message.message->content, "ALTER");
}

TEST(TransactionBufferTest, SpillsBeyondTheBudgetAndDropsAbortedSubtransactions) {
  std::string dir = std::filesystem::temp_directory_path() /
                    ("eddy_txbuf_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::string path = dir + "/tx.spill";
  {
    TransactionBuffer buffer(io::DefaultFileSystem(), path, 4096);
    for (int i = 0; i < 500; ++i) {
      model::ChangeEvent event;
      event.op = Operation::kInsert;
      event.table = {"db", "public", "t"};
      event.after = model::Row{{"id", Value::Int64(i)}, {"pad", Value::Text(std::string(50, 'x'))}};
      ASSERT_TRUE(buffer.Add(i % 10 == 3 ? 77 : 1, event).ok());
    }
    EXPECT_TRUE(buffer.spilled());
    EXPECT_TRUE(std::filesystem::exists(path));
    EXPECT_LE(buffer.memory_bytes(), 4096u + 1024u);
    buffer.AbortSubtransaction(77);
    std::vector<int64_t> seen;
    ASSERT_TRUE(buffer
                    .ForEach([&](model::ChangeEvent&& event) -> Status {
                      seen.push_back((*event.after)[0].value.Get<int64_t>());
                      return Status::Ok();
                    })
                    .ok());
    ASSERT_EQ(seen.size(), 450u);
    for (size_t i = 1; i < seen.size(); ++i) EXPECT_LT(seen[i - 1], seen[i]);
    for (int64_t id : seen) EXPECT_NE(id % 10, 3);
  }
  EXPECT_FALSE(std::filesystem::exists(path));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace eddy::source::postgres
