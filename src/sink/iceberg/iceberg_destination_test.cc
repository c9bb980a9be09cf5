#include "sink/iceberg/iceberg_destination.h"

#include <gtest/gtest.h>

#include "consume/checkpoint_store.h"
#include "iceberg/iceberg_format.h"
#include "iceberg/table.h"
#include "io/fault_file_system.h"
#include "objstore/local_object_store.h"

namespace eddy::sink::iceberg {
namespace {

namespace ice = ::eddy::iceberg;

std::shared_ptr<const model::TableSchema> Schema(std::string name, bool keyed = true) {
  auto schema = std::make_shared<model::TableSchema>();
  schema->table = {"shop", "public", std::move(name)};
  schema->version = 1;
  model::Column id;
  id.name = "id";
  id.source_type = "integer";
  id.type = model::ValueType::kInt64;
  id.nullable = !keyed;
  id.primary_key_ordinal = keyed ? 1 : 0;
  model::Column note;
  note.name = "note";
  note.source_type = "text";
  note.type = model::ValueType::kText;
  schema->columns = {id, note};
  if (keyed) schema->primary_key = {"id"};
  return schema;
}

class IcebergDestinationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    consume::SinkSpec spec;
    spec.name = "lake";
    spec.stream = "s";
    spec.url = "iceberg+file:///lake";
    destination_ = Make(spec);
    ASSERT_TRUE(destination_->Open().ok());
  }

  std::unique_ptr<consume::Destination> Make(const consume::SinkSpec& spec) {
    auto made = MakeIcebergDestinationWithStore(
        spec, std::make_unique<objstore::LocalObjectStore>("/lake", &fs_));
    EXPECT_TRUE(made.ok());
    return std::move(made).value();
  }

  void Add(consume::SinkBatch& batch, std::shared_ptr<const model::TableSchema> schema,
           model::Operation op, int64_t id, std::optional<std::string> note) {
    auto event = std::make_shared<model::ChangeEvent>();
    event->op = op;
    event->table = schema->table;
    event->schema_version = schema->version;
    event->key = {{"id", model::Value::Int64(id)}};
    if (schema->primary_key.empty()) event->key.clear();
    model::Row row = {{"id", model::Value::Int64(id)},
                      {"note", note ? model::Value::Text(*note) : model::Value::Null()}};
    if (op == model::Operation::kDelete) {
      event->before = row;
    } else {
      event->after = row;
    }
    consume::SinkRecord record;
    record.shard_index = 0;
    record.sequence = SequenceNumber(++sequence_);
    record.event = event;
    record.table_schema = schema;
    batch.records.push_back(std::move(record));
    batch.checkpoint_after.shards[0].next = SequenceNumber(sequence_ + 1);
  }

  consume::SinkBatch Batch() {
    consume::SinkBatch batch;
    batch.sink_name = "lake";
    batch.stream_name = "s";
    return batch;
  }

  std::optional<ice::LoadedTable> Load(const std::string& key) {
    objstore::LocalObjectStore store("/lake", &fs_);
    ice::HadoopCatalog catalog(&store);
    auto loaded = catalog.Load(key);
    EXPECT_TRUE(loaded.ok());
    return loaded.ok() ? *loaded : std::nullopt;
  }

  io::FaultInjectionFileSystem fs_;
  std::unique_ptr<consume::Destination> destination_;
  uint64_t sequence_ = 0;
};

TEST_F(IcebergDestinationTest, CollapsesPerKeyIntoOneSnapshotPerCommit) {
  auto items = Schema("items");
  consume::SinkBatch batch = Batch();
  Add(batch, items, model::Operation::kInsert, 1, "a");
  Add(batch, items, model::Operation::kInsert, 2, "b");
  Add(batch, items, model::Operation::kUpdate, 1, "a2");
  Add(batch, items, model::Operation::kUpdate, 1, "a3");
  Add(batch, items, model::Operation::kDelete, 2, std::nullopt);
  Add(batch, items, model::Operation::kInsert, 3, std::nullopt);
  auto outcome = destination_->Deliver(batch);
  ASSERT_TRUE(outcome.failure.ok()) << outcome.failure.ToString();
  EXPECT_EQ(outcome.acknowledged, batch.records.size());

  auto table = Load("shop/public/items");
  ASSERT_TRUE(table);
  // v1 creates the table (empty, the previous checkpoint), v2 is the commit.
  EXPECT_EQ(table->version, 2);
  const ice::Snapshot* snapshot = table->metadata.CurrentSnapshot();
  ASSERT_NE(snapshot, nullptr);
  EXPECT_EQ(snapshot->SummaryValue("added-records"), "2");           // 1:a3, 3:NULL
  EXPECT_EQ(snapshot->SummaryValue("added-equality-deletes"), "3");  // keys 1, 2, 3
  EXPECT_EQ(snapshot->SummaryValue("eddy.sink"), "lake");
  EXPECT_EQ(snapshot->SummaryValue("eddy.checkpoint"),
            consume::EncodeCheckpoint(batch.checkpoint_after));
  EXPECT_EQ(table->metadata.CurrentSchema()->identifier_field_ids, std::vector<int32_t>{1});

  // Delivered again (a crash before the runner's checkpoint): nothing is applied twice.
  outcome = destination_->Deliver(batch);
  ASSERT_TRUE(outcome.failure.ok());
  EXPECT_EQ(Load("shop/public/items")->version, 2);
  auto fresh = Make([] {
    consume::SinkSpec spec;
    spec.name = "lake";
    spec.url = "iceberg+file:///lake";
    return spec;
  }());
  ASSERT_TRUE(fresh->Open().ok());
  auto checkpoint = fresh->ReadCheckpoint();
  ASSERT_TRUE(checkpoint.ok() && checkpoint->has_value());
  EXPECT_EQ(**checkpoint, batch.checkpoint_after);
  ASSERT_TRUE(fresh->Deliver(batch).failure.ok());
  EXPECT_EQ(Load("shop/public/items")->version, 2);
}

TEST_F(IcebergDestinationTest, ACrashBetweenTablesAppliesTheBatchOnceToEach) {
  auto first = Schema("first");
  auto second = Schema("second");
  consume::SinkBatch one = Batch();
  Add(one, first, model::Operation::kInsert, 1, "a");
  Add(one, second, model::Operation::kInsert, 1, "a");
  ASSERT_TRUE(destination_->Deliver(one).failure.ok());

  consume::SinkBatch two = Batch();
  Add(two, first, model::Operation::kInsert, 2, "b");
  Add(two, second, model::Operation::kInsert, 2, "b");
  // The second table's commit point fails: the first table has the batch, the second not.
  fs_.InjectFault(io::FaultOperation::kOpen, IoError("disk gone"),
                  "second/metadata/.v3.metadata.json");
  auto failed = destination_->Deliver(two);
  EXPECT_EQ(failed.acknowledged, 0u);
  EXPECT_TRUE(failed.failure.IsRetriable()) << failed.failure.ToString();
  fs_.ClearFaults();
  EXPECT_EQ(Load("shop/public/first")->version, 3);
  EXPECT_EQ(Load("shop/public/second")->version, 2);

  // A restarted sink resumes from the earlier of the two tables' checkpoints...
  consume::SinkSpec spec;
  spec.name = "lake";
  spec.url = "iceberg+file:///lake";
  auto restarted = Make(spec);
  ASSERT_TRUE(restarted->Open().ok());
  auto checkpoint = restarted->ReadCheckpoint();
  ASSERT_TRUE(checkpoint.ok() && checkpoint->has_value());
  EXPECT_EQ(**checkpoint, one.checkpoint_after);
  // ... and the batch again commits to the second table only.
  ASSERT_TRUE(restarted->Deliver(two).failure.ok());
  EXPECT_EQ(Load("shop/public/first")->version, 3);
  EXPECT_EQ(Load("shop/public/second")->version, 3);
}

TEST_F(IcebergDestinationTest, ANewTableInterruptedBeforeItsCommitHoldsTheCheckpointBack) {
  auto old_table = Schema("old");
  consume::SinkBatch one = Batch();
  Add(one, old_table, model::Operation::kInsert, 1, "a");
  ASSERT_TRUE(destination_->Deliver(one).failure.ok());
  consume::SinkBatch two = Batch();
  Add(two, Schema("fresh"), model::Operation::kInsert, 1, "a");
  fs_.InjectFault(io::FaultOperation::kOpen, IoError("crash"), "fresh/metadata/.v2.metadata.json");
  EXPECT_FALSE(destination_->Deliver(two).failure.ok());
  fs_.ClearFaults();
  consume::SinkSpec spec;
  spec.name = "lake";
  spec.url = "iceberg+file:///lake";
  auto restarted = Make(spec);
  ASSERT_TRUE(restarted->Open().ok());
  auto checkpoint = restarted->ReadCheckpoint();
  ASSERT_TRUE(checkpoint.ok() && checkpoint->has_value());
  EXPECT_EQ(**checkpoint, one.checkpoint_after);
}

TEST_F(IcebergDestinationTest, TablesWithoutAKeyAreAppendOnly) {
  auto log = Schema("log", /*keyed=*/false);
  consume::SinkBatch batch = Batch();
  Add(batch, log, model::Operation::kInsert, 1, "a");
  Add(batch, log, model::Operation::kInsert, 1, "a");
  Add(batch, log, model::Operation::kDelete, 1, std::nullopt);
  ASSERT_TRUE(destination_->Deliver(batch).failure.ok());
  auto table = Load("shop/public/log");
  ASSERT_TRUE(table);
  EXPECT_EQ(table->metadata.CurrentSnapshot()->SummaryValue("added-records"), "2");
  EXPECT_EQ(table->metadata.CurrentSnapshot()->SummaryValue("added-equality-deletes"), "0");
  EXPECT_TRUE(table->metadata.CurrentSchema()->identifier_field_ids.empty());
}

TEST_F(IcebergDestinationTest, PlainStreamsAreRefused) {
  consume::SinkBatch batch = Batch();
  batch.records.emplace_back();
  auto outcome = destination_->Deliver(batch);
  EXPECT_EQ(outcome.failure.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(outcome.failure.message().find("CDC streams"), std::string::npos);
}

}  // namespace
}  // namespace eddy::sink::iceberg
