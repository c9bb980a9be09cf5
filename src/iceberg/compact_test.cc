#include "iceberg/compact.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <map>

#include "iceberg/iceberg_format.h"
#include "io/fault_file_system.h"
#include "objstore/local_object_store.h"
#include "parquet/reader.h"

namespace eddy::iceberg {
namespace {

model::Column Col(std::string name, model::ValueType type, std::string source_type, bool nullable,
                  int key_ordinal = 0) {
  model::Column column;
  column.name = std::move(name);
  column.type = type;
  column.source_type = std::move(source_type);
  column.nullable = nullable;
  column.primary_key_ordinal = key_ordinal;
  return column;
}

model::TableSchema Items(bool with_note) {
  model::TableSchema table;
  table.table = {"shop", "public", "items"};
  table.columns = {Col("id", model::ValueType::kInt64, "integer", false, 1),
                   Col("name", model::ValueType::kText, "text", true)};
  if (with_note) table.columns.push_back(Col("note", model::ValueType::kText, "text", true));
  table.primary_key = {"id"};
  return table;
}

model::Row Item(int64_t id, std::string name, std::optional<std::string> note = std::nullopt) {
  model::Row row = {{"id", model::Value::Int64(id)}, {"name", model::Value::Text(std::move(name))}};
  if (note) row.push_back({"note", model::Value::Text(*note)});
  return row;
}

// An object store that runs `hook` once, before the first Put whose key contains `trigger`
// (another writer committing while compaction writes its files).
class HookedStore final : public objstore::ObjectStore {
 public:
  explicit HookedStore(objstore::ObjectStore* inner) : inner_(inner) {}
  std::string trigger;
  std::function<void()> hook;

  Status Check() override { return inner_->Check(); }
  Status Put(std::string_view key, std::string_view bytes,
             const objstore::PutOptions& options) override {
    if (hook && !trigger.empty() && key.find(trigger) != std::string_view::npos) {
      auto run = std::move(hook);
      hook = nullptr;
      run();
    }
    return inner_->Put(key, bytes, options);
  }
  Result<std::string> Get(std::string_view key) override { return inner_->Get(key); }
  Result<std::optional<objstore::ObjectInfo>> Head(std::string_view key) override {
    return inner_->Head(key);
  }
  Status Delete(std::string_view key) override { return inner_->Delete(key); }
  Result<objstore::ListPage> List(std::string_view prefix, std::string_view start_after,
                                  std::string_view continuation, size_t max_keys) override {
    return inner_->List(prefix, start_after, continuation, max_keys);
  }
  bool HonoursIfNoneMatch() const override { return true; }
  std::string Describe(std::string_view key) const override { return inner_->Describe(key); }
  void Close() override {}

 private:
  objstore::ObjectStore* inner_;
};

class CompactTest : public ::testing::Test {
 protected:
  LoadedTable Commit(const std::optional<LoadedTable>& current, std::vector<model::Row> rows,
                     std::vector<model::Row> deleted, bool with_note = false,
                     std::string checkpoint = "") {
    Delta delta;
    for (const model::Row& row : rows) delta.rows.push_back(&row);
    for (const model::Row& key : deleted) delta.deleted_keys.push_back(&key);
    if (!checkpoint.empty()) {
      delta.summary = {{std::string(kSummarySink), "s"},
                       {std::string(kSummaryCheckpoint), checkpoint}};
    }
    auto committed = writer_.CommitDelta("t", current, Items(with_note), delta);
    EXPECT_TRUE(committed.ok()) << committed.status().ToString();
    return *committed;
  }

  static model::Row Key(int64_t id) { return {{"id", model::Value::Int64(id)}}; }

  // What a reader of main sees, computed independently of compact.cc: every data file's rows
  // minus those an equality delete of a higher sequence number names (key: the id column).
  std::map<int64_t, model::Row> Scan() {
    auto loaded = catalog_.Load("t");
    EXPECT_TRUE(loaded.ok() && loaded->has_value());
    const Snapshot* current = (*loaded)->metadata.CurrentSnapshot();
    auto list = ReadManifestList(*store_.Get(*catalog_.KeyOfUri(current->manifest_list)));
    std::vector<std::pair<int64_t, std::vector<model::Row>>> data;
    std::map<int64_t, int64_t> deleted;  // id -> highest sequence number
    for (const ManifestFile& manifest : *list) {
      auto files = ReadManifest(*store_.Get(*catalog_.KeyOfUri(manifest.manifest_path)));
      for (const DataFile& file : *files) {
        std::string bytes = *store_.Get(*catalog_.KeyOfUri(file.file_path));
        EXPECT_EQ(static_cast<int64_t>(bytes.size()), file.file_size_in_bytes);
        auto reader = parquet::ParquetReader::Open(bytes);
        EXPECT_TRUE(reader.ok()) << reader.status().ToString();
        auto rows = reader->ReadRows();
        EXPECT_EQ(static_cast<int64_t>(rows->size()), file.record_count);
        if (file.content == kContentData) {
          data.emplace_back(manifest.sequence_number, *rows);
        } else {
          for (const model::Row& row : *rows) {
            int64_t& seq = deleted[row[0].value.Get<int64_t>()];
            seq = std::max(seq, manifest.sequence_number);
          }
        }
      }
    }
    std::map<int64_t, model::Row> visible;
    for (const auto& [sequence, rows] : data) {
      for (const model::Row& row : rows) {
        const int64_t id = row[0].value.Get<int64_t>();
        auto hit = deleted.find(id);
        if (hit != deleted.end() && hit->second > sequence) continue;
        EXPECT_FALSE(visible.contains(id)) << "duplicate id " << id;
        visible[id] = row;
      }
    }
    return visible;
  }

  io::FaultInjectionFileSystem fs_;
  objstore::LocalObjectStore store_{"/lake", &fs_};
  HadoopCatalog catalog_{&store_};
  HookedStore hooked_{&store_};
  HadoopCatalog writer_{&hooked_};  // the "sink"
};

TEST_F(CompactTest, AppliesTheSequenceNumberRulesAndLeavesNoDeleteFiles) {
  LoadedTable v = Commit(std::nullopt, {Item(1, "a"), Item(2, "a"), Item(3, "a"), Item(4, "a")},
                         {Key(1), Key(2), Key(3), Key(4)});
  v = Commit(v, {Item(2, "b")}, {Key(2), Key(3)});                      // update 2, delete 3
  v = Commit(v, {Item(3, "c")}, {Key(3)});                              // re-insert 3
  v = Commit(v, {Item(5, "d", "new column")}, {Key(5)}, true, "cp-4");  // ADD COLUMN note
  v = Commit(v, {}, {Key(4)}, true, "cp-5");                            // delete 4
  const auto before = Scan();
  ASSERT_EQ(before.size(), 4u);
  auto counts = CountFiles(catalog_, (*catalog_.Load("t"))->metadata);
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->data_files, 4u);
  EXPECT_EQ(counts->delete_files, 5u);

  auto report = CompactTable(catalog_, "t", CompactOptions{});
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_TRUE(report->compacted);
  EXPECT_EQ(report->data_files_before, 4u);
  EXPECT_EQ(report->delete_files_before, 5u);
  EXPECT_EQ(report->data_files_after, 1u);
  EXPECT_EQ(report->rows_before, 7);
  EXPECT_EQ(report->rows_after, 4);

  const auto after = Scan();
  ASSERT_EQ(after.size(), 4u);
  for (const auto& [id, row] : after) {
    ASSERT_EQ(row.size(), 3u);  // id, name, note: the current schema
    EXPECT_EQ(row[1].value, before.at(id)[1].value) << id;
  }
  EXPECT_EQ(after.at(1)[1].value, model::Value::Text("a"));
  EXPECT_EQ(after.at(2)[1].value, model::Value::Text("b"));
  EXPECT_EQ(after.at(3)[1].value, model::Value::Text("c"));
  EXPECT_TRUE(after.at(3)[2].value.is_null());  // written before the column existed
  EXPECT_EQ(after.at(5)[2].value, model::Value::Text("new column"));

  auto loaded = catalog_.Load("t");
  const TableMetadata& metadata = (*loaded)->metadata;
  counts = CountFiles(catalog_, metadata);
  EXPECT_EQ(counts->data_files, 1u);
  EXPECT_EQ(counts->delete_files, 0u);
  const Snapshot* current = metadata.CurrentSnapshot();
  EXPECT_EQ(current->SummaryValue("operation"), "replace");
  EXPECT_EQ(current->SummaryValue(kSummaryCheckpoint), "cp-5");  // the sink resumes there
  EXPECT_EQ(current->sequence_number, 6);
  EXPECT_EQ(current->parent_snapshot_id, v.metadata.current_snapshot_id);

  // A later commit's deletes apply to the compacted rows (sequence 6 < 7).
  LoadedTable w = Commit(**loaded, {Item(1, "z")}, {Key(1), Key(2)}, true, "cp-7");
  const auto later = Scan();
  EXPECT_EQ(later.size(), 3u);
  EXPECT_EQ(later.at(1)[1].value, model::Value::Text("z"));
  EXPECT_FALSE(later.contains(2));

  // Nothing to do on a compacted table without later commits.
  ASSERT_TRUE(CompactTable(catalog_, "t", CompactOptions{}).ok());
  auto again = CompactTable(catalog_, "t", CompactOptions{});
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->compacted);
  EXPECT_EQ(CompactTable(catalog_, "absent", CompactOptions{}).status().code(),
            ErrorCode::kNotFound);
}

TEST_F(CompactTest, ACommitDuringCompactionIsKeptByPlanningAgain) {
  LoadedTable v = Commit(std::nullopt, {Item(1, "a"), Item(2, "a")}, {Key(1), Key(2)});
  v = Commit(v, {Item(2, "b")}, {Key(2)});
  // The sink commits (update 1, delete 2, insert 3) while compaction writes its first file.
  HookedStore compactor_store(&store_);
  HadoopCatalog compactor(&compactor_store);
  compactor_store.trigger = "-compacted.parquet";
  compactor_store.hook = [&] {
    v = Commit(v, {Item(1, "x"), Item(3, "c")}, {Key(1), Key(2), Key(3)});
  };
  auto report = CompactTable(compactor, "t", CompactOptions{});
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->attempts, 2);
  const auto rows = Scan();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows.at(1)[1].value, model::Value::Text("x"));
  EXPECT_EQ(rows.at(3)[1].value, model::Value::Text("c"));
  EXPECT_EQ(CountFiles(catalog_, (*catalog_.Load("t"))->metadata)->delete_files, 0u);
  // The first attempt's file was deleted: only the committed compacted file remains.
  auto listing = store_.List("t/data/", "", "", 1000);
  size_t compacted = 0;
  for (const auto& object : listing->objects)
    compacted += object.key.ends_with("-compacted.parquet");
  EXPECT_EQ(compacted, 1u);

  // The sink's stale version loses its commit (kAborted) and succeeds after reloading.
  Delta delta;
  model::Row row = Item(9, "late");
  delta.rows = {&row};
  const size_t objects = store_.List("t/", "", "", 1000)->objects.size();
  auto stale = writer_.CommitDelta("t", v, Items(false), delta);
  EXPECT_EQ(stale.status().code(), ErrorCode::kAborted);
  EXPECT_EQ(store_.List("t/", "", "", 1000)->objects.size(), objects);  // its files deleted
  auto reloaded = catalog_.Load("t");
  ASSERT_TRUE(writer_.CommitDelta("t", *reloaded, Items(false), delta).ok());
  EXPECT_EQ(Scan().size(), 3u);
}

TEST_F(CompactTest, AStagedTransactionWaitsAndAFailedWriteLeavesTheTableAsItWas) {
  LoadedTable v = Commit(std::nullopt, {Item(1, "a")}, {Key(1)});
  v = Commit(v, {Item(1, "b")}, {Key(1)});
  Delta staged;
  model::Row row = Item(2, "s");
  staged.rows = {&row};
  CommitOptions options;
  options.publish = false;
  auto with_staged = catalog_.CommitDelta("t", v, Items(false), staged, options);
  ASSERT_TRUE(with_staged.ok());
  EXPECT_EQ(CompactTable(catalog_, "t", CompactOptions{}).status().code(), ErrorCode::kUnavailable);
  ASSERT_TRUE(catalog_.PublishStaged("t", *with_staged).ok());

  const auto before = Scan();
  fs_.InjectFault(io::FaultOperation::kOpen, IoError("disk gone"), "t/metadata/.v5.metadata.json");
  auto failed = CompactTable(catalog_, "t", CompactOptions{});
  EXPECT_EQ(failed.status().code(), ErrorCode::kIoError) << failed.status().ToString();
  fs_.ClearFaults();
  EXPECT_EQ((*catalog_.Load("t"))->version, 4);
  EXPECT_EQ(Scan(), before);
  auto report = CompactTable(catalog_, "t", CompactOptions{});
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(Scan(), before);
}

TEST_F(CompactTest, RollsOutputFilesAtTheTargetSize) {
  std::vector<model::Row> rows;
  std::vector<model::Row> keys;
  for (int64_t id = 0; id < 3000; ++id) {
    rows.push_back(Item(id, std::string(100, static_cast<char>('a' + id % 26))));
    keys.push_back(Key(id));
  }
  LoadedTable v = Commit(std::nullopt, rows, keys);
  v = Commit(v, {}, {Key(7)});
  CompactOptions options;
  options.target_file_bytes = 64 << 10;
  options.compression = parquet::Compression::kNone;
  auto report = CompactTable(catalog_, "t", options);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_GT(report->data_files_after, 2u);
  EXPECT_EQ(report->rows_after, 2999);
  EXPECT_EQ(Scan().size(), 2999u);
}

// BIGINT UNSIGNED: decimal(20, 0) in a new table, compacted into DECIMAL(20,0) files with every
// value kept; in a table whose field is `long` already (here: INT UNSIGNED altered to BIGINT
// UNSIGNED), the field stays `long` and compaction keeps its INT(64,unsigned) files.
TEST_F(CompactTest, UnsignedBigintColumnsKeepEveryValue) {
  auto table_of = [](std::string name, std::string source_type) {
    model::TableSchema table;
    table.table = {"shop", "", std::move(name)};
    table.columns = {Col("id", model::ValueType::kInt64, "int", false, 1),
                     Col("n", model::ValueType::kUint64, std::move(source_type), true)};
    table.primary_key = {"id"};
    return table;
  };
  auto row = [](int64_t id, uint64_t n) {
    return model::Row{{"id", model::Value::Int64(id)}, {"n", model::Value::Uint64(n)}};
  };
  auto commit = [&](std::string_view key, const std::optional<LoadedTable>& current,
                    const model::TableSchema& table, std::vector<model::Row> rows) {
    Delta delta;
    std::vector<model::Row> keys;
    for (const model::Row& image : rows) keys.push_back({image[0]});
    for (const model::Row& image : rows) delta.rows.push_back(&image);
    for (const model::Row& k : keys) delta.deleted_keys.push_back(&k);
    auto committed = writer_.CommitDelta(key, current, table, delta);
    EXPECT_TRUE(committed.ok()) << committed.status().ToString();
    return *committed;
  };
  auto compacted_rows = [&](std::string_view key) {
    auto report = CompactTable(catalog_, std::string(key), CompactOptions{});
    EXPECT_TRUE(report.ok()) << report.status().ToString();
    auto loaded = catalog_.Load(key);
    auto list = ReadManifestList(
        *store_.Get(*catalog_.KeyOfUri((*loaded)->metadata.CurrentSnapshot()->manifest_list)));
    std::vector<model::Row> rows;
    for (const ManifestFile& manifest : *list) {
      auto files = ReadManifest(*store_.Get(*catalog_.KeyOfUri(manifest.manifest_path)));
      for (const DataFile& file : *files) {
        const std::string bytes = *store_.Get(*catalog_.KeyOfUri(file.file_path));
        auto reader = parquet::ParquetReader::Open(bytes);  // reads `bytes` in place
        auto read = reader->ReadRows();
        EXPECT_TRUE(read.ok()) << read.status().ToString();
        rows.insert(rows.end(), read->begin(), read->end());
      }
    }
    std::sort(rows.begin(), rows.end(), [](const model::Row& a, const model::Row& b) {
      return a[0].value.Get<int64_t>() < b[0].value.Get<int64_t>();
    });
    return std::make_pair(*(*loaded)->metadata.CurrentSchema(), rows);
  };

  const model::TableSchema fresh = table_of("fresh", "bigint unsigned");
  LoadedTable v =
      commit("fresh", std::nullopt, fresh, {row(1, 18446744073709551615ull), row(2, 5)});
  v = commit("fresh", v, fresh, {row(2, 9223372036854775808ull)});
  auto [schema, rows] = compacted_rows("fresh");
  EXPECT_EQ(schema.FindField("n")->type, "decimal(20, 0)");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0][1].value, model::Value::Decimal("18446744073709551615"));
  EXPECT_EQ(rows[1][1].value, model::Value::Decimal("9223372036854775808"));

  LoadedTable w = commit("legacy", std::nullopt, table_of("legacy", "int unsigned"),
                         {row(1, 4294967295u), row(2, 7)});
  EXPECT_EQ(w.metadata.CurrentSchema()->FindField("n")->type, "long");
  const model::TableSchema altered = table_of("legacy", "bigint unsigned");
  w = commit("legacy", w, altered, {row(3, 18446744073709551615ull)});
  EXPECT_EQ(w.metadata.CurrentSchema()->FindField("n")->type, "long");
  EXPECT_EQ(w.metadata.schemas.size(), 1u);  // no new field, no new schema
  auto [legacy_schema, legacy_rows] = compacted_rows("legacy");
  EXPECT_EQ(legacy_schema.FindField("n")->type, "long");
  ASSERT_EQ(legacy_rows.size(), 3u);
  EXPECT_EQ(legacy_rows[0][1].value, model::Value::Uint64(4294967295u));
  EXPECT_EQ(legacy_rows[2][1].value, model::Value::Uint64(18446744073709551615ull));
}

}  // namespace
}  // namespace eddy::iceberg
