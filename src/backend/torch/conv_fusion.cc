#include "backend/torch/conv_fusion.h"

#include <ATen/ATen.h>
#include <ideep.hpp>
#include <torch/csrc/jit/runtime/custom_operator.h>
#include <torch/csrc/jit/runtime/operator.h>

#include <atomic>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

// libtorch exports these (ATen/native/mkldnn/MKLDNNCommon.h, a header it does
// not install): the ideep tensor inside an MKLDNN at::Tensor, and the reverse.
namespace at::native {
ideep::tensor& itensor_from_mkldnn(const at::Tensor& mkldnn_tensor);
at::Tensor new_with_itensor_mkldnn(ideep::tensor&& it, c10::optional<c10::ScalarType> dtype,
                                   c10::optional<c10::Device> device);
}  // namespace at::native

namespace tessera {
namespace {

using torch::jit::Node;
using torch::jit::Symbol;
using torch::jit::Value;

const Symbol kConv = Symbol::prim("mkldnn_convolution");
const Symbol kBroadcast = Symbol::prim("BroadcastMKLDNNTensors");
const Symbol kConvRelu = Symbol::fromQualString("tessera::mkldnn_conv_relu");
const Symbol kConvAdd = Symbol::fromQualString("tessera::mkldnn_conv_add");

// ---------------------------------------------------------------------------
// The operations

struct ConvArgs {
  at::Tensor x, w;
  c10::optional<at::Tensor> b;
  std::vector<int64_t> stride, padding, dilation;
  int64_t groups;
};

// Pops the convolution's seven arguments (prim::mkldnn_convolution's order:
// input, weight, bias, stride, padding, dilation, groups) from `stack`.
ConvArgs PopConvArgs(torch::jit::Stack& stack) {
  ConvArgs a;
  a.groups = torch::jit::pop(stack).toInt();
  a.dilation = torch::jit::pop(stack).toIntVector();
  a.padding = torch::jit::pop(stack).toIntVector();
  a.stride = torch::jit::pop(stack).toIntVector();
  a.b = torch::jit::pop(stack).toOptional<at::Tensor>();
  a.w = torch::jit::pop(stack).toTensor();
  a.x = torch::jit::pop(stack).toTensor();
  return a;
}

ideep::tensor::dims OutputDims(const ConvArgs& a) {
  ideep::tensor::dims out = {a.x.size(0), a.w.size(0)};
  for (size_t d = 0; d < a.stride.size(); ++d) {
    int64_t extent = a.dilation[d] * (a.w.size(static_cast<int64_t>(d) + 2) - 1) + 1;
    out.push_back((a.x.size(static_cast<int64_t>(d) + 2) + 2 * a.padding[d] - extent) /
                      a.stride[d] +
                  1);
  }
  return out;
}

// oneDNN's Winograd F(4x4, 3x3) kernel (jit_wino_4x3) against its direct
// one, one AVX-512 core, batch 1: 0.60 vs 1.03 ms at 64 channels 56x56,
// 0.77 vs 1.05 ms at 128 channels 28x28, but 1.8 vs 1.2 ms at 14x14 and 100x
// slower at 7x7 (it transforms the weights on every call). So: 3x3, stride
// 1, no dilation or groups, outputs of at least 28x28.
bool WinogradPays(const ConvArgs& a, const ideep::tensor::dims& out) {
  return a.w.dim() == 4 && a.w.size(2) == 3 && a.w.size(3) == 3 && a.groups == 1 &&
         a.stride == std::vector<int64_t>{1, 1} && a.dilation == std::vector<int64_t>{1, 1} &&
         out[2] * out[3] >= 28 * 28;
}

// TESSERA_CONV_WINOGRAD=0 in the environment keeps every convolution direct
// (Winograd's results differ from direct ones by float rounding, ~1e-5
// relative on ResNet-50).
bool WinogradAllowed() {
  static const bool allowed = [] {
    const char* v = std::getenv("TESSERA_CONV_WINOGRAD");
    return v == nullptr || std::string(v) != "0";
  }();
  return allowed;
}

// y = conv(x) with `attr`'s post-ops; with a sum post-op y holds the addend
// on entry and is written in place. `out` is OutputDims(a).
void Convolve(const ConvArgs& a, const ideep::tensor::dims& out, ideep::tensor& y,
              const ideep::attr_t& attr) {
  TORCH_CHECK(a.x.is_mkldnn() && a.w.is_mkldnn(), "tessera fused convolution: MKLDNN tensors only");
  const ideep::tensor& x = at::native::itensor_from_mkldnn(a.x);
  const ideep::tensor& w = at::native::itensor_from_mkldnn(a.w);
  ideep::tensor::dims stride(a.stride.begin(), a.stride.end());
  ideep::tensor::dims padding(a.padding.begin(), a.padding.end());
  ideep::tensor::dims dilation(a.dilation.begin(), a.dilation.end());
  const int groups = static_cast<int>(a.groups);
  auto run = [&](ideep::algorithm algo) {
    if (a.b.has_value() && a.b->defined()) {
      TORCH_CHECK(a.b->is_mkldnn(), "tessera fused convolution: MKLDNN bias only");
      ideep::convolution_forward::compute_v3(x, w, at::native::itensor_from_mkldnn(*a.b),
                                             out, y, stride, dilation, padding,
                                             padding, groups, /*is_channels_last=*/false, attr,
                                             algo);
    } else {
      ideep::convolution_forward::compute_v3(x, w, out, y, stride, dilation, padding,
                                             padding, groups, /*is_channels_last=*/false, attr,
                                             algo);
    }
  };
  // oneDNN has Winograd kernels for AVX-512 only: elsewhere (or under
  // ONEDNN_MAX_CPU_ISA) creating the primitive fails, before it writes
  // anything, and this process stays on the direct kernels from then on.
  static std::atomic<bool> winograd_available{true};
  if (winograd_available.load(std::memory_order_relaxed) && WinogradAllowed() &&
      WinogradPays(a, out)) {
    try {
      run(ideep::algorithm::convolution_winograd);
      return;
    } catch (const dnnl::error&) {
      winograd_available.store(false, std::memory_order_relaxed);
    }
  }
  run(ideep::algorithm::convolution_direct);
}

at::Tensor Wrap(ideep::tensor&& y, const at::Tensor& like) {
  return at::native::new_with_itensor_mkldnn(std::move(y), like.scalar_type(), like.device());
}

// libtorch's MKLDNN helpers run below autograd, as its own kernels do.
using BelowAutograd = at::AutoDispatchBelowADInplaceOrView;

void ConvRelu(torch::jit::Stack& stack) {
  BelowAutograd guard;
  ConvArgs a = PopConvArgs(stack);
  ideep::tensor y;
  Convolve(a, OutputDims(a), y, ideep::attr_t::fuse_relu());
  torch::jit::push(stack, Wrap(std::move(y), a.x));
}

void ConvAdd(torch::jit::Stack& stack) {
  BelowAutograd guard;
  const bool relu = torch::jit::pop(stack).toBool();
  at::Tensor other = torch::jit::pop(stack).toTensor();
  ConvArgs a = PopConvArgs(stack);
  const ideep::tensor::dims out = OutputDims(a);
  if (other.is_mkldnn() && other.scalar_type() == at::kFloat &&
      std::vector<int64_t>(other.sizes().begin(), other.sizes().end()) == out) {
    // oneDNN's sum post-op: dst = conv(x) + dst, in other's own layout.
    ideep::tensor& y = at::native::itensor_from_mkldnn(other);
    Convolve(a, out, y, relu ? ideep::attr_t::residual() : ideep::attr_t::fuse_sum());
    torch::jit::push(stack, other);
    return;
  }
  // A broadcasting add: the unfused computation, out of place.
  ideep::tensor y;
  Convolve(a, out, y, ideep::attr_t());
  at::Tensor sum = at::add(Wrap(std::move(y), a.x).to_dense(), other.is_mkldnn() ? other.to_dense() : other);
  if (relu) sum.relu_();
  torch::jit::push(stack, sum.to_mkldnn());
}

// mkldnn_conv_add may write `other` (it does when the shapes match); the
// rewrite only hands it an `other` that nothing reads afterwards.
const torch::jit::RegisterOperators kFusedOps({
    torch::jit::Operator("tessera::mkldnn_conv_relu(Tensor input, Tensor weight, Tensor? bias, "
                         "int[] stride, int[] padding, int[] dilation, int groups) -> Tensor",
                         [](const Node*) -> torch::jit::Operation { return ConvRelu; },
                         c10::AliasAnalysisKind::FROM_SCHEMA),
    torch::jit::Operator("tessera::mkldnn_conv_add(Tensor input, Tensor weight, Tensor? bias, "
                         "int[] stride, int[] padding, int[] dilation, int groups, "
                         "Tensor(a!) other, bool relu) -> Tensor",
                         [](const Node*) -> torch::jit::Operation { return ConvAdd; },
                         c10::AliasAnalysisKind::FROM_SCHEMA),
});

// ---------------------------------------------------------------------------
// The rewrite

bool IsRelu(const Node* node) {
  return node->kind() == Symbol::aten("relu_") || node->kind() == Symbol::aten("relu");
}

// The single node using `v`, or nullptr.
Node* OnlyUser(const Value* v) { return v->uses().size() == 1 ? v->uses()[0].user : nullptr; }

bool IsConvOutput(const Value* v) { return v->node()->kind() == kConv && v->uses().size() == 1; }

// Producers whose output is a tensor of its own (no alias of an input).
bool Fresh(const Node* node) {
  static const Symbol kinds[] = {kConv, kConvRelu, kConvAdd, Symbol::aten("max_pool2d"),
                                 Symbol::aten("avg_pool2d"), Symbol::aten("adaptive_avg_pool2d"),
                                 Symbol::aten("to_mkldnn")};
  for (Symbol k : kinds) {
    if (node->kind() == k) return true;
  }
  return false;
}

// In-place element-wise ops: their output is their first input's buffer.
bool InPlaceUnary(const Node* node) {
  const std::string kind = node->kind().toQualString();
  return kind == "aten::relu_" || kind == "tessera::mkldnn_activation_" ||
         (kind.rfind("prim::MKLDNN", 0) == 0 && kind.back() == '_');
}

// True when `v`'s buffer is only read by nodes before `add` (and `add`'s own
// broadcast), `conv` excepted (it will write that buffer while reading its
// inputs): `v` comes from a fresh producer through in-place element-wise
// ops, and every name of that buffer has all its uses before `add`.
bool DeadAfter(const Value* v, const Node* add, const Node* broadcast, const Node* conv) {
  while (true) {
    for (const torch::jit::Use& use : v->uses()) {
      if (use.user == conv) return false;
      if (use.user != broadcast && !use.user->isBefore(add)) return false;
    }
    const Node* producer = v->node();
    if (Fresh(producer)) return true;
    if (!InPlaceUnary(producer)) return false;
    v = producer->input(0);
  }
}

Node* CreateFused(torch::jit::Graph& graph, Symbol kind, Node* conv,
                  const std::vector<Value*>& extra, Node* before, Value* replaced) {
  std::vector<Value*> inputs(conv->inputs().begin(), conv->inputs().end());
  inputs.insert(inputs.end(), extra.begin(), extra.end());
  Node* fused = graph.create(kind, inputs);
  fused->insertBefore(before);
  fused->output()->setType(replaced->type());
  replaced->replaceAllUsesWith(fused->output());
  return fused;
}

// conv -> Broadcast -> add_ (alpha 1) [-> relu]; the candidate is the add.
struct AddMatch {
  Node* conv;
  Value* other;
  Node* last;  // the add, or the relu after it
  bool relu;
};

std::optional<AddMatch> MatchAdd(Node* add) {
  if (add->kind() != Symbol::aten("add_") && add->kind() != Symbol::aten("add")) return {};
  if (add->inputs().size() != 3 || add->input(2)->node()->kind() != Symbol::prim("Constant") ||
      torch::jit::toIValue(add->input(2)) != c10::IValue(1)) {
    return {};
  }
  Node* broadcast = add->input(0)->node();
  if (broadcast->kind() != kBroadcast || add->input(1)->node() != broadcast ||
      add->input(0) != broadcast->output(0) || add->input(1) != broadcast->output(1) ||
      OnlyUser(broadcast->output(0)) != add || OnlyUser(broadcast->output(1)) != add) {
    return {};
  }
  for (int side = 0; side < 2; ++side) {
    Value* conv_out = broadcast->input(side);
    Value* other = broadcast->input(1 - side);
    if (!IsConvOutput(conv_out) || conv_out == other) continue;
    Node* relu = OnlyUser(add->output());
    bool fuse_relu = relu != nullptr && IsRelu(relu);
    return AddMatch{conv_out->node(), other, fuse_relu ? relu : add, fuse_relu};
  }
  return {};
}

}  // namespace

ConvFusionCount FuseMkldnnConvolutions(const std::shared_ptr<torch::jit::Graph>& graph) {
  ConvFusionCount count;
  // Additions first (their relu is part of the match), then conv + relu;
  // in graph order: a fused add's output is fresh for the adds after it.
  std::vector<Node*> candidates;
  for (Node* node : graph->nodes()) {
    if (node->kind() == Symbol::aten("add_") || node->kind() == Symbol::aten("add")) {
      candidates.push_back(node);
    }
  }
  for (Node* add : candidates) {
    std::optional<AddMatch> found = MatchAdd(add);
    if (!found || !DeadAfter(found->other, add, add->input(0)->node(), found->conv)) continue;
    const AddMatch& m = *found;
    Value* relu_flag = graph->insertConstant(m.relu);
    relu_flag->node()->moveBefore(m.last);
    CreateFused(*graph, kConvAdd, m.conv, {m.other, relu_flag}, m.last, m.last->output());
    // Drop the replaced chain: relu, add, broadcast, conv (now unused).
    Node* n = m.last;
    while (n != nullptr && n->kind() != kConv) {
      Node* prev = n->inputs().empty() ? nullptr : n->input(0)->node();
      if (n->kind() == kBroadcast) prev = m.conv;
      n->destroy();
      n = prev;
    }
    m.conv->destroy();
    ++count.add;
  }
  std::vector<Node*> relus;
  for (Node* node : graph->nodes()) {
    if (IsRelu(node) && IsConvOutput(node->input(0))) relus.push_back(node);
  }
  for (Node* relu : relus) {
    Node* conv = relu->input(0)->node();
    CreateFused(*graph, kConvRelu, conv, {}, relu, relu->output());
    relu->destroy();
    conv->destroy();
    ++count.relu;
  }
  return count;
}

}  // namespace tessera
