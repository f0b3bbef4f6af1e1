#include "backend/torch/conv_fusion.h"

#include <gtest/gtest.h>
#include <torch/script.h>

#include <string>

#include "backend/torch/graph_test_util.h"
#include "backend/torch/torch_runtime.h"

namespace tessera {
namespace {

// Small ResNet-like modules: w1 [16, 3, 3, 3], w2 [16, 16, 3, 3], w3 a
// 1x1 head.
torch::jit::Module Define(const std::string& body) {
  torch::manual_seed(0);
  torch::jit::Module m("__torch__.Residual");
  m.register_parameter("w1", torch::randn({16, 3, 3, 3}) * 0.2, false);
  m.register_parameter("b1", torch::randn({16}), false);
  m.register_parameter("w2", torch::randn({16, 16, 3, 3}) * 0.1, false);
  m.register_parameter("w3", torch::randn({20, 16, 1, 1}) * 0.2, false);
  m.register_parameter("b3", torch::randn({20}), false);
  m.define(body);
  m.eval();
  return m;
}

const char* kResidual = R"(
    def forward(self, x):
        a = torch.relu(torch.conv2d(x, self.w1, self.b1, [1, 1], [1, 1]))
        h = torch.relu(torch.conv2d(a, self.w2, None, [1, 1], [1, 1]))
        b = torch.conv2d(h, self.w2, None, [1, 1], [1, 1])
        b += a
        c = torch.relu(b)
        h = torch.relu(torch.conv2d(c, self.w2, None, [1, 1], [1, 1]))
        d = torch.conv2d(h, self.w2, None, [1, 1], [1, 1]) + c
        return torch.conv2d(d, self.w3, self.b3)
  )";

// Runs `model` through FreezeAndOptimize and plain libtorch (freeze +
// optimize_for_inference, no Tessera pass), on several batch sizes.
void ExpectSameOutputs(torch::jit::Module& model, torch::jit::Module& optimized,
                       int64_t height = 12, int64_t width = 10) {
  torch::jit::Module frozen = torch::jit::freeze(model);
  torch::jit::Module reference = torch::jit::optimize_for_inference(frozen);
  for (int64_t batch : {1, 2, 3}) {
    SCOPED_TRACE(batch);
    torch::Tensor x = torch::randn({batch, 3, height, width});
    torch::Tensor expected = reference.forward({x}).toTensor();
    torch::Tensor eager = model.forward({x}).toTensor();
    for (int i = 0; i < 3; ++i) {  // the in-place paths must leave nothing behind
      torch::Tensor got = optimized.forward({x}).toTensor();
      EXPECT_TRUE(torch::allclose(got, expected, 1e-5, 1e-5))
          << (got - expected).abs().max().item<float>();
      EXPECT_TRUE(torch::allclose(got, eager, 1e-4, 1e-4));
    }
  }
}

TEST(ConvFusion, FusesReluAndResidualAddsAndMatchesUnfusedGraph) {
  torch::jit::Module model = Define(kResidual);
  torch::NoGradGuard no_grad;
  torch::jit::Module optimized = FreezeAndOptimize(model, "test");
  auto graph = optimized.get_method("forward").graph();
  EXPECT_EQ(CountKind(*graph, "tessera::mkldnn_conv_relu"), 3) << *graph;
  EXPECT_EQ(CountKind(*graph, "tessera::mkldnn_conv_add"), 2) << *graph;
  EXPECT_EQ(CountKind(*graph, "prim::mkldnn_convolution"), 1) << *graph;  // the last one
  EXPECT_EQ(CountKind(*graph, "aten::relu_") + CountKind(*graph, "aten::relu"), 0) << *graph;
  ExpectSameOutputs(model, optimized);
}

TEST(ConvFusion, LargeThreeByThreeConvolutionsRunWinogradWithinFloatTolerance) {
  // 30x29 outputs: the stride-1 3x3 convolutions take oneDNN's Winograd kernel.
  torch::jit::Module model = Define(kResidual);
  torch::NoGradGuard no_grad;
  torch::jit::Module optimized = FreezeAndOptimize(model, "test");
  ExpectSameOutputs(model, optimized, 30, 29);
}

TEST(ConvFusion, LeavesAddWhoseOtherOperandIsStillNeeded) {
  for (const char* body : {
           // `a` is read after the add: accumulating into it would change the output.
           R"(
    def forward(self, x):
        a = torch.relu(torch.conv2d(x, self.w1, self.b1, [1, 1], [1, 1]))
        h = torch.relu(torch.conv2d(a, self.w2, None, [1, 1], [1, 1]))
        b = torch.relu(torch.conv2d(h, self.w2, None, [1, 1], [1, 1]) + a)
        return torch.conv2d(b * a, self.w3, self.b3)
  )",
           // `a` is the convolution's own input: it would be written while read.
           R"(
    def forward(self, x):
        a = torch.relu(torch.conv2d(x, self.w1, self.b1, [1, 1], [1, 1]))
        b = torch.relu(torch.conv2d(a, self.w2, None, [1, 1], [1, 1]) + a)
        return torch.conv2d(b, self.w3, self.b3)
  )"}) {
    SCOPED_TRACE(body);
    torch::jit::Module model = Define(body);
    torch::NoGradGuard no_grad;
    torch::jit::Module optimized = FreezeAndOptimize(model, "test");
    auto graph = optimized.get_method("forward").graph();
    EXPECT_EQ(CountKind(*graph, "tessera::mkldnn_conv_add"), 0) << *graph;
    ExpectSameOutputs(model, optimized);
  }
}

TEST(ConvFusion, BroadcastingAddRunsUnfused) {
  // other is [N, 16, 1, 1]: the fused op falls back to conv, add, relu.
  torch::jit::Module model = Define(R"(
    def forward(self, x):
        a = torch.relu(torch.conv2d(x, self.w1, self.b1, [1, 1], [1, 1]))
        p = torch.adaptive_avg_pool2d(a, [1, 1])
        b = torch.relu(torch.conv2d(a, self.w2, None, [1, 1], [1, 1]) + p)
        return torch.conv2d(b, self.w3, self.b3)
  )");
  torch::NoGradGuard no_grad;
  torch::jit::Module optimized = FreezeAndOptimize(model, "test");
  auto graph = optimized.get_method("forward").graph();
  EXPECT_EQ(CountKind(*graph, "tessera::mkldnn_conv_add"), 1) << *graph;
  ExpectSameOutputs(model, optimized);
}

TEST(ConvFusion, GraphWithoutConvolutionsIsUnchanged) {
  torch::jit::Module m("__torch__.NoConv");
  m.define(R"(
    def forward(self, x):
        return torch.relu(x + x)
  )");
  m.eval();
  torch::NoGradGuard no_grad;
  torch::jit::Module frozen = torch::jit::freeze(m);
  torch::jit::Module optimized = torch::jit::optimize_for_inference(frozen);
  auto graph = optimized.get_method("forward").graph();
  ConvFusionCount count = FuseMkldnnConvolutions(graph);
  EXPECT_EQ(count.relu + count.add, 0);
}

}  // namespace
}  // namespace tessera
