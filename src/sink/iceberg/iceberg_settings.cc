#include "sink/iceberg/iceberg_settings.h"

#include <array>
#include <charconv>

#include "base/duration.h"
#include "consume/sink_settings.h"
#include "objstore/store_url.h"

namespace eddy::sink::iceberg {

namespace {

constexpr std::array<std::string_view, 11> kOwnKeys = {"commit_interval",
                                                       "commit_rows",
                                                       "compression",
                                                       "catalog",
                                                       "changelog",
                                                       "compact_delete_files",
                                                       "compact_data_files",
                                                       "compact_file_size_mb",
                                                       "region",
                                                       "endpoint",
                                                       "type"};

Status Invalid(std::string_view key, std::string_view value, std::string_view allowed) {
  return InvalidArgument("iceberg setting '" + std::string(key) + "' is \"" +
                         std::string(value.substr(0, 200)) + "\"; " + std::string(allowed));
}

}  // namespace

Result<IcebergSettings> ParseIcebergSettings(const consume::SinkSpec& spec) {
  IcebergSettings settings;
  EDDY_ASSIGN_OR_RETURN(
      objstore::StoreUrl location,
      objstore::ParseStoreUrl(spec.url, {"iceberg+file://", "iceberg+s3://",
                                         "iceberg+file:///WAREHOUSE or "
                                         "iceberg+s3://BUCKET/WAREHOUSE?region=R[&endpoint=URL]",
                                         "warehouse path"}));
  settings.backend = location.local ? Backend::kFile : Backend::kS3;
  settings.directory = std::move(location.directory);
  settings.bucket = std::move(location.bucket);
  settings.prefix = std::move(location.path);
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
    } else if (key == "compact_delete_files" || key == "compact_data_files" ||
               key == "compact_file_size_mb") {
      const bool size = key == "compact_file_size_mb";
      const int64_t min = size ? 1 : 0;
      const int64_t max = size ? 65'536 : 1'000'000;
      int64_t number = 0;
      auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), number);
      if (error != std::errc() || end != value.data() + value.size() || number < min ||
          number > max) {
        return Invalid(key, value,
                       size ? "use a size in MiB from 1 to 65536 (the compacted data files' "
                              "target size)"
                            : "use a file count from 1 to 1000000 (compact a table once its "
                              "current snapshot has this many), or 0 to never compact");
      }
      if (key == "compact_delete_files")
        settings.compact_delete_files = static_cast<uint32_t>(number);
      if (key == "compact_data_files") settings.compact_data_files = static_cast<uint32_t>(number);
      if (size) settings.compact_file_bytes = static_cast<uint64_t>(number) << 20;
    } else if (key == "region") {
      if (!s3) return Invalid(key, value, "region applies to iceberg+s3:// URLs only; remove it");
      if (!objstore::IsRegionName(value)) {
        return Invalid(key, value, "use an AWS region name like us-east-1");
      }
      settings.region = value;
    } else if (key == "endpoint") {
      if (!s3) return Invalid(key, value, "endpoint applies to iceberg+s3:// URLs only; remove it");
      auto endpoint = objstore::ParseEndpointUrl(value);
      if (!endpoint.ok()) return Invalid(key, value, endpoint.status().message());
      settings.endpoint = std::move(endpoint).value();
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
