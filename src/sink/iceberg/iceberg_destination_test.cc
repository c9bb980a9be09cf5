#include "sink/iceberg/iceberg_destination.h"

#include <gtest/gtest.h>

#include "base/metrics.h"
#include "consume/checkpoint_store.h"
#include "iceberg/compact.h"
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
    event->transaction_id = transaction_;
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
    record.shard_id = "shardId-000000000000";
    record.sequence = SequenceNumber(++sequence_);
    record.sequence_number = std::to_string(sequence_);
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

  // A record without a table (heartbeat, BEGIN, END).
  void AddMarker(consume::SinkBatch& batch, model::Operation op) {
    auto event = std::make_shared<model::ChangeEvent>();
    event->op = op;
    event->transaction_id = op == model::Operation::kHeartbeat ? "" : transaction_;
    consume::SinkRecord record;
    record.sequence = SequenceNumber(++sequence_);
    record.event = event;
    batch.records.push_back(std::move(record));
    batch.checkpoint_after.shards[0].next = SequenceNumber(sequence_ + 1);
  }

  std::unique_ptr<consume::Destination> Restarted() {
    consume::SinkSpec spec;
    spec.name = "lake";
    spec.url = "iceberg+file:///lake";
    auto restarted = Make(spec);
    EXPECT_TRUE(restarted->Open().ok());
    return restarted;
  }

  io::FaultInjectionFileSystem fs_;
  std::unique_ptr<consume::Destination> destination_;
  uint64_t sequence_ = 0;
  std::string transaction_;  // the transaction id Add gives its events
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

TEST_F(IcebergDestinationTest, ATransactionTheBatchMayNotHoldWholeIsStagedUntilItEnds) {
  auto items = Schema("items");
  auto orders = Schema("orders");
  consume::SinkBatch one = Batch();
  transaction_ = "100";
  Add(one, items, model::Operation::kInsert, 1, "a");
  Add(one, items, model::Operation::kInsert, 2, "b");
  transaction_ = "101";  // the batch was cut inside this one
  const SequenceNumber first_of_101(sequence_ + 1);
  Add(one, items, model::Operation::kInsert, 3, "c");
  Add(one, orders, model::Operation::kInsert, 10, "x");
  ASSERT_TRUE(destination_->Deliver(one).failure.ok());

  // items: main holds transaction 100 only, with the checkpoint before 101; 101 is staged.
  auto table = Load("shop/public/items");
  ASSERT_TRUE(table);
  ASSERT_TRUE(table->metadata.staged_snapshot_id);
  const ice::Snapshot* main = table->metadata.CurrentSnapshot();
  ASSERT_NE(main, nullptr);
  EXPECT_EQ(main->SummaryValue("added-records"), "2");
  consume::Checkpoint before_101 = one.checkpoint_after;
  before_101.shards[0].next = first_of_101;
  EXPECT_EQ(main->SummaryValue("eddy.checkpoint"), consume::EncodeCheckpoint(before_101));
  const ice::Snapshot* staged = table->metadata.HeadSnapshot();
  EXPECT_EQ(staged->parent_snapshot_id, main->snapshot_id);
  EXPECT_EQ(staged->SummaryValue("eddy.staged-transaction"), "101");
  const int64_t staged_101 = staged->snapshot_id;  // `staged` points into `table`, reloaded below
  EXPECT_EQ(staged->SummaryValue("eddy.checkpoint"),
            consume::EncodeCheckpoint(one.checkpoint_after));
  // orders: created empty and published, its only change staged.
  auto orders_table = Load("shop/public/orders");
  ASSERT_TRUE(orders_table && orders_table->metadata.staged_snapshot_id);
  EXPECT_EQ(orders_table->metadata.CurrentSnapshot()->SummaryValue("added-records"), "0");

  // A restarted sink resumes after what the staged snapshots hold and knows they are staged.
  destination_ = Restarted();
  auto checkpoint = destination_->ReadCheckpoint();
  ASSERT_TRUE(checkpoint.ok() && checkpoint->has_value());
  EXPECT_EQ(**checkpoint, one.checkpoint_after);

  // The rest of 101 (items only), then 102 starts: 101 is complete and both tables publish it;
  // 102 is staged in turn.
  consume::SinkBatch two = Batch();
  Add(two, items, model::Operation::kUpdate, 3, "c2");
  transaction_ = "102";
  Add(two, items, model::Operation::kInsert, 4, "d");
  ASSERT_TRUE(destination_->Deliver(two).failure.ok());
  table = Load("shop/public/items");
  main = table->metadata.CurrentSnapshot();
  EXPECT_EQ(main->parent_snapshot_id, staged_101);
  EXPECT_EQ(main->SummaryValue("added-records"), "1");  // 3:c2
  EXPECT_EQ(table->metadata.HeadSnapshot()->SummaryValue("eddy.staged-transaction"), "102");
  orders_table = Load("shop/public/orders");
  EXPECT_FALSE(orders_table->metadata.staged_snapshot_id);
  EXPECT_EQ(orders_table->metadata.CurrentSnapshot()->SummaryValue("added-records"), "1");

  // An END record closes 102: published without a new snapshot.
  consume::SinkBatch three = Batch();
  AddMarker(three, model::Operation::kTransactionEnd);
  const int64_t staged_102 = *table->metadata.staged_snapshot_id;
  ASSERT_TRUE(destination_->Deliver(three).failure.ok());
  table = Load("shop/public/items");
  EXPECT_FALSE(table->metadata.staged_snapshot_id);
  EXPECT_EQ(table->metadata.current_snapshot_id, staged_102);
  // main's history (snapshot-log) never names a staged snapshot of a transaction cut in two.
  for (const ice::SnapshotLogEntry& entry : table->metadata.snapshot_log) {
    EXPECT_FALSE(
        table->metadata.FindSnapshot(entry.snapshot_id)->SummaryValue("eddy.staged-transaction") &&
        entry.snapshot_id != staged_102);
  }
}

TEST_F(IcebergDestinationTest, ABatchEndingWithAHeartbeatOrAWholeTransactionIsPublished) {
  auto items = Schema("items");
  consume::SinkBatch one = Batch();
  transaction_ = "7";
  AddMarker(one, model::Operation::kTransactionBegin);
  Add(one, items, model::Operation::kInsert, 1, "a");
  AddMarker(one, model::Operation::kTransactionEnd);
  ASSERT_TRUE(destination_->Deliver(one).failure.ok());
  EXPECT_FALSE(Load("shop/public/items")->metadata.staged_snapshot_id);

  consume::SinkBatch two = Batch();
  transaction_ = "8";
  Add(two, items, model::Operation::kInsert, 2, "b");
  AddMarker(two, model::Operation::kHeartbeat);
  ASSERT_TRUE(destination_->Deliver(two).failure.ok());
  auto table = Load("shop/public/items");
  EXPECT_FALSE(table->metadata.staged_snapshot_id);
  EXPECT_EQ(table->metadata.CurrentSnapshot()->SummaryValue("eddy.checkpoint"),
            consume::EncodeCheckpoint(two.checkpoint_after));
}

TEST_F(IcebergDestinationTest, TheChangelogTableAppendsEveryChange) {
  consume::SinkSpec spec;
  spec.name = "lake";
  spec.url = "iceberg+file:///lake";
  spec.settings = {{"changelog", "true"}};
  destination_ = Make(spec);
  ASSERT_TRUE(destination_->Open().ok());
  auto items = Schema("items");
  consume::SinkBatch batch = Batch();
  Add(batch, items, model::Operation::kInsert, 1, "a");
  Add(batch, items, model::Operation::kUpdate, 1, "b");
  Add(batch, items, model::Operation::kDelete, 1, std::nullopt);
  Add(batch, items, model::Operation::kInsert, 2, "c");
  ASSERT_TRUE(destination_->Deliver(batch).failure.ok());

  auto mirror = Load("shop/public/items");
  ASSERT_TRUE(mirror);
  EXPECT_EQ(mirror->metadata.CurrentSnapshot()->SummaryValue("added-records"), "1");  // 2:c
  auto changelog = Load("shop/public/items_changelog");
  ASSERT_TRUE(changelog);
  const ice::Snapshot* snapshot = changelog->metadata.CurrentSnapshot();
  EXPECT_EQ(snapshot->SummaryValue("added-records"), "4");  // every change, none collapsed
  EXPECT_EQ(snapshot->SummaryValue("added-equality-deletes"), "0");
  EXPECT_EQ(snapshot->SummaryValue("eddy.checkpoint"),
            consume::EncodeCheckpoint(batch.checkpoint_after));
  const ice::Schema* schema = changelog->metadata.CurrentSchema();
  EXPECT_TRUE(schema->identifier_field_ids.empty());
  std::vector<std::string> names;
  for (const ice::Field& field : schema->fields) names.push_back(field.name);
  EXPECT_EQ(names, (std::vector<std::string>{"id", "note", "_op", "_commit_time", "_position",
                                             "_sequence", "_transaction"}));
  EXPECT_EQ(schema->FindField("_commit_time")->type, "timestamptz");

  // Delivered again: applied once to both tables.
  ASSERT_TRUE(destination_->Deliver(batch).failure.ok());
  EXPECT_EQ(Load("shop/public/items_changelog")->version, changelog->version);
}

TEST_F(IcebergDestinationTest, RenameColumnKeepsTheFieldIdAndOlderImagesFollow) {
  auto v1 = Schema("items");
  auto v2 = std::make_shared<model::TableSchema>(*v1);
  v2->version = 2;
  v2->columns[1].name = "remark";  // ALTER TABLE items RENAME COLUMN note TO remark
  consume::SinkBatch one = Batch();
  Add(one, v1, model::Operation::kInsert, 1, "a");
  ASSERT_TRUE(destination_->Deliver(one).failure.ok());
  // One commit holding an image decoded before the rename (key 2) and one after (key 3).
  consume::SinkBatch two = Batch();
  Add(two, v1, model::Operation::kInsert, 2, "b");
  Add(two, v2, model::Operation::kInsert, 3, "c");
  two.records[1].event = [&] {
    auto event = std::make_shared<model::ChangeEvent>(*two.records[1].event);
    event->after = model::Row{{"id", model::Value::Int64(3)}, {"remark", model::Value::Text("c")}};
    return event;
  }();
  ASSERT_TRUE(destination_->Deliver(two).failure.ok());

  auto table = Load("shop/public/items");
  ASSERT_TRUE(table);
  const ice::Schema* schema = table->metadata.CurrentSchema();
  ASSERT_NE(schema->FindField("remark"), nullptr);
  EXPECT_EQ(schema->FindField("note"), nullptr);
  EXPECT_EQ(schema->FindField("remark")->id, 2);  // note's id
  // The commit's data file holds both rows with a value under field 2 (no NULLs): the older
  // image's `note` was written as `remark`.
  objstore::LocalObjectStore store("/lake", &fs_);
  ice::HadoopCatalog catalog(&store);
  const ice::Snapshot* snapshot = table->metadata.CurrentSnapshot();
  auto list = ice::ReadManifestList(*store.Get(*catalog.KeyOfUri(snapshot->manifest_list)));
  ASSERT_TRUE(list.ok());
  const ice::ManifestFile& data_manifest = [&]() -> const ice::ManifestFile& {
    for (const ice::ManifestFile& manifest : *list) {
      if (manifest.content == ice::kManifestData &&
          manifest.added_snapshot_id == snapshot->snapshot_id)
        return manifest;
    }
    return list->front();
  }();
  auto files = ice::ReadManifest(*store.Get(*catalog.KeyOfUri(data_manifest.manifest_path)));
  ASSERT_TRUE(files.ok() && files->size() == 1u);
  EXPECT_EQ((*files)[0].record_count, 2);
  EXPECT_EQ((*files)[0].null_value_counts,
            (std::vector<std::pair<int32_t, int64_t>>{{1, 0}, {2, 0}}));
}

TEST_F(IcebergDestinationTest, CompactsOnItsOwnAtTheThresholdAndFollowsOutsideCompaction) {
  consume::SinkSpec spec;
  spec.name = "lake";
  spec.url = "iceberg+file:///lake";
  spec.settings = {{"compact_delete_files", "3"}};
  auto destination = Make(spec);
  ASSERT_TRUE(destination->Open().ok());
  auto items = Schema("items");
  auto count_files = [&] {
    objstore::LocalObjectStore store("/lake", &fs_);
    ice::HadoopCatalog catalog(&store);
    return *ice::CountFiles(catalog, Load("shop/public/items")->metadata);
  };
  for (int64_t round = 0; round < 2; ++round) {
    consume::SinkBatch batch = Batch();
    Add(batch, items, model::Operation::kInsert, round, "r" + std::to_string(round));
    ASSERT_TRUE(destination->Deliver(batch).failure.ok());
  }
  EXPECT_EQ(count_files().delete_files, 2u);
  consume::SinkBatch third = Batch();
  Add(third, items, model::Operation::kUpdate, 0, "changed");
  ASSERT_TRUE(destination->Deliver(third).failure.ok());
  // The third delete file reached the threshold: compacted after the commit.
  auto table = Load("shop/public/items");
  EXPECT_EQ(table->metadata.CurrentSnapshot()->SummaryValue("operation"), "replace");
  EXPECT_EQ(table->metadata.CurrentSnapshot()->SummaryValue("eddy.checkpoint"),
            consume::EncodeCheckpoint(third.checkpoint_after));
  EXPECT_EQ(count_files().delete_files, 0u);
  EXPECT_EQ(count_files().data_files, 1u);

  // `eddy lake compact` commits a version the sink does not know: its next commit is refused,
  // and it reloads and commits again within the same batch.
  consume::SinkBatch fourth = Batch();
  Add(fourth, items, model::Operation::kInsert, 7, "x");
  ASSERT_TRUE(destination->Deliver(fourth).failure.ok());
  {
    objstore::LocalObjectStore store("/lake", &fs_);
    ice::HadoopCatalog catalog(&store);
    ice::CompactOptions options;
    options.force = true;
    ASSERT_TRUE(ice::CompactTable(catalog, "shop/public/items", options).ok());
  }
  const int64_t compacted_version = Load("shop/public/items")->version;
  consume::SinkBatch fifth = Batch();
  Add(fifth, items, model::Operation::kDelete, 1, std::nullopt);
  auto outcome = destination->Deliver(fifth);
  ASSERT_TRUE(outcome.failure.ok()) << outcome.failure.ToString();
  table = Load("shop/public/items");
  EXPECT_EQ(table->version, compacted_version + 1);
  EXPECT_EQ(table->metadata.CurrentSnapshot()->SummaryValue("eddy.checkpoint"),
            consume::EncodeCheckpoint(fifth.checkpoint_after));
}

// A value the column's Iceberg type cannot hold (a timestamp past what int64 microseconds hold,
// kept as text by the capture) sets its record aside instead of failing the sink: the record in
// JSON with the reason under _eddy_errors/format-conversion-failed/, named by its position (a
// batch delivered again rewrites the same object); the rest of the batch is committed; the
// key's older row is deleted.
// `events` (id, note, at timestamp); a record's image given an `at` value; a timestamp that
// fits and one past what int64 microseconds hold (the capture keeps it as text).
std::shared_ptr<const model::TableSchema> EventsSchema() {
  auto events = std::make_shared<model::TableSchema>(*Schema("events"));
  model::Column at;
  at.name = "at";
  at.source_type = "timestamp without time zone";
  at.type = model::ValueType::kTimestamp;
  events->columns.push_back(at);
  return events;
}
void WithAt(consume::SinkRecord& record, model::Value value) {
  auto event = std::make_shared<model::ChangeEvent>(*record.event);
  event->after->push_back({"at", std::move(value)});
  record.event = event;
}
model::Value FineAt() { return model::Value::Timestamp({model::TemporalKind::kFinite, 1'000'000}); }
model::Value BeyondAt() {
  return model::Value::TypedText("timestamp without time zone", "294276-12-31 23:59:59.999999");
}

std::vector<std::string> SetAsideKeys(objstore::ObjectStore& store, const std::string& folder) {
  std::vector<std::string> keys;
  auto listed = store.List(folder, "", "", 1000);
  EXPECT_TRUE(listed.ok());
  if (listed.ok()) {
    for (const objstore::ObjectInfo& object : listed->objects) keys.push_back(object.key);
  }
  return keys;
}

TEST_F(IcebergDestinationTest, AValueTheColumnCannotHoldIsSetAsideAndTheRestCommitted) {
  auto events = EventsSchema();
  consume::SinkBatch one = Batch();
  Add(one, events, model::Operation::kInsert, 1, "a");
  Add(one, events, model::Operation::kInsert, 2, "b");
  WithAt(one.records[0], FineAt());
  WithAt(one.records[1], FineAt());
  ASSERT_TRUE(destination_->Deliver(one).failure.ok());

  consume::SinkBatch two = Batch();
  Add(two, events, model::Operation::kUpdate, 2, "b2");  // an image that does not fit
  Add(two, events, model::Operation::kInsert, 3, "c");
  Add(two, events, model::Operation::kInsert, 4, "d");  // does not fit either
  WithAt(two.records[0], BeyondAt());
  WithAt(two.records[1], FineAt());
  WithAt(two.records[2], BeyondAt());
  // The commit point fails once after the records were set aside: delivered again, the same
  // objects are rewritten (no second copy) and the table gets the batch once.
  fs_.InjectFault(io::FaultOperation::kOpen, IoError("disk gone"),
                  "events/metadata/.v3.metadata.json");
  EXPECT_FALSE(destination_->Deliver(two).failure.ok());
  fs_.ClearFaults();
  auto outcome = destination_->Deliver(two);
  ASSERT_TRUE(outcome.failure.ok()) << outcome.failure.ToString();
  EXPECT_EQ(outcome.acknowledged, 3u);

  objstore::LocalObjectStore store("/lake", &fs_);
  const std::string folder = "_eddy_errors/format-conversion-failed/shop/public/events/";
  EXPECT_EQ(SetAsideKeys(store, folder),
            (std::vector<std::string>{folder + "shardId-000000000000-3.json",
                                      folder + "shardId-000000000000-5.json"}));
  auto set_aside = store.Get(folder + "shardId-000000000000-3.json");
  ASSERT_TRUE(set_aside.ok());
  for (std::string_view part :
       {"\"errorCode\":\"DataFormatConversion.InvalidValue\"", "\"column\":\"at\"",
        "column 'at' is TIMESTAMP(MICROS,local)", "294276-12-31 23:59:59.999999",
        "\"table\":\"shop.public.events\"", "\"sequenceNumber\":\"3\"", "\"b2\""}) {
    EXPECT_NE(set_aside->find(part), std::string::npos) << part << " in " << *set_aside;
  }
  EXPECT_NE(
      metrics::SerializeText().find(
          "eddy_iceberg_records_set_aside_total{sink=\"lake\",table=\"shop.public.events\"} 2"),
      std::string::npos);

  // The commit: key 3's row; deletes for 2, 3 and 4 (2's older row goes: the table never
  // shows a value the source has replaced).
  auto table = Load("shop/public/events");
  ASSERT_TRUE(table);
  EXPECT_EQ(table->version, 3);
  const ice::Snapshot* snapshot = table->metadata.CurrentSnapshot();
  EXPECT_EQ(snapshot->SummaryValue("added-records"), "1");
  EXPECT_EQ(snapshot->SummaryValue("added-equality-deletes"), "3");
  EXPECT_EQ(snapshot->SummaryValue("eddy.checkpoint"),
            consume::EncodeCheckpoint(two.checkpoint_after));
  // What a reader sees (compaction applies the deletes): keys 1 and 3.
  ice::HadoopCatalog catalog(&store);
  ice::CompactOptions options;
  options.force = true;
  auto compacted = ice::CompactTable(catalog, "shop/public/events", options);
  ASSERT_TRUE(compacted.ok()) << compacted.status().ToString();
  EXPECT_EQ(compacted->rows_after, 2);

  // The next good change of key 4 is applied as any other.
  consume::SinkBatch three = Batch();
  Add(three, events, model::Operation::kUpdate, 4, "d2");
  WithAt(three.records[0], FineAt());
  ASSERT_TRUE(destination_->Deliver(three).failure.ok());
  EXPECT_EQ(Load("shop/public/events")->metadata.CurrentSnapshot()->SummaryValue("added-records"),
            "1");
}

// A value that does not fit in a change another change of the same key supersedes within the
// commit is not written to the mirror (nothing set aside there), but the changelog table gets
// every change: there it is set aside.
TEST_F(IcebergDestinationTest, TheChangelogTableSetsAsideEveryChangeThatDoesNotFit) {
  consume::SinkSpec spec;
  spec.name = "lake";
  spec.url = "iceberg+file:///lake";
  spec.settings = {{"changelog", "true"}};
  destination_ = Make(spec);
  ASSERT_TRUE(destination_->Open().ok());
  auto events = EventsSchema();
  consume::SinkBatch batch = Batch();
  Add(batch, events, model::Operation::kInsert, 1, "a");
  Add(batch, events, model::Operation::kUpdate, 1, "b");
  WithAt(batch.records[0], BeyondAt());
  WithAt(batch.records[1], FineAt());
  auto outcome = destination_->Deliver(batch);
  ASSERT_TRUE(outcome.failure.ok()) << outcome.failure.ToString();
  EXPECT_EQ(Load("shop/public/events")->metadata.CurrentSnapshot()->SummaryValue("added-records"),
            "1");
  EXPECT_EQ(Load("shop/public/events_changelog")
                ->metadata.CurrentSnapshot()
                ->SummaryValue("added-records"),
            "1");
  objstore::LocalObjectStore store("/lake", &fs_);
  const std::string errors = "_eddy_errors/format-conversion-failed/shop/public/";
  EXPECT_EQ(SetAsideKeys(store, errors),
            std::vector<std::string>{errors + "events_changelog/shardId-000000000000-1.json"});
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
