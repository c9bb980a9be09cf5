#include "source/mysql/schema_history.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "io/file_system.h"

namespace eddy::source::mysql {
namespace {

model::TableSchema Schema(const std::string& table, std::vector<std::string> columns) {
  model::TableSchema schema;
  schema.table = model::TableId{"db", "", table};
  for (size_t i = 0; i < columns.size(); ++i) {
    model::Column column;
    column.name = columns[i];
    column.source_type = "int";
    column.type = model::ValueType::kInt64;
    column.nullable = i != 0;
    column.primary_key_ordinal = i == 0 ? 1 : 0;
    schema.columns.push_back(column);
  }
  schema.primary_key = {columns[0]};
  return schema;
}

class SchemaHistoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("eddy-schema-history-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::unique_ptr<SchemaHistory> Open() {
    auto history = SchemaHistory::Open(io::DefaultFileSystem(), dir_.string());
    EXPECT_TRUE(history.ok()) << history.status().ToString();
    return history.ok() ? std::move(*history) : nullptr;
  }
  std::filesystem::path dir_;
};

TEST_F(SchemaHistoryTest, VersionsIncreaseOnlyOnChangeAndSurviveReopen) {
  BinlogPosition at{"binlog.000001", 100};
  {
    auto history = Open();
    auto a = Schema("t", {"id", "x"});
    ASSERT_TRUE(history->AssignVersion(a, at).ok());
    EXPECT_EQ(a.version, 1u);
    auto same = Schema("t", {"id", "x"});
    ASSERT_TRUE(history->AssignVersion(same, at).ok());
    EXPECT_EQ(same.version, 1u);
    auto changed = Schema("t", {"id", "x", "y"});
    ASSERT_TRUE(history->AssignVersion(changed, at).ok());
    EXPECT_EQ(changed.version, 2u);
    auto other = Schema("u", {"id"});
    ASSERT_TRUE(history->AssignVersion(other, at).ok());
    EXPECT_EQ(other.version, 1u);
    ASSERT_TRUE(history->RecordDdl("db", "ALTER TABLE t ADD y INT", at).ok());
  }
  auto history = Open();
  EXPECT_EQ(history->ddl_count(), 1u);
  EXPECT_EQ(history->table_count(), 2u);
  const model::TableSchema* latest = history->Latest(model::TableId{"db", "", "t"});
  ASSERT_NE(latest, nullptr);
  EXPECT_EQ(latest->version, 2u);
  EXPECT_EQ(latest->columns.size(), 3u);
  EXPECT_EQ(latest->primary_key, std::vector<std::string>{"id"});
  auto back = Schema("t", {"id", "x"});  // a column dropped again: a new version, not 1
  ASSERT_TRUE(history->AssignVersion(back, at).ok());
  EXPECT_EQ(back.version, 3u);
}

TEST_F(SchemaHistoryTest, TornTailIsTruncatedAndEarlierEntriesKept) {
  BinlogPosition at{"binlog.000001", 4};
  {
    auto history = Open();
    auto a = Schema("t", {"id"});
    ASSERT_TRUE(history->AssignVersion(a, at).ok());
    auto b = Schema("t", {"id", "v"});
    ASSERT_TRUE(history->AssignVersion(b, at).ok());
  }
  std::filesystem::path file = dir_ / kSchemaHistoryFileName;
  auto size = std::filesystem::file_size(file);
  std::filesystem::resize_file(file, size - 3);  // a crash in the middle of the last append
  {
    auto history = Open();
    const model::TableSchema* latest = history->Latest(model::TableId{"db", "", "t"});
    ASSERT_NE(latest, nullptr);
    EXPECT_EQ(latest->version, 1u);
    auto again = Schema("t", {"id", "v"});
    ASSERT_TRUE(history->AssignVersion(again, at).ok());
    EXPECT_EQ(again.version, 2u);
  }
  // Garbage appended after valid entries (bad CRC) is dropped too.
  {
    std::ofstream out(file, std::ios::app | std::ios::binary);
    out << std::string("\x05\x00\x00\x00\xde\xad\xbe\xef" "abcde", 13);
  }
  auto history = Open();
  EXPECT_EQ(history->Latest(model::TableId{"db", "", "t"})->version, 2u);
}

TEST(SetTypeModifiersTest, PrecisionAndScaleComeFromTheSourceTypeName) {
  model::TableSchema schema;
  for (const char* type : {"decimal(10,2)", "decimal(18,9) unsigned", "datetime(6)", "time(3)",
                           "timestamp(2)", "datetime", "varchar", "int unsigned", "decimal(x,2)"}) {
    model::Column column;
    column.name = type;
    column.source_type = type;
    schema.columns.push_back(column);
  }
  SetTypeModifiers(schema);
  auto& c = schema.columns;
  EXPECT_EQ(c[0].precision, 10);
  EXPECT_EQ(c[0].scale, 2);
  EXPECT_EQ(c[1].precision, 18);
  EXPECT_EQ(c[1].scale, 9);
  EXPECT_EQ(c[2].precision, 6);
  EXPECT_FALSE(c[2].scale.has_value());
  EXPECT_EQ(c[3].precision, 3);
  EXPECT_EQ(c[4].precision, 2);
  for (size_t i = 5; i < c.size(); ++i) {
    EXPECT_FALSE(c[i].precision.has_value()) << c[i].source_type;
    EXPECT_FALSE(c[i].length.has_value()) << c[i].source_type;
  }
}

}  // namespace
}  // namespace eddy::source::mysql
