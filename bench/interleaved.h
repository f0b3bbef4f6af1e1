// Interleaved timing for the benchmarks: contenders run in turns, one call
// each per round, so load from other processes on a shared machine falls on
// every contender alike. Header-only; used by every program in bench/.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <functional>
#include <vector>

namespace tessera::bench {

// Keeps results alive so the measured work is not optimised away.
inline volatile size_t g_sink = 0;

// Calls each of `fns` once (warm-up, untimed), then in rounds until at least
// `min_rounds` rounds and `min_seconds` of wall time have passed. Returns the
// seconds of every timed call: result[i][round] for fns[i].
inline std::vector<std::vector<double>> InterleavedSeconds(
    const std::vector<std::function<size_t()>>& fns, int min_rounds, double min_seconds) {
  using Clock = std::chrono::steady_clock;
  std::vector<std::vector<double>> samples(fns.size());
  for (const auto& fn : fns) g_sink = g_sink + fn();
  auto start = Clock::now();
  while (static_cast<int>(samples[0].size()) < min_rounds ||
         std::chrono::duration<double>(Clock::now() - start).count() < min_seconds) {
    for (size_t i = 0; i < fns.size(); ++i) {
      auto t0 = Clock::now();
      g_sink = g_sink + fns[i]();
      samples[i].push_back(std::chrono::duration<double>(Clock::now() - t0).count());
    }
  }
  return samples;
}

inline double Best(std::vector<double> samples) {
  return *std::min_element(samples.begin(), samples.end());
}

// REQUIRES: !samples.empty().
inline double Median(std::vector<double> samples) {
  auto mid = samples.begin() + samples.size() / 2;
  std::nth_element(samples.begin(), mid, samples.end());
  return *mid;
}

}  // namespace tessera::bench
