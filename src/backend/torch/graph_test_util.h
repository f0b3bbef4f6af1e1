// Helpers shared by the unit tests of the graph rewrites in this folder.
#pragma once

#include <torch/script.h>

#include <string>

namespace tessera {

// How many top-level nodes of `graph` have the qualified kind `kind`
// (e.g. "aten::relu_").
inline int CountKind(const torch::jit::Graph& graph, const std::string& kind) {
  int n = 0;
  for (const torch::jit::Node* node : graph.nodes()) n += node->kind().toQualString() == kind;
  return n;
}

}  // namespace tessera
