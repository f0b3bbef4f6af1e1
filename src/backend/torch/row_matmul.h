// Single-row products with constant weights as matrix-vector products.
//
// optimize_for_inference turns every frozen Linear into
// aten::matmul(x, W) with W a constant, pre-transposed [K, N] matrix (and a
// separate bias add). At batch 1 (x of shape [1, K]) the BLAS runs that as a
// matrix-matrix product and first copies ("packs") all of W, every call:
// for a 1280x1000 classifier that is ~270 us where a matrix-vector product
// over the same W takes ~70 us (MobileNetV2: ~4% of an inference).
//
// RewriteRowMatmuls replaces each aten::matmul whose second input is a
// constant 2-D tensor by tessera::row_matmul, which on every run checks its
// input: a float32 x of shape [1, K] or [K] runs as at::mv over W's
// transposed view (no copy), anything else as aten::matmul, as before.
#pragma once

#include <torch/csrc/jit/ir/ir.h>

namespace tessera {

// Rewrites `graph` (and its sub-blocks) in place; returns the number of
// nodes rewritten.
int RewriteRowMatmuls(torch::jit::Graph& graph);

}  // namespace tessera
