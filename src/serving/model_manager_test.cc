#include "serving/model_manager.h"

#include <gtest/gtest.h>

#include <chrono>
#include <deque>
#include <future>
#include <thread>

#include "repository/testing/in_memory_file_system.h"
#include "serving/serving_service.h"
#include "serving/testing/fake_backend.h"

namespace tessera {
namespace {

using namespace std::chrono_literals;

class ModelManagerTest : public ::testing::Test {
 protected:
  ModelManagerTest() {
    auto backend = std::make_unique<FakeBackend>(fs_);
    backend_ = backend.get();
    backends_.Add(std::move(backend));
    manager_ = std::make_unique<ModelManager>(fs_, backends_, ManagerOptions{1, 16});
    service_ = std::make_unique<ServingService>(*manager_);
  }

  void AddVersion(const std::string& model, int64_t v, const std::string& text) {
    fs_.AddFile("/repo/" + model + "/" + std::to_string(v) + "/model.fake", text);
  }

  static ServerConfig Models(std::vector<ModelConfig> models) {
    ServerConfig config;
    config.models = std::move(models);
    return config;
  }

  static ModelConfig Config(const std::string& name, VersionPolicy policy = {}) {
    ModelConfig c;
    c.name = name;
    c.base_path = "/repo/" + name;
    c.version_policy = policy;
    return c;
  }

  // Runs one inference of x = {1, 2} and returns y[0] (x[0] + offset).
  Result<float> InferFirst(const std::string& model, int64_t version = kDefaultVersion) {
    static const float x[2] = {1.f, 2.f};
    InferRequest request;
    request.model_name = model;
    request.model_version = version;
    request.inputs.push_back({"x", Tensor::Borrow(DataType::kFp32, {1, 2}, x, sizeof(x))});
    std::promise<Result<InferResponse>> promise;
    service_->Infer(request, [&](Result<InferResponse> r) { promise.set_value(std::move(r)); });
    auto response = promise.get_future().get();
    if (!response.ok()) return response.status();
    return response->outputs.at(0).tensor.data_as<float>()[0];
  }

  // One request in flight: x of shape (rows, width) filled with `value`.
  struct Call {
    InferRequest request;
    std::vector<float> x;
    std::promise<Result<InferResponse>> promise;
    std::future<Result<InferResponse>> result = promise.get_future();
  };

  // Sends a request without waiting for it; the call lives in calls_.
  Call& Send(const std::string& model, float value, int64_t rows = 1, int64_t width = 2) {
    Call& call = calls_.emplace_back();
    call.request.model_name = model;
    call.request.id = std::to_string(calls_.size());
    call.x.assign(rows * width, value);
    call.request.inputs.push_back({"x", Tensor::Borrow(DataType::kFp32, {rows, width}, call.x.data(),
                                                       call.x.size() * sizeof(float))});
    service_->Infer(call.request, [&call](Result<InferResponse> r) { call.promise.set_value(std::move(r)); });
    return call;
  }

  // Applies a one-model config whose model "m" batches up to `max_rows`.
  void ServeBatched(const std::string& model_text, int64_t max_rows = 8) {
    AddVersion("m", 1, model_text);
    ModelConfig config = Config("m");
    config.nireq = 1;
    config.dynamic_batching = DynamicBatchingConfig{max_rows, 0, {}};
    manager_->ApplyConfig(Models({config}));
    ASSERT_EQ(StateOf("m", 1), VersionState::kAvailable);
    // Warm-up: one row, then a full batch.
    ASSERT_EQ(backend_->runs().rows(), (std::vector<int64_t>{1, max_rows}));
    backend_->runs().Clear();
  }

  // Checks that `call` got y = x + offset in its own shape and id.
  static void ExpectAnswer(Call& call, float offset) {
    auto response = call.result.get();
    ASSERT_TRUE(response.ok()) << response.status().ToString();
    EXPECT_EQ(response->id, call.request.id);
    const Tensor& y = response->outputs.at(0).tensor;
    EXPECT_EQ(y.shape(), call.request.inputs[0].tensor.shape());
    for (int64_t i = 0; i < y.element_count(); ++i) EXPECT_EQ(y.data_as<float>()[i], call.x[i] + offset);
  }

  VersionState StateOf(const std::string& model, int64_t v) {
    auto statuses = manager_->GetStatus(model, v);
    EXPECT_TRUE(statuses.ok());
    return statuses.ok() ? statuses->at(0).state : VersionState::kStart;
  }

  // Waits (bounded) until a retired version reaches END.
  bool WaitForState(const std::string& model, int64_t v, VersionState want) {
    for (int i = 0; i < 400; ++i) {
      if (StateOf(model, v) == want) return true;
      std::this_thread::sleep_for(5ms);
    }
    return false;
  }

  std::deque<Call> calls_;  // destroyed after the manager has answered every call
  InMemoryFileSystem fs_;
  BackendRegistry backends_;
  FakeBackend* backend_ = nullptr;
  std::unique_ptr<ModelManager> manager_;
  std::unique_ptr<ServingService> service_;
};

TEST_F(ModelManagerTest, DefaultPolicyServesHighestVersion) {
  AddVersion("m", 1, "offset=10");
  AddVersion("m", 2, "offset=20");
  fs_.AddDirectory("/repo/m/not_a_version");
  EXPECT_TRUE(manager_->ApplyConfig(Models({Config("m")})));
  EXPECT_EQ(*InferFirst("m"), 21.f);
  EXPECT_EQ(InferFirst("m", 1).status().message(), "Model with requested version is not found");
  auto statuses = *manager_->GetStatus("m", kDefaultVersion);
  ASSERT_EQ(statuses.size(), 1u);
  EXPECT_EQ(statuses[0].version, 2);
  EXPECT_EQ(statuses[0].state, VersionState::kAvailable);
}

TEST_F(ModelManagerTest, AllAndSpecificPolicies) {
  for (int v : {1, 2, 3}) AddVersion("m", v, "offset=" + std::to_string(v * 10));
  VersionPolicy all{VersionPolicy::Kind::kAll, 1, {}};
  VersionPolicy specific{VersionPolicy::Kind::kSpecific, 1, {1, 3, 7}};
  manager_->ApplyConfig(Models({Config("m", all)}));
  EXPECT_EQ(*InferFirst("m", 1), 11.f);
  EXPECT_EQ(*InferFirst("m", 2), 21.f);
  EXPECT_EQ(*InferFirst("m"), 31.f);

  manager_->ApplyConfig(Models({Config("m", specific)}));
  EXPECT_TRUE(WaitForState("m", 2, VersionState::kEnd));
  EXPECT_EQ(*InferFirst("m", 1), 11.f);
  EXPECT_EQ(InferFirst("m", 2).status().message(), "Model with requested version is retired");
  EXPECT_EQ(InferFirst("m", 2).status().code(), StatusCode::kNotFound);
}

TEST_F(ModelManagerTest, NewVersionReplacesOldAfterRefresh) {
  AddVersion("m", 1, "offset=10");
  manager_->ApplyConfig(Models({Config("m")}));
  EXPECT_FALSE(manager_->RefreshVersions());
  AddVersion("m", 2, "offset=20");
  EXPECT_TRUE(manager_->RefreshVersions());
  EXPECT_EQ(*InferFirst("m"), 21.f);
  EXPECT_TRUE(WaitForState("m", 1, VersionState::kEnd));

  fs_.Remove("/repo/m/2");
  AddVersion("m", 1, "offset=10");
  EXPECT_TRUE(manager_->RefreshVersions());
  EXPECT_EQ(*InferFirst("m"), 11.f);  // version 1 is back
  EXPECT_TRUE(WaitForState("m", 2, VersionState::kEnd));
}

TEST_F(ModelManagerTest, RetiredVersionFinishesRequestsInFlight) {
  AddVersion("m", 1, "offset=10\nsleep_ms=300");
  manager_->ApplyConfig(Models({Config("m")}));
  auto slow = std::async(std::launch::async, [&] { return InferFirst("m"); });
  std::this_thread::sleep_for(100ms);  // the request is running on version 1
  AddVersion("m", 2, "offset=20");
  manager_->RefreshVersions();
  EXPECT_EQ(StateOf("m", 1), VersionState::kUnloading);
  EXPECT_EQ(*InferFirst("m"), 21.f);
  auto first = slow.get();
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(*first, 11.f);
  EXPECT_TRUE(WaitForState("m", 1, VersionState::kEnd));
}

TEST_F(ModelManagerTest, FailedLoadIsAVersionStateAndNotRetriedByPolling) {
  AddVersion("bad", 1, "fail");
  AddVersion("good", 1, "offset=1");
  manager_->ApplyConfig(Models({Config("bad"), Config("good")}));
  auto statuses = *manager_->GetStatus("bad", 1);
  EXPECT_EQ(statuses[0].state, VersionState::kLoading);
  EXPECT_EQ(statuses[0].status.code(), StatusCode::kUnknown);
  EXPECT_EQ(statuses[0].status.message(), "fake load failure");
  EXPECT_EQ(InferFirst("bad").status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(*InferFirst("good"), 2.f);
  int loads = backend_->loads();
  manager_->RefreshVersions();
  EXPECT_EQ(backend_->loads(), loads);
}

TEST_F(ModelManagerTest, ConfigAddsRemovesAndReloadsModels) {
  AddVersion("a", 1, "offset=1");
  AddVersion("b", 1, "offset=2");
  manager_->ApplyConfig(Models({Config("a")}));
  EXPECT_EQ(InferFirst("b").status().message(), "Model with requested name is not found");

  EXPECT_TRUE(manager_->ApplyConfig(Models({Config("a"), Config("b")})));
  EXPECT_EQ(*InferFirst("b"), 3.f);
  EXPECT_FALSE(manager_->ApplyConfig(Models({Config("a"), Config("b")})));

  int loads = backend_->loads();
  ModelConfig changed = Config("a");
  changed.nireq = 3;
  EXPECT_TRUE(manager_->ApplyConfig(Models({changed, Config("b")})));
  EXPECT_EQ(backend_->loads(), loads + 1);
  EXPECT_EQ(*InferFirst("a"), 2.f);

  EXPECT_TRUE(manager_->ApplyConfig(Models({Config("b")})));
  EXPECT_TRUE(WaitForState("a", 1, VersionState::kEnd));
  EXPECT_EQ(InferFirst("a").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(manager_->ModelNames(), (std::vector<std::string>{"a", "b"}));
}

TEST_F(ModelManagerTest, MetadataDescribesRequestedVersion) {
  AddVersion("m", 1, "offset=1");
  AddVersion("m", 2, "offset=2");
  manager_->ApplyConfig(Models({Config("m", {VersionPolicy::Kind::kAll, 1, {}})}));
  auto md = manager_->GetMetadata("m", 1);
  ASSERT_TRUE(md.ok());
  EXPECT_EQ(md->version, 1);
  EXPECT_EQ(md->versions, (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(md->platform, "fake");
  EXPECT_EQ(md->signature.inputs.at(0).name, "x");
  EXPECT_EQ(manager_->GetMetadata("m", kDefaultVersion)->version, 2);
}

TEST_F(ModelManagerTest, ServiceRefusesRequestsWhenStopping) {
  AddVersion("m", 1, "offset=1");
  manager_->ApplyConfig(Models({Config("m")}));
  EXPECT_FALSE(service_->IsReady());
  service_->SetReady();
  EXPECT_TRUE(service_->IsReady());
  EXPECT_TRUE(service_->ModelReady("m", 1).ok());
  EXPECT_EQ(service_->ModelReady("m", 5).code(), StatusCode::kNotFound);
  EXPECT_EQ(service_->ModelReady("x", 1).code(), StatusCode::kNotFound);
  service_->StopAccepting();
  EXPECT_EQ(InferFirst("m").status().code(), StatusCode::kUnavailable);
}

TEST_F(ModelManagerTest, InvalidRequestsAreRejectedBeforeQueueing) {
  AddVersion("m", 1, "offset=1");
  manager_->ApplyConfig(Models({Config("m")}));
  InferRequest request;
  request.model_name = "m";
  request.inputs.push_back({"x", Tensor::Allocate(DataType::kFp32, {1, 3})});
  std::promise<Status> promise;
  service_->Infer(request, [&](Result<InferResponse> r) { promise.set_value(r.status()); });
  Status s = promise.get_future().get();
  EXPECT_EQ(s.message(), "Invalid input shape - Expected: (-1,2); Actual: (1,3); input name: x");
}

// --- Scheduling and dynamic batching through the manager ----------------

TEST_F(ModelManagerTest, ConcurrentRequestsAreBatchedAndEachGetsItsOwnRows) {
  ServeBatched("offset=100\nsleep_ms=300");
  Send("m", 0);  // the only worker runs this one while the rest queue up
  while (backend_->runs().rows().empty()) std::this_thread::sleep_for(1ms);
  for (int i = 1; i <= 5; ++i) Send("m", static_cast<float>(i), i % 2 + 1);
  for (auto& call : calls_) ExpectAnswer(call, 100);
  EXPECT_EQ(backend_->runs().rows(), (std::vector<int64_t>{1, 8}));  // 2+1+2+1+2 rows in one run
}

TEST_F(ModelManagerTest, AnEngineErrorInABatchFailsOnlyItsRequest) {
  ServeBatched("offset=1\nsleep_ms=300\nfail_negative");
  Send("m", 0);
  while (backend_->runs().rows().empty()) std::this_thread::sleep_for(1ms);
  Call& good = Send("m", 5);
  Call& bad = Send("m", -5);
  Call& also_good = Send("m", 7);
  ExpectAnswer(calls_.front(), 1);
  ExpectAnswer(good, 1);
  ExpectAnswer(also_good, 1);
  auto failed = bad.result.get();
  EXPECT_EQ(failed.status(), Internal("fake engine failure: negative input"));
  // The joined run failed, then each request ran on its own.
  EXPECT_EQ(backend_->runs().rows(), (std::vector<int64_t>{1, 3, 1, 1, 1}));
}

TEST_F(ModelManagerTest, AnInvalidRequestIsRefusedBeforeItCanJoinABatch) {
  ServeBatched("offset=1\nsleep_ms=50");
  Send("m", 0);
  while (backend_->runs().rows().empty()) std::this_thread::sleep_for(1ms);
  Call& good = Send("m", 2);
  Call& wrong_width = Send("m", 2, 1, 3);
  EXPECT_EQ(wrong_width.result.get().status(),
            InvalidArgument("Invalid input shape - Expected: (-1,2); Actual: (1,3); input name: x"));
  ExpectAnswer(good, 1);
}

TEST_F(ModelManagerTest, RequestsOfOtherWidthsAreNotMerged) {
  ServeBatched("any_width\noffset=1\nsleep_ms=300");
  Send("m", 0);
  while (backend_->runs().rows().empty()) std::this_thread::sleep_for(1ms);
  Send("m", 1, 1, 2);
  Send("m", 2, 1, 3);
  Send("m", 3, 2, 2);
  Send("m", 4, 1, 3);
  for (auto& call : calls_) ExpectAnswer(call, 1);
  EXPECT_EQ(backend_->runs().rows(), (std::vector<int64_t>{1, 3, 2}));
}

TEST_F(ModelManagerTest, BatchingAModelWithAFixedBatchDimFailsItsLoad) {
  AddVersion("m", 1, "fixed_batch");
  ModelConfig config = Config("m");
  config.dynamic_batching = DynamicBatchingConfig{};
  manager_->ApplyConfig(Models({config}));
  auto status = manager_->GetStatus("m", 1)->at(0);
  EXPECT_EQ(status.state, VersionState::kLoading);
  EXPECT_EQ(status.status.message(),
            "dynamic_batching needs a dynamic first dimension (-1) on every input; input x has shape (1,2)");
}

TEST_F(ModelManagerTest, QueueLimitComesFromTheModelConfig) {
  AddVersion("m", 1, "sleep_ms=200");
  ModelConfig config = Config("m");
  config.nireq = 1;
  config.max_queue_size = 1;
  manager_->ApplyConfig(Models({config}));
  backend_->runs().Clear();
  Send("m", 0);
  while (backend_->runs().rows().empty()) std::this_thread::sleep_for(1ms);
  Call& queued = Send("m", 1);
  Call& refused = Send("m", 2);
  EXPECT_EQ(refused.result.get().status(),
            ResourceExhausted("Request queue of m is full (1 requests waiting)"));
  ExpectAnswer(queued, 0);
}

TEST_F(ModelManagerTest, PluginConfigSetsThreadsOrFailsTheLoad) {
  AddVersion("m", 1, "offset=1");
  ModelConfig config = Config("m");
  config.plugin_config = {{"INFERENCE_NUM_THREADS", "3"}};
  manager_->ApplyConfig(Models({config}));
  EXPECT_EQ(backend_->last_intra_op_threads(), 3);
  EXPECT_EQ(*InferFirst("m"), 2.f);

  config.plugin_config = {{"INFERENCE_NUM_THREADS", "many"}};
  manager_->ApplyConfig(Models({config}));
  EXPECT_EQ(*InferFirst("m"), 2.f);  // the failed reload keeps the old load serving
  AddVersion("m", 2, "offset=2");
  manager_->RefreshVersions();
  auto status = manager_->GetStatus("m", 2)->at(0);
  EXPECT_EQ(status.status.message(),
            "plugin_config INFERENCE_NUM_THREADS must be a positive integer (got \"many\")");
}

}  // namespace
}  // namespace tessera
