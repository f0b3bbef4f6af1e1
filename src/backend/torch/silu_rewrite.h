// SiLU written as x * sigmoid(x), so that libtorch's MKLDNN conversion keeps
// it in oneDNN's layout.
//
// optimize_for_inference (libtorch 1.13) runs convolutions, sigmoid, mul,
// add and pooling on MKLDNN tensors, but not SiLU: every SiLU between two
// convolutions becomes to_dense -> silu -> to_mkldnn, two reorders of the
// whole activation (EfficientNet-B0: 49 SiLUs, 74 reorder pairs, and the
// squeeze-excitation pooling falls out of MKLDNN with them). Rewritten as
// aten::mul(x, aten::sigmoid(x)) before that pass, they stay in MKLDNN
// (EfficientNet-B0: ~30% less CPU time per inference; results within float
// rounding of silu).
#pragma once

#include <torch/csrc/jit/ir/ir.h>

namespace tessera {

// Rewrites aten::silu and aten::silu_ in `graph` (and its sub-blocks) when
// the graph has a convolution (otherwise nothing runs in MKLDNN and one silu
// pass beats two); returns the number of nodes rewritten.
// REQUIRES: `graph` is frozen and not yet optimised for inference.
int RewriteSiluForMkldnn(torch::jit::Graph& graph);

}  // namespace tessera
