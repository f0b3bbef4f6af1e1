// FakeInferenceService: a scriptable InferenceService for frontend tests.
//
// By default Infer echoes: every input comes back as an output of the same
// name (an owned copy), filtered and ordered by requested_outputs when given.
// A handler may script any other result or error. Calls complete either
// inside Infer (synchronous, the default) or on the fake's own thread after
// an optional per-request delay, so tests can see responses complete out of
// order and requests held in flight.
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <queue>
#include <string>
#include <thread>
#include <vector>

#include "core/inference_service.h"

namespace tessera::testing {

class FakeInferenceService : public InferenceService {
 public:
  using Handler = std::function<Result<InferResponse>(const InferRequest&)>;
  using DelayFn = std::function<std::chrono::milliseconds(const InferRequest&)>;

  FakeInferenceService();
  // Completes every call still pending with kUnavailable, then stops the
  // completion thread.
  ~FakeInferenceService() override;

  FakeInferenceService(const FakeInferenceService&) = delete;
  FakeInferenceService& operator=(const FakeInferenceService&) = delete;

  // --- Scripting -----------------------------------------------------------

  // Computes each response; runs just before the callback, while the request
  // (and every byte it borrows) is still valid. Default: EchoHandler().
  void SetHandler(Handler handler);
  // true: complete on the fake's own thread (after the delay, if any).
  void SetAsync(bool async);
  // Delay before an asynchronous call completes. Default: none.
  void SetDelay(DelayFn delay);
  // While held, asynchronous calls are queued but none completes.
  void SetHold(bool hold);

  // Registers a model for the metadata calls. ModelReady(name, ...) returns
  // `ready` (OK, or e.g. kUnavailable).
  void AddModel(ModelMetadata metadata, Status ready = Status::Ok());
  void SetLive(bool live);
  void SetReady(bool ready);
  void SetServerMetadata(ServerMetadata metadata);

  // The default handler: echoes inputs as outputs (see the file comment).
  // A requested output that is not an input is kInvalidArgument.
  static Result<InferResponse> Echo(const InferRequest& request);

  // --- Inspection ----------------------------------------------------------

  // Deep copies of the requests Infer received (inputs own their bytes), in
  // arrival order.
  std::vector<InferRequest> calls() const;
  size_t call_count() const;
  // Waits until at least `n` calls arrived; false on timeout.
  bool WaitForCalls(size_t n, std::chrono::milliseconds timeout) const;
  // Asynchronous calls accepted but not completed yet.
  size_t pending_count() const;
  // Waits until no asynchronous call is pending; false on timeout.
  bool WaitForIdle(std::chrono::milliseconds timeout) const;

  // --- InferenceService ----------------------------------------------------

  void Infer(const InferRequest& request, InferCallback done) override;
  Result<ModelMetadata> GetModelMetadata(const std::string& name, int64_t version) override;
  Result<std::vector<VersionStatus>> GetModelStatus(const std::string& name,
                                                    int64_t version) override;
  Status ModelReady(const std::string& name, int64_t version) override;
  bool IsLive() const override;
  bool IsReady() const override;
  ServerMetadata GetServerMetadata() const override;

 private:
  struct Pending {
    std::chrono::steady_clock::time_point due;
    uint64_t seq = 0;
    const InferRequest* request = nullptr;
    InferCallback done;
    bool operator>(const Pending& other) const {
      return due != other.due ? due > other.due : seq > other.seq;
    }
  };
  struct Model {
    ModelMetadata metadata;
    Status ready;
  };

  void CompletionLoop();
  Result<InferResponse> Run(const InferRequest& request);
  // REQUIRES: mu_ held.
  Result<const Model*> FindLocked(const std::string& name, int64_t version) const;

  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  Handler handler_;
  bool async_ = false;
  DelayFn delay_;
  bool hold_ = false;
  bool stopping_ = false;
  uint64_t next_seq_ = 0;
  std::priority_queue<Pending, std::vector<Pending>, std::greater<Pending>> pending_;
  std::vector<InferRequest> calls_;
  std::map<std::string, Model> models_;
  bool live_ = true;
  bool ready_ = true;
  ServerMetadata server_metadata_{"tessera-fake", "0.0.0", {}};
  std::thread completer_;  // last: started after every member above exists
};

}  // namespace tessera::testing
