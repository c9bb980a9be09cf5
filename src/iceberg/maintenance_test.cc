#include "iceberg/maintenance.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>

#include "iceberg/compact.h"
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

// On the real file system: orphans are found by the files' modification times.
class OrphanTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/eddy-orphan-test-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
    store_ = std::make_unique<objstore::LocalObjectStore>(dir_);
    catalog_ = std::make_unique<HadoopCatalog>(store_.get());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  LoadedTable Commit(const std::optional<LoadedTable>& current, int64_t id) {
    model::Row row = {{"id", model::Value::Int64(id)}};
    Delta delta;
    delta.rows = {&row};
    delta.deleted_keys = {&row};
    auto committed = catalog_->CommitDelta("t", current, Items(), delta);
    EXPECT_TRUE(committed.ok()) << committed.status().ToString();
    return *committed;
  }

  static int64_t NowMs() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }

  std::string dir_;
  std::unique_ptr<objstore::LocalObjectStore> store_;
  std::unique_ptr<HadoopCatalog> catalog_;
};

TEST_F(OrphanTest, RemovesOnlyUnreferencedFilesOlderThanTheCutoff) {
  LoadedTable v = Commit(std::nullopt, 1);
  v = Commit(v, 2);
  // Compacted: the old files stay referenced by the older snapshots (time travel).
  auto compacted = CompactTable(*catalog_, "t", CompactOptions{});
  ASSERT_TRUE(compacted.ok()) << compacted.status().ToString();
  // What a failed commit leaves behind.
  ASSERT_TRUE(store_->Put("t/data/9-lost-data.parquet", "x", {}).ok());
  ASSERT_TRUE(store_->Put("t/metadata/lost-m0.avro", "yy", {}).ok());
  ASSERT_TRUE(store_->Put("t/metadata/v99.metadata.json.old", "zzz", {}).ok());
  auto listing = store_->List("t/", "", "", 1000);
  const size_t objects = listing->objects.size();
  for (const auto& object : listing->objects) {
    EXPECT_GT(object.modified_ms, NowMs() - 60'000) << object.key;
  }

  OrphanOptions options;
  options.older_than_ms = NowMs() - 3'600'000;  // an hour ago: everything is recent
  auto report = RemoveOrphanFiles(*catalog_, "t", options);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->removed_files, 0u);
  EXPECT_EQ(report->kept_recent_files, 3u);

  options.older_than_ms = NowMs() + 60'000;  // everything is old enough
  options.dry_run = true;
  report = RemoveOrphanFiles(*catalog_, "t", options);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->removed_files, 3u);
  EXPECT_EQ(report->removed_bytes, 6u);
  EXPECT_EQ(store_->List("t/", "", "", 1000)->objects.size(), objects);

  options.dry_run = false;
  report = RemoveOrphanFiles(*catalog_, "t", options);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->removed_files, 3u);
  EXPECT_FALSE(*store_->Head("t/data/9-lost-data.parquet"));
  EXPECT_EQ(store_->List("t/", "", "", 1000)->objects.size(), objects - 3);
  // Every file a snapshot references is still there, and the table reads as before.
  auto loaded = catalog_->Load("t");
  ASSERT_TRUE(loaded.ok() && loaded->has_value());
  // Two commits: a list, two manifests, a data and a delete file each; the compaction: a
  // list, a manifest and a data file.
  EXPECT_EQ(report->referenced_files, 5u + 5u + 3u);
  for (const Snapshot& snapshot : (*loaded)->metadata.snapshots) {
    EXPECT_TRUE(*store_->Head(*catalog_->KeyOfUri(snapshot.manifest_list)));
  }
  EXPECT_EQ(RemoveOrphanFiles(*catalog_, "absent", options).status().code(), ErrorCode::kNotFound);
}

}  // namespace
}  // namespace eddy::iceberg
