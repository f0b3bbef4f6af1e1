// ManagerPipelineModels: what pipelines see of the ModelManager's models
// (pipeline::PipelineModelCatalog over the manager).
#pragma once

#include "pipeline/pipeline_service.h"
#include "serving/model_manager.h"

namespace tessera {

class ManagerPipelineModels : public pipeline::PipelineModelCatalog {
 public:
  // `manager` must outlive this object.
  explicit ManagerPipelineModels(const ModelManager& manager) : manager_(manager) {}

  // Every model known to the manager, removed ones included.
  bool IsModelName(const std::string& name) const override;
  // The AVAILABLE version (unset: the default one); auto_batch_or_shape when
  // the model's config sets batch_size or any shape to "auto".
  Result<pipeline::PipelineModelInfo> FindModel(const std::string& name,
                                                std::optional<int64_t> version) const override;

 private:
  const ModelManager& manager_;
};

}  // namespace tessera
