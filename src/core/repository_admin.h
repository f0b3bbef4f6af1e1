// RepositoryAdmin: the model repository and statistics calls of the KServe
// front doors (Triton's "model_repository" and "statistics" extensions).
// Implemented in server/, which owns the manager, the pipelines and the
// statistics.
//
// Thread-safety: all methods may be called concurrently; loads and unloads
// are serialised with config reloads and the repository poller.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "common/result.h"
#include "core/statistics.h"

namespace tessera {

// Triton's model states (its repository index strings).
enum class ModelReadiness { kReady, kUnavailable, kLoading, kUnloading };

// "READY", "UNAVAILABLE", "LOADING", "UNLOADING".
const char* ModelReadinessName(ModelReadiness readiness);

// One row of the repository index: a model version, a pipeline (version 1),
// or a model with no version known (version 0).
struct RepositoryIndexEntry {
  std::string name;
  int64_t version = 0;
  ModelReadiness state = ModelReadiness::kUnavailable;
  std::string reason;  // why not READY; may be empty
};

// A parameter of a load or unload request, as a front door decoded it.
struct RepositoryParameter {
  std::string name;
  bool is_bool = false;  // a boolean value (else a string, number or bytes)
};

// OK when a load (`unload` false) or unload request may carry these
// parameters. Unload accepts Triton's "unload_dependents" (a boolean, and
// nothing to do: unloading a model never unloads another). Anything else is
// kInvalidArgument naming it; Triton's load parameter "config" (a model
// configuration to load with) says that models are configured in the
// config file.
Status CheckRepositoryParameters(bool unload, const std::vector<RepositoryParameter>& parameters);

// The answer of a front door built without a RepositoryAdmin: kUnimplemented.
Status RepositoryCallsNotServed();

class RepositoryAdmin {
 public:
  virtual ~RepositoryAdmin() = default;

  // Every model version and pipeline known (retired ones included), sorted by
  // name then version; only the READY ones when `ready_only`.
  virtual std::vector<RepositoryIndexEntry> RepositoryIndex(bool ready_only) const = 0;

  // Called exactly once with the outcome, on any thread, possibly before the
  // call returns.
  using Done = std::function<void(Status)>;

  // Loads (or reloads) every version of a model of the configuration and
  // clears an unload; `done` once the load is over. Errors: kNotFound (not
  // a model of the configuration), kInvalidArgument (a pipeline),
  // kUnavailable (no version could be loaded; names the load error).
  // Never blocks: loads and unloads run one at a time on a thread of their own.
  virtual void LoadModel(const std::string& name, Done done) = 0;

  // Retires every version of a model of the configuration (requests in
  // flight finish) and keeps it unloaded until LoadModel or a config
  // reload; `done` once no version is AVAILABLE any more (the retired ones
  // may still finish requests). Errors: kNotFound, kInvalidArgument (a
  // pipeline). Never blocks.
  virtual void UnloadModel(const std::string& name, Done done) = 0;

  // Statistics of every model version and pipeline (name empty), of one
  // model's versions (version kDefaultVersion), or of one version; sorted by
  // name then version. Errors: kNotFound "Model with requested name is not
  // found" / "Model with requested version is not found".
  virtual Result<std::vector<ModelStatistics>> GetModelStatistics(const std::string& name,
                                                                  int64_t version) const = 0;
};

}  // namespace tessera
