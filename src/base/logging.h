// Structured logging: one named logger per module ("log", "postgres", "api", ...), backed by
// spdlog. Lines go to stderr as `time level module message key=value ...`, or as one JSON
// object per line when EDDY_LOG_FORMAT=json / --log-format json.
//
// Thread safety: loggers are safe to use from any thread.
#pragma once

#include <spdlog/spdlog.h>

#include <memory>
#include <string>
#include <string_view>

namespace eddy::logging {

enum class Format { kText, kJson };

// Configures every logger: level ("trace", "debug", "info", "warn", "error", "off") and format.
// Returns false with no change when `level` is not a level name.
bool Configure(std::string_view level, Format format);

// The logger for `module`, created on first use with the configured level and format.
std::shared_ptr<spdlog::logger> Get(const std::string& module);

}  // namespace eddy::logging
