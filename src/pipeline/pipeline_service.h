// PipelineService: the InferenceService frontends call once pipelines are
// served. It wraps the model service and resolves every name in one place:
// a name is a model first, then a pipeline; anything else is the model
// service's answer ("Model with requested name is not found").
//
// Pipelines come from ServerConfig (pipeline_config_list, with the custom
// node libraries of custom_node_library_config_list). ApplyConfig builds and
// validates every pipeline of a config; Revalidate validates the known ones
// again against the models as they are now. Per pipeline (PIPELINES.md §4.2):
//  - valid: AVAILABLE, served by its own PipelineExecutor;
//  - invalid (a missing model, a bad library, any validation rule): LOADING
//    with the validation Status (kFailedPrecondition/kUnimplemented);
//    requests answer kUnavailable "Pipeline is not loaded yet; <reason>";
//    the next validation that passes makes it AVAILABLE again;
//  - removed from the config: END (retired, still listed); requests answer
//    kNotFound "Pipeline is retired"; requests already running finish on the
//    executor they started with;
//  - named like a model: not registered at all (logged with OVMS's text
//    "Pipeline has the same name as model").
// Pipelines always report version 1, whatever version is asked for.
//
// DL nodes are InferRequests to the wrapped model service; custom nodes run
// on a small pool of this service's own threads (never on the caller's
// thread). Executors (and the custom node handles they hold) are destroyed
// on that pool once their last request is done.
//
// Thread-safety: every method may be called concurrently; ApplyConfig and
// Revalidate are serialised; lookups read an immutable snapshot.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/task_pool.h"
#include "core/inference_service.h"
#include "core/model_admin.h"
#include "custom_node/custom_node_library_registry.h"
#include "metrics/serving_metrics.h"
#include "pipeline/pipeline_executor.h"
#include "pipeline/pipeline_validator.h"
#include "repository/model_config.h"

namespace tessera::pipeline {

// What the pipelines may know about the models (the models' side of
// PipelineDependencies; see there for the contract of each method).
class PipelineModelCatalog {
 public:
  virtual ~PipelineModelCatalog() = default;
  virtual bool IsModelName(const std::string& name) const = 0;
  virtual Result<PipelineModelInfo> FindModel(const std::string& name, std::optional<int64_t> version) const = 0;
};

// OVMS texts of a pipeline that cannot serve.
namespace text {
inline constexpr const char kNotLoadedYet[] = "Pipeline is not loaded yet";
inline constexpr const char kRetired[] = "Pipeline is retired";
}  // namespace text

// KServe platform reported for pipelines (as OVMS).
inline constexpr const char kPipelinePlatform[] = "OpenVINO";

struct PipelineServiceOptions {
  int custom_node_threads = 0;  // threads running custom nodes; <= 0: the number of cores
  int64_t max_image_pixels = image::kDefaultMaxImagePixels;  // see PipelineExecutor::Options
  // Per-node timing (see PipelineExecutor::NodeTimeObserver), with the pipeline name.
  std::function<void(const std::string& pipeline, const std::string& node, std::chrono::microseconds)>
      node_time_observer;
  // Statistics of each pipeline (name, version 1): every request an
  // AVAILABLE pipeline ran counts as a success or failure with its time,
  // and a success as one inference and one execution. Not owned; null: none.
  metrics::StatsRegistry* stats = nullptr;
};

class PipelineService : public InferenceService {
 public:
  // `models` and `catalog` must outlive this service.
  PipelineService(InferenceService& models, const PipelineModelCatalog& catalog, PipelineServiceOptions options = {});
  ~PipelineService() override;

  // Loads the config's custom node libraries, builds and validates every
  // pipeline, retires the ones no longer listed. Returns true when any
  // pipeline was added, removed, changed or changed state.
  bool ApplyConfig(const ServerConfig& config);
  // Validates every known (not retired) pipeline again. Returns true when
  // any changed state.
  bool Revalidate();

  // Every pipeline known (retired ones with END), sorted by name, each with
  // its one version 1.
  std::vector<ModelStatusEntry> PipelineStatuses() const;

  void Infer(const InferRequest& request, InferCallback done) override;
  Result<ModelMetadata> GetModelMetadata(const std::string& name, int64_t version) override;
  Result<std::vector<VersionStatus>> GetModelStatus(const std::string& name, int64_t version) override;
  Status ModelReady(const std::string& name, int64_t version) override;
  bool IsLive() const override { return models_.IsLive(); }
  bool IsReady() const override { return models_.IsReady(); }
  ServerMetadata GetServerMetadata() const override { return models_.GetServerMetadata(); }

  struct Entry;

 private:
  using EntryMap = std::map<std::string, std::shared_ptr<const Entry>>;
  std::shared_ptr<const EntryMap> Snapshot() const;
  // The pipeline `name` when no model has that name; else null.
  std::shared_ptr<const Entry> FindPipeline(const std::string& name) const;
  std::shared_ptr<const Entry> Build(const PipelineDefinition& definition) const;
  bool Publish(std::shared_ptr<const EntryMap> next);

  InferenceService& models_;
  const PipelineModelCatalog& catalog_;
  PipelineServiceOptions options_;
  std::shared_ptr<TaskPool> pool_;
  custom_node::CustomNodeLibraryRegistry libraries_;

  std::mutex update_mu_;  // serialises ApplyConfig / Revalidate
  mutable std::mutex map_mu_;
  std::shared_ptr<const EntryMap> pipelines_;
};

}  // namespace tessera::pipeline
