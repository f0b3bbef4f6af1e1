#include "backend/torch/row_matmul.h"

#include <ATen/ATen.h>
#include <torch/csrc/jit/ir/constants.h>
#include <torch/csrc/jit/runtime/custom_operator.h>

#include <vector>

namespace tessera {
namespace {

using torch::jit::Node;
using torch::jit::Symbol;

const Symbol kRowMatmul = Symbol::fromQualString("tessera::row_matmul");

at::Tensor RowMatmul(const at::Tensor& x, const at::Tensor& w) {
  bool one_row = x.dim() == 1 || (x.dim() == 2 && x.size(0) == 1);
  if (!one_row || x.scalar_type() != at::kFloat || w.scalar_type() != at::kFloat ||
      x.size(-1) != w.size(0) || x.is_mkldnn()) {
    return at::matmul(x, w);
  }
  at::Tensor y = at::mv(w.t(), x.dim() == 1 ? x : x[0]);
  return x.dim() == 1 ? y : y.unsqueeze(0);
}

const torch::jit::RegisterOperators kRowMatmulOp({
    torch::jit::Operator(
        "tessera::row_matmul(Tensor self, Tensor other) -> Tensor",
        [](torch::jit::Stack& stack) {
          at::Tensor w = torch::jit::pop(stack).toTensor();
          at::Tensor x = torch::jit::pop(stack).toTensor();
          torch::jit::push(stack, RowMatmul(x, w));
        },
        c10::AliasAnalysisKind::FROM_SCHEMA),
});

bool HasConstantMatrix(const Node* node) {
  auto w = torch::jit::constant_as<at::Tensor>(node->input(1));
  return w.has_value() && w->dim() == 2 && !w->is_mkldnn() && w->layout() == at::kStrided;
}

void Collect(torch::jit::Block* block, std::vector<Node*>& found) {
  for (Node* node : block->nodes()) {
    for (torch::jit::Block* sub : node->blocks()) Collect(sub, found);
    if (node->kind() == Symbol::aten("matmul") && node->inputs().size() == 2 &&
        HasConstantMatrix(node)) {
      found.push_back(node);
    }
  }
}

}  // namespace

int RewriteRowMatmuls(torch::jit::Graph& graph) {
  std::vector<Node*> found;
  Collect(graph.block(), found);
  for (Node* node : found) {
    Node* rewritten = graph.create(kRowMatmul, {node->input(0), node->input(1)});
    rewritten->insertBefore(node);
    rewritten->output()->setType(node->output()->type());
    node->output()->replaceAllUsesWith(rewritten->output());
    node->destroy();
  }
  return static_cast<int>(found.size());
}

}  // namespace tessera
