#include "serving/servable.h"

#include "common/logging.h"
#include "serving/batch_tensors.h"
#include "serving/request_validator.h"

namespace tessera {

Servable::Servable(std::string model_name, int64_t version, std::unique_ptr<LoadedModel> model,
                   const ServableOptions& options, std::optional<ModelInterface> interface)
    : model_name_(std::move(model_name)),
      version_(version),
      model_(std::move(model)),
      metrics_(options.metrics),
      batch_warmup_rows_(options.batching && options.batching->max_batch_size > 1
                             ? options.batching->max_batch_size
                             : 0),
      interface_(interface ? std::move(*interface) : ModelInterface::Identity(model_->signature())),
      scheduler_(SchedulerOptions{model_name_, options.nireq, options.max_queue, options.batching},
                 [this](std::vector<PendingRequest>& batch) { RunBatch(batch); }) {
  metrics_.Started(scheduler_.num_workers());
}

void Servable::Infer(const InferRequest& request, InferCallback done) {
  if (metrics_.current_requests) {  // counted until answered, whichever way
    metrics_.Accepted();
    done = [metrics = metrics_, done = std::move(done)](Result<InferResponse> result) {
      metrics.Answered();
      done(std::move(result));
    };
  }
  if (metrics_.queue_length) {
    // A request dropped from the queue (deadline, cancellation) is answered
    // without a run, so the queue length is reported here too. The scheduler
    // answers every request before this servable goes away.
    done = [this, done = std::move(done)](Result<InferResponse> result) {
      const StatusCode code = result.status().code();
      if (code == StatusCode::kDeadlineExceeded || code == StatusCode::kCancelled) {
        ReportQueueLength();
      }
      done(std::move(result));
    };
  }
  auto inputs = interface_.PrepareInputs(request.inputs);
  if (!inputs.ok()) return done(inputs.status());
  auto outputs = SelectOutputs(signature(), request.requested_outputs);
  if (!outputs.ok()) return done(outputs.status());
  PendingRequest pending;
  pending.request = &request;
  pending.inputs = std::move(*inputs);
  pending.outputs = std::move(*outputs);
  pending.done = std::move(done);
  pending.arrival = metrics_.Arrival();
  scheduler_.Enqueue(std::move(pending));
  ReportQueueLength();
}

void Servable::ReportQueueLength() const {
  if (metrics_.queue_length) metrics_.queue_length->Set(static_cast<int64_t>(scheduler_.queued()));
}

Result<std::vector<NamedTensor>> Servable::RunModel(const std::vector<NamedTensor>& inputs,
                                                    int requests) {
  auto started = metrics_.RunStarted(requests);
  auto produced = model_->Run(inputs);
  metrics_.RunFinished(started);
  return produced;
}

void Servable::RunBatch(std::vector<PendingRequest>& batch) {
  for (const auto& pending : batch) metrics_.Dequeued(pending.arrival);
  ReportQueueLength();
  if (batch.size() > 1 && RunJoined(batch)) return;
  // A failed joined run is retried request by request, so a request the
  // engine rejects fails alone.
  for (auto& pending : batch) RunOne(pending);
}

void Servable::RunOne(PendingRequest& pending) {
  auto produced = RunModel(pending.inputs, 1);
  if (!produced.ok()) return pending.done(produced.status());
  pending.done(Respond(pending, std::move(*produced)));
}

bool Servable::RunJoined(std::vector<PendingRequest>& batch) {
  std::vector<const std::vector<NamedTensor>*> parts;
  std::vector<int64_t> rows;
  parts.reserve(batch.size());
  rows.reserve(batch.size());
  for (const auto& pending : batch) {
    parts.push_back(&pending.inputs);
    rows.push_back(*pending.rows);
  }
  auto produced = RunModel(ConcatRows(parts), static_cast<int>(batch.size()));
  Result<std::vector<std::vector<NamedTensor>>> split =
      produced.ok() ? SplitRows(*produced, rows) : produced.status();
  if (!split.ok()) {
    TLOG_DEBUG("Model {} version {}: a batch of {} requests failed, running them one by one: {}",
               model_name_, version_, batch.size(), split.status().message());
    return false;
  }
  for (size_t i = 0; i < batch.size(); ++i) batch[i].done(Respond(batch[i], std::move((*split)[i])));
  return true;
}

Result<InferResponse> Servable::Respond(const PendingRequest& pending,
                                        std::vector<NamedTensor> produced) const {
  const size_t declared = model_->signature().outputs.size();
  if (produced.size() != declared) {
    return Internal("Model " + model_name_ + " returned " + std::to_string(produced.size()) +
                    " outputs, its signature lists " + std::to_string(declared));
  }
  InferResponse response;
  response.model_name = model_name_;
  response.model_version = version_;
  response.id = pending.request->id;
  response.outputs.reserve(pending.outputs.size());
  for (size_t index : pending.outputs) {
    // Client names (mapping_config.json) for the model's outputs.
    response.outputs.push_back({signature().outputs[index].name, std::move(produced[index].tensor)});
  }
  return response;
}

Status Servable::Warmup() {
  TESSERA_RETURN_IF_ERROR(WarmupWithRows(1));
  return batch_warmup_rows_ > 0 ? WarmupWithRows(batch_warmup_rows_) : Status::Ok();
}

Status Servable::WarmupWithRows(int64_t rows) {
  auto shapes = interface_.WarmupShapes();
  if (!shapes) return Status::Ok();
  std::vector<NamedTensor> inputs;
  for (size_t i = 0; i < shapes->size(); ++i) {
    const TensorInfo& info = model_->signature().inputs[i];
    if (info.dtype == DataType::kBytes) return Status::Ok();
    Shape shape = (*shapes)[i];
    if (rows > 1 && !info.shape.empty() && info.shape[0] == kDynamicDim) shape[0] = rows;
    inputs.push_back({info.name, Tensor::Allocate(info.dtype, shape)});
  }
  auto outputs = model_->Run(inputs);
  return outputs.ok() ? Status::Ok() : outputs.status();
}

}  // namespace tessera
