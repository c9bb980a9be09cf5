#include "sink/webhook/webhook_settings.h"

#include <algorithm>
#include <array>
#include <string_view>

#include "base/duration.h"
#include "base/setting_parse.h"
#include "consume/sink_settings.h"
#include "net/client_settings.h"

namespace eddy::sink::webhook {

namespace {

constexpr std::string_view kHeaderPrefix = "header.";

// The keys this destination owns (besides header.NAME), in the order the docs list them.
constexpr std::array<std::string_view, 9> kOwnKeys = {"event",
                                                      "request_timeout",
                                                      "connect_timeout",
                                                      "ca_file",
                                                      "report_batch_item_failures",
                                                      "region",
                                                      "account_id",
                                                      "event_source_arn",
                                                      "function_response_types"};

// RFC 9110 token characters.
bool IsTokenChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

Result<bool> ParseBool(std::string_view key, std::string_view text) {
  return ParseBoolSetting("webhook", key, text);
}

Status ParseEndpoint(std::string_view url, WebhookSettings& settings) {
  auto invalid = [&](std::string_view what) {
    return InvalidArgument("sink URL '" + std::string(url.substr(0, url.find('?'))) +
                           "': " + std::string(what) +
                           "; write webhook+http://HOST:PORT/PATH or webhook+https://HOST/PATH");
  };
  constexpr std::string_view kPrefix = "webhook+";
  if (!url.starts_with(kPrefix)) return invalid("the scheme is not webhook+http or webhook+https");
  std::string_view rest = url.substr(kPrefix.size());
  rest = rest.substr(0, rest.find_first_of("?#"));
  std::string_view after_scheme;
  if (rest.starts_with("http://")) {
    after_scheme = rest.substr(7);
  } else if (rest.starts_with("https://")) {
    after_scheme = rest.substr(8);
  } else {
    return invalid("the scheme is not webhook+http or webhook+https");
  }
  std::string_view authority = after_scheme.substr(0, after_scheme.find('/'));
  if (authority.empty() || authority.front() == ':') return invalid("the host is missing");
  if (authority.find('@') != std::string_view::npos) {
    return invalid("credentials in the URL are not supported (use header.Authorization=...)");
  }
  for (char c : rest) {
    if (static_cast<unsigned char>(c) <= ' ' || c == '"' || c == '<' || c == '>' || c == '\\') {
      return invalid("it contains spaces or characters that need percent-encoding");
    }
  }
  size_t colon = authority.rfind(':');
  if (colon != std::string_view::npos && authority.back() != ']') {
    std::string_view port = authority.substr(colon + 1);
    if (port.empty() || port.size() > 5 ||
        !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
        std::stoi(std::string(port)) > 65535 || std::stoi(std::string(port)) == 0) {
      return invalid("the port is not a number from 1 to 65535");
    }
  }
  settings.endpoint = std::string(rest);
  if (after_scheme.find('/') == std::string_view::npos) settings.endpoint += "/";
  return Status::Ok();
}

}  // namespace

Result<WebhookSettings> ParseWebhookSettings(const consume::SinkSpec& spec) {
  WebhookSettings settings;
  EDDY_RETURN_IF_ERROR(ParseEndpoint(spec.url, settings));
  for (const auto& [key, value] : spec.settings) {
    if (key.starts_with(kHeaderPrefix)) {
      std::string_view name = std::string_view(key).substr(kHeaderPrefix.size());
      if (name.empty() || !std::all_of(name.begin(), name.end(), IsTokenChar)) {
        return InvalidArgument("webhook setting '" + key +
                               "': the header name must be letters, digits and !#$%&'*+-.^_`|~, "
                               "like header.Authorization=Bearer%20TOKEN");
      }
      if (value.find_first_of("\r\n") != std::string::npos) {
        return InvalidArgument("webhook setting '" + key + "': the value contains a line break");
      }
      std::string lower(name);
      std::transform(lower.begin(), lower.end(), lower.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      if (lower == "content-length" || lower == "host" || lower == "transfer-encoding") {
        return InvalidArgument("webhook setting '" + key +
                               "': eddy sets this header itself; remove the setting");
      }
      settings.headers.emplace_back(std::string(name), value);
    } else if (key == "event") {
      if (value == "kinesis") {
        settings.event = EventShape::kKinesis;
      } else if (value == "dynamodb") {
        settings.event = EventShape::kDynamoDb;
      } else {
        return InvalidArgument("webhook setting 'event' is \"" + value +
                               "\"; use kinesis (Lambda's Kinesis event, the default) or dynamodb "
                               "(Lambda's DynamoDB Streams event)");
      }
    } else if (net::IsClientSetting(key)) {
      EDDY_RETURN_IF_ERROR(net::ParseClientSetting("webhook", key, value, settings));
    } else if (key == "report_batch_item_failures") {
      EDDY_ASSIGN_OR_RETURN(settings.report_batch_item_failures, ParseBool(key, value));
    } else if (key == "function_response_types") {
      // Lambda's own spelling of the same switch (FunctionResponseTypes).
      if (value == "ReportBatchItemFailures") {
        settings.report_batch_item_failures = true;
      } else if (!value.empty()) {
        return InvalidArgument("webhook setting 'function_response_types' is \"" + value +
                               "\"; the only value is ReportBatchItemFailures");
      }
    } else if (key == "region") {
      if (value.empty() || value.size() > 32 ||
          !std::all_of(value.begin(), value.end(), [](char c) {
            return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
          })) {
        return InvalidArgument("webhook setting 'region' is \"" + value +
                               "\"; use an AWS region name like us-east-1");
      }
      settings.region = value;
    } else if (key == "account_id") {
      if (value.size() != 12 ||
          !std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        return InvalidArgument("webhook setting 'account_id' is \"" + value +
                               "\"; use 12 digits, like 123456789012");
      }
      settings.account_id = value;
    } else if (key == "event_source_arn") {
      if (!value.starts_with("arn:")) {
        return InvalidArgument("webhook setting 'event_source_arn' is \"" + value +
                               "\"; use an ARN (arn:aws:kinesis:REGION:ACCOUNT:stream/NAME)");
      }
      settings.event_source_arn = value;
    } else if (key == "view_type") {
      // The runner validates it too; the DynamoDB shape needs its value.
      auto view = format::ParseViewType(value);
      if (!view.ok()) return view.status().WithContext("webhook setting 'view_type'");
      settings.view_type = *view;
    } else if (!consume::IsRunnerSetting(key)) {
      std::string known;
      for (std::string_view own : kOwnKeys) known += std::string(own) + ", ";
      return InvalidArgument("unknown webhook setting '" + key + "'; the webhook sink knows " +
                             known + "header.NAME and the sink settings of docs/sinks/webhook.md");
    }
  }
  if (settings.connect_timeout > settings.request_timeout) {
    settings.connect_timeout = settings.request_timeout;
  }
  return settings;
}

std::string EventSourceArn(const WebhookSettings& settings, std::string_view stream_name) {
  if (!settings.event_source_arn.empty()) return settings.event_source_arn;
  if (settings.event == EventShape::kDynamoDb) {
    return "arn:aws:dynamodb:" + settings.region + ":" + settings.account_id + ":table/" +
           std::string(stream_name) + "/stream/eddy";
  }
  return "arn:aws:kinesis:" + settings.region + ":" + settings.account_id + ":stream/" +
         std::string(stream_name);
}

consume::FilterOptions FilterOptionsFor(const WebhookSettings& settings) {
  consume::FilterOptions options;
  options.subject = settings.event == EventShape::kDynamoDb ? consume::FilterSubject::kDynamoDb
                                                            : consume::FilterSubject::kKinesis;
  options.view_type = settings.view_type;
  return options;
}

}  // namespace eddy::sink::webhook
