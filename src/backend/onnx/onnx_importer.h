// ONNX graph -> optimised TorchScript module.
//
// ImportOnnx emits the graph as TorchScript source (onnx_emitter.h), defines
// it on a fresh module whose buffers hold the initializers and constants,
// switches it to eval mode, then freezes and optimises it for inference
// (FreezeAndOptimize), so convolution/batch-norm folding, linear and oneDNN
// rewrites apply as they do to TorchScript models.
//
// Only libraries that link libtorch include this header.
#pragma once

#include <torch/script.h>

#include <string>

#include "common/result.h"
#include "onnx/onnx_pb.h"

namespace tessera::onnx_import {

// A TensorProto held inline (raw_data or typed fields) as a CPU tensor.
// Unsigned 16/32/64-bit values are widened as TorchDtypeCode says. Strings,
// complex values and element counts that do not match the dims are
// kInvalidArgument.
Result<at::Tensor> TensorFromProto(const onnx::TensorProto& tensor);

struct ImportOptions {
  std::string label;      // for messages, e.g. the model path
  bool optimize = true;   // freeze + optimize_for_inference
};

struct ImportedModule {
  torch::jit::Module module;  // forward(inputs...) -> tuple of outputs
  std::string source;         // the generated TorchScript, for debugging
};

// REQUIRES: external data already inline (ReadOnnxModel does that).
// Unsupported ops and attributes are kUnimplemented naming the op, node and
// opset; malformed graphs (cycles, undefined values) kInvalidArgument.
Result<ImportedModule> ImportOnnx(const onnx::ModelProto& model, const ImportOptions& options);

}  // namespace tessera::onnx_import
