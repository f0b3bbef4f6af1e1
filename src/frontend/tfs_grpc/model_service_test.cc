#include "frontend/tfs_grpc/model_service.h"

#include <gtest/gtest.h>
#include <grpcpp/grpcpp.h>

#include <condition_variable>
#include <future>
#include <mutex>
#include <string>
#include <vector>

#include "core/testing/fake_inference_service.h"
#include "transport/grpc_server.h"

namespace tessera::tfs_grpc {
namespace {

using namespace std::chrono_literals;
using tensorflow::serving::GetModelStatusRequest;
using tensorflow::serving::GetModelStatusResponse;
using tensorflow::serving::ModelService;
using tensorflow::serving::ModelVersionStatus;
using tensorflow::serving::ReloadConfigRequest;
using tensorflow::serving::ReloadConfigResponse;
using testing::FakeInferenceService;

// Records ReplaceModels calls; answers with a scripted status, optionally
// only after Release().
class FakeModelAdmin : public ModelAdmin {
 public:
  Result<bool> ReloadConfig() override { return true; }
  std::vector<ModelStatusEntry> AllModelStatuses() const override { return {}; }

  Status ReplaceModels(const std::vector<ModelSource>& models) override {
    std::unique_lock<std::mutex> lock(mu_);
    calls_.push_back(models);
    cv_.notify_all();
    cv_.wait(lock, [this] { return !hold_; });
    return result_;
  }

  void SetResult(Status s) {
    std::lock_guard<std::mutex> lock(mu_);
    result_ = std::move(s);
  }
  void Hold() {
    std::lock_guard<std::mutex> lock(mu_);
    hold_ = true;
  }
  void Release() {
    std::lock_guard<std::mutex> lock(mu_);
    hold_ = false;
    cv_.notify_all();
  }
  bool WaitForCalls(size_t n) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, 10s, [&] { return calls_.size() >= n; });
  }
  std::vector<std::vector<ModelSource>> calls() {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::vector<ModelSource>> calls_;
  Status result_;
  bool hold_ = false;
};

ReloadConfigRequest ReloadRequest(std::initializer_list<std::pair<std::string, std::string>> models) {
  ReloadConfigRequest req;
  auto* list = req.mutable_config()->mutable_model_config_list();
  for (const auto& [name, path] : models) {
    auto* config = list->add_config();
    config->set_name(name);
    config->set_base_path(path);
  }
  return req;
}

class TfsModelServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ModelMetadata md;
    md.name = "dense";
    md.versions = {1, 2};
    fake_.AddModel(md);
  }

  // Starts a server whose service uses `admin` (may be null).
  void Start(ModelAdmin* admin) {
    service_ = std::make_unique<TfsModelService>(fake_, admin);
    transport::GrpcServerOptions options;
    options.address = "127.0.0.1";
    server_ = std::make_unique<transport::GrpcServer>(options);
    server_->AddService(service_.get());
    Status started = server_->Start();
    ASSERT_TRUE(started.ok()) << started.ToString();
    stub_ = ModelService::NewStub(grpc::CreateChannel(
        "127.0.0.1:" + std::to_string(server_->port()), grpc::InsecureChannelCredentials()));
  }

  void TearDown() override {
    admin_.Release();
    server_.reset();  // waits for every call before the service goes away
    service_.reset();
  }

  std::unique_ptr<grpc::ClientContext> Context() {
    auto ctx = std::make_unique<grpc::ClientContext>();
    ctx->set_deadline(std::chrono::system_clock::now() + 20s);
    return ctx;
  }

  grpc::Status GetStatus(const GetModelStatusRequest& req, GetModelStatusResponse* resp) {
    return stub_->GetModelStatus(Context().get(), req, resp);
  }

  grpc::Status Reload(const ReloadConfigRequest& req, ReloadConfigResponse* resp) {
    return stub_->HandleReloadConfigRequest(Context().get(), req, resp);
  }

  FakeInferenceService fake_;
  FakeModelAdmin admin_;
  std::unique_ptr<TfsModelService> service_;
  std::unique_ptr<transport::GrpcServer> server_;
  std::unique_ptr<ModelService::Stub> stub_;
};

// --- GetModelStatus --------------------------------------------------------

TEST_F(TfsModelServiceTest, StatusOfEveryVersionOrOne) {
  Start(&admin_);
  GetModelStatusRequest req;
  req.mutable_model_spec()->set_name("dense");
  GetModelStatusResponse resp;
  grpc::Status s = GetStatus(req, &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(resp.model_version_status_size(), 2);
  EXPECT_EQ(resp.model_version_status(0).version(), 1);
  EXPECT_EQ(resp.model_version_status(1).version(), 2);
  for (const auto& v : resp.model_version_status()) {
    EXPECT_EQ(v.state(), ModelVersionStatus::AVAILABLE);
    EXPECT_EQ(v.status().error_code(), tensorflow::error::OK);
    EXPECT_EQ(v.status().error_message(), "");
  }

  req.mutable_model_spec()->mutable_version()->set_value(2);
  resp.Clear();
  ASSERT_TRUE(GetStatus(req, &resp).ok());
  ASSERT_EQ(resp.model_version_status_size(), 1);
  EXPECT_EQ(resp.model_version_status(0).version(), 2);
}

TEST_F(TfsModelServiceTest, StatusErrors) {
  Start(&admin_);
  GetModelStatusRequest req;
  req.mutable_model_spec()->set_name("nope");
  GetModelStatusResponse resp;
  grpc::Status s = GetStatus(req, &resp);
  EXPECT_EQ(s.error_code(), grpc::NOT_FOUND);
  EXPECT_EQ(s.error_message(), "Model with requested name is not found");

  req.mutable_model_spec()->set_name("dense");
  req.mutable_model_spec()->mutable_version()->set_value(7);
  s = GetStatus(req, &resp);
  EXPECT_EQ(s.error_code(), grpc::NOT_FOUND);
  EXPECT_EQ(s.error_message(), "Model with requested version is not found");

  req.mutable_model_spec()->set_version_label("stable");
  s = GetStatus(req, &resp);
  EXPECT_EQ(s.error_code(), grpc::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message(), "version_label is not supported; use version");
}

// --- HandleReloadConfigRequest ---------------------------------------------

TEST_F(TfsModelServiceTest, ReloadReplacesTheModelList) {
  Start(&admin_);
  ReloadConfigRequest req = ReloadRequest({{"a", "/models/a"}, {"b", "/models/b"}});
  req.mutable_config()->mutable_model_config_list()->mutable_config(1)->set_model_platform(
      "pytorch_torchscript");
  ReloadConfigResponse resp;
  grpc::Status s = Reload(req, &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(resp.status().error_code(), tensorflow::error::OK);
  EXPECT_EQ(resp.status().error_message(), "");
  auto calls = admin_.calls();
  ASSERT_EQ(calls.size(), 1u);
  ASSERT_EQ(calls[0].size(), 2u);
  EXPECT_EQ(calls[0][0].name, "a");
  EXPECT_EQ(calls[0][0].base_path, "/models/a");
  EXPECT_EQ(calls[0][1].name, "b");
  EXPECT_EQ(calls[0][1].platform, "pytorch_torchscript");
}

TEST_F(TfsModelServiceTest, ReloadErrorsFromTheAdminKeepTheirCode) {
  Start(&admin_);
  admin_.SetResult(FailedPrecondition("Config reload is not available in single-model mode"));
  ReloadConfigResponse resp;
  grpc::Status s = Reload(ReloadRequest({{"a", "/a"}}), &resp);
  EXPECT_EQ(s.error_code(), grpc::FAILED_PRECONDITION);
  EXPECT_EQ(s.error_message(), "Config reload is not available in single-model mode");

  admin_.SetResult(InvalidArgument("Duplicate model name: a"));
  s = Reload(ReloadRequest({{"a", "/a"}, {"a", "/b"}}), &resp);
  EXPECT_EQ(s.error_code(), grpc::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message(), "Duplicate model name: a");
}

TEST_F(TfsModelServiceTest, UnsupportedConfigsNeverReachTheAdmin) {
  Start(&admin_);
  ReloadConfigRequest req;
  req.mutable_config()->mutable_custom_model_config()->set_type_url("type.googleapis.com/x.Y");
  ReloadConfigResponse resp;
  grpc::Status s = Reload(req, &resp);
  EXPECT_EQ(s.error_code(), grpc::UNIMPLEMENTED);
  EXPECT_EQ(s.error_message(), "custom_model_config is not supported; send model_config_list");

  s = Reload(ReloadConfigRequest(), &resp);
  EXPECT_EQ(s.error_code(), grpc::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message(), "ModelServerConfig has no model_config_list");

  req = ReloadRequest({{"a", "/a"}});
  req.mutable_config()->mutable_model_config_list()->mutable_config(0)
      ->mutable_model_version_policy()->mutable_latest()->set_num_versions(2);
  s = Reload(req, &resp);
  EXPECT_EQ(s.error_code(), grpc::UNIMPLEMENTED);
  EXPECT_TRUE(admin_.calls().empty());
}

TEST_F(TfsModelServiceTest, ReloadWithoutAdminIsUnimplemented) {
  Start(nullptr);
  ReloadConfigResponse resp;
  grpc::Status s = Reload(ReloadRequest({{"a", "/a"}}), &resp);
  EXPECT_EQ(s.error_code(), grpc::UNIMPLEMENTED);
  EXPECT_EQ(s.error_message(), "Config reload is not available");

  GetModelStatusRequest req;  // the rest of the service still works
  req.mutable_model_spec()->set_name("dense");
  GetModelStatusResponse status;
  EXPECT_TRUE(GetStatus(req, &status).ok());
}

TEST_F(TfsModelServiceTest, SlowReloadDoesNotBlockOtherCalls) {
  Start(&admin_);
  admin_.Hold();
  auto reload = std::async(std::launch::async, [this] {
    ReloadConfigResponse resp;
    return Reload(ReloadRequest({{"a", "/a"}}), &resp);
  });
  ASSERT_TRUE(admin_.WaitForCalls(1));
  // The reload is parked inside the admin; status calls are still answered.
  for (int i = 0; i < 8; ++i) {
    GetModelStatusRequest req;
    req.mutable_model_spec()->set_name("dense");
    GetModelStatusResponse resp;
    EXPECT_TRUE(GetStatus(req, &resp).ok());
  }
  EXPECT_EQ(reload.wait_for(0ms), std::future_status::timeout);
  admin_.Release();
  EXPECT_TRUE(reload.get().ok());
}

TEST_F(TfsModelServiceTest, ReloadsRunOneAtATime) {
  Start(&admin_);
  admin_.Hold();
  std::vector<std::future<grpc::Status>> reloads;
  for (int i = 0; i < 3; ++i) {
    reloads.push_back(std::async(std::launch::async, [this, i] {
      ReloadConfigResponse resp;
      return Reload(ReloadRequest({{"m" + std::to_string(i), "/m"}}), &resp);
    }));
  }
  ASSERT_TRUE(admin_.WaitForCalls(1));
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(admin_.calls().size(), 1u);  // the others wait their turn
  admin_.Release();
  for (auto& r : reloads) EXPECT_TRUE(r.get().ok());
  EXPECT_EQ(admin_.calls().size(), 3u);
}

}  // namespace
}  // namespace tessera::tfs_grpc
