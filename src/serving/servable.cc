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
      scheduler_(SchedulerOptions{model_name_, options.nireq, options.max_queue, options.batching,
                                  options.inline_run_max},
                 [this](std::vector<PendingRequest>& batch) { RunBatch(batch); }) {
  metrics_.Started(scheduler_.num_workers());
}

void Servable::Infer(const InferRequest& request, InferCallback done) {
  if (metrics_.CountsRequests()) {  // counted until answered, whichever way
    // The scheduler answers every request before this servable goes away.
    done = [this, accepted = metrics_.Accepted(), done = std::move(done)](Result<InferResponse> result) {
      metrics_.Answered(accepted, result.ok());
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
  scheduler_.Enqueue(std::move(pending));
  ReportQueueLength();
}

void Servable::ReportQueueLength() const {
  if (metrics_.queue_length) metrics_.queue_length->Set(static_cast<int64_t>(scheduler_.queued()));
}

Result<std::vector<NamedTensor>> Servable::RunModel(const std::vector<NamedTensor>& inputs,
                                                    int requests, RunPhases& phases) {
  phases.infer_start = metrics_.RunStarted(requests);
  auto produced = model_->Run(inputs);
  phases.infer_end = metrics_.RunFinished(phases.infer_start);
  return produced;
}

void Servable::RunBatch(std::vector<PendingRequest>& batch) {
  const auto taken = Clock::now();
  for (const auto& pending : batch) metrics_.Dequeued(pending.arrival, taken);
  ReportQueueLength();
  if (batch.size() > 1 && RunJoined(batch, taken)) return;
  // A failed joined run is retried request by request, so a request the
  // engine rejects fails alone.
  for (auto& pending : batch) RunOne(pending, batch.size() > 1 ? Clock::now() : taken);
}

void Servable::RunOne(PendingRequest& pending, Clock::time_point taken) {
  RunPhases phases{taken, {}, {}, {}};
  auto produced = RunModel(pending.inputs, 1, phases);
  if (!produced.ok()) return pending.done(produced.status());
  auto response = Respond(pending, std::move(*produced));
  if (response.ok()) {
    phases.built = Clock::now();
    metrics_.Executed(phases, pending.rows.value_or(1), 1);
  }
  pending.done(std::move(response));
}

bool Servable::RunJoined(std::vector<PendingRequest>& batch, Clock::time_point taken) {
  std::vector<const std::vector<NamedTensor>*> parts;
  std::vector<int64_t> rows;
  parts.reserve(batch.size());
  rows.reserve(batch.size());
  int64_t total_rows = 0;
  for (const auto& pending : batch) {
    parts.push_back(&pending.inputs);
    rows.push_back(*pending.rows);
    total_rows += *pending.rows;
  }
  RunPhases phases{taken, {}, {}, {}};
  auto produced = RunModel(ConcatRows(parts), static_cast<int>(batch.size()), phases);
  Result<std::vector<std::vector<NamedTensor>>> split =
      produced.ok() ? SplitRows(*produced, rows) : produced.status();
  if (!split.ok()) {
    TLOG_DEBUG("Model {} version {}: a batch of {} requests failed, running them one by one: {}",
               model_name_, version_, batch.size(), split.status().message());
    return false;
  }
  std::vector<Result<InferResponse>> responses;
  responses.reserve(batch.size());
  for (size_t i = 0; i < batch.size(); ++i) responses.push_back(Respond(batch[i], std::move((*split)[i])));
  phases.built = Clock::now();
  metrics_.Executed(phases, total_rows, static_cast<int>(batch.size()));
  for (size_t i = 0; i < batch.size(); ++i) batch[i].done(std::move(responses[i]));
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
