// TfsModelService: the TensorFlow Serving gRPC front door for model state
// (tensorflow.serving.ModelService): GetModelStatus over a
// tessera::InferenceService and HandleReloadConfigRequest over a
// tessera::ModelAdmin. Built on gRPC's callback API.
//
// A reload loads models, which takes seconds, so it does not run on a gRPC
// thread: reloads are queued to this service's own worker thread, one at a
// time, and the RPC finishes from there.
//
// Ownership and thread-safety: `service` and `admin` are not owned and must
// outlive this object; `admin` may be null, and then
// HandleReloadConfigRequest answers UNIMPLEMENTED "Config reload is not
// available". The gRPC server must be shut down (which waits for every call)
// before this object is destroyed. All RPC methods are called by gRPC,
// concurrently. `metrics` (may be null, not owned) counts GetModelStatus.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include "core/inference_service.h"
#include "core/model_admin.h"
#include "metrics/serving_metrics.h"
#include "tensorflow_serving/apis/model_service.grpc.pb.h"

namespace tessera::tfs_grpc {

class TfsModelService final : public tensorflow::serving::ModelService::CallbackService {
 public:
  TfsModelService(InferenceService& service, ModelAdmin* admin,
                  const metrics::FrontDoorMetrics* metrics = nullptr);
  // Runs every reload still queued, then stops the worker thread.
  ~TfsModelService() override;

  TfsModelService(const TfsModelService&) = delete;
  TfsModelService& operator=(const TfsModelService&) = delete;

  // Every version of the model (END ones included), or only model_spec's
  // version when one is set. NOT_FOUND for an unknown model or version.
  grpc::ServerUnaryReactor* GetModelStatus(
      grpc::CallbackServerContext* ctx, const tensorflow::serving::GetModelStatusRequest* request,
      tensorflow::serving::GetModelStatusResponse* response) override;

  // Replaces the served models with config.model_config_list through
  // ModelAdmin::ReplaceModels. The reply's status and the gRPC status carry
  // the same code and message. Errors: see DecodeModelServerConfig and
  // ModelAdmin::ReplaceModels; UNIMPLEMENTED without a ModelAdmin.
  grpc::ServerUnaryReactor* HandleReloadConfigRequest(
      grpc::CallbackServerContext* ctx, const tensorflow::serving::ReloadConfigRequest* request,
      tensorflow::serving::ReloadConfigResponse* response) override;

 private:
  void RunWorker();
  void Post(std::function<void()> job);

  InferenceService& service_;
  ModelAdmin* const admin_;
  const metrics::FrontDoorMetrics* const metrics_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;  // guarded by mu_
  bool stopping_ = false;                   // guarded by mu_
  std::thread worker_;  // last: started after every member above exists
};

}  // namespace tessera::tfs_grpc
