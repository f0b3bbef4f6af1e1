// ModelManager: the set of served models and their versions.
//
// Updates (ApplyConfig, RefreshVersions) are serialised internally and load
// models on the calling thread; lookups read an immutable snapshot of the
// model map and never wait for a load or an inference.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "core/types.h"
#include "repository/file_system.h"
#include "repository/model_config.h"
#include "serving/managed_model.h"
#include "serving/reaper.h"

namespace tessera {

struct ManagerOptions {
  int default_nireq = 0;    // 0: one worker per core
  size_t max_queue = 4096;  // per model version
  // Longest usual run of a version that the calling (transport) thread runs
  // itself when the version is idle (Scheduler's inline runs); 0: never.
  std::chrono::microseconds inline_run_max{0};
  metrics::ServingMetrics* metrics = nullptr;  // not owned; null: metrics off
  metrics::StatsRegistry* stats = nullptr;     // not owned; null: no statistics
  int64_t max_image_pixels = image::kDefaultMaxImagePixels;  // --max_image_pixels
};

class ModelManager {
 public:
  // `fs` and `backends` must outlive the manager.
  ModelManager(const FileSystem& fs, const BackendRegistry& backends, ManagerOptions options);
  ~ModelManager();  // retires everything and waits for requests in flight

  // Adds new models, reconfigures changed ones, retires removed ones (they
  // stay listed with END versions). Returns true when anything changed.
  bool ApplyConfig(const ServerConfig& config);

  // Re-reads every model's version directories (not those of unloaded
  // models). Returns true on change.
  bool RefreshVersions();

  // Retires every version of the configured model `name` (requests in
  // flight finish) and keeps it so, through RefreshVersions, until
  // LoadModel or the next ApplyConfig (which loads every configured model).
  // Errors: kNotFound "Model with requested name is not found", or "Model
  // <name> is not in the configuration" for a removed model.
  Status UnloadModel(const std::string& name);
  // Loads the configured model `name` again (after UnloadModel), or reloads
  // every version of it, on the calling thread. kNotFound as UnloadModel;
  // kUnavailable "Model <name> has no version loaded: <why>" when no
  // version is AVAILABLE afterwards.
  Status LoadModel(const std::string& name);
  // True when `name` was unloaded by UnloadModel and not loaded since.
  bool IsUnloaded(const std::string& name) const;

  // Called at the end of every ApplyConfig (config_applied = true) and of
  // every RefreshVersions that changed anything (false), with the config in
  // force, serialised with those updates; it returns whether it changed
  // anything of its own (e.g. pipelines), which ApplyConfig/RefreshVersions
  // then report as a change. Set before the first ApplyConfig.
  using ChangeListener = std::function<bool(const ServerConfig& config, bool config_applied)>;
  void SetChangeListener(ChangeListener listener) { listener_ = std::move(listener); }

  // Waits until every version retired so far has finished unloading (its
  // in-flight requests done, its state END), but not past `deadline`.
  // Returns true when all have. Does not block updates meanwhile.
  bool WaitForRetired(std::chrono::steady_clock::time_point deadline) {
    return reaper_.DrainUntil(deadline);
  }

  Result<ModelHandle> Acquire(const std::string& name, int64_t version) const;
  // kDefaultVersion: every known version. A model with no version known and
  // a repository fault (base path missing, ...) is kNotFound "Model <name>
  // has no version: <fault>" (see ManagedModel).
  Result<std::vector<VersionStatus>> GetStatus(const std::string& name, int64_t version) const;
  Result<ModelMetadata> GetMetadata(const std::string& name, int64_t version) const;
  // Names of every model known, including removed ones, sorted.
  std::vector<std::string> ModelNames() const;
  // True when `name` is one of ModelNames().
  bool IsKnown(const std::string& name) const { return Find(name) != nullptr; }
  ServerConfig config() const;

 private:
  using ModelMap = std::map<std::string, std::shared_ptr<ManagedModel>>;
  std::shared_ptr<const ModelMap> Snapshot() const;
  std::shared_ptr<ManagedModel> Find(const std::string& name) const;
  // REQUIRES: update_mu_ held. The model `name` when the config lists it.
  Result<std::shared_ptr<ManagedModel>> FindConfiguredLocked(const std::string& name) const;
  LoadContext Context();

  const FileSystem& fs_;
  const BackendRegistry& backends_;
  const ManagerOptions options_;
  Reaper reaper_;

  std::mutex update_mu_;  // serialises ApplyConfig / RefreshVersions
  ChangeListener listener_;
  ServerConfig config_;   // guarded by update_mu_ (writes) and map_mu_ (reads)
  std::set<std::string> unloaded_;  // guarded by update_mu_ (writes) and map_mu_ (reads)
  mutable std::mutex map_mu_;
  std::shared_ptr<const ModelMap> models_;
};

}  // namespace tessera
