// ONNX backend: serves `*.onnx` models by importing them into TorchScript.
//
// This header includes no libtorch header.
//
// Model files. A version directory is accepted when it holds a file ending in
// ".onnx"; more than one is a Load error naming them. Tensors stored as
// external data are read from files beside the model (paths relative to the
// version directory; absolute paths and paths leaving it are refused).
//
// Load: parse (libonnx protobuf classes), check the default-domain opset
// (onnx_model.h), translate the graph to TorchScript, freeze and optimise
// (onnx_importer.h). Unsupported operators or attributes fail the load with
// kUnimplemented naming the op, the node and the opset; truncated files,
// cycles, undefined values and missing external data fail with
// kInvalidArgument. The serving layer records the failure as the version's
// state; other models are unaffected.
//
// Signature (KServe metadata) from the graph: inputs are the graph inputs
// that are not initializers, outputs the graph outputs, each with its ONNX
// element type and shape (symbolic or unknown dims are -1). Outputs are cast
// to their declared element type.
//
// Run: as TorchScript models (torch_runtime.h): zero-copy inputs, per-model
// intra-op threads, thread-safe Run. Platform "onnx_onnxv1".
#pragma once

#include <memory>

#include "backend/backend.h"

namespace tessera {

// Returns the ONNX backend (name "onnx", platform "onnx_onnxv1").
std::unique_ptr<Backend> MakeOnnxBackend();

}  // namespace tessera
