#include "backend/torch/mkldnn_repair.h"

#include <ATen/ATen.h>
#include <torch/csrc/jit/runtime/custom_operator.h>
#include <torch/csrc/jit/runtime/operator.h>

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace tessera {
namespace {

using torch::jit::Block;
using torch::jit::Node;
using torch::jit::Symbol;

const Symbol kGuarded = Symbol::fromQualString("tessera::mkldnn_activation");
const Symbol kGuardedInPlace = Symbol::fromQualString("tessera::mkldnn_activation_");
const Symbol kOpAttr = Symbol::attr("op");
const Symbol kMinAttr = Symbol::attr("min_val");
const Symbol kMaxAttr = Symbol::attr("max_val");

// The same computation on a dense tensor.
using DenseFn = std::function<at::Tensor(const at::Tensor&)>;

struct Faulty {
  const char* name;  // prim:: op, without the in-place "_"
  DenseFn (*dense)(double min_val, double max_val);  // bounds: hardtanh and clamp only
};

const Faulty kFaulty[] = {
    {"MKLDNNHardSwish",
     [](double, double) -> DenseFn { return [](const at::Tensor& x) { return at::hardswish(x); }; }},
    {"MKLDNNHardSigmoid",
     [](double, double) -> DenseFn {
       return [](const at::Tensor& x) { return at::hardsigmoid(x); };
     }},
    {"MKLDNNHardTanh",
     [](double lo, double hi) -> DenseFn {
       return [lo, hi](const at::Tensor& x) { return at::hardtanh(x, lo, hi); };
     }},
    {"MKLDNNClamp",
     [](double lo, double hi) -> DenseFn {
       return [lo, hi](const at::Tensor& x) { return at::clamp(x, lo, hi); };
     }},
};

// The entry for `kind` (in-place or not), or nullptr.
const Faulty* FindFaulty(Symbol kind) {
  for (const Faulty& f : kFaulty) {
    if (kind == Symbol::prim(f.name) || kind == Symbol::prim(std::string(f.name) + "_")) return &f;
  }
  return nullptr;
}

// libtorch's own operation for a node of the faulty `kind` carrying `node`'s
// attributes (hardtanh and clamp read theirs from the node), and the graph
// holding that node, to be kept as long as the operation.
std::pair<torch::jit::Operation, std::shared_ptr<torch::jit::Graph>> FaultyOp(Symbol kind,
                                                                              const Node* node) {
  auto scratch = std::make_shared<torch::jit::Graph>();
  torch::jit::Value* input = scratch->addInput()->setType(c10::TensorType::get());
  Node* faulty = scratch->create(kind, {input});
  for (Symbol bound : {kMinAttr, kMaxAttr}) {
    if (node->hasAttribute(bound)) faulty->f_(bound, node->f(bound));
  }
  scratch->insertNode(faulty);
  return {faulty->getOperation(), scratch};
}

bool Unpadded(const at::Tensor& x, int64_t block) {
  return x.dim() < 2 || x.size(1) % block == 0;
}

torch::jit::Operation MakeGuardedOp(const Node* node) {
  const Symbol kind = Symbol::fromQualString(node->s(kOpAttr));
  const Faulty* faulty = FindFaulty(kind);
  TORCH_CHECK(faulty != nullptr, "tessera::mkldnn_activation: unknown op ", kind.toQualString());
  auto [fast, scratch] = FaultyOp(kind, node);
  auto bound = [&](Symbol name) { return node->hasAttribute(name) ? node->f(name) : 0.0; };
  DenseFn dense = faulty->dense(bound(kMinAttr), bound(kMaxAttr));
  const int64_t block = MkldnnChannelBlock();
  return [fast = std::move(fast), scratch = std::move(scratch), dense = std::move(dense),
          block](torch::jit::Stack& stack) mutable {
    if (Unpadded(stack.back().toTensor(), block)) {
      fast(stack);
      return;
    }
    at::Tensor x = torch::jit::pop(stack).toTensor();
    torch::jit::push(stack, dense(x.to_dense()).to_mkldnn());
  };
}

// The schemas mirror the faulty ops': the in-place form may write its input
// (it does on the fast path) and return it.
const torch::jit::RegisterOperators kGuardedOps({
    torch::jit::Operator("tessera::mkldnn_activation(Tensor self) -> Tensor", MakeGuardedOp,
                         c10::AliasAnalysisKind::FROM_SCHEMA),
    torch::jit::Operator("tessera::mkldnn_activation_(Tensor(a!) self) -> Tensor(a!)",
                         MakeGuardedOp, c10::AliasAnalysisKind::FROM_SCHEMA),
});

struct Fault {
  Node* node;
  bool in_place;
};

void CollectFaults(Block* block, std::vector<Fault>& found) {
  for (Node* node : block->nodes()) {
    for (Block* sub : node->blocks()) CollectFaults(sub, found);
    if (const Faulty* faulty = FindFaulty(node->kind())) {
      found.push_back({node, node->kind() != Symbol::prim(faulty->name)});
    }
  }
}

void Guard(torch::jit::Graph& graph, const Fault& fault) {
  Node* node = fault.node;
  Node* guarded = graph.create(fault.in_place ? kGuardedInPlace : kGuarded, {node->input(0)});
  guarded->s_(kOpAttr, node->kind().toQualString());
  for (Symbol bound : {kMinAttr, kMaxAttr}) {
    if (node->hasAttribute(bound)) guarded->f_(bound, node->f(bound));
  }
  guarded->insertBefore(node);
  guarded->output()->setType(node->output()->type());
  node->output()->replaceAllUsesWith(guarded->output());
  // The dense path of an in-place node leaves its input as it was: later
  // readers of the input read the result instead.
  if (fault.in_place) {
    node->input(0)->replaceAllUsesAfterNodeWith(guarded, guarded->output());
  }
  node->destroy();
}

}  // namespace

int64_t MkldnnChannelBlock() {
  static const int64_t block = __builtin_cpu_supports("avx512f") ? 16 : 8;
  return block;
}

int RepairMkldnnUnaryOps(torch::jit::Graph& graph) {
  std::vector<Fault> found;
  CollectFaults(graph.block(), found);
  for (const Fault& fault : found) Guard(graph, fault);
  return static_cast<int>(found.size());
}

}  // namespace tessera
