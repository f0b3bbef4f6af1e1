// Cumulative statistics of one model version (or pipeline), with the fields
// of Triton's statistics extension. Plain values; read from
// metrics::VersionStats, reported by RepositoryAdmin::GetModelStatistics.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace tessera {

// How many times something was measured, and the total time.
struct DurationStat {
  uint64_t count = 0;
  uint64_t ns = 0;

  bool operator==(const DurationStat& o) const { return count == o.count && ns == o.ns; }
};

// The engine runs of one batch size: `compute_*.count` runs, each phase's
// time summed over them.
struct BatchStatistics {
  uint64_t batch_size = 0;
  DurationStat compute_input;
  DurationStat compute_infer;
  DurationStat compute_output;
};

struct ModelStatistics {
  std::string name;
  int64_t version = 0;
  uint64_t last_inference_ms = 0;  // ms since the epoch of the last answer; 0: none yet
  uint64_t inference_count = 0;    // rows inferred by successful runs
  uint64_t execution_count = 0;    // successful engine runs
  // Per request: answered OK / with an error, from arrival to answer.
  DurationStat success;
  DurationStat fail;
  // Per request that a worker took: time waiting in the queue.
  DurationStat queue;
  // Per request run successfully: the phases of the run it was part of.
  DurationStat compute_input;
  DurationStat compute_infer;
  DurationStat compute_output;
  std::vector<BatchStatistics> batch_stats;  // ascending batch_size
};

}  // namespace tessera
