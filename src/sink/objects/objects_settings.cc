#include "sink/objects/objects_settings.h"

#include <algorithm>
#include <array>
#include <charconv>

#include "base/duration.h"
#include "base/setting_parse.h"
#include "consume/sink_settings.h"
#include "objstore/store_url.h"

namespace eddy::sink::objects {

namespace {

constexpr std::array<std::string_view, 14> kOwnKeys = {
    "buffer_size_mb",         "buffer_interval", "prefix", "error_prefix",     "compression",
    "file_extension",         "version",         "region", "endpoint",         "if_none_match",
    "multipart_threshold_mb", "part_size_mb",    "type",   "compression_level"};

constexpr std::string_view kDefaultTimestamp = "!{timestamp:yyyy/MM/dd/HH/}";
constexpr std::string_view kDefaultErrorPrefix = "!{firehose:error-output-type}/";

Status Invalid(std::string_view key, std::string_view value, std::string_view allowed) {
  return InvalidSetting("objects", key, value, allowed);
}

Result<int64_t> Integer(std::string_view key, std::string_view text, int64_t min, int64_t max) {
  return ParseIntegerSetting("objects", key, text, min, max);
}

Result<bool> Bool(std::string_view key, std::string_view text) {
  return ParseBoolSetting("objects", key, text);
}

std::string Upper(std::string_view text) {
  std::string upper(text);
  std::transform(upper.begin(), upper.end(), upper.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return upper;
}

}  // namespace

std::string_view CompressionName(Compression compression) {
  switch (compression) {
    case Compression::kNone:
      return "UNCOMPRESSED";
    case Compression::kGzip:
      return "GZIP";
    case Compression::kZstd:
      return "ZSTD";
  }
  return "UNCOMPRESSED";
}

Result<ObjectsSettings> ParseObjectsSettings(const consume::SinkSpec& spec) {
  ObjectsSettings settings;
  EDDY_ASSIGN_OR_RETURN(
      objstore::StoreUrl location,
      objstore::ParseStoreUrl(
          spec.url, {"file://", "s3://",
                     "s3://BUCKET/PREFIX?region=R[&endpoint=URL] or file:///DIR", "prefix"}));
  settings.backend = location.local ? Backend::kFile : Backend::kS3;
  settings.directory = std::move(location.directory);
  settings.bucket = std::move(location.bucket);
  const std::string url_prefix = std::move(location.path);
  const bool s3 = settings.backend == Backend::kS3;
  std::string prefix_text;
  std::string error_prefix_text(kDefaultErrorPrefix);
  bool extension_set = false;
  std::optional<bool> if_none_match;
  std::optional<std::string> compression_level;  // checked once the codec is known
  if (auto format = spec.settings.find("format");
      format != spec.settings.end() && format->second == kParquetFormat) {
    settings.format = ObjectFormat::kParquet;
  }
  const bool parquet = settings.format == ObjectFormat::kParquet;
  for (const auto& [key, value] : spec.settings) {
    if (key == "buffer_size_mb") {
      EDDY_ASSIGN_OR_RETURN(int64_t mb, Integer(key, value, 1, 128));
      settings.buffer_bytes = static_cast<uint64_t>(mb) << 20;
    } else if (key == "buffer_interval") {
      auto interval = ParseSecondsOrDuration(value);
      if (!interval.ok() || interval->count() < 0 || interval->count() > 900'000) {
        return Invalid(key, value,
                       "use 0 to 900 seconds, as seconds (\"300\") or with a unit (\"5m\")");
      }
      settings.buffer_interval = *interval;
    } else if (key == "prefix") {
      prefix_text = value;
    } else if (key == "error_prefix") {
      error_prefix_text = value;
    } else if (key == "compression") {
      std::string upper = Upper(value);
      if (parquet) {
        if (upper == "SNAPPY") {
          settings.parquet_compression = parquet::Compression::kSnappy;
        } else if (upper == "ZSTD") {
          settings.parquet_compression = parquet::Compression::kZstd;
        } else if (upper == "UNCOMPRESSED" || upper == "NONE") {
          settings.parquet_compression = parquet::Compression::kNone;
        } else {
          return Invalid(key, value,
                         "with format=parquet use SNAPPY (the default), ZSTD or UNCOMPRESSED: "
                         "Parquet compresses each page itself (GZIP is for JSON lines)");
        }
      } else if (upper == "UNCOMPRESSED" || upper == "NONE") {
        settings.compression = Compression::kNone;
      } else if (upper == "GZIP") {
        settings.compression = Compression::kGzip;
      } else if (upper == "ZSTD") {
        settings.compression = Compression::kZstd;
      } else {
        return Invalid(key, value,
                       "use UNCOMPRESSED, GZIP or ZSTD (Snappy and ZIP are not offered for JSON "
                       "lines: DuckDB and Athena read gzip and zstd; Snappy is for "
                       "format=parquet)");
      }
    } else if (key == "compression_level") {
      compression_level = value;
    } else if (key == "file_extension") {
      // Firehose's FileExtension rule.
      bool valid = value.size() >= 2 && value.size() <= 128 && value.front() == '.' &&
                   std::all_of(value.begin(), value.end(), [](char c) {
                     return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
                            std::string_view("!-_.*'()").find(c) != std::string_view::npos;
                   });
      if (!valid) {
        return Invalid(key, value,
                       "start it with '.' and use only 0-9 a-z ! - _ . * ' ( ), like .json.gz");
      }
      settings.file_extension = value;
      extension_set = true;
    } else if (key == "version") {
      EDDY_ASSIGN_OR_RETURN(int64_t version, Integer(key, value, 1, 1'000'000));
      settings.version = static_cast<uint32_t>(version);
    } else if (key == "region") {
      if (!s3) return Invalid(key, value, "region applies to s3:// URLs only; remove it");
      if (!objstore::IsRegionName(value)) {
        return Invalid(key, value, "use an AWS region name like us-east-1");
      }
      settings.region = value;
    } else if (key == "endpoint") {
      if (!s3) return Invalid(key, value, "endpoint applies to s3:// URLs only; remove it");
      auto endpoint = objstore::ParseEndpointUrl(value);
      if (!endpoint.ok()) return Invalid(key, value, endpoint.status().message());
      settings.endpoint = std::move(endpoint).value();
    } else if (key == "if_none_match") {
      if (!s3) return Invalid(key, value, "if_none_match applies to s3:// URLs only; remove it");
      EDDY_ASSIGN_OR_RETURN(bool on, Bool(key, value));
      if_none_match = on;
    } else if (key == "multipart_threshold_mb" || key == "part_size_mb") {
      if (!s3) return Invalid(key, value, "applies to s3:// URLs only; remove it");
      EDDY_ASSIGN_OR_RETURN(int64_t mb, Integer(key, value, 5, 5120));
      (key == "part_size_mb" ? settings.part_size_bytes : settings.multipart_threshold_bytes) =
          static_cast<uint64_t>(mb) << 20;
    } else if (key == "type") {
      std::string_view expected = s3 ? "s3" : "file";
      if (value != expected) {
        return Invalid(key, value,
                       "the URL's scheme makes this a " + std::string(expected) +
                           " sink; remove type or make it match the URL");
      }
    } else if (key == "batch_size" || key == "batch_bytes" || key == "max_batching_window") {
      return Invalid(key, value,
                     "an objects sink flushes by buffer_size_mb (1-128) and buffer_interval "
                     "(0-900 s), as Firehose does; use those instead");
    } else if (key == "parallelization_factor") {
      if (value != "1") {
        return Invalid(key, value,
                       "an objects sink writes with one writer in log order (its object names "
                       "come from the first record they hold); remove the setting");
      }
    } else if (!consume::IsRunnerSetting(key)) {
      std::string known;
      for (std::string_view own : kOwnKeys) known += std::string(own) + ", ";
      return InvalidArgument("unknown objects setting '" + key + "'; the objects sink knows " +
                             known + "and the sink settings of docs/sinks/objects.md");
    }
  }
  settings.if_none_match = if_none_match.value_or(settings.endpoint.empty());
  const bool gzip = !parquet && settings.compression == Compression::kGzip;
  const bool zstd = parquet ? settings.parquet_compression == parquet::Compression::kZstd
                            : settings.compression == Compression::kZstd;
  if (gzip || zstd) {
    settings.compression_level = gzip ? kDefaultGzipLevel : kDefaultZstdLevel;
    if (compression_level) {
      EDDY_ASSIGN_OR_RETURN(int64_t level, Integer("compression_level", *compression_level, 1,
                                                   gzip ? 9 : (parquet ? 22 : 19)));
      settings.compression_level = static_cast<int>(level);
    }
  } else if (compression_level) {
    return Invalid("compression_level", *compression_level,
                   "it applies to compression=GZIP and ZSTD only; remove it or choose one of "
                   "those codecs");
  }
  if (!extension_set && parquet) {
    settings.file_extension = ".parquet";
  } else if (!extension_set) {
    settings.file_extension = settings.compression == Compression::kGzip   ? ".json.gz"
                              : settings.compression == Compression::kZstd ? ".json.zst"
                                                                           : ".json";
  }
  std::string base = url_prefix.empty() ? "" : url_prefix + "/";
  EDDY_ASSIGN_OR_RETURN(settings.prefix,
                        PrefixExpression::Parse(base + prefix_text, PrefixKind::kData, "prefix"));
  if (!settings.prefix.has_timestamp()) {
    std::string text = settings.prefix.text();
    if (!text.empty() && text.back() != '/') text += "/";
    EDDY_ASSIGN_OR_RETURN(settings.prefix,
                          PrefixExpression::Parse(text + std::string(kDefaultTimestamp),
                                                  PrefixKind::kData, "prefix"));
  }
  EDDY_ASSIGN_OR_RETURN(
      settings.error_prefix,
      PrefixExpression::Parse(base + error_prefix_text, PrefixKind::kError, "error_prefix"));
  if (!settings.error_prefix.has_timestamp()) {
    std::string text = settings.error_prefix.text();
    if (!text.empty() && text.back() != '/') text += "/";
    EDDY_ASSIGN_OR_RETURN(settings.error_prefix,
                          PrefixExpression::Parse(text + std::string(kDefaultTimestamp),
                                                  PrefixKind::kError, "error_prefix"));
  }
  return settings;
}

}  // namespace eddy::sink::objects
