// ManagedModel: one model's versions and their lifecycle.
//
// Which versions should be served is the VersionPolicy applied to what is on
// disk; how to switch is here: new versions are loaded and warmed up before
// old ones are retired, so no request fails during a swap. A failed load is
// that version's state (LOADING with an UNKNOWN status); it is not retried
// until the model's config changes.
//
// Thread-safety: Acquire/Statuses/... may be called concurrently with one
// Reconcile/RetireAll (callers serialise those). No lock is held while a
// model loads or runs.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "backend/backend.h"
#include "core/types.h"
#include "image/image_decoder.h"
#include "repository/file_system.h"
#include "repository/model_config.h"
#include "serving/reaper.h"
#include "serving/scheduler_settings.h"
#include "serving/servable.h"

namespace tessera {

// What loading needs from the manager; all referenced objects outlive it.
struct LoadContext {
  const FileSystem& fs;
  const BackendRegistry& backends;
  Reaper& reaper;
  SchedulerDefaults scheduler;
  metrics::ServingMetrics* metrics = nullptr;  // null: metrics off
  int64_t max_image_pixels = image::kDefaultMaxImagePixels;  // see ModelInterface
};

class ManagedModel : public std::enable_shared_from_this<ManagedModel> {
 public:
  explicit ManagedModel(std::string name) : name_(std::move(name)) {}

  const std::string& name() const { return name_; }
  ModelConfig config() const;

  // Applies `config` and the version directories now on disk. When
  // `reload_all`, versions that stay are reloaded too (their config changed).
  // Returns true when any version changed state.
  bool Reconcile(const LoadContext& ctx, const ModelConfig& config, bool reload_all);

  // Retires every version (the model left the config).
  bool RetireAll(const LoadContext& ctx);

  // The servable of `version` (kDefaultVersion: highest AVAILABLE).
  // kNotFound / kUnavailable with OVMS's texts otherwise.
  Result<ModelHandle> Acquire(int64_t version) const;

  // Every known version, END ones included, ascending.
  std::vector<VersionStatus> Statuses() const;
  std::vector<int64_t> AvailableVersions() const;

 private:
  struct VersionRecord {
    VersionState state = VersionState::kStart;
    Status status;
    ModelHandle servable;
  };

  Result<ModelHandle> Load(const LoadContext& ctx, const ModelConfig& config, int64_t version);
  bool LoadVersion(const LoadContext& ctx, const ModelConfig& config, int64_t version);
  void RetireVersion(const LoadContext& ctx, int64_t version);
  void SetState(int64_t version, VersionState state, Status status, ModelHandle servable);

  const std::string name_;
  mutable std::mutex mu_;
  ModelConfig config_;
  std::map<int64_t, VersionRecord> versions_;
};

}  // namespace tessera
