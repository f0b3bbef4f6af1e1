#include "serving/model_manager.h"

#include <gtest/gtest.h>

#include <chrono>
#include <deque>
#include <future>
#include <optional>
#include <thread>

#include "metrics/version_stats.h"
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
    ManagerOptions options{1, 16};
    options.stats = &stats_;
    manager_ = std::make_unique<ModelManager>(fs_, backends_, options);
    service_ = std::make_unique<ServingService>(*manager_);
    service_->SetReady();
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

  // The statistics of the model "m" version 1.
  ModelStatistics StatsOfM() {
    auto stats = stats_.Read("m");
    EXPECT_EQ(stats.size(), 1u);
    return stats.empty() ? ModelStatistics{} : stats[0];
  }

  metrics::StatsRegistry stats_;  // outlives the servables recording into it
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

TEST_F(ModelManagerTest, ChangeListenerSeesEveryConfigAndEveryVersionChange) {
  std::vector<bool> calls;  // config_applied of each call
  bool listener_changed = false;
  manager_->SetChangeListener([&](const ServerConfig& config, bool config_applied) {
    EXPECT_EQ(config.models.size(), 1u);
    EXPECT_TRUE(manager_->IsKnown("m"));
    calls.push_back(config_applied);
    return listener_changed;
  });
  AddVersion("m", 1, "offset=10");
  EXPECT_TRUE(manager_->ApplyConfig(Models({Config("m")})));
  EXPECT_FALSE(manager_->ApplyConfig(Models({Config("m")})));
  listener_changed = true;  // its own change counts as a change
  EXPECT_TRUE(manager_->ApplyConfig(Models({Config("m")})));
  EXPECT_FALSE(manager_->RefreshVersions());  // nothing changed: not called
  AddVersion("m", 2, "offset=20");
  EXPECT_TRUE(manager_->RefreshVersions());
  EXPECT_EQ(calls, (std::vector<bool>{true, true, true, false}));
  EXPECT_FALSE(manager_->IsKnown("other"));
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

TEST_F(ModelManagerTest, WaitForRetiredWaitsForHoldersAndIsBounded) {
  AddVersion("m", 1, "offset=10");
  manager_->ApplyConfig(Models({Config("m")}));
  EXPECT_TRUE(manager_->WaitForRetired(std::chrono::steady_clock::now()));  // nothing retired
  // A request in flight holds the version (as a handle does).
  std::optional<ModelHandle> held = *manager_->Acquire("m", kDefaultVersion);
  manager_->ApplyConfig(Models({}));  // the model leaves the config
  EXPECT_FALSE(manager_->WaitForRetired(std::chrono::steady_clock::now() + 10ms));
  EXPECT_EQ(StateOf("m", 1), VersionState::kUnloading);
  auto release = std::async(std::launch::async, [&] {
    std::this_thread::sleep_for(50ms);
    held.reset();  // the request finishes
  });
  EXPECT_TRUE(manager_->WaitForRetired(std::chrono::steady_clock::now() + 60s));
  EXPECT_EQ(StateOf("m", 1), VersionState::kEnd);
  release.get();
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

TEST_F(ModelManagerTest, ServiceLifecycleStartingServingDrainingStopping) {
  AddVersion("m", 1, "offset=1");
  service_ = std::make_unique<ServingService>(*manager_);  // not ready yet
  EXPECT_TRUE(service_->IsLive());
  EXPECT_FALSE(service_->IsReady());
  const Status starting = Unavailable("Server is not ready yet: the initial configuration is still loading");
  EXPECT_EQ(InferFirst("m").status(), starting);
  // A name not known yet may be in the config being loaded: not "not found".
  EXPECT_EQ(service_->GetModelMetadata("m", kDefaultVersion).status(), starting);
  EXPECT_EQ(service_->GetModelStatus("m", kDefaultVersion).status(), starting);
  EXPECT_EQ(service_->ModelReady("m", kDefaultVersion), starting);

  manager_->ApplyConfig(Models({Config("m")}));
  service_->SetReady();
  EXPECT_TRUE(service_->IsReady());
  EXPECT_TRUE(service_->ModelReady("m", 1).ok());
  EXPECT_EQ(service_->ModelReady("m", 5).code(), StatusCode::kNotFound);
  EXPECT_EQ(service_->ModelReady("x", 1).code(), StatusCode::kNotFound);
  EXPECT_EQ(*InferFirst("m"), 2.f);

  // Draining: not ready, still live and serving; the model stays ready.
  service_->BeginDrain();
  EXPECT_FALSE(service_->IsReady());
  EXPECT_TRUE(service_->IsLive());
  EXPECT_TRUE(service_->ModelReady("m", 1).ok());
  auto during_drain = InferFirst("m");
  ASSERT_TRUE(during_drain.ok()) << during_drain.status().message();
  EXPECT_EQ(*during_drain, 2.f);

  service_->StopAccepting();
  EXPECT_FALSE(service_->IsLive());
  EXPECT_FALSE(service_->IsReady());
  EXPECT_EQ(InferFirst("m").status(), Unavailable("Server is shutting down"));
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

// --- Availability across failed versions and repository faults ---------

TEST_F(ModelManagerTest, FailedSuccessorLeavesTheOldVersionServing) {
  AddVersion("m", 1, "offset=10");
  manager_->ApplyConfig(Models({Config("m")}));
  AddVersion("m", 2, "fail");
  EXPECT_TRUE(manager_->RefreshVersions());
  EXPECT_EQ(*InferFirst("m"), 11.f);
  auto statuses = *manager_->GetStatus("m", kDefaultVersion);
  ASSERT_EQ(statuses.size(), 2u);
  EXPECT_EQ(statuses[0].state, VersionState::kAvailable);
  EXPECT_TRUE(statuses[0].status.ok());
  EXPECT_EQ(statuses[1].state, VersionState::kLoading);
  EXPECT_EQ(statuses[1].status, Unknown("fake load failure"));
  EXPECT_EQ(manager_->GetMetadata("m", kDefaultVersion)->version, 1);
  EXPECT_EQ(manager_->GetMetadata("m", kDefaultVersion)->versions, (std::vector<int64_t>{1}));
  EXPECT_TRUE(service_->ModelReady("m", kDefaultVersion).ok());
  EXPECT_EQ(InferFirst("m", 2).status(), Unavailable("Model m version 2 failed to load: fake load failure"));

  // Polling again changes nothing and retries nothing.
  int loads = backend_->loads();
  EXPECT_FALSE(manager_->RefreshVersions());
  EXPECT_EQ(backend_->loads(), loads);
  EXPECT_EQ(StateOf("m", 1), VersionState::kAvailable);

  // A later good version replaces version 1; the failed one stays listed.
  AddVersion("m", 3, "offset=30");
  EXPECT_TRUE(manager_->RefreshVersions());
  EXPECT_EQ(*InferFirst("m"), 31.f);
  EXPECT_TRUE(WaitForState("m", 1, VersionState::kEnd));
  statuses = *manager_->GetStatus("m", kDefaultVersion);
  ASSERT_EQ(statuses.size(), 3u);
  EXPECT_TRUE(statuses[0].status.ok());
  EXPECT_EQ(statuses[1].state, VersionState::kEnd);
  EXPECT_EQ(statuses[1].status, Unknown("fake load failure"));
  EXPECT_EQ(statuses[2].state, VersionState::kAvailable);
}

TEST_F(ModelManagerTest, AModelWhoseOnlyVersionFailedNamesTheLoadErrorEverywhere) {
  AddVersion("m", 2, "fail");
  manager_->ApplyConfig(Models({Config("m")}));
  const Status why = Unavailable("Model m version 2 failed to load: fake load failure");
  EXPECT_EQ(InferFirst("m").status(), why);
  EXPECT_EQ(InferFirst("m", 2).status(), why);
  EXPECT_EQ(manager_->GetMetadata("m", kDefaultVersion).status(), why);
  EXPECT_EQ(manager_->GetMetadata("m", 2).status(), why);
  EXPECT_EQ(service_->ModelReady("m", kDefaultVersion), why);
  EXPECT_EQ(service_->ModelReady("m", 2), why);
  // The status still lists the version with its own error.
  auto listed = manager_->GetStatus("m", kDefaultVersion)->at(0);
  EXPECT_EQ(listed.state, VersionState::kLoading);
  EXPECT_EQ(listed.status, Unknown("fake load failure"));
}

TEST_F(ModelManagerTest, WithEveryVersionFailedTheDefaultNamesTheNewest) {
  AddVersion("m", 1, "fail");
  AddVersion("m", 2, "fail");
  manager_->ApplyConfig(Models({Config("m", {VersionPolicy::Kind::kAll, 1, {}})}));
  EXPECT_EQ(InferFirst("m").status(), Unavailable("Model m version 2 failed to load: fake load failure"));
  EXPECT_EQ(InferFirst("m", 1).status(), Unavailable("Model m version 1 failed to load: fake load failure"));
  EXPECT_EQ(InferFirst("m", 3).status(), NotFound("Model with requested version is not found"));
  // Removed, the failed version is retired, not a load error.
  fs_.Remove("/repo/m/2");
  manager_->RefreshVersions();
  EXPECT_EQ(InferFirst("m", 2).status(), NotFound("Model with requested version is retired"));
  EXPECT_EQ(InferFirst("m").status(), Unavailable("Model m version 1 failed to load: fake load failure"));
}

TEST_F(ModelManagerTest, LatestTwoKeepsOneOldVersionPerFailedNewOne) {
  VersionPolicy latest2{VersionPolicy::Kind::kLatest, 2, {}};
  AddVersion("m", 1, "offset=10");
  AddVersion("m", 2, "offset=20");
  manager_->ApplyConfig(Models({Config("m", latest2)}));
  AddVersion("m", 3, "offset=30");
  AddVersion("m", 4, "fail");
  manager_->RefreshVersions();
  // Served: 3 (wanted, AVAILABLE) and 2 (the newest old one, standing in for 4).
  EXPECT_TRUE(WaitForState("m", 1, VersionState::kEnd));
  EXPECT_EQ(StateOf("m", 2), VersionState::kAvailable);
  EXPECT_EQ(StateOf("m", 3), VersionState::kAvailable);
  EXPECT_EQ(StateOf("m", 4), VersionState::kLoading);
  EXPECT_EQ(*InferFirst("m"), 31.f);
  EXPECT_EQ(*InferFirst("m", 2), 21.f);
  EXPECT_EQ(manager_->GetMetadata("m", kDefaultVersion)->versions, (std::vector<int64_t>{2, 3}));
}

TEST_F(ModelManagerTest, LatestTwoWithBothNewVersionsFailingKeepsBothOldOnes) {
  VersionPolicy latest2{VersionPolicy::Kind::kLatest, 2, {}};
  AddVersion("m", 1, "offset=10");
  AddVersion("m", 2, "offset=20");
  manager_->ApplyConfig(Models({Config("m", latest2)}));
  AddVersion("m", 3, "fail");
  AddVersion("m", 4, "fail");
  manager_->RefreshVersions();
  EXPECT_EQ(StateOf("m", 1), VersionState::kAvailable);
  EXPECT_EQ(StateOf("m", 2), VersionState::kAvailable);
  EXPECT_EQ(*InferFirst("m"), 21.f);
  EXPECT_EQ(*InferFirst("m", 1), 11.f);
  // Version 5 arrives good: wanted {4, 5}; 4 failed, so 2 still stands in.
  AddVersion("m", 5, "offset=50");
  manager_->RefreshVersions();
  EXPECT_EQ(*InferFirst("m"), 51.f);
  EXPECT_TRUE(WaitForState("m", 1, VersionState::kEnd));
  EXPECT_EQ(StateOf("m", 2), VersionState::kAvailable);
  EXPECT_EQ(StateOf("m", 3), VersionState::kEnd);
  EXPECT_EQ(manager_->GetStatus("m", 3)->at(0).status, Unknown("fake load failure"));
}

TEST_F(ModelManagerTest, SpecificPolicyKeepsTheOldVersionWhenTheNewOneFails) {
  AddVersion("m", 1, "offset=10");
  AddVersion("m", 2, "fail");
  VersionPolicy only1{VersionPolicy::Kind::kSpecific, 1, {1}};
  VersionPolicy only2{VersionPolicy::Kind::kSpecific, 1, {2}};
  VersionPolicy both{VersionPolicy::Kind::kSpecific, 1, {1, 2}};
  manager_->ApplyConfig(Models({Config("m", only1)}));
  EXPECT_EQ(*InferFirst("m"), 11.f);
  manager_->ApplyConfig(Models({Config("m", only2)}));
  EXPECT_EQ(StateOf("m", 1), VersionState::kAvailable);
  EXPECT_EQ(manager_->GetStatus("m", 2)->at(0).status, Unknown("fake load failure"));
  EXPECT_EQ(*InferFirst("m"), 11.f);
  // Both wanted: 1 is served as wanted, 2 stays failed.
  manager_->ApplyConfig(Models({Config("m", both)}));
  EXPECT_EQ(*InferFirst("m"), 11.f);
  EXPECT_EQ(StateOf("m", 2), VersionState::kLoading);
}

TEST_F(ModelManagerTest, AllPolicyServesEveryGoodVersionBesideAFailedOne) {
  AddVersion("m", 1, "offset=10");
  manager_->ApplyConfig(Models({Config("m", {VersionPolicy::Kind::kAll, 1, {}})}));
  AddVersion("m", 2, "fail");
  manager_->RefreshVersions();
  EXPECT_EQ(*InferFirst("m"), 11.f);
  EXPECT_EQ(StateOf("m", 2), VersionState::kLoading);
}

TEST_F(ModelManagerTest, RemovingTheFailedDirectoryKeepsItListedWithItsError) {
  AddVersion("m", 1, "offset=10");
  manager_->ApplyConfig(Models({Config("m")}));
  AddVersion("m", 2, "fail");
  manager_->RefreshVersions();
  fs_.Remove("/repo/m/2");
  EXPECT_TRUE(manager_->RefreshVersions());
  EXPECT_EQ(*InferFirst("m"), 11.f);
  auto failed = manager_->GetStatus("m", 2)->at(0);
  EXPECT_EQ(failed.state, VersionState::kEnd);
  EXPECT_EQ(failed.status, Unknown("fake load failure"));
  // Published again, fixed: loaded, and it replaces version 1.
  AddVersion("m", 2, "offset=20");
  EXPECT_TRUE(manager_->RefreshVersions());
  EXPECT_EQ(*InferFirst("m"), 21.f);
  EXPECT_TRUE(manager_->GetStatus("m", 2)->at(0).status.ok());
  EXPECT_TRUE(WaitForState("m", 1, VersionState::kEnd));
}

TEST_F(ModelManagerTest, ConfigChangeRetriesTheFailedVersionAndKeepsTheStandIn) {
  AddVersion("m", 1, "offset=10");
  manager_->ApplyConfig(Models({Config("m")}));
  AddVersion("m", 2, "fail");
  manager_->RefreshVersions();
  int loads = backend_->loads();
  ModelConfig changed = Config("m");
  changed.nireq = 2;
  EXPECT_TRUE(manager_->ApplyConfig(Models({changed})));
  EXPECT_EQ(backend_->loads(), loads + 2);  // 2 retried (fails again), 1 reloaded
  EXPECT_EQ(*InferFirst("m"), 11.f);
  EXPECT_EQ(StateOf("m", 1), VersionState::kAvailable);
  EXPECT_EQ(StateOf("m", 2), VersionState::kLoading);
}

TEST_F(ModelManagerTest, MissingBasePathIsTheModelsStatusEverywhere) {
  manager_->ApplyConfig(Models({Config("m")}));
  const Status why = NotFound("Model m has no version: base path /repo/m does not exist");
  EXPECT_EQ(manager_->GetStatus("m", kDefaultVersion).status(), why);
  EXPECT_EQ(manager_->GetStatus("m", 1).status(), why);
  EXPECT_EQ(manager_->GetMetadata("m", kDefaultVersion).status(), why);
  EXPECT_EQ(manager_->GetMetadata("m", 1).status(), why);
  EXPECT_EQ(service_->ModelReady("m", kDefaultVersion), why);
  EXPECT_EQ(InferFirst("m").status(), why);
  EXPECT_FALSE(manager_->RefreshVersions());  // the same fault again is no change

  // The directory appears: the next poll loads it, the fault is gone.
  AddVersion("m", 1, "offset=10");
  EXPECT_TRUE(manager_->RefreshVersions());
  EXPECT_EQ(*InferFirst("m"), 11.f);
  EXPECT_TRUE(manager_->GetStatus("m", kDefaultVersion)->at(0).status.ok());
}

TEST_F(ModelManagerTest, VanishingBasePathRetiresWithTheCauseAndRecovers) {
  AddVersion("m", 1, "offset=10");
  AddVersion("m", 2, "offset=20");
  manager_->ApplyConfig(Models({Config("m", {VersionPolicy::Kind::kAll, 1, {}})}));
  fs_.Remove("/repo/m");
  EXPECT_TRUE(manager_->RefreshVersions());
  EXPECT_TRUE(WaitForState("m", 1, VersionState::kEnd));
  EXPECT_TRUE(WaitForState("m", 2, VersionState::kEnd));
  auto retired = *manager_->GetStatus("m", kDefaultVersion);
  for (const auto& s : retired) {
    EXPECT_EQ(s.status, NotFound("base path /repo/m does not exist")) << s.version;
  }
  const std::string why = "Model m has no version: base path /repo/m does not exist";
  EXPECT_EQ(InferFirst("m").status(), NotFound(why));
  EXPECT_EQ(InferFirst("m", 2).status(), NotFound(why));
  EXPECT_EQ(manager_->GetMetadata("m", kDefaultVersion).status(), NotFound(why));
  EXPECT_EQ(service_->ModelReady("m", kDefaultVersion), Unavailable(why));
  EXPECT_EQ(manager_->GetStatus("m", kDefaultVersion)->size(), 2u);

  AddVersion("m", 1, "offset=10");
  AddVersion("m", 2, "offset=20");
  EXPECT_TRUE(manager_->RefreshVersions());
  EXPECT_EQ(*InferFirst("m"), 21.f);
  EXPECT_EQ(*InferFirst("m", 1), 11.f);
  auto back = *manager_->GetStatus("m", kDefaultVersion);
  for (const auto& s : back) {
    EXPECT_EQ(s.state, VersionState::kAvailable);
    EXPECT_TRUE(s.status.ok());
  }
}

TEST_F(ModelManagerTest, BasePathThatIsAFileOrEmptyOrUnmatchedIsNamed) {
  fs_.AddFile("/repo/file", "x");
  fs_.AddDirectory("/repo/empty");
  AddVersion("unmatched", 1, "offset=1");
  ModelConfig file = Config("file");
  ModelConfig empty = Config("empty");
  ModelConfig unmatched = Config("unmatched", {VersionPolicy::Kind::kSpecific, 1, {7}});
  manager_->ApplyConfig(Models({file, empty, unmatched}));
  EXPECT_EQ(manager_->GetStatus("file", kDefaultVersion).status(),
            NotFound("Model file has no version: base path /repo/file is not a directory"));
  EXPECT_EQ(manager_->GetStatus("empty", kDefaultVersion).status(),
            NotFound("Model empty has no version: base path /repo/empty has no version directory"));
  EXPECT_EQ(manager_->GetStatus("unmatched", kDefaultVersion).status(),
            NotFound("Model unmatched has no version: no version directory in base path "
                     "/repo/unmatched matches the version policy {\"specific\":{\"versions\":[7]}}"));
}

TEST_F(ModelManagerTest, RemovingEveryVersionDirectoryNamesTheEmptyBasePath) {
  AddVersion("m", 1, "offset=10");
  manager_->ApplyConfig(Models({Config("m")}));
  fs_.Remove("/repo/m/1");
  manager_->RefreshVersions();
  EXPECT_TRUE(WaitForState("m", 1, VersionState::kEnd));
  EXPECT_EQ(manager_->GetStatus("m", 1)->at(0).status,
            NotFound("base path /repo/m has no version directory"));
  EXPECT_EQ(InferFirst("m").status(),
            NotFound("Model m has no version: base path /repo/m has no version directory"));
}

TEST_F(ModelManagerTest, UnlistableBasePathKeepsWhatIsLoadedServing) {
  AddVersion("m", 1, "offset=10");
  manager_->ApplyConfig(Models({Config("m")}));
  fs_.SetListError("/repo/m", Status(StatusCode::kPermissionDenied, "denied"));
  EXPECT_TRUE(manager_->RefreshVersions());  // the fault is a change
  EXPECT_FALSE(manager_->RefreshVersions());
  EXPECT_EQ(*InferFirst("m"), 11.f);
  EXPECT_EQ(StateOf("m", 1), VersionState::kAvailable);
  fs_.SetListError("/repo/m", Status::Ok());
  EXPECT_TRUE(manager_->RefreshVersions());  // cleared
  EXPECT_EQ(*InferFirst("m"), 11.f);

  // Unlistable from the start: nothing to serve, and the status says why.
  fs_.SetListError("/repo/n", Status(StatusCode::kPermissionDenied, "denied"));
  AddVersion("n", 1, "offset=1");
  manager_->ApplyConfig(Models({Config("m"), Config("n")}));
  const Status why(StatusCode::kNotFound,
                   "Model n has no version: base path /repo/n cannot be listed: denied");
  EXPECT_EQ(manager_->GetStatus("n", kDefaultVersion).status(), why);
  EXPECT_EQ(InferFirst("n").status(), why);
  fs_.SetListError("/repo/n", Status::Ok());
  manager_->RefreshVersions();
  EXPECT_EQ(*InferFirst("n"), 2.f);
}

TEST_F(ModelManagerTest, ConfigChangeWhileTheBasePathIsUnlistableIsAppliedOnceItIsListable) {
  AddVersion("m", 1, "offset=10");
  manager_->ApplyConfig(Models({Config("m")}));
  const int loads = backend_->loads();
  fs_.SetListError("/repo/m", Status(StatusCode::kPermissionDenied, "denied"));
  ModelConfig changed = Config("m");
  changed.nireq = 3;
  changed.plugin_config = {{"INFERENCE_NUM_THREADS", "5"}};
  manager_->ApplyConfig(Models({changed}));
  manager_->RefreshVersions();
  EXPECT_EQ(backend_->loads(), loads);  // nothing can be read: the old load serves
  EXPECT_EQ(*InferFirst("m"), 11.f);

  // Listable again: the next poll reloads version 1 with the new settings, once.
  fs_.SetListError("/repo/m", Status::Ok());
  EXPECT_TRUE(manager_->RefreshVersions());
  EXPECT_EQ(backend_->loads(), loads + 1);
  EXPECT_EQ(backend_->last_intra_op_threads(), 5);
  EXPECT_EQ(*InferFirst("m"), 11.f);
  EXPECT_FALSE(manager_->RefreshVersions());
  EXPECT_FALSE(manager_->ApplyConfig(Models({changed})));
  EXPECT_EQ(backend_->loads(), loads + 1);
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

namespace tessera {
namespace {

TEST_F(ModelManagerTest, UnloadRetiresEveryVersionUntilLoadAndPollingKeepsItUnloaded) {
  AddVersion("m", 1, "offset=10\nsleep_ms=300");
  AddVersion("m", 2, "offset=20\nsleep_ms=300");
  manager_->ApplyConfig(Models({Config("m", VersionPolicy{VersionPolicy::Kind::kAll, 1, {}})}));
  auto slow = std::async(std::launch::async, [&] { return InferFirst("m"); });
  std::this_thread::sleep_for(100ms);  // running on version 2
  ASSERT_TRUE(manager_->UnloadModel("m").ok());
  EXPECT_TRUE(manager_->IsUnloaded("m"));
  EXPECT_EQ(StateOf("m", 2), VersionState::kUnloading);
  Status refused = InferFirst("m").status();
  EXPECT_EQ(refused.code(), StatusCode::kUnavailable);
  EXPECT_EQ(refused.message(),
            "Model m is unloaded (a repository load request or a config reload loads it again)");
  EXPECT_EQ(InferFirst("m", 1).status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(manager_->GetMetadata("m", kDefaultVersion).status(), refused);
  auto first = slow.get();  // the request in flight finished
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(*first, 21.f);
  EXPECT_TRUE(WaitForState("m", 1, VersionState::kEnd));
  EXPECT_TRUE(WaitForState("m", 2, VersionState::kEnd));

  int loads = backend_->loads();
  EXPECT_FALSE(manager_->RefreshVersions());  // polling does not bring it back
  AddVersion("m", 3, "offset=30");
  EXPECT_FALSE(manager_->RefreshVersions());
  EXPECT_EQ(backend_->loads(), loads);
  EXPECT_TRUE(manager_->UnloadModel("m").ok());  // again: nothing to do

  ASSERT_TRUE(manager_->LoadModel("m").ok());
  EXPECT_FALSE(manager_->IsUnloaded("m"));
  EXPECT_EQ(*InferFirst("m"), 31.f);
  EXPECT_EQ(*InferFirst("m", 1), 11.f);
}

TEST_F(ModelManagerTest, LoadReloadsAServingModelAndAConfigEndsAnUnload) {
  AddVersion("m", 1, "offset=10");
  manager_->ApplyConfig(Models({Config("m")}));
  int loads = backend_->loads();
  ASSERT_TRUE(manager_->LoadModel("m").ok());  // serving: reloaded
  EXPECT_EQ(backend_->loads(), loads + 1);
  EXPECT_EQ(*InferFirst("m"), 11.f);

  ASSERT_TRUE(manager_->UnloadModel("m").ok());
  EXPECT_TRUE(WaitForState("m", 1, VersionState::kEnd));
  // Applying a config, even the same one (a forced reload), loads it again.
  EXPECT_TRUE(manager_->ApplyConfig(Models({Config("m")})));
  EXPECT_FALSE(manager_->IsUnloaded("m"));
  EXPECT_EQ(*InferFirst("m"), 11.f);
}

TEST_F(ModelManagerTest, LoadAndUnloadNameConfiguredModelsOnly) {
  AddVersion("a", 1, "offset=1");
  AddVersion("bad", 1, "fail");
  manager_->ApplyConfig(Models({Config("a"), Config("bad")}));
  EXPECT_EQ(manager_->UnloadModel("nope"), NotFound("Model with requested name is not found"));
  EXPECT_EQ(manager_->LoadModel("nope"), NotFound("Model with requested name is not found"));
  EXPECT_EQ(manager_->LoadModel("bad"),
            Unavailable("Model bad has no version loaded: version 1: fake load failure"));
  manager_->ApplyConfig(Models({Config("bad")}));  // "a" removed: listed, not configured
  EXPECT_EQ(manager_->UnloadModel("a"), NotFound("Model a is not in the configuration"));
  EXPECT_EQ(manager_->LoadModel("a"), NotFound("Model a is not in the configuration"));
}

TEST_F(ModelManagerTest, StatisticsCountRequestsRunsAndBatchSizes) {
  ServeBatched("offset=100\nsleep_ms=300");
  Send("m", 0);  // the only worker runs this one while the rest queue up
  while (backend_->runs().rows().empty()) std::this_thread::sleep_for(1ms);
  for (int i = 1; i <= 5; ++i) Send("m", static_cast<float>(i), i % 2 + 1);
  for (auto& call : calls_) ExpectAnswer(call, 100);
  EXPECT_EQ(backend_->runs().rows(), (std::vector<int64_t>{1, 8}));
  EXPECT_EQ(InferFirst("m", 7).status().code(), StatusCode::kNotFound);  // no version: not counted
  calls_.clear();
  Call& wrong_width = Send("m", 2, 1, 3);  // refused by the version: a failure
  EXPECT_FALSE(wrong_width.result.get().ok());

  ModelStatistics s = StatsOfM();
  EXPECT_EQ(s.name, "m");
  EXPECT_EQ(s.version, 1);
  EXPECT_EQ(s.success.count, 6u);
  EXPECT_EQ(s.fail.count, 1u);
  EXPECT_EQ(s.inference_count, 9u);  // rows: 1 + 8
  EXPECT_EQ(s.execution_count, 2u);
  EXPECT_EQ(s.queue.count, 6u);
  EXPECT_EQ(s.compute_infer.count, 6u);
  EXPECT_GE(s.compute_infer.ns, 6u * 300'000'000u);  // each request spent its run's 300 ms
  EXPECT_GT(s.last_inference_ms, 0u);
  ASSERT_EQ(s.batch_stats.size(), 2u);
  EXPECT_EQ(s.batch_stats[0].batch_size, 1u);
  EXPECT_EQ(s.batch_stats[0].compute_infer.count, 1u);
  EXPECT_EQ(s.batch_stats[1].batch_size, 8u);
  EXPECT_EQ(s.batch_stats[1].compute_infer.count, 1u);
  EXPECT_EQ(s.batch_stats[1].compute_output.count, 1u);
}

TEST_F(ModelManagerTest, StatisticsOfAFailedJoinedRunCountTheRetries) {
  ServeBatched("offset=1\nsleep_ms=300\nfail_negative");
  Send("m", 0);
  while (backend_->runs().rows().empty()) std::this_thread::sleep_for(1ms);
  Send("m", 5);
  Send("m", -5);
  Send("m", 7);
  for (auto& call : calls_) call.result.wait();
  ModelStatistics s = StatsOfM();
  EXPECT_EQ(s.success.count, 3u);
  EXPECT_EQ(s.fail.count, 1u);
  // The failed joined run is no execution; each request then ran alone.
  EXPECT_EQ(s.execution_count, 3u);
  ASSERT_EQ(s.batch_stats.size(), 1u);
  EXPECT_EQ(s.batch_stats[0].batch_size, 1u);
  EXPECT_EQ(s.batch_stats[0].compute_infer.count, 3u);
}

}  // namespace
}  // namespace tessera
