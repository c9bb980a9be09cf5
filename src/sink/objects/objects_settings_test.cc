#include "sink/objects/objects_settings.h"

#include <gtest/gtest.h>

#include "consume/sink_spec_testing.h"

namespace eddy::sink::objects {
namespace {

consume::SinkSpec Spec(std::string url, std::map<std::string, std::string> settings = {}) {
  return consume::testing::MakeSpec("lake", std::move(url), std::move(settings));
}

TEST(ObjectsSettingsTest, FirehoseDefaults) {
  auto settings = ParseObjectsSettings(Spec("s3://my-lake/cdc/orders/"));
  ASSERT_TRUE(settings.ok()) << settings.status().ToString();
  EXPECT_EQ(settings->backend, Backend::kS3);
  EXPECT_EQ(settings->bucket, "my-lake");
  EXPECT_EQ(settings->buffer_bytes, 5u << 20);
  EXPECT_EQ(settings->buffer_interval, std::chrono::seconds(300));
  EXPECT_EQ(settings->prefix.text(), "cdc/orders/!{timestamp:yyyy/MM/dd/HH/}");
  EXPECT_EQ(settings->error_prefix.text(),
            "cdc/orders/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd/HH/}");
  EXPECT_EQ(settings->compression, Compression::kNone);
  EXPECT_EQ(settings->file_extension, ".json");
  EXPECT_TRUE(settings->if_none_match);  // AWS honours it
  EXPECT_TRUE(settings->endpoint.empty());
}

TEST(ObjectsSettingsTest, EverySetting) {
  auto settings = ParseObjectsSettings(Spec(
      "s3://lake/base", {{"buffer_size_mb", "128"},
                         {"buffer_interval", "0"},
                         {"prefix", "table=!{partitionKeyFromQuery:source.table}/"},
                         {"error_prefix", "err/!{firehose:error-output-type}/!{timestamp:yyyy}/"},
                         {"compression", "gzip"},
                         {"version", "3"},
                         {"region", "eu-west-1"},
                         {"endpoint", "http://127.0.0.1:4568/"},
                         {"multipart_threshold_mb", "5"},
                         {"part_size_mb", "5"},
                         {"type", "s3"},
                         {"format", "dms"}}));
  ASSERT_TRUE(settings.ok()) << settings.status().ToString();
  EXPECT_EQ(settings->buffer_bytes, 128u << 20);
  EXPECT_EQ(settings->buffer_interval.count(), 0);
  EXPECT_EQ(settings->prefix.text(),
            "base/table=!{partitionKeyFromQuery:source.table}/!{timestamp:yyyy/MM/dd/HH/}");
  EXPECT_EQ(settings->error_prefix.text(),
            "base/err/!{firehose:error-output-type}/!{timestamp:yyyy}/");
  EXPECT_EQ(settings->file_extension, ".json.gz");
  EXPECT_EQ(settings->version, 3u);
  EXPECT_EQ(settings->endpoint, "http://127.0.0.1:4568");
  EXPECT_FALSE(settings->if_none_match);  // custom endpoints: off unless asked for
  EXPECT_EQ(settings->part_size_bytes, 5u << 20);

  auto file = ParseObjectsSettings(Spec("file:///var/lake/", {{"compression", "ZSTD"}}));
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_EQ(file->backend, Backend::kFile);
  EXPECT_EQ(file->directory, "/var/lake");
  EXPECT_EQ(file->file_extension, ".json.zst");
  EXPECT_EQ(file->prefix.text(), "!{timestamp:yyyy/MM/dd/HH/}");
}

TEST(ObjectsSettingsTest, BadInputNamesTheKeyAndTheFix) {
  struct Case {
    std::string url;
    std::map<std::string, std::string> settings;
    const char* says;
  };
  for (const Case& bad : {
           Case{"s3://", {}, "bucket is missing"},
           Case{"s3://UPPER/x", {}, "bucket name"},
           Case{"s3://ok-bucket//x", {}, "empty segment"},
           Case{"file://relative/dir", {}, "absolute directory"},
           Case{"ftp://x", {}, "not s3:// or file://"},
           Case{"s3://lake", {{"buffer_size_mb", "0"}}, "1 to 128"},
           Case{"s3://lake", {{"buffer_size_mb", "129"}}, "1 to 128"},
           Case{"s3://lake", {{"buffer_interval", "901"}}, "0 to 900"},
           Case{"s3://lake", {{"compression", "snappy"}}, "UNCOMPRESSED, GZIP or ZSTD"},
           Case{"s3://lake", {{"file_extension", "json"}}, "start it with '.'"},
           Case{"s3://lake", {{"prefix", "!{timestamp:QQ}"}}, "'QQ'"},
           Case{"s3://lake", {{"error_prefix", "errors/"}}, "error-output-type"},
           Case{"s3://lake", {{"endpoint", "127.0.0.1:4568"}}, "base URL"},
           Case{"s3://lake", {{"region", "US East"}}, "region name"},
           Case{"file:///lake", {{"region", "us-east-1"}}, "s3:// URLs only"},
           Case{"s3://lake", {{"batch_size", "10"}}, "buffer_size_mb"},
           Case{"s3://lake", {{"parallelization_factor", "2"}}, "one writer"},
           Case{"s3://lake", {{"type", "file"}}, "make it match"},
           Case{"s3://lake", {{"bucket", "x"}}, "unknown objects setting 'bucket'"},
       }) {
    auto settings = ParseObjectsSettings(Spec(bad.url, bad.settings));
    ASSERT_FALSE(settings.ok()) << bad.url << " " << bad.says;
    EXPECT_EQ(settings.status().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(settings.status().message().find(bad.says), std::string::npos)
        << settings.status().message();
  }
}

TEST(ObjectsSettingsTest, ParquetFormat) {
  auto settings = ParseObjectsSettings(Spec("file:///lake", {{"format", "parquet"}}));
  ASSERT_TRUE(settings.ok()) << settings.status().ToString();
  EXPECT_EQ(settings->format, ObjectFormat::kParquet);
  EXPECT_EQ(settings->parquet_compression, parquet::Compression::kSnappy);
  EXPECT_EQ(settings->file_extension, ".parquet");
  settings =
      ParseObjectsSettings(Spec("file:///lake", {{"format", "parquet"}, {"compression", "zstd"}}));
  ASSERT_TRUE(settings.ok()) << settings.status().ToString();
  EXPECT_EQ(settings->parquet_compression, parquet::Compression::kZstd);
  EXPECT_EQ(settings->file_extension, ".parquet");
  settings = ParseObjectsSettings(
      Spec("file:///lake", {{"format", "parquet"}, {"compression", "UNCOMPRESSED"}}));
  ASSERT_TRUE(settings.ok()) << settings.status().ToString();
  EXPECT_EQ(settings->parquet_compression, parquet::Compression::kNone);

  auto gzip =
      ParseObjectsSettings(Spec("file:///lake", {{"format", "parquet"}, {"compression", "GZIP"}}));
  ASSERT_FALSE(gzip.ok());
  EXPECT_NE(gzip.status().message().find("with format=parquet use SNAPPY"), std::string::npos)
      << gzip.status().ToString();
  auto snappy_lines = ParseObjectsSettings(Spec("file:///lake", {{"compression", "snappy"}}));
  ASSERT_FALSE(snappy_lines.ok());
  EXPECT_NE(snappy_lines.status().message().find("format=parquet"), std::string::npos);

  // A renderer's format leaves JSON lines.
  settings = ParseObjectsSettings(Spec("file:///lake", {{"format", "dms"}}));
  ASSERT_TRUE(settings.ok()) << settings.status().ToString();
  EXPECT_EQ(settings->format, ObjectFormat::kJsonLines);
}

TEST(ObjectsSettingsTest, CompressionLevelPerCodec) {
  auto level = [](std::map<std::string, std::string> settings) {
    return ParseObjectsSettings(Spec("file:///var/lake", std::move(settings)));
  };
  // Defaults: zlib's fastest level for GZIP, zstd's 3.
  EXPECT_EQ(level({{"compression", "GZIP"}})->compression_level, kDefaultGzipLevel);
  EXPECT_EQ(level({{"compression", "ZSTD"}})->compression_level, kDefaultZstdLevel);
  EXPECT_EQ(level({})->compression_level, 0);
  EXPECT_EQ(level({{"compression", "GZIP"}, {"compression_level", "9"}})->compression_level, 9);
  EXPECT_EQ(level({{"compression", "ZSTD"}, {"compression_level", "19"}})->compression_level, 19);
  EXPECT_EQ(level({{"format", "parquet"}, {"compression", "ZSTD"}, {"compression_level", "22"}})
                ->compression_level,
            22);
  // Out of the codec's range, not a number, or a codec without levels: the key and the fix.
  for (auto settings : std::vector<std::map<std::string, std::string>>{
           {{"compression", "GZIP"}, {"compression_level", "10"}},
           {{"compression", "GZIP"}, {"compression_level", "0"}},
           {{"compression", "ZSTD"}, {"compression_level", "20"}},
           {{"compression", "GZIP"}, {"compression_level", "fast"}},
           {{"compression_level", "3"}},
           {{"format", "parquet"}, {"compression_level", "3"}}}) {
    auto parsed = level(settings);
    ASSERT_FALSE(parsed.ok()) << settings["compression_level"];
    EXPECT_EQ(parsed.status().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(parsed.status().message().find("compression_level"), std::string::npos)
        << parsed.status().message();
  }
  EXPECT_NE(level({{"compression_level", "3"}}).status().message().find("GZIP and ZSTD only"),
            std::string::npos);
}

}  // namespace
}  // namespace eddy::sink::objects
