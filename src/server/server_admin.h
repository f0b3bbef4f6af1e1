// ServerAdmin: the ModelAdmin of a running server — config reloads through
// the repository poller, model lists from the manager.
#pragma once

#include <chrono>

#include "core/model_admin.h"
#include "pipeline/pipeline_service.h"
#include "server/repository_poller.h"
#include "serving/model_manager.h"

namespace tessera {

// How long ReloadConfig waits for the versions it retired to finish their
// in-flight requests and reach END before it answers (with them UNLOADING).
inline constexpr std::chrono::seconds kReloadUnloadWait{10};

class ServerAdmin : public ModelAdmin {
 public:
  // `manager` and `poller` must outlive this object.
  ServerAdmin(ModelManager& manager, RepositoryPoller& poller)
      : manager_(manager), poller_(poller) {}

  // Pipelines are listed beside the models by AllModelStatuses (a name is a
  // model first, so a pipeline named like a model is not listed).
  // `pipelines` must outlive this object; null: no pipelines.
  void SetPipelines(const pipeline::PipelineService* pipelines) { pipelines_ = pipelines; }

  Result<bool> ReloadConfig() override;
  std::vector<ModelStatusEntry> AllModelStatuses() const override;
  Status ReplaceModels(const std::vector<ModelSource>& models) override;

 private:
  ModelManager& manager_;
  RepositoryPoller& poller_;
  const pipeline::PipelineService* pipelines_ = nullptr;
};

}  // namespace tessera
