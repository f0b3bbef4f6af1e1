// signature.json: the declared inputs and outputs of a TorchScript model.
//
// Format (KServe datatype names; -1 marks a dynamic dim):
//
//   {"inputs":  [{"name": "x", "datatype": "FP32", "shape": [-1, 16]}],
//    "outputs": [{"name": "y", "datatype": "FP32", "shape": [-1, 4]}]}
//
// Both arrays are required and non-empty. Each entry needs "name" (non-empty,
// unique within its array) and "datatype" (one of BOOL, UINT8, INT8, INT16,
// INT32, INT64, FP16, BF16, FP32, FP64: the types libtorch tensors hold);
// "shape" is optional: integers >= -1, and a missing or empty shape means
// "unknown rank, any shape accepted" (the request validator then skips the
// shape check). Unknown keys are rejected so typos do not go unnoticed.
// Inputs are passed to forward() positionally in this order; outputs are
// matched to the model's results by position (tensor, tuple, list) or by key
// (Dict[str, Tensor]).
//
// No libtorch here: this parser is cheap to compile and test.
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"
#include "tensor/signature.h"

namespace tessera {

// Parses and validates `json`. `source` names the document in error messages
// (e.g. "/models/m/1/signature.json"). Errors are kInvalidArgument with the
// source, the offending entry and what is wrong.
Result<ModelSignature> ParseSignatureJson(std::string_view json, const std::string& source);

// True when libtorch can hold tensors of `type` (the set listed above).
bool IsTorchCompatibleType(DataType type);

}  // namespace tessera
