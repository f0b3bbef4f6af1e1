#include "pipeline/pipeline_service.h"

#include "common/logging.h"
#include "common/task_pool.h"

namespace tessera::pipeline {

struct PipelineService::Entry {
  PipelineDefinition definition;
  std::shared_ptr<const PipelineExecutor> executor;  // set when AVAILABLE
  Status status;                                     // why not AVAILABLE
  bool retired = false;
  metrics::VersionMetrics metrics;                   // statistics only

  VersionStatus Version() const {
    if (retired) return VersionStatus{kPipelineVersion, VersionState::kEnd, Status::Ok()};
    if (executor) return VersionStatus{kPipelineVersion, VersionState::kAvailable, Status::Ok()};
    return VersionStatus{kPipelineVersion, VersionState::kLoading, status};
  }
  // The answer to a request while not AVAILABLE.
  Status NotServing() const {
    if (retired) return NotFound(text::kRetired);
    return Unavailable(std::string(text::kNotLoadedYet) + "; " + status.message());
  }
  bool SameState(const Entry& other) const {
    return definition == other.definition && retired == other.retired &&
           static_cast<bool>(executor) == static_cast<bool>(other.executor) &&
           status.code() == other.status.code() && status.message() == other.status.message();
  }
};

namespace {

// The world a pipeline is validated against: the catalog's models and the
// service's libraries.
class Dependencies : public PipelineDependencies {
 public:
  Dependencies(const PipelineModelCatalog& catalog, const custom_node::CustomNodeLibraryRegistry& libraries)
      : catalog_(catalog), libraries_(libraries) {}
  bool IsModelName(const std::string& name) const override { return catalog_.IsModelName(name); }
  Result<PipelineModelInfo> FindModel(const std::string& name, std::optional<int64_t> version) const override {
    return catalog_.FindModel(name, version);
  }
  Result<std::shared_ptr<const custom_node::CustomNodeLibrary>> FindLibrary(const std::string& name) const override {
    return libraries_.Find(name);
  }

 private:
  const PipelineModelCatalog& catalog_;
  const custom_node::CustomNodeLibraryRegistry& libraries_;
};

int PoolThreads(int wanted) {
  if (wanted > 0) return wanted;
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

}  // namespace

PipelineService::PipelineService(InferenceService& models, const PipelineModelCatalog& catalog,
                                 PipelineServiceOptions options)
    : models_(models),
      catalog_(catalog),
      options_(std::move(options)),
      pool_(std::make_shared<TaskPool>(PoolThreads(options_.custom_node_threads))),
      pipelines_(std::make_shared<EntryMap>()) {}

PipelineService::~PipelineService() {
  {
    std::lock_guard lock(map_mu_);
    pipelines_ = std::make_shared<EntryMap>();
  }
  pool_->Stop();
}

std::shared_ptr<const PipelineService::EntryMap> PipelineService::Snapshot() const {
  std::lock_guard lock(map_mu_);
  return pipelines_;
}

std::shared_ptr<const PipelineService::Entry> PipelineService::FindPipeline(const std::string& name) const {
  if (catalog_.IsModelName(name)) return nullptr;
  auto snapshot = Snapshot();
  auto it = snapshot->find(name);
  return it == snapshot->end() ? nullptr : it->second;
}

std::shared_ptr<const PipelineService::Entry> PipelineService::Build(const PipelineDefinition& definition) const {
  auto entry = std::make_shared<Entry>();
  entry->definition = definition;
  if (options_.stats) entry->metrics.stats = options_.stats->ForVersion(definition.name(), kPipelineVersion);
  Dependencies dependencies(catalog_, libraries_);
  auto validated = ValidatePipeline(definition, dependencies);
  if (!validated.ok()) {
    entry->status = validated.status();
    return entry;
  }
  PipelineExecutor::Options options;
  options.max_image_pixels = options_.max_image_pixels;
  std::weak_ptr<TaskPool> pool = pool_;
  options.custom_node_runner = [pool](std::function<void()> task) {
    if (auto alive = pool.lock()) return alive->Submit(std::move(task));
    task();
  };
  if (options_.node_time_observer) {
    options.node_time_observer = [observer = options_.node_time_observer, name = definition.name()](
                                     const std::string& node, std::chrono::microseconds elapsed) {
      observer(name, node, elapsed);
    };
  }
  auto executor = PipelineExecutor::Create(definition, std::move(validated).value(), &models_, std::move(options));
  if (!executor.ok()) {
    entry->status = executor.status();
    return entry;
  }
  entry->executor = std::shared_ptr<const PipelineExecutor>(std::move(executor).value().release());
  return entry;
}

bool PipelineService::Publish(std::shared_ptr<const EntryMap> next) {
  std::shared_ptr<const EntryMap> previous;
  {
    std::lock_guard lock(map_mu_);
    previous = pipelines_;
    pipelines_ = next;
  }
  bool changed = previous->size() != next->size();
  for (const auto& [name, entry] : *next) {
    auto it = previous->find(name);
    bool same = it != previous->end() && it->second->SameState(*entry);
    changed |= !same;
    if (same) continue;
    if (entry->retired) {
      TLOG_INFO("Pipeline {} retired", name);
    } else if (entry->executor) {
      TLOG_INFO("Pipeline {} is AVAILABLE", name);
    }  // a validation failure is logged by the validator
  }
  // Executors of replaced entries are destroyed off the caller's thread
  // once their last request is done (see Infer).
  pool_->Submit([previous = std::move(previous)] {});
  return changed;
}

bool PipelineService::ApplyConfig(const ServerConfig& config) {
  std::lock_guard update(update_mu_);
  libraries_.Update(config.custom_node_libraries);
  std::vector<PipelineDefinition> definitions;
  if (!config.pipeline_config_json.empty()) {
    auto parsed = ParsePipelineDefinitions(config.pipeline_config_json);
    if (parsed.ok()) {
      definitions = std::move(parsed).value();
    } else {
      TLOG_ERROR("Pipelines of the config cannot be built: {}", parsed.status().message());
    }
  }
  auto previous = Snapshot();
  auto next = std::make_shared<EntryMap>();
  for (const auto& definition : definitions) {
    auto entry = Build(definition);
    // OVMS: a pipeline named like a model is not registered (the validator logs it).
    if (entry->status.code() == StatusCode::kAlreadyExists) continue;
    (*next)[definition.name()] = std::move(entry);
  }
  for (const auto& [name, entry] : *previous) {
    if (next->count(name) || catalog_.IsModelName(name)) continue;
    auto retired = std::make_shared<Entry>();
    retired->definition = entry->definition;
    retired->retired = true;
    (*next)[name] = std::move(retired);
  }
  return Publish(std::move(next));
}

bool PipelineService::Revalidate() {
  std::lock_guard update(update_mu_);
  auto next = std::make_shared<EntryMap>();
  for (const auto& [name, entry] : *Snapshot()) {
    (*next)[name] = entry->retired ? entry : Build(entry->definition);
  }
  return Publish(std::move(next));
}

std::vector<ModelStatusEntry> PipelineService::PipelineStatuses() const {
  std::vector<ModelStatusEntry> entries;
  for (const auto& [name, entry] : *Snapshot()) entries.push_back({name, {entry->Version()}});
  return entries;
}

void PipelineService::Infer(const InferRequest& request, InferCallback done) {
  auto entry = models_.IsLive() ? FindPipeline(request.model_name) : nullptr;
  if (!entry) return models_.Infer(request, std::move(done));
  if (!entry->executor) return done(entry->NotServing());
  auto executor = entry->executor;
  std::weak_ptr<TaskPool> pool = pool_;
  const auto accepted = entry->metrics.Accepted();
  executor->Execute(request, [executor, pool, metrics = entry->metrics, accepted,
                              done = std::move(done)](Result<InferResponse> result) mutable {
    metrics.Answered(accepted, result.ok());
    if (result.ok() && metrics.stats) metrics.stats->RecordInference(1);
    done(std::move(result));
    // The run may still unwind through the executor: drop it elsewhere.
    auto alive = pool.lock();
    if (alive) alive->Submit([keep = std::move(executor)] {});
  });
}

Result<ModelMetadata> PipelineService::GetModelMetadata(const std::string& name, int64_t version) {
  auto entry = FindPipeline(name);
  if (!entry) return models_.GetModelMetadata(name, version);
  if (!entry->executor) return entry->NotServing();
  const ValidatedPipeline& validated = entry->executor->validated();
  ModelMetadata metadata;
  metadata.name = name;
  metadata.version = kPipelineVersion;
  metadata.versions = {kPipelineVersion};
  metadata.platform = kPipelinePlatform;
  metadata.signature = ModelSignature{validated.inputs, validated.outputs};
  return metadata;
}

Result<std::vector<VersionStatus>> PipelineService::GetModelStatus(const std::string& name, int64_t version) {
  auto entry = FindPipeline(name);
  if (!entry) return models_.GetModelStatus(name, version);
  return std::vector<VersionStatus>{entry->Version()};
}

Status PipelineService::ModelReady(const std::string& name, int64_t version) {
  auto entry = FindPipeline(name);
  if (!entry) return models_.ModelReady(name, version);
  if (entry->executor) return Status::Ok();
  return Unavailable(entry->NotServing().message());
}

}  // namespace tessera::pipeline
