#include "serving/serving_service.h"

#include "common/version.h"

namespace tessera {
namespace {

constexpr char kStarting[] = "Server is not ready yet: the initial configuration is still loading";

}  // namespace

template <class T>
T ServingService::UnlessStarting(T result) const {
  if (!ready_ && result.status().code() == StatusCode::kNotFound) return Unavailable(kStarting);
  return result;
}

void ServingService::Infer(const InferRequest& request, InferCallback done) {
  if (stopping_) return done(Unavailable("Server is shutting down"));
  if (!ready_) return done(Unavailable(kStarting));
  auto servable = manager_.Acquire(request.model_name, request.model_version);
  if (!servable.ok()) return done(servable.status());
  (*servable)->Infer(request, std::move(done));
}

Result<ModelMetadata> ServingService::GetModelMetadata(const std::string& name,
                                                       int64_t version) {
  return UnlessStarting(manager_.GetMetadata(name, version));
}

Result<std::vector<VersionStatus>> ServingService::GetModelStatus(const std::string& name,
                                                                  int64_t version) {
  return UnlessStarting(manager_.GetStatus(name, version));
}

Status ServingService::ModelReady(const std::string& name, int64_t version) {
  auto known = UnlessStarting(manager_.GetStatus(name, version));
  if (!known.ok()) return known.status();
  auto servable = manager_.Acquire(name, version);
  if (servable.ok()) return Status::Ok();
  return Unavailable(servable.status().message());
}

ServerMetadata ServingService::GetServerMetadata() const {
  return ServerMetadata{"tessera", kTesseraVersion, extensions_};
}

}  // namespace tessera
