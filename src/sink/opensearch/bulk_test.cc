#include "sink/opensearch/bulk.h"

#include <gtest/gtest.h>

#include "format/json.h"

namespace eddy::sink::opensearch {
namespace {

using model::Value;

TEST(Bulk, ActionsAreNdjsonWithExternalVersions) {
  std::string body;
  AppendBulkAction({ActionKind::kIndex, "orders", "7", 42, R"({"id":7,"name":"a"})"}, &body);
  AppendBulkAction({ActionKind::kDelete, "orders", "8", 43, ""}, &body);
  EXPECT_EQ(body,
            "{\"index\":{\"_index\":\"orders\",\"_id\":\"7\",\"version\":42,"
            "\"version_type\":\"external_gte\"}}\n{\"id\":7,\"name\":\"a\"}\n"
            "{\"delete\":{\"_index\":\"orders\",\"_id\":\"8\",\"version\":43,"
            "\"version_type\":\"external_gte\"}}\n");
}

TEST(Bulk, ParsesItemsInOrder) {
  auto items = ParseBulkResponse(
      R"({"errors":true,"items":[{"index":{"status":201}},{"delete":{"status":404}},)"
      R"({"index":{"status":409,"error":{"type":"version_conflict_engine_exception","reason":"r"}}},)"
      R"({"index":{"status":429,"error":{"type":"es_rejected_execution_exception","reason":"q"}}},)"
      R"({"index":{"status":400,"error":{"type":"mapper_parsing_exception","reason":"bad"}}}]})",
      5);
  ASSERT_TRUE(items.ok()) << items.status().ToString();
  ASSERT_EQ(items->size(), 5u);
  EXPECT_EQ(ClassifyItem(ActionKind::kIndex, (*items)[0]), ItemOutcome::kApplied);
  EXPECT_EQ(ClassifyItem(ActionKind::kDelete, (*items)[1]), ItemOutcome::kApplied);
  EXPECT_EQ(ClassifyItem(ActionKind::kIndex, (*items)[2]), ItemOutcome::kApplied);
  EXPECT_EQ(ClassifyItem(ActionKind::kIndex, (*items)[3]), ItemOutcome::kRetriable);
  EXPECT_EQ(ClassifyItem(ActionKind::kIndex, (*items)[4]), ItemOutcome::kPermanent);
  EXPECT_EQ((*items)[4].error_type, "mapper_parsing_exception");
  EXPECT_EQ((*items)[4].error_reason, "bad");
  EXPECT_EQ((*items)[1].action, "delete");
}

TEST(Bulk, MalformedRepliesAreCorruption) {
  for (std::string_view body :
       {"", "[]", "{}", R"({"items":[]})", R"({"items":[{"index":{}}]})",
        R"({"items":[{"index":{"status":"201"}}]})", R"({"items":[{"index":{"status":201}},1]})",
        R"({"items":[{"index":{"status":201},"delete":{"status":200}}]})",
        R"({"items":[{"index":{"status":99}}]})"}) {
    auto items = ParseBulkResponse(body, 1);
    ASSERT_FALSE(items.ok()) << body;
    EXPECT_EQ(items.status().code(), ErrorCode::kCorruption) << body;
  }
  EXPECT_FALSE(ParseBulkResponse(R"({"items":[{"index":{"status":201}}]})", 2).ok());
}

TEST(Bulk, VersionsFollowTheSourcePosition) {
  SourcePosition first(PostgresPosition{Lsn(0x16B374D848), Lsn(0x16B374D000)});
  SourcePosition later(PostgresPosition{Lsn(0x16B374E000), Lsn(0x16B374D100)});
  EXPECT_EQ(*ExternalVersion(first, 0), uint64_t{0x16B374D848} << 16);
  EXPECT_LT(*ExternalVersion(first, 0), *ExternalVersion(first, 1));
  // Ordinals saturate below the next transaction's versions.
  EXPECT_EQ(*ExternalVersion(first, 70'000), *ExternalVersion(first, 65'535));
  EXPECT_LT(*ExternalVersion(first, 70'000), *ExternalVersion(later, 0));
  EXPECT_FALSE(
      ExternalVersion(SourcePosition(PostgresPosition{Lsn(uint64_t{1} << 47), Lsn(1)}), 0).ok());
  MysqlPosition a{1, BinlogPosition{"mysql-bin.000009", 999'999}, {}};
  MysqlPosition b{1, BinlogPosition{"mysql-bin.000010", 4}, {}};
  EXPECT_LT(*ExternalVersion(SourcePosition(a), 5000), *ExternalVersion(SourcePosition(b), 0));
  EXPECT_LT(*ExternalVersion(SourcePosition(a), 1), *ExternalVersion(SourcePosition(a), 2));
  EXPECT_LE(*ExternalVersion(SourcePosition(MysqlPosition{1, {"b.999999", 0xFFFFFFFF}, {}}), 9),
            kMaxVersion);
  EXPECT_FALSE(ExternalVersion(SourcePosition(), 0).ok());
  MysqlPosition unnumbered{1, BinlogPosition{"binlog", 4}, {}};
  EXPECT_FALSE(ExternalVersion(SourcePosition(unnumbered), 0).ok());
}

TEST(Bulk, DocumentIdsAreStable) {
  EXPECT_EQ(*DocumentId({{"id", Value::Int64(42)}}), "42");
  EXPECT_EQ(*DocumentId({{"id", Value::Text("a|b")}}), "a|b");
  EXPECT_EQ(*DocumentId({{"a", Value::Text("x|y")}, {"b", Value::Int64(-3)}}), "x\\|y|-3");
  EXPECT_EQ(*DocumentId({{"d", Value::Date(model::DateValue::FromCivil(2024, 1, 15))}}),
            "2024-01-15");
  EXPECT_EQ(*DocumentId({{"n", Value::Decimal("12.50")}}), "12.50");
  std::string long_key(600, 'k');
  auto hashed = DocumentId({{"id", Value::Text(long_key)}});
  ASSERT_TRUE(hashed.ok());
  EXPECT_EQ(hashed->rfind("sha256:", 0), 0u);
  EXPECT_EQ(hashed->size(), 7u + 64u);
  EXPECT_FALSE(DocumentId({}).ok());
  EXPECT_FALSE(DocumentId({{"id", Value::Null()}}).ok());
}

TEST(Bulk, IndexNamesAndFirehoseRotation) {
  auto index = ParseIndexTemplate("cdc-${schema}-${table}");
  ASSERT_TRUE(index.ok());
  model::TableId table{"shop", "Public", "Order Items"};
  // 2016-02-25T13:00:00Z, Firehose's example.
  int64_t arrival = int64_t{1456405200} * 1'000'000'000;
  EXPECT_EQ(IndexName(*index, IndexRotation::kNoRotation, table, arrival),
            "cdc-public-order_items");
  EXPECT_EQ(IndexName(*index, IndexRotation::kOneHour, table, arrival),
            "cdc-public-order_items-2016-02-25-13");
  EXPECT_EQ(IndexName(*index, IndexRotation::kOneDay, table, arrival),
            "cdc-public-order_items-2016-02-25");
  EXPECT_EQ(IndexName(*index, IndexRotation::kOneWeek, table, arrival),
            "cdc-public-order_items-2016-w08");
  EXPECT_EQ(IndexName(*index, IndexRotation::kOneMonth, table, arrival),
            "cdc-public-order_items-2016-02");
  // 2017-01-01 was a Sunday: week 01; 2016-01-01 (a Friday) is in week 00.
  EXPECT_EQ(IndexName(*index, IndexRotation::kOneWeek, table, int64_t{1483228800} * 1'000'000'000),
            "cdc-public-order_items-2017-w01");
  EXPECT_EQ(IndexName(*index, IndexRotation::kOneWeek, table, int64_t{1451606400} * 1'000'000'000),
            "cdc-public-order_items-2016-w00");
}

TEST(Bulk, DocumentsAreTypedJson) {
  model::Row row = {
      {"id", Value::Int64(1)},
      {"price", Value::Decimal("12.50")},
      {"ok", Value::Bool(true)},
      {"at", Value::TimestampTz({model::TemporalKind::kFinite, 1'700'000'000'000'000})},
      {"note", Value::Null()}};
  std::string text;
  WriteDocument(row, DecimalMode::kString, &text);
  EXPECT_EQ(text,
            R"({"id":1,"price":"12.50","ok":true,"at":"2023-11-14T22:13:20.000000Z","note":null})");
  WriteDocument(row, DecimalMode::kNumber, &text);
  EXPECT_EQ(text,
            R"({"id":1,"price":12.50,"ok":true,"at":"2023-11-14T22:13:20.000000Z","note":null})");
  model::Row special = {{"price", Value::Decimal("NaN")}};
  WriteDocument(special, DecimalMode::kNumber, &text);
  EXPECT_EQ(text, R"({"price":"NaN"})");
}

TEST(Bulk, MappingsFromTheCatalog) {
  model::TableSchema schema;
  auto make = [](std::string name, model::ValueType type) {
    model::Column column;
    column.name = std::move(name);
    column.type = type;
    return column;
  };
  schema.columns = {
      make("id", model::ValueType::kInt64),   make("price", model::ValueType::kDecimal),
      make("name", model::ValueType::kText),  make("at", model::ValueType::kTimestampTz),
      make("blob", model::ValueType::kBytes), make("flag", model::ValueType::kBool),
      make("doc", model::ValueType::kJson)};
  schema.columns[1].precision = 10;
  schema.columns[1].scale = 2;
  EXPECT_EQ(IndexCreationBody(schema, DecimalMode::kString),
            R"({"mappings":{"properties":{"id":{"type":"long"},"price":{"type":"keyword"},)"
            R"("name":{"type":"keyword"},"at":{"type":"date"},"blob":{"type":"binary"},)"
            R"("flag":{"type":"boolean"},"doc":{"type":"object","enabled":false}}}})");
  std::string numeric = IndexCreationBody(schema, DecimalMode::kNumber);
  EXPECT_NE(numeric.find(R"("price":{"type":"scaled_float","scaling_factor":100})"),
            std::string::npos)
      << numeric;
}

TEST(Bulk, FailedDocumentsInFirehoseShape) {
  BulkAction action{ActionKind::kIndex, "orders", "7", 42, R"({"id":"x"})"};
  BulkItemResult item{"index", 400, "mapper_parsing_exception", "failed to parse field [id]"};
  std::string line = FailedDocumentLine(action, item, 1, 1000, 2000);
  ASSERT_EQ(line.back(), '\n');
  std::string raw;
  AppendBulkAction(action, &raw);
  EXPECT_EQ(line,
            "{\"attemptsMade\":1,\"arrivalTimestamp\":1000,\"errorCode\":\"400\","
            "\"errorMessage\":\"{\\\"type\\\":\\\"mapper_parsing_exception\\\",\\\"reason\\\":"
            "\\\"failed to parse field [id]\\\"}\",\"attemptEndingTimestamp\":2000,"
            "\"esDocumentId\":\"7\",\"esIndexName\":\"orders\",\"esTypeName\":\"\","
            "\"rawData\":\"" +
                format::Base64Encode(raw) + "\"}\n");
}

TEST(Bulk, ErrorsClassify) {
  EXPECT_TRUE(ErrorFromReply("_bulk", 429, "", "http://h").IsRetriable());
  EXPECT_TRUE(ErrorFromReply("_bulk", 503, "<html>", "http://h").IsRetriable());
  Status auth = ErrorFromReply(
      "GET /", 401, R"({"error":{"type":"security_exception","reason":"missing credentials"}})",
      "http://h");
  EXPECT_EQ(auth.code(), ErrorCode::kPermissionDenied);
  EXPECT_NE(auth.message().find("security_exception: missing credentials"), std::string::npos);
  EXPECT_NE(auth.message().find("password"), std::string::npos);
  EXPECT_EQ(ErrorFromReply("_bulk", 413, "", "http://h").code(), ErrorCode::kFailedPrecondition);
}

}  // namespace
}  // namespace eddy::sink::opensearch
