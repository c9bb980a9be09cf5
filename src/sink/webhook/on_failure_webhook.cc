#include "sink/webhook/on_failure_webhook.h"

namespace eddy::sink::webhook {

Result<std::unique_ptr<OnFailureWebhook>> OnFailureWebhook::Create(
    OnFailureWebhookOptions options) {
  std::unique_ptr<OnFailureWebhook> poster(new OnFailureWebhook(std::move(options)));
  net::HttpClientOptions client_options;
  client_options.request_timeout = poster->options_.request_timeout;
  client_options.connect_timeout =
      std::min(poster->options_.request_timeout, std::chrono::milliseconds(10'000));
  client_options.ca_pem = poster->options_.ca_pem;
  EDDY_ASSIGN_OR_RETURN(poster->client_, net::HttpClient::Create(std::move(client_options)));
  return poster;
}

Status OnFailureWebhook::Post(std::string_view url, const consume::SinkBatch& given_up,
                              const Status& error, std::string_view condition, int status_code,
                              uint32_t attempts) {
  if (given_up.records.empty()) return Status::Ok();
  constexpr std::string_view kPrefix = "webhook+";
  if (url.starts_with(kPrefix)) url.remove_prefix(kPrefix.size());
  if (!url.starts_with("http://") && !url.starts_with("https://")) {
    return InvalidArgument("on_failure '" + std::string(url.substr(0, url.find('?'))) +
                           "' is not a webhook+http(s):// or http(s):// URL");
  }
  consume::OnFailureContext context;
  context.condition = condition == "RetryAttemptsExhausted"
                          ? consume::FailureCondition::kRetryAttemptsExhausted
                          : consume::FailureCondition::kMaximumRecordAgeExceeded;
  context.approximate_invoke_count = attempts;
  context.status_code = status_code;
  context.failure = error;
  context.now_nanos =
      (options_.clock != nullptr ? *options_.clock : SystemClock::Instance()).NowNanos();
  context.region = options_.region;
  context.account_id = options_.account_id;
  context.dynamodb = options_.dynamodb;
  context.stream_arn = options_.stream_arn;
  std::string body = consume::BuildOnFailureRecord(given_up, context);
  net::HttpHeaders headers = {{"Content-Type", "application/json"}};
  headers.insert(headers.end(), options_.headers.begin(), options_.headers.end());
  std::lock_guard lock(mutex_);
  EDDY_ASSIGN_OR_RETURN(net::HttpResponse reply, client_->Post(url, headers, body));
  if (reply.status < 200 || reply.status > 299) {
    return Unavailable("the on_failure endpoint answered HTTP " + std::to_string(reply.status));
  }
  return Status::Ok();
}

}  // namespace eddy::sink::webhook
