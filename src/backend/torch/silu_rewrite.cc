#include "backend/torch/silu_rewrite.h"

#include <vector>

namespace tessera {
namespace {

using torch::jit::Block;
using torch::jit::Node;
using torch::jit::Symbol;

bool HasConvolution(Block* block) {
  for (Node* node : block->nodes()) {
    for (Block* sub : node->blocks()) {
      if (HasConvolution(sub)) return true;
    }
    Symbol kind = node->kind();
    if (kind == Symbol::aten("conv2d") || kind == Symbol::aten("conv3d") ||
        kind == Symbol::aten("_convolution") || kind == Symbol::aten("convolution")) {
      return true;
    }
  }
  return false;
}

void CollectSilus(Block* block, std::vector<Node*>& found) {
  for (Node* node : block->nodes()) {
    for (Block* sub : node->blocks()) CollectSilus(sub, found);
    if (node->kind() == Symbol::aten("silu") || node->kind() == Symbol::aten("silu_")) {
      found.push_back(node);
    }
  }
}

}  // namespace

int RewriteSiluForMkldnn(torch::jit::Graph& graph) {
  if (!HasConvolution(graph.block())) return 0;
  std::vector<Node*> found;
  CollectSilus(graph.block(), found);
  for (Node* node : found) {
    torch::jit::WithInsertPoint guard(node);
    torch::jit::Value* x = node->input(0);
    torch::jit::Value* y =
        graph.insert(Symbol::aten("mul"), {x, graph.insert(Symbol::aten("sigmoid"), {x})});
    y->setType(node->output()->type());
    node->output()->replaceAllUsesWith(y);
    // silu_ also changed x: later readers read the result instead.
    if (node->kind() == Symbol::aten("silu_")) x->replaceAllUsesAfterNodeWith(node, y);
    node->destroy();
  }
  return static_cast<int>(found.size());
}

}  // namespace tessera
