// Works around a wrong-results bug in libtorch 1.13's optimize_for_inference.
//
// Its MKLDNN conversion runs hardswish, hardsigmoid, hardtanh (relu6) and
// clamp on MKLDNN tensors as prim::MKLDNNHardSwish, prim::MKLDNNHardSigmoid,
// prim::MKLDNNHardTanh and prim::MKLDNNClamp (or their in-place "_" forms).
// These walk the tensor's logical element count over its physical buffer.
// A convolution whose output channel count is not a multiple of oneDNN's
// channel block (16 with AVX-512) writes a blocked, channel-padded buffer,
// larger than the logical size, so the tail of the buffer is never
// processed: the last image of a batch comes out wrong (MobileNetV3-large:
// 70 of its 72-channel squeeze-excitation outputs, errors of 100% and more;
// libtorch also warns "An output with one or more elements was resized").
//
// RepairMkldnnUnaryOps replaces each such node by the same aten op on a dense
// copy, converted back to MKLDNN for the nodes that follow:
//   y = prim::MKLDNNHardSwish_(x)      (or y = prim::MKLDNNClamp[min_val, max_val](x))
// becomes
//   y = aten::to_mkldnn(aten::hardswish(aten::to_dense(x)))   (aten::clamp(.., min, max))
// which is correct for any layout, at the price of two reorders per node.
#pragma once

#include <torch/csrc/jit/ir/ir.h>

namespace tessera {

// Rewrites `graph` (and its sub-blocks) in place; returns the number of nodes
// replaced. REQUIRES: `graph` came out of torch::jit::optimize_for_inference.
int RepairMkldnnUnaryOps(torch::jit::Graph& graph);

}  // namespace tessera
