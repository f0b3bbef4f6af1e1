#include "server/server_admin.h"

#include <algorithm>
#include <chrono>
#include <set>

#include "common/logging.h"

namespace tessera {

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

}  // namespace tessera
