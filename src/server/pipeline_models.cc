#include "server/pipeline_models.h"

#include <algorithm>

namespace tessera {
namespace {

bool IsAuto(const std::optional<std::string>& value) { return value && *value == "auto"; }

bool HasAutoParameter(const ModelConfig& model) {
  if (IsAuto(model.batch_size) || IsAuto(model.shape.whole_model)) return true;
  return std::any_of(model.shape.per_input.begin(), model.shape.per_input.end(),
                     [](const auto& entry) { return entry.second == "auto"; });
}

}  // namespace

bool ManagerPipelineModels::IsModelName(const std::string& name) const {
  return manager_.IsKnown(name);
}

Result<pipeline::PipelineModelInfo> ManagerPipelineModels::FindModel(const std::string& name,
                                                                     std::optional<int64_t> version) const {
  TESSERA_ASSIGN_OR_RETURN(ModelHandle servable, manager_.Acquire(name, version.value_or(kDefaultVersion)));
  pipeline::PipelineModelInfo info;
  info.signature = servable->signature();
  for (const auto& model : manager_.config().models) {
    if (model.name == name) info.auto_batch_or_shape = HasAutoParameter(model);
  }
  return info;
}

}  // namespace tessera
