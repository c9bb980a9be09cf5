#include "sink/iceberg/iceberg_settings.h"

#include <gtest/gtest.h>

#include "consume/sink_spec_testing.h"

namespace eddy::sink::iceberg {
namespace {

consume::SinkSpec Spec(std::string url, std::map<std::string, std::string> settings = {}) {
  return consume::testing::MakeSpec("lake", std::move(url), std::move(settings));
}

TEST(IcebergSettingsTest, Defaults) {
  auto settings = ParseIcebergSettings(Spec("iceberg+file:///var/lake/"));
  ASSERT_TRUE(settings.ok()) << settings.status().ToString();
  EXPECT_EQ(settings->backend, Backend::kFile);
  EXPECT_EQ(settings->directory, "/var/lake");
  EXPECT_EQ(settings->commit_interval, std::chrono::seconds(60));
  EXPECT_EQ(settings->commit_rows, 100'000u);
  EXPECT_EQ(settings->compression, parquet::Compression::kSnappy);
  EXPECT_EQ(settings->compact_delete_files, 0u);  // never compacts unless asked
  EXPECT_EQ(settings->compact_data_files, 0u);
  EXPECT_EQ(settings->compact_file_bytes, 512ull << 20);
}

TEST(IcebergSettingsTest, S3AndEverySetting) {
  auto settings =
      ParseIcebergSettings(Spec("iceberg+s3://bucket/warehouse/x?endpoint=http://127.0.0.1:4568",
                                {{"endpoint", "http://127.0.0.1:4568/"},
                                 {"region", "eu-west-1"},
                                 {"commit_interval", "5s"},
                                 {"commit_rows", "500"},
                                 {"compression", "zstd"},
                                 {"catalog", "hadoop"},
                                 {"compact_delete_files", "20"},
                                 {"compact_data_files", "50"},
                                 {"compact_file_size_mb", "128"},
                                 {"type", "iceberg"},
                                 {"parallelization_factor", "1"},
                                 {"maximum_retry_attempts", "3"}}));
  ASSERT_TRUE(settings.ok()) << settings.status().ToString();
  EXPECT_EQ(settings->backend, Backend::kS3);
  EXPECT_EQ(settings->bucket, "bucket");
  EXPECT_EQ(settings->prefix, "warehouse/x");
  EXPECT_EQ(settings->endpoint, "http://127.0.0.1:4568");
  EXPECT_EQ(settings->region, "eu-west-1");
  EXPECT_EQ(settings->commit_interval, std::chrono::seconds(5));
  EXPECT_EQ(settings->commit_rows, 500u);
  EXPECT_EQ(settings->compression, parquet::Compression::kZstd);
  EXPECT_EQ(settings->compact_delete_files, 20u);
  EXPECT_EQ(settings->compact_data_files, 50u);
  EXPECT_EQ(settings->compact_file_bytes, 128ull << 20);
}

TEST(IcebergSettingsTest, Catalogs) {
  auto sql = ParseIcebergSettings(
      Spec("iceberg+file:///lake", {{"catalog", "sqlite:///var/lib/eddy/lake.db"}}));
  ASSERT_TRUE(sql.ok()) << sql.status().ToString();
  EXPECT_EQ(sql->catalog, Catalog::kSql);
  EXPECT_EQ(sql->catalog_path, "/var/lib/eddy/lake.db");
  EXPECT_EQ(ParseIcebergSettings(Spec("iceberg+file:///lake"))->catalog, Catalog::kHadoop);
  // On S3 the SQL catalog in the data directory is the default.
  consume::SinkSpec spec = Spec("iceberg+s3://bucket/w");
  EXPECT_NE(ParseIcebergSettings(spec).status().message().find("catalog=sqlite:///PATH"),
            std::string::npos);
  spec.data_dir = "/data";
  auto s3 = ParseIcebergSettings(spec);
  ASSERT_TRUE(s3.ok());
  EXPECT_EQ(s3->catalog, Catalog::kSql);
  EXPECT_EQ(s3->catalog_path, "/data/iceberg/lake.db");
}

TEST(IcebergSettingsTest, BadInputNamesTheFix) {
  struct Case {
    consume::SinkSpec spec;
    std::string expected;
  };
  std::vector<Case> cases = {
      {Spec("iceberg+file://relative"), "absolute directory"},
      {Spec("iceberg+ftp://x"), "iceberg+file:///WAREHOUSE"},
      {Spec("iceberg+s3:///w"), "bucket is missing"},
      {Spec("iceberg+s3://Bad_Bucket/w"), "Bad_Bucket"},
      {Spec("iceberg+file:///l", {{"commit_interval", "0"}}), "1 to 3600 seconds"},
      {Spec("iceberg+file:///l", {{"commit_rows", "0"}}), "1 to 1000000"},
      {Spec("iceberg+file:///l", {{"compression", "lz4"}}), "snappy, zstd or none"},
      {Spec("iceberg+file:///l", {{"catalog", "sqlite://x"}}), "absolute path"},
      {Spec("iceberg+file:///l", {{"catalog", "rest"}}), "catalog=sqlite:///PATH"},
      {Spec("iceberg+file:///l", {{"changelog", "yes"}}), "use true"},
      {Spec("iceberg+file:///l", {{"compact_delete_files", "-1"}}), "or 0 to never compact"},
      {Spec("iceberg+file:///l", {{"compact_data_files", "many"}}), "file count"},
      {Spec("iceberg+file:///l", {{"compact_file_size_mb", "0"}}), "size in MiB"},
      {Spec("iceberg+file:///l", {{"format", "dynamodb"}}), "END and heartbeat"},
      {Spec("iceberg+file:///l", {{"endpoint", "http://h:1"}}), "iceberg+s3:// URLs only"},
      {Spec("iceberg+s3://bkt/w", {{"endpoint", "ftp://h"}}), "base URL"},
      {Spec("iceberg+file:///l", {{"batch_size", "10"}}), "commit_rows"},
      {Spec("iceberg+file:///l", {{"parallelization_factor", "4"}}), "one writer"},
      {Spec("iceberg+file:///l", {{"type", "s3"}}), "iceberg sink"},
      {Spec("iceberg+file:///l", {{"bogus", "1"}}), "unknown iceberg setting 'bogus'"},
  };
  for (const Case& c : cases) {
    auto settings = ParseIcebergSettings(c.spec);
    ASSERT_FALSE(settings.ok()) << c.spec.url;
    EXPECT_EQ(settings.status().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(settings.status().message().find(c.expected), std::string::npos)
        << settings.status().message();
  }
}

}  // namespace
}  // namespace eddy::sink::iceberg
