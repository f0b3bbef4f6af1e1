#include "serving/model_manager.h"

#include <set>
#include <thread>

#include "common/logging.h"

namespace tessera {
namespace {

// Everything but the version policy changes how a version is loaded.
bool LoadSettingsDiffer(ModelConfig a, ModelConfig b) {
  a.version_policy = b.version_policy;
  return !(a == b);
}

const ModelConfig* FindConfig(const ServerConfig& config, const std::string& name) {
  for (const auto& model : config.models) {
    if (model.name == name) return &model;
  }
  return nullptr;
}

}  // namespace

ModelManager::ModelManager(const FileSystem& fs, const BackendRegistry& backends,
                           ManagerOptions options)
    : fs_(fs), backends_(backends), options_(options), models_(std::make_shared<ModelMap>()) {}

ModelManager::~ModelManager() {
  std::lock_guard update(update_mu_);
  auto ctx = Context();
  for (const auto& [name, model] : *Snapshot()) model->RetireAll(ctx);
  reaper_.Drain();
}

LoadContext ModelManager::Context() {
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int nireq = options_.default_nireq > 0 ? options_.default_nireq : cores;
  return LoadContext{fs_, backends_, reaper_, SchedulerDefaults{cores, nireq, options_.max_queue, options_.inline_run_max},
                     options_.metrics, options_.max_image_pixels, options_.stats};
}

std::shared_ptr<const ModelManager::ModelMap> ModelManager::Snapshot() const {
  std::lock_guard lock(map_mu_);
  return models_;
}

std::shared_ptr<ManagedModel> ModelManager::Find(const std::string& name) const {
  auto snapshot = Snapshot();
  auto it = snapshot->find(name);
  return it == snapshot->end() ? nullptr : it->second;
}

bool ModelManager::ApplyConfig(const ServerConfig& config) {
  std::lock_guard update(update_mu_);
  auto ctx = Context();
  auto next = std::make_shared<ModelMap>(*Snapshot());
  std::set<std::string> added;
  for (const auto& model_config : config.models) {
    if (next->count(model_config.name)) continue;
    (*next)[model_config.name] = std::make_shared<ManagedModel>(model_config.name);
    added.insert(model_config.name);
  }
  {
    // Publish new names first so their LOADING state is visible while loading.
    // Applying a config loads every model it lists: unloads end here.
    std::lock_guard lock(map_mu_);
    models_ = next;
    config_ = config;
    unloaded_.clear();
  }
  bool changed = !added.empty();
  for (const auto& [name, model] : *next) {
    const ModelConfig* wanted = FindConfig(config, name);
    if (!wanted) {
      changed |= model->RetireAll(ctx);
      continue;
    }
    bool reload = !added.count(name) && LoadSettingsDiffer(model->config(), *wanted);
    changed |= reload;
    changed |= model->Reconcile(ctx, *wanted, reload);
  }
  if (listener_) changed |= listener_(config_, /*config_applied=*/true);
  return changed;
}

bool ModelManager::RefreshVersions() {
  std::lock_guard update(update_mu_);
  auto ctx = Context();
  auto snapshot = Snapshot();
  bool changed = false;
  for (const auto& model_config : config_.models) {
    if (unloaded_.count(model_config.name)) continue;
    auto it = snapshot->find(model_config.name);
    if (it != snapshot->end()) changed |= it->second->Reconcile(ctx, model_config, false);
  }
  if (changed && listener_) listener_(config_, /*config_applied=*/false);
  return changed;
}

Result<std::shared_ptr<ManagedModel>> ModelManager::FindConfiguredLocked(const std::string& name) const {
  auto model = Find(name);
  if (!model) return NotFound("Model with requested name is not found");
  if (!FindConfig(config_, name)) return NotFound("Model " + name + " is not in the configuration");
  return model;
}

Status ModelManager::UnloadModel(const std::string& name) {
  std::lock_guard update(update_mu_);
  TESSERA_ASSIGN_OR_RETURN(auto model, FindConfiguredLocked(name));
  {
    std::lock_guard lock(map_mu_);
    unloaded_.insert(name);
  }
  TLOG_INFO("Unloading model {} (repository request)", name);
  if (model->RetireAll(Context()) && listener_) listener_(config_, /*config_applied=*/false);
  return Status::Ok();
}

Status ModelManager::LoadModel(const std::string& name) {
  std::lock_guard update(update_mu_);
  TESSERA_ASSIGN_OR_RETURN(auto model, FindConfiguredLocked(name));
  {
    std::lock_guard lock(map_mu_);
    unloaded_.erase(name);
  }
  TLOG_INFO("Loading model {} (repository request)", name);
  model->Reconcile(Context(), *FindConfig(config_, name), /*reload_all=*/true);
  if (listener_) listener_(config_, /*config_applied=*/false);
  if (!model->AvailableVersions().empty()) return Status::Ok();
  const std::string prefix = "Model " + name + " has no version loaded";
  auto statuses = model->Statuses();
  if (!statuses.ok()) return Unavailable(prefix + ": " + statuses.status().message());
  for (auto it = statuses->rbegin(); it != statuses->rend(); ++it) {
    if (!it->status.ok()) {
      return Unavailable(prefix + ": version " + std::to_string(it->version) + ": " + it->status.message());
    }
  }
  return Unavailable(prefix);
}

bool ModelManager::IsUnloaded(const std::string& name) const {
  std::lock_guard lock(map_mu_);
  return unloaded_.count(name) > 0;
}

Result<ModelHandle> ModelManager::Acquire(const std::string& name, int64_t version) const {
  auto model = Find(name);
  if (!model) return NotFound("Model with requested name is not found");
  auto servable = model->Acquire(version);
  if (!servable.ok() && IsUnloaded(name)) {
    return Unavailable("Model " + name +
                       " is unloaded (a repository load request or a config reload loads it again)");
  }
  return servable;
}

Result<std::vector<VersionStatus>> ModelManager::GetStatus(const std::string& name,
                                                           int64_t version) const {
  auto model = Find(name);
  if (!model) return NotFound("Model with requested name is not found");
  TESSERA_ASSIGN_OR_RETURN(std::vector<VersionStatus> statuses, model->Statuses());
  if (version == kDefaultVersion) return statuses;
  for (const auto& status : statuses) {
    if (status.version == version) return std::vector<VersionStatus>{status};
  }
  return NotFound("Model with requested version is not found");
}

Result<ModelMetadata> ModelManager::GetMetadata(const std::string& name, int64_t version) const {
  auto model = Find(name);
  if (!model) return NotFound("Model with requested name is not found");
  TESSERA_ASSIGN_OR_RETURN(ModelHandle servable, Acquire(name, version));
  ModelMetadata metadata;
  metadata.name = name;
  metadata.version = servable->version();
  metadata.versions = model->AvailableVersions();
  metadata.platform = servable->platform();
  metadata.signature = servable->signature();
  return metadata;
}

std::vector<std::string> ModelManager::ModelNames() const {
  std::vector<std::string> names;
  for (const auto& [name, model] : *Snapshot()) names.push_back(name);
  return names;
}

ServerConfig ModelManager::config() const {
  std::lock_guard lock(map_mu_);
  return config_;
}

}  // namespace tessera
