#include "backend/torch/silu_rewrite.h"

#include <gtest/gtest.h>
#include <torch/script.h>

#include <string>

#include "backend/torch/graph_test_util.h"
#include "backend/torch/torch_runtime.h"

namespace tessera {
namespace {

torch::jit::Module Define(const std::string& body) {
  torch::manual_seed(0);
  torch::jit::Module m("__torch__.Silu");
  m.register_parameter("w1", torch::randn({24, 3, 3, 3}), false);
  m.register_parameter("w2", torch::randn({8, 24, 1, 1}), false);
  m.define(body);
  m.eval();
  return m;
}

TEST(SiluRewrite, SiluBetweenConvolutionsStaysInMkldnnAndMatchesEager) {
  for (const char* silu : {"torch.silu(y)", "torch.silu_(y)"}) {
    SCOPED_TRACE(silu);
    torch::jit::Module model = Define(std::string(R"(
    def forward(self, x):
        y = torch.conv2d(x, self.w1, None, [1, 1], [1, 1])
        y = )") + silu + R"(
        return torch.conv2d(y, self.w2)
  )");
    torch::NoGradGuard no_grad;
    torch::jit::Module optimized = FreezeAndOptimize(model, "test");
    auto graph = optimized.get_method("forward").graph();
    EXPECT_EQ(CountKind(*graph, "aten::silu") + CountKind(*graph, "aten::silu_"), 0) << *graph;
    EXPECT_EQ(CountKind(*graph, "aten::to_dense"), 1) << *graph;  // the output only
    for (int64_t batch : {1, 3}) {
      torch::Tensor x = torch::randn({batch, 3, 10, 10});
      torch::Tensor expected = model.forward({x}).toTensor();
      for (int i = 0; i < 3; ++i) {
        EXPECT_TRUE(torch::allclose(optimized.forward({x}).toTensor(), expected, 1e-4, 1e-4));
      }
    }
  }
}

TEST(SiluRewrite, InPlaceSiluLeavesLaterReadersTheResult) {
  torch::jit::Module model = Define(R"(
    def forward(self, x):
        y = torch.conv2d(x, self.w1, None, [1, 1], [1, 1])
        z = torch.silu_(y)
        return y + z
  )");
  torch::NoGradGuard no_grad;
  torch::jit::Module optimized = FreezeAndOptimize(model, "test");
  torch::Tensor x = torch::randn({2, 3, 6, 6});
  torch::Tensor expected = model.forward({x}).toTensor();
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(torch::allclose(optimized.forward({x}).toTensor(), expected, 1e-4, 1e-4));
  }
}

TEST(SiluRewrite, GraphsWithoutConvolutionKeepSilu) {
  auto graph = std::make_shared<torch::jit::Graph>();
  torch::jit::Value* x = graph->addInput("x");
  graph->registerOutput(graph->insert(torch::jit::Symbol::aten("silu"), {x}));
  EXPECT_EQ(RewriteSiluForMkldnn(*graph), 0);
  EXPECT_EQ(CountKind(*graph, "aten::silu"), 1);
}

}  // namespace
}  // namespace tessera
