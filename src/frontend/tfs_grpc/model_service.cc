#include "frontend/tfs_grpc/model_service.h"

#include <utility>
#include <vector>

#include "common/logging.h"
#include "frontend/kserve_grpc/status_map.h"
#include "frontend/tfs_grpc/codec.h"

namespace tessera::tfs_grpc {
namespace {

using kserve_grpc::ToGrpcStatus;

grpc::ServerUnaryReactor* FinishNow(grpc::CallbackServerContext* ctx, const grpc::Status& s) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  reactor->Finish(s);
  return reactor;
}

// Finishes a reload with `status` both in the reply and as the RPC status.
void FinishReload(grpc::ServerUnaryReactor* reactor, const Status& status,
                  tensorflow::serving::ReloadConfigResponse* response) {
  EncodeStatus(status, response->mutable_status());
  reactor->Finish(ToGrpcStatus(status));
}

}  // namespace

TfsModelService::TfsModelService(InferenceService& service, ModelAdmin* admin,
                                 const metrics::FrontDoorMetrics* metrics)
    : service_(service), admin_(admin), metrics_(metrics) {
  if (admin_ != nullptr) worker_ = std::thread([this] { RunWorker(); });
}

TfsModelService::~TfsModelService() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (worker_.joinable()) worker_.join();
}

void TfsModelService::Post(std::function<void()> job) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    jobs_.push_back(std::move(job));
  }
  cv_.notify_all();
}

void TfsModelService::RunWorker() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    cv_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
    if (jobs_.empty()) return;  // stopping, and every queued reload has run
    std::function<void()> job = std::move(jobs_.front());
    jobs_.pop_front();
    lock.unlock();
    job();
    lock.lock();
  }
}

grpc::ServerUnaryReactor* TfsModelService::GetModelStatus(
    grpc::CallbackServerContext* ctx, const tensorflow::serving::GetModelStatusRequest* request,
    tensorflow::serving::GetModelStatusResponse* response) {
  metrics::CallMeter meter(metrics_, metrics::Method::kGetModelStatus);
  Result<int64_t> version = DecodeModelVersion(request->model_spec());
  if (!version.ok()) return FinishNow(ctx, ToGrpcStatus(version.status()));
  Result<std::vector<VersionStatus>> statuses =
      service_.GetModelStatus(request->model_spec().name(), *version);
  meter.Done(request->model_spec().name(), *version, statuses.ok());
  if (!statuses.ok()) return FinishNow(ctx, ToGrpcStatus(statuses.status()));
  EncodeModelStatus(*statuses, response);
  return FinishNow(ctx, grpc::Status::OK);
}

grpc::ServerUnaryReactor* TfsModelService::HandleReloadConfigRequest(
    grpc::CallbackServerContext* ctx, const tensorflow::serving::ReloadConfigRequest* request,
    tensorflow::serving::ReloadConfigResponse* response) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  if (admin_ == nullptr) {
    FinishReload(reactor, Unimplemented("Config reload is not available"), response);
    return reactor;
  }
  Result<std::vector<ModelSource>> models = DecodeModelServerConfig(request->config());
  if (!models.ok()) {
    FinishReload(reactor, models.status(), response);
    return reactor;
  }
  Post([this, reactor, response, models = std::move(models).value()] {
    Status status = admin_->ReplaceModels(models);
    if (status.ok()) {
      TLOG_INFO("Model list replaced through HandleReloadConfigRequest ({} models)",
                models.size());
    } else {
      TLOG_WARN("HandleReloadConfigRequest failed: {}", status.message());
    }
    FinishReload(reactor, status, response);
  });
  return reactor;
}

}  // namespace tessera::tfs_grpc
