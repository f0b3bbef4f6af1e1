// Servable: one loaded model version ready to serve — the engine's
// LoadedModel plus the version's own Scheduler (`nireq` workers, a bounded
// queue, optionally a dynamic batcher).
//
// Ownership: held by std::shared_ptr. The manager holds one reference while
// the version is AVAILABLE; a caller holds another (the ModelHandle) while it
// calls Infer. A retired version goes to the Reaper, which destroys it once
// no caller holds it; Shutdown (run first) answers every request already
// queued, so a retired version lives until its last request finishes.
// Thread-safety: Infer may be called concurrently.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "backend/backend.h"
#include "core/types.h"
#include "metrics/serving_metrics.h"
#include "serving/model_interface.h"
#include "serving/scheduler.h"

namespace tessera {

struct ServableOptions {
  int nireq = 1;               // worker threads
  size_t max_queue = 4096;     // requests waiting beyond those running
  // Unset: every request runs on its own. REQUIRES when set:
  // CheckBatchable(model signature) is OK.
  std::optional<DynamicBatchingConfig> batching;
  metrics::VersionMetrics metrics;  // all null: metrics off
  // SchedulerOptions::inline_run_max: 0, every request runs on a worker.
  std::chrono::microseconds inline_run_max{0};
};

class Servable {
 public:
  // `interface` maps client requests to the model (shapes, layouts, names,
  // images); nullopt: the model's own signature, unchanged.
  Servable(std::string model_name, int64_t version, std::unique_ptr<LoadedModel> model,
           const ServableOptions& options, std::optional<ModelInterface> interface = std::nullopt);

  const std::string& model_name() const { return model_name_; }
  int64_t version() const { return version_; }
  // What clients see: mapped names, client layouts, effective shapes.
  const ModelSignature& signature() const { return interface_.client_signature(); }
  std::string platform() const { return model_->platform(); }

  // Validates `request` on the calling thread (errors go to `done` at once),
  // then queues it; `done` is called on a worker, or before Infer returns
  // when the scheduler runs the request inline (options.inline_run_max).
  // REQUIRES: `request` outlives the call of `done`; the caller holds a
  // ModelHandle to this servable during the call.
  void Infer(const InferRequest& request, InferCallback done);

  // Runs one inference on zero-filled inputs of the smallest accepted shapes
  // on the calling thread, and with dynamic batching a second one with
  // max_batch_size rows, so the first batched requests do not pay for the
  // engine's first run at that size. OK without running when a shape has
  // unknown rank.
  Status Warmup();

  // Runs the queued requests and stops the workers.
  // REQUIRES: not called from a worker of this servable.
  void Shutdown() { scheduler_.Shutdown(); }

 private:
  using RunPhases = metrics::VersionMetrics::RunPhases;
  using Clock = metrics::VersionMetrics::Clock;

  void RunBatch(std::vector<PendingRequest>& batch);
  // Runs one request on its own and answers it; a worker took it at `taken`.
  void RunOne(PendingRequest& pending, Clock::time_point taken);
  // Concatenates, runs once and splits; false (nobody answered) on failure.
  bool RunJoined(std::vector<PendingRequest>& batch, Clock::time_point taken);
  // Runs the model once on zero-filled inputs of the smallest accepted
  // shapes, with `rows` as first dim when > 1 and the model's is dynamic.
  Status WarmupWithRows(int64_t rows);
  // The response to `pending` from every output the model produced.
  Result<InferResponse> Respond(const PendingRequest& pending, std::vector<NamedTensor> produced) const;
  // model_->Run of `requests` requests joined, timed for the metrics
  // (sets the infer times of `phases`).
  Result<std::vector<NamedTensor>> RunModel(const std::vector<NamedTensor>& inputs, int requests,
                                            RunPhases& phases);
  void ReportQueueLength() const;

  const std::string model_name_;
  const int64_t version_;
  std::unique_ptr<LoadedModel> model_;
  const metrics::VersionMetrics metrics_;
  const int64_t batch_warmup_rows_;  // 0: no batched warm-up
  const ModelInterface interface_;
  Scheduler scheduler_;  // last: its workers stop before the model goes
};

using ModelHandle = std::shared_ptr<Servable>;

}  // namespace tessera
