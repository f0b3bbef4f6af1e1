#include "serving/scheduler_settings.h"

#include <algorithm>
#include <charconv>
#include <string>

namespace tessera {
namespace {

using PluginConfig = std::map<std::string, std::string>;

// The positive integer under `key`; nullopt when absent or equal to
// `keep_default` (case-sensitive, e.g. "AUTO").
Result<std::optional<int>> PositiveInt(const PluginConfig& plugin, const char* key,
                                       const char* keep_default = nullptr) {
  auto it = plugin.find(key);
  if (it == plugin.end()) return std::optional<int>();
  const std::string& text = it->second;
  if (keep_default && text == keep_default) return std::optional<int>();
  int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < 1) {
    return InvalidArgument(std::string("plugin_config ") + key + " must be a positive integer" +
                           (keep_default ? std::string(" or ") + keep_default : "") + " (got \"" + text + "\")");
  }
  return std::optional<int>(value);
}

Result<bool> LatencyHint(const PluginConfig& plugin) {
  auto it = plugin.find(kPluginPerformanceHint);
  if (it == plugin.end() || it->second == "THROUGHPUT") return false;
  if (it->second == "LATENCY") return true;
  return InvalidArgument(std::string("plugin_config ") + kPluginPerformanceHint +
                         " must be LATENCY or THROUGHPUT (got \"" + it->second + "\")");
}

}  // namespace

Result<SchedulerSettings> ResolveSchedulerSettings(const ModelConfig& config,
                                                   const SchedulerDefaults& defaults) {
  const int cores = std::max(1, defaults.cores);
  TESSERA_ASSIGN_OR_RETURN(bool latency, LatencyHint(config.plugin_config));
  TESSERA_ASSIGN_OR_RETURN(auto streams, PositiveInt(config.plugin_config, kPluginNumStreams, "AUTO"));
  TESSERA_ASSIGN_OR_RETURN(auto threads, PositiveInt(config.plugin_config, kPluginNumThreads));

  SchedulerSettings settings;
  if (config.nireq > 0) {
    settings.nireq = config.nireq;
  } else if (streams) {
    settings.nireq = *streams;
  } else {
    settings.nireq = latency ? 1 : std::max(1, defaults.nireq);
  }
  if (threads) {
    settings.intra_op_threads = *threads;
  } else {
    settings.intra_op_threads = latency ? cores : std::max(1, cores / settings.nireq);
  }
  settings.max_queue = config.max_queue_size > 0 ? static_cast<size_t>(config.max_queue_size)
                                                 : defaults.max_queue;
  settings.batching = config.dynamic_batching;
  settings.inline_run_max = defaults.inline_run_max;
  return settings;
}

}  // namespace tessera
