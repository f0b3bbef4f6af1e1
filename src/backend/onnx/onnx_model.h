// Reading ONNX model files: parsing, external data, opset and signature.
//
// No libtorch here: this is the protobuf side of the importer.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/result.h"
#include "onnx/onnx_pb.h"
#include "tensor/signature.h"

namespace tessera::onnx_import {

// Oldest and newest default-domain opsets the importer accepts. Opsets below
// 7 load as far as their ops' attributes allow (the pytorch-converted
// conformance models are opset 6); 17 is the newest libonnx 1.12 defines.
constexpr int64_t kMinOpset = 1;
constexpr int64_t kMaxOpset = 17;

// Parses the model at `path` and moves every external-data tensor
// (initializers and Constant values, in all subgraphs) inline. External files
// are resolved relative to the model's directory and must stay inside it:
// absolute locations and locations escaping it through ".." or symbolic
// links are errors (kInvalidArgument), as are missing or short files.
// A file that is not a complete ModelProto is kInvalidArgument too.
Result<onnx::ModelProto> ReadOnnxModel(const std::string& path);

// The default-domain ("" or "ai.onnx") opset; an error when absent or
// outside [kMinOpset, kMaxOpset].
Result<int64_t> DefaultOpset(const onnx::ModelProto& model, const std::string& label);

// ONNX TensorProto.DataType -> Tessera datatype; nullopt when Tessera has no
// such type (complex, float8...).
std::optional<DataType> FromOnnxType(int elem_type);

// Inputs are the graph inputs that are not initializers, outputs the graph
// outputs, in graph order. Shapes: dim_value, or -1 for symbolic (dim_param)
// and unknown dims; a value with no shape at all gets an empty Shape (any
// shape). An input or output of a type the server cannot carry is an error.
Result<ModelSignature> OnnxSignature(const onnx::ModelProto& model, const std::string& label);

}  // namespace tessera::onnx_import
