#include "base/logging.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <map>
#include <mutex>

namespace eddy::logging {

struct Logger::Sink {
  spdlog::logger logger;
};

namespace {

std::mutex mutex;  // guards the fields below and every logger's configuration
Level configured_level = Level::kInfo;
Format configured_format = Format::kText;
std::map<std::string, std::shared_ptr<Logger>, std::less<>>& Loggers() {
  static auto* loggers = new std::map<std::string, std::shared_ptr<Logger>, std::less<>>();
  return *loggers;
}

spdlog::level::level_enum ToSpdlog(Level level) {
  switch (level) {
    case Level::kTrace: return spdlog::level::trace;
    case Level::kDebug: return spdlog::level::debug;
    case Level::kInfo: return spdlog::level::info;
    case Level::kWarn: return spdlog::level::warn;
    case Level::kError: return spdlog::level::err;
    case Level::kOff: return spdlog::level::off;
  }
  return spdlog::level::info;
}

void Apply(spdlog::logger& logger) {
  // The level check happens in Logger::should_log; spdlog writes whatever it is handed.
  logger.set_level(spdlog::level::trace);
  if (configured_format == Format::kJson) {
    logger.set_pattern(
        R"({"time":"%Y-%m-%dT%H:%M:%S.%fZ","level":"%l","module":"%n","message":"%v"})",
        spdlog::pattern_time_type::utc);
  } else {
    logger.set_pattern("%Y-%m-%dT%H:%M:%S.%fZ %-5l %n: %v", spdlog::pattern_time_type::utc);
  }
}

}  // namespace

Logger::Logger(std::string module)
    : module_(std::move(module)),
      sink_(std::make_unique<Sink>(
          Sink{spdlog::logger(module_, std::make_shared<spdlog::sinks::stderr_sink_mt>())})) {}

Logger::~Logger() = default;

void Logger::Write(Level level, std::string_view message) {
  sink_->logger.log(ToSpdlog(level), spdlog::string_view_t(message.data(), message.size()));
}

bool Configure(std::string_view level, Format format) {
  static constexpr std::pair<std::string_view, Level> kNames[] = {
      {"trace", Level::kTrace}, {"debug", Level::kDebug}, {"info", Level::kInfo},
      {"warn", Level::kWarn},   {"warning", Level::kWarn}, {"error", Level::kError},
      {"err", Level::kError},   {"critical", Level::kError}, {"off", Level::kOff}};
  const Level* parsed = nullptr;
  for (const auto& [name, value] : kNames) {
    if (name == level) parsed = &value;
  }
  if (parsed == nullptr) return false;
  std::lock_guard lock(mutex);
  configured_level = *parsed;
  configured_format = format;
  for (auto& [name, logger] : Loggers()) {
    Apply(logger->sink_->logger);
    logger->level_.store(static_cast<int>(configured_level), std::memory_order_relaxed);
  }
  return true;
}

std::shared_ptr<Logger> Get(const std::string& module) {
  std::lock_guard lock(mutex);
  auto& loggers = Loggers();
  if (auto it = loggers.find(module); it != loggers.end()) return it->second;
  auto logger = std::make_shared<Logger>(module);
  Apply(logger->sink_->logger);
  logger->level_.store(static_cast<int>(configured_level), std::memory_order_relaxed);
  loggers.emplace(module, logger);
  return logger;
}

}  // namespace eddy::logging
