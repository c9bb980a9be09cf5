#include "engine/console_monitor.h"

#include <fmt/format.h>

#include <charconv>

#include "api/http_routes.h"
#include "api/json_writer.h"
#include "base/logging.h"
#include "base/metrics.h"
#include "engine/admin_request.h"
#include "engine/engine.h"
#include "monitor/client_commands.h"

namespace eddy::engine {
namespace {

void Reply(api::HttpResponse* response, int status, std::string body) {
  response->status = status;
  response->headers.emplace_back("content-type", "application/json");
  response->headers.emplace_back("cache-control", "no-store");
  response->body = std::move(body);
  response->body += '\n';
}

// The admin API's error shape (admin_api.h).
void ReplyError(api::HttpResponse* response, int status, std::string_view code,
                std::string_view message, std::string_view allow = {}) {
  api::JsonWriter json;
  json.BeginObject();
  json.Key("error");
  json.BeginObject();
  json.MemberInt("status", status);
  json.Member("code", code);
  json.Member("message", message);
  json.EndObject();
  json.EndObject();
  Reply(response, status, json.Take());
  if (!allow.empty()) response->headers.emplace_back("allow", std::string(allow));
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The query parameter `key` of a request target, percent-decoded; nullopt when absent.
std::optional<std::string> QueryParameter(std::string_view target, std::string_view key) {
  size_t question = target.find('?');
  if (question == std::string_view::npos) return std::nullopt;
  std::string_view rest = target.substr(question + 1);
  while (!rest.empty()) {
    size_t amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    size_t equals = pair.find('=');
    if (pair.substr(0, equals) != key) continue;
    std::string_view raw = equals == std::string_view::npos ? "" : pair.substr(equals + 1);
    std::string value;
    for (size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] == '+') {
        value += ' ';
      } else if (raw[i] == '%' && i + 2 < raw.size() && HexDigit(raw[i + 1]) >= 0 &&
                 HexDigit(raw[i + 2]) >= 0) {
        value += static_cast<char>(HexDigit(raw[i + 1]) * 16 + HexDigit(raw[i + 2]));
        i += 2;
      } else {
        value += raw[i];
      }
    }
    return value;
  }
  return std::nullopt;
}

// The endpoint a client reaches this API at: the Host the request came with (the browser's
// view of the server), or the API's loopback port when it is missing or not a plain host.
std::string Endpoint(const api::HttpRequest& request, bool tls, uint16_t port) {
  const std::string* host = request.Header("host");
  std::string value = host ? *host : request.authority;
  bool plain = !value.empty() && value.size() < 256;
  for (char c : value) {
    plain = plain && (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' ||
                      c == ':' || c == '[' || c == ']');
  }
  if (!plain) value = "127.0.0.1:" + std::to_string(port);
  return (tls ? "https://" : "http://") + value;
}

}  // namespace

ConsoleMonitor::ConsoleMonitor(Engine* engine, Options options)
    : engine_(engine),
      options_(std::move(options)),
      history_(monitor::MetricsHistory::Options{options_.alerts.sample_interval,
                                                std::chrono::seconds(3600), 512}),
      alerts_(options_.alerts) {}

ConsoleMonitor::~ConsoleMonitor() { StopSampling(); }

void ConsoleMonitor::StartSampling() {
  UseWebhook(options_.alerts.webhook_url);
  std::lock_guard lock(mu_);
  if (thread_.joinable() || stop_) return;
  thread_ = std::thread([this] { Loop(); });
}

void ConsoleMonitor::StopSampling() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  stop_changed_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::lock_guard lock(webhook_mu_);
  notifier_.reset();
}

void ConsoleMonitor::Loop() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    lock.unlock();
    SampleOnce();
    lock.lock();
    stop_changed_.wait_for(lock, history_.interval(), [&] { return stop_; });
  }
}

void ConsoleMonitor::UseWebhook(const std::string& url) {
  std::lock_guard lock(webhook_mu_);
  if (url == webhook_url_ && (notifier_ != nullptr) == !url.empty()) return;
  notifier_.reset();
  webhook_url_ = url;
  if (url.empty()) return;
  monitor::AlertNotifierOptions options;
  options.url = url;
  auto notifier = monitor::AlertNotifier::Start(options);
  if (!notifier.ok()) {
    logging::Get("alerts")->warn("alert webhook not started: {}", notifier.status().ToString());
    return;
  }
  notifier_ = std::move(*notifier);
}

void ConsoleMonitor::SampleOnce() {
  int64_t now = options_.clock->NowNanos();
  std::vector<Engine::StreamView> streams = engine_->Streams();
  std::vector<consume::SinkStatus> sinks = engine_->SinkStatuses();
  monitor::ObservedScope scope;
  if (log::LogStore* store = engine_->store()) {
    for (const auto& name : store->ListStreams()) scope.source_of_stream[name] = "";
  }
  monitor::Health health;
  for (const auto& stream : streams) {
    scope.source_of_stream[stream.config.name] = stream.source;
    health.streams.push_back({stream.config.name, stream.source, std::nullopt, "",
                              std::string(source::CaptureStateName(stream.capture_state)),
                              stream.last_error});
  }
  for (const auto& sink : sinks) {
    scope.sinks.push_back(sink.name);
    health.sinks.push_back({sink.name, sink.stream, std::string(consume::SinkStateName(sink.state)),
                            sink.reason, sink.lag_seconds});
  }
  std::vector<prometheus::MetricFamily> families = metrics::Registry().Collect();
  history_.Record(now, monitor::ObserveMetrics(families, scope));
  monitor::AddMetricHealth(families, &health);
  std::vector<monitor::AlertChange> changes = alerts_.Evaluate(now, health);
  if (changes.empty()) return;
  std::lock_guard lock(webhook_mu_);
  if (notifier_ == nullptr) return;
  for (const auto& change : changes) notifier_->Notify(change);
}

bool ConsoleMonitor::Handle(const api::HttpRequest& request, api::HttpResponse* response) {
  std::string_view path = api::RequestPath(request.target);
  if (path.substr(0, kAdminPrefix.size()) != kAdminPrefix) return false;
  std::string_view rest = path.substr(kAdminPrefix.size());
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (rest == "history") {
    if (request.method != "GET") {
      ReplyError(response, 405, "MethodNotAllowed",
                 request.method + " /admin/v1/history is not supported; this path allows GET",
                 "GET");
    } else {
      HandleHistory(request, response);
    }
    return true;
  }
  if (rest == "alerts") {
    if (request.method != "GET" && request.method != "PATCH") {
      ReplyError(response, 405, "MethodNotAllowed",
                 request.method + " /admin/v1/alerts is not supported; this path allows GET, PATCH",
                 "GET, PATCH");
    } else {
      HandleAlerts(request, response);
    }
    return true;
  }
  if (rest == "clients") {
    if (request.method != "GET") {
      ReplyError(response, 405, "MethodNotAllowed",
                 request.method + " /admin/v1/clients is not supported; this path allows GET",
                 "GET");
    } else {
      HandleClients(request, response);
    }
    return true;
  }
  return false;
}

void ConsoleMonitor::HandleHistory(const api::HttpRequest& request, api::HttpResponse* response) {
  std::string kind = QueryParameter(request.target, "kind").value_or("");
  if (!kind.empty() && kind != "stream" && kind != "sink" && kind != "source") {
    ReplyError(response, 400, "BadRequest",
               "kind=" + kind.substr(0, 100) + " is not known; use stream, sink or source");
    return;
  }
  std::string name = QueryParameter(request.target, "name").value_or("");
  int64_t since_nanos = 0;
  if (auto since = QueryParameter(request.target, "since_ms")) {
    int64_t millis = 0;
    auto [end, error] = std::from_chars(since->data(), since->data() + since->size(), millis);
    if (since->empty() || error != std::errc() || end != since->data() + since->size() ||
        millis < 0 || millis > INT64_MAX / 1'000'000) {
      ReplyError(response, 400, "BadRequest",
                 "since_ms=" + since->substr(0, 100) +
                     " must be a time in milliseconds since 1970 (Date.now() in a browser)");
      return;
    }
    since_nanos = millis * 1'000'000;
  }
  Reply(response, 200, monitor::HistoryJson(history_, history_.Query(kind, name, since_nanos)));
}

void ConsoleMonitor::HandleAlerts(const api::HttpRequest& request, api::HttpResponse* response) {
  if (request.method == "PATCH") {
    std::lock_guard lock(patch_mu_);
    std::map<std::string, std::string> applied;
    auto patched = monitor::PatchAlertSettings(alerts_.settings(), request.body, &applied);
    if (!patched.ok()) {
      ReplyError(response, 400, "BadRequest", patched.status().message());
      return;
    }
    // Durable before it applies: an answered PATCH survives a restart.
    monitor::AlertSettingOverrides overrides = options_.alert_overrides;
    for (auto& [key, text] : applied) overrides[key] = std::move(text);
    if (!options_.data_dir.empty()) {
      if (Status saved = monitor::SaveAlertSettingOverrides(options_.file_system, options_.data_dir,
                                                            overrides);
          !saved.ok()) {
        ReplyError(response, 500, "InternalError",
                   "the alert settings were not changed: writing " +
                       io::JoinPath(options_.data_dir, std::string(monitor::kAlertSettingsFile)) +
                       " failed (" + saved.ToString() + "); check the data directory's disk");
        return;
      }
    }
    options_.alert_overrides = std::move(overrides);
    alerts_.SetSettings(*patched);
    UseWebhook(patched->webhook_url);
    logging::Get("alerts")->info("alert settings changed through the admin API");
  }
  api::JsonWriter json;
  json.BeginObject();
  json.Key("settings");
  json.BeginObject();
  monitor::AlertSettings settings = alerts_.settings();
  for (const auto& [key, text] : monitor::AlertSettingTexts(settings)) {
    if (key == "slot_lag_bytes") {
      json.MemberInt(key, settings.slot_lag_bytes);
    } else if (key == "sink_lag_seconds") {
      json.Key(key);
      json.RawValue(text);
    } else if (text == "true" || text == "false") {
      json.MemberBool(key, text == "true");
    } else {
      json.Member(key, text);
    }
  }
  json.EndObject();
  json.Key("active");
  json.BeginArray();
  for (const auto& alert : alerts_.Active()) json.RawValue(monitor::AlertJson(alert));
  json.EndArray();
  json.EndObject();
  Reply(response, 200, json.Take());
}

void ConsoleMonitor::HandleClients(const api::HttpRequest& request, api::HttpResponse* response) {
  std::optional<std::string> only = QueryParameter(request.target, "stream");
  std::vector<std::string> names;
  if (log::LogStore* store = engine_->store()) names = store->ListStreams();
  if (only) {
    if (std::find(names.begin(), names.end(), *only) == names.end()) {
      ReplyError(
          response, 404, "NotFound",
          "no stream named '" + only->substr(0, 200) + "' (GET /admin/v1/streams lists them)");
      return;
    }
    names = {*only};
  }
  std::vector<Engine::StreamView> views = engine_->Streams();
  std::vector<consume::SinkSpec> specs = engine_->SinkSpecs();
  std::string endpoint = Endpoint(request, options_.tls, engine_->api_port());
  api::JsonWriter json;
  json.BeginObject();
  json.Member("endpoint", endpoint);
  json.Key("streams");
  json.BeginArray();
  for (const auto& name : names) {
    monitor::StreamClientsInput input;
    input.endpoint = endpoint;
    input.region = options_.region;
    input.stream = name;
    for (const auto& view : views) {
      if (view.config.name == name) input.tables = view.config.tables;
    }
    for (const auto& spec : specs) {
      if (spec.stream != name || spec.url.rfind("kafka://", 0) != 0) continue;
      input.kafka.push_back(monitor::KafkaPublisherOf(spec.name, spec.url, spec.settings));
    }
    json.BeginObject();
    json.Member("stream", name);
    json.Key("commands");
    json.BeginArray();
    for (const auto& command : monitor::StreamClientCommands(input)) {
      json.BeginObject();
      json.Member("client", command.client);
      json.Member("description", command.description);
      json.Member("command", command.command);
      json.EndObject();
    }
    json.EndArray();
    json.EndObject();
  }
  json.EndArray();
  json.EndObject();
  Reply(response, 200, json.Take());
}

}  // namespace eddy::engine
