// How a model version is scheduled, resolved from its ModelConfig when it
// loads: worker count (nireq), intra-op threads per worker, queue bound and
// dynamic batching. The plugin_config keys read here:
//
//   INFERENCE_NUM_THREADS  intra-op threads of each worker (positive integer)
//   NUM_STREAMS            workers when "nireq" is 0 (positive integer or
//                          "AUTO", which keeps the default)
//   PERFORMANCE_HINT       "THROUGHPUT" (default): nireq = server default
//                          (cores), threads = max(1, cores / nireq);
//                          "LATENCY": nireq = 1, threads = cores
//
// Precedence for the worker count: "nireq" > NUM_STREAMS > the hint. For the
// threads: INFERENCE_NUM_THREADS > the hint's rule. Other plugin_config keys
// are left to the backend. Pure functions; thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>

#include "common/result.h"
#include "repository/model_config.h"

namespace tessera {

inline constexpr char kPluginNumThreads[] = "INFERENCE_NUM_THREADS";
inline constexpr char kPluginNumStreams[] = "NUM_STREAMS";
inline constexpr char kPluginPerformanceHint[] = "PERFORMANCE_HINT";

struct SchedulerDefaults {
  int cores = 1;            // hardware threads
  int nireq = 1;            // workers when nothing in the config says otherwise
  size_t max_queue = 4096;  // when the config's max_queue_size is 0
  // Longest usual run a transport thread runs itself (SchedulerOptions::
  // inline_run_max); 0: never. Server-wide (--inline_run_max_us).
  std::chrono::microseconds inline_run_max{0};
};

struct SchedulerSettings {
  int nireq = 1;
  int intra_op_threads = 1;
  size_t max_queue = 4096;
  std::optional<DynamicBatchingConfig> batching;
  std::chrono::microseconds inline_run_max{0};
  bool operator==(const SchedulerSettings&) const = default;
};

// kInvalidArgument naming the key for a malformed value, e.g.
// `plugin_config INFERENCE_NUM_THREADS must be a positive integer (got "two")`.
Result<SchedulerSettings> ResolveSchedulerSettings(const ModelConfig& config,
                                                   const SchedulerDefaults& defaults);

}  // namespace tessera
