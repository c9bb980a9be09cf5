#include "sink/opensearch/opensearch_settings.h"

#include <gtest/gtest.h>

namespace eddy::sink::opensearch {
namespace {

consume::SinkSpec Spec(std::string url, std::map<std::string, std::string> settings = {}) {
  consume::SinkSpec spec;
  spec.name = "search";
  spec.stream = "orders";
  spec.url = std::move(url);
  spec.settings = std::move(settings);
  return spec;
}

TEST(OpenSearchSettings, Defaults) {
  auto settings = ParseOpenSearchSettings(Spec("opensearch+http://127.0.0.1:9200"));
  ASSERT_TRUE(settings.ok()) << settings.status().ToString();
  EXPECT_EQ(settings->endpoint, "http://127.0.0.1:9200");
  EXPECT_TRUE(settings->username.empty());
  EXPECT_EQ(settings->index_text, "${table}");
  ASSERT_EQ(settings->index.pieces.size(), 1u);
  EXPECT_EQ(settings->index.pieces[0].part, IndexTemplate::Part::kTable);
  EXPECT_EQ(settings->rotation, IndexRotation::kNoRotation);
  EXPECT_EQ(settings->decimals, DecimalMode::kString);
  EXPECT_FALSE(settings->create_index);
  EXPECT_EQ(settings->bulk_max_documents, 1000u);
}

TEST(OpenSearchSettings, UserInfoIsDecodedAndHiddenFromErrors) {
  auto settings =
      ParseOpenSearchSettings(Spec("opensearch+https://admin:p%40ss%3Aw@search.example:9200/"));
  ASSERT_TRUE(settings.ok()) << settings.status().ToString();
  EXPECT_EQ(settings->endpoint, "https://search.example:9200");
  EXPECT_EQ(settings->username, "admin");
  EXPECT_EQ(settings->password, "p@ss:w");

  auto bad = ParseOpenSearchSettings(Spec("opensearch+https://admin:secret@host:99999"));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message().find("secret"), std::string::npos) << bad.status().message();
  EXPECT_NE(bad.status().message().find("port"), std::string::npos);
}

TEST(OpenSearchSettings, OwnSettings) {
  auto settings = ParseOpenSearchSettings(
      Spec("opensearch+http://h:9200/proxy", {{"index", "cdc-${db}.${schema}.${table}"},
                                              {"index_rotation", "OneDay"},
                                              {"decimal_handling", "number"},
                                              {"create_index", "true"},
                                              {"bulk_max_documents", "500"},
                                              {"bulk_max_bytes", "1048576"},
                                              {"bulk_window", "200ms"},
                                              {"item_retries", "2"},
                                              {"username", "u"},
                                              {"password", "p"},
                                              {"maximum_retry_attempts", "3"}}));
  ASSERT_TRUE(settings.ok()) << settings.status().ToString();
  EXPECT_EQ(settings->endpoint, "http://h:9200/proxy");
  EXPECT_EQ(settings->index.pieces.size(), 6u);
  EXPECT_EQ(settings->rotation, IndexRotation::kOneDay);
  EXPECT_EQ(settings->decimals, DecimalMode::kNumber);
  EXPECT_TRUE(settings->create_index);
  EXPECT_EQ(settings->bulk_max_documents, 500u);
  EXPECT_EQ(settings->bulk_max_bytes, 1048576u);
  EXPECT_EQ(settings->bulk_window, std::chrono::milliseconds(200));
  EXPECT_EQ(settings->item_retries, 2);
  EXPECT_EQ(settings->username, "u");
}

TEST(OpenSearchSettings, BadInputNamesTheProblem) {
  struct Case {
    std::string url;
    std::map<std::string, std::string> settings;
    std::string expected;
  };
  std::vector<Case> cases = {
      {"opensearch://h:9200", {}, "scheme"},
      {"opensearch+ftp://h", {}, "scheme"},
      {"opensearch+http://", {}, "host is missing"},
      {"opensearch+http://h:0", {}, "port"},
      {"opensearch+http://h:9200", {{"index", "Orders"}}, "lower case"},
      {"opensearch+http://h:9200", {{"index", "a/${table}"}}, "cannot hold '/'"},
      {"opensearch+http://h:9200", {{"index", "${tabel}"}}, "${tabel} is not a placeholder"},
      {"opensearch+http://h:9200", {{"index", "x-${table"}}, "not closed"},
      {"opensearch+http://h:9200", {{"index", "_x"}}, "cannot start"},
      {"opensearch+http://h:9200", {{"index_rotation", "Daily"}}, "OneDay"},
      {"opensearch+http://h:9200", {{"decimal_handling", "precise"}}, "string"},
      {"opensearch+http://h:9200", {{"create_index", "yes"}}, "true or false"},
      {"opensearch+http://h:9200", {{"bulk_max_documents", "0"}}, "from 1"},
      {"opensearch+http://h:9200", {{"colour", "red"}}, "unknown opensearch setting 'colour'"},
      {"opensearch+http://u:p@h:9200", {{"username", "x"}}, "keep one"},
      {"opensearch+http://h:9200", {{"password", "x"}}, "without 'username'"},
      {"opensearch+http://u:%zz@h:9200", {}, "%25"},
  };
  for (const Case& c : cases) {
    auto settings = ParseOpenSearchSettings(Spec(c.url, c.settings));
    ASSERT_FALSE(settings.ok()) << c.url;
    EXPECT_EQ(settings.status().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(settings.status().message().find(c.expected), std::string::npos)
        << c.url << ": " << settings.status().message();
  }
}

}  // namespace
}  // namespace eddy::sink::opensearch
