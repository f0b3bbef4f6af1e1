// JSON bodies of the TF Serving REST model calls, in TF Serving's own form
// (original proto field names, int64 as strings, no "@type"):
//   GET /v1/models/{m}[/versions/{v}]           GetModelStatusResponse
//   GET /v1/models/{m}[/versions/{v}]/metadata  GetModelMetadataResponse
//   GET /v1/config, POST /v1/config/reload      {"<model>": GetModelStatusResponse, ...}
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/model_admin.h"
#include "core/types.h"

namespace tessera::tfs_rest {

// TensorFlow's name of a type: "DT_FLOAT", "DT_STRING" (kBytes), "DT_HALF"
// (kFp16), "DT_BFLOAT16", ...; "DT_INVALID" for kInvalid.
std::string_view TfDataTypeName(DataType type);

// {"model_version_status":[{"version":"1","state":"AVAILABLE",
//   "status":{"error_code":"OK","error_message":""}}, ...]}
std::string ModelStatusJson(const std::vector<VersionStatus>& versions);

// {"model_spec":{"name","signature_name":"","version"},"metadata":{"signature_def":
//  {"signature_def":{"serving_default":{"inputs":{...},"outputs":{...},
//  "method_name":"tensorflow/serving/predict"}}}}}. A signature shape that is
// empty (any shape) is written as "unknown_rank": true with no dims.
std::string ModelMetadataJson(const ModelMetadata& metadata);

// {"<name>":{"model_version_status":[...]}, ...} in the order given.
std::string ConfigStatusJson(const std::vector<ModelStatusEntry>& models);

}  // namespace tessera::tfs_rest
