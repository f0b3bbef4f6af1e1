// Logging: thin wrapper over spdlog so the rest of the code names one place.
#pragma once

#include <spdlog/spdlog.h>

#include <string>

#include "common/status.h"

namespace tessera {

// Configures the process-wide logger. `level` is one of TRACE, DEBUG, INFO,
// WARNING, ERROR (case-insensitive); `path` empty means stderr.
Status ConfigureLogging(const std::string& level, const std::string& path);

// True when `level` names a valid log level.
bool IsValidLogLevel(const std::string& level);

}  // namespace tessera

#define TLOG_TRACE(...) SPDLOG_TRACE(__VA_ARGS__)
#define TLOG_DEBUG(...) SPDLOG_DEBUG(__VA_ARGS__)
#define TLOG_INFO(...) SPDLOG_INFO(__VA_ARGS__)
#define TLOG_WARN(...) SPDLOG_WARN(__VA_ARGS__)
#define TLOG_ERROR(...) SPDLOG_ERROR(__VA_ARGS__)
