#include "iceberg/maintenance.h"

#include <gtest/gtest.h>

#include "io/fault_file_system.h"
#include "objstore/local_object_store.h"

namespace eddy::iceberg {
namespace {

model::TableSchema Items() {
  model::TableSchema table;
  table.table = {"shop", "public", "items"};
  model::Column id;
  id.name = "id";
  id.source_type = "integer";
  id.type = model::ValueType::kInt64;
  id.nullable = false;
  id.primary_key_ordinal = 1;
  table.columns = {id};
  table.primary_key = {"id"};
  return table;
}

class ExpireTest : public ::testing::Test {
 protected:
  // Commits a snapshot replacing key `id` at `now_ms` (staged when `publish` is false).
  LoadedTable Commit(const std::optional<LoadedTable>& current, int64_t id, int64_t now_ms,
                     bool publish = true) {
    model::Row row = {{"id", model::Value::Int64(id)}};
    Delta delta;
    delta.rows = {&row};
    delta.deleted_keys = {&row};
    CommitOptions options;
    options.now_ms = now_ms;
    options.publish = publish;
    auto committed = catalog_.CommitDelta("t", current, Items(), delta, options);
    EXPECT_TRUE(committed.ok()) << committed.status().ToString();
    return *committed;
  }

  // The data and delete files main's snapshot reads, by path.
  std::set<std::string> CurrentFiles() {
    auto loaded = catalog_.Load("t");
    std::set<std::string> files;
    const Snapshot* current = (*loaded)->metadata.CurrentSnapshot();
    auto list = ReadManifestList(*store_.Get(*catalog_.KeyOfUri(current->manifest_list)));
    for (const ManifestFile& manifest : *list) {
      auto entries = ReadManifest(*store_.Get(*catalog_.KeyOfUri(manifest.manifest_path)));
      EXPECT_TRUE(entries.ok()) << entries.status().ToString();
      for (const DataFile& file : *entries) {
        files.insert(file.file_path);
        EXPECT_TRUE(*store_.Head(*catalog_.KeyOfUri(file.file_path))) << file.file_path;
      }
    }
    return files;
  }

  io::FaultInjectionFileSystem fs_;
  objstore::LocalObjectStore store_{"/lake", &fs_};
  HadoopCatalog catalog_{&store_};
};

TEST_F(ExpireTest, DropsOldSnapshotsAndOnlyTheirFiles) {
  LoadedTable v1 = Commit(std::nullopt, 1, 1000);
  LoadedTable v2 = Commit(v1, 2, 2000);
  LoadedTable v3 = Commit(v2, 3, 3000);
  LoadedTable v4 = Commit(v3, 4, 4000, /*publish=*/false);  // staged
  const std::set<std::string> before = CurrentFiles();
  ASSERT_EQ(before.size(), 6u);  // three commits: a data and a delete file each

  ExpireOptions options;
  options.older_than_ms = 3500;  // all but the staged one are older; main's current stays
  options.now_ms = 5000;
  auto report = ExpireSnapshots(catalog_, "t", options);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->expired_snapshots, 2u);
  EXPECT_EQ(report->kept_snapshots, 2u);
  EXPECT_EQ(report->deleted_files, 2u);  // the two manifest lists; data is still referenced
  EXPECT_EQ(report->version, 5);

  auto loaded = catalog_.Load("t");
  ASSERT_TRUE(loaded.ok() && loaded->has_value());
  const TableMetadata& metadata = (*loaded)->metadata;
  EXPECT_EQ(metadata.snapshots.size(), 2u);
  EXPECT_EQ(metadata.current_snapshot_id, v3.metadata.current_snapshot_id);
  EXPECT_EQ(metadata.staged_snapshot_id, v4.metadata.staged_snapshot_id);
  ASSERT_EQ(metadata.snapshot_log.size(), 1u);
  EXPECT_EQ(metadata.snapshot_log[0].snapshot_id, *v3.metadata.current_snapshot_id);
  EXPECT_FALSE(*store_.Head(*catalog_.KeyOfUri(v1.metadata.CurrentSnapshot()->manifest_list)));
  // Readers of main see the same files (and so the same rows) as before.
  EXPECT_EQ(CurrentFiles(), before);
  // The sink's next commit builds on the staged snapshot as before.
  LoadedTable v6 = Commit(**loaded, 5, 6000);
  EXPECT_EQ(v6.metadata.CurrentSnapshot()->parent_snapshot_id, v4.metadata.staged_snapshot_id);

  // Nothing older left: a no-op that commits nothing.
  options.older_than_ms = 0;
  report = ExpireSnapshots(catalog_, "t", options);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->expired_snapshots, 0u);
  EXPECT_EQ(report->version, 6);
  EXPECT_EQ(ExpireSnapshots(catalog_, "absent", options).status().code(), ErrorCode::kNotFound);
}

TEST_F(ExpireTest, AFailedCommitDeletesNothing) {
  LoadedTable v1 = Commit(std::nullopt, 1, 1000);
  LoadedTable v2 = Commit(v1, 2, 2000);
  fs_.InjectFault(io::FaultOperation::kOpen, IoError("disk gone"), "t/metadata/.v3.metadata.json");
  ExpireOptions options;
  options.older_than_ms = 1500;
  auto report = ExpireSnapshots(catalog_, "t", options);
  EXPECT_FALSE(report.ok());
  fs_.ClearFaults();
  EXPECT_TRUE(*store_.Head(*catalog_.KeyOfUri(v1.metadata.CurrentSnapshot()->manifest_list)));
  EXPECT_EQ((*catalog_.Load("t"))->version, 2);
}

}  // namespace
}  // namespace eddy::iceberg
