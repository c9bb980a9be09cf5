#include "sink/kinesis/kinesis_settings.h"

#include <gtest/gtest.h>

namespace eddy::sink::kinesis {
namespace {

consume::SinkSpec Spec(std::string url, std::map<std::string, std::string> settings = {}) {
  consume::SinkSpec spec;
  spec.name = "k";
  spec.stream = "orders";
  spec.url = std::move(url);
  spec.settings = std::move(settings);
  return spec;
}

TEST(KinesisSettings, AwsEndpointGivesTheRegion) {
  auto settings = ParseKinesisSettings(
      Spec("kinesis+https://kinesis.eu-west-1.amazonaws.com?stream=out", {{"stream", "out"}}));
  ASSERT_TRUE(settings.ok()) << settings.status().ToString();
  EXPECT_EQ(settings->endpoint, "https://kinesis.eu-west-1.amazonaws.com/");
  EXPECT_EQ(settings->region, "eu-west-1");
  EXPECT_TRUE(settings->aws_endpoint);
  EXPECT_EQ(settings->stream, "out");
  EXPECT_EQ(settings->max_record_bytes, 0u);
}

TEST(KinesisSettings, LocalEndpointAndOwnSettings) {
  auto settings = ParseKinesisSettings(
      Spec("kinesis+http://127.0.0.1:4567/?stream=out", {{"stream", "out"},
                                                         {"region", "us-west-2"},
                                                         {"max_record_bytes", "2048"},
                                                         {"request_timeout", "5s"},
                                                         {"connect_timeout", "10s"},
                                                         {"entry_retries", "3"},
                                                         {"batch_size", "100"}}));
  ASSERT_TRUE(settings.ok()) << settings.status().ToString();
  EXPECT_EQ(settings->endpoint, "http://127.0.0.1:4567/");
  EXPECT_EQ(settings->region, "us-west-2");
  EXPECT_FALSE(settings->aws_endpoint);
  EXPECT_EQ(settings->max_record_bytes, 2048u);
  EXPECT_EQ(settings->request_timeout, std::chrono::seconds(5));
  EXPECT_EQ(settings->connect_timeout, std::chrono::seconds(5));  // capped by request_timeout
  EXPECT_EQ(settings->entry_retries, 3);
}

TEST(KinesisSettings, BadInputNamesTheProblemAndTheFix) {
  struct Case {
    std::string url;
    std::map<std::string, std::string> settings;
    std::string needle;
  };
  const std::vector<Case> cases = {
      {"kinesis://x?stream=s", {{"stream", "s"}}, "the scheme is not kinesis+http"},
      {"kinesis+ftp://x", {{"stream", "s"}}, "write kinesis+https://kinesis.REGION"},
      {"kinesis+http://:4567", {{"stream", "s"}}, "the host is missing"},
      {"kinesis+http://h:99999", {{"stream", "s"}}, "the port is not a number"},
      {"kinesis+http://h:1/path", {{"stream", "s"}}, "takes no path"},
      {"kinesis+http://user:pw@h:1", {{"stream", "s"}}, "credentials in the URL"},
      {"kinesis+http://h:1", {}, "add ?stream=NAME"},
      {"kinesis+http://h:1", {{"stream", "bad name"}}, "1-128 of A-Z a-z 0-9 _ . -"},
      {"kinesis+http://h:1",
       {{"stream", "s"}, {"colour", "red"}},
       "unknown kinesis setting 'colour'"},
      {"kinesis+http://h:1",
       {{"stream", "s"}, {"max_record_bytes", "12"}},
       "use a whole number from 1024"},
      {"kinesis+http://h:1", {{"stream", "s"}, {"region", "EU WEST"}}, "AWS region name"},
      {"kinesis+https://kinesis.us-east-1.amazonaws.com",
       {{"stream", "s"}, {"region", "eu-west-1"}},
       "names region us-east-1"},
      {"kinesis+http://h:1", {{"stream", "s"}, {"request_timeout", "forever"}}, "use a duration"},
  };
  for (const Case& c : cases) {
    auto settings = ParseKinesisSettings(Spec(c.url, c.settings));
    ASSERT_FALSE(settings.ok()) << c.url;
    EXPECT_EQ(settings.status().code(), ErrorCode::kInvalidArgument) << c.url;
    EXPECT_NE(settings.status().message().find(c.needle), std::string::npos)
        << c.url << ": " << settings.status().message();
  }
}

}  // namespace
}  // namespace eddy::sink::kinesis
