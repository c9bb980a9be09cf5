#include "schema/schema_history.h"

#include <gtest/gtest.h>

#include "base/bytes.h"
#include "base/crc32c.h"
#include "io/fault_file_system.h"
#include "model/event_codec.h"
#include "schema/schema_history_format.h"

namespace eddy::schema {
namespace {

const std::string kPath = "/data/streams/orders/table-schemas";

model::TableSchema Orders() {
  model::TableSchema schema;
  schema.table = {"shop", "public", "orders"};
  model::Column id;
  id.name = "id";
  id.source_type = "bigint";
  id.type = model::ValueType::kInt64;
  id.nullable = false;
  id.primary_key_ordinal = 1;
  model::Column amount;
  amount.name = "amount";
  amount.source_type = "numeric";
  amount.type = model::ValueType::kDecimal;
  amount.precision = 12;
  amount.scale = 2;
  model::Column tags;
  tags.name = "tags";
  tags.source_type = "_text";
  tags.type = model::ValueType::kArray;
  tags.element_type = model::ValueType::kText;
  model::Column note;
  note.name = "note";
  note.source_type = "varchar";
  note.type = model::ValueType::kText;
  note.length = 40;
  schema.columns = {id, amount, tags, note};
  schema.primary_key = {"id"};
  return schema;
}

model::TableSchema WithColumn(model::TableSchema schema, const std::string& name) {
  model::Column column;
  column.name = name;
  column.source_type = "text";
  column.type = model::ValueType::kText;
  schema.columns.push_back(column);
  return schema;
}

std::shared_ptr<SchemaHistory> OpenOrDie(io::FaultInjectionFileSystem* fs, bool read_only = false) {
  // The stream's directory, as the log creates it (durably) before any capture runs.
  EXPECT_TRUE(fs->CreateDirectories(io::ParentPath(kPath)).ok());
  auto history = SchemaHistory::Open(kPath, {fs, read_only});
  EXPECT_TRUE(history.ok()) << history.status().ToString();
  return history.ok() ? *history : nullptr;
}

TEST(SchemaHistoryTest, VersionsIncreaseWithShapeAndAreFoundWithEveryField) {
  io::FaultInjectionFileSystem fs;
  auto history = OpenOrDie(&fs);
  EXPECT_EQ(*history->AssignVersion(Orders()), 1u);
  EXPECT_EQ(*history->AssignVersion(Orders()), 1u);  // recording twice is harmless
  EXPECT_EQ(*history->AssignVersion(WithColumn(Orders(), "region")), 2u);
  // Back to the first shape: a new version (versions only increase).
  EXPECT_EQ(*history->AssignVersion(Orders()), 3u);
  model::TableSchema other = Orders();
  other.table.name = "customers";
  EXPECT_EQ(*history->AssignVersion(other), 1u);

  auto v1 = history->Find(Orders().table, 1);
  ASSERT_TRUE(v1.ok());
  model::TableSchema expected = Orders();
  expected.version = 1;
  EXPECT_EQ(**v1, expected);
  auto v2 = history->Find(Orders().table, 2);
  ASSERT_TRUE(v2.ok());
  EXPECT_EQ((*v2)->columns.size(), 5u);
  EXPECT_EQ((*v2)->version, 2u);
  // One allocation per version.
  EXPECT_EQ(v1->get(), history->Find(Orders().table, 1)->get());
  EXPECT_EQ(history->Find(Orders().table, 4).status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(history->Latest(Orders().table)->version, 3u);
  EXPECT_EQ(history->Latest({"shop", "public", "nope"}), nullptr);
  EXPECT_EQ(history->All().size(), 4u);
}

TEST(SchemaHistoryTest, EveryAssignedVersionSurvivesACrashAndVersionsContinue) {
  io::FaultInjectionFileSystem fs;
  {
    auto history = OpenOrDie(&fs);
    ASSERT_EQ(*history->AssignVersion(Orders()), 1u);
    ASSERT_EQ(*history->AssignVersion(WithColumn(Orders(), "region")), 2u);
  }
  fs.SimulateCrash();  // drops anything not fsync'd, directory entries included
  auto history = OpenOrDie(&fs);
  auto v2 = history->Find(Orders().table, 2);
  ASSERT_TRUE(v2.ok()) << v2.status().ToString();
  EXPECT_EQ((*v2)->columns.back().name, "region");
  // A restarted capture that sees the same shape gets the same version; a new shape the next.
  EXPECT_EQ(*history->AssignVersion(WithColumn(Orders(), "region")), 2u);
  EXPECT_EQ(*history->AssignVersion(WithColumn(Orders(), "city")), 3u);
}

TEST(SchemaHistoryTest, TornTailIsTruncatedOnOpen) {
  io::FaultInjectionFileSystem fs;
  {
    auto history = OpenOrDie(&fs);
    ASSERT_EQ(*history->AssignVersion(Orders()), 1u);
  }
  std::string entry = EncodeSchemaEntry(WithColumn(Orders(), "region"));
  {
    auto file = fs.Open(kPath, io::OpenMode::kReadWrite);
    ASSERT_TRUE(file.ok());
    ASSERT_TRUE((*file)->Append(entry.substr(0, entry.size() / 2)).ok());
    ASSERT_TRUE((*file)->Sync().ok());
  }
  uint64_t torn_size = *fs.FileSize(kPath);
  auto history = OpenOrDie(&fs);
  EXPECT_LT(*fs.FileSize(kPath), torn_size);
  EXPECT_TRUE(history->Find(Orders().table, 1).ok());
  EXPECT_FALSE(history->Find(Orders().table, 2).ok());
  EXPECT_EQ(*history->AssignVersion(WithColumn(Orders(), "region")), 2u);
  auto reopened = OpenOrDie(&fs);
  EXPECT_TRUE(reopened->Find(Orders().table, 2).ok());
}

TEST(SchemaHistoryTest, TornMagicOfANewFileIsRewritten) {
  io::FaultInjectionFileSystem fs;
  ASSERT_TRUE(fs.CreateDirectories(io::ParentPath(kPath)).ok());
  {
    auto file = fs.Open(kPath, io::OpenMode::kCreateNew);
    ASSERT_TRUE(file.ok());
    ASSERT_TRUE((*file)->Append(kSchemaHistoryMagic.substr(0, 3)).ok());
    ASSERT_TRUE((*file)->Sync().ok());
  }
  auto history = OpenOrDie(&fs);
  EXPECT_EQ(*history->AssignVersion(Orders()), 1u);
  auto reopened = OpenOrDie(&fs);
  EXPECT_TRUE(reopened->Find(Orders().table, 1).ok());
}

TEST(SchemaHistoryTest, DamageBeforeIntactEntriesIsReportedNotTruncated) {
  io::FaultInjectionFileSystem fs;
  {
    auto history = OpenOrDie(&fs);
    ASSERT_EQ(*history->AssignVersion(Orders()), 1u);
    ASSERT_EQ(*history->AssignVersion(WithColumn(Orders(), "region")), 2u);
  }
  uint64_t size = *fs.FileSize(kPath);
  ASSERT_TRUE(fs.CorruptByte(kPath, kSchemaHistoryMagic.size() + 12).ok());
  auto history = SchemaHistory::Open(kPath, {&fs, false});
  ASSERT_FALSE(history.ok());
  EXPECT_EQ(history.status().code(), ErrorCode::kCorruption);
  EXPECT_NE(history.status().message().find("offset 8"), std::string::npos)
      << history.status().ToString();
  EXPECT_NE(history.status().message().find("restore"), std::string::npos);
  EXPECT_EQ(*fs.FileSize(kPath), size);  // nothing thrown away
}

TEST(SchemaHistoryTest, AFileThatIsNotAHistoryIsRefused) {
  io::FaultInjectionFileSystem fs;
  ASSERT_TRUE(fs.CreateDirectories(io::ParentPath(kPath)).ok());
  ASSERT_TRUE(fs.WriteFileAtomically(kPath, "hello, world").ok());
  auto history = SchemaHistory::Open(kPath, {&fs, false});
  ASSERT_FALSE(history.ok());
  EXPECT_NE(history.status().message().find("not a schema history file"), std::string::npos);
}

TEST(SchemaHistoryTest, AFailedAppendIsRolledBackAndTheNextOneWorks) {
  io::FaultInjectionFileSystem fs;
  auto history = OpenOrDie(&fs);
  ASSERT_EQ(*history->AssignVersion(Orders()), 1u);
  fs.InjectFault(io::FaultOperation::kAppend, Status(ErrorCode::kNoSpace, "disk full"),
                 "table-schemas");
  auto failed = history->AssignVersion(WithColumn(Orders(), "region"));
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), ErrorCode::kNoSpace);
  EXPECT_NE(failed.status().message().find(kPath), std::string::npos);
  EXPECT_FALSE(history->Find(Orders().table, 2).ok());
  EXPECT_EQ(*history->AssignVersion(WithColumn(Orders(), "region")), 2u);
  fs.SimulateCrash();
  auto reopened = OpenOrDie(&fs);
  auto v2 = reopened->Find(Orders().table, 2);
  ASSERT_TRUE(v2.ok());
  EXPECT_EQ((*v2)->columns.back().name, "region");
}

TEST(SchemaHistoryTest, AFailedSyncPoisonsUntilReopened) {
  io::FaultInjectionFileSystem fs;
  auto history = OpenOrDie(&fs);
  ASSERT_EQ(*history->AssignVersion(Orders()), 1u);
  fs.InjectFault(io::FaultOperation::kSync, Status(ErrorCode::kIoError, "EIO"), "table-schemas");
  EXPECT_FALSE(history->AssignVersion(WithColumn(Orders(), "region")).ok());
  auto again = history->AssignVersion(WithColumn(Orders(), "city"));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(again.status().message().find("restart eddy"), std::string::npos);
  history.reset();
  fs.SimulateCrash();
  auto reopened = OpenOrDie(&fs);
  // Whatever the failed sync left, the versions handed out stay unique.
  uint32_t version = *reopened->AssignVersion(WithColumn(Orders(), "city"));
  EXPECT_GE(version, 2u);
  auto found = reopened->Find(Orders().table, version);
  ASSERT_TRUE(found.ok());
  EXPECT_EQ((*found)->columns.back().name, "city");
}

TEST(SchemaHistoryTest, AReadOnlyHistoryFindsSchemasRecordedAfterItOpened) {
  io::FaultInjectionFileSystem fs;
  auto reader = OpenOrDie(&fs, /*read_only=*/true);  // before the file exists
  EXPECT_EQ(reader->Find(Orders().table, 1).status().code(), ErrorCode::kNotFound);
  auto writer = OpenOrDie(&fs);
  ASSERT_EQ(*writer->AssignVersion(Orders()), 1u);
  EXPECT_TRUE(reader->Find(Orders().table, 1).ok());
  ASSERT_EQ(*writer->AssignVersion(WithColumn(Orders(), "region")), 2u);
  auto v2 = reader->Find(Orders().table, 2);
  ASSERT_TRUE(v2.ok());
  EXPECT_EQ((*v2)->columns.back().name, "region");
  EXPECT_EQ(reader->AssignVersion(Orders()).status().code(), ErrorCode::kFailedPrecondition);
}

TEST(SchemaHistoryTest, AppendFailsAtEveryPointThenACrashLeavesAConsistentHistory) {
  // Each append-path operation fails once in turn; whatever AssignVersion reported as recorded
  // is there after a crash, and the versions stay unique per shape.
  for (auto operation : {io::FaultOperation::kOpen, io::FaultOperation::kAppend,
                         io::FaultOperation::kSync, io::FaultOperation::kSyncDirectory}) {
    io::FaultInjectionFileSystem fs;
    std::map<uint32_t, std::string> recorded;  // version -> last column name
    {
      auto history = OpenOrDie(&fs);
      SCOPED_TRACE("operation " + std::to_string(static_cast<int>(operation)));
      fs.InjectFault(operation, Status(ErrorCode::kIoError, "injected"));
      for (const char* column : {"a", "b", "c"}) {
        auto version = history->AssignVersion(WithColumn(Orders(), column));
        if (version.ok()) recorded[*version] = column;
      }
    }
    fs.SimulateCrash();
    auto history = OpenOrDie(&fs);
    for (const auto& [version, column] : recorded) {
      auto found = history->Find(Orders().table, version);
      ASSERT_TRUE(found.ok()) << "operation " << static_cast<int>(operation) << " version "
                              << version;
      EXPECT_EQ((*found)->columns.back().name, column);
    }
    uint32_t next = *history->AssignVersion(WithColumn(Orders(), "z"));
    for (const auto& [version, column] : recorded) EXPECT_GT(next, version);
  }
}

// A MySQL column as the capture records it since schemas carry declared types: the declared
// type and collation round-trip through a (version 2) entry and count in the shape.
TEST(SchemaHistoryTest, DeclaredTypeAndCollationRoundTripAndMakeANewVersion) {
  model::TableSchema schema = Orders();
  schema.columns[3].declared_type = "varchar(40)";
  schema.columns[3].collation = "latin1_swedish_ci";
  model::Column label;
  label.name = "label";
  label.source_type = "enum";
  label.type = model::ValueType::kEnum;
  label.declared_type = "enum('a','b''c','d\\e')";
  label.collation = "utf8mb4_general_ci";
  schema.columns.push_back(label);
  std::string bytes(kSchemaHistoryMagic);
  bytes += EncodeSchemaEntry(schema);
  EXPECT_EQ(static_cast<uint8_t>(bytes[kSchemaHistoryMagic.size() + kSchemaEntryHeaderBytes]),
            kSchemaEntryVersion);
  Result<SchemaHistoryScan> scan = ScanSchemaHistory(bytes);
  ASSERT_TRUE(scan.ok()) << scan.status().ToString();
  ASSERT_EQ(scan->problem, "");
  ASSERT_EQ(scan->schemas.size(), 1u);
  EXPECT_EQ(scan->schemas[0], schema);
  EXPECT_EQ(scan->schemas[0].columns[4].declared_type, "enum('a','b''c','d\\e')");
  EXPECT_EQ(scan->schemas[0].columns[3].collation, "latin1_swedish_ci");

  io::FaultInjectionFileSystem fs;
  auto history = OpenOrDie(&fs);
  EXPECT_EQ(*history->AssignVersion(Orders()), 1u);
  model::TableSchema collated = Orders();
  collated.columns[3].collation = "latin1_bin";
  EXPECT_EQ(*history->AssignVersion(collated), 2u);  // only the collation changed
}

// Entries written before declared types existed (entry version 1) stay readable as they were.
TEST(SchemaHistoryTest, VersionOneEntriesStayReadable) {
  std::string payload(1, '\x01');
  model::AppendTableSchema(Orders(), payload);
  std::string bytes(kSchemaHistoryMagic);
  PutFixed32(bytes, static_cast<uint32_t>(payload.size()));
  PutFixed32(bytes, crc32c::Mask(crc32c::Value(payload)));
  bytes += payload;
  Result<SchemaHistoryScan> scan = ScanSchemaHistory(bytes);
  ASSERT_TRUE(scan.ok()) << scan.status().ToString();
  EXPECT_EQ(scan->problem, "");
  ASSERT_EQ(scan->schemas.size(), 1u);
  EXPECT_EQ(scan->schemas[0], Orders());
  EXPECT_EQ(scan->schemas[0].columns[3].declared_type, "");

  // A version from the future is not guessed at.
  payload[0] = static_cast<char>(kSchemaEntryVersion + 1);
  std::string future(kSchemaHistoryMagic);
  PutFixed32(future, static_cast<uint32_t>(payload.size()));
  PutFixed32(future, crc32c::Mask(crc32c::Value(payload)));
  future += payload;
  scan = ScanSchemaHistory(future);
  ASSERT_TRUE(scan.ok());
  EXPECT_EQ(scan->schemas.size(), 0u);
  EXPECT_NE(scan->problem.find("unknown entry version"), std::string::npos) << scan->problem;
}

}  // namespace
}  // namespace eddy::schema
