#include "server/server_admin.h"

#include <algorithm>
#include <chrono>
#include <set>
#include <tuple>

#include "common/logging.h"

namespace tessera {
namespace {

// The index row of one version (see ServerAdmin::RepositoryIndex).
RepositoryIndexEntry IndexEntry(const std::string& name, const VersionStatus& status,
                                bool unloaded, bool configured) {
  RepositoryIndexEntry entry{name, status.version, ModelReadiness::kUnavailable, ""};
  switch (status.state) {
    case VersionState::kAvailable:
      entry.state = ModelReadiness::kReady;
      break;
    case VersionState::kStart:
    case VersionState::kLoading:
      if (status.status.ok()) {
        entry.state = ModelReadiness::kLoading;
      } else {
        entry.reason = status.status.message();
      }
      break;
    case VersionState::kUnloading:
      entry.state = ModelReadiness::kUnloading;
      if (unloaded) entry.reason = "unloaded";
      break;
    case VersionState::kEnd:
      entry.reason = unloaded              ? "unloaded"
                     : !configured         ? "removed from the configuration"
                     : !status.status.ok() ? status.status.message()
                                           : "retired";
      break;
  }
  return entry;
}

}  // namespace

Result<bool> ServerAdmin::ReloadConfig() {
  // In single-model mode there is no file to read: as OVMS, a reload then
  // rescans the model's version directories only.
  Result<bool> changed = poller_.Reload(/*only_if_changed=*/false);
  // As OVMS, the reply shows what the reload did: retired versions END once
  // their in-flight requests finish (bounded, see kReloadUnloadWait).
  if (changed.ok() &&
      !manager_.WaitForRetired(std::chrono::steady_clock::now() + kReloadUnloadWait)) {
    TLOG_WARN("Config reload: versions still finishing requests after {} s are listed as UNLOADING",
              kReloadUnloadWait.count());
  }
  return changed;
}

std::vector<ModelStatusEntry> ServerAdmin::AllModelStatuses() const {
  std::vector<ModelStatusEntry> entries;
  for (const auto& name : manager_.ModelNames()) {
    auto statuses = manager_.GetStatus(name, kDefaultVersion);
    // A model without versions (e.g. its base path is missing) stays listed.
    entries.push_back({name, statuses.ok() ? std::move(*statuses) : std::vector<VersionStatus>{}});
  }
  if (pipelines_) {
    for (auto& entry : pipelines_->PipelineStatuses()) {
      if (!manager_.IsKnown(entry.name)) entries.push_back(std::move(entry));
    }
    std::sort(entries.begin(), entries.end(),
              [](const ModelStatusEntry& a, const ModelStatusEntry& b) { return a.name < b.name; });
  }
  return entries;
}

Status ServerAdmin::ReplaceModels(const std::vector<ModelSource>& models) {
  if (!poller_.has_config_file()) {
    return FailedPrecondition("Config reload is not available in single-model mode");
  }
  ServerConfig config = manager_.config();
  std::vector<ModelConfig> replaced;
  std::set<std::string> names;
  for (const auto& source : models) {
    if (source.name.empty() || source.base_path.empty()) {
      return InvalidArgument("Every model needs a name and a base_path");
    }
    if (!names.insert(source.name).second) {
      return InvalidArgument("Duplicate model name: " + source.name);
    }
    ModelConfig model;
    for (const auto& existing : config.models) {
      if (existing.name == source.name) model = existing;  // keep its other settings
    }
    model.name = source.name;
    model.base_path = source.base_path;
    replaced.push_back(std::move(model));
  }
  config.models = std::move(replaced);
  manager_.ApplyConfig(config);
  return Status::Ok();
}

bool ServerAdmin::IsPipeline(const std::string& name) const {
  if (!pipelines_ || manager_.IsKnown(name)) return false;
  for (const auto& entry : pipelines_->PipelineStatuses()) {
    if (entry.name == name) return true;
  }
  return false;
}

std::vector<RepositoryIndexEntry> ServerAdmin::RepositoryIndex(bool ready_only) const {
  const ServerConfig config = manager_.config();
  auto configured = [&config](const std::string& name) {
    return std::any_of(config.models.begin(), config.models.end(),
                       [&name](const ModelConfig& m) { return m.name == name; });
  };
  std::vector<RepositoryIndexEntry> entries;
  for (const auto& name : manager_.ModelNames()) {
    const bool unloaded = manager_.IsUnloaded(name);
    auto statuses = manager_.GetStatus(name, kDefaultVersion);
    if (!statuses.ok() || statuses->empty()) {
      entries.push_back({name, 0, ModelReadiness::kUnavailable,
                         !statuses.ok() ? statuses.status().message()
                         : unloaded     ? "unloaded"
                                        : "no version"});
      continue;
    }
    for (const auto& status : *statuses) {
      entries.push_back(IndexEntry(name, status, unloaded, configured(name)));
    }
  }
  if (pipelines_) {
    for (const auto& pipeline : pipelines_->PipelineStatuses()) {
      if (manager_.IsKnown(pipeline.name)) continue;
      for (const auto& status : pipeline.versions) {
        entries.push_back(IndexEntry(pipeline.name, status, false, status.state != VersionState::kEnd));
      }
    }
  }
  if (ready_only) {
    entries.erase(std::remove_if(entries.begin(), entries.end(),
                                 [](const RepositoryIndexEntry& e) { return e.state != ModelReadiness::kReady; }),
                  entries.end());
  }
  std::sort(entries.begin(), entries.end(), [](const RepositoryIndexEntry& a, const RepositoryIndexEntry& b) {
    return std::tie(a.name, a.version) < std::tie(b.name, b.version);
  });
  return entries;
}

Status ServerAdmin::CheckLoadable(const std::string& name) const {
  if (manager_.IsKnown(name)) return Status::Ok();
  if (IsPipeline(name)) {
    return InvalidArgument("Pipeline " + name +
                           " cannot be loaded or unloaded: pipelines follow the config file and "
                           "the states of their models");
  }
  return NotFound("Model with requested name is not found");
}

void ServerAdmin::LoadModel(const std::string& name, Done done) {
  Status loadable = CheckLoadable(name);
  if (!loadable.ok()) return done(loadable);
  worker_.Submit([this, name, done = std::move(done)] { done(manager_.LoadModel(name)); });
}

void ServerAdmin::UnloadModel(const std::string& name, Done done) {
  Status loadable = CheckLoadable(name);
  if (!loadable.ok()) return done(loadable);
  worker_.Submit([this, name, done = std::move(done)] { done(manager_.UnloadModel(name)); });
}

Result<std::vector<ModelStatistics>> ServerAdmin::GetModelStatistics(const std::string& name,
                                                                     int64_t version) const {
  if (name.empty()) return stats_.Read();
  if (!manager_.IsKnown(name) && !IsPipeline(name)) {
    return NotFound("Model with requested name is not found");
  }
  std::vector<ModelStatistics> stats = stats_.Read(name);
  if (version == kDefaultVersion) return stats;
  for (auto& s : stats) {
    if (s.version == version) return std::vector<ModelStatistics>{std::move(s)};
  }
  return NotFound("Model with requested version is not found");
}

}  // namespace tessera
