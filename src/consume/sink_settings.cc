#include "consume/sink_settings.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>

#include "base/duration.h"
#include "io/file_system.h"

namespace eddy::consume {
namespace {

constexpr std::array<std::string_view, 14> kRunnerKeys = {
    "batch_size",
    "max_batching_window",
    "batch_bytes",
    "parallelization_factor",
    "starting_position",
    "starting_position_timestamp",
    "maximum_retry_attempts",
    "maximum_record_age",
    "bisect_batch_on_function_error",
    "on_failure",
    "format",
    "view_type",
    "max_backlog",
    "filter",
};

constexpr int64_t kMillisPerSecond = 1000;
constexpr int64_t kMaxBatchingWindowSeconds = 300;
constexpr int64_t kMinRecordAgeSeconds = 60;
constexpr int64_t kMaxRecordAgeSeconds = 604'800;

// Builds the errors of one sink's settings so every message names the sink, key and value.
class SettingReader {
 public:
  explicit SettingReader(const SinkSpec& spec) : spec_(spec) {}

  const std::string* Find(std::string_view key) const {
    auto it = spec_.settings.find(std::string(key));
    return it == spec_.settings.end() ? nullptr : &it->second;
  }

  Status Error(std::string_view key, std::string_view value, std::string_view allowed) const {
    return InvalidArgument("sink '" + spec_.name + "' setting " + std::string(key) + " = '" +
                           std::string(value) + "': " + std::string(allowed));
  }

  // An integer in [min, max] or the key's default when absent.
  Status Integer(std::string_view key, int64_t min, int64_t max, int64_t* out) const {
    const std::string* text = Find(key);
    if (text == nullptr) return Status::Ok();
    int64_t value = 0;
    auto [end, error] = std::from_chars(text->data(), text->data() + text->size(), value);
    if (error != std::errc() || end != text->data() + text->size() || value < min || value > max) {
      return Error(key, *text,
                   "must be an integer from " + std::to_string(min) + " to " + std::to_string(max));
    }
    *out = value;
    return Status::Ok();
  }

  // A duration (plain seconds or a duration string) in [min, max] milliseconds.
  Status Duration(std::string_view key, int64_t min_millis, int64_t max_millis,
                  std::string_view range, std::chrono::milliseconds* out) const {
    const std::string* text = Find(key);
    if (text == nullptr) return Status::Ok();
    auto duration = ParseSecondsOrDuration(*text);
    if (!duration.ok()) return Error(key, *text, duration.status().message());
    if (duration->count() < min_millis || duration->count() > max_millis) {
      return Error(key, *text, "must be " + std::string(range));
    }
    *out = *duration;
    return Status::Ok();
  }

  Status Bool(std::string_view key, bool* out) const {
    const std::string* text = Find(key);
    if (text == nullptr) return Status::Ok();
    if (*text == "true") {
      *out = true;
    } else if (*text == "false") {
      *out = false;
    } else {
      return Error(key, *text, "must be true or false");
    }
    return Status::Ok();
  }

 private:
  const SinkSpec& spec_;
};

std::string Upper(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) {
    return static_cast<char>(c == '-' ? '_' : std::toupper(c));
  });
  return text;
}

// A file name in the data directory: no directories, nothing hidden.
bool IsPlainFileName(std::string_view name) {
  if (name.empty() || name.size() > 255 || name.front() == '.') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
}

Status ParseOnFailure(const SettingReader& reader, const SinkSpec& spec, OnFailureTarget* out) {
  std::string failures_dir = io::JoinPath(spec.data_dir, "failures");
  out->kind = OnFailureKind::kFile;
  out->file_path = io::JoinPath(failures_dir, spec.name + ".jsonl");
  const std::string* text = reader.Find("on_failure");
  if (text == nullptr) return Status::Ok();
  if (text->rfind("http://", 0) == 0 || text->rfind("https://", 0) == 0 ||
      text->rfind("webhook+http://", 0) == 0 || text->rfind("webhook+https://", 0) == 0) {
    out->kind = OnFailureKind::kWebhook;
    out->url = *text;
    out->file_path.clear();
    return Status::Ok();
  }
  if (!IsPlainFileName(*text)) {
    return reader.Error("on_failure", *text,
                        "must be a file name (letters, digits, '-', '_', '.'; written under "
                        "DATA/failures/) or an http(s):// URL");
  }
  out->file_path = io::JoinPath(failures_dir, *text);
  return Status::Ok();
}

}  // namespace

std::string_view StartingPositionName(StartingPosition position) {
  switch (position) {
    case StartingPosition::kTrimHorizon:
      return "TRIM_HORIZON";
    case StartingPosition::kLatest:
      return "LATEST";
    case StartingPosition::kAtTimestamp:
      return "AT_TIMESTAMP";
  }
  return "TRIM_HORIZON";
}

bool IsRunnerSetting(std::string_view key) {
  return std::find(kRunnerKeys.begin(), kRunnerKeys.end(), key) != kRunnerKeys.end();
}

std::map<std::string, std::string> DestinationSettings(const SinkSpec& spec) {
  std::map<std::string, std::string> rest;
  for (const auto& [key, value] : spec.settings) {
    if (!IsRunnerSetting(key)) rest.emplace(key, value);
  }
  return rest;
}

Result<SinkSettings> ParseSinkSettings(const SinkSpec& spec) {
  SettingReader reader(spec);
  SinkSettings settings;

  int64_t number = settings.batch_size;
  EDDY_RETURN_IF_ERROR(reader.Integer("batch_size", 1, kMaxBatchSize, &number));
  settings.batch_size = static_cast<uint32_t>(number);

  EDDY_RETURN_IF_ERROR(reader.Duration("max_batching_window", 0,
                                       kMaxBatchingWindowSeconds * kMillisPerSecond,
                                       "from 0 to 300 seconds", &settings.max_batching_window));

  number = static_cast<int64_t>(settings.batch_bytes);
  EDDY_RETURN_IF_ERROR(
      reader.Integer("batch_bytes", 1, static_cast<int64_t>(kDefaultBatchBytes), &number));
  settings.batch_bytes = static_cast<uint64_t>(number);

  number = settings.parallelization_factor;
  EDDY_RETURN_IF_ERROR(
      reader.Integer("parallelization_factor", 1, kMaxParallelizationFactor, &number));
  settings.parallelization_factor = static_cast<uint32_t>(number);

  if (const std::string* text = reader.Find("starting_position")) {
    std::string upper = Upper(*text);
    if (upper == "TRIM_HORIZON") {
      settings.starting_position = StartingPosition::kTrimHorizon;
    } else if (upper == "LATEST") {
      settings.starting_position = StartingPosition::kLatest;
    } else if (upper == "AT_TIMESTAMP") {
      settings.starting_position = StartingPosition::kAtTimestamp;
    } else {
      return reader.Error("starting_position", *text,
                          "must be TRIM_HORIZON, LATEST or AT_TIMESTAMP");
    }
  }
  const std::string* timestamp = reader.Find("starting_position_timestamp");
  if (settings.starting_position == StartingPosition::kAtTimestamp) {
    if (timestamp == nullptr) {
      return reader.Error("starting_position", "AT_TIMESTAMP",
                          "needs starting_position_timestamp (epoch seconds, like 1700000000)");
    }
    double seconds = -1;
    auto [end, error] =
        std::from_chars(timestamp->data(), timestamp->data() + timestamp->size(), seconds);
    if (error != std::errc() || end != timestamp->data() + timestamp->size() ||
        !std::isfinite(seconds) || seconds < 0 || seconds > 1e11) {
      return reader.Error("starting_position_timestamp", *timestamp,
                          "must be seconds since 1970-01-01 UTC, like 1700000000 or 1700000000.5");
    }
    settings.starting_position_timestamp_nanos = static_cast<int64_t>(std::llround(seconds * 1e9));
  } else if (timestamp != nullptr) {
    return reader.Error("starting_position_timestamp", *timestamp,
                        "applies only with starting_position = AT_TIMESTAMP");
  }

  number = settings.maximum_retry_attempts;
  EDDY_RETURN_IF_ERROR(reader.Integer("maximum_retry_attempts", -1, kMaxRetryAttempts, &number));
  settings.maximum_retry_attempts = static_cast<int32_t>(number);

  if (const std::string* text = reader.Find("maximum_record_age")) {
    if (*text != "-1") {
      std::chrono::milliseconds age{0};
      EDDY_RETURN_IF_ERROR(reader.Duration("maximum_record_age",
                                           kMinRecordAgeSeconds * kMillisPerSecond,
                                           kMaxRecordAgeSeconds * kMillisPerSecond,
                                           "-1 (no limit) or from 60 to 604800 seconds", &age));
      settings.maximum_record_age = age;
    }
  }

  EDDY_RETURN_IF_ERROR(
      reader.Bool("bisect_batch_on_function_error", &settings.bisect_batch_on_function_error));
  EDDY_RETURN_IF_ERROR(ParseOnFailure(reader, spec, &settings.on_failure));

  if (const std::string* text = reader.Find("format")) {
    auto names = format::RendererNames();
    if (std::find(names.begin(), names.end(), *text) == names.end()) {
      std::string allowed = "must be one of";
      for (size_t i = 0; i < names.size(); ++i) {
        allowed += (i == 0 ? " " : ", ") + std::string(names[i]);
      }
      return reader.Error("format", *text, allowed);
    }
    settings.format = *text;
  }
  if (const std::string* text = reader.Find("view_type")) {
    auto view = format::ParseViewType(*text);
    if (!view.ok()) {
      return reader.Error("view_type", *text,
                          "must be KEYS_ONLY, NEW_IMAGE, OLD_IMAGE or NEW_AND_OLD_IMAGES");
    }
    settings.view_type = *view;
  }

  EDDY_RETURN_IF_ERROR(reader.Duration("max_backlog", kMillisPerSecond,
                                       kMaxRecordAgeSeconds * 52 * kMillisPerSecond,
                                       "from 1 second to 364 days", &settings.max_backlog));

  if (const std::string* text = reader.Find("filter")) {
    if (text->empty()) return reader.Error("filter", *text, "must be a Lambda filter pattern");
    settings.filter = *text;
  }
  return settings;
}

}  // namespace eddy::consume
