#include "pipeline/pipeline_service.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <condition_variable>
#include <cstring>
#include <mutex>
#include <optional>

#include "core/testing/fake_inference_service.h"
#include "pipeline/pipeline_test_util.h"

namespace tessera::pipeline {
namespace {

using ::testing::StartsWith;
using namespace testing;  // NOLINT: the JSON builders (tessera::pipeline::testing)

// Model "m1" ([1,10] FP32 in/out) whose availability the test switches.
class Catalog : public PipelineModelCatalog {
 public:
  bool IsModelName(const std::string& name) const override { return name == "m1"; }
  Result<PipelineModelInfo> FindModel(const std::string& name, std::optional<int64_t>) const override {
    std::lock_guard lock(mu_);
    if (name != "m1" || !available_) return NotFound("Model with requested name is not found");
    return PipelineModelInfo{ModelSignature{{T("in", {1, 10})}, {T("out", {1, 10})}}, false};
  }
  void SetAvailable(bool available) {
    std::lock_guard lock(mu_);
    available_ = available;
  }

 private:
  mutable std::mutex mu_;
  bool available_ = true;
};

Tensor Floats(std::vector<float> values) {
  std::string bytes(values.size() * sizeof(float), '\0');
  std::memcpy(bytes.data(), values.data(), bytes.size());
  return Tensor::FromBytes(DataType::kFp32, {1, static_cast<int64_t>(values.size())}, std::move(bytes));
}

// m1: out = in + 1.
Result<InferResponse> PlusOne(const InferRequest& request) {
  if (request.model_name != "m1") return NotFound("Model with requested name is not found");
  const Tensor& in = request.inputs.at(0).tensor;
  std::vector<float> out(in.data_as<float>(), in.data_as<float>() + 10);
  for (float& v : out) v += 1;
  InferResponse response;
  response.model_name = request.model_name;
  response.model_version = 1;
  response.outputs.push_back({"out", Floats(out)});
  return response;
}

Result<InferResponse> Call(InferenceService& service, const std::string& name) {
  std::mutex mu;
  std::condition_variable cv;
  std::optional<Result<InferResponse>> result;
  InferRequest request;
  request.model_name = name;
  request.inputs.push_back({name == "m1" ? "in" : "x", Floats(std::vector<float>(10, 1.0f))});
  service.Infer(request, [&](Result<InferResponse> r) {
    std::lock_guard lock(mu);
    result.emplace(std::move(r));
    cv.notify_all();
  });
  std::unique_lock lock(mu);
  EXPECT_TRUE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return result.has_value(); }));
  if (!result) return Internal("no answer");
  return std::move(*result);
}

// p: request.x -> m1 -> add_sub(+10) -> response.y.
ServerConfig Config(bool with_pipeline) {
  ServerConfig config;
  config.custom_node_libraries.push_back({"add_sub", ADD_SUB_LIBRARY});
  std::vector<std::string> pipelines = {
      // Named like a model: never registered.
      Pipeline("m1", {"x"}, {}, {Src("y", "request", "x")})};
  if (with_pipeline) {
    pipelines.push_back(Pipeline(
        "p", {"x"},
        {Dl("dl", "m1", {Src("in", "request", "x")}, {Out("out", "o")}),
         Custom("add", "add_sub", R"({"add_value": "10"})", {Src("input_numbers", "dl", "o")},
                {Out("output_numbers", "sum")})},
        {Src("y", "add", "sum")}));
  }
  config.pipeline_config_json = "[" + Join(pipelines) + "]";
  return config;
}

class PipelineServiceTest : public ::testing::Test {
 protected:
  void SetUp() override { models_.SetHandler(&PlusOne); }
  tessera::testing::FakeInferenceService models_;
  Catalog catalog_;
  PipelineService service_{models_, catalog_, PipelineServiceOptions{2, {}}};
};

TEST_F(PipelineServiceTest, ServesPipelineAfterModels) {
  EXPECT_TRUE(service_.ApplyConfig(Config(true)));
  auto response = Call(service_, "p");
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->model_name, "p");
  EXPECT_EQ(response->model_version, 1);
  ASSERT_EQ(response->outputs.size(), 1u);
  EXPECT_EQ(response->outputs[0].name, "y");
  EXPECT_FLOAT_EQ(response->outputs[0].tensor.data_as<float>()[0], 12.0f);

  // A model name goes to the models, even with a pipeline of that name in the config.
  auto model = Call(service_, "m1");
  ASSERT_TRUE(model.ok());
  EXPECT_EQ(model->model_name, "m1");
  ASSERT_EQ(service_.PipelineStatuses().size(), 1u);

  auto metadata = service_.GetModelMetadata("p", 7);
  ASSERT_TRUE(metadata.ok());
  EXPECT_EQ(metadata->version, 1);
  EXPECT_EQ(metadata->versions, std::vector<int64_t>{1});
  EXPECT_EQ(metadata->platform, "OpenVINO");
  EXPECT_EQ(metadata->signature.inputs, std::vector<TensorInfo>{T("x", {1, 10})});
  ASSERT_EQ(metadata->signature.outputs.size(), 1u);
  EXPECT_EQ(metadata->signature.outputs[0].name, "y");  // the library's shape: any
  auto status = service_.GetModelStatus("p", 3);
  ASSERT_TRUE(status.ok());
  ASSERT_EQ(status->size(), 1u);
  EXPECT_EQ((*status)[0].version, 1);
  EXPECT_EQ((*status)[0].state, VersionState::kAvailable);
  EXPECT_TRUE(service_.ModelReady("p", 0).ok());
  EXPECT_FALSE(service_.ApplyConfig(Config(true)));  // nothing changed
}

TEST_F(PipelineServiceTest, MissingModelMakesPipelineUnavailableUntilItReturns) {
  service_.ApplyConfig(Config(true));
  catalog_.SetAvailable(false);
  EXPECT_TRUE(service_.Revalidate());
  auto response = Call(service_, "p");
  EXPECT_EQ(response.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(response.status().message(),
              StartsWith("Pipeline is not loaded yet; Pipeline definition has reference to missing model; "
                         "pipeline: p; Missing model: m1"));
  auto status = service_.GetModelStatus("p", 0);
  ASSERT_TRUE(status.ok());
  EXPECT_EQ((*status)[0].state, VersionState::kLoading);
  EXPECT_EQ((*status)[0].status.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(service_.ModelReady("p", 0).code(), StatusCode::kUnavailable);
  EXPECT_EQ(service_.GetModelMetadata("p", 0).status().code(), StatusCode::kUnavailable);

  catalog_.SetAvailable(true);
  EXPECT_TRUE(service_.Revalidate());
  EXPECT_TRUE(Call(service_, "p").ok());
}

TEST_F(PipelineServiceTest, RemovedPipelineIsRetired) {
  service_.ApplyConfig(Config(true));
  EXPECT_TRUE(service_.ApplyConfig(Config(false)));
  auto response = Call(service_, "p");
  EXPECT_EQ(response.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(response.status().message(), "Pipeline is retired");
  auto statuses = service_.PipelineStatuses();
  ASSERT_EQ(statuses.size(), 1u);
  EXPECT_EQ(statuses[0].name, "p");
  EXPECT_EQ(statuses[0].versions[0].state, VersionState::kEnd);
  // Back in the config: served again.
  EXPECT_TRUE(service_.ApplyConfig(Config(true)));
  EXPECT_TRUE(Call(service_, "p").ok());
}

TEST_F(PipelineServiceTest, RequestInFlightFinishesAfterRetirement) {
  models_.SetAsync(true);
  models_.SetHold(true);
  service_.ApplyConfig(Config(true));
  std::mutex mu;
  std::condition_variable cv;
  std::optional<Result<InferResponse>> result;
  InferRequest request;
  request.model_name = "p";
  request.inputs.push_back({"x", Floats(std::vector<float>(10, 1.0f))});
  service_.Infer(request, [&](Result<InferResponse> r) {
    std::lock_guard lock(mu);
    result.emplace(std::move(r));
    cv.notify_all();
  });
  service_.ApplyConfig(Config(false));
  models_.SetHold(false);
  std::unique_lock lock(mu);
  ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return result.has_value(); }));
  ASSERT_TRUE(result->ok()) << result->status().ToString();
  EXPECT_FLOAT_EQ((*result)->outputs[0].tensor.data_as<float>()[0], 12.0f);
}

TEST_F(PipelineServiceTest, UnknownNameIsTheModelsAnswer) {
  service_.ApplyConfig(Config(true));
  EXPECT_EQ(Call(service_, "nothing").status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace tessera::pipeline
