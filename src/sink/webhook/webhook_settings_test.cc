#include "sink/webhook/webhook_settings.h"

#include <gtest/gtest.h>

namespace eddy::sink::webhook {
namespace {

using std::chrono::milliseconds;

consume::SinkSpec Spec(std::string url, std::map<std::string, std::string> settings = {}) {
  consume::SinkSpec spec;
  spec.name = "hook";
  spec.stream = "orders";
  spec.url = std::move(url);
  spec.settings = std::move(settings);
  return spec;
}

void ExpectInvalid(const consume::SinkSpec& spec, std::string_view mentions) {
  auto parsed = ParseWebhookSettings(spec);
  ASSERT_FALSE(parsed.ok()) << spec.url;
  EXPECT_EQ(parsed.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(parsed.status().message().find(mentions), std::string::npos)
      << parsed.status().message();
}

TEST(WebhookSettings, Defaults) {
  auto parsed = ParseWebhookSettings(Spec("webhook+http://127.0.0.1:9000/hook"));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->endpoint, "http://127.0.0.1:9000/hook");
  EXPECT_EQ(parsed->event, EventShape::kKinesis);
  EXPECT_EQ(parsed->request_timeout, milliseconds(30'000));
  EXPECT_EQ(parsed->connect_timeout, milliseconds(10'000));
  EXPECT_TRUE(parsed->headers.empty());
  EXPECT_FALSE(parsed->report_batch_item_failures);
  EXPECT_EQ(parsed->region, "us-east-1");
  EXPECT_EQ(parsed->account_id, "000000000000");
  EXPECT_EQ(parsed->view_type, format::ViewType::kNewAndOldImages);
  EXPECT_EQ(EventSourceArn(*parsed, "orders"),
            "arn:aws:kinesis:us-east-1:000000000000:stream/orders");
}

TEST(WebhookSettings, EndpointDropsTheQueryAndGetsAPath) {
  auto parsed = ParseWebhookSettings(Spec("webhook+https://example.com?batch_size=10"));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->endpoint, "https://example.com/");
  parsed = ParseWebhookSettings(Spec("webhook+https://[::1]:8443/a/b?x=1#f"));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->endpoint, "https://[::1]:8443/a/b");
}

TEST(WebhookSettings, ParsesEveryOwnSetting) {
  auto parsed =
      ParseWebhookSettings(Spec("webhook+http://h:1/", {{"event", "dynamodb"},
                                                        {"request_timeout", "2500ms"},
                                                        {"connect_timeout", "500ms"},
                                                        {"header.Authorization", "Bearer x"},
                                                        {"header.X-Trace", ""},
                                                        {"ca_file", "/etc/ca.pem"},
                                                        {"report_batch_item_failures", "true"},
                                                        {"region", "eu-west-1"},
                                                        {"account_id", "123456789012"},
                                                        {"view_type", "KEYS_ONLY"}}));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->event, EventShape::kDynamoDb);
  EXPECT_EQ(parsed->request_timeout, milliseconds(2500));
  EXPECT_EQ(parsed->connect_timeout, milliseconds(500));
  ASSERT_EQ(parsed->headers.size(), 2u);
  EXPECT_EQ(parsed->headers[0], (std::pair<std::string, std::string>{"Authorization", "Bearer x"}));
  EXPECT_EQ(parsed->headers[1], (std::pair<std::string, std::string>{"X-Trace", ""}));
  EXPECT_EQ(parsed->ca_file, "/etc/ca.pem");
  EXPECT_TRUE(parsed->report_batch_item_failures);
  EXPECT_EQ(parsed->view_type, format::ViewType::kKeysOnly);
  EXPECT_EQ(EventSourceArn(*parsed, "orders"),
            "arn:aws:dynamodb:eu-west-1:123456789012:table/orders/stream/eddy");

  auto lambda_spelling = ParseWebhookSettings(
      Spec("webhook+http://h/", {{"function_response_types", "ReportBatchItemFailures"},
                                 {"event_source_arn", "arn:aws:kinesis:x:1:stream/s"}}));
  ASSERT_TRUE(lambda_spelling.ok()) << lambda_spelling.status().ToString();
  EXPECT_TRUE(lambda_spelling->report_batch_item_failures);
  EXPECT_EQ(EventSourceArn(*lambda_spelling, "orders"), "arn:aws:kinesis:x:1:stream/s");
}

TEST(WebhookSettings, LeavesTheRunnersSettingsToTheRunner) {
  auto parsed =
      ParseWebhookSettings(Spec("webhook+http://h/", {{"batch_size", "10"},
                                                      {"max_batching_window", "1"},
                                                      {"parallelization_factor", "2"},
                                                      {"starting_position", "LATEST"},
                                                      {"maximum_retry_attempts", "3"},
                                                      {"maximum_record_age", "60"},
                                                      {"bisect_batch_on_function_error", "true"},
                                                      {"on_failure", "file"},
                                                      {"format", "native"},
                                                      {"filter", "{}"}}));
  EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
}

TEST(WebhookSettings, RejectsBadUrls) {
  ExpectInvalid(Spec("http://h/"), "webhook+http");
  ExpectInvalid(Spec("webhook+ftp://h/"), "webhook+https");
  ExpectInvalid(Spec("webhook+http:///path"), "host is missing");
  ExpectInvalid(Spec("webhook+http://:80/"), "host is missing");
  ExpectInvalid(Spec("webhook+http://h:0/"), "port");
  ExpectInvalid(Spec("webhook+http://h:99999/"), "port");
  ExpectInvalid(Spec("webhook+http://h:x/"), "port");
  ExpectInvalid(Spec("webhook+http://user:pw@h/"), "header.Authorization");
  ExpectInvalid(Spec("webhook+http://h/a b"), "percent-encoding");
}

TEST(WebhookSettings, RejectsBadValuesNamingTheKey) {
  ExpectInvalid(Spec("webhook+http://h/", {{"event", "sqs"}}), "'event'");
  ExpectInvalid(Spec("webhook+http://h/", {{"request_timeout", "0"}}), "'request_timeout'");
  ExpectInvalid(Spec("webhook+http://h/", {{"request_timeout", "901"}}), "'request_timeout'");
  ExpectInvalid(Spec("webhook+http://h/", {{"request_timeout", "soon"}}), "'request_timeout'");
  ExpectInvalid(Spec("webhook+http://h/", {{"connect_timeout", "-1"}}), "'connect_timeout'");
  ExpectInvalid(Spec("webhook+http://h/", {{"header.", "x"}}), "'header.'");
  ExpectInvalid(Spec("webhook+http://h/", {{"header.A B", "x"}}), "'header.A B'");
  ExpectInvalid(Spec("webhook+http://h/", {{"header.X", "a\r\nB: c"}}), "line break");
  ExpectInvalid(Spec("webhook+http://h/", {{"header.Content-Length", "1"}}), "itself");
  ExpectInvalid(Spec("webhook+http://h/", {{"ca_file", ""}}), "'ca_file'");
  ExpectInvalid(Spec("webhook+http://h/", {{"report_batch_item_failures", "yes"}}),
                "'report_batch_item_failures'");
  ExpectInvalid(Spec("webhook+http://h/", {{"function_response_types", "All"}}),
                "'function_response_types'");
  ExpectInvalid(Spec("webhook+http://h/", {{"region", "US East"}}), "'region'");
  ExpectInvalid(Spec("webhook+http://h/", {{"account_id", "42"}}), "'account_id'");
  ExpectInvalid(Spec("webhook+http://h/", {{"event_source_arn", "orders"}}), "'event_source_arn'");
  ExpectInvalid(Spec("webhook+http://h/", {{"view_type", "ALL"}}), "'view_type'");
}

TEST(WebhookSettings, RejectsUnknownKeysNamingThem) {
  ExpectInvalid(Spec("webhook+http://h/", {{"timeout", "3"}}), "unknown webhook setting 'timeout'");
  ExpectInvalid(Spec("webhook+http://h/", {{"headers.X", "3"}}), "'headers.X'");
}

TEST(WebhookSettings, FiltersSeeTheRecordShapeOfTheEvent) {
  auto kinesis = ParseWebhookSettings(Spec("webhook+http://h/"));
  ASSERT_TRUE(kinesis.ok());
  EXPECT_EQ(FilterOptionsFor(*kinesis).subject, consume::FilterSubject::kKinesis);
  auto dynamodb = ParseWebhookSettings(
      Spec("webhook+http://h/", {{"event", "dynamodb"}, {"view_type", "NEW_IMAGE"}}));
  ASSERT_TRUE(dynamodb.ok());
  EXPECT_EQ(FilterOptionsFor(*dynamodb).subject, consume::FilterSubject::kDynamoDb);
  EXPECT_EQ(FilterOptionsFor(*dynamodb).view_type, format::ViewType::kNewImage);
}

TEST(WebhookSettings, ConnectTimeoutNeverExceedsTheRequestTimeout) {
  auto parsed = ParseWebhookSettings(Spec("webhook+http://h/", {{"request_timeout", "2s"}}));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->connect_timeout, milliseconds(2000));
}

}  // namespace
}  // namespace eddy::sink::webhook
