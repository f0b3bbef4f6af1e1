// Codec of the KServe v2 REST bodies of Triton's model repository and
// statistics extensions (see docs/kserve_rest.md). Pure functions: no I/O,
// no state, safe to call from any thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "core/repository_admin.h"

namespace tessera::kserve_rest {

// POST /v2/repository/index: an empty body (only whitespace) or a JSON
// object with an optional boolean "ready". Returns `ready` (default false).
// kInvalidArgument for malformed JSON (with the offset), another JSON type,
// "ready" not a boolean, or another key.
Result<bool> DecodeRepositoryIndexRequest(std::string_view body);

// POST /v2/repository/models/{m}/load|unload: an empty body or a JSON object
// with an optional object "parameters" whose values are booleans, numbers or
// strings. Returns the parameters (checked by CheckRepositoryParameters
// afterwards). kInvalidArgument as above.
Result<std::vector<RepositoryParameter>> DecodeRepositoryModelRequest(std::string_view body);

// [{"name","version"?,"state","reason"}]; "version" is left out for a model
// without any known version.
std::string EncodeRepositoryIndex(const std::vector<RepositoryIndexEntry>& entries);

// {"model_stats":[{"name","version","last_inference","inference_count",
// "execution_count","inference_stats":{"success":{"count","ns"},"fail",
// "queue","compute_input","compute_infer","compute_output","cache_hit",
// "cache_miss"},"batch_stats":[{"batch_size","compute_input",
// "compute_infer","compute_output"}]}]}
std::string EncodeModelStatistics(const std::vector<ModelStatistics>& stats);

}  // namespace tessera::kserve_rest
