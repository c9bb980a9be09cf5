#include "iceberg/sql_catalog.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>

#include "iceberg/compact.h"
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
  model::Column name;
  name.name = "name";
  name.source_type = "text";
  name.type = model::ValueType::kText;
  table.columns = {id, name};
  table.primary_key = {"id"};
  return table;
}

model::Row Item(int64_t id, std::string name) {
  return {{"id", model::Value::Int64(id)}, {"name", model::Value::Text(std::move(name))}};
}

// SQLite needs real files (it does its own I/O): a fresh directory per test.
class SqlCatalogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("eddy-sql-catalog-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_ / "lake");
    store_ = std::make_unique<objstore::LocalObjectStore>((dir_ / "lake").string());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<SqlCatalog> Open(std::chrono::milliseconds busy = std::chrono::seconds(10)) {
    auto catalog =
        SqlCatalog::Open((dir_ / "catalog.db").string(), "eddy", store_.get(), "wh/", busy);
    EXPECT_TRUE(catalog.ok()) << catalog.status().ToString();
    return catalog.ok() ? std::move(catalog).value() : nullptr;
  }

  // One row of iceberg_tables, read with a connection of its own.
  std::vector<std::string> Row(std::string_view where) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open((dir_ / "catalog.db").c_str(), &db), SQLITE_OK);
    std::string sql =
        "SELECT catalog_name, table_namespace, table_name, metadata_location, "
        "coalesce(previous_metadata_location, '') FROM iceberg_tables WHERE " +
        std::string(where);
    sqlite3_stmt* statement = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &statement, nullptr), SQLITE_OK);
    std::vector<std::string> row;
    if (sqlite3_step(statement) == SQLITE_ROW) {
      for (int i = 0; i < 5; ++i) {
        row.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(statement, i)));
      }
    }
    sqlite3_finalize(statement);
    sqlite3_close(db);
    return row;
  }

  std::filesystem::path dir_;
  std::unique_ptr<objstore::LocalObjectStore> store_;
};

TEST_F(SqlCatalogTest, CommitsThroughTheJdbcCatalogTables) {
  auto catalog = Open();
  ASSERT_NE(catalog, nullptr);
  EXPECT_EQ(catalog->NameOf("wh/shop/public/items").table_namespace, "shop.public");
  EXPECT_EQ(catalog->NameOf("wh/shop/public/items").name, "items");
  EXPECT_EQ(catalog->NameOf("wh/my.db/items").table_namespace, "my%2Edb");

  auto absent = catalog->Load("wh/shop/public/items");
  ASSERT_TRUE(absent.ok());
  EXPECT_FALSE(absent->has_value());

  model::Row a = Item(1, "a");
  Delta first;
  first.rows = {&a};
  auto v1 = catalog->CommitDelta("wh/shop/public/items", std::nullopt, Items(), first);
  ASSERT_TRUE(v1.ok()) << v1.status().ToString();
  EXPECT_EQ(v1->version, 1);
  EXPECT_TRUE(v1->metadata_location.starts_with("file://" + (dir_ / "lake").string() +
                                                "/wh/shop/public/items/metadata/00001-"));
  std::vector<std::string> row = Row("table_name = 'items'");
  ASSERT_EQ(row.size(), 5u);
  EXPECT_EQ(row[0], "eddy");
  EXPECT_EQ(row[1], "shop.public");
  EXPECT_EQ(row[3], v1->metadata_location);
  EXPECT_EQ(row[4], "");
  // No hadoop files: the database is the catalog.
  EXPECT_FALSE(*store_->Head("wh/shop/public/items/metadata/version-hint.text"));

  model::Row b = Item(2, "b");
  Delta second;
  second.rows = {&b};
  auto v2 = catalog->CommitDelta("wh/shop/public/items", *v1, Items(), second);
  ASSERT_TRUE(v2.ok()) << v2.status().ToString();
  EXPECT_EQ(v2->version, 2);
  row = Row("table_name = 'items'");
  EXPECT_EQ(row[3], v2->metadata_location);
  EXPECT_EQ(row[4], v1->metadata_location);
  ASSERT_EQ(v2->metadata.metadata_log.size(), 1u);
  EXPECT_EQ(v2->metadata.metadata_log[0].metadata_file, v1->metadata_location);

  // A second process opening the database sees the table and its current version.
  auto other = Open();
  auto loaded = other->Load("wh/shop/public/items");
  ASSERT_TRUE(loaded.ok() && loaded->has_value());
  EXPECT_EQ((*loaded)->version, 2);
  EXPECT_EQ((*loaded)->metadata.current_snapshot_id, v2->metadata.current_snapshot_id);
  auto tables = other->ListTables("wh/");
  ASSERT_TRUE(tables.ok());
  EXPECT_EQ(*tables, std::vector<std::string>{"wh/shop/public/items"});
  EXPECT_TRUE(other->ListTables("elsewhere/")->empty());
}

TEST_F(SqlCatalogTest, AConcurrentCommitIsRefused) {
  auto first = Open();
  auto second = Open();
  model::Row a = Item(1, "a");
  Delta delta;
  delta.rows = {&a};
  auto v1 = first->CommitDelta("wh/t", std::nullopt, Items(), delta);
  ASSERT_TRUE(v1.ok());
  // Creating the same table again: the row is there.
  auto created_twice = second->CommitDelta("wh/t", std::nullopt, Items(), delta);
  EXPECT_EQ(created_twice.status().code(), ErrorCode::kAborted)
      << created_twice.status().ToString();

  // Both writers loaded v1; the first commits, the second's commit names a stale version.
  auto loaded = second->Load("wh/t");
  ASSERT_TRUE(loaded.ok() && loaded->has_value());
  auto won = first->CommitDelta("wh/t", *v1, Items(), delta);
  ASSERT_TRUE(won.ok());
  auto lost = second->CommitDelta("wh/t", **loaded, Items(), delta);
  EXPECT_EQ(lost.status().code(), ErrorCode::kAborted);
  EXPECT_NE(lost.status().message().find("reload the table"), std::string::npos);
  EXPECT_EQ(Row("table_name = 't'")[3], won->metadata_location);
  // Reloaded, it commits.
  loaded = second->Load("wh/t");
  auto retried = second->CommitDelta("wh/t", **loaded, Items(), delta);
  ASSERT_TRUE(retried.ok()) << retried.status().ToString();
  EXPECT_EQ(retried->version, 3);
}

TEST_F(SqlCatalogTest, CompactionCommitsThroughTheCatalogRow) {
  auto catalog = Open();
  model::Row a = Item(1, "a");
  model::Row b = Item(2, "b");
  Delta delta;
  delta.rows = {&a, &b};
  delta.deleted_keys = {&a, &b};
  auto v1 = catalog->CommitDelta("wh/t", std::nullopt, Items(), delta);
  ASSERT_TRUE(v1.ok());
  Delta second;
  second.deleted_keys = {&a};
  auto v2 = catalog->CommitDelta("wh/t", *v1, Items(), second);
  ASSERT_TRUE(v2.ok());
  auto report = CompactTable(*catalog, "wh/t", CompactOptions{});
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->rows_after, 1);
  ASSERT_TRUE(report->table);
  EXPECT_EQ(Row("table_name = 't'")[3], report->table->metadata_location);
  auto counts = CountFiles(*catalog, report->table->metadata);
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->delete_files, 0u);
  EXPECT_EQ(counts->data_files, 1u);
}

TEST_F(SqlCatalogTest, ACrashBetweenTheMetadataFileAndTheCatalogUpdateLeavesTheOldVersion) {
  auto catalog = Open(std::chrono::milliseconds(50));
  model::Row a = Item(1, "a");
  Delta delta;
  delta.rows = {&a};
  auto v1 = catalog->CommitDelta("wh/t", std::nullopt, Items(), delta);
  ASSERT_TRUE(v1.ok());
  // Another process holds the database's write lock: the metadata file is written, the
  // UPDATE (the commit point) is not. That is the state a crash between the two leaves.
  sqlite3* locker = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ / "catalog.db").c_str(), &locker), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(locker, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr), SQLITE_OK);
  auto failed = catalog->CommitDelta("wh/t", *v1, Items(), delta);
  EXPECT_FALSE(failed.ok());
  EXPECT_TRUE(failed.status().IsRetriable()) << failed.status().ToString();
  sqlite3_exec(locker, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(locker);

  auto page = store_->List("wh/t/metadata/", "", "", 1000);
  ASSERT_TRUE(page.ok());
  int metadata_files = 0;
  for (const auto& object : page->objects) metadata_files += object.key.ends_with(".metadata.json");
  EXPECT_EQ(metadata_files, 2);  // v1 and the unreferenced one
  auto loaded = Open()->Load("wh/t");
  ASSERT_TRUE(loaded.ok() && loaded->has_value());
  EXPECT_EQ((*loaded)->metadata_location, v1->metadata_location);
  EXPECT_EQ((*loaded)->metadata.snapshots.size(), 1u);
  auto next = catalog->CommitDelta("wh/t", **loaded, Items(), delta);
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  EXPECT_EQ(next->metadata.snapshots.size(), 2u);
}

TEST_F(SqlCatalogTest, UsesADatabasePyIcebergCreated) {
  // PyIceberg's SqlCatalog creates iceberg_tables without iceberg_type.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ / "catalog.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "CREATE TABLE iceberg_tables (catalog_name VARCHAR(255) NOT NULL, "
                         "table_namespace VARCHAR(255) NOT NULL, table_name VARCHAR(255) NOT "
                         "NULL, metadata_location VARCHAR(1000), previous_metadata_location "
                         "VARCHAR(1000), PRIMARY KEY (catalog_name, table_namespace, table_name))",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  auto catalog = Open();
  model::Row a = Item(1, "a");
  Delta delta;
  delta.rows = {&a};
  auto v1 = catalog->CommitDelta("wh/shop/t", std::nullopt, Items(), delta);
  ASSERT_TRUE(v1.ok()) << v1.status().ToString();
  EXPECT_EQ(Row("table_name = 't'")[1], "shop");
}

TEST_F(SqlCatalogTest, AnUnwritableDatabaseSaysWhichFile) {
  auto catalog =
      SqlCatalog::Open((dir_ / "missing" / "catalog.db").string(), "eddy", store_.get(), "");
  ASSERT_FALSE(catalog.ok());
  EXPECT_NE(catalog.status().message().find("missing/catalog.db"), std::string::npos);
  EXPECT_TRUE(catalog.status().IsRetriable());
}

}  // namespace
}  // namespace eddy::iceberg
