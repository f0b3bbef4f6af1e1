// ServingService: the InferenceService frontends call, over a ModelManager.
//
// Lifecycle of the server as the front doors see it:
//   starting  (until SetReady)  live, not ready; inference is refused with
//             kUnavailable "Server is not ready yet: the initial configuration
//             is still loading", and so are metadata, status and readiness
//             calls naming a model not known yet (it may be in the config
//             being loaded): REST 503, which a load balancer retries on
//             another replica, rather than 404;
//   serving   live, ready;
//   draining  (BeginDrain)      live, NOT ready, everything still answered:
//             the time a load balancer needs to notice and stop sending;
//   stopping  (StopAccepting)   not live, not ready; inference is refused
//             with kUnavailable "Server is shutting down".
// Model readiness (ModelReady) describes the model and does not change while
// draining: the model still serves.
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
  bool IsReady() const override { return ready_.load() && !draining_.load() && !stopping_.load(); }
  ServerMetadata GetServerMetadata() const override;

  // The extensions GetServerMetadata reports (what the front doors serve).
  // Set before serving; not synchronised.
  void SetExtensions(std::vector<std::string> extensions) { extensions_ = std::move(extensions); }
  // Called once the initial configuration has been loaded.
  void SetReady() { ready_ = true; }
  // Readiness turns false for good; requests are still served.
  void BeginDrain() { draining_ = true; }
  // New inference requests are refused (kUnavailable) from now on.
  void StopAccepting() { stopping_ = true; }

 private:
  // `result`, or kUnavailable (kStarting) for kNotFound before SetReady.
  template <class T>
  T UnlessStarting(T result) const;

  ModelManager& manager_;
  std::vector<std::string> extensions_;
  std::atomic<bool> ready_{false};
  std::atomic<bool> draining_{false};
  std::atomic<bool> stopping_{false};
};

}  // namespace tessera
