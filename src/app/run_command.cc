// `eddy run`: capture from one or more sources into the change log and serve the stream API.
#include <malloc.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "app/commands.h"
#include "app/shutdown.h"
#include "app/sink_destinations.h"
#include "base/clock.h"
#include "base/logging.h"
#include "engine/config.h"
#include "engine/debezium_config.h"
#include "engine/engine.h"
#include "io/file_system.h"

namespace eddy::app {
namespace {

struct RunFlags {
  std::string config_file;
  engine::ConfigOverrides overrides;
  std::string log_level;
  std::string log_format;
  std::string debezium_config;  // a Debezium connector JSON (engine/debezium_config.h)
  std::string kafka_bootstrap;  // its Kafka cluster
};

constexpr auto kProgressInterval = std::chrono::seconds(10);
constexpr auto kStatusInterval = std::chrono::seconds(2);

// Writes the captures' progress to DATA_DIR/status for `eddy status` (temporary file + rename,
// so a reader never sees a partial file). The status file is informational: failing to write
// it is logged, not fatal.
void WriteStatusFile(const std::string& data_dir, const std::vector<std::string>& lines,
                     const std::string& state) {
  std::string path = data_dir + "/status";
  std::string temporary = path + ".tmp";
  FILE* file = std::fopen(temporary.c_str(), "w");
  if (file == nullptr) return;
  std::fprintf(file, "pid=%d state=%s updated_ms=%lld\n", static_cast<int>(getpid()), state.c_str(),
               static_cast<long long>(SystemClock::Instance().NowMillis()));
  for (const auto& line : lines) std::fprintf(file, "%s\n", line.c_str());
  bool ok = std::fflush(file) == 0;
  ok = std::fclose(file) == 0 && ok;
  if (!ok || std::rename(temporary.c_str(), path.c_str()) != 0) {
    logging::Get("run")->warn("could not write {}: {}", path, std::strerror(errno));
  }
}

// Runs until SIGINT/SIGTERM or until a capture ends by itself; logs progress meanwhile.
int Supervise(engine::Engine& engine, ShutdownSignal& shutdown, const std::string& data_dir) {
  auto log = logging::Get("run");
  auto next_progress = std::chrono::steady_clock::now() + kProgressInterval;
  auto next_status = std::chrono::steady_clock::now();
  int exit_code = kExitOk;
  while (!shutdown.requested()) {
    if (auto ended = engine.WaitForCaptureEnd(std::chrono::milliseconds(500))) {
      if (ended->second.ok()) {
        log->info("capture for stream={} finished", ended->first);
      } else {
        log->error("capture for stream={} failed: {}", ended->first, ended->second.message());
        exit_code = kExitFailure;
      }
      break;
    }
    if (std::chrono::steady_clock::now() >= next_status) {
      WriteStatusFile(data_dir, engine.ProgressLines(), "running");
      next_status += kStatusInterval;
    }
    if (std::chrono::steady_clock::now() >= next_progress) {
      for (const auto& line : engine.ProgressLines()) log->info("progress {}", line);
      next_progress += kProgressInterval;
    }
  }
  if (shutdown.requested()) log->info("stopping (signal {})", shutdown.signal_number());
  std::vector<std::string> last_progress = engine.ProgressLines();
  Status stopped = engine.Stop();
  WriteStatusFile(data_dir, last_progress, stopped.ok() && exit_code == kExitOk ? "stopped" : "failed");
  if (!stopped.ok()) {
    log->error("stop: {}", stopped.message());
    return kExitFailure;
  }
  log->info("stopped cleanly");
  return exit_code;
}

// The capture and the log's append path build each batch in buffers of a few MiB (records,
// per-shard frame buffers) and free them once it is durable. With glibc's defaults those
// buffers are mmap'd or the freed heap top is trimmed, so every batch faults its pages in
// anew (about a tenth of the CPU of a MySQL capture went to page faults and clearing pages).
// Keeping up to kTrimThresholdBytes of freed memory per arena, and serving blocks below
// kMmapThresholdBytes from the heap, lets the next batch reuse the same pages.
constexpr int kMmapThresholdBytes = 32 << 20;  // glibc's largest on 64-bit
constexpr int kTrimThresholdBytes = 64 << 20;

void KeepBatchMemory() {
  // Setting either turns glibc's dynamic thresholds off, so both are set.
  if (::mallopt(M_MMAP_THRESHOLD, kMmapThresholdBytes) != 1 ||
      ::mallopt(M_TRIM_THRESHOLD, kTrimThresholdBytes) != 1) {
    logging::Get("run")->warn("mallopt refused the allocator thresholds; batches allocate anew");
  }
}

int Run(const RunFlags& flags) {
  engine::EngineConfig config;
  if (!flags.config_file.empty()) {
    auto loaded = engine::LoadConfigFile(flags.config_file);
    if (!loaded.ok()) {
      std::fprintf(stderr, "eddy run: %s\n", loaded.status().message().c_str());
      return kExitUsage;
    }
    config = std::move(*loaded);
  }
  if (!flags.debezium_config.empty()) {
    if (!flags.config_file.empty()) {
      std::fprintf(stderr, "eddy run: --debezium-config and --config both configure the run; "
                           "give one\n");
      return kExitUsage;
    }
    auto text = io::DefaultFileSystem()->ReadFile(flags.debezium_config);
    if (!text.ok()) {
      std::fprintf(stderr, "eddy run: --debezium-config %s: %s\n", flags.debezium_config.c_str(),
                   text.status().message().c_str());
      return kExitUsage;
    }
    auto mapped = engine::MapDebeziumConnector(*text, flags.debezium_config, flags.kafka_bootstrap);
    if (!mapped.ok()) {
      std::fprintf(stderr, "eddy run: %s\n", mapped.status().message().c_str());
      return kExitUsage;
    }
    config = std::move(*mapped);
  }
  if (!flags.log_level.empty()) config.logging.level = flags.log_level;
  if (!flags.log_format.empty()) config.logging.format = flags.log_format;
  if (Status status = engine::ApplyOverrides(config, flags.overrides); !status.ok()) {
    std::fprintf(stderr, "eddy run: %s\n", status.message().c_str());
    return kExitUsage;
  }
  if (config.api.admin_token.empty()) {
    // The admin API's token may come from the environment, to keep it out of the file.
    if (const char* token = std::getenv("EDDY_ADMIN_TOKEN"); token != nullptr) {
      config.api.admin_token = token;
    }
  }
  if (config.api.secret_access_key.empty()) {
    // The SigV4 secret may come from the environment too (engine/control_auth.h).
    if (const char* secret = std::getenv("EDDY_API_SECRET_ACCESS_KEY"); secret != nullptr) {
      config.api.secret_access_key = secret;
    }
  }
  if (Status status = engine::ValidateForRun(config); !status.ok()) {
    std::fprintf(stderr, "eddy run: %s\n", status.message().c_str());
    return kExitUsage;
  }
  logging::Configure(config.logging.level,
                     config.logging.format == "json" ? logging::Format::kJson : logging::Format::kText);
  auto log = logging::Get("run");
  KeepBatchMemory();
  ShutdownSignal& shutdown = ShutdownSignal::Install();
  auto engine = engine::Engine::Start(config, MakeSinkServices());
  if (!engine.ok()) {
    std::fprintf(stderr, "eddy run: %s\n", engine.status().message().c_str());
    return engine.status().code() == ErrorCode::kInvalidArgument ? kExitUsage : kExitFailure;
  }
  if ((*engine)->api_port() != 0) {
    log->info("serving the Kinesis and DynamoDB Streams API on {}://127.0.0.1:{}",
              config.api.tls_cert.empty() ? "http" : "https", (*engine)->api_port());
  }
  if (config.streams.empty()) {
    log->info(
        "no stream configured: waiting for streams created through the control plane "
        "(POST /admin/v1/streams, or the DSQL stream API: POST /stream/SOURCE)");
  }
  if ((*engine)->metrics_port() != 0) {
    auto host = engine::ParseListenAddress(config.metrics.listen);
    log->info("serving Prometheus metrics on http://{}:{}/metrics",
              host.ok() ? host->first : std::string("127.0.0.1"), (*engine)->metrics_port());
  }
  return Supervise(**engine, shutdown, config.data_dir);
}

}  // namespace

void RegisterRunCommand(CLI::App& app, CommandRunner& runner) {
  auto flags = std::make_shared<RunFlags>();
  auto* command = app.add_subcommand(
      "run", "Capture changes from a database into the change log and serve the stream API");
  command->add_option("--config", flags->config_file, "TOML configuration file")
      ->check(CLI::ExistingFile);
  command->add_option("--source", flags->overrides.source_url,
                      "postgresql://user:pass@host:port/db or mysql://user:pass@host:port/db");
  command->add_option("--data-dir", flags->overrides.data_dir, "Directory of the change log");
  command->add_option("--stream", flags->overrides.stream_name, "Stream the changes go to");
  command->add_option("--api-listen", flags->overrides.api_listen,
                      "HOST:PORT for the Kinesis/DynamoDB Streams API (default 127.0.0.1:4567)");
  command->add_option("--metrics-listen", flags->overrides.metrics_listen,
                      "HOST:PORT serving GET /metrics on a port of its own (the API port "
                      "always serves it)");
  command->add_option("--format", flags->overrides.format, "native|debezium|dms|dynamodb");
  command->add_option("--view-type", flags->overrides.view_type,
                      "NEW_AND_OLD_IMAGES|NEW_IMAGE|OLD_IMAGE|KEYS_ONLY");
  command->add_option("--tables", flags->overrides.tables, "Tables to capture: a.b,c.d");
  command->add_option("--shards", flags->overrides.shards, "Number of shards of the stream")
      ->check(CLI::Range(1, 1024));
  command->add_option("--sink", flags->overrides.sink_urls,
                      "Deliver a stream to URL (repeatable): webhook+https://host/path?"
                      "batch_size=100&name=N&stream=S; query parameters are the sink's settings");
  command->add_option("--debezium-config", flags->debezium_config,
                      "A Debezium connector configuration (JSON) to run as is: source, stream, "
                      "shaping and a Kafka sink; unsupported properties are named")
      ->check(CLI::ExistingFile);
  command->add_option("--kafka-bootstrap", flags->kafka_bootstrap,
                      "HOST:PORT[,...] of the Kafka cluster, with --debezium-config");
  command->add_option("--log-level", flags->log_level, "trace|debug|info|warn|error|off")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));
  command->add_option("--log-format", flags->log_format, "text|json")
      ->check(CLI::IsMember({"text", "json"}));
  command->callback([&runner, flags] {
    runner = [flags] { return Run(*flags); };
  });
}

}  // namespace eddy::app
