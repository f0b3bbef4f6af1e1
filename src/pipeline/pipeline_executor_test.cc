#include "pipeline/pipeline_executor.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <optional>

#include "core/testing/fake_inference_service.h"
#include "pipeline/pipeline_test_util.h"

namespace tessera::pipeline {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using namespace testing;  // NOLINT: the JSON builders (tessera::pipeline::testing)

Tensor Floats(Shape shape, std::vector<float> values) {
  std::string bytes(values.size() * sizeof(float), '\0');
  if (!values.empty()) std::memcpy(bytes.data(), values.data(), bytes.size());
  return Tensor::FromBytes(DataType::kFp32, std::move(shape), std::move(bytes));
}

std::vector<float> ToFloats(const Tensor& t) {
  return std::vector<float>(t.data_as<float>(), t.data_as<float>() + t.byte_size() / sizeof(float));
}

// Waits for the one callback of a run.
class Outcome {
 public:
  InferCallback Callback() {
    return [this](Result<InferResponse> r) {
      std::lock_guard<std::mutex> lock(mu_);
      ++calls_;
      result_.emplace(std::move(r));
      cv_.notify_all();
    };
  }
  Result<InferResponse> Wait() {
    std::unique_lock<std::mutex> lock(mu_);
    EXPECT_TRUE(cv_.wait_for(lock, std::chrono::seconds(10), [&] { return result_.has_value(); }));
    if (!result_) return Internal("no answer");
    return *result_;
  }
  int calls() {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_;
  }
  bool answered() {
    std::lock_guard<std::mutex> lock(mu_);
    return result_.has_value();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::optional<Result<InferResponse>> result_;
  int calls_ = 0;
};

// m1: out = in + 1; m2 (registered as m_dyn): out = in * 2; two_in: out = a + b.
Result<InferResponse> Arithmetic(const InferRequest& request) {
  InferResponse response;
  response.model_name = request.model_name;
  auto input = [&](const std::string& name) -> const Tensor* {
    for (const auto& t : request.inputs) {
      if (t.name == name) return &t.tensor;
    }
    return nullptr;
  };
  std::vector<float> out;
  const Tensor* first = input(request.model_name == "two_in" ? "a" : "in");
  if (first == nullptr) return InvalidArgument("missing input");
  std::vector<float> values = ToFloats(*first);
  if (request.model_name == "m1") {
    for (float v : values) out.push_back(v + 1);
  } else if (request.model_name == "m_dyn") {
    for (float v : values) out.push_back(v * 2);
  } else if (request.model_name == "two_in") {
    std::vector<float> b = ToFloats(*input("b"));
    for (size_t i = 0; i < values.size(); ++i) out.push_back(values[i] + b[i]);
  } else if (request.model_name == "split3" || request.model_name == "split_any") {
    // Row k of [n,1,10] is in + k. split3: n = 3 (2 when in[0] < 0);
    // split_any: n = in[0].
    int64_t n = request.model_name == "split3" ? (values[0] < 0 ? 2 : 3) : static_cast<int64_t>(values[0]);
    for (int64_t k = 0; k < n; ++k) {
      for (float v : values) out.push_back(v + k);
    }
    response.outputs.push_back({"out", Floats({n, 1, 10}, out)});
    return response;
  } else if (request.model_name == "split_pair") {
    // [2,1,10]: in, in + 10.
    for (int k = 0; k < 2; ++k) {
      for (float v : values) out.push_back(v + 10 * k);
    }
    response.outputs.push_back({"out", Floats({2, 1, 10}, out)});
    return response;
  } else if (request.model_name == "gather3" || request.model_name == "gather_any") {
    out = values;
  } else if (request.model_name == "ragged") {
    // [1, 1 + in[0]]: shards with different first values differ in shape.
    int64_t width = 1 + static_cast<int64_t>(values[0]);
    response.outputs.push_back({"out", Floats({1, width}, std::vector<float>(width, values[0]))});
    return response;
  } else {
    return NotFound("Model with requested name is not found");
  }
  response.outputs.push_back({"out", Floats(first->shape(), out)});
  return response;
}

class PipelineExecutorTest : public ::testing::Test {
 protected:
  void SetUp() override { models_.SetHandler(&Arithmetic); }

  std::unique_ptr<PipelineExecutor> Make(const std::string& pipeline_json,
                                         PipelineExecutor::Options options = {}) {
    auto all = ParsePipelineDefinitions("[" + pipeline_json + "]");
    EXPECT_TRUE(all.ok()) << all.status().ToString();
    if (!all.ok()) return nullptr;
    auto validated = ValidatePipeline((*all)[0], deps_);
    EXPECT_TRUE(validated.ok()) << validated.status().ToString();
    if (!validated.ok()) return nullptr;
    auto executor = PipelineExecutor::Create((*all)[0], std::move(validated).value(), &models_, std::move(options));
    EXPECT_TRUE(executor.ok()) << executor.status().ToString();
    return executor.ok() ? std::move(executor).value() : nullptr;
  }

  InferRequest Request(std::vector<NamedTensor> inputs) {
    InferRequest request;
    request.model_name = "p";
    request.id = "req-7";
    request.inputs = std::move(inputs);
    return request;
  }

  std::string Chain() {
    return Pipeline("p", {"x"},
                    {Dl("a", "m1", {Src("in", "request", "x")}, {Out("out", "o")}),
                     Dl("b", "m_dyn", {Src("in", "a", "o")}, {Out("out", "o")})},
                    {Src("y", "b", "o")});
  }

  FakeDependencies deps_;
  tessera::testing::FakeInferenceService models_;
};

TEST_F(PipelineExecutorTest, ChainOfTwoModels) {
  auto executor = Make(Chain());
  ASSERT_NE(executor, nullptr);
  InferRequest request = Request({{"x", Floats({1, 10}, std::vector<float>(10, 1.0f))}});
  Outcome outcome;
  executor->Execute(request, outcome.Callback());
  auto response = outcome.Wait();
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->model_name, "p");
  EXPECT_EQ(response->model_version, 1);
  EXPECT_EQ(response->id, "req-7");
  ASSERT_EQ(response->outputs.size(), 1u);
  EXPECT_EQ(response->outputs[0].name, "y");
  EXPECT_EQ(response->outputs[0].tensor.shape(), (Shape{1, 10}));
  EXPECT_EQ(ToFloats(response->outputs[0].tensor), std::vector<float>(10, 4.0f));  // (1 + 1) * 2

  auto calls = models_.calls();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0].model_name, "m1");
  EXPECT_EQ(calls[0].model_version, kDefaultVersion);
  EXPECT_EQ(calls[0].id, "req-7");
  EXPECT_EQ(calls[0].requested_outputs, (std::vector<std::string>{"out"}));
  ASSERT_EQ(calls[0].inputs.size(), 1u);
  EXPECT_EQ(calls[0].inputs[0].name, "in");
  EXPECT_EQ(calls[1].model_name, "m_dyn");
}

TEST_F(PipelineExecutorTest, FanOutRunsBranchesConcurrentlyWithoutBlocking) {
  auto executor = Make(Pipeline("p", {"x"},
                                {Dl("a", "m1", {Src("in", "request", "x")}, {Out("out", "o")}),
                                 Dl("b", "m_dyn", {Src("in", "request", "x")}, {Out("out", "o")}),
                                 Dl("c", "two_in", {Src("a", "a", "o"), Src("b", "b", "o")}, {Out("out", "o")})},
                                {Src("sum", "c", "o"), Src("doubled", "b", "o")}));
  ASSERT_NE(executor, nullptr);
  models_.SetAsync(true);
  models_.SetHold(true);
  InferRequest request = Request({{"x", Floats({1, 10}, std::vector<float>(10, 3.0f))}});
  Outcome outcome;
  executor->Execute(request, outcome.Callback());  // returns with both branches in flight
  ASSERT_TRUE(models_.WaitForCalls(2, std::chrono::seconds(5)));
  EXPECT_EQ(models_.call_count(), 2u);  // c waits for both
  EXPECT_FALSE(outcome.answered());
  models_.SetHold(false);
  auto response = outcome.Wait();
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  ASSERT_EQ(response->outputs.size(), 2u);  // sorted by name
  EXPECT_EQ(response->outputs[0].name, "doubled");
  EXPECT_EQ(ToFloats(response->outputs[0].tensor), std::vector<float>(10, 6.0f));
  EXPECT_EQ(response->outputs[1].name, "sum");
  EXPECT_EQ(ToFloats(response->outputs[1].tensor), std::vector<float>(10, 10.0f));  // (3 + 1) + 3 * 2
  EXPECT_EQ(models_.call_count(), 3u);
}

TEST_F(PipelineExecutorTest, FailingNodeAnswersOnceAfterRunningNodesFinish) {
  auto executor = Make(Pipeline("p", {"x"},
                                {Dl("a", "m1", {Src("in", "request", "x")}, {Out("out", "o")}),
                                 Dl("b", "m_dyn", {Src("in", "request", "x")}, {Out("out", "o")}),
                                 Dl("c", "two_in", {Src("a", "a", "o"), Src("b", "b", "o")}, {Out("out", "o")})},
                                {Src("sum", "c", "o")}));
  ASSERT_NE(executor, nullptr);
  models_.SetHandler([](const InferRequest& r) -> Result<InferResponse> {
    if (r.model_name == "m_dyn") return ResourceExhausted("queue full");
    return Arithmetic(r);
  });
  models_.SetAsync(true);
  // b fails at once; a is still running then, and c never starts.
  models_.SetDelay([](const InferRequest& r) {
    return std::chrono::milliseconds(r.model_name == "m1" ? 50 : 0);
  });
  InferRequest request = Request({{"x", Floats({1, 10}, std::vector<float>(10, 3.0f))}});
  Outcome outcome;
  executor->Execute(request, outcome.Callback());
  auto response = outcome.Wait();
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(response.status().message(), "queue full; pipeline: p; node: b");
  EXPECT_EQ(models_.pending_count(), 0u);  // a had finished before the answer
  ASSERT_TRUE(models_.WaitForIdle(std::chrono::seconds(5)));
  EXPECT_EQ(models_.call_count(), 2u);
  EXPECT_EQ(outcome.calls(), 1);
}

TEST_F(PipelineExecutorTest, CustomNodeFeedsModel) {
  auto executor = Make(Pipeline("p", {"x"},
                                {Custom("add", "add_sub", R"({"add_value":"2","sub_value":"0.5"})",
                                        {Src("input_numbers", "request", "x")}, {Out("output_numbers", "n")}),
                                 Dl("a", "m1", {Src("in", "add", "n")}, {Out("out", "o")})},
                                {Src("y", "a", "o"), Src("added", "add", "n")}));
  ASSERT_NE(executor, nullptr);
  InferRequest request = Request({{"x", Floats({1, 10}, std::vector<float>(10, 1.0f))}});
  Outcome outcome;
  executor->Execute(request, outcome.Callback());
  auto response = outcome.Wait();
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  ASSERT_EQ(response->outputs.size(), 2u);
  EXPECT_EQ(response->outputs[0].name, "added");
  EXPECT_EQ(ToFloats(response->outputs[0].tensor), std::vector<float>(10, 2.5f));
  EXPECT_EQ(response->outputs[1].name, "y");
  EXPECT_EQ(ToFloats(response->outputs[1].tensor), std::vector<float>(10, 3.5f));
}

TEST_F(PipelineExecutorTest, CustomNodeFailureNamesNodeAndPipeline) {
  auto executor = Make(Pipeline("p", {"x"},
                                {Custom("c", "bad", R"({"mode":"exec_fail"})", {Src("in", "request", "x")},
                                        {Out("out", "o")})},
                                {Src("y", "c", "o")}));
  ASSERT_NE(executor, nullptr);
  InferRequest request = Request({{"x", Floats({1, 2}, {1, 2})}});
  Outcome outcome;
  executor->Execute(request, outcome.Callback());
  auto response = outcome.Wait();
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), StatusCode::kInternal);
  EXPECT_THAT(response.status().message(), StartsWith("Custom node failed during execution; node: c; library: "));
  EXPECT_THAT(response.status().message(), HasSubstr("; code: 3; pipeline: p"));
}

TEST_F(PipelineExecutorTest, CustomNodeMissingMappedOutput) {
  auto executor = Make(Pipeline("p", {"x"},
                                {Custom("c", "bad", R"({"mode":"missing_output"})", {Src("in", "request", "x")},
                                        {Out("out", "o")})},
                                {Src("y", "c", "o")}));
  ASSERT_NE(executor, nullptr);
  InferRequest request = Request({{"x", Floats({1, 2}, {1, 2})}});
  Outcome outcome;
  executor->Execute(request, outcome.Callback());
  auto response = outcome.Wait();
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().message(), "Custom node output is missing; node: c; output: out; pipeline: p");
}

TEST_F(PipelineExecutorTest, PassthroughIsZeroCopy) {
  auto executor = Make(Pipeline("p", {"x"}, {}, {Src("y", "request", "x")}));
  ASSERT_NE(executor, nullptr);
  InferRequest request = Request({{"x", Floats({2}, {5, 6})}});
  Outcome outcome;
  executor->Execute(request, outcome.Callback());
  auto response = outcome.Wait();
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  ASSERT_EQ(response->outputs.size(), 1u);
  EXPECT_EQ(response->outputs[0].tensor.data(), request.inputs[0].tensor.data());
  EXPECT_EQ(models_.call_count(), 0u);
}

TEST_F(PipelineExecutorTest, WrongNumberOfInputs) {
  auto executor = Make(Chain());
  ASSERT_NE(executor, nullptr);
  InferRequest request = Request({{"x", Floats({1, 10}, std::vector<float>(10, 0))}, {"z", Floats({1}, {0})}});
  Outcome outcome;
  executor->Execute(request, outcome.Callback());
  auto response = outcome.Wait();
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(response.status().message(), "Invalid number of inputs - Expected: 1; Actual: 2");
  EXPECT_EQ(models_.call_count(), 0u);
}

TEST_F(PipelineExecutorTest, MissingInput) {
  auto executor = Make(Chain());
  ASSERT_NE(executor, nullptr);
  InferRequest request = Request({{"z", Floats({1, 10}, std::vector<float>(10, 0))}});
  Outcome outcome;
  executor->Execute(request, outcome.Callback());
  auto response = outcome.Wait();
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().message(), "Missing input with specific name - Required input: x");
}

TEST_F(PipelineExecutorTest, ManyConcurrentRequests) {
  auto executor = Make(Chain());
  ASSERT_NE(executor, nullptr);
  models_.SetAsync(true);
  constexpr int kRequests = 64;
  std::vector<InferRequest> requests;
  for (int i = 0; i < kRequests; ++i) requests.push_back(Request({{"x", Floats({1, 10}, std::vector<float>(10, i))}}));
  std::vector<Outcome> outcomes(kRequests);
  for (int i = 0; i < kRequests; ++i) executor->Execute(requests[i], outcomes[i].Callback());
  for (int i = 0; i < kRequests; ++i) {
    auto response = outcomes[i].Wait();
    ASSERT_TRUE(response.ok()) << response.status().ToString();
    EXPECT_EQ(ToFloats(response->outputs[0].tensor), std::vector<float>(10, (i + 1) * 2.0f));
  }
}

// --- Demultiplexing and gathering -------------------------------------------

// Runs one request and returns its answer.
Result<InferResponse> RunOnce(const PipelineExecutor& executor, const InferRequest& request) {
  Outcome outcome;
  executor.Execute(request, outcome.Callback());
  auto result = outcome.Wait();
  EXPECT_EQ(outcome.calls(), 1);
  return result;
}

TEST_F(PipelineExecutorTest, RequestShapeCheckedAgainstInputMetadata) {
  auto executor = Make(Chain());
  ASSERT_NE(executor, nullptr);
  auto response = RunOnce(*executor, Request({{"x", Floats({1, 20}, std::vector<float>(20, 0.0f))}}));
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(response.status().message(), "Invalid input shape - Expected: (1,10); Actual: (1,20); input name: x");
  EXPECT_EQ(models_.call_count(), 0u);
}

TEST_F(PipelineExecutorTest, RequestPrecisionCheckedAgainstInputMetadata) {
  auto executor = Make(Chain());
  ASSERT_NE(executor, nullptr);
  auto response = RunOnce(*executor, Request({{"x", Tensor::Allocate(DataType::kInt32, {1, 10})}}));
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(response.status().message(), "Invalid input precision - Expected: FP32; Actual: INT32; input name: x");
  EXPECT_EQ(models_.call_count(), 0u);
}

TEST_F(PipelineExecutorTest, RequestByteSizeCheckedBeforeACustomNode) {
  auto executor = Make(Pipeline("p", {"x"},
                                {Custom("add", "add_sub", "{}", {Src("input_numbers", "request", "x")},
                                        {Out("output_numbers", "n")})},
                                {Src("y", "add", "n")}));
  ASSERT_NE(executor, nullptr);
  std::string bytes(20, '\0');  // (1,10) FP32 needs 40
  auto response = RunOnce(*executor, Request({{"x", Tensor::FromBytes(DataType::kFp32, {1, 10}, bytes)}}));
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(response.status().message(),
            "Invalid content size of tensor proto - Expected: 40 bytes; Actual: 20 bytes; input name: x");
}

TEST_F(PipelineExecutorTest, RequestBytesElementsChecked) {
  auto executor = Make(Pipeline("p", {"x"}, {Dl("a", "m_str", {Src("in", "request", "x")}, {Out("out", "o")})},
                                {Src("y", "a", "o")}));
  ASSERT_NE(executor, nullptr);
  // Shape (2) but one element; then a length prefix running past the end.
  auto one = Tensor::FromBytes(DataType::kBytes, {2}, JoinBytesElements({"abc"}));
  auto response = RunOnce(*executor, Request({{"x", one}}));
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(response.status().message(),
            "Invalid content size of tensor proto - Expected: 2 strings; Actual: 1 strings; input name: x");
  std::string lying = JoinBytesElements({"abc"});
  lying[0] = 100;
  response = RunOnce(*executor, Request({{"x", Tensor::FromBytes(DataType::kBytes, {1}, lying)}}));
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().message(), "Invalid content size of tensor proto - BYTES element length runs past "
                                         "the buffer end; input name: x");
  EXPECT_EQ(models_.call_count(), 0u);
}

TEST_F(PipelineExecutorTest, EncodedImagesPassToTheModelThatDecodesThem) {
  deps_.Add("image", {T("in", {1, 4, 4, 3})}, {T("out", {1, 10})});
  auto executor = Make(Pipeline("p", {"x"}, {Dl("a", "image", {Src("in", "request", "x")}, {Out("out", "o")})},
                                {Src("y", "a", "o")}));
  ASSERT_NE(executor, nullptr);
  models_.SetHandler([](const InferRequest& r) -> Result<InferResponse> {
    InferResponse response;
    response.outputs.push_back({"out", r.inputs[0].tensor});
    return response;
  });
  auto response = RunOnce(*executor, Request({{"x", Tensor::FromBytes(DataType::kBytes, {1},
                                                                       JoinBytesElements({"png"}))}}));
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(models_.call_count(), 1u);
}

TEST_F(PipelineExecutorTest, CustomNodeInputCheckedAgainstItsInputsInfo) {
  // "liar" declares (1,10) but answers (1,1,5) INT32: add_sub declares (1,-1) FP32.
  deps_.Add("liar", {T("in", {1, 10})}, {T("out", {1, 10})});
  auto executor = Make(Pipeline("p", {"x"},
                                {Dl("a", "liar", {Src("in", "request", "x")}, {Out("out", "o")}),
                                 Custom("c", "add_sub", "{}", {Src("input_numbers", "a", "o")},
                                        {Out("output_numbers", "n")})},
                                {Src("y", "c", "n")}));
  ASSERT_NE(executor, nullptr);
  Shape shape{1, 1, 5};
  DataType type = DataType::kFp32;
  models_.SetHandler([&](const InferRequest&) -> Result<InferResponse> {
    InferResponse response;
    response.outputs.push_back({"out", Tensor::Allocate(type, shape)});
    return response;
  });
  InferRequest request = Request({{"x", Floats({1, 10}, std::vector<float>(10, 1.0f))}});
  auto response = RunOnce(*executor, request);
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), StatusCode::kInternal);
  EXPECT_EQ(response.status().message(), "Invalid input shape - Expected: (1,-1); Actual: (1,1,5); input name: "
                                         "input_numbers; pipeline: p; node: c");
  shape = {1, 5};
  type = DataType::kInt32;
  response = RunOnce(*executor, request);
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), StatusCode::kInternal);
  EXPECT_EQ(response.status().message(), "Invalid input precision - Expected: FP32; Actual: INT32; input name: "
                                         "input_numbers; pipeline: p; node: c");
  type = DataType::kFp32;
  response = RunOnce(*executor, request);
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->outputs[0].tensor.shape(), (Shape{1, 5}));
}

std::string SplitThenAddOne(const std::string& split_model, int count, const std::string& extra_nodes = "",
                            const std::string& output_node = "a") {
  std::vector<std::string> nodes = {
      Dl("s", split_model, {Src("in", "request", "x")}, {Out("out", "o")},
         "\"demultiply_count\":" + std::to_string(count)),
      Dl("a", "m1", {Src("in", "s", "o")}, {Out("out", "o")})};
  if (!extra_nodes.empty()) nodes.push_back(extra_nodes);
  return Pipeline("p", {"x"}, nodes, {Src("y", output_node, "o")});
}

TEST_F(PipelineExecutorTest, FixedDemultiplexerGatheredByResponse) {
  auto executor = Make(SplitThenAddOne("split3", 3));
  ASSERT_NE(executor, nullptr);
  auto response = RunOnce(*executor, Request({{"x", Floats({1, 10}, std::vector<float>(10, 1.0f))}}));
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  ASSERT_EQ(response->outputs.size(), 1u);
  const Tensor& y = response->outputs[0].tensor;
  EXPECT_EQ(y.shape(), (Shape{3, 1, 10}));
  std::vector<float> expected;
  for (int k = 0; k < 3; ++k) expected.insert(expected.end(), 10, 1.0f + k + 1);  // shard order kept
  EXPECT_EQ(ToFloats(y), expected);
  auto calls = models_.calls();
  ASSERT_EQ(calls.size(), 4u);  // the split, then m1 once per shard
  for (size_t i = 1; i < calls.size(); ++i) {
    EXPECT_EQ(calls[i].model_name, "m1");
    EXPECT_EQ(calls[i].inputs[0].tensor.shape(), (Shape{1, 10}));
  }
}

TEST_F(PipelineExecutorTest, ShardsRunConcurrently) {
  auto executor = Make(Pipeline("p", {"x"}, {Dl("a", "m1", {Src("in", "request", "x")}, {Out("out", "o")})},
                                {Src("y", "a", "o")}, "\"demultiply_count\": 4"));
  ASSERT_NE(executor, nullptr);
  models_.SetAsync(true);
  models_.SetHold(true);
  InferRequest request = Request({{"x", Floats({4, 1, 10}, std::vector<float>(40, 1.0f))}});
  Outcome outcome;
  executor->Execute(request, outcome.Callback());
  // Every shard's request is in flight at once, none completed.
  bool all_in_flight = models_.WaitForCalls(4, std::chrono::seconds(5));
  EXPECT_TRUE(all_in_flight);
  EXPECT_FALSE(outcome.answered());
  models_.SetHold(false);
  auto response = outcome.Wait();
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->outputs[0].tensor.shape(), (Shape{4, 1, 10}));
}

TEST_F(PipelineExecutorTest, DynamicDemultiplexer) {
  auto executor = Make(SplitThenAddOne("split_any", -1));
  ASSERT_NE(executor, nullptr);
  auto response = RunOnce(*executor, Request({{"x", Floats({1, 10}, std::vector<float>(10, 2.0f))}}));
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->outputs[0].tensor.shape(), (Shape{2, 1, 10}));
  EXPECT_EQ(models_.call_count(), 3u);
}

TEST_F(PipelineExecutorTest, DynamicDemultiplexerWithNoResultsAborts) {
  auto executor = Make(SplitThenAddOne("split_any", -1));
  ASSERT_NE(executor, nullptr);
  auto response = RunOnce(*executor, Request({{"x", Floats({1, 10}, std::vector<float>(10, 0.0f))}}));
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), StatusCode::kAborted);
  EXPECT_EQ(response.status().message(),
            "Pipeline execution aborted due to no content from custom node; pipeline: p; node: s");
  EXPECT_EQ(models_.call_count(), 1u);
}

TEST_F(PipelineExecutorTest, DemultiplexerOutputUnlikeItsCount) {
  auto executor = Make(SplitThenAddOne("split3", 3));
  ASSERT_NE(executor, nullptr);
  auto response = RunOnce(*executor, Request({{"x", Floats({1, 10}, std::vector<float>(10, -1.0f))}}));
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), StatusCode::kInternal);
  EXPECT_EQ(response.status().message(), "Wrong dimension size. Should match demultiply count; pipeline: p; node: s; "
                                         "output: o; shape: (2,1,10); expected: 3");
}

TEST_F(PipelineExecutorTest, ExplicitGatherNode) {
  auto executor = Make(SplitThenAddOne(
      "split3", 3, Dl("g", "gather3", {Src("in", "a", "o")}, {Out("out", "o")}, "\"gather_from_node\":\"s\""),
      "g"));
  ASSERT_NE(executor, nullptr);
  auto response = RunOnce(*executor, Request({{"x", Floats({1, 10}, std::vector<float>(10, 1.0f))}}));
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->outputs[0].tensor.shape(), (Shape{3, 1, 10}));  // gathered once, by g
  auto calls = models_.calls();
  ASSERT_EQ(calls.size(), 5u);
  EXPECT_EQ(calls.back().model_name, "gather3");
  EXPECT_EQ(calls.back().inputs[0].tensor.shape(), (Shape{3, 1, 10}));
}

TEST_F(PipelineExecutorTest, EntryDemultiplexing) {
  auto executor = Make(Pipeline("p", {"x"}, {Dl("a", "m1", {Src("in", "request", "x")}, {Out("out", "o")})},
                                {Src("y", "a", "o")}, "\"demultiply_count\": -1"));
  ASSERT_NE(executor, nullptr);
  std::vector<float> values;
  for (int k = 0; k < 4; ++k) values.insert(values.end(), 10, float(k));
  InferRequest request = Request({{"x", Floats({4, 1, 10}, values)}});
  auto response = RunOnce(*executor, request);
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->outputs[0].tensor.shape(), (Shape{4, 1, 10}));
  for (float& v : values) v += 1;
  EXPECT_EQ(ToFloats(response->outputs[0].tensor), values);
  auto calls = models_.calls();
  ASSERT_EQ(calls.size(), 4u);
  EXPECT_EQ(calls[0].inputs[0].tensor.shape(), (Shape{1, 10}));
}

TEST_F(PipelineExecutorTest, EntryDemultiplexingNeedsThreeDims) {
  auto executor = Make(Pipeline("p", {"x"}, {Dl("a", "m1", {Src("in", "request", "x")}, {Out("out", "o")})},
                                {Src("y", "a", "o")}, "\"demultiply_count\": -1"));
  ASSERT_NE(executor, nullptr);
  auto response = RunOnce(*executor, Request({{"x", Floats({4, 10}, std::vector<float>(40, 0.0f))}}));
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(response.status().message(), "Invalid input shape - Expected: (-1,1,10); Actual: (4,10); input name: x");
  EXPECT_EQ(models_.call_count(), 0u);
}

TEST_F(PipelineExecutorTest, InconsistentShardsCannotBeGathered) {
  auto executor = Make(Pipeline("p", {"x"},
                                {Dl("s", "split3", {Src("in", "request", "x")}, {Out("out", "o")},
                                    "\"demultiply_count\":3"),
                                 Dl("r", "ragged", {Src("in", "s", "o")}, {Out("out", "o")})},
                                {Src("y", "r", "o")}));
  ASSERT_NE(executor, nullptr);
  auto response = RunOnce(*executor, Request({{"x", Floats({1, 10}, std::vector<float>(10, 1.0f))}}));
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), StatusCode::kInternal);
  EXPECT_THAT(response.status().message(),
              StartsWith("Gathered tensor shards dimensions are different; pipeline: p; node: response; input: o;"));
}

TEST_F(PipelineExecutorTest, ShardFailureAnswersOnce) {
  auto executor = Make(SplitThenAddOne("split3", 3));
  ASSERT_NE(executor, nullptr);
  std::atomic<int> m1_calls{0};
  models_.SetHandler([&](const InferRequest& r) -> Result<InferResponse> {
    if (r.model_name == "m1" && ++m1_calls == 2) return Internal("engine failure");
    return Arithmetic(r);
  });
  models_.SetAsync(true);
  auto response = RunOnce(*executor, Request({{"x", Floats({1, 10}, std::vector<float>(10, 1.0f))}}));
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().message(), "engine failure; pipeline: p; node: a");
  EXPECT_TRUE(models_.WaitForIdle(std::chrono::seconds(5)));
}

std::string CustomDemultiplexer(const std::string& params) {
  return Pipeline("p", {"x"},
                  {Custom("d", "dynamic_demultiplex", params, {Src("input_numbers", "request", "x")},
                          {Out("dynamic_demultiplex_results", "rows")}, "\"demultiply_count\": -1"),
                   Dl("a", "m1", {Src("in", "d", "rows")}, {Out("out", "o")})},
                  {Src("y", "a", "o"), Src("rows", "d", "rows")});
}

TEST_F(PipelineExecutorTest, CustomNodeDynamicDemultiplexer) {
  auto executor = Make(CustomDemultiplexer("{}"));
  ASSERT_NE(executor, nullptr);
  EXPECT_EQ(executor->validated().outputs,
            (std::vector<TensorInfo>{T("rows", {-1, 1, -1}), T("y", {-1, 1, 10})}));
  models_.SetAsync(true);
  auto response = RunOnce(*executor, Request({{"x", Floats({1, 10}, std::vector<float>(10, 3.0f))}}));
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  ASSERT_EQ(response->outputs.size(), 2u);
  EXPECT_EQ(response->outputs[0].name, "rows");
  EXPECT_EQ(response->outputs[0].tensor.shape(), (Shape{3, 1, 10}));
  EXPECT_EQ(response->outputs[1].name, "y");
  EXPECT_EQ(response->outputs[1].tensor.shape(), (Shape{3, 1, 10}));
  std::vector<float> expected;
  for (int k = 0; k < 3; ++k) expected.insert(expected.end(), 10, 3.0f + k + 1);
  EXPECT_EQ(ToFloats(response->outputs[1].tensor), expected);
  EXPECT_EQ(models_.call_count(), 3u);
}

TEST_F(PipelineExecutorTest, CustomNodeDemultiplexerWithNoResults) {
  auto executor = Make(CustomDemultiplexer(R"({"count":"0"})"));
  ASSERT_NE(executor, nullptr);
  auto response = RunOnce(*executor, Request({{"x", Floats({1, 10}, std::vector<float>(10, 3.0f))}}));
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), StatusCode::kAborted);
  EXPECT_EQ(response.status().message(),
            "Pipeline execution aborted due to no content from custom node; pipeline: p; node: d");
  EXPECT_EQ(models_.call_count(), 0u);
}

TEST_F(PipelineExecutorTest, ObserverSeesEveryNodeRun) {
  std::mutex mu;
  std::map<std::string, int> runs;
  auto executor = Make(Pipeline("p", {"x"},
                                {Dl("s", "split3", {Src("in", "request", "x")}, {Out("out", "o")},
                                    "\"demultiply_count\":3"),
                                 Dl("a", "m1", {Src("in", "s", "o")}, {Out("out", "o")}),
                                 Custom("c", "add_sub", "{}", {Src("input_numbers", "a", "o")},
                                        {Out("output_numbers", "o")})},
                                {Src("y", "c", "o")}),
                       {[&](const std::string& node, std::chrono::microseconds elapsed) {
                          std::lock_guard<std::mutex> lock(mu);
                          EXPECT_GE(elapsed.count(), 0);
                          ++runs[node];
                        },
                        nullptr});
  ASSERT_NE(executor, nullptr);
  auto response = RunOnce(*executor, Request({{"x", Floats({1, 10}, std::vector<float>(10, 1.0f))}}));
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_EQ(runs, (std::map<std::string, int>{{"a", 3}, {"c", 3}, {"s", 1}}));
}

TEST_F(PipelineExecutorTest, TwoLevelsGatheredOutermostFirst) {
  auto executor = Make(Pipeline("p", {"x"},
                                {Dl("s", "split3", {Src("in", "request", "x")}, {Out("out", "o")},
                                    "\"demultiply_count\":3"),
                                 Dl("t", "split_pair", {Src("in", "s", "o")}, {Out("out", "o")},
                                    "\"demultiply_count\":2"),
                                 Dl("a", "m1", {Src("in", "t", "o")}, {Out("out", "o")})},
                                {Src("y", "a", "o")}));
  ASSERT_NE(executor, nullptr);
  EXPECT_EQ(executor->validated().outputs, (std::vector<TensorInfo>{T("y", {3, 2, 1, 10})}));
  models_.SetAsync(true);
  auto response = RunOnce(*executor, Request({{"x", Floats({1, 10}, std::vector<float>(10, 0.0f))}}));
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->outputs[0].tensor.shape(), (Shape{3, 2, 1, 10}));
  std::vector<float> expected;
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 2; ++j) expected.insert(expected.end(), 10, float(i + 10 * j + 1));
  }
  EXPECT_EQ(ToFloats(response->outputs[0].tensor), expected);
  EXPECT_EQ(models_.call_count(), 1u + 3u + 6u);
}

TEST_F(PipelineExecutorTest, CustomNodesRunOnTheGivenRunner) {
  std::mutex mu;
  std::vector<std::function<void()>> tasks;
  PipelineExecutor::Options options;
  options.custom_node_runner = [&](std::function<void()> task) {
    std::lock_guard<std::mutex> lock(mu);
    tasks.push_back(std::move(task));
  };
  auto executor = Make(Pipeline("p", {"x"},
                                {Custom("add", "add_sub", R"({"add_value":"1"})",
                                        {Src("input_numbers", "request", "x")}, {Out("output_numbers", "n")}),
                                 Dl("a", "m1", {Src("in", "add", "n")}, {Out("out", "o")})},
                                {Src("y", "a", "o")}),
                       std::move(options));
  ASSERT_NE(executor, nullptr);
  InferRequest request = Request({{"x", Floats({1, 10}, std::vector<float>(10, 1.0f))}});
  Outcome outcome;
  executor->Execute(request, outcome.Callback());
  // Execute handed the custom node over and returned.
  std::vector<std::function<void()>> pending;
  {
    std::lock_guard<std::mutex> lock(mu);
    pending.swap(tasks);
  }
  ASSERT_EQ(pending.size(), 1u);
  EXPECT_FALSE(outcome.answered());
  EXPECT_EQ(models_.call_count(), 0u);
  pending[0]();
  auto response = outcome.Wait();
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(ToFloats(response->outputs[0].tensor), std::vector<float>(10, 3.0f));
}

// --- "empty_demultiplex": "empty_result" ---------------------------------------

TEST_F(PipelineExecutorTest, EmptyResultInsteadOfNoContentError) {
  auto executor = Make(Pipeline("p", {"x"},
                                {Dl("s", "split_any", {Src("in", "request", "x")}, {Out("out", "o")},
                                    "\"demultiply_count\":-1"),
                                 Dl("a", "m1", {Src("in", "s", "o")}, {Out("out", "o")})},
                                {Src("y", "a", "o")}, "\"empty_demultiplex\": \"empty_result\""));
  ASSERT_NE(executor, nullptr);
  auto response = RunOnce(*executor, Request({{"x", Floats({1, 10}, std::vector<float>(10, 0.0f))}}));
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->model_name, "p");
  ASSERT_EQ(response->outputs.size(), 1u);
  EXPECT_EQ(response->outputs[0].name, "y");
  EXPECT_EQ(response->outputs[0].tensor.dtype(), DataType::kFp32);
  EXPECT_EQ(response->outputs[0].tensor.shape(), (Shape{0, 1, 10}));
  EXPECT_EQ(response->outputs[0].tensor.byte_size(), 0u);
  EXPECT_EQ(models_.call_count(), 1u);
}

TEST_F(PipelineExecutorTest, EmptyResultWithEntryDemultiplexing) {
  auto executor = Make(Pipeline("p", {"x"}, {Dl("a", "m1", {Src("in", "request", "x")}, {Out("out", "o")})},
                                {Src("y", "a", "o"), Src("echo", "request", "x")},
                                "\"demultiply_count\": -1, \"empty_demultiplex\": \"empty_result\""));
  ASSERT_NE(executor, nullptr);
  InferRequest request = Request({{"x", Floats({0, 1, 10}, {})}});
  auto response = RunOnce(*executor, request);
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  ASSERT_EQ(response->outputs.size(), 2u);
  EXPECT_EQ(response->outputs[0].name, "echo");
  EXPECT_EQ(response->outputs[0].tensor.shape(), (Shape{0, 1, 10}));
  EXPECT_EQ(response->outputs[1].name, "y");
  EXPECT_EQ(response->outputs[1].tensor.shape(), (Shape{0, 1, 10}));
  EXPECT_EQ(models_.call_count(), 0u);
}

TEST_F(PipelineExecutorTest, EmptyResultDoesNotApplyToExplicitGather) {
  auto executor = Make(Pipeline("p", {"x"},
                                {Dl("s", "split_any", {Src("in", "request", "x")}, {Out("out", "o")},
                                    "\"demultiply_count\":-1"),
                                 Dl("a", "m1", {Src("in", "s", "o")}, {Out("out", "o")}),
                                 Dl("g", "gather_any", {Src("in", "a", "o")}, {Out("out", "o")},
                                    "\"gather_from_node\":\"s\"")},
                                {Src("y", "g", "o")}, "\"empty_demultiplex\": \"empty_result\""));
  ASSERT_NE(executor, nullptr);
  auto response = RunOnce(*executor, Request({{"x", Floats({1, 10}, std::vector<float>(10, 0.0f))}}));
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), StatusCode::kAborted);
}

}  // namespace
}  // namespace tessera::pipeline
