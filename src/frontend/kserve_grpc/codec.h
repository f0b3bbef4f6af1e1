// Codec between KServe v2 gRPC messages and the core types. Pure functions:
// no I/O, no state, safe to call from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "common/result.h"
#include "core/types.h"
#include "kserve/grpc_predict_v2.pb.h"

namespace tessera::kserve_grpc {

// Turns a ModelInferRequest into an InferRequest.
//
// Input data comes either from each input's `contents` (copied into an owned
// tensor of the declared datatype) or from `raw_input_contents[i]` for
// inputs[i]. Raw inputs are BORROWED: the tensors point into `request`, so
// REQUIRES: `request` outlives every use of the returned InferRequest.
// FP16 and BF16 have no typed form and must be raw.
//
// Errors (all kInvalidArgument, naming the input): unknown datatype,
// negative dims, contents mixed with raw_input_contents, raw count differing
// from the input count, raw byte size not shape x element size, typed value
// count not matching the shape (or values in a field of another datatype, or
// a value out of the datatype's range), an input without data, a repeated
// input name, a bad model_version.
//
// Request parameter "timeout" (Triton's extension: microseconds, int64_param
// or uint64_param) sets `deadline` to now + timeout; 0 or absent: none.
// Another type or a negative value is kInvalidArgument ("Invalid parameter
// 'timeout': expected a non-negative integer (microseconds)").
Result<InferRequest> DecodeInferRequest(const inference::ModelInferRequest& request);

// The request's parameter "timeout" (see DecodeInferRequest); 0 when absent.
Result<std::chrono::microseconds> DecodeTimeout(const inference::ModelInferRequest& request);

// Fills `out` from `response`: model name, version (empty when 0), id, and
// every output's name, datatype and shape, with its bytes appended to
// raw_output_contents in the same order. Errors: kInternal when an output's
// datatype is invalid or its byte size does not fit its shape.
Status EncodeInferResponse(const InferResponse& response, inference::ModelInferResponse* out);

// Fills a ModelMetadataResponse (versions as decimal strings, ascending).
void EncodeModelMetadata(const ModelMetadata& metadata, inference::ModelMetadataResponse* out);

void EncodeServerMetadata(const ServerMetadata& metadata, inference::ServerMetadataResponse* out);

}  // namespace tessera::kserve_grpc
