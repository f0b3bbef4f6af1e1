#include "serving/managed_model.h"

#include <algorithm>
#include <utility>

#include "common/logging.h"
#include "repository/mapping_config.h"
#include "repository/repository.h"
#include "repository/version_policy.h"
#include "serving/batch_tensors.h"
#include "serving/scheduler_settings.h"

namespace tessera {
namespace {

template <typename T, typename V>
bool Contains(const std::vector<T>& list, const V& v) {
  return std::find(list.begin(), list.end(), v) != list.end();
}

// The version's mapping_config.json, or no renames when it has none.
Result<TensorNameMapping> ReadMapping(const FileSystem& fs, const LoadOptions& options) {
  if (!Contains(options.file_names, kMappingConfigFile)) return TensorNameMapping{};
  const std::string path = JoinPath(options.version_dir, kMappingConfigFile);
  TESSERA_ASSIGN_OR_RETURN(std::string text, fs.ReadFile(path));
  return ParseMappingConfig(text, path);
}

// A listing error that tells what is on disk (nothing to serve), as opposed
// to one that says the base path could not be read.
bool BasePathGone(const Status& listing) {
  return listing.code() == StatusCode::kNotFound ||
         listing.code() == StatusCode::kFailedPrecondition;
}

// Why `config` has nothing to serve, given the listing of its base path and
// the versions its policy selects from it; OK when something is selected.
Status FaultOf(const ModelConfig& config, const Result<std::vector<int64_t>>& on_disk,
               const std::vector<int64_t>& wanted) {
  if (!on_disk.ok()) return on_disk.status();
  if (!wanted.empty()) return Status::Ok();
  if (on_disk->empty()) {
    return NotFound("base path " + config.base_path + " has no version directory");
  }
  return NotFound("no version directory in base path " + config.base_path +
                  " matches the version policy " + VersionPolicyToJson(config.version_policy));
}

}  // namespace

ModelConfig ManagedModel::config() const {
  std::lock_guard lock(mu_);
  return config_;
}

void ManagedModel::SetState(int64_t version, VersionState state, Status status,
                            ModelHandle servable) {
  std::lock_guard lock(mu_);
  auto& record = versions_[version];
  record.state = state;
  record.status = std::move(status);
  record.servable = std::move(servable);
}

Result<ModelHandle> ManagedModel::Load(const LoadContext& ctx, const ModelConfig& config,
                                       int64_t version) {
  TESSERA_ASSIGN_OR_RETURN(SchedulerSettings scheduling, ResolveSchedulerSettings(config, ctx.scheduler));
  LoadOptions options;
  options.version_dir = JoinPath(config.base_path, std::to_string(version));
  TESSERA_ASSIGN_OR_RETURN(options.file_names, ctx.fs.ListDirectory(options.version_dir));
  options.plugin_config = config.plugin_config;
  options.intra_op_threads = scheduling.intra_op_threads;

  TESSERA_ASSIGN_OR_RETURN(Backend * backend, ctx.backends.Find(options.file_names));
  TESSERA_ASSIGN_OR_RETURN(TensorNameMapping mapping, ReadMapping(ctx.fs, options));
  TESSERA_ASSIGN_OR_RETURN(auto loaded, backend->Load(options));
  auto interface =
      ModelInterface::Make(loaded->signature(), config, mapping, ctx.max_image_pixels);
  if (!interface.ok()) {
    return InvalidArgument("Model " + name_ + " version " + std::to_string(version) + ": " +
                           interface.status().message());
  }
  if (scheduling.batching) TESSERA_RETURN_IF_ERROR(CheckBatchable(loaded->signature()));
  ServableOptions servable_options{scheduling.nireq, scheduling.max_queue, scheduling.batching, {},
                                   scheduling.inline_run_max};
  if (ctx.metrics) servable_options.metrics = ctx.metrics->ForVersion(name_, version);
  if (ctx.stats) servable_options.metrics.stats = ctx.stats->ForVersion(name_, version);
  auto servable = std::make_shared<Servable>(name_, version, std::move(loaded), servable_options,
                                             std::move(*interface));
  TLOG_INFO("Model {} version {}: {} workers x {} intra-op threads, queue {}{}", name_, version,
            scheduling.nireq, scheduling.intra_op_threads, scheduling.max_queue,
            scheduling.batching ? ", dynamic batching up to " +
                                      std::to_string(scheduling.batching->max_batch_size) + " rows"
                                : "");
  Status warm = servable->Warmup();
  if (!warm.ok()) {
    servable->Shutdown();
    return Status(warm.code(), "Warm-up inference failed: " + warm.message());
  }
  return servable;
}

bool ManagedModel::LoadVersion(const LoadContext& ctx, const ModelConfig& config,
                               int64_t version) {
  ModelHandle previous;
  {
    std::lock_guard lock(mu_);
    auto it = versions_.find(version);
    if (it != versions_.end() && it->second.state == VersionState::kAvailable) {
      previous = it->second.servable;  // a reload: keep serving it meanwhile
    }
  }
  if (!previous) SetState(version, VersionState::kLoading, Status::Ok(), nullptr);
  TLOG_INFO("Loading model {} version {}", name_, version);
  auto loaded = Load(ctx, config, version);
  if (!loaded.ok()) {
    if (previous) {
      TLOG_ERROR("Reloading model {} version {} failed, previous load keeps serving: {}", name_,
                 version, loaded.status().message());
      return false;
    }
    TLOG_ERROR("Loading model {} version {} failed: {}", name_, version,
               loaded.status().message());
    SetState(version, VersionState::kLoading, Unknown(loaded.status().message()), nullptr);
    return true;
  }
  SetState(version, VersionState::kAvailable, Status::Ok(), *loaded);
  TLOG_INFO("Model {} version {} is AVAILABLE", name_, version);
  if (previous) ctx.reaper.Retire(std::move(previous), nullptr);
  return true;
}

void ManagedModel::RetireVersion(const LoadContext& ctx, int64_t version, const Status& cause) {
  ModelHandle servable;
  {
    std::lock_guard lock(mu_);
    auto& record = versions_[version];
    servable = std::move(record.servable);
    record.state = servable ? VersionState::kUnloading : VersionState::kEnd;
    if (!cause.ok()) record.status = cause;  // else: OK, or the failed load's error
  }
  TLOG_INFO("Retiring model {} version {}{}", name_, version,
            cause.ok() ? "" : ": " + cause.message());
  if (!servable) return;
  std::weak_ptr<ManagedModel> weak = weak_from_this();
  ctx.reaper.Retire(std::move(servable), [weak, version] {
    auto self = weak.lock();
    if (!self) return;
    std::lock_guard lock(self->mu_);
    auto& record = self->versions_[version];
    if (record.state == VersionState::kUnloading) record.state = VersionState::kEnd;
  });
}

bool ManagedModel::SetFault(Status fault) {
  Status previous;
  {
    std::lock_guard lock(mu_);
    if (fault_ == fault) return false;
    previous = std::exchange(fault_, fault);
  }
  if (!fault.ok()) {
    TLOG_WARN("Model {}: {}", name_, fault.message());
  } else {
    TLOG_INFO("Model {}: repository fault cleared ({})", name_, previous.message());
  }
  return true;
}

std::vector<int64_t> ManagedModel::StandInsLocked(const std::vector<int64_t>& wanted) const {
  size_t failed = 0;
  for (int64_t v : wanted) {
    auto it = versions_.find(v);
    if (it == versions_.end() || it->second.state != VersionState::kAvailable) ++failed;
  }
  std::vector<int64_t> stand_ins;
  for (auto it = versions_.rbegin(); it != versions_.rend() && stand_ins.size() < failed; ++it) {
    if (it->second.state == VersionState::kAvailable && !Contains(wanted, it->first)) {
      stand_ins.push_back(it->first);
    }
  }
  return stand_ins;
}

bool ManagedModel::Reconcile(const LoadContext& ctx, const ModelConfig& config, bool reload_all) {
  {
    std::lock_guard lock(mu_);
    config_ = config;
    reload_all |= std::exchange(reload_pending_, false);
  }
  auto on_disk = ListVersions(ctx.fs, config.base_path);
  if (!on_disk.ok() && !BasePathGone(on_disk.status())) {
    // What is on disk is unknown: what is loaded keeps serving, and a reload
    // asked for now is done by the first Reconcile that can list it.
    if (reload_all) {
      std::lock_guard lock(mu_);
      reload_pending_ = true;
    }
    return SetFault(on_disk.status());
  }
  std::vector<int64_t> wanted =
      SelectVersions(config.version_policy, on_disk.ok() ? *on_disk : std::vector<int64_t>{});
  const Status fault = FaultOf(config, on_disk, wanted);
  bool changed = SetFault(fault);

  std::vector<int64_t> to_load;
  {
    std::lock_guard lock(mu_);
    for (int64_t v : wanted) {
      auto it = versions_.find(v);
      bool absent = it == versions_.end() || it->second.state == VersionState::kEnd ||
                    it->second.state == VersionState::kUnloading;
      if (absent || reload_all) to_load.push_back(v);
    }
  }
  for (int64_t v : to_load) changed |= LoadVersion(ctx, config, v);

  // Only now, with the wanted versions loaded or failed, is it known which
  // old versions must stay.
  std::vector<int64_t> stand_ins, to_retire;
  {
    std::lock_guard lock(mu_);
    stand_ins = StandInsLocked(wanted);
    for (const auto& [v, record] : versions_) {
      bool live = record.state == VersionState::kAvailable ||
                  record.state == VersionState::kLoading;
      if (live && !Contains(wanted, v) && !Contains(stand_ins, v)) to_retire.push_back(v);
    }
  }
  for (int64_t v : stand_ins) {
    TLOG_DEBUG("Model {} version {} keeps serving until its successor loads", name_, v);
    if (reload_all) changed |= LoadVersion(ctx, config, v);
  }
  for (int64_t v : to_retire) {
    RetireVersion(ctx, v, fault);
    changed = true;
  }
  return changed;
}

bool ManagedModel::RetireAll(const LoadContext& ctx) {
  std::vector<int64_t> live;
  {
    std::lock_guard lock(mu_);
    for (const auto& [v, record] : versions_) {
      if (record.state != VersionState::kEnd && record.state != VersionState::kUnloading) {
        live.push_back(v);
      }
    }
  }
  for (int64_t v : live) RetireVersion(ctx, v, Status::Ok());
  return !live.empty();
}

Status ManagedModel::NoVersionLocked() const {
  return NotFound("Model " + name_ + " has no version: " + fault_.message());
}

Status ManagedModel::NotLoadedLocked(int64_t version, const VersionRecord& record) const {
  if (record.status.ok()) return Unavailable("Model with requested version is not loaded yet");
  return Unavailable("Model " + name_ + " version " + std::to_string(version) +
                     " failed to load: " + record.status.message());
}

Result<ModelHandle> ManagedModel::Acquire(int64_t version) const {
  std::lock_guard lock(mu_);
  if (!fault_.ok()) {
    bool any_available = false;
    for (const auto& [v, record] : versions_) {
      any_available |= record.state == VersionState::kAvailable;
    }
    if (!any_available) return NoVersionLocked();
  }
  if (version == kDefaultVersion) {
    // Nothing AVAILABLE: a load still running is "not loaded yet"; else the
    // newest failed load is named.
    const VersionRecord* failed = nullptr;
    int64_t failed_version = 0;
    bool loading = false;
    for (auto it = versions_.rbegin(); it != versions_.rend(); ++it) {
      const VersionRecord& record = it->second;
      if (record.state == VersionState::kAvailable) return record.servable;
      if (record.state != VersionState::kLoading && record.state != VersionState::kStart) continue;
      if (record.status.ok()) {
        loading = true;
      } else if (!failed) {
        failed = &record;
        failed_version = it->first;
      }
    }
    if (loading) return Unavailable("Model with requested version is not loaded yet");
    if (failed) return NotLoadedLocked(failed_version, *failed);
    if (!versions_.empty()) return NotFound("Model with requested version is retired");
    return NotFound("Model with requested version is not found");
  }
  auto it = versions_.find(version);
  if (it == versions_.end()) return NotFound("Model with requested version is not found");
  switch (it->second.state) {
    case VersionState::kAvailable:
      return it->second.servable;
    case VersionState::kStart:
    case VersionState::kLoading:
      return NotLoadedLocked(version, it->second);
    default:
      return NotFound("Model with requested version is retired");
  }
}

Result<std::vector<VersionStatus>> ManagedModel::Statuses() const {
  std::lock_guard lock(mu_);
  if (versions_.empty() && !fault_.ok()) return NoVersionLocked();
  std::vector<VersionStatus> out;
  for (const auto& [v, record] : versions_) out.push_back({v, record.state, record.status});
  return out;
}

std::vector<int64_t> ManagedModel::AvailableVersions() const {
  std::lock_guard lock(mu_);
  std::vector<int64_t> out;
  for (const auto& [v, record] : versions_) {
    if (record.state == VersionState::kAvailable) out.push_back(v);
  }
  return out;
}

}  // namespace tessera
