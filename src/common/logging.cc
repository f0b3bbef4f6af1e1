#include "common/logging.h"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>

#include <algorithm>
#include <cctype>
#include <optional>

namespace tessera {
namespace {

std::optional<spdlog::level::level_enum> ParseLevel(std::string level) {
  std::transform(level.begin(), level.end(), level.begin(),
                 [](unsigned char c) { return std::toupper(c); });
  if (level == "TRACE") return spdlog::level::trace;
  if (level == "DEBUG") return spdlog::level::debug;
  if (level == "INFO") return spdlog::level::info;
  if (level == "WARNING") return spdlog::level::warn;
  if (level == "ERROR") return spdlog::level::err;
  return std::nullopt;
}

}  // namespace

bool IsValidLogLevel(const std::string& level) { return ParseLevel(level).has_value(); }

Status ConfigureLogging(const std::string& level, const std::string& path) {
  auto parsed = ParseLevel(level);
  if (!parsed) return InvalidArgument("invalid log level: " + level);
  try {
    std::shared_ptr<spdlog::logger> logger;
    if (path.empty()) {
      logger = spdlog::stderr_color_mt("tessera");
    } else {
      logger = spdlog::basic_logger_mt("tessera", path);
    }
    logger->set_level(*parsed);
    logger->set_pattern("[%Y-%m-%d %H:%M:%S.%e][%t][%^%l%$] %v");
    logger->flush_on(spdlog::level::info);
    spdlog::set_default_logger(logger);
    spdlog::set_level(*parsed);
  } catch (const spdlog::spdlog_ex& e) {
    return InvalidArgument(std::string("cannot open log: ") + e.what());
  }
  return Status::Ok();
}

}  // namespace tessera
