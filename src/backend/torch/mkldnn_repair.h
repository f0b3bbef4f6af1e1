// Works around a wrong-results bug in libtorch 1.13's optimize_for_inference,
// paying for the workaround only where the bug can bite.
//
// Its MKLDNN conversion runs hardswish, hardsigmoid, hardtanh (relu6) and
// clamp on MKLDNN tensors as prim::MKLDNNHardSwish, prim::MKLDNNHardSigmoid,
// prim::MKLDNNHardTanh and prim::MKLDNNClamp (or their in-place "_" forms).
// These walk the tensor's logical element count over its physical buffer.
// oneDNN stores convolution outputs in a channel-blocked layout (nChw16c on
// CPUs with AVX-512, nChw8c on AVX2/SSE4.1 ones): a channel count that is not
// a multiple of the block is padded, the buffer is larger than the logical
// size, and the tail of the buffer is never processed: the last image of a
// batch comes out wrong (MobileNetV3-large: 70 of its 72-channel
// squeeze-excitation outputs, errors of 100% and more; libtorch also warns
// "An output with one or more elements was resized"). When the channel count
// is a multiple of the block there is no padding and the ops are right.
//
// RepairMkldnnUnaryOps replaces each such node by a guarded node
//   y = tessera::mkldnn_activation_[op="prim::MKLDNNHardSwish_"](x)
// (tessera::mkldnn_activation for the out-of-place forms; hardtanh and clamp
// keep their min_val/max_val attributes) that decides on every run, from the
// input's channel count (dim 1), which way to go:
//   - channels % MkldnnChannelBlock() == 0, or an input of rank < 2: the
//     original libtorch op, in place on the MKLDNN buffer (no copies);
//   - otherwise: the same aten op on a dense copy, converted back to MKLDNN
//     for the nodes that follow (two reorders, correct for any layout).
// Deciding at run time keeps it right for any input shape the graph sees.
#pragma once

#include <torch/csrc/jit/ir/ir.h>

namespace tessera {

// Rewrites `graph` (and its sub-blocks) in place; returns the number of nodes
// guarded. REQUIRES: `graph` came out of torch::jit::optimize_for_inference.
int RepairMkldnnUnaryOps(torch::jit::Graph& graph);

// The channel block that oneDNN's convolutions pad to on this CPU: 16 when it
// has AVX-512 (the only ISA whose fp32 layouts block by 16), else 8.
int64_t MkldnnChannelBlock();

}  // namespace tessera
