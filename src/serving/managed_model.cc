#include "serving/managed_model.h"

#include <algorithm>

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
  ServableOptions servable_options{scheduling.nireq, scheduling.max_queue, scheduling.batching};
  if (ctx.metrics) servable_options.metrics = ctx.metrics->ForVersion(name_, version);
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

void ManagedModel::RetireVersion(const LoadContext& ctx, int64_t version) {
  ModelHandle servable;
  {
    std::lock_guard lock(mu_);
    auto& record = versions_[version];
    servable = std::move(record.servable);
    record.state = servable ? VersionState::kUnloading : VersionState::kEnd;
    record.status = Status::Ok();
  }
  TLOG_INFO("Retiring model {} version {}", name_, version);
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

bool ManagedModel::Reconcile(const LoadContext& ctx, const ModelConfig& config, bool reload_all) {
  {
    std::lock_guard lock(mu_);
    config_ = config;
  }
  auto on_disk = ListVersions(ctx.fs, config.base_path);
  if (!on_disk.ok()) {
    TLOG_WARN("Model {}: {}", name_, on_disk.status().message());
  }
  std::vector<int64_t> wanted =
      SelectVersions(config.version_policy, on_disk.ok() ? *on_disk : std::vector<int64_t>{});

  std::vector<int64_t> to_load, to_retire;
  {
    std::lock_guard lock(mu_);
    for (int64_t v : wanted) {
      auto it = versions_.find(v);
      bool absent = it == versions_.end() || it->second.state == VersionState::kEnd ||
                    it->second.state == VersionState::kUnloading;
      if (absent || reload_all) to_load.push_back(v);
    }
    for (const auto& [v, record] : versions_) {
      bool live = record.state == VersionState::kAvailable ||
                  record.state == VersionState::kLoading;
      if (live && !Contains(wanted, v)) to_retire.push_back(v);
    }
  }
  bool changed = false;
  for (int64_t v : to_load) changed |= LoadVersion(ctx, config, v);
  for (int64_t v : to_retire) {
    RetireVersion(ctx, v);
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
  for (int64_t v : live) RetireVersion(ctx, v);
  return !live.empty();
}

Result<ModelHandle> ManagedModel::Acquire(int64_t version) const {
  std::lock_guard lock(mu_);
  if (version == kDefaultVersion) {
    bool loading = false;
    for (auto it = versions_.rbegin(); it != versions_.rend(); ++it) {
      if (it->second.state == VersionState::kAvailable) return it->second.servable;
      loading |= it->second.state == VersionState::kLoading ||
                 it->second.state == VersionState::kStart;
    }
    if (loading) return Unavailable("Model with requested version is not loaded yet");
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
      return Unavailable("Model with requested version is not loaded yet");
    default:
      return NotFound("Model with requested version is retired");
  }
}

std::vector<VersionStatus> ManagedModel::Statuses() const {
  std::lock_guard lock(mu_);
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
