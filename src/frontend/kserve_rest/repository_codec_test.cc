#include "frontend/kserve_rest/repository_codec.h"

#include <gtest/gtest.h>

namespace tessera::kserve_rest {
namespace {

TEST(RestRepositoryCodecTest, IndexRequestIsEmptyOrAnObjectWithReady) {
  EXPECT_EQ(*DecodeRepositoryIndexRequest(""), false);
  EXPECT_EQ(*DecodeRepositoryIndexRequest(" \r\n"), false);
  EXPECT_EQ(*DecodeRepositoryIndexRequest("{}"), false);
  EXPECT_EQ(*DecodeRepositoryIndexRequest(R"({"ready": true})"), true);
  EXPECT_EQ(*DecodeRepositoryIndexRequest(R"({"ready": false})"), false);
}

TEST(RestRepositoryCodecTest, BadIndexRequestsAreNamed) {
  auto message = [](std::string_view body) { return DecodeRepositoryIndexRequest(body).status().message(); };
  EXPECT_EQ(message(R"({"ready": "yes"})"), "'ready' must be a boolean");
  EXPECT_EQ(message(R"({"ready": true, "repo": "x"})"),
            "Unknown key 'repo' in the repository index request (allowed: ready)");
  EXPECT_EQ(message("[]"), "The repository index request must be a JSON object");
  EXPECT_EQ(message("{"),
            "Invalid JSON in the repository index request at offset 1: Missing a name for object member.");
  EXPECT_EQ(message(std::string("{}\0", 3)),
            "Invalid JSON in the repository index request: NUL character at offset 2");
  EXPECT_EQ(message(std::string(70, '[') + std::string(70, ']')), "JSON nesting deeper than 64 levels at offset 64");
  EXPECT_EQ(DecodeRepositoryIndexRequest("{").status().code(), StatusCode::kInvalidArgument);
}

TEST(RestRepositoryCodecTest, ModelRequestCarriesItsParameters) {
  EXPECT_TRUE(DecodeRepositoryModelRequest("")->empty());
  EXPECT_TRUE(DecodeRepositoryModelRequest("{}")->empty());
  auto parameters =
      DecodeRepositoryModelRequest(R"({"parameters": {"unload_dependents": true, "config": "{}", "n": 3}})");
  ASSERT_TRUE(parameters.ok());
  ASSERT_EQ(parameters->size(), 3u);
  EXPECT_EQ((*parameters)[0].name, "unload_dependents");
  EXPECT_TRUE((*parameters)[0].is_bool);
  EXPECT_EQ((*parameters)[1].name, "config");
  EXPECT_FALSE((*parameters)[1].is_bool);
  EXPECT_EQ(DecodeRepositoryModelRequest(R"({"parameters": []})").status().message(),
            "'parameters' must be a JSON object");
  EXPECT_EQ(DecodeRepositoryModelRequest(R"({"parameters": {"a": null}})").status().message(),
            "Parameter 'a' must be a boolean, a number or a string");
  EXPECT_EQ(DecodeRepositoryModelRequest(R"({"model": "x"})").status().message(),
            "Unknown key 'model' in the repository request (allowed: parameters)");
}

TEST(RestRepositoryCodecTest, ParametersAreCheckedByKind) {
  EXPECT_TRUE(CheckRepositoryParameters(true, {{"unload_dependents", true}}).ok());
  EXPECT_EQ(CheckRepositoryParameters(true, {{"unload_dependents", false}}).message(),
            "Parameter 'unload_dependents' must be a boolean");
  EXPECT_EQ(CheckRepositoryParameters(false, {{"unload_dependents", true}}).message(),
            "Unknown parameter 'unload_dependents' of a model load request");
  EXPECT_EQ(CheckRepositoryParameters(false, {{"config", false}}).code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(CheckRepositoryParameters(false, {}).ok());
}

TEST(RestRepositoryCodecTest, IndexIsTritonsArray) {
  EXPECT_EQ(EncodeRepositoryIndex({}), "[]");
  EXPECT_EQ(EncodeRepositoryIndex({{"a", 3, ModelReadiness::kLoading, ""},
                                   {"p", 1, ModelReadiness::kUnloading, "unloaded"},
                                   {"q\"", 0, ModelReadiness::kUnavailable, "no version"}}),
            R"([{"name":"a","version":"3","state":"LOADING","reason":""},)"
            R"({"name":"p","version":"1","state":"UNLOADING","reason":"unloaded"},)"
            R"({"name":"q\"","state":"UNAVAILABLE","reason":"no version"}])");
}

TEST(RestRepositoryCodecTest, StatisticsCarryEveryTritonField) {
  ModelStatistics s;
  s.name = "m";
  s.version = 2;
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
  EXPECT_EQ(EncodeModelStatistics({s}),
            R"({"model_stats":[{"name":"m","version":"2","last_inference":1700000000123,)"
            R"("inference_count":9,"execution_count":2,"inference_stats":{)"
            R"("success":{"count":6,"ns":600},"fail":{"count":1,"ns":10},"queue":{"count":6,"ns":60},)"
            R"("compute_input":{"count":6,"ns":1},"compute_infer":{"count":6,"ns":2},)"
            R"("compute_output":{"count":6,"ns":3},"cache_hit":{"count":0,"ns":0},)"
            R"("cache_miss":{"count":0,"ns":0}},"batch_stats":[)"
            R"({"batch_size":1,"compute_input":{"count":1,"ns":4},"compute_infer":{"count":1,"ns":5},)"
            R"("compute_output":{"count":1,"ns":6}},)"
            R"({"batch_size":8,"compute_input":{"count":1,"ns":7},"compute_infer":{"count":1,"ns":8},)"
            R"("compute_output":{"count":1,"ns":9}}]}]})");
  EXPECT_EQ(EncodeModelStatistics({}), R"({"model_stats":[]})");
}

}  // namespace
}  // namespace tessera::kserve_rest
