// The core API types: what every frontend turns its wire messages into and
// back from. No wire type (protobuf, JSON) appears here or below.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "tensor/signature.h"

namespace tessera {

// Version 0 in a request means "the default version" (highest AVAILABLE).
inline constexpr int64_t kDefaultVersion = 0;

// A model version as a client writes it in text (KServe model_version, a
// URL's /versions/{v}): decimal digits only, no sign. "0" is kDefaultVersion,
// as in OVMS and TF Serving; so is "" when `empty_is_default` (KServe gRPC's
// unset field). Errors: kInvalidArgument "Invalid model version '<text>':
// expected a non-negative integer (0 = the default version)".
// Every front door parses versions here.
Result<int64_t> ParseModelVersion(std::string_view text, bool empty_is_default);

// TF Serving ModelVersionStatus.State numbering.
enum class VersionState : int {
  kStart = 10,
  kLoading = 20,
  kAvailable = 30,
  kUnloading = 40,
  kEnd = 50,
};

// "START", "LOADING", "AVAILABLE", "UNLOADING", "END".
const char* VersionStateName(VersionState state);

struct VersionStatus {
  int64_t version = 0;
  VersionState state = VersionState::kStart;
  Status status;  // OK, or why the version failed (a failed load: kUnknown)
};

// When a request must have been taken by a worker; unset = no deadline.
using DeadlineClock = std::chrono::steady_clock;
using Deadline = std::optional<DeadlineClock::time_point>;

// The earlier of two deadlines (unset is later than any time).
Deadline EarlierDeadline(Deadline a, Deadline b);
// `now` + `timeout`; unset when timeout <= 0 (no timeout).
Deadline DeadlineAfter(std::chrono::microseconds timeout,
                       DeadlineClock::time_point now = DeadlineClock::now());

struct InferRequest {
  std::string model_name;
  int64_t model_version = kDefaultVersion;
  std::string id;
  // Inputs may borrow bytes from the wire message; see InferenceService::Infer.
  std::vector<NamedTensor> inputs;
  // Names of the outputs wanted; empty means all, in signature order.
  std::vector<std::string> requested_outputs;
  // Set by the frontend from the client's deadline or timeout; see
  // InferenceService::Infer for what the core does with it.
  Deadline deadline;
  // Set by the frontend when the client can go away (a gRPC call): returns
  // true once it has. Thread-safe; called from any thread, never after the
  // request's callback has started.
  std::function<bool()> cancelled;
};

struct InferResponse {
  std::string model_name;
  int64_t model_version = 0;
  std::string id;
  std::vector<NamedTensor> outputs;
};

// Called exactly once with the response or the error.
using InferCallback = std::function<void(Result<InferResponse>)>;

struct ModelMetadata {
  std::string name;
  int64_t version = 0;                 // the version described
  std::vector<int64_t> versions;       // all AVAILABLE versions, ascending
  std::string platform;                // KServe platform name
  ModelSignature signature;
};

struct ServerMetadata {
  std::string name;
  std::string version;
  std::vector<std::string> extensions;
};

}  // namespace tessera
