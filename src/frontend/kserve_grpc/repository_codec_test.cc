#include "frontend/kserve_grpc/repository_codec.h"

#include <gtest/gtest.h>

namespace tessera::kserve_grpc {
namespace {

TEST(GrpcRepositoryCodecTest, IndexEntriesBecomeModelIndexes) {
  inference::RepositoryIndexResponse out;
  EncodeRepositoryIndex({{"a", 2, ModelReadiness::kReady, ""},
                         {"b", 0, ModelReadiness::kUnavailable, "base path /b does not exist"}},
                        &out);
  ASSERT_EQ(out.models_size(), 2);
  EXPECT_EQ(out.models(0).name(), "a");
  EXPECT_EQ(out.models(0).version(), "2");
  EXPECT_EQ(out.models(0).state(), "READY");
  EXPECT_EQ(out.models(0).reason(), "");
  EXPECT_EQ(out.models(1).version(), "");
  EXPECT_EQ(out.models(1).state(), "UNAVAILABLE");
  EXPECT_EQ(out.models(1).reason(), "base path /b does not exist");
}

TEST(GrpcRepositoryCodecTest, StatisticsCarryEveryField) {
  ModelStatistics s;
  s.name = "m";
  s.version = 3;
  s.last_inference_ms = 1700000000123;
  s.inference_count = 9;
  s.execution_count = 2;
  s.success = {6, 600};
  s.fail = {1, 10};
  s.queue = {6, 60};
  s.compute_input = {6, 1};
  s.compute_infer = {6, 2};
  s.compute_output = {6, 3};
  s.batch_stats = {{1, {1, 4}, {1, 5}, {1, 6}}, {8, {1, 7}, {1, 8}, {1, 9}}};
  inference::ModelStatisticsResponse out;
  EncodeModelStatistics({s}, &out);
  ASSERT_EQ(out.model_stats_size(), 1);
  const auto& m = out.model_stats(0);
  EXPECT_EQ(m.name(), "m");
  EXPECT_EQ(m.version(), "3");
  EXPECT_EQ(m.last_inference(), 1700000000123u);
  EXPECT_EQ(m.inference_count(), 9u);
  EXPECT_EQ(m.execution_count(), 2u);
  EXPECT_EQ(m.inference_stats().success().count(), 6u);
  EXPECT_EQ(m.inference_stats().success().ns(), 600u);
  EXPECT_EQ(m.inference_stats().fail().count(), 1u);
  EXPECT_EQ(m.inference_stats().queue().ns(), 60u);
  EXPECT_EQ(m.inference_stats().compute_input().ns(), 1u);
  EXPECT_EQ(m.inference_stats().compute_infer().ns(), 2u);
  EXPECT_EQ(m.inference_stats().compute_output().ns(), 3u);
  EXPECT_TRUE(m.inference_stats().has_cache_hit());
  EXPECT_EQ(m.inference_stats().cache_hit().count(), 0u);
  ASSERT_EQ(m.batch_stats_size(), 2);
  EXPECT_EQ(m.batch_stats(1).batch_size(), 8u);
  EXPECT_EQ(m.batch_stats(1).compute_input().ns(), 7u);
  EXPECT_EQ(m.batch_stats(1).compute_infer().count(), 1u);
  EXPECT_EQ(m.batch_stats(1).compute_output().ns(), 9u);
}

TEST(GrpcRepositoryCodecTest, ParametersKeepTheirNameAndWhetherBoolean) {
  google::protobuf::Map<std::string, inference::ModelRepositoryParameter> parameters;
  parameters["unload_dependents"].set_bool_param(true);
  parameters["config"].set_string_param("{}");
  parameters["n"].set_int64_param(3);
  auto decoded = DecodeRepositoryParameters(parameters);
  ASSERT_EQ(decoded.size(), 3u);
  EXPECT_EQ(decoded[0].name, "config");
  EXPECT_FALSE(decoded[0].is_bool);
  EXPECT_EQ(decoded[1].name, "n");
  EXPECT_EQ(decoded[2].name, "unload_dependents");
  EXPECT_TRUE(decoded[2].is_bool);
}

}  // namespace
}  // namespace tessera::kserve_grpc
