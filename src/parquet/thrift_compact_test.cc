#include "parquet/thrift_compact.h"

#include <gtest/gtest.h>

namespace eddy::parquet::thrift {
namespace {

TEST(ThriftCompact, EncodesFieldHeadersListsAndNestedStructsAsTheSpecSays) {
  std::string out;
  CompactWriter w(&out);
  w.FieldI32(1, 3);        // delta 1, i32: 0x15, zigzag(3) = 6
  w.FieldBinary(4, "ab");  // delta 3, binary: 0x38, len 2, "ab"
  w.FieldBool(5, true);    // delta 1, true: 0x11
  w.FieldI64(40, -1);      // delta 35 > 15: 0x06, zigzag i16 id 40 = 80, zigzag(-1) = 1
  w.FieldStructBegin(41);  // delta 1, struct: 0x1C
  w.FieldI8(1, -2);        // nested restarts at 0: 0x13, byte 0xFE
  w.StructEnd();           // 0x00
  w.FieldListBegin(42, CompactType::kI32, 2);  // 0x19, (2 << 4) | 5 = 0x25
  w.ListI32(1);
  w.ListI32(-1);
  w.StructEnd();
  const std::string expected(
      "\x15\x06\x38\x02"
      "ab"
      "\x11\x06\x50\x01\x1C\x13\xFE\x00\x19\x25\x02\x01\x00",
      19);
  EXPECT_EQ(out, expected);

  size_t consumed = 0;
  auto node = CompactReader::ReadStruct(out, &consumed);
  ASSERT_TRUE(node.ok()) << node.status().ToString();
  EXPECT_EQ(consumed, out.size());
  EXPECT_EQ(node->Field(1)->integer, 3);
  EXPECT_EQ(node->Field(4)->binary, "ab");
  EXPECT_EQ(node->Field(5)->integer, 1);
  EXPECT_EQ(node->Field(40)->integer, -1);
  EXPECT_EQ(node->Field(41)->Field(1)->integer, -2);
  ASSERT_EQ(node->Field(42)->elements.size(), 2u);
  EXPECT_EQ(node->Field(42)->elements[1].integer, -1);
}

TEST(ThriftCompact, LongListsUseTheExtendedHeader) {
  std::string out;
  CompactWriter w(&out);
  w.FieldListBegin(1, CompactType::kBinary, 20);
  for (int i = 0; i < 20; ++i) w.ListBinary(std::to_string(i));
  w.StructEnd();
  EXPECT_EQ(static_cast<uint8_t>(out[1]), 0xF8);
  EXPECT_EQ(out[2], 20);
  auto node = CompactReader::ReadStruct(out, nullptr);
  ASSERT_TRUE(node.ok());
  ASSERT_EQ(node->Field(1)->elements.size(), 20u);
  EXPECT_EQ(node->Field(1)->elements[19].binary, "19");
}

TEST(ThriftCompact, ReaderRejectsTruncatedAndHostileInputWithCorruption) {
  std::string out;
  CompactWriter w(&out);
  w.FieldBinary(1, "hello");
  w.FieldListBegin(2, CompactType::kI64, 3);
  w.ListI32(1);
  w.ListI32(2);
  w.ListI32(3);
  w.StructEnd();
  for (size_t cut = 0; cut < out.size(); ++cut) {
    auto node = CompactReader::ReadStruct(std::string_view(out).substr(0, cut), nullptr);
    ASSERT_FALSE(node.ok()) << "prefix of " << cut << " bytes decoded";
    EXPECT_EQ(node.status().code(), ErrorCode::kCorruption);
  }
  // A list that claims a billion elements in a few bytes.
  const std::string huge("\x19\xF5\x80\x94\xEB\xDC\x03\x00", 8);
  auto node = CompactReader::ReadStruct(huge, nullptr);
  ASSERT_FALSE(node.ok());
  EXPECT_NE(node.status().message().find("elements"), std::string::npos);
  // Structs nested deeper than the limit.
  std::string deep;
  for (int i = 0; i < 100; ++i) deep.push_back('\x1C');
  auto nested = CompactReader::ReadStruct(deep, nullptr);
  ASSERT_FALSE(nested.ok());
  EXPECT_EQ(nested.status().code(), ErrorCode::kCorruption);
}

}  // namespace
}  // namespace eddy::parquet::thrift
