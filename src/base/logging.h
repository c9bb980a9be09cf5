// Structured logging: one named logger per module ("log", "postgres", "api", ...). Lines go to
// stderr as `time level module message`, or as one JSON object per line when
// EDDY_LOG_FORMAT=json / --log-format json.
//
// The header depends on fmt's core API only: a call formats its message with a checked
// format string (`logger->info("x={}", x)`, the same call shape as spdlog) and hands the text
// to logging.cc, which owns the spdlog sinks. Keeping spdlog's templates out of the ~50
// translation units that log saves about 6 s of compile time each under the sanitizers.
//
// Thread safety: loggers are safe to use from any thread; Configure may run concurrently with
// logging (a line is written at the level in force when it is checked).
#pragma once

#include <fmt/core.h>

#include <atomic>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

namespace eddy::logging {

enum class Format { kText, kJson };

enum class Level : int { kTrace = 0, kDebug, kInfo, kWarn, kError, kOff };

class Logger {
 public:
  explicit Logger(std::string module);
  ~Logger();
  Logger(const Logger&) = delete;
  Logger& operator=(const Logger&) = delete;

  const std::string& module() const { return module_; }

  // True when a line at `level` would be written (check before building costly arguments).
  bool should_log(Level level) const {
    return static_cast<int>(level) >= level_.load(std::memory_order_relaxed) &&
           level != Level::kOff;
  }

  template <typename... Args>
  void trace(fmt::format_string<Args...> format, Args&&... args) {
    Log(Level::kTrace, format, std::forward<Args>(args)...);
  }
  template <typename... Args>
  void debug(fmt::format_string<Args...> format, Args&&... args) {
    Log(Level::kDebug, format, std::forward<Args>(args)...);
  }
  template <typename... Args>
  void info(fmt::format_string<Args...> format, Args&&... args) {
    Log(Level::kInfo, format, std::forward<Args>(args)...);
  }
  template <typename... Args>
  void warn(fmt::format_string<Args...> format, Args&&... args) {
    Log(Level::kWarn, format, std::forward<Args>(args)...);
  }
  template <typename... Args>
  void error(fmt::format_string<Args...> format, Args&&... args) {
    Log(Level::kError, format, std::forward<Args>(args)...);
  }

  // Writes an already formatted line at `level` (no level check).
  void Write(Level level, std::string_view message);

 private:
  friend bool Configure(std::string_view level, Format format);
  friend std::shared_ptr<Logger> Get(const std::string& module);

  template <typename... Args>
  void Log(Level level, fmt::format_string<Args...> format, Args&&... args) {
    if (!should_log(level)) return;
    Write(level, fmt::vformat(format, fmt::make_format_args(args...)));
  }

  struct Sink;  // the spdlog logger behind this one (logging.cc)

  std::string module_;
  std::atomic<int> level_{static_cast<int>(Level::kInfo)};
  std::unique_ptr<Sink> sink_;
};

// Configures every logger: level ("trace", "debug", "info", "warn", "error", "off") and format.
// Returns false with no change when `level` is not a level name.
bool Configure(std::string_view level, Format format);

// The logger for `module`, created on first use with the configured level and format.
std::shared_ptr<Logger> Get(const std::string& module);

}  // namespace eddy::logging
