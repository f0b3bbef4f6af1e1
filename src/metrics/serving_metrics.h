// ServingMetrics: the model server's metric families (OVMS's names and
// labels, plus Tessera's queue-length and batch-size figures) in one
// Registry, and the two narrow interfaces that update them:
//   * FrontDoorMetrics / CallMeter: each front door (api x interface)
//     counts its calls that name a model, success and failure separately;
//   * VersionMetrics: the serving layer's per-version gauges and timings.
// Nothing here knows a wire format; front doors pass plain names and numbers.
//
// Families (see docs/metrics.md):
//   ovms_requests_success, ovms_requests_fail  counter   api,interface,method,name,version
//   ovms_request_time_us                       histogram interface,name,version
//   ovms_inference_time_us                     histogram name,version
//   ovms_wait_for_infer_req_time_us            histogram name,version
//   ovms_streams, ovms_current_requests        gauge     name,version
//   ovms_infer_req_queue_size, ovms_infer_req_active (optional)  gauge name,version
//   tessera_infer_queue_length                 gauge     name,version
//   tessera_batch_size                         histogram name,version
//   tessera_pipeline_node_time_us              histogram pipeline,node
// The default set is every family except the two optional ones.
//
// Thread-safety: everything may be called concurrently once created.
// Ownership: FrontDoorMetrics and VersionMetrics point into the
// ServingMetrics, which must outlive them.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "metrics/registry.h"
#include "metrics/version_stats.h"

namespace tessera::metrics {

enum class Api { kKServe, kTensorFlowServing };
enum class Interface { kGrpc, kRest };
enum class Method {
  kModelInfer, kModelMetadata, kModelReady,          // KServe
  kPredict, kGetModelMetadata, kGetModelStatus,      // TensorFlow Serving
};

// The series of one model version, and its statistics (version_stats.h):
// the one set of hooks the serving layer records through. A null series is
// a disabled family; a null `stats` records no statistics.
// A request goes: Accepted -> (queued) -> Dequeued -> RunStarted
// .. RunFinished around the engine run of N joined requests -> Executed when
// the run's replies are built -> Answered (whatever the outcome, also when
// refused before it was queued).
struct VersionMetrics {
  using Clock = std::chrono::steady_clock;

  // The times of one engine run's phases.
  struct RunPhases {
    Clock::time_point taken;        // a worker took the requests
    Clock::time_point infer_start;  // the inputs are ready, the engine starts
    Clock::time_point infer_end;    // the engine returned
    Clock::time_point built;        // the replies are built
  };

  void Started(int workers) const;  // the version is loaded with `workers` workers
  // Whether Accepted/Answered record anything (else a caller may skip them).
  bool CountsRequests() const { return current_requests != nullptr || stats != nullptr; }
  // A request reached the version; returns when (for Answered).
  Clock::time_point Accepted() const;
  void Answered(Clock::time_point accepted, bool ok) const;
  // A worker took, at `taken`, the request queued at `arrival`.
  void Dequeued(Clock::time_point arrival, Clock::time_point taken) const;
  // Returns the time to pass to RunFinished.
  Clock::time_point RunStarted(int requests) const;
  // Returns the time the run ended.
  Clock::time_point RunFinished(Clock::time_point started) const;
  // A successful run of `rows` rows (its batch size) joining `requests`
  // requests.
  void Executed(const RunPhases& phases, int64_t rows, int requests) const;

  Gauge* streams = nullptr;               // ovms_streams: workers (nireq)
  Gauge* current_requests = nullptr;      // ovms_current_requests: accepted, not answered
  Gauge* infer_req_queue_size = nullptr;  // ovms_infer_req_queue_size: workers (nireq)
  Gauge* infer_req_active = nullptr;      // ovms_infer_req_active: workers running
  Gauge* queue_length = nullptr;          // tessera_infer_queue_length: waiting for a worker
  Histogram* inference_time_us = nullptr;
  Histogram* wait_time_us = nullptr;      // ovms_wait_for_infer_req_time_us
  Histogram* batch_size = nullptr;        // tessera_batch_size: requests per engine run
  std::shared_ptr<VersionStats> stats{};  // Triton statistics
};

// The version that a failed call is counted under: (model name, version
// asked for, 0 = default) -> the version, or nullopt when the model or
// version is not known (such calls are not counted: label values chosen by
// clients would grow the output without bound).
using VersionResolver = std::function<std::optional<int64_t>(const std::string&, int64_t)>;

class ServingMetrics {
 public:
  // `families`: names from --metrics_list / monitoring.metrics.metrics_list;
  // empty = the default set. Errors: InvalidArgument "Invalid name in
  // metrics_list: <name> (known: ...)".
  static Result<std::unique_ptr<ServingMetrics>> Create(const std::vector<std::string>& families);

  // Every family name, defaults first.
  static std::vector<std::string> KnownFamilies();

  // The series of `name`/`version` for the enabled families (created now, so
  // a loaded version shows zeros before its first request).
  VersionMetrics ForVersion(const std::string& name, int64_t version);

  // Counts one call. `version` 0 = no version label (ModelReady,
  // GetModelStatus). `elapsed_us` < 0: no request-time observation.
  void RecordCall(Api api, Interface interface, Method method, const std::string& name,
                  int64_t version, bool ok, double elapsed_us);

  // One run of a pipeline node (each shard counts), start to result.
  void RecordNodeTime(const std::string& pipeline, const std::string& node, double elapsed_us);

  // The text exposition of every enabled family.
  std::string Render() const;

 private:
  ServingMetrics() = default;
  void AddFamilies(const std::vector<std::string>& enabled);

  Registry registry_;
  Family<Counter>* success_ = nullptr;
  Family<Counter>* fail_ = nullptr;
  Family<Histogram>* request_time_ = nullptr;
  Family<Histogram>* inference_time_ = nullptr;
  Family<Histogram>* wait_time_ = nullptr;
  Family<Gauge>* streams_ = nullptr;
  Family<Gauge>* current_requests_ = nullptr;
  Family<Gauge>* infer_req_queue_size_ = nullptr;
  Family<Gauge>* infer_req_active_ = nullptr;
  Family<Gauge>* queue_length_ = nullptr;
  Family<Histogram>* batch_size_ = nullptr;
  Family<Histogram>* node_time_ = nullptr;
};

// What one front door (KServe gRPC, TFS REST, ...) records through.
class FrontDoorMetrics {
 public:
  FrontDoorMetrics(ServingMetrics& metrics, Api api, Interface interface,
                   VersionResolver resolver)
      : metrics_(metrics), api_(api), interface_(interface), resolver_(std::move(resolver)) {}

  // See CallMeter::Done.
  void Record(Method method, const std::string& name, int64_t version, bool ok,
              std::chrono::steady_clock::time_point start) const;

 private:
  ServingMetrics& metrics_;
  const Api api_;
  const Interface interface_;
  const VersionResolver resolver_;
};

// One call being measured, from construction to Done(). Copyable and cheap;
// with a null `sink` (metrics disabled) it reads no clock and records nothing.
class CallMeter {
 public:
  CallMeter() = default;
  CallMeter(const FrontDoorMetrics* sink, Method method)
      : sink_(sink), method_(method),
        start_(sink ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{}) {}

  // Records the outcome once the reply is known. `version`: on success the
  // version that answered (0 for ModelReady/GetModelStatus); on failure the
  // version asked for (0 = default; < 0 = unparsable, not counted).
  void Done(const std::string& name, int64_t version, bool ok) const {
    if (sink_) sink_->Record(method_, name, version, ok, start_);
  }

 private:
  const FrontDoorMetrics* sink_ = nullptr;
  Method method_ = Method::kModelInfer;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace tessera::metrics
