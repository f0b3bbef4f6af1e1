#include "metrics/version_stats.h"

#include <limits>

namespace tessera::metrics {

void VersionStats::Duration::Add(uint64_t n, uint64_t total_ns) {
  count.fetch_add(n, std::memory_order_relaxed);
  ns.fetch_add(total_ns, std::memory_order_relaxed);
}

DurationStat VersionStats::Duration::Read() const {
  return {count.load(std::memory_order_relaxed), ns.load(std::memory_order_relaxed)};
}

void VersionStats::RecordAnswer(bool ok, uint64_t ns, uint64_t now_ms) {
  (ok ? success_ : fail_).Add(1, ns);
  last_inference_ms_.store(now_ms, std::memory_order_relaxed);
}

void VersionStats::RecordQueue(uint64_t ns) { queue_.Add(1, ns); }

void VersionStats::RecordExecution(uint64_t batch_size, uint64_t requests, uint64_t input_ns,
                                   uint64_t infer_ns, uint64_t output_ns) {
  inference_count_.fetch_add(batch_size, std::memory_order_relaxed);
  execution_count_.fetch_add(1, std::memory_order_relaxed);
  // Per request, each request of the run spent the run's phases (as Triton).
  compute_input_.Add(requests, requests * input_ns);
  compute_infer_.Add(requests, requests * infer_ns);
  compute_output_.Add(requests, requests * output_ns);
  std::lock_guard lock(batch_mu_);
  BatchStatistics& batch = batches_[batch_size];
  batch.batch_size = batch_size;
  auto add = [](DurationStat& d, uint64_t ns) {
    d.count += 1;
    d.ns += ns;
  };
  add(batch.compute_input, input_ns);
  add(batch.compute_infer, infer_ns);
  add(batch.compute_output, output_ns);
}

void VersionStats::RecordInference(uint64_t rows) {
  inference_count_.fetch_add(rows, std::memory_order_relaxed);
  execution_count_.fetch_add(1, std::memory_order_relaxed);
}

ModelStatistics VersionStats::Read() const {
  ModelStatistics s;
  s.last_inference_ms = last_inference_ms_.load(std::memory_order_relaxed);
  s.inference_count = inference_count_.load(std::memory_order_relaxed);
  s.execution_count = execution_count_.load(std::memory_order_relaxed);
  s.success = success_.Read();
  s.fail = fail_.Read();
  s.queue = queue_.Read();
  s.compute_input = compute_input_.Read();
  s.compute_infer = compute_infer_.Read();
  s.compute_output = compute_output_.Read();
  std::lock_guard lock(batch_mu_);
  for (const auto& [size, batch] : batches_) s.batch_stats.push_back(batch);
  return s;
}

std::shared_ptr<VersionStats> StatsRegistry::ForVersion(const std::string& name, int64_t version) {
  std::lock_guard lock(mu_);
  auto& stats = stats_[{name, version}];
  if (!stats) stats = std::make_shared<VersionStats>();
  return stats;
}

std::vector<ModelStatistics> StatsRegistry::Read(const std::string& name) const {
  std::vector<std::pair<std::pair<std::string, int64_t>, std::shared_ptr<VersionStats>>> selected;
  {
    std::lock_guard lock(mu_);
    auto it = name.empty() ? stats_.begin() : stats_.lower_bound({name, std::numeric_limits<int64_t>::min()});
    for (; it != stats_.end() && (name.empty() || it->first.first == name); ++it) {
      selected.emplace_back(*it);
    }
  }
  std::vector<ModelStatistics> out;
  out.reserve(selected.size());
  for (const auto& [key, stats] : selected) {
    ModelStatistics s = stats->Read();
    s.name = key.first;
    s.version = key.second;
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace tessera::metrics
