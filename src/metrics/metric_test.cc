#include "metrics/metric.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "metrics/registry.h"

namespace tessera::metrics {
namespace {

TEST(ExponentialBoundsTest, MatchesOvmsTimingBuckets) {
  std::vector<double> b = ExponentialBounds(10, 1.8, 33);
  ASSERT_EQ(b.size(), 33u);
  EXPECT_EQ(b[0], 10);
  EXPECT_EQ(b[1], 18);
  EXPECT_EQ(b[2], 32);
  EXPECT_EQ(b[3], 58);
  EXPECT_EQ(b[4], 104);
  EXPECT_TRUE(std::is_sorted(b.begin(), b.end()));
}

TEST(ExponentialBoundsTest, DropsDuplicates) {
  EXPECT_EQ(ExponentialBounds(1, 1.2, 4), (std::vector<double>{1}));  // 1, 1.2, 1.44, 1.728 floor to 1
  EXPECT_EQ(ExponentialBounds(1, 2, 4), (std::vector<double>{1, 2, 4, 8}));
}

TEST(HistogramTest, BucketsIncludeTheirUpperBound) {
  Histogram h(std::make_shared<const std::vector<double>>(std::vector<double>{1, 5, 10}));
  for (double v : {0.5, 1.0, 1.5, 5.0, 7.0, 10.0, 11.0, 1e9}) h.Observe(v);
  Histogram::Snapshot s = h.Read();
  EXPECT_EQ(s.cumulative, (std::vector<uint64_t>{2, 4, 6, 8}));
  EXPECT_EQ(s.count, 8u);
  EXPECT_DOUBLE_EQ(s.sum, 0.5 + 1 + 1.5 + 5 + 7 + 10 + 11 + 1e9);
}

TEST(HistogramTest, EmptyReadsZero) {
  Histogram h(std::make_shared<const std::vector<double>>(std::vector<double>{1}));
  Histogram::Snapshot s = h.Read();
  EXPECT_EQ(s.cumulative, (std::vector<uint64_t>{0, 0}));
  EXPECT_EQ(s.count, 0u);
  EXPECT_EQ(s.sum, 0);
}

TEST(GaugeTest, AddAndSet) {
  Gauge g;
  g.Add(3);
  g.Add(-5);
  EXPECT_EQ(g.value(), -2);
  g.Set(7);
  EXPECT_EQ(g.value(), 7);
}

// Many threads updating the same series through the registry: no update is
// lost and every thread gets the same series.
TEST(ConcurrencyTest, NoLostUpdates) {
  Registry registry;
  auto* counters = registry.AddCounter("c", "help", {"name"});
  auto* histograms = registry.AddHistogram("h", "help", {"name"}, {10, 100});
  auto* gauges = registry.AddGauge("g", "help", {"name"});
  constexpr int kThreads = 8;
  constexpr int kPerThread = 20000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        counters->Get({"m"})->Increment();
        counters->Get({t % 2 ? "odd" : "even"})->Increment(2);
        histograms->Get({"m"})->Observe(i % 3 == 0 ? 5 : 50);
        gauges->Get({"m"})->Add(1);
        gauges->Get({"m"})->Add(-1);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(counters->Get({"m"})->value(), uint64_t{kThreads} * kPerThread);
  EXPECT_EQ(counters->Get({"odd"})->value(), uint64_t{kThreads / 2} * kPerThread * 2);
  EXPECT_EQ(counters->Get({"even"})->value(), uint64_t{kThreads / 2} * kPerThread * 2);
  Histogram::Snapshot s = histograms->Get({"m"})->Read();
  EXPECT_EQ(s.count, uint64_t{kThreads} * kPerThread);
  const uint64_t small = kThreads * ((kPerThread + 2) / 3);
  EXPECT_EQ(s.cumulative[0], small);
  EXPECT_DOUBLE_EQ(s.sum, 5.0 * small + 50.0 * (s.count - small));
  EXPECT_EQ(gauges->Get({"m"})->value(), 0);
}

TEST(RegistryTest, SameLabelsSameSeries) {
  Registry registry;
  auto* family = registry.AddCounter("c", "help", {"a", "b"});
  Counter* one = family->Get({"x", "y"});
  EXPECT_EQ(family->Get({"x", "y"}), one);
  EXPECT_NE(family->Get({"xy", ""}), one);  // values are not merely concatenated
  EXPECT_NE(family->Get({"", "xy"}), one);
}

}  // namespace
}  // namespace tessera::metrics
