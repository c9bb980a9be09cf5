#include "iceberg/table.h"

#include <gtest/gtest.h>

#include "avro/avro.h"
#include "iceberg/iceberg_format.h"
#include "io/fault_file_system.h"
#include "objstore/local_object_store.h"

namespace eddy::iceberg {
namespace {

model::Column Col(std::string name, std::string source_type, model::ValueType type) {
  model::Column column;
  column.name = std::move(name);
  column.source_type = std::move(source_type);
  column.type = type;
  return column;
}

model::TableSchema Items() {
  model::TableSchema table;
  table.table = {"shop", "public", "items"};
  model::Column id = Col("id", "integer", model::ValueType::kInt64);
  id.nullable = false;
  id.primary_key_ordinal = 1;
  table.columns = {id, Col("name", "text", model::ValueType::kText)};
  table.primary_key = {"id"};
  return table;
}

model::Row Item(int64_t id, std::string name) {
  return {{"id", model::Value::Int64(id)}, {"name", model::Value::Text(std::move(name))}};
}
model::Row Key(int64_t id) { return {{"id", model::Value::Int64(id)}}; }

class HadoopCatalogTest : public ::testing::Test {
 protected:
  io::FaultInjectionFileSystem fs_;
  objstore::LocalObjectStore store_{"/lake", &fs_};
  HadoopCatalog catalog_{&store_};
};

TEST_F(HadoopCatalogTest, CommitsSnapshotsWithDataAndEqualityDeletes) {
  ASSERT_TRUE(store_.Check().ok());
  auto absent = catalog_.Load("shop/public/items");
  ASSERT_TRUE(absent.ok());
  EXPECT_FALSE(absent->has_value());

  model::Row a = Item(1, "a"), b = Item(2, "b");
  Delta first;
  first.rows = {&a, &b};
  first.summary = {{"eddy.checkpoint", "one"}};
  auto v1 = catalog_.CommitDelta("shop/public/items", std::nullopt, Items(), first);
  ASSERT_TRUE(v1.ok()) << v1.status().ToString();
  EXPECT_EQ(v1->version, 1);
  EXPECT_EQ(*store_.Get("shop/public/items/metadata/version-hint.text"), "1");

  model::Row b2 = Item(2, "b2"), k1 = Key(1), k2 = Key(2);
  Delta second;
  second.rows = {&b2};
  second.deleted_keys = {&k1, &k2};
  second.summary = {{"eddy.checkpoint", "two"}};
  auto v2 = catalog_.CommitDelta("shop/public/items", *v1, Items(), second);
  ASSERT_TRUE(v2.ok()) << v2.status().ToString();
  EXPECT_EQ(v2->version, 2);

  auto loaded = catalog_.Load("shop/public/items");
  ASSERT_TRUE(loaded.ok() && loaded->has_value());
  const TableMetadata& metadata = (*loaded)->metadata;
  EXPECT_EQ(metadata.location, "file:///lake/shop/public/items");
  EXPECT_EQ(metadata.last_sequence_number, 2);
  ASSERT_EQ(metadata.snapshots.size(), 2u);
  const Snapshot* current = metadata.CurrentSnapshot();
  ASSERT_NE(current, nullptr);
  EXPECT_EQ(current->sequence_number, 2);
  EXPECT_EQ(current->parent_snapshot_id, metadata.snapshots[0].snapshot_id);
  EXPECT_EQ(current->SummaryValue("operation"), "overwrite");
  EXPECT_EQ(current->SummaryValue("eddy.checkpoint"), "two");
  EXPECT_EQ(current->SummaryValue("added-equality-deletes"), "2");
  EXPECT_EQ(metadata.metadata_log.size(), 1u);

  // The manifest list holds the first data manifest, then the new delete and data manifests.
  std::string list_key = current->manifest_list.substr(std::string("file:///lake/").size());
  auto manifests = ReadManifestList(*store_.Get(list_key));
  ASSERT_TRUE(manifests.ok()) << manifests.status().ToString();
  ASSERT_EQ(manifests->size(), 3u);
  EXPECT_EQ((*manifests)[0].content, kManifestData);
  EXPECT_EQ((*manifests)[0].sequence_number, 1);
  EXPECT_EQ((*manifests)[1].content, kManifestDeletes);
  EXPECT_EQ((*manifests)[1].sequence_number, 2);
  EXPECT_EQ((*manifests)[2].content, kManifestData);
  EXPECT_EQ((*manifests)[2].added_rows_count, 1);
  for (const ManifestFile& manifest : *manifests) {
    std::string key = manifest.manifest_path.substr(std::string("file:///lake/").size());
    std::string bytes = *store_.Get(key);
    EXPECT_EQ(static_cast<int64_t>(bytes.size()), manifest.manifest_length);
    auto container = avro::ReadContainer(bytes);
    ASSERT_TRUE(container.ok());
    EXPECT_EQ(container->metadata.at("content"),
              manifest.content == kManifestData ? "data" : "deletes");
    EXPECT_EQ(container->metadata.at("format-version"), "2");
    EXPECT_EQ(container->record_count, 1u);
  }
}

TEST_F(HadoopCatalogTest, SchemaChangeAddsASchemaWithStableIds) {
  model::Row a = Item(1, "a");
  Delta delta;
  delta.rows = {&a};
  auto v1 = catalog_.CommitDelta("t", std::nullopt, Items(), delta);
  ASSERT_TRUE(v1.ok()) << v1.status().ToString();
  model::TableSchema wider = Items();
  wider.columns.push_back(Col("qty", "integer", model::ValueType::kInt64));
  model::Row c = Item(3, "c");
  c.push_back({"qty", model::Value::Int64(7)});
  delta.rows = {&c};
  auto v2 = catalog_.CommitDelta("t", *v1, wider, delta);
  ASSERT_TRUE(v2.ok()) << v2.status().ToString();
  ASSERT_EQ(v2->metadata.schemas.size(), 2u);
  EXPECT_EQ(v2->metadata.current_schema_id, 1);
  EXPECT_EQ(v2->metadata.CurrentSchema()->FindField("qty")->id, 3);
  EXPECT_EQ(v2->metadata.CurrentSnapshot()->schema_id, 1);
  // An image decoded before the column was dropped loses only the dropped column.
  delta.rows = {&c};
  auto v3 = catalog_.CommitDelta("t", *v2, Items(), delta);
  ASSERT_TRUE(v3.ok()) << v3.status().ToString();
}

TEST_F(HadoopCatalogTest, AFailedCommitLeavesTheTableAsItWas) {
  model::Row a = Item(1, "a");
  Delta delta;
  delta.rows = {&a};
  auto v1 = catalog_.CommitDelta("t", std::nullopt, Items(), delta);
  ASSERT_TRUE(v1.ok());
  // Every step of the next commit fails once in turn; the table stays at v1 until one succeeds.
  for (std::string step : {"-data.parquet", "-m0.avro", "/snap-", "v2.metadata.json"}) {
    fs_.InjectFault(io::FaultOperation::kOpen, IoError("disk gone"), step);
    auto failed = catalog_.CommitDelta("t", *v1, Items(), delta);
    EXPECT_FALSE(failed.ok()) << step;
    auto loaded = catalog_.Load("t");
    ASSERT_TRUE(loaded.ok());
    EXPECT_EQ((*loaded)->version, 1) << step;
    fs_.ClearFaults();
  }
  // A concurrent writer's version wins; the loser is told to reload.
  auto winner = catalog_.CommitDelta("t", *v1, Items(), delta);
  ASSERT_TRUE(winner.ok());
  auto loser = catalog_.CommitDelta("t", *v1, Items(), delta);
  EXPECT_EQ(loser.status().code(), ErrorCode::kAborted);
}

TEST_F(HadoopCatalogTest, LoadRepairsAVersionHintLeftBehind) {
  model::Row a = Item(1, "a");
  Delta delta;
  delta.rows = {&a};
  auto v1 = catalog_.CommitDelta("t", std::nullopt, Items(), delta);
  ASSERT_TRUE(v1.ok());
  fs_.InjectFault(io::FaultOperation::kOpen, IoError("crash"), "version-hint");
  auto v2 = catalog_.CommitDelta("t", *v1, Items(), delta);
  EXPECT_FALSE(v2.ok());  // after the commit point
  fs_.ClearFaults();
  EXPECT_EQ(*store_.Get("t/metadata/version-hint.text"), "1");
  auto loaded = catalog_.Load("t");
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ((*loaded)->version, 2);
  EXPECT_EQ(*store_.Get("t/metadata/version-hint.text"), "2");
}

TEST_F(HadoopCatalogTest, AStagedSnapshotIsTheNextCommitsBaseButNotMain) {
  model::Row a = Item(1, "a"), b = Item(2, "b");
  Delta first;
  first.rows = {&a};
  auto v1 = catalog_.CommitDelta("t", std::nullopt, Items(), first);
  ASSERT_TRUE(v1.ok());
  Delta second;
  second.rows = {&b};
  CommitOptions stage;
  stage.publish = false;
  auto v2 = catalog_.CommitDelta("t", *v1, Items(), second, stage);
  ASSERT_TRUE(v2.ok()) << v2.status().ToString();
  auto loaded = catalog_.Load("t");
  ASSERT_TRUE(loaded.ok() && loaded->has_value());
  const TableMetadata& staged = (*loaded)->metadata;
  EXPECT_EQ(staged.current_snapshot_id, v1->metadata.current_snapshot_id);
  ASSERT_TRUE(staged.staged_snapshot_id);
  EXPECT_EQ(staged.HeadSnapshot()->parent_snapshot_id, staged.current_snapshot_id);
  EXPECT_EQ(staged.snapshot_log.size(), 1u);  // main's history only
  EXPECT_NE(store_.Get("t/metadata/v2.metadata.json")->find("\"eddy-staged\""), std::string::npos);

  // The next commit builds on the staged snapshot and publishes both.
  model::Row c = Item(3, "c");
  Delta third;
  third.rows = {&c};
  auto v3 = catalog_.CommitDelta("t", **loaded, Items(), third);
  ASSERT_TRUE(v3.ok());
  EXPECT_FALSE(v3->metadata.staged_snapshot_id);
  EXPECT_EQ(v3->metadata.CurrentSnapshot()->parent_snapshot_id, staged.staged_snapshot_id);
  auto list = ReadManifestList(*store_.Get(
      "t/metadata/" + v3->metadata.CurrentSnapshot()->manifest_list.substr(
                          v3->metadata.CurrentSnapshot()->manifest_list.rfind('/') + 1)));
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->size(), 3u);  // a, b and c

  // Publishing a staged snapshot alone writes a version whose main is that snapshot.
  Delta fourth;
  fourth.rows = {&a};
  auto v4 = catalog_.CommitDelta("t", *v3, Items(), fourth, stage);
  ASSERT_TRUE(v4.ok());
  auto v5 = catalog_.PublishStaged("t", *v4);
  ASSERT_TRUE(v5.ok()) << v5.status().ToString();
  EXPECT_EQ(v5->version, 5);
  EXPECT_EQ(v5->metadata.current_snapshot_id, v4->metadata.staged_snapshot_id);
  EXPECT_FALSE(v5->metadata.staged_snapshot_id);
  EXPECT_EQ(catalog_.PublishStaged("t", *v5).status().code(), ErrorCode::kFailedPrecondition);
  auto reloaded = catalog_.Load("t");
  ASSERT_TRUE(reloaded.ok() && reloaded->has_value());
  EXPECT_EQ((*reloaded)->metadata.current_snapshot_id, v5->metadata.current_snapshot_id);
}

}  // namespace
}  // namespace eddy::iceberg
