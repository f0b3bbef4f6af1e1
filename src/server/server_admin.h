// ServerAdmin: the ModelAdmin and RepositoryAdmin of a running server —
// config reloads through the repository poller, model lists, loads and
// unloads from the manager, statistics from the StatsRegistry.
#pragma once

#include <chrono>

#include "common/task_pool.h"
#include "core/model_admin.h"
#include "core/repository_admin.h"
#include "metrics/version_stats.h"
#include "pipeline/pipeline_service.h"
#include "server/repository_poller.h"
#include "serving/model_manager.h"

namespace tessera {

// How long ReloadConfig waits for the versions it retired to finish their
// in-flight requests and reach END before it answers (with them UNLOADING).
inline constexpr std::chrono::seconds kReloadUnloadWait{10};

class ServerAdmin : public ModelAdmin, public RepositoryAdmin {
 public:
  // `manager`, `poller` and `stats` must outlive this object.
  ServerAdmin(ModelManager& manager, RepositoryPoller& poller, const metrics::StatsRegistry& stats)
      : manager_(manager), poller_(poller), stats_(stats) {}

  // Pipelines are listed beside the models by AllModelStatuses (a name is a
  // model first, so a pipeline named like a model is not listed).
  // `pipelines` must outlive this object; null: no pipelines.
  void SetPipelines(const pipeline::PipelineService* pipelines) { pipelines_ = pipelines; }

  Result<bool> ReloadConfig() override;
  std::vector<ModelStatusEntry> AllModelStatuses() const override;
  Status ReplaceModels(const std::vector<ModelSource>& models) override;

  // Models (one row per known version; a model without any: version 0) and
  // pipelines (version 1). States: AVAILABLE is READY; LOADING (START) is
  // LOADING, or UNAVAILABLE with the error when the load (a pipeline's
  // validation) failed; UNLOADING; END is UNAVAILABLE with the reason
  // "unloaded" (UnloadModel), "removed from the configuration", the
  // repository fault, or "retired" (no longer selected by the version
  // policy).
  std::vector<RepositoryIndexEntry> RepositoryIndex(bool ready_only) const override;
  // kInvalidArgument for a pipeline: pipelines follow the config file and
  // their models' states.
  void LoadModel(const std::string& name, Done done) override;
  void UnloadModel(const std::string& name, Done done) override;
  Result<std::vector<ModelStatistics>> GetModelStatistics(const std::string& name,
                                                          int64_t version) const override;

 private:
  // OK for a model; kInvalidArgument for a pipeline; kNotFound otherwise.
  Status CheckLoadable(const std::string& name) const;
  bool IsPipeline(const std::string& name) const;

  ModelManager& manager_;
  RepositoryPoller& poller_;
  const metrics::StatsRegistry& stats_;
  const pipeline::PipelineService* pipelines_ = nullptr;
  TaskPool worker_{1};  // loads and unloads, one at a time; last: joined first
};

}  // namespace tessera
