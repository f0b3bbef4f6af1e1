#include "frontend/kserve_grpc/repository_codec.h"

#include <algorithm>
#include <string>

namespace tessera::kserve_grpc {
namespace {

void SetDuration(const DurationStat& d, inference::StatisticDuration* out) {
  out->set_count(d.count);
  out->set_ns(d.ns);
}

}  // namespace

void EncodeRepositoryIndex(const std::vector<RepositoryIndexEntry>& entries,
                           inference::RepositoryIndexResponse* out) {
  for (const auto& entry : entries) {
    auto* model = out->add_models();
    model->set_name(entry.name);
    if (entry.version != 0) model->set_version(std::to_string(entry.version));
    model->set_state(ModelReadinessName(entry.state));
    model->set_reason(entry.reason);
  }
}

void EncodeModelStatistics(const std::vector<ModelStatistics>& stats,
                           inference::ModelStatisticsResponse* out) {
  for (const auto& s : stats) {
    auto* model = out->add_model_stats();
    model->set_name(s.name);
    model->set_version(std::to_string(s.version));
    model->set_last_inference(s.last_inference_ms);
    model->set_inference_count(s.inference_count);
    model->set_execution_count(s.execution_count);
    auto* infer = model->mutable_inference_stats();
    SetDuration(s.success, infer->mutable_success());
    SetDuration(s.fail, infer->mutable_fail());
    SetDuration(s.queue, infer->mutable_queue());
    SetDuration(s.compute_input, infer->mutable_compute_input());
    SetDuration(s.compute_infer, infer->mutable_compute_infer());
    SetDuration(s.compute_output, infer->mutable_compute_output());
    infer->mutable_cache_hit();
    infer->mutable_cache_miss();
    for (const auto& b : s.batch_stats) {
      auto* batch = model->add_batch_stats();
      batch->set_batch_size(b.batch_size);
      SetDuration(b.compute_input, batch->mutable_compute_input());
      SetDuration(b.compute_infer, batch->mutable_compute_infer());
      SetDuration(b.compute_output, batch->mutable_compute_output());
    }
  }
}

std::vector<RepositoryParameter> DecodeRepositoryParameters(
    const google::protobuf::Map<std::string, inference::ModelRepositoryParameter>& parameters) {
  std::vector<RepositoryParameter> out;
  for (const auto& [name, value] : parameters) {
    out.push_back({name, value.parameter_choice_case() == inference::ModelRepositoryParameter::kBoolParam});
  }
  std::sort(out.begin(), out.end(),
            [](const RepositoryParameter& a, const RepositoryParameter& b) { return a.name < b.name; });
  return out;
}

}  // namespace tessera::kserve_grpc
