#include "format/shaping.h"

#include <gtest/gtest.h>

#include "format/renderer.h"
#include "format/sample_events.h"

namespace eddy::format {
namespace {

using model::Value;

Shaper MakeShaper(ShapingRules rules) {
  auto shaper = Shaper::Make(std::move(rules));
  EXPECT_TRUE(shaper.ok()) << shaper.status().ToString();
  return std::move(shaper).value();
}

TEST(ShapingTest, TableIncludeAndExcludePatterns) {
  ShapingRules rules;
  rules.include_tables = {"public.*", "shop.orders"};
  rules.exclude_tables = {"public.audit_*"};
  Shaper shaper = MakeShaper(rules);
  EXPECT_TRUE(shaper.IncludesTable({"shop", "public", "orders"}));
  EXPECT_FALSE(shaper.IncludesTable({"shop", "public", "audit_log"}));
  EXPECT_FALSE(shaper.IncludesTable({"shop", "private", "orders"}));
  EXPECT_TRUE(shaper.IncludesTable({"shop", "", "orders"}));     // MySQL shop.orders
  EXPECT_FALSE(shaper.IncludesTable({"shop", "", "customers"}));
  auto samples = testing::SampleEvents();
  EXPECT_TRUE(shaper.Apply(samples[0].event).has_value());
  model::ChangeEvent other = samples[0].event;
  other.table.name = "audit_2024";
  EXPECT_FALSE(shaper.Apply(other).has_value());
}

// An excluded column never appears anywhere, in any format and view type.
TEST(ShapingTest, ExcludedColumnAppearsInNoFormat) {
  ShapingRules rules;
  rules.exclude_columns = {"*.customer", "shop.orders.doc"};
  Shaper shaper = MakeShaper(rules);
  for (std::string_view name : RendererNames()) {
    auto renderer = MakeRenderer(name);
    ASSERT_TRUE(renderer.ok());
    for (const auto& sample : testing::SampleEvents()) {
      auto shaped = shaper.Apply(sample.event);
      ASSERT_TRUE(shaped.has_value());
      for (ViewType view : {ViewType::kKeysOnly, ViewType::kNewImage, ViewType::kOldImage,
                            ViewType::kNewAndOldImages}) {
        std::string json = (*renderer)->Render(*shaped, view);
        for (const char* leaked : {"customer", "O'Neil", "\"doc\"", "tags"}) {
          EXPECT_EQ(json.find(leaked), std::string::npos) << name << " " << sample.name << " " << json;
        }
      }
    }
  }
}

const model::ChangeEvent& Sample(const std::string& name) {
  static const auto* samples = new std::vector<testing::NamedEvent>(testing::SampleEvents());
  for (const auto& sample : *samples) {
    if (sample.name == name) return sample.event;
  }
  ADD_FAILURE() << "no sample " << name;
  return samples->front().event;
}

std::vector<std::string> RenderEverywhere(const model::ChangeEvent& event) {
  std::vector<std::string> out;
  for (std::string_view name : RendererNames()) {
    auto renderer = MakeRenderer(name);
    EXPECT_TRUE(renderer.ok());
    for (ViewType view : {ViewType::kKeysOnly, ViewType::kNewImage, ViewType::kOldImage,
                          ViewType::kNewAndOldImages}) {
      out.push_back((*renderer)->Render(event, view));
    }
  }
  return out;
}

// Schema changes and the original SQL of row changes name columns too: an excluded column's
// definition is dropped, and statements naming an excluded (or masked) column are withheld.
TEST(ShapingTest, ExcludedColumnAppearsInNoSchemaChangeOrQuery) {
  ShapingRules rules;
  rules.exclude_columns = {"shop.orders.note"};
  rules.masks = {{"shop.orders.QTY", MaskKind::kAsterisks, 3, ""}};
  Shaper shaper = MakeShaper(rules);

  auto ddl = shaper.Apply(Sample("mysql_add_column"));
  ASSERT_TRUE(ddl.has_value());
  ASSERT_TRUE(ddl->schema_change && ddl->schema_change->table_schema);
  EXPECT_EQ(ddl->schema_change->ddl, "");  // "ADD COLUMN note ..." names the excluded column
  EXPECT_EQ(ddl->schema_change->table_schema->columns.size(), 3u);
  EXPECT_EQ(ddl->schema_change->table_schema->FindColumn("note"), nullptr);
  EXPECT_NE(ddl->schema_change->table_schema->FindColumn("qty"), nullptr);  // masks keep columns
  for (const std::string& json : RenderEverywhere(*ddl)) {
    EXPECT_EQ(json.find("note"), std::string::npos) << json;
  }

  // "UPDATE orders SET qty = 5": qty is masked (case-insensitive match), so the SQL, which holds
  // the raw value, is withheld.
  auto update = shaper.Apply(Sample("mysql_update"));
  ASSERT_TRUE(update.has_value());
  EXPECT_EQ(update->source.query, "");
  for (const std::string& json : RenderEverywhere(*update)) {
    EXPECT_EQ(json.find("SET qty"), std::string::npos) << json;
  }

  // A statement naming no hidden column keeps its text; one naming it in a string literal too.
  model::ChangeEvent rename = Sample("mysql_add_column");
  rename.schema_change->ddl = "ALTER TABLE orders COMMENT 'note'";
  EXPECT_EQ(shaper.Apply(rename)->schema_change->ddl, rename.schema_change->ddl);
  rename.schema_change->ddl = "ALTER TABLE orders DROP COLUMN `NOTE`";
  EXPECT_EQ(shaper.Apply(rename)->schema_change->ddl, "");

  // Excluded tables drop their schema changes; database-level statements always pass.
  ShapingRules tables;
  tables.include_tables = {"shop.customers"};
  Shaper table_shaper = MakeShaper(tables);
  EXPECT_FALSE(table_shaper.Apply(Sample("mysql_add_column")).has_value());
  EXPECT_TRUE(table_shaper.Apply(Sample("mysql_create_database")).has_value());
  // Transaction records and heartbeats have no table and always pass.
  EXPECT_TRUE(table_shaper.Apply(Sample("pg_tx_begin")).has_value());
  EXPECT_TRUE(table_shaper.Apply(Sample("pg_tx_end")).has_value());
  EXPECT_TRUE(table_shaper.Apply(Sample("pg_heartbeat")).has_value());
}

TEST(ShapingTest, IncludeColumnsShapeSchemaChanges) {
  ShapingRules rules;
  rules.include_columns = {"shop.orders.price"};
  Shaper shaper = MakeShaper(rules);
  auto ddl = shaper.Apply(Sample("mysql_add_column"));
  ASSERT_TRUE(ddl.has_value());
  const model::TableSchema& schema = *ddl->schema_change->table_schema;
  ASSERT_EQ(schema.columns.size(), 2u);  // the key column stays, as in row images
  EXPECT_EQ(schema.columns[0].name, "id");
  EXPECT_EQ(schema.columns[1].name, "price");
  EXPECT_EQ(ddl->schema_change->ddl, "");  // names "note", a known column left out
  // Without the table's columns, a column-level statement cannot be checked: withheld.
  model::ChangeEvent bare = Sample("mysql_add_column");
  bare.schema_change->table_schema.reset();
  bare.schema_change->ddl = "ALTER TABLE orders ADD COLUMN secret int";
  EXPECT_EQ(shaper.Apply(bare)->schema_change->ddl, "");
  // Table-level statements are kept.
  EXPECT_EQ(shaper.Apply(Sample("mysql_drop_table"))->schema_change->ddl, "DROP TABLE `old_orders`");
}

TEST(ShapingTest, ExcludedKeyColumnIsRemovedFromTheKeyToo) {
  ShapingRules rules;
  rules.exclude_columns = {"public.orders.id"};
  auto shaped = MakeShaper(rules).Apply(testing::SampleEvents()[0].event);
  ASSERT_TRUE(shaped);
  EXPECT_TRUE(shaped->key.empty());
  EXPECT_EQ(model::FindField(*shaped->after, "id"), nullptr);
}

TEST(ShapingTest, IncludeColumnsKeepsKeyColumns) {
  ShapingRules rules;
  rules.include_columns = {"public.orders.status"};
  auto shaped = MakeShaper(rules).Apply(testing::SampleEvents()[1].event);
  ASSERT_TRUE(shaped);
  ASSERT_EQ(shaped->after->size(), 2u);
  EXPECT_EQ((*shaped->after)[0].name, "id");
  EXPECT_EQ((*shaped->after)[1].name, "status");
  EXPECT_EQ(shaped->before->size(), 2u);
}

TEST(ShapingTest, MaskingAsterisksHashAndTruncate) {
  ShapingRules rules;
  rules.masks = {{"*.customer", MaskKind::kTruncate, 3, ""},
                 {"*.status", MaskKind::kHash, 0, "pepper"},
                 {"*.amount", MaskKind::kAsterisks, 5, ""},
                 {"*.note", MaskKind::kAsterisks, 5, ""}};
  Shaper shaper = MakeShaper(rules);
  auto shaped = shaper.Apply(testing::SampleEvents()[0].event);
  ASSERT_TRUE(shaped);
  const model::Row& row = *shaped->after;
  EXPECT_EQ(*model::FindField(row, "customer"), Value::Text("Zoë"));  // 3 code points, not bytes
  EXPECT_EQ(*model::FindField(row, "amount"), Value::Text("*****"));
  EXPECT_TRUE(model::FindField(row, "note")->is_null());  // NULL stays NULL
  // sha256("pepper" + "new"), stable across events.
  const Value* status = model::FindField(row, "status");
  ASSERT_EQ(status->type(), model::ValueType::kText);
  EXPECT_EQ(status->Get<std::string>().size(), 64u);
  auto again = shaper.Apply(testing::SampleEvents()[4].event);  // the snapshot row, same status
  EXPECT_EQ(*model::FindField(*again->after, "status"), *status);
  rules.masks[1].salt = "salt2";
  auto other_salt = MakeShaper(rules).Apply(testing::SampleEvents()[0].event);
  EXPECT_NE(*model::FindField(*other_salt->after, "status"), *status);
}

TEST(ShapingTest, KeyOverrideChoosesPartitionColumns) {
  ShapingRules rules;
  rules.key_overrides = {{"public.orders", {"status", "id"}}};
  auto shaped = MakeShaper(rules).Apply(testing::SampleEvents()[0].event);
  ASSERT_TRUE(shaped);
  ASSERT_EQ(shaped->key.size(), 2u);
  EXPECT_EQ(shaped->key[0].name, "status");
  EXPECT_EQ(shaped->key[0].value, Value::Enum("new"));
  EXPECT_NE(shaped->PartitionKey(), testing::SampleEvents()[0].event.PartitionKey());
}

TEST(ShapingTest, InvalidRulesAreRejected) {
  ShapingRules empty_pattern;
  empty_pattern.exclude_columns = {""};
  EXPECT_EQ(Shaper::Make(empty_pattern).status().code(), ErrorCode::kInvalidArgument);
  ShapingRules bad_length;
  bad_length.masks = {{"*.x", MaskKind::kTruncate, -1, ""}};
  EXPECT_EQ(Shaper::Make(bad_length).status().code(), ErrorCode::kInvalidArgument);
  ShapingRules bad_key;
  bad_key.key_overrides = {{"public.t", {}}};
  EXPECT_EQ(Shaper::Make(bad_key).status().code(), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace eddy::format
