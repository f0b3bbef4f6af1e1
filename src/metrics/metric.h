// Counter, Gauge and Histogram: the three metric kinds of the Prometheus
// text format, as plain values that any thread may update.
//
// Thread-safety: every update is one or a few relaxed atomic operations (no
// lock, no allocation); reads may run concurrently with updates and see each
// update either wholly or not at all per atomic (a histogram read during an
// update may count an observation in a bucket before it is in the sum).
// Ownership: metrics live in a Family (registry.h) and never move, so callers
// keep raw pointers to them for the registry's lifetime.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

namespace tessera::metrics {

// A monotonically increasing count.
class Counter {
 public:
  void Increment(uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

// A value that goes up and down (requests in flight, queue length).
class Gauge {
 public:
  void Add(int64_t delta) { value_.fetch_add(delta, std::memory_order_relaxed); }
  void Set(int64_t value) { value_.store(value, std::memory_order_relaxed); }
  int64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> value_{0};
};

// Observations counted into fixed buckets. `bounds` are the buckets' upper
// bounds (inclusive, as Prometheus' `le`), strictly ascending; an implicit
// last bucket takes everything above (+Inf).
class Histogram {
 public:
  explicit Histogram(std::shared_ptr<const std::vector<double>> bounds);

  void Observe(double value);

  struct Snapshot {
    std::vector<uint64_t> cumulative;  // per bound, then +Inf (== count)
    uint64_t count = 0;
    double sum = 0;
  };
  Snapshot Read() const;
  const std::vector<double>& bounds() const { return *bounds_; }

 private:
  std::shared_ptr<const std::vector<double>> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;  // bounds_->size() + 1
  std::atomic<double> sum_{0};
};

// `count` bounds floor(start * factor^i), i = 0..count-1, duplicates dropped
// (OVMS uses start 10, factor 1.8, 33 buckets for its microsecond timings).
std::vector<double> ExponentialBounds(double start, double factor, int count);

}  // namespace tessera::metrics
