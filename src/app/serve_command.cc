// `eddy serve`: the change log and the stream API without a capture: a local, durable
// Kinesis Data Streams endpoint (streams made with CreateStream accept PutRecord/PutRecords)
// that also serves the CDC streams another `eddy run` wrote earlier into the same directory.
#include <cstdio>
#include <cstdlib>

#include "app/commands.h"
#include "app/shutdown.h"
#include "app/sink_destinations.h"
#include "base/logging.h"
#include "engine/engine.h"
#include "engine/sink_config.h"

namespace eddy::app {
namespace {

struct ServeFlags {
  std::string data_dir;
  std::string listen = "127.0.0.1:4567";
  std::string metrics_listen;
  std::string region = "us-east-1";
  std::string tls_cert;
  std::string tls_key;
  std::string port_file;
  std::string log_level = "info";
  std::vector<std::string> sink_urls;
};

int Serve(const ServeFlags& flags) {
  logging::Configure(flags.log_level, logging::Format::kText);
  engine::EngineConfig config;
  config.data_dir = flags.data_dir;
  config.api.listen = flags.listen;
  config.api.region = flags.region;
  config.api.tls_cert = flags.tls_cert;
  config.api.tls_key = flags.tls_key;
  // The admin API's token (docs/admin-api.md); `eddy serve` has no config file for it.
  if (const char* token = std::getenv("EDDY_ADMIN_TOKEN"); token != nullptr) {
    config.api.admin_token = token;
  }
  if (auto listen = engine::ParseListenAddress(flags.listen); !listen.ok()) {
    std::fprintf(stderr, "eddy serve: --listen %s\n", listen.status().message().c_str());
    return kExitUsage;
  }
  if (!flags.metrics_listen.empty()) {
    if (auto listen = engine::ParseListenAddress(flags.metrics_listen); !listen.ok()) {
      std::fprintf(stderr, "eddy serve: --metrics-listen %s\n", listen.status().message().c_str());
      return kExitUsage;
    }
    config.metrics.listen = flags.metrics_listen;
  }
  // Sinks of streams already in the directory (there are no configured streams: name each
  // sink's stream with ?stream=NAME).
  for (size_t i = 0; i < flags.sink_urls.size(); ++i) {
    auto spec = engine::ParseSinkUrl(flags.sink_urls[i], i + 1);
    if (!spec.ok()) {
      std::fprintf(stderr, "eddy serve: %s\n", spec.status().message().c_str());
      return kExitUsage;
    }
    config.sinks.push_back(std::move(*spec));
  }
  if (Status sinks = engine::ResolveSinks(config.sinks, {}, /*require_configured_stream=*/false);
      !sinks.ok()) {
    std::fprintf(stderr, "eddy serve: %s\n", sinks.message().c_str());
    return kExitUsage;
  }
  ShutdownSignal& shutdown = ShutdownSignal::Install();
  auto engine = engine::Engine::Start(config, MakeSinkServices());
  if (!engine.ok()) {
    std::fprintf(stderr, "eddy serve: %s\n", engine.status().message().c_str());
    return engine.status().code() == ErrorCode::kInvalidArgument ? kExitUsage : kExitFailure;
  }
  uint16_t port = (*engine)->api_port();
  if (!flags.port_file.empty()) {
    // Written to a temporary name and renamed, so a reader never sees a partial number.
    std::string temporary = flags.port_file + ".tmp";
    if (FILE* file = std::fopen(temporary.c_str(), "w")) {
      std::fprintf(file, "%u\n", port);
      std::fclose(file);
      std::rename(temporary.c_str(), flags.port_file.c_str());
    }
  }
  std::fprintf(stderr, "eddy serve: Kinesis and DynamoDB Streams API on %s://127.0.0.1:%u "
                       "(data in %s); Ctrl-C stops\n", flags.tls_cert.empty() ? "http" : "https",
               port, flags.data_dir.c_str());
  if ((*engine)->metrics_port() != 0) {
    auto host = engine::ParseListenAddress(flags.metrics_listen);
    std::fprintf(stderr, "eddy serve: Prometheus metrics on http://%s:%u/metrics\n",
                 host.ok() ? host->first.c_str() : "127.0.0.1", (*engine)->metrics_port());
  }
  shutdown.Wait();
  Status stopped = (*engine)->Stop();
  if (!stopped.ok()) {
    std::fprintf(stderr, "eddy serve: %s\n", stopped.message().c_str());
    return kExitFailure;
  }
  return kExitOk;
}

}  // namespace

void RegisterServeCommand(CLI::App& app, CommandRunner& runner) {
  auto flags = std::make_shared<ServeFlags>();
  auto* command = app.add_subcommand(
      "serve", "Serve the change log through the Kinesis/DynamoDB Streams API, without capture");
  command->add_option("--data-dir", flags->data_dir, "The data directory")->required();
  command->add_option("--api-listen,--listen", flags->listen, "HOST:PORT (port 0: a free one)");
  command->add_option("--metrics-listen", flags->metrics_listen,
                      "HOST:PORT serving GET /metrics on a port of its own (the API port "
                      "always serves it)");
  command->add_option("--region", flags->region, "Region shown in ARNs");
  command->add_option("--tls-cert", flags->tls_cert,
                      "PEM certificate chain: serve HTTPS (with --tls-key)");
  command->add_option("--tls-key", flags->tls_key, "PEM private key of --tls-cert");
  command->add_option("--port-file", flags->port_file, "Write the bound port to this file");
  command->add_option("--sink", flags->sink_urls,
                      "Deliver a stream to URL (repeatable): webhook+https://host/path?"
                      "stream=S&batch_size=100; query parameters are the sink's settings");
  command->add_option("--log-level", flags->log_level, "trace|debug|info|warn|error|off")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));
  command->callback([&runner, flags] {
    runner = [flags] { return Serve(*flags); };
  });
}

}  // namespace eddy::app
