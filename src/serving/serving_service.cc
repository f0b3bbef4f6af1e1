#include "serving/serving_service.h"

#include "common/version.h"

namespace tessera {

void ServingService::Infer(const InferRequest& request, InferCallback done) {
  if (stopping_) return done(Unavailable("Server is shutting down"));
  if (!ready_) {
    return done(Unavailable("Server is not ready yet: the initial configuration is still loading"));
  }
  auto servable = manager_.Acquire(request.model_name, request.model_version);
  if (!servable.ok()) return done(servable.status());
  (*servable)->Infer(request, std::move(done));
}

Result<ModelMetadata> ServingService::GetModelMetadata(const std::string& name,
                                                       int64_t version) {
  return manager_.GetMetadata(name, version);
}

Result<std::vector<VersionStatus>> ServingService::GetModelStatus(const std::string& name,
                                                                  int64_t version) {
  return manager_.GetStatus(name, version);
}

Status ServingService::ModelReady(const std::string& name, int64_t version) {
  auto known = manager_.GetStatus(name, version);
  if (!known.ok()) return known.status();
  auto servable = manager_.Acquire(name, version);
  if (servable.ok()) return Status::Ok();
  return Unavailable(servable.status().message());
}

ServerMetadata ServingService::GetServerMetadata() const {
  return ServerMetadata{"tessera", kTesseraVersion, {}};
}

}  // namespace tessera
