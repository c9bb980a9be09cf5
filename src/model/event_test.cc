#include "model/event.h"

#include <gtest/gtest.h>

namespace eddy::model {
namespace {

TEST(OperationTest, CodesRoundTrip) {
  for (Operation op : {Operation::kInsert, Operation::kUpdate, Operation::kDelete,
                       Operation::kRead, Operation::kTruncate, Operation::kMessage}) {
    auto parsed = ParseOperationCode(OperationCode(op));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, op);
  }
  EXPECT_FALSE(ParseOperationCode("x").ok());
  // Serialized values never change.
  EXPECT_EQ(static_cast<int>(Operation::kInsert), 1);
  EXPECT_EQ(static_cast<int>(Operation::kMessage), 6);
}

TEST(TableIdTest, Names) {
  TableId pg{"shop", "public", "orders"};
  EXPECT_EQ(pg.QualifiedName(), "public.orders");
  EXPECT_EQ(pg.ToString(), "shop.public.orders");
  TableId my{"shop", "", "orders"};
  EXPECT_EQ(my.QualifiedName(), "shop.orders");
  EXPECT_EQ(my.ToString(), "shop.orders");
}

TEST(PartitionKeyTest, SameRowSameKeyAcrossOperations) {
  ChangeEvent insert;
  insert.table = {"shop", "public", "orders"};
  insert.key = {{"id", Value::Int64(42)}};
  insert.after = Row{{"id", Value::Int64(42)}, {"note", Value::Text("x")}};
  ChangeEvent remove = insert;
  remove.op = Operation::kDelete;
  remove.after.reset();
  remove.before = Row{{"id", Value::Int64(42)}};
  EXPECT_EQ(insert.PartitionKey(), remove.PartitionKey());
  EXPECT_EQ(insert.PartitionKey(), "4:shop6:public6:orders4:2:42");

  ChangeEvent other = insert;
  other.key = {{"id", Value::Int64(43)}};
  EXPECT_NE(insert.PartitionKey(), other.PartitionKey());
  ChangeEvent other_table = insert;
  other_table.table.name = "orders2";
  EXPECT_NE(insert.PartitionKey(), other_table.PartitionKey());
}

TEST(PartitionKeyTest, CompositeKeysAreUnambiguous) {
  ChangeEvent a;
  a.table = {"d", "s", "t"};
  a.key = {{"a", Value::Text("x:1")}, {"b", Value::Text("y")}};
  ChangeEvent b = a;
  b.key = {{"a", Value::Text("x")}, {"b", Value::Text("1:y")}};
  EXPECT_NE(a.PartitionKey(), b.PartitionKey());
}

}  // namespace
}  // namespace eddy::model
