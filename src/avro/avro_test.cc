#include "avro/avro.h"

#include <gtest/gtest.h>

#include "avro/avro_container.h"

namespace eddy::avro {
namespace {

constexpr std::string_view kSchema =
    R"({"type":"record","name":"r","fields":[{"name":"id","type":"long","field-id":1},)"
    R"({"name":"name","type":["null","string"],"default":null,"field-id":2}]})";

std::string Record(int64_t id, std::optional<std::string> name) {
  Encoder encoder;
  encoder.Long(id);
  if (name) {
    encoder.UnionIndex(1);
    encoder.String(*name);
  } else {
    encoder.UnionIndex(0);
  }
  return encoder.Take();
}

TEST(AvroEncoderTest, ZigZagLongsAndStrings) {
  Encoder encoder;
  encoder.Long(0);
  encoder.Long(-1);
  encoder.Long(1);
  encoder.Long(-64);
  encoder.Long(64);
  encoder.String("ab");
  encoder.Boolean(true);
  EXPECT_EQ(encoder.bytes(), std::string("\x00\x01\x02\x7f\x80\x01\x04"
                                         "ab\x01",
                                         10));
  Decoder decoder(encoder.bytes());
  EXPECT_EQ(*decoder.Long(), 0);
  EXPECT_EQ(*decoder.Long(), -1);
  EXPECT_EQ(*decoder.Long(), 1);
  EXPECT_EQ(*decoder.Long(), -64);
  EXPECT_EQ(*decoder.Long(), 64);
  EXPECT_EQ(*decoder.String(), "ab");
  EXPECT_TRUE(*decoder.Boolean());
  EXPECT_TRUE(decoder.empty());
  EXPECT_EQ(decoder.Long().status().code(), ErrorCode::kCorruption);
}

TEST(AvroEncoderTest, DoubleIsLittleEndian) {
  Encoder encoder;
  encoder.Double(1.5);
  EXPECT_EQ(encoder.bytes(), std::string("\0\0\0\0\0\0\xf8\x3f", 8));
  Decoder decoder(encoder.bytes());
  EXPECT_EQ(*decoder.Double(), 1.5);
}

TEST(AvroContainerTest, HeaderIsByteExact) {
  ContainerOptions options;
  options.sync = std::string(16, 'S');
  ContainerWriter writer("{}", {{"k", "v"}}, options);
  auto file = writer.Finish();
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  std::string expected("Obj\x01", 4);
  expected += '\x06';  // 3 entries
  expected += std::string("\x16") + "avro.schema" + "\x04" + "{}";
  expected += std::string("\x14") + "avro.codec" + "\x08" + "null";
  expected += std::string("\x02") + "k" + "\x02" + "v";
  expected += '\0';
  expected += std::string(16, 'S');
  EXPECT_EQ(*file, expected);
}

class AvroRoundTripTest : public ::testing::TestWithParam<Codec> {};

TEST_P(AvroRoundTripTest, RecordsAndMetadataSurvive) {
  ContainerOptions options;
  options.codec = GetParam();
  options.records_per_block = 3;
  ContainerWriter writer(std::string(kSchema), {{"format-version", "2"}, {"content", "data"}},
                         options);
  std::string expected_records;
  for (int i = 0; i < 10; ++i) {
    std::string record =
        Record(i * 1000, i % 2 ? std::nullopt : std::optional("row" + std::to_string(i)));
    expected_records += record;
    writer.Append(std::move(record));
  }
  auto file = writer.Finish();
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  auto container = ReadContainer(*file);
  ASSERT_TRUE(container.ok()) << container.status().ToString();
  EXPECT_EQ(container->codec, GetParam());
  EXPECT_EQ(container->metadata.at("avro.schema"), kSchema);
  EXPECT_EQ(container->metadata.at("format-version"), "2");
  EXPECT_EQ(container->metadata.at("content"), "data");
  EXPECT_EQ(container->record_count, 10u);
  EXPECT_EQ(container->records, expected_records);
  Decoder decoder(container->records);
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(*decoder.Long(), i * 1000);
    auto branch = decoder.UnionIndex(2);
    ASSERT_TRUE(branch.ok());
    EXPECT_EQ(*branch, i % 2 ? 0 : 1);
    if (*branch == 1) {
      EXPECT_EQ(*decoder.String(), "row" + std::to_string(i));
    }
  }
  EXPECT_TRUE(decoder.empty());
}

INSTANTIATE_TEST_SUITE_P(Codecs, AvroRoundTripTest,
                         ::testing::Values(Codec::kNull, Codec::kDeflate));

TEST(AvroContainerTest, EmptyFileHasHeaderOnly) {
  ContainerWriter writer(std::string(kSchema), {});
  auto file = writer.Finish();
  ASSERT_TRUE(file.ok());
  auto container = ReadContainer(*file);
  ASSERT_TRUE(container.ok()) << container.status().ToString();
  EXPECT_EQ(container->record_count, 0u);
  EXPECT_TRUE(container->records.empty());
}

TEST(AvroContainerTest, ReservedMetadataKeyIsRefused) {
  ContainerWriter writer("{}", {{"avro.codec", "snappy"}});
  EXPECT_EQ(writer.Finish().status().code(), ErrorCode::kInvalidArgument);
}

TEST(AvroContainerTest, DamagedFilesAreCorruption) {
  ContainerWriter writer(std::string(kSchema), {});
  writer.Append(Record(1, "a"));
  std::string file = *writer.Finish();
  EXPECT_EQ(ReadContainer("").status().code(), ErrorCode::kCorruption);
  EXPECT_EQ(ReadContainer("Obj\x02").status().code(), ErrorCode::kCorruption);
  // Every truncation fails cleanly (except at the end of the header or of a block).
  for (size_t length = 0; length < file.size(); ++length) {
    auto truncated = ReadContainer(std::string_view(file).substr(0, length));
    if (!truncated.ok()) {
      EXPECT_EQ(truncated.status().code(), ErrorCode::kCorruption) << length;
    }
  }
  std::string bad_sync = file;
  bad_sync.back() ^= 1;
  auto damaged = ReadContainer(bad_sync);
  EXPECT_EQ(damaged.status().code(), ErrorCode::kCorruption);
  EXPECT_NE(damaged.status().message().find("sync marker"), std::string::npos);
  std::string bad_codec = file;
  size_t at = bad_codec.find("avro.codec\x08null");
  ASSERT_NE(at, std::string::npos);
  bad_codec.replace(at + 11, 4, "lz4x");
  EXPECT_NE(ReadContainer(bad_codec).status().message().find("lz4x"), std::string::npos);
}

}  // namespace
}  // namespace eddy::avro
