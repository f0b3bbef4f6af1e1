// VersionStats: the cumulative statistics of one model version or pipeline
// (Triton's statistics extension; see core/statistics.h), and StatsRegistry,
// the set of them. They are recorded through VersionMetrics
// (serving_metrics.h), the one set of hooks the serving layer calls, which
// updates the Prometheus series in the same calls; unlike those, statistics
// are kept whether or not metrics are enabled.
//
// Thread-safety: every method may be called concurrently. Recording is a few
// relaxed atomic additions; an engine run also takes a short lock for its
// batch size. A read during updates may see an update partly applied.
// Ownership: the registry owns its VersionStats (shared with the servables
// recording into them) and never removes one: a retired version's
// statistics stay readable, and a version loaded again continues them.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "core/statistics.h"

namespace tessera::metrics {

class VersionStats {
 public:
  // One request answered, `ns` after it reached the version; `now_ms`
  // (milliseconds since the epoch) becomes last_inference.
  void RecordAnswer(bool ok, uint64_t ns, uint64_t now_ms);
  // A worker took a request that waited `ns` in the queue.
  void RecordQueue(uint64_t ns);
  // One successful engine run of `batch_size` rows joining `requests`
  // requests, with the time of its three phases.
  void RecordExecution(uint64_t batch_size, uint64_t requests, uint64_t input_ns,
                       uint64_t infer_ns, uint64_t output_ns);
  // A successful request of `rows` rows that was not one engine run of this
  // object (a pipeline's: its nodes run on their models).
  void RecordInference(uint64_t rows);

  // Every figure; name and version are left for the caller.
  ModelStatistics Read() const;

 private:
  struct Duration {
    std::atomic<uint64_t> count{0};
    std::atomic<uint64_t> ns{0};
    void Add(uint64_t n, uint64_t total_ns);
    DurationStat Read() const;
  };

  Duration success_, fail_, queue_, compute_input_, compute_infer_, compute_output_;
  std::atomic<uint64_t> last_inference_ms_{0};
  std::atomic<uint64_t> inference_count_{0};
  std::atomic<uint64_t> execution_count_{0};
  mutable std::mutex batch_mu_;
  std::map<uint64_t, BatchStatistics> batches_;  // guarded by batch_mu_
};

class StatsRegistry {
 public:
  // The statistics of `name` version `version`, created (zero) on first use.
  std::shared_ptr<VersionStats> ForVersion(const std::string& name, int64_t version);

  // Every version's statistics (`name` empty) or those of `name`, sorted by
  // name then version.
  std::vector<ModelStatistics> Read(const std::string& name = "") const;

 private:
  mutable std::mutex mu_;
  std::map<std::pair<std::string, int64_t>, std::shared_ptr<VersionStats>> stats_;
};

}  // namespace tessera::metrics
