// ManagedModel: one model's versions and their lifecycle.
//
// Which versions should be served is the VersionPolicy applied to what is on
// disk ("wanted"); how to switch is here: new versions are loaded and warmed
// up before old ones are retired, so no request fails during a swap. A failed
// load is that version's state (LOADING with an UNKNOWN status and the load
// error); it is not retried until the model's config changes or its
// directory is removed and added again.
//
// Availability is preserved as TF Serving does: the versions served are the
// wanted versions that are AVAILABLE plus, for each wanted version that is
// not AVAILABLE (its load failed), the newest AVAILABLE version the policy
// drops (each kept version stands in for one failed one). So a corrupt new
// version never takes the model down; the old version keeps serving, and
// stays the default, until a successor loads.
//
// Repository faults are the model's own status (fault_ below): base
// path missing, not a directory, not listable, without version directories, or
// with none the policy selects. A version retired because of one carries it
// as its status (END + the fault) instead of OK. When the base path cannot be
// listed for another reason (permissions, I/O) nothing is loaded or retired:
// what is loaded keeps serving. Every Reconcile re-reads the base path, so a
// fault clears by itself on the next poll once the path is back.
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
  metrics::StatsRegistry* stats = nullptr;     // null: no statistics
};

class ManagedModel : public std::enable_shared_from_this<ManagedModel> {
 public:
  explicit ManagedModel(std::string name) : name_(std::move(name)) {}

  const std::string& name() const { return name_; }
  // The config last given to Reconcile.
  ModelConfig config() const;

  // Applies `config` and the version directories now on disk. When
  // `reload_all`, versions that stay are reloaded too (their config changed).
  // When the base path cannot be listed, nothing is loaded or retired and a
  // requested reload stays pending: the next Reconcile that lists the base
  // path does it, whatever its own `reload_all`. config() is `config` either
  // way. Returns true when any version changed state.
  bool Reconcile(const LoadContext& ctx, const ModelConfig& config, bool reload_all);

  // Retires every version (the model left the config).
  bool RetireAll(const LoadContext& ctx);

  // The servable of `version` (kDefaultVersion: highest AVAILABLE).
  // kNotFound / kUnavailable with OVMS's texts otherwise, except that a
  // version whose load failed is kUnavailable "Model <name> version <v>
  // failed to load: <load error>" (for kDefaultVersion: the newest failed
  // one, when nothing is AVAILABLE or still loading); with a repository
  // fault and no AVAILABLE version, kNotFound "Model <name> has no version:
  // <fault>".
  Result<ModelHandle> Acquire(int64_t version) const;

  // Every known version, END ones included, ascending. When no version is
  // known and the repository has a fault: kNotFound "Model <name> has no
  // version: <fault>" (TF Serving answers a model without versions with
  // NOT_FOUND too; this names why).
  Result<std::vector<VersionStatus>> Statuses() const;
  std::vector<int64_t> AvailableVersions() const;

 private:
  struct VersionRecord {
    VersionState state = VersionState::kStart;
    Status status;
    ModelHandle servable;
  };

  Result<ModelHandle> Load(const LoadContext& ctx, const ModelConfig& config, int64_t version);
  bool LoadVersion(const LoadContext& ctx, const ModelConfig& config, int64_t version);
  // `cause`: OK for a normal retirement; a repository fault becomes the
  // version's status. A failed load keeps its error either way.
  void RetireVersion(const LoadContext& ctx, int64_t version, const Status& cause);
  void SetState(int64_t version, VersionState state, Status status, ModelHandle servable);
  // Records the repository fault; logs and returns true when it changed.
  bool SetFault(Status fault);
  // REQUIRES: mu_ held. The AVAILABLE versions outside `wanted` kept serving
  // in place of wanted versions that are not AVAILABLE (see the rule above).
  std::vector<int64_t> StandInsLocked(const std::vector<int64_t>& wanted) const;
  // REQUIRES: mu_ held. kUnavailable for `record` (LOADING or START): "not
  // loaded yet", or its load error when the load failed.
  Status NotLoadedLocked(int64_t version, const VersionRecord& record) const;
  // REQUIRES: mu_ held. kNotFound "Model <name> has no version: <fault>".
  Status NoVersionLocked() const;

  const std::string name_;
  mutable std::mutex mu_;
  ModelConfig config_;
  std::map<int64_t, VersionRecord> versions_;
  // A reload_all that could not run yet (base path not listable).
  bool reload_pending_ = false;
  // Why the last Reconcile found nothing to serve, e.g. NotFound "base path
  // /m does not exist"; OK when the repository is fine.
  Status fault_;
};

}  // namespace tessera
