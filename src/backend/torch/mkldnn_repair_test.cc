#include "backend/torch/mkldnn_repair.h"

#include <gtest/gtest.h>
#include <torch/script.h>

#include <iostream>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "backend/torch/graph_test_util.h"
#include "backend/torch/torch_runtime.h"

namespace tessera {
namespace {

// A convolution to `channels` channels followed by `activation`, then a 1x1
// conv. 72 (MobileNetV3's squeeze-excitation width) is not a multiple of
// oneDNN's channel block with AVX-512, so its MKLDNN output is padded there.
torch::jit::Module ConvThen(const std::string& activation, int64_t channels = 72) {
  torch::manual_seed(0);
  torch::jit::Module m("__torch__.ConvThen");
  m.register_parameter("w1", torch::randn({channels, 3, 3, 3}), false);
  m.register_parameter("b1", torch::randn({channels}), false);
  m.register_parameter("w2", torch::randn({8, channels, 1, 1}), false);
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

// max |a - b| over each image of a batch is within 1e-4 (what MKLDNN's
// convolutions change against eager ones).
void ExpectEveryImageClose(const torch::Tensor& actual, const torch::Tensor& expected) {
  ASSERT_EQ(actual.sizes(), expected.sizes());
  for (int64_t image = 0; image < expected.size(0); ++image) {
    EXPECT_TRUE(torch::allclose(actual[image], expected[image], 1e-4, 1e-4))
        << "image " << image << ": max abs diff "
        << (actual[image] - expected[image]).abs().max().item<float>();
  }
}

torch::Tensor RunPastProfiling(torch::jit::Module& module, const torch::Tensor& x) {
  torch::Tensor out;
  for (int i = 0; i < 3; ++i) out = module.forward({x}).toTensor();
  return out;
}

const char* const kActivations[] = {"torch.hardswish(y)", "torch.hardsigmoid(y)",
                                    "torch.hardtanh(y, 0.0, 6.0)",
                                    "torch.hardtanh_(y, -1.0, 1.0)", "torch.clamp(y, -1.0, 1.0)"};

// Channel counts either side of the block: padded ones (with AVX-512: 24, 72)
// take the dense path, unpadded ones libtorch's in-place op.
class MkldnnRepairTest
    : public ::testing::TestWithParam<std::tuple<const char*, int64_t>> {};

// The last image of the batch is the one the faulty ops got wrong.
TEST_P(MkldnnRepairTest, OptimisedModelMatchesEagerOnEveryImage) {
  const auto& [activation, channels] = GetParam();
  torch::jit::Module model = ConvThen(activation, channels);
  torch::NoGradGuard no_grad;
  torch::jit::Module optimized = FreezeAndOptimize(model, "test");
  auto graph = optimized.get_method("forward").graph();
  EXPECT_EQ(CountKind(*graph, "tessera::mkldnn_activation") +
                CountKind(*graph, "tessera::mkldnn_activation_"),
            1)
      << *graph;
  EXPECT_EQ(CountKind(*graph, "aten::to_dense"), 1) << *graph;  // the final output only
  for (int64_t batch : {1, 2, 3}) {
    SCOPED_TRACE("batch " + std::to_string(batch));
    torch::Tensor x = torch::randn({batch, 3, 14, 14});
    ExpectEveryImageClose(RunPastProfiling(optimized, x), model.forward({x}).toTensor());
  }
}

INSTANTIATE_TEST_SUITE_P(Activations, MkldnnRepairTest,
                         ::testing::Combine(::testing::ValuesIn(kActivations),
                                            ::testing::Values(16, 24, 32, 72)));

// What the guard assumes, checked against this libtorch on this CPU: every
// channel count whose unrepaired graph goes wrong is one the guard sends
// dense. Also shows that the bug is still there (else the repair can go).
TEST(MkldnnRepair, UnrepairedGraphIsWrongOnlyOffTheChannelBlock) {
  const int64_t block = MkldnnChannelBlock();
  std::vector<int64_t> wrong;
  torch::NoGradGuard no_grad;
  // 12 and 20 are padded with either block (8 or 16), 8, 24, 72 and 120 only
  // with 16.
  for (int64_t channels : {8, 12, 16, 20, 24, 32, 48, 72, 120}) {
    torch::jit::Module model = ConvThen("torch.hardsigmoid(y)", channels);
    torch::jit::Module frozen = torch::jit::freeze(model);
    torch::jit::Module raw = torch::jit::optimize_for_inference(frozen);
    torch::Tensor x = torch::randn({2, 3, 14, 14});
    torch::Tensor expected = model.forward({x}).toTensor();
    if (!torch::allclose(RunPastProfiling(raw, x), expected, 1e-4, 1e-4)) {
      wrong.push_back(channels);
      EXPECT_NE(channels % block, 0) << channels << " channels, block " << block;
    }
  }
  EXPECT_FALSE(wrong.empty()) << "libtorch's MKLDNN activations are right on padded layouts "
                                 "now: the repair may no longer be needed";
  std::string list;
  for (int64_t c : wrong) list += " " + std::to_string(c);
  std::cout << "channel block " << block << "; unrepaired graph wrong at:" << list << "\n";
}

// The guarded op itself, on MKLDNN tensors made by to_mkldnn (plain layout):
// with a channel count that is a multiple of the block it runs libtorch's
// in-place op (the input changes), otherwise the dense path (the input is
// left alone); the result is right either way.
TEST(MkldnnRepair, GuardedOpTakesTheFastPathOnlyOnTheChannelBlock) {
  const int64_t block = MkldnnChannelBlock();
  auto graph = std::make_shared<torch::jit::Graph>();
  torch::jit::Value* x = graph->addInput("x")->setType(c10::TensorType::get());
  torch::jit::Node* node =
      graph->create(torch::jit::Symbol::fromQualString("tessera::mkldnn_activation_"), {x});
  node->s_(torch::jit::Symbol::attr("op"), "prim::MKLDNNHardSwish_");
  graph->insertNode(node);
  torch::jit::Operation op = node->getOperation();
  for (int64_t channels : std::vector<int64_t>{block, 2 * block, block + 8, 3}) {
    SCOPED_TRACE(std::to_string(channels) + " channels");
    torch::Tensor dense = torch::randn({2, channels, 3, 3}) * 4;
    torch::Tensor input = dense.to_mkldnn();
    torch::jit::Stack stack = {input};
    op(stack);
    ASSERT_EQ(stack.size(), 1u);
    at::Tensor output = stack.back().toTensor();
    ASSERT_TRUE(output.is_mkldnn());
    EXPECT_TRUE(torch::allclose(output.to_dense(), torch::hardswish(dense)));
    bool in_place = !torch::equal(input.to_dense(), dense);
    EXPECT_EQ(in_place, channels % block == 0);
  }
}

TEST(MkldnnRepair, GuardedHardTanhKeepsItsBounds) {
  auto graph = std::make_shared<torch::jit::Graph>();
  torch::jit::Value* x = graph->addInput("x")->setType(c10::TensorType::get());
  torch::jit::Node* node =
      graph->create(torch::jit::Symbol::fromQualString("tessera::mkldnn_activation"), {x});
  node->s_(torch::jit::Symbol::attr("op"), "prim::MKLDNNHardTanh");
  node->f_(torch::jit::Symbol::attr("min_val"), -0.5);
  node->f_(torch::jit::Symbol::attr("max_val"), 2.0);
  graph->insertNode(node);
  torch::jit::Operation op = node->getOperation();
  graph.reset();  // the operation must not depend on the node
  for (int64_t channels : std::vector<int64_t>{MkldnnChannelBlock(), 5}) {
    torch::Tensor dense = torch::randn({1, channels, 2, 2}) * 4;
    torch::jit::Stack stack = {dense.to_mkldnn()};
    op(stack);
    EXPECT_TRUE(torch::equal(stack.back().toTensor().to_dense(), torch::hardtanh(dense, -0.5, 2.0)))
        << channels << " channels";
  }
}

TEST(MkldnnRepair, LeavesOtherGraphsAlone) {
  auto graph = std::make_shared<torch::jit::Graph>();
  torch::jit::Value* x = graph->addInput("x");
  graph->registerOutput(graph->insert(torch::jit::Symbol::aten("relu"), {x}));
  EXPECT_EQ(RepairMkldnnUnaryOps(*graph), 0);
  EXPECT_EQ(CountKind(*graph, "aten::relu"), 1);
}

}  // namespace
}  // namespace tessera
