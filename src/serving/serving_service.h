// ServingService: the InferenceService frontends call, over a ModelManager.
//
// Thread-safety: all methods may be called concurrently.
#pragma once

#include <atomic>
#include <string>
#include <vector>

#include "core/inference_service.h"
#include "serving/model_manager.h"

namespace tessera {

class ServingService : public InferenceService {
 public:
  // `manager` must outlive this service.
  explicit ServingService(ModelManager& manager) : manager_(manager) {}

  void Infer(const InferRequest& request, InferCallback done) override;
  Result<ModelMetadata> GetModelMetadata(const std::string& name, int64_t version) override;
  Result<std::vector<VersionStatus>> GetModelStatus(const std::string& name,
                                                    int64_t version) override;
  Status ModelReady(const std::string& name, int64_t version) override;
  bool IsLive() const override { return !stopping_.load(); }
  bool IsReady() const override { return ready_.load() && !stopping_.load(); }
  ServerMetadata GetServerMetadata() const override;

  // The extensions GetServerMetadata reports (what the front doors serve).
  // Set before serving; not synchronised.
  void SetExtensions(std::vector<std::string> extensions) { extensions_ = std::move(extensions); }
  // Called once the initial configuration has been loaded.
  void SetReady() { ready_ = true; }
  // New inference requests are refused (kUnavailable) from now on.
  void StopAccepting() { stopping_ = true; }

 private:
  ModelManager& manager_;
  std::vector<std::string> extensions_;
  std::atomic<bool> ready_{false};
  std::atomic<bool> stopping_{false};
};

}  // namespace tessera
