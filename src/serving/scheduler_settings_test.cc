#include "serving/scheduler_settings.h"

#include <gtest/gtest.h>

namespace tessera {
namespace {

// 8 cores, server default of 8 workers, queue 4096, inline runs up to 100 us.
constexpr SchedulerDefaults kDefaults{8, 8, 4096, std::chrono::microseconds(100)};

ModelConfig WithPlugin(std::map<std::string, std::string> plugin, int nireq = 0) {
  ModelConfig config;
  config.plugin_config = std::move(plugin);
  config.nireq = nireq;
  return config;
}

SchedulerSettings Resolve(const ModelConfig& config) {
  auto settings = ResolveSchedulerSettings(config, kDefaults);
  EXPECT_TRUE(settings.ok()) << settings.status().message();
  return settings.ok() ? *settings : SchedulerSettings{};
}

TEST(ResolveSchedulerSettingsTest, DefaultsSplitTheCoresAmongWorkers) {
  SchedulerSettings s = Resolve(ModelConfig{});
  EXPECT_EQ(s.nireq, 8);
  EXPECT_EQ(s.intra_op_threads, 1);
  EXPECT_EQ(s.max_queue, 4096u);
  EXPECT_FALSE(s.batching.has_value());
  EXPECT_EQ(s.inline_run_max, std::chrono::microseconds(100));  // the server's, whatever the config
  EXPECT_EQ(Resolve(WithPlugin({}, 2)).intra_op_threads, 4);
  EXPECT_EQ(Resolve(WithPlugin({}, 3)).intra_op_threads, 2);
  EXPECT_EQ(Resolve(WithPlugin({}, 16)).intra_op_threads, 1);
}

TEST(ResolveSchedulerSettingsTest, PluginKeys) {
  EXPECT_EQ(Resolve(WithPlugin({{"INFERENCE_NUM_THREADS", "3"}}, 2)).intra_op_threads, 3);
  SchedulerSettings streams = Resolve(WithPlugin({{"NUM_STREAMS", "2"}}));
  EXPECT_EQ(streams.nireq, 2);
  EXPECT_EQ(streams.intra_op_threads, 4);
  EXPECT_EQ(Resolve(WithPlugin({{"NUM_STREAMS", "2"}}, 5)).nireq, 5);  // nireq wins
  EXPECT_EQ(Resolve(WithPlugin({{"NUM_STREAMS", "AUTO"}})).nireq, 8);
  SchedulerSettings latency = Resolve(WithPlugin({{"PERFORMANCE_HINT", "LATENCY"}}));
  EXPECT_EQ(latency.nireq, 1);
  EXPECT_EQ(latency.intra_op_threads, 8);
  EXPECT_EQ(Resolve(WithPlugin({{"PERFORMANCE_HINT", "THROUGHPUT"}})).nireq, 8);
}

TEST(ResolveSchedulerSettingsTest, QueueAndBatchingComeFromTheConfig) {
  ModelConfig config;
  config.max_queue_size = 7;
  config.dynamic_batching = DynamicBatchingConfig{4, 100, {2}};
  SchedulerSettings s = Resolve(config);
  EXPECT_EQ(s.max_queue, 7u);
  EXPECT_EQ(s.batching, config.dynamic_batching);
}

TEST(ResolveSchedulerSettingsTest, MalformedValuesAreNamed) {
  EXPECT_EQ(ResolveSchedulerSettings(WithPlugin({{"INFERENCE_NUM_THREADS", "two"}}), kDefaults).status(),
            InvalidArgument("plugin_config INFERENCE_NUM_THREADS must be a positive integer (got \"two\")"));
  EXPECT_EQ(ResolveSchedulerSettings(WithPlugin({{"INFERENCE_NUM_THREADS", "0"}}), kDefaults).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(ResolveSchedulerSettings(WithPlugin({{"NUM_STREAMS", "-1"}}), kDefaults).status(),
            InvalidArgument("plugin_config NUM_STREAMS must be a positive integer or AUTO (got \"-1\")"));
  EXPECT_EQ(ResolveSchedulerSettings(WithPlugin({{"PERFORMANCE_HINT", "FAST"}}), kDefaults).status(),
            InvalidArgument("plugin_config PERFORMANCE_HINT must be LATENCY or THROUGHPUT (got \"FAST\")"));
}

}  // namespace
}  // namespace tessera
