// Servable: one loaded model version ready to serve — the engine's
// LoadedModel plus the version's own pool of `nireq` workers.
//
// Ownership: held by std::shared_ptr. The manager holds one reference while
// the version is AVAILABLE; every request in flight holds another (the
// ModelHandle), so a retired version lives until its last request finishes.
// Thread-safety: Infer may be called concurrently.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "backend/backend.h"
#include "core/types.h"
#include "serving/worker_pool.h"

namespace tessera {

struct ServableOptions {
  int nireq = 1;               // worker threads
  size_t max_queue = 4096;     // requests waiting beyond those running
};

class Servable : public std::enable_shared_from_this<Servable> {
 public:
  Servable(std::string model_name, int64_t version, std::unique_ptr<LoadedModel> model,
           const ServableOptions& options);

  const std::string& model_name() const { return model_name_; }
  int64_t version() const { return version_; }
  const ModelSignature& signature() const { return model_->signature(); }
  std::string platform() const { return model_->platform(); }

  // Validates `request` on the calling thread, then runs it on a worker and
  // calls `done` there. REQUIRES: `request` outlives the call of `done`.
  void Infer(const InferRequest& request, InferCallback done);

  // Runs one inference on zero-filled inputs (dynamic dims = 1) on the
  // calling thread. OK without running when a shape has unknown rank.
  Status Warmup();

  // Waits for queued requests to finish and stops the workers.
  // REQUIRES: not called from a worker of this servable.
  void Shutdown() { pool_.Shutdown(); }

 private:
  Result<InferResponse> Run(const InferRequest& request, const std::vector<NamedTensor>& inputs,
                            const std::vector<size_t>& outputs);

  const std::string model_name_;
  const int64_t version_;
  std::unique_ptr<LoadedModel> model_;
  WorkerPool pool_;
};

using ModelHandle = std::shared_ptr<Servable>;

}  // namespace tessera
