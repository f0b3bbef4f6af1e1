#include "backend/torch/mkldnn_repair.h"

#include <torch/csrc/jit/ir/named_value.h>

#include <string>
#include <utility>
#include <vector>

namespace tessera {
namespace {

using torch::jit::Block;
using torch::jit::Node;
using torch::jit::Symbol;
using torch::jit::Value;

struct Fault {
  Node* node;
  Symbol dense_op;  // out-of-place aten op computing the same thing
  bool in_place;
};

// Faulty MKLDNN op name (without the in-place "_") -> aten op.
const std::vector<std::pair<std::string, std::string>>& Replacements() {
  static const std::vector<std::pair<std::string, std::string>> kReplacements = {
      {"MKLDNNHardSwish", "hardswish"},
      {"MKLDNNHardSigmoid", "hardsigmoid"},
      {"MKLDNNHardTanh", "hardtanh"},
      {"MKLDNNClamp", "clamp"},
  };
  return kReplacements;
}

void CollectFaults(Block* block, std::vector<Fault>& found) {
  for (Node* node : block->nodes()) {
    for (Block* sub : node->blocks()) CollectFaults(sub, found);
    for (const auto& [faulty, dense] : Replacements()) {
      if (node->kind() == Symbol::prim(faulty) || node->kind() == Symbol::prim(faulty + "_")) {
        found.push_back({node, Symbol::aten(dense), node->kind() != Symbol::prim(faulty)});
      }
    }
  }
}

void ReplaceWithDense(torch::jit::Graph& graph, const Fault& fault) {
  Node* node = fault.node;
  torch::jit::WithInsertPoint guard(node);
  Value* input = node->input(0);
  std::vector<torch::jit::NamedValue> args = {graph.insert(Symbol::aten("to_dense"), {input})};
  // Bounds of hardtanh and clamp are attributes of the MKLDNN node.
  for (const char* bound : {"min_val", "max_val"}) {
    Symbol name = Symbol::attr(bound);
    if (node->hasAttribute(name)) args.emplace_back(graph.insertConstant(node->f(name)));
  }
  Value* result = graph.insert(Symbol::aten("to_mkldnn"), {graph.insert(fault.dense_op, args)});
  node->output()->replaceAllUsesWith(result);
  // An in-place op also changed `input`: later readers get the repaired value.
  if (fault.in_place) input->replaceAllUsesAfterNodeWith(result->node(), result);
  node->destroy();
}

}  // namespace

int RepairMkldnnUnaryOps(torch::jit::Graph& graph) {
  std::vector<Fault> found;
  CollectFaults(graph.block(), found);
  for (const Fault& fault : found) ReplaceWithDense(graph, fault);
  return static_cast<int>(found.size());
}

}  // namespace tessera
