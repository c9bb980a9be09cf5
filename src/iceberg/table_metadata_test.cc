#include "iceberg/table_metadata.h"

#include <gtest/gtest.h>

namespace eddy::iceberg {
namespace {

model::Column Col(std::string name, std::string source_type, model::ValueType type) {
  model::Column column;
  column.name = std::move(name);
  column.source_type = std::move(source_type);
  column.type = type;
  return column;
}

model::TableSchema Orders() {
  model::TableSchema table;
  table.table = {"shop", "public", "orders"};
  table.version = 1;
  model::Column id = Col("id", "bigint", model::ValueType::kInt64);
  id.nullable = false;
  id.primary_key_ordinal = 1;
  model::Column note = Col("note", "text", model::ValueType::kText);
  model::Column amount = Col("amount", "numeric", model::ValueType::kDecimal);
  amount.precision = 10;
  amount.scale = 2;
  model::Column at = Col("at", "timestamptz", model::ValueType::kTimestampTz);
  table.columns = {id, note, amount, at};
  table.primary_key = {"id"};
  return table;
}

TEST(IcebergSchemaTest, TypesFollowTheParquetLayout) {
  model::TableSchema table = Orders();
  EXPECT_EQ(IcebergTypeFor(table, table.columns[0]), "long");
  EXPECT_EQ(IcebergTypeFor(table, table.columns[1]), "string");
  EXPECT_EQ(IcebergTypeFor(table, table.columns[2]), "decimal(10, 2)");
  EXPECT_EQ(IcebergTypeFor(table, table.columns[3]), "timestamptz");
  model::Column small = Col("s", "smallint", model::ValueType::kInt64);
  EXPECT_EQ(IcebergTypeFor(table, small), "int");
  model::Column day = Col("d", "date", model::ValueType::kDate);
  EXPECT_EQ(IcebergTypeFor(table, day), "date");
  model::Column uuid = Col("u", "uuid", model::ValueType::kUuid);
  EXPECT_EQ(IcebergTypeFor(table, uuid), "uuid");
  model::Column blob = Col("b", "bytea", model::ValueType::kBytes);
  EXPECT_EQ(IcebergTypeFor(table, blob), "binary");
  model::Column wide = Col("w", "numeric", model::ValueType::kDecimal);
  wide.precision = 30;
  wide.scale = 5;
  EXPECT_EQ(IcebergTypeFor(table, wide), "decimal(30, 5)");
  model::Column flag = Col("f", "boolean", model::ValueType::kBool);
  EXPECT_EQ(IcebergTypeFor(table, flag), "boolean");
  model::Column naive = Col("t", "timestamp", model::ValueType::kTimestamp);
  EXPECT_EQ(IcebergTypeFor(table, naive), "timestamp");
}

// MySQL/MariaDB unsigned integers: each gets the narrowest Iceberg type that holds every value;
// BIGINT UNSIGNED is decimal(20, 0) (long would read 2^63 and above as negative), written as a
// DECIMAL(20, 0) Parquet column. A field that is `long` already stays `long`.
TEST(IcebergSchemaTest, UnsignedIntegersGetATypeThatHoldsEveryValue) {
  model::TableSchema table;
  table.table = {"shop", "", "counters"};
  table.columns = {Col("tiu", "tinyint unsigned", model::ValueType::kUint64),
                   Col("siu", "smallint unsigned", model::ValueType::kUint64),
                   Col("miu", "mediumint unsigned", model::ValueType::kUint64),
                   Col("iu", "int unsigned", model::ValueType::kUint64),
                   Col("biu", "bigint unsigned", model::ValueType::kUint64),
                   Col("bi", "bigint", model::ValueType::kInt64)};
  EXPECT_EQ(IcebergTypeFor(table, table.columns[0]), "int");
  EXPECT_EQ(IcebergTypeFor(table, table.columns[1]), "int");
  EXPECT_EQ(IcebergTypeFor(table, table.columns[2]), "long");
  EXPECT_EQ(IcebergTypeFor(table, table.columns[3]), "long");
  EXPECT_EQ(IcebergTypeFor(table, table.columns[4]), "decimal(20, 0)");
  EXPECT_EQ(IcebergTypeFor(table, table.columns[5]), "long");
  EXPECT_TRUE(IsUnsigned64(table, table.columns[4]));
  EXPECT_FALSE(IsUnsigned64(table, table.columns[3]));

  int32_t last_column_id = 0;
  Schema fresh = SchemaFor(table, nullptr, &last_column_id);
  EXPECT_EQ(fresh.FindField("biu")->type, "decimal(20, 0)");
  model::TableSchema files = FileSchemaFor(table, fresh);
  EXPECT_EQ(files.columns[4].type, model::ValueType::kDecimal);
  EXPECT_EQ(files.columns[4].precision, 20);
  EXPECT_EQ(files.columns[4].scale, 0);
  EXPECT_EQ(files.columns[3].type, model::ValueType::kUint64);  // INT UNSIGNED: long as before
  EXPECT_EQ(IcebergTypeFor(files, files.columns[4]), "decimal(20, 0)");

  // A table made when BIGINT UNSIGNED was `long`: the field keeps its type and id, and its
  // files keep the INT(64,unsigned) column (no silent type change).
  Schema legacy = fresh;
  legacy.fields[4].type = "long";
  Schema next = SchemaFor(table, &legacy, &last_column_id);
  EXPECT_TRUE(next.SameShape(legacy));
  EXPECT_EQ(next.FindField("biu")->id, legacy.fields[4].id);
  EXPECT_EQ(FileSchemaFor(table, next).columns[4].type, model::ValueType::kUint64);

  // ALTER ... iu BIGINT UNSIGNED: a `long` field stays `long` (same id; no drop-and-add).
  model::TableSchema altered = table;
  altered.columns[3].source_type = "bigint unsigned";
  Schema widened = SchemaFor(altered, &fresh, &last_column_id);
  EXPECT_EQ(widened.FindField("iu")->type, "long");
  EXPECT_EQ(widened.FindField("iu")->id, fresh.FindField("iu")->id);
}

TEST(IcebergSchemaTest, FieldIdsStayStableAcrossVersions) {
  int32_t last_column_id = 0;
  model::TableSchema table = Orders();
  Schema first = SchemaFor(table, nullptr, &last_column_id);
  ASSERT_EQ(first.fields.size(), 4u);
  EXPECT_EQ(first.fields[0].id, 1);
  EXPECT_TRUE(first.fields[0].required);
  EXPECT_FALSE(first.fields[1].required);
  EXPECT_EQ(first.fields[3].id, 4);
  EXPECT_EQ(first.identifier_field_ids, std::vector<int32_t>{1});
  EXPECT_EQ(last_column_id, 4);

  // Same shape: same ids and schema id.
  Schema same = SchemaFor(table, &first, &last_column_id);
  EXPECT_TRUE(same.SameShape(first));
  EXPECT_EQ(same.schema_id, first.schema_id);

  // DROP note, ADD extra: the kept columns keep their ids, the new one gets 5 (4 never returns).
  table.columns.erase(table.columns.begin() + 1);
  table.columns.push_back(Col("extra", "integer", model::ValueType::kInt64));
  Schema second = SchemaFor(table, &first, &last_column_id);
  EXPECT_EQ(second.schema_id, first.schema_id + 1);
  ASSERT_EQ(second.fields.size(), 4u);
  EXPECT_EQ(second.FindField("id")->id, 1);
  EXPECT_EQ(second.FindField("amount")->id, 3);
  EXPECT_EQ(second.FindField("extra")->id, 5);
  EXPECT_EQ(second.FindField("note"), nullptr);
  EXPECT_EQ(last_column_id, 5);
}

TEST(IcebergSchemaTest, RenamesAndTypePromotionsKeepFieldIds) {
  int32_t last_column_id = 0;
  model::TableSchema table = Orders();
  table.columns.push_back(Col("qty", "integer", model::ValueType::kInt64));
  table.columns.back().source_type = "smallint";  // Iceberg int
  model::Column ratio = Col("ratio", "real", model::ValueType::kFloat32);
  table.columns.push_back(ratio);
  Schema first = SchemaFor(table, nullptr, &last_column_id);
  ASSERT_EQ(first.FindField("qty")->type, "int");
  ASSERT_EQ(first.FindField("ratio")->type, "float");

  // RENAME COLUMN note TO remark: same place, same type: the id stays.
  table.columns[1].name = "remark";
  Schema renamed = SchemaFor(table, &first, &last_column_id);
  EXPECT_EQ(renamed.schema_id, first.schema_id + 1);
  EXPECT_EQ(renamed.FindField("remark")->id, first.FindField("note")->id);
  EXPECT_EQ(renamed.FindField("note"), nullptr);
  EXPECT_EQ(last_column_id, 6);

  // Widening: int -> long, float -> double, decimal(10, 2) -> decimal(14, 2): ids stay.
  table.columns[4].source_type = "bigint";
  table.columns[5] = Col("ratio", "double precision", model::ValueType::kFloat64);
  table.columns[2].precision = 14;
  Schema widened = SchemaFor(table, &renamed, &last_column_id);
  EXPECT_EQ(widened.FindField("qty")->type, "long");
  EXPECT_EQ(widened.FindField("qty")->id, first.FindField("qty")->id);
  EXPECT_EQ(widened.FindField("ratio")->type, "double");
  EXPECT_EQ(widened.FindField("ratio")->id, first.FindField("ratio")->id);
  EXPECT_EQ(widened.FindField("amount")->type, "decimal(14, 2)");
  EXPECT_EQ(widened.FindField("amount")->id, first.FindField("amount")->id);
  EXPECT_EQ(last_column_id, 6);

  // Not promotions: a narrower decimal, another scale, long -> int, text -> number: new ids.
  table.columns[2].precision = 12;
  table.columns[4].source_type = "smallint";
  Schema narrowed = SchemaFor(table, &widened, &last_column_id);
  EXPECT_EQ(narrowed.FindField("amount")->id, 7);
  EXPECT_EQ(narrowed.FindField("qty")->id, 8);
  EXPECT_FALSE(IsAllowedPromotion("decimal(10, 2)", "decimal(12, 3)"));
  EXPECT_FALSE(IsAllowedPromotion("string", "long"));
  EXPECT_TRUE(IsAllowedPromotion("decimal(10, 2)", "decimal(38, 2)"));

  // DROP the last column and ADD another of the same type at its place reads as a rename
  // (the source catalog gives no column identity); docs/sinks/iceberg.md says so.
}

TEST(IcebergSchemaTest, OnlyKeyColumnsAreRequired) {
  model::TableSchema table = Orders();
  table.columns[1].nullable = false;  // NOT NULL, but an update may lack its value (TOAST)
  int32_t last_column_id = 0;
  Schema schema = SchemaFor(table, nullptr, &last_column_id);
  EXPECT_TRUE(schema.fields[0].required);
  EXPECT_FALSE(schema.fields[1].required);
}

TEST(IcebergSchemaTest, NullableKeyHasNoIdentifierFields) {
  model::TableSchema table = Orders();
  table.columns[0].nullable = true;
  int32_t last_column_id = 0;
  EXPECT_TRUE(SchemaFor(table, nullptr, &last_column_id).identifier_field_ids.empty());
}

TEST(TableMetadataTest, JsonRoundTrip) {
  TableMetadata metadata;
  metadata.table_uuid = "9c12d441-03fe-4693-9a96-a0705ddf69c1";
  metadata.location = "file:///lake/shop/public/orders";
  int32_t last_column_id = 0;
  metadata.schemas.push_back(SchemaFor(Orders(), nullptr, &last_column_id));
  metadata.last_column_id = last_column_id;
  metadata.last_sequence_number = 2;
  metadata.last_updated_ms = 1700000000123;
  metadata.properties["write.format.default"] = "parquet";
  Snapshot snapshot;
  snapshot.snapshot_id = 77;
  snapshot.parent_snapshot_id = 76;
  snapshot.sequence_number = 2;
  snapshot.timestamp_ms = 1700000000123;
  snapshot.manifest_list = "file:///lake/shop/public/orders/metadata/snap-77-1-x.avro";
  snapshot.summary = {{"operation", "overwrite"}, {"eddy.checkpoint", "0:12"}};
  metadata.snapshots.push_back(snapshot);
  metadata.current_snapshot_id = 77;
  metadata.snapshot_log.push_back({1700000000123, 77});
  metadata.metadata_log.push_back(
      {1700000000000, "file:///lake/shop/public/orders/metadata/v1.metadata.json"});

  std::string json = TableMetadataJson(metadata);
  EXPECT_NE(json.find(R"("format-version":2)"), std::string::npos);
  EXPECT_NE(json.find(R"("identifier-field-ids":[1])"), std::string::npos);
  EXPECT_NE(json.find(R"("refs":{"main":{"snapshot-id":77,"type":"branch"}})"), std::string::npos);
  EXPECT_NE(json.find(R"("last-partition-id":999)"), std::string::npos);
  auto parsed = ParseTableMetadata(json);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->table_uuid, metadata.table_uuid);
  EXPECT_EQ(parsed->last_sequence_number, 2);
  EXPECT_EQ(parsed->last_column_id, 4);
  ASSERT_NE(parsed->CurrentSchema(), nullptr);
  EXPECT_TRUE(parsed->CurrentSchema()->SameShape(metadata.schemas[0]));
  ASSERT_NE(parsed->CurrentSnapshot(), nullptr);
  EXPECT_EQ(parsed->CurrentSnapshot()->parent_snapshot_id, 76);
  EXPECT_EQ(parsed->CurrentSnapshot()->SummaryValue("eddy.checkpoint"), "0:12");
  EXPECT_EQ(parsed->metadata_log.size(), 1u);
  EXPECT_EQ(TableMetadataJson(*parsed), json);
}

TEST(TableMetadataTest, RefusesWhatEddyDoesNotWrite) {
  EXPECT_EQ(ParseTableMetadata("{").status().code(), ErrorCode::kCorruption);
  EXPECT_EQ(ParseTableMetadata("[]").status().code(), ErrorCode::kCorruption);
  EXPECT_EQ(ParseTableMetadata(R"({"format-version":1})").status().code(),
            ErrorCode::kFailedPrecondition);
  auto missing = ParseTableMetadata(R"({"format-version":2,"table-uuid":"x"})");
  EXPECT_EQ(missing.status().code(), ErrorCode::kCorruption);
  EXPECT_NE(missing.status().message().find("location"), std::string::npos);
}

}  // namespace
}  // namespace eddy::iceberg
