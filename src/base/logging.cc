#include "base/logging.h"

#include <spdlog/sinks/stdout_sinks.h>

#include <mutex>

namespace eddy::logging {
namespace {

std::mutex mutex;
spdlog::level::level_enum configured_level = spdlog::level::info;
Format configured_format = Format::kText;

void Apply(spdlog::logger& logger) {
  logger.set_level(configured_level);
  if (configured_format == Format::kJson) {
    logger.set_pattern(
        R"({"time":"%Y-%m-%dT%H:%M:%S.%fZ","level":"%l","module":"%n","message":"%v"})",
        spdlog::pattern_time_type::utc);
  } else {
    logger.set_pattern("%Y-%m-%dT%H:%M:%S.%fZ %-5l %n: %v", spdlog::pattern_time_type::utc);
  }
}

}  // namespace

bool Configure(std::string_view level, Format format) {
  auto parsed = spdlog::level::from_str(std::string(level));
  if (parsed == spdlog::level::off && level != "off") return false;
  std::lock_guard lock(mutex);
  configured_level = parsed;
  configured_format = format;
  spdlog::apply_all([](const std::shared_ptr<spdlog::logger>& logger) { Apply(*logger); });
  return true;
}

std::shared_ptr<spdlog::logger> Get(const std::string& module) {
  std::lock_guard lock(mutex);
  if (auto existing = spdlog::get(module)) return existing;
  auto logger = std::make_shared<spdlog::logger>(
      module, std::make_shared<spdlog::sinks::stderr_sink_mt>());
  Apply(*logger);
  spdlog::register_logger(logger);
  return logger;
}

}  // namespace eddy::logging
