// What every libtorch-backed model shares, whichever file format it came
// from (TorchScript archives, imported ONNX graphs): error conversion, dtype
// mapping, per-thread intra-op thread counts, freezing and optimisation, and
// the LoadedModel that runs a frozen torch::jit::Module.
//
// Only libraries that link libtorch include this header. See torch_backend.h
// for the contracts (threads, zero-copy inputs, output keepalive) this code
// implements.
#pragma once

#include <c10/util/Exception.h>
#include <torch/script.h>

#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "common/result.h"

namespace tessera {

// One line that says what went wrong in a libtorch exception message (the
// cause line of an interpreter traceback, else the first line).
std::string SummarizeTorchError(const std::string& message);

// Runs `fn`, turning anything it throws into a Status with `code` and
// "<context>: <summary>".
template <typename Fn>
Status CallTorch(StatusCode code, const std::string& context, Fn&& fn) {
  try {
    fn();
    return Status::Ok();
  } catch (const c10::Error& e) {
    return Status(code, context + ": " + SummarizeTorchError(e.msg()));
  } catch (const std::exception& e) {
    return Status(code, context + ": " + SummarizeTorchError(e.what()));
  } catch (...) {
    return Status(code, context + ": unknown exception");
  }
}

std::optional<at::ScalarType> ToScalarType(DataType type);
std::optional<DataType> FromScalarType(at::ScalarType type);

// Sets the calling thread's intra-op thread count (OpenMP ICV) to `threads`.
void UseIntraOpThreads(int threads);
// Sets libtorch's inter-op pool to one thread, once per process.
void SetInterOpThreadsOnce();

// torch::jit::freeze then torch::jit::optimize_for_inference (SiLU rewritten
// first so that it stays in MKLDNN, see silu_rewrite.h; the MKLDNN
// activations it gets wrong repaired, see mkldnn_repair.h; and
// single-row products with constant weights run as matrix-vector products,
// see row_matmul.h); on failure
// logs a warning naming `path` and returns the last stage that worked.
// REQUIRES: `module` is in eval mode.
torch::jit::Module FreezeAndOptimize(torch::jit::Module module, const std::string& path);

// For each of forward()'s first `count` tensor arguments: may the graph write
// to it (in-place ops on it or a view of it)? True when analysis fails.
std::vector<bool> InputsWritten(const torch::jit::Method& forward, size_t count);

struct TorchModelSpec {
  std::string path;      // for messages
  std::string platform;  // KServe platform name
  std::string kind;      // "TorchScript", "ONNX": for messages
  torch::jit::Module module;  // optimised; forward() takes the inputs in order
  ModelSignature signature;
  // Enforce signature.outputs (datatype and shape) on every run.
  bool declared = false;
  std::vector<bool> copy_inputs;  // from InputsWritten
  int intra_op_threads = 1;
};

// A thread-safe LoadedModel running spec.module's forward(). forward() may
// return a Tensor, a tuple/list of Tensors or a Dict[str, Tensor].
std::unique_ptr<LoadedModel> MakeTorchModel(TorchModelSpec spec);

}  // namespace tessera
