#include "backend/torch/row_matmul.h"

#include <gtest/gtest.h>
#include <torch/script.h>

#include <string>

#include "backend/torch/torch_runtime.h"

namespace tessera {
namespace {

int CountKind(const torch::jit::Graph& graph, const std::string& kind) {
  int n = 0;
  for (const torch::jit::Node* node : graph.nodes()) n += node->kind().toQualString() == kind;
  return n;
}

// A Linear layer as optimize_for_inference sees it: a constant weight.
torch::jit::Module Linear() {
  torch::manual_seed(0);
  torch::jit::Module m("__torch__.Linear");
  m.register_parameter("w", torch::randn({10, 24}), false);
  m.register_parameter("b", torch::randn({10}), false);
  m.define(R"(
    def forward(self, x):
        return torch.linear(x, self.w, self.b)
  )");
  m.eval();
  return m;
}

TEST(RowMatmul, OptimisedLinearMatchesEagerForAnyRowCount) {
  torch::jit::Module model = Linear();
  torch::NoGradGuard no_grad;
  torch::jit::Module optimized = FreezeAndOptimize(model, "test");
  auto graph = optimized.get_method("forward").graph();
  EXPECT_EQ(CountKind(*graph, "tessera::row_matmul"), 1) << *graph;
  EXPECT_EQ(CountKind(*graph, "aten::matmul"), 0) << *graph;
  for (auto shape : {std::vector<int64_t>{1, 24}, {3, 24}, {24}, {2, 1, 24}}) {
    torch::Tensor x = torch::randn(shape);
    torch::Tensor expected = model.forward({x}).toTensor();
    for (int i = 0; i < 3; ++i) {  // past the profiling runs
      torch::Tensor actual = optimized.forward({x}).toTensor();
      ASSERT_EQ(actual.sizes(), expected.sizes()) << x.sizes();
      EXPECT_TRUE(torch::allclose(actual, expected, 1e-5, 1e-5)) << x.sizes();
    }
  }
}

TEST(RowMatmul, OtherDtypesTakeMatmul) {
  auto graph = std::make_shared<torch::jit::Graph>();
  torch::jit::Value* x = graph->addInput("x")->setType(c10::TensorType::get());
  torch::Tensor w = torch::arange(6, torch::kDouble).reshape({3, 2});
  torch::jit::Value* weight = graph->insertConstant(w);
  graph->registerOutput(graph->insert(torch::jit::Symbol::aten("matmul"), {x, weight}));
  ASSERT_EQ(RewriteRowMatmuls(*graph), 1);
  torch::jit::Node* rewritten = graph->outputs()[0]->node();
  ASSERT_EQ(rewritten->kind().toQualString(), std::string("tessera::row_matmul"));
  torch::Tensor x_value = torch::ones({1, 3}, torch::kDouble);
  torch::jit::Stack stack = {x_value, w};
  rewritten->getOperation()(stack);
  EXPECT_TRUE(torch::equal(stack.back().toTensor(), torch::matmul(x_value, w)));
}

TEST(RowMatmul, LeavesMatmulsOfTwoInputsAlone) {
  auto graph = std::make_shared<torch::jit::Graph>();
  torch::jit::Value* a = graph->addInput("a");
  torch::jit::Value* b = graph->addInput("b");
  graph->registerOutput(graph->insert(torch::jit::Symbol::aten("matmul"), {a, b}));
  EXPECT_EQ(RewriteRowMatmuls(*graph), 0);
}

}  // namespace
}  // namespace tessera
