#include "metrics/version_stats.h"

#include <gtest/gtest.h>

#include "metrics/serving_metrics.h"

namespace tessera::metrics {
namespace {

using Clock = VersionMetrics::Clock;
using std::chrono::nanoseconds;

TEST(VersionStatsTest, ExecutionsCountPerRequestAndPerBatchSize) {
  VersionStats stats;
  stats.RecordExecution(/*batch_size=*/4, /*requests=*/3, 10, 100, 1000);
  stats.RecordExecution(1, 1, 1, 2, 3);
  stats.RecordExecution(4, 2, 20, 200, 2000);
  ModelStatistics s = stats.Read();
  EXPECT_EQ(s.inference_count, 9u);
  EXPECT_EQ(s.execution_count, 3u);
  // Each request of a run spent the run's phases.
  EXPECT_EQ(s.compute_input, (DurationStat{6, 3 * 10 + 1 + 2 * 20}));
  EXPECT_EQ(s.compute_infer, (DurationStat{6, 3 * 100 + 2 + 2 * 200}));
  EXPECT_EQ(s.compute_output, (DurationStat{6, 3 * 1000 + 3 + 2 * 2000}));
  ASSERT_EQ(s.batch_stats.size(), 2u);
  EXPECT_EQ(s.batch_stats[0].batch_size, 1u);
  EXPECT_EQ(s.batch_stats[0].compute_infer, (DurationStat{1, 2}));
  EXPECT_EQ(s.batch_stats[1].batch_size, 4u);
  EXPECT_EQ(s.batch_stats[1].compute_input, (DurationStat{2, 30}));
  EXPECT_EQ(s.batch_stats[1].compute_infer, (DurationStat{2, 300}));
  EXPECT_EQ(s.batch_stats[1].compute_output, (DurationStat{2, 3000}));
}

TEST(VersionStatsTest, AnswersQueueAndPipelineInferences) {
  VersionStats stats;
  stats.RecordAnswer(true, 500, 1700000000000);
  stats.RecordAnswer(false, 70, 1700000000005);
  stats.RecordQueue(40);
  stats.RecordInference(1);
  ModelStatistics s = stats.Read();
  EXPECT_EQ(s.success, (DurationStat{1, 500}));
  EXPECT_EQ(s.fail, (DurationStat{1, 70}));
  EXPECT_EQ(s.queue, (DurationStat{1, 40}));
  EXPECT_EQ(s.last_inference_ms, 1700000000005u);
  EXPECT_EQ(s.inference_count, 1u);
  EXPECT_EQ(s.execution_count, 1u);
  EXPECT_TRUE(s.batch_stats.empty());
}

TEST(StatsRegistryTest, KeepsOneStatsPerVersionSortedAndFiltersByName) {
  StatsRegistry registry;
  auto b1 = registry.ForVersion("b", 1);
  EXPECT_EQ(registry.ForVersion("b", 1), b1);
  registry.ForVersion("a", 2)->RecordInference(2);
  registry.ForVersion("a", 10);
  registry.ForVersion("ab", 1);
  auto all = registry.Read();
  ASSERT_EQ(all.size(), 4u);
  EXPECT_EQ(all[0].name, "a");
  EXPECT_EQ(all[0].version, 2);
  EXPECT_EQ(all[0].inference_count, 2u);
  EXPECT_EQ(all[1].version, 10);
  EXPECT_EQ(all[2].name, "ab");
  EXPECT_EQ(all[3].name, "b");
  auto a = registry.Read("a");
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[1].version, 10);
  EXPECT_TRUE(registry.Read("c").empty());
}

// The hooks the serving layer calls record statistics with every metric
// family off, and the same calls feed the Prometheus series when on.
TEST(VersionMetricsTest, HooksFeedStatisticsAndSeriesTogether) {
  auto families = ServingMetrics::Create({});
  ASSERT_TRUE(families.ok());
  for (bool with_series : {false, true}) {
    VersionMetrics m = with_series ? (*families)->ForVersion("m", 1) : VersionMetrics{};
    m.stats = std::make_shared<VersionStats>();
    ASSERT_TRUE(m.CountsRequests());
    const Clock::time_point t0 = Clock::now();
    auto accepted = m.Accepted();
    m.Dequeued(t0, t0 + nanoseconds(700));
    VersionMetrics::RunPhases phases{t0, t0 + nanoseconds(10), t0 + nanoseconds(110), t0 + nanoseconds(1110)};
    m.Executed(phases, /*rows=*/2, /*requests=*/1);
    m.Answered(accepted, true);
    ModelStatistics s = m.stats->Read();
    EXPECT_EQ(s.queue, (DurationStat{1, 700}));
    EXPECT_EQ(s.compute_input, (DurationStat{1, 10}));
    EXPECT_EQ(s.compute_infer, (DurationStat{1, 100}));
    EXPECT_EQ(s.compute_output, (DurationStat{1, 1000}));
    EXPECT_EQ(s.inference_count, 2u);
    EXPECT_EQ(s.success.count, 1u);
    EXPECT_GT(s.last_inference_ms, 1600000000000u);
    ASSERT_EQ(s.batch_stats.size(), 1u);
    EXPECT_EQ(s.batch_stats[0].batch_size, 2u);
  }
  const std::string text = (*families)->Render();
  EXPECT_NE(text.find("ovms_wait_for_infer_req_time_us_count{name=\"m\",version=\"1\"} 1"), std::string::npos);
  EXPECT_NE(text.find("ovms_current_requests{name=\"m\",version=\"1\"} 0"), std::string::npos);
  EXPECT_FALSE(VersionMetrics{}.CountsRequests());
}

}  // namespace
}  // namespace tessera::metrics
