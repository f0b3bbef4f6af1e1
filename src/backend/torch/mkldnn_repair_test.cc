#include "backend/torch/mkldnn_repair.h"

#include <gtest/gtest.h>
#include <torch/script.h>

#include <string>

#include "backend/torch/torch_runtime.h"

namespace tessera {
namespace {

// A convolution to 72 channels (not a multiple of oneDNN's channel block, so
// its MKLDNN output is padded) followed by `activation`, then a 1x1 conv.
torch::jit::Module ConvThen(const std::string& activation) {
  torch::manual_seed(0);
  torch::jit::Module m("__torch__.ConvThen");
  m.register_parameter("w1", torch::randn({72, 3, 3, 3}), false);
  m.register_parameter("b1", torch::randn({72}), false);
  m.register_parameter("w2", torch::randn({8, 72, 1, 1}), false);
  m.register_parameter("b2", torch::randn({8}), false);
  m.define(R"(
    def forward(self, x):
        y = torch.conv2d(x, self.w1, self.b1, [1, 1], [1, 1])
        y = )" + activation + R"(
        return torch.conv2d(y, self.w2, self.b2)
  )");
  m.eval();
  return m;
}

int CountKind(const torch::jit::Graph& graph, const std::string& kind) {
  int n = 0;
  for (const torch::jit::Node* node : graph.nodes()) n += node->kind().toQualString() == kind;
  return n;
}

class MkldnnRepairTest : public ::testing::TestWithParam<const char*> {};

// The last image of the batch is the one the faulty ops got wrong.
TEST_P(MkldnnRepairTest, OptimisedModelMatchesEagerOnEveryImage) {
  torch::jit::Module model = ConvThen(GetParam());
  torch::Tensor x = torch::randn({2, 3, 14, 14});
  torch::NoGradGuard no_grad;
  torch::Tensor expected = model.forward({x}).toTensor();

  torch::jit::Module optimized = FreezeAndOptimize(model, "test");
  auto graph = optimized.get_method("forward").graph();
  EXPECT_EQ(CountKind(*graph, "aten::to_dense"), 2) << *graph;  // repaired op + final output
  torch::Tensor actual;
  for (int i = 0; i < 3; ++i) actual = optimized.forward({x}).toTensor();  // past profiling
  for (int64_t image = 0; image < 2; ++image) {
    EXPECT_TRUE(torch::allclose(actual[image], expected[image], 1e-4, 1e-4))
        << "image " << image << ": max abs diff "
        << (actual[image] - expected[image]).abs().max().item<float>();
  }
}

INSTANTIATE_TEST_SUITE_P(Activations, MkldnnRepairTest,
                         ::testing::Values("torch.hardswish(y)", "torch.hardsigmoid(y)",
                                           "torch.hardtanh(y, 0.0, 6.0)",
                                           "torch.hardtanh_(y, -1.0, 1.0)",
                                           "torch.clamp(y, -1.0, 1.0)"));

TEST(MkldnnRepair, LeavesOtherGraphsAlone) {
  auto graph = std::make_shared<torch::jit::Graph>();
  torch::jit::Value* x = graph->addInput("x");
  graph->registerOutput(graph->insert(torch::jit::Symbol::aten("relu"), {x}));
  EXPECT_EQ(RepairMkldnnUnaryOps(*graph), 0);
  EXPECT_EQ(CountKind(*graph, "aten::relu"), 1);
}

}  // namespace
}  // namespace tessera
