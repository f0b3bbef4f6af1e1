// ModelAdmin: the configuration calls of the front doors (TFS REST
// /v1/config/reload and GET /v1/config, TFS gRPC HandleReloadConfigRequest).
// Implemented in server/, which owns the config file and the poller.
//
// Thread-safety: all methods may be called concurrently; reloads are
// serialised with the repository poller.
#pragma once

#include <string>
#include <vector>

#include "core/types.h"

namespace tessera {

// One model's versions, as listed by GET /v1/config.
struct ModelStatusEntry {
  std::string name;
  std::vector<VersionStatus> versions;
};

// Plain description of one model, as given by a ModelServerConfig.
struct ModelSource {
  std::string name;
  std::string base_path;
  std::string platform;  // may be empty
};

class ModelAdmin {
 public:
  virtual ~ModelAdmin() = default;

  // Re-reads the config file (config mode) and every version directory now
  // (single-model mode: the version directories only).
  // Returns true when anything changed, once the versions it retired have
  // finished unloading (END), or after a bounded wait (the server: 10 s) with
  // the ones still finishing requests UNLOADING. Errors (nothing of a bad config is
  // applied; the old state keeps serving):
  //   kNotFound      "Config file not found or cannot open."
  //   kInvalidArgument "Reloading config file failed. Check server logs for more info."
  virtual Result<bool> ReloadConfig() = 0;

  // Every model known (removed ones with END versions), sorted by name.
  virtual std::vector<ModelStatusEntry> AllModelStatuses() const = 0;

  // Replaces the served model list (TFS HandleReloadConfigRequest). Models
  // not listed are retired. kInvalidArgument for an invalid list;
  // kFailedPrecondition in single-model mode.
  virtual Status ReplaceModels(const std::vector<ModelSource>& models) = 0;
};

}  // namespace tessera
