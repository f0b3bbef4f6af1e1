// TorchScript backend: serves `*.pt` / `*.torchscript` archives with libtorch.
//
// This header deliberately includes no libtorch header: only
// tessera_backend_torch compiles against libtorch.
//
// Model files. A version directory is accepted when its file names contain a
// file ending in ".pt" or ".torchscript". More than one such file is a Load
// error naming them (which one to serve would be a guess).
//
// Signature, first found wins:
//  1. "signature.json" embedded in the archive (torch.jit.save(...,
//     _extra_files={"signature.json": ...})),
//  2. "signature.json" beside the model file in the version directory,
//  3. derived from the module:
//     - inputs: forward()'s argument names (self skipped; trailing arguments
//       with defaults are left at their defaults), every one FP32 with an
//       EMPTY shape, which means "unknown rank, any shape accepted" (the
//       serving layer skips shape checks for empty shapes);
//     - outputs: the number of results is unknown without running the model,
//       so it is read from the frozen graph: a returned tuple/list literal of
//       N values gives "output_0".."output_N-1", a dict literal with constant
//       string keys gives those keys, otherwise forward's declared return type
//       decides: Tensor gives one output "output", Tuple of N gives
//       "output_0".."output_N-1", anything else (e.g. Dict or List built at run
//       time) is a Load error asking for a signature.json. Derived outputs are
//       listed as FP32 with an empty shape; Run returns the real dtype.
// The signature.json format is documented in signature_json.h and
// examples/README.md. A declared signature is enforced at run time: every
// declared output must be produced with the declared datatype and a shape
// matching the declared one (a wrong signature.json shows up at warm-up).
//
// Load: torch::jit::load, training flags off (eval), torch::jit::freeze and
// torch::jit::optimize_for_inference, with Tessera's graph rewrites around it
// (FreezeAndOptimize in torch_runtime.h). If freezing or optimising throws, the
// unoptimised module is served and a warning is logged (a slower model beats
// no model). Every libtorch exception becomes a Status carrying the file path
// and the first line of the message (no C++ backtrace).
//
// Run: inputs are wrapped with torch::from_blob (no copy) under
// c10::InferenceMode. Request buffers are read-only: alias analysis of the
// loaded graph finds the inputs the model may write to (in-place ops), and
// only those are copied first; an input whose address is not aligned to its
// element size is copied too. The model may return a Tensor, a tuple/list of
// Tensors or a Dict[str, Tensor]; outputs are made dense and contiguous and
// returned in signature order as tessera::Tensors that borrow the libtorch
// memory (the keepalive holds the at::Tensor; an output that is a view of a
// request buffer is copied so it never outlives that buffer).
//
// Threads. This Debian libtorch 1.13 uses the OpenMP ATen parallel backend
// (at::get_parallel_info(): "ATen parallel backend: OpenMP", oneDNN on the
// OpenMP runtime, no MKL). The intra-op thread count is OpenMP's nthreads-var
// ICV, which is per calling thread: at::parallel_for and oneDNN open
// `omp parallel` teams sized by the caller's omp_get_max_threads().
// at::set_num_threads() is NOT the right tool for per-model counts: besides
// the caller's ICV it stores a process-global default that every thread copies
// on its first ATen parallel call, resizes the process-wide pthreadpool and
// clears oneDNN's computation cache. So each Run first forces ATen's per-thread
// lazy initialisation (at::get_num_threads(); otherwise that later overwrites
// our value with the global default) and then, only if the count differs,
// calls omp_set_num_threads(LoadOptions::intra_op_threads) for the calling
// thread. Every Run therefore uses exactly that many intra-op threads, on
// whichever thread calls it (pool workers, or the loader thread at warm-up),
// and models with different counts do not disturb each other. The inter-op
// pool (used only by torch.jit.fork) is set to 1 thread once per process
// when the first backend is made, if nothing started it yet.
// How idle team threads wait (spin or sleep) is set for the whole process
// at start: openmp_wait_policy.h.
//
// Thread-safety: the Backend and every LoadedModel it returns are thread-safe;
// Run may be called concurrently.
#pragma once

#include <memory>

#include "backend/backend.h"

namespace tessera {

// Returns the TorchScript backend (name "torchscript", platform
// "pytorch_torchscript"). Never throws.
std::unique_ptr<Backend> MakeTorchScriptBackend();

}  // namespace tessera
