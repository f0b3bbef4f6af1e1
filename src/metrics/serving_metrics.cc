#include "metrics/serving_metrics.h"

#include <algorithm>
#include <charconv>

#include "metrics/text_encoder.h"

namespace tessera::metrics {
namespace {

// OVMS's timing buckets: floor(10 * 1.8^i) microseconds, i = 0..32.
std::vector<double> TimeBounds() { return ExponentialBounds(10, 1.8, 33); }
std::vector<double> BatchBounds() { return ExponentialBounds(1, 2, 11); }  // 1 .. 1024

struct FamilySpec {
  const char* name;
  bool by_default;
};

// Every family, in output order. Kept in step with AddFamilies().
constexpr FamilySpec kFamilies[] = {
    {"ovms_streams", true},
    {"ovms_current_requests", true},
    {"ovms_requests_success", true},
    {"ovms_requests_fail", true},
    {"ovms_request_time_us", true},
    {"ovms_inference_time_us", true},
    {"ovms_wait_for_infer_req_time_us", true},
    {"ovms_infer_req_queue_size", false},
    {"ovms_infer_req_active", false},
    {"tessera_infer_queue_length", true},
    {"tessera_batch_size", true},
    {"tessera_pipeline_node_time_us", true},
};

std::string_view ApiName(Api api) {
  return api == Api::kKServe ? "KServe" : "TensorFlowServing";
}

std::string_view InterfaceName(Interface interface) {
  return interface == Interface::kGrpc ? "gRPC" : "REST";
}

std::string_view MethodName(Method method) {
  switch (method) {
    case Method::kModelInfer: return "ModelInfer";
    case Method::kModelMetadata: return "ModelMetadata";
    case Method::kModelReady: return "ModelReady";
    case Method::kPredict: return "Predict";
    case Method::kGetModelMetadata: return "GetModelMetadata";
    case Method::kGetModelStatus: return "GetModelStatus";
  }
  return "";
}

bool IsInference(Method method) { return method == Method::kModelInfer || method == Method::kPredict; }

bool HasVersionLabel(Method method) {
  return method != Method::kModelReady && method != Method::kGetModelStatus;
}

// Decimal text of `version` in `buffer`; "" for 0 (no label).
std::string_view VersionLabel(int64_t version, char (&buffer)[24]) {
  if (version == 0) return {};
  return {buffer, static_cast<size_t>(std::to_chars(buffer, buffer + sizeof buffer, version).ptr - buffer)};
}

double Micros(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double, std::micro>(d).count();
}

double ElapsedUs(std::chrono::steady_clock::time_point since) {
  return Micros(std::chrono::steady_clock::now() - since);
}

}  // namespace

std::vector<std::string> ServingMetrics::KnownFamilies() {
  std::vector<std::string> names;
  for (bool defaults : {true, false}) {
    for (const FamilySpec& f : kFamilies) {
      if (f.by_default == defaults) names.emplace_back(f.name);
    }
  }
  return names;
}

Result<std::unique_ptr<ServingMetrics>> ServingMetrics::Create(
    const std::vector<std::string>& families) {
  std::vector<std::string> enabled;
  for (const FamilySpec& f : kFamilies) {
    if (families.empty() ? f.by_default
                         : std::find(families.begin(), families.end(), f.name) != families.end()) {
      enabled.emplace_back(f.name);
    }
  }
  for (const std::string& name : families) {
    if (std::find(enabled.begin(), enabled.end(), name) != enabled.end()) continue;
    std::string known;
    for (const std::string& k : KnownFamilies()) known += (known.empty() ? "" : ", ") + k;
    return InvalidArgument("Invalid name in metrics_list: " + name + " (known: " + known + ")");
  }
  std::unique_ptr<ServingMetrics> metrics(new ServingMetrics());
  metrics->AddFamilies(enabled);
  return metrics;
}

void ServingMetrics::AddFamilies(const std::vector<std::string>& enabled) {
  auto on = [&](const char* name) {
    return std::find(enabled.begin(), enabled.end(), name) != enabled.end();
  };
  const std::vector<std::string> by_version = {"name", "version"};
  const std::vector<std::string> by_call = {"api", "interface", "method", "name", "version"};
  Registry& r = registry_;
  if (on("ovms_streams")) {
    streams_ = r.AddGauge("ovms_streams", "Number of inference workers (nireq) of a model version.", by_version);
  }
  if (on("ovms_current_requests")) {
    current_requests_ = r.AddGauge("ovms_current_requests",
                                   "Number of requests being currently processed by the model server.",
                                   by_version);
  }
  if (on("ovms_requests_success")) {
    success_ = r.AddCounter("ovms_requests_success", "Number of successful requests to a model.", by_call);
  }
  if (on("ovms_requests_fail")) {
    fail_ = r.AddCounter("ovms_requests_fail", "Number of failed requests to a model.", by_call);
  }
  if (on("ovms_request_time_us")) {
    request_time_ = r.AddHistogram("ovms_request_time_us",
                                   "Processing time of successful inference requests to a model.",
                                   {"interface", "name", "version"}, TimeBounds());
  }
  if (on("ovms_inference_time_us")) {
    inference_time_ = r.AddHistogram("ovms_inference_time_us",
                                     "Inference execution time in the engine.", by_version, TimeBounds());
  }
  if (on("ovms_wait_for_infer_req_time_us")) {
    wait_time_ = r.AddHistogram("ovms_wait_for_infer_req_time_us",
                                "Request waiting time in the scheduling queue.", by_version, TimeBounds());
  }
  if (on("ovms_infer_req_queue_size")) {
    infer_req_queue_size_ = r.AddGauge("ovms_infer_req_queue_size",
                                       "Inference request queue size (nireq).", by_version);
  }
  if (on("ovms_infer_req_active")) {
    infer_req_active_ = r.AddGauge("ovms_infer_req_active",
                                   "Number of inference workers currently running a request.", by_version);
  }
  if (on("tessera_infer_queue_length")) {
    queue_length_ = r.AddGauge("tessera_infer_queue_length",
                               "Number of requests waiting for an inference worker.", by_version);
  }
  if (on("tessera_batch_size")) {
    batch_size_ = r.AddHistogram("tessera_batch_size", "Number of requests per engine run.",
                                 by_version, BatchBounds());
  }
  if (on("tessera_pipeline_node_time_us")) {
    node_time_ = r.AddHistogram("tessera_pipeline_node_time_us",
                                "Time from a pipeline node starting to its result (each shard counts).",
                                {"pipeline", "node"}, TimeBounds());
  }
}

void ServingMetrics::RecordNodeTime(const std::string& pipeline, const std::string& node, double elapsed_us) {
  if (node_time_) node_time_->Get({pipeline, node})->Observe(elapsed_us);
}

VersionMetrics ServingMetrics::ForVersion(const std::string& name, int64_t version) {
  char buffer[24];
  std::string_view v = VersionLabel(version, buffer);
  VersionMetrics m;
  auto gauge = [&](Family<Gauge>* f) { return f ? f->Get({name, v}) : nullptr; };
  auto histogram = [&](Family<Histogram>* f) { return f ? f->Get({name, v}) : nullptr; };
  m.streams = gauge(streams_);
  m.current_requests = gauge(current_requests_);
  m.infer_req_queue_size = gauge(infer_req_queue_size_);
  m.infer_req_active = gauge(infer_req_active_);
  m.queue_length = gauge(queue_length_);
  m.inference_time_us = histogram(inference_time_);
  m.wait_time_us = histogram(wait_time_);
  m.batch_size = histogram(batch_size_);
  return m;
}

void VersionMetrics::Started(int workers) const {
  if (streams) streams->Set(workers);
  if (infer_req_queue_size) infer_req_queue_size->Set(workers);
}

namespace {

uint64_t Nanos(VersionMetrics::Clock::duration d) {
  return static_cast<uint64_t>(std::max<int64_t>(0, std::chrono::duration_cast<std::chrono::nanoseconds>(d).count()));
}

uint64_t EpochMillis() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

}  // namespace

VersionMetrics::Clock::time_point VersionMetrics::Accepted() const {
  if (current_requests) current_requests->Add(1);
  return stats ? Clock::now() : Clock::time_point{};
}

void VersionMetrics::Answered(Clock::time_point accepted, bool ok) const {
  if (current_requests) current_requests->Add(-1);
  if (stats) stats->RecordAnswer(ok, Nanos(Clock::now() - accepted), EpochMillis());
}

void VersionMetrics::Dequeued(Clock::time_point arrival, Clock::time_point taken) const {
  const auto waited = taken - arrival;
  if (wait_time_us) wait_time_us->Observe(Micros(waited));
  if (stats) stats->RecordQueue(Nanos(waited));
}

VersionMetrics::Clock::time_point VersionMetrics::RunStarted(int requests) const {
  if (infer_req_active) infer_req_active->Add(1);
  if (batch_size) batch_size->Observe(requests);
  return Clock::now();
}

VersionMetrics::Clock::time_point VersionMetrics::RunFinished(Clock::time_point started) const {
  const auto now = Clock::now();
  if (infer_req_active) infer_req_active->Add(-1);
  if (inference_time_us) inference_time_us->Observe(Micros(now - started));
  return now;
}

void VersionMetrics::Executed(const RunPhases& phases, int64_t rows, int requests) const {
  if (!stats) return;
  stats->RecordExecution(static_cast<uint64_t>(std::max<int64_t>(1, rows)),
                         static_cast<uint64_t>(requests), Nanos(phases.infer_start - phases.taken),
                         Nanos(phases.infer_end - phases.infer_start),
                         Nanos(phases.built - phases.infer_end));
}

void ServingMetrics::RecordCall(Api api, Interface interface, Method method, const std::string& name,
                                int64_t version, bool ok, double elapsed_us) {
  char buffer[24];
  std::string_view v = VersionLabel(version, buffer);
  if (Family<Counter>* counter = ok ? success_ : fail_) {
    counter->Get({ApiName(api), InterfaceName(interface), MethodName(method), name, v})->Increment();
  }
  if (ok && request_time_ && IsInference(method) && elapsed_us >= 0) {
    request_time_->Get({InterfaceName(interface), name, v})->Observe(elapsed_us);
  }
}

std::string ServingMetrics::Render() const { return EncodeText(registry_); }

void FrontDoorMetrics::Record(Method method, const std::string& name, int64_t version, bool ok,
                              std::chrono::steady_clock::time_point start) const {
  if (!ok) {
    if (version < 0 || !resolver_) return;
    std::optional<int64_t> resolved = resolver_(name, version);
    if (!resolved) return;
    version = *resolved;
  }
  if (!HasVersionLabel(method)) version = 0;
  double elapsed_us = -1;
  if (ok && IsInference(method)) {
    elapsed_us = ElapsedUs(start);
  }
  metrics_.RecordCall(api_, interface_, method, name, version, ok, elapsed_us);
}

}  // namespace tessera::metrics
