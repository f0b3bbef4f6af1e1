#include "serving/servable.h"

#include "serving/request_validator.h"

namespace tessera {

Servable::Servable(std::string model_name, int64_t version, std::unique_ptr<LoadedModel> model,
                   const ServableOptions& options)
    : model_name_(std::move(model_name)),
      version_(version),
      model_(std::move(model)),
      pool_(model_name_, options.nireq, options.max_queue) {}

void Servable::Infer(const InferRequest& request, InferCallback done) {
  auto inputs = ValidateInputs(signature(), request.inputs);
  if (!inputs.ok()) return done(inputs.status());
  auto outputs = SelectOutputs(signature(), request.requested_outputs);
  if (!outputs.ok()) return done(outputs.status());

  auto self = shared_from_this();
  Status queued = pool_.Submit([self, &request, inputs = std::move(*inputs),
                                outputs = std::move(*outputs), done]() mutable {
    done(self->Run(request, inputs, outputs));
  });
  if (!queued.ok()) done(queued);
}

Result<InferResponse> Servable::Run(const InferRequest& request,
                                    const std::vector<NamedTensor>& inputs,
                                    const std::vector<size_t>& outputs) {
  TESSERA_ASSIGN_OR_RETURN(auto produced, model_->Run(inputs));
  if (produced.size() != signature().outputs.size()) {
    return Internal("Model " + model_name_ + " returned " + std::to_string(produced.size()) +
                    " outputs, its signature lists " +
                    std::to_string(signature().outputs.size()));
  }
  InferResponse response;
  response.model_name = model_name_;
  response.model_version = version_;
  response.id = request.id;
  response.outputs.reserve(outputs.size());
  for (size_t index : outputs) response.outputs.push_back(std::move(produced[index]));
  return response;
}

Status Servable::Warmup() {
  std::vector<NamedTensor> inputs;
  for (const auto& info : signature().inputs) {
    if (info.shape.empty() || info.dtype == DataType::kBytes) return Status::Ok();
    Shape shape = info.shape;
    for (auto& dim : shape) {
      if (dim == kDynamicDim) dim = 1;
    }
    inputs.push_back({info.name, Tensor::Allocate(info.dtype, shape)});
  }
  auto outputs = model_->Run(inputs);
  return outputs.ok() ? Status::Ok() : outputs.status();
}

}  // namespace tessera
