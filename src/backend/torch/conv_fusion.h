// ReLU and residual additions folded into the MKLDNN convolutions before
// them, as oneDNN post-ops.
//
// optimize_for_inference (libtorch 1.13) leaves every convolution as
// prim::mkldnn_convolution (prepacked weights, blocked layout kept between
// layers) but runs what follows as separate oneDNN primitives, each one more
// pass over the activation:
//   c = prim::mkldnn_convolution(x, W, b, ...); r = aten::relu_(c)
//   c = prim::mkldnn_convolution(x, W, b, ...)
//   p, q = prim::BroadcastMKLDNNTensors(c, other)    (either order)
//   s = aten::add_(p, q, 1); [r = aten::relu_(s)]
// (ResNet-50: 33 conv + relu, 16 conv + add + relu; MobileNetV2: 10 conv +
// add). This libtorch has no fused convolution op (mkldnn::
// _convolution_pointwise came later), so FuseMkldnnConvolutions rewrites
// these into Tessera's own ops, which call oneDNN through ideep as libtorch
// does, with post-ops:
//   r = tessera::mkldnn_conv_relu(x, W, b, stride, padding, dilation, groups)
//   r = tessera::mkldnn_conv_add(x, W, b, stride, padding, dilation, groups,
//                                other, relu)
// mkldnn_conv_add accumulates into `other`'s buffer (oneDNN's sum post-op)
// and returns it, so the pass only fuses when nothing reads `other` (or
// anything that may alias it) after the addition; when, at run time,
// `other`'s shape differs from the convolution's output (a broadcasting
// add), it runs unfused: convolution, add, relu, as before.
#pragma once

#include <torch/csrc/jit/ir/ir.h>

namespace tessera {

struct ConvFusionCount {
  int relu = 0;  // conv + relu
  int add = 0;   // conv + add [+ relu]
};

// Rewrites `graph` (top-level block) in place.
// REQUIRES: `graph` came out of torch::jit::optimize_for_inference.
ConvFusionCount FuseMkldnnConvolutions(const std::shared_ptr<torch::jit::Graph>& graph);

}  // namespace tessera
