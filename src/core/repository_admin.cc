#include "core/repository_admin.h"

namespace tessera {

const char* ModelReadinessName(ModelReadiness readiness) {
  switch (readiness) {
    case ModelReadiness::kReady: return "READY";
    case ModelReadiness::kUnavailable: return "UNAVAILABLE";
    case ModelReadiness::kLoading: return "LOADING";
    case ModelReadiness::kUnloading: return "UNLOADING";
  }
  return "UNAVAILABLE";
}

Status RepositoryCallsNotServed() {
  return Unimplemented("The model repository and statistics calls are not served");
}

Status CheckRepositoryParameters(bool unload, const std::vector<RepositoryParameter>& parameters) {
  for (const auto& parameter : parameters) {
    if (unload && parameter.name == "unload_dependents") {
      if (!parameter.is_bool) return InvalidArgument("Parameter 'unload_dependents' must be a boolean");
      continue;
    }
    if (!unload && parameter.name == "config") {
      return InvalidArgument(
          "Parameter 'config' is not supported: models are configured in the config file");
    }
    return InvalidArgument("Unknown parameter '" + parameter.name + "' of a model " +
                           (unload ? "unload" : "load") + " request");
  }
  return Status::Ok();
}

}  // namespace tessera
