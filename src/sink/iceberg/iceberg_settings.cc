#include "sink/iceberg/iceberg_settings.h"

#include <array>
#include <charconv>

#include "base/duration.h"
#include "consume/sink_settings.h"
#include "objstore/s3_object_store.h"

namespace eddy::sink::iceberg {

namespace {

constexpr std::array<std::string_view, 8> kOwnKeys = {
    "commit_interval", "commit_rows", "compression", "catalog",
    "changelog",       "region",      "endpoint",    "type"};

Status Invalid(std::string_view key, std::string_view value, std::string_view allowed) {
  return InvalidArgument("iceberg setting '" + std::string(key) + "' is \"" +
                         std::string(value.substr(0, 200)) + "\"; " + std::string(allowed));
}

Status ParseLocation(std::string_view url, IcebergSettings& settings) {
  std::string_view shown = url.substr(0, url.find('?'));
  auto invalid = [&](std::string_view what) {
    return InvalidArgument("sink URL '" + std::string(shown.substr(0, 200)) +
                           "': " + std::string(what) +
                           "; write iceberg+file:///WAREHOUSE or "
                           "iceberg+s3://BUCKET/WAREHOUSE?region=R[&endpoint=URL]");
  };
  std::string_view rest = url.substr(0, url.find_first_of("?#"));
  for (char c : rest) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F) return invalid("it contains control characters");
  }
  if (rest.starts_with("iceberg+file://")) {
    settings.backend = Backend::kFile;
    std::string_view path = rest.substr(15);
    if (path.empty() || path.front() != '/') {
      return invalid("the warehouse must be an absolute directory (three slashes after file:)");
    }
    std::string directory(path);
    while (directory.size() > 1 && directory.back() == '/') directory.pop_back();
    if (directory.find("/../") != std::string::npos || directory.ends_with("/..")) {
      return invalid("the directory contains '..'; give it without");
    }
    settings.directory = std::move(directory);
    return Status::Ok();
  }
  if (rest.starts_with("iceberg+s3://")) {
    settings.backend = Backend::kS3;
    std::string_view after = rest.substr(13);
    size_t slash = after.find('/');
    std::string_view bucket = after.substr(0, slash);
    if (bucket.empty()) return invalid("the bucket is missing");
    Status valid = objstore::ValidateBucketName(bucket);
    if (!valid.ok()) return invalid(valid.message());
    settings.bucket = std::string(bucket);
    std::string prefix(slash == std::string_view::npos ? std::string_view()
                                                       : after.substr(slash + 1));
    while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
    if (prefix.starts_with("/") || prefix.find("//") != std::string::npos) {
      return invalid("the warehouse path has an empty segment ('//')");
    }
    settings.prefix = std::move(prefix);
    return Status::Ok();
  }
  return invalid("the scheme is not iceberg+file:// or iceberg+s3://");
}

}  // namespace

Result<IcebergSettings> ParseIcebergSettings(const consume::SinkSpec& spec) {
  IcebergSettings settings;
  EDDY_RETURN_IF_ERROR(ParseLocation(spec.url, settings));
  const bool s3 = settings.backend == Backend::kS3;
  bool catalog_given = false;
  for (const auto& [key, value] : spec.settings) {
    if (key == "commit_interval") {
      auto interval = ParseSecondsOrDuration(value);
      if (!interval.ok() || interval->count() < 1'000 || interval->count() > 3'600'000) {
        return Invalid(key, value,
                       "use 1 to 3600 seconds, as seconds (\"60\") or with a unit (\"5m\")");
      }
      settings.commit_interval = *interval;
    } else if (key == "commit_rows") {
      int64_t rows = 0;
      auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), rows);
      if (error != std::errc() || end != value.data() + value.size() || rows < 1 ||
          rows > kMaxCommitRows) {
        return Invalid(key, value, "use an integer from 1 to 1000000");
      }
      settings.commit_rows = static_cast<uint32_t>(rows);
    } else if (key == "compression") {
      auto compression = parquet::ParseCompression(value);
      if (!compression.ok()) return Invalid(key, value, "use snappy, zstd or none");
      settings.compression = *compression;
    } else if (key == "catalog") {
      if (value == "hadoop") {
        settings.catalog = Catalog::kHadoop;
        settings.catalog_path.clear();
      } else if (value.starts_with("sqlite://")) {
        std::string path = value.substr(std::string_view("sqlite://").size());
        if (!path.starts_with("/") || path.ends_with("/") ||
            path.find("/../") != std::string::npos) {
          return Invalid(key, value,
                         "give the SQLite database file as an absolute path after three "
                         "slashes: catalog=sqlite:///var/lib/eddy/lake.db");
        }
        settings.catalog = Catalog::kSql;
        settings.catalog_path = std::move(path);
      } else {
        return Invalid(key, value,
                       "use catalog=hadoop (metadata files with version-hint.text) or "
                       "catalog=sqlite:///PATH (Iceberg's SQL catalog in a SQLite file)");
      }
      catalog_given = true;
    } else if (key == "changelog") {
      if (value != "true" && value != "false") {
        return Invalid(key, value,
                       "use true (also keep an append-only <table>_changelog table of every "
                       "change) or false");
      }
      settings.changelog = value == "true";
    } else if (key == "region") {
      if (!s3) return Invalid(key, value, "region applies to iceberg+s3:// URLs only; remove it");
      if (value.empty() || value.size() > 32 ||
          value.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") != std::string::npos) {
        return Invalid(key, value, "use an AWS region name like us-east-1");
      }
      settings.region = value;
    } else if (key == "endpoint") {
      if (!s3) return Invalid(key, value, "endpoint applies to iceberg+s3:// URLs only; remove it");
      std::string endpoint(value);
      while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
      bool valid = endpoint.starts_with("http://") || endpoint.starts_with("https://");
      std::string_view authority =
          valid ? std::string_view(endpoint).substr(endpoint.find("//") + 2) : std::string_view();
      if (!valid || authority.empty() ||
          authority.find_first_of("/?#@ ") != std::string_view::npos) {
        return Invalid(key, value,
                       "use the server's base URL without a path, like http://127.0.0.1:4568");
      }
      settings.endpoint = std::move(endpoint);
    } else if (key == "type") {
      if (value != "iceberg") {
        return Invalid(key, value,
                       "the URL's scheme makes this an iceberg sink; remove type or make it "
                       "match the URL");
      }
    } else if (key == "batch_size" || key == "batch_bytes" || key == "max_batching_window") {
      return Invalid(key, value,
                     "an iceberg sink commits by commit_rows and commit_interval (one snapshot "
                     "per commit); use those instead");
    } else if (key == "format" && value == "dynamodb") {
      return Invalid(key, value,
                     "the dynamodb format drops the transaction END and heartbeat records the "
                     "iceberg sink publishes whole transactions by; remove the setting (the "
                     "sink reads the change events themselves, whatever the format)");
    } else if (key == "parallelization_factor") {
      if (value != "1") {
        return Invalid(key, value,
                       "an iceberg sink has one writer per table, committing in log order; "
                       "remove the setting");
      }
    } else if (!consume::IsRunnerSetting(key)) {
      std::string known;
      for (std::string_view own : kOwnKeys) known += std::string(own) + ", ";
      return InvalidArgument("unknown iceberg setting '" + key + "'; the iceberg sink knows " +
                             known + "and the sink settings of docs/sinks/iceberg.md");
    }
  }
  if (s3 && !catalog_given) {
    // On S3 the SQL catalog is the default: the hadoop catalog needs put-if-absent, which
    // S3-compatible servers do not all honour.
    if (spec.data_dir.empty()) {
      return InvalidArgument(
          "an iceberg+s3:// sink keeps its SQL catalog in the data directory by default, and "
          "none is set; give catalog=sqlite:///PATH or catalog=hadoop");
    }
    settings.catalog = Catalog::kSql;
    settings.catalog_path = spec.data_dir + "/iceberg/" + spec.name + ".db";
  }
  return settings;
}

}  // namespace eddy::sink::iceberg
