// InferenceService: the only API frontends see. Implemented by serving/.
//
// Thread-safety: every method may be called concurrently from any thread.
#pragma once

#include <string>
#include <vector>

#include "core/types.h"

namespace tessera {

class InferenceService {
 public:
  virtual ~InferenceService() = default;

  // Runs `request` asynchronously on the model's workers; `done` is called
  // exactly once, on any thread, possibly before Infer returns.
  // REQUIRES: `request` (and every byte its inputs borrow) stays valid until
  // `done` has been called. Never blocks on inference.
  // Errors: kNotFound (model/version), kUnavailable (version not loaded yet,
  // or shutting down), kInvalidArgument (names, types, shapes, sizes),
  // kResourceExhausted (queue full), kInternal (engine failure).
  //
  // Deadline and cancellation: a request whose `deadline` has already
  // passed is refused before it is queued, kDeadlineExceeded ("Deadline
  // exceeded before the request was queued for model <name>"). A queued
  // request whose deadline passes (or that waited so long that a run of the
  // model's usual length would end after it), or whose `cancelled()` turns
  // true, before a worker takes it never runs: it is answered kDeadlineExceeded
  // ("Deadline exceeded while queued for model <name>") or kCancelled
  // ("Request cancelled while queued for model <name>") at that moment even
  // while every worker is busy (a cancellation within about 100 ms: it is
  // polled). A request that has started running is not interrupted and is
  // answered as usual.
  virtual void Infer(const InferRequest& request, InferCallback done) = 0;

  // Metadata of `version` (kDefaultVersion: the default version).
  virtual Result<ModelMetadata> GetModelMetadata(const std::string& name, int64_t version) = 0;

  // Status of `version`, or of every version known (END ones included) when
  // version is kDefaultVersion. Ascending by version.
  virtual Result<std::vector<VersionStatus>> GetModelStatus(const std::string& name,
                                                            int64_t version) = 0;

  // OK when the version (default: the default one) is AVAILABLE; kNotFound
  // when the model or version was never known; kUnavailable when it is known
  // but not AVAILABLE (loading, failed, retired).
  virtual Status ModelReady(const std::string& name, int64_t version) = 0;

  // Live: the process serves requests. Ready: the initial load finished
  // (even if some model failed to load).
  virtual bool IsLive() const = 0;
  virtual bool IsReady() const = 0;

  virtual ServerMetadata GetServerMetadata() const = 0;
};

}  // namespace tessera
