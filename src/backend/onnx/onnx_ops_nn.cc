// Neural-network ONNX ops: Conv/ConvTranspose, pooling, Gemm/MatMul,
// normalisations, Softmax family, LRN, Einsum, GridSample.
//
// The common cases (symmetric padding, constant weights, known ranks) emit
// the single aten call the inference optimisations recognise (conv + batch
// norm folding, linear, mkldnn conversion); the rest goes through helpers
// that pad explicitly or compute padding at run time (auto_pad SAME_*).
#include <algorithm>

#include "backend/onnx/onnx_emitter.h"

namespace tessera::onnx_import {
namespace {

// Helpers shared by convolution and pooling. Pads are in ONNX order
// [b1..bk, e1..ek]; torch.constant_pad_nd wants [ek-1 begin, end, ...].
constexpr char kTorchPads[] = R"(def onnx_torch_pads(self, pads: List[int]) -> List[int]:
    k = len(pads) // 2
    out: List[int] = []
    for i in range(k - 1, -1, -1):
        out.append(pads[i])
        out.append(pads[i + k])
    return out
)";

// auto_pad SAME_UPPER / SAME_LOWER: the ONNX pads that keep
// ceil(in / stride) outputs along each spatial axis.
constexpr char kSamePads[] = R"(def onnx_same_pads(self, x: Tensor, kernel: List[int], strides: List[int], dilations: List[int], upper: bool) -> List[int]:
    k = len(kernel)
    begin: List[int] = []
    end: List[int] = []
    for i in range(k):
        n = x.size(x.dim() - k + i)
        out = (n + strides[i] - 1) // strides[i]
        total = max((out - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1 - n, 0)
        small = total // 2
        if upper:
            begin.append(small)
            end.append(total - small)
        else:
            begin.append(total - small)
            end.append(small)
    return begin + end
)";

constexpr char kConv[] = R"(def onnx_conv(self, x: Tensor, w: Tensor, b: Optional[Tensor], strides: List[int], pads: List[int], dilations: List[int], group: int) -> Tensor:
    k = w.dim() - 2
    zeros = [0] * k
    x = torch.constant_pad_nd(x, self.onnx_torch_pads(pads), 0.0)
    if k == 1:
        return torch.conv1d(x, w, b, strides, zeros, dilations, group)
    if k == 2:
        return torch.conv2d(x, w, b, strides, zeros, dilations, group)
    return torch.conv3d(x, w, b, strides, zeros, dilations, group)
)";

// Transposed convolution without padding, then the ONNX pads (or the
// output_shape) cropped off each spatial axis.
constexpr char kConvTranspose[] = R"(def onnx_conv_transpose(self, x: Tensor, w: Tensor, b: Optional[Tensor], strides: List[int], pads: List[int], dilations: List[int], out_pad: List[int], group: int, out_shape: List[int], auto_pad: str) -> Tensor:
    k = w.dim() - 2
    zeros = [0] * k
    begins: List[int] = []
    ends: List[int] = []
    extra = out_pad.copy()
    for i in range(k):
        n = x.size(x.dim() - k + i)
        full = (n - 1) * strides[i] + (w.size(2 + i) - 1) * dilations[i] + 1 + out_pad[i]
        if len(out_shape) > 0 or auto_pad == 'SAME_UPPER' or auto_pad == 'SAME_LOWER':
            if len(out_shape) > 0:
                total = full - out_shape[i]
            else:
                total = full - n * strides[i]
            if total < 0:
                # a larger output than the kernel covers: zeros (plus bias) at the end
                extra[i] += -total
                total = 0
            if auto_pad == 'SAME_UPPER':
                begins.append(total // 2)
            else:
                begins.append(total - total // 2)
            ends.append(total - begins[i])
        else:
            begins.append(pads[i])
            ends.append(pads[i + k])
    if k == 1:
        y = torch.conv_transpose1d(x, w, b, strides, zeros, extra, group, dilations)
    elif k == 2:
        y = torch.conv_transpose2d(x, w, b, strides, zeros, extra, group, dilations)
    else:
        y = torch.conv_transpose3d(x, w, b, strides, zeros, extra, group, dilations)
    for i in range(k):
        d = y.dim() - k + i
        y = y.narrow(d, begins[i], y.size(d) - begins[i] - ends[i])
    return y
)";

constexpr char kMaxPool[] = R"(def onnx_max_pool(self, x: Tensor, kernel: List[int], strides: List[int], pads: List[int], dilations: List[int], ceil_mode: bool) -> Tensor:
    k = len(kernel)
    zeros = [0] * k
    if x.is_floating_point():
        x = torch.constant_pad_nd(x, self.onnx_torch_pads(pads), float('-inf'))
    else:
        x = torch.constant_pad_nd(x, self.onnx_torch_pads(pads), -(2 ** 62))
    if k == 1:
        return torch.max_pool1d(x, kernel, strides, zeros, dilations, ceil_mode)
    if k == 2:
        return torch.max_pool2d(x, kernel, strides, zeros, dilations, ceil_mode)
    return torch.max_pool3d(x, kernel, strides, zeros, dilations, ceil_mode)
)";

// ONNX MaxPool indices count over the whole NC... tensor (row-major, or
// column-major over H, W with storage_order 1); aten's count within each
// (n, c) plane.
constexpr char kMaxPoolIndices[] = R"(def onnx_max_pool_indices(self, x: Tensor, kernel: List[int], strides: List[int], pads: List[int], dilations: List[int], ceil_mode: bool, col_major: bool) -> Tuple[Tensor, Tensor]:
    k = len(kernel)
    if k == 1:
        y, i = torch.max_pool1d_with_indices(x, kernel, strides, pads, dilations, ceil_mode)
    elif k == 2:
        y, i = torch.max_pool2d_with_indices(x, kernel, strides, pads, dilations, ceil_mode)
    else:
        y, i = torch.max_pool3d_with_indices(x, kernel, strides, pads, dilations, ceil_mode)
    plane = 1
    for d in range(2, x.dim()):
        plane *= x.size(d)
    if col_major and k == 2:
        w = x.size(3)
        i = (i % w) * x.size(2) + torch.div(i, w, rounding_mode='floor')
    base = torch.arange(x.size(0) * x.size(1), dtype=4).reshape([x.size(0), x.size(1)] + [1] * k)
    return y, i + base * plane
)";

constexpr char kAvgPool[] = R"(def onnx_avg_pool_padded(self, x: Tensor, kernel: List[int], strides: List[int], ceil_mode: bool) -> Tensor:
    k = len(kernel)
    zeros = [0] * k
    if k == 1:
        return torch.avg_pool1d(x, kernel, strides, zeros, ceil_mode, True)
    if k == 2:
        return torch.avg_pool2d(x, kernel, strides, zeros, ceil_mode, True)
    return torch.avg_pool3d(x, kernel, strides, zeros, ceil_mode, True)

def onnx_avg_pool(self, x: Tensor, kernel: List[int], strides: List[int], pads: List[int], ceil_mode: bool, count_pad: bool) -> Tensor:
    tp = self.onnx_torch_pads(pads)
    y = self.onnx_avg_pool_padded(torch.constant_pad_nd(x, tp, 0.0), kernel, strides, ceil_mode)
    if count_pad:
        return y
    k = len(kernel)
    ones = torch.ones([1, 1] + x.size()[x.dim() - k:], dtype=x.dtype)
    n = self.onnx_avg_pool_padded(torch.constant_pad_nd(ones, tp, 0.0), kernel, strides, ceil_mode)
    return y / n
)";

constexpr char kLpPool[] = R"(def onnx_lp_pool(self, x: Tensor, kernel: List[int], strides: List[int], pads: List[int], p: float) -> Tensor:
    n = 1
    for v in kernel:
        n *= v
    y = self.onnx_avg_pool(torch.pow(torch.abs(x), p), kernel, strides, pads, False, True) * n
    return torch.pow(y, 1.0 / p)
)";

constexpr char kSpatialDims[] = R"(def onnx_spatial_dims(self, x: Tensor) -> List[int]:
    dims: List[int] = []
    for i in range(2, x.dim()):
        dims.append(i)
    return dims
)";

// Softmax, LogSoftmax and Hardmax before opset 13 work on the input coerced
// to 2-D at `axis`.
constexpr char kSoftmax[] = R"(def onnx_softmax(self, x: Tensor, axis: int, kind: str, coerce: bool) -> Tensor:
    if axis < 0:
        axis += x.dim()
    shape = x.size()
    y = x
    d = axis
    if coerce:
        n = 1
        for i in range(axis):
            n *= shape[i]
        m = 1
        for i in range(axis, len(shape)):
            m *= shape[i]
        y = x.reshape([n, m])
        d = 1
    if kind == 'softmax':
        y = torch.softmax(y, d)
    elif kind == 'log_softmax':
        y = torch.log_softmax(y, d)
    else:
        y = torch.zeros_like(y).scatter_(d, torch.argmax(y, d, True), 1.0)
    return y.reshape(shape)
)";

constexpr char kLayerNorm[] = R"(def onnx_layer_norm(self, x: Tensor, w: Tensor, b: Optional[Tensor], axis: int, eps: float) -> Tuple[Tensor, Tensor, Tensor]:
    if axis < 0:
        axis += x.dim()
    shape = x.size()[axis:]
    y, mean, rstd = torch.native_layer_norm(x, shape, None, None, eps)
    y = y * w
    if b is not None:
        y = y + b
    return y, mean, rstd
)";

constexpr char kBatchNormTraining[] = R"(def onnx_batch_norm_training(self, x: Tensor, w: Tensor, b: Tensor, rm: Tensor, rv: Tensor, momentum: float, eps: float) -> Tuple[Tensor, Tensor, Tensor]:
    dims = [0] + self.onnx_spatial_dims(x)
    mean = torch.mean(x, dims)
    var = torch.var(x, dims, False)
    shape = [1, x.size(1)] + [1] * (x.dim() - 2)
    y = (x - mean.reshape(shape)) / torch.sqrt(var.reshape(shape) + eps) * w.reshape(shape) + b.reshape(shape)
    return y, rm * momentum + mean * (1.0 - momentum), rv * momentum + var * (1.0 - momentum)
)";

constexpr char kLrn[] = R"(def onnx_lrn(self, x: Tensor, size: int, alpha: float, beta: float, bias: float) -> Tensor:
    lo = (size - 1) // 2
    hi = size - 1 - lo
    sq = (x * x).reshape([x.size(0), 1, x.size(1), -1])
    sq = torch.constant_pad_nd(sq, [0, 0, lo, hi], 0.0)
    s = torch.avg_pool2d(sq, [size, 1], [1, 1]) * size
    return x / torch.pow(s.reshape(x.size()) * (alpha / size) + bias, beta)
)";

constexpr char kMvn[] = R"(def onnx_mvn(self, x: Tensor, axes: List[int]) -> Tensor:
    mean = torch.mean(x, axes, True)
    var = torch.mean((x - mean) * (x - mean), axes, True)
    return (x - mean) / torch.sqrt(var + 1e-9)
)";

// Spatial rank of a convolution or pooling node: from the constant weight,
// the kernel_shape attribute or the input's rank.
std::optional<int> SpatialRank(const NodeEmitter& e, int weight) {
  if (auto k = e.Ints("kernel_shape")) return static_cast<int>(k->size());
  if (weight >= 0) {
    if (auto r = e.Rank(weight)) return *r - 2;
  }
  if (auto r = e.Rank(0)) return *r - 2;
  return std::nullopt;
}

std::vector<int64_t> IntsOr(const NodeEmitter& e, const std::string& name, size_t k,
                            int64_t fill) {
  auto v = e.Ints(name);
  if (v && !v->empty()) return *v;
  return std::vector<int64_t>(k, fill);
}

bool Symmetric(const std::vector<int64_t>& pads) {
  size_t k = pads.size() / 2;
  for (size_t i = 0; i < k; ++i) {
    if (pads[i] != pads[i + k]) return false;
  }
  return true;
}

std::vector<int64_t> Head(const std::vector<int64_t>& v, size_t n) {
  return std::vector<int64_t>(v.begin(), v.begin() + std::min(n, v.size()));
}

// Padding facts of a convolution or pooling node.
struct Window {
  int k = 0;
  std::string auto_pad;
  std::vector<int64_t> kernel, strides, dilations, pads;
  std::string kernel_expr;  // literal, or the weight's run-time size
  // pads as a TorchScript list: a literal, or computed at run time (SAME_*)
  std::string PadsExpr(NodeEmitter& e) const {
    if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
      return fmt::format("{}({}, {}, {}, {}, {})", e.Helper("onnx_same_pads"), e.In(0),
                         kernel_expr, IntList(strides), IntList(dilations),
                         BoolLit(auto_pad == "SAME_UPPER"));
    }
    return IntList(pads);
  }
  bool Explicit() const { return auto_pad != "SAME_UPPER" && auto_pad != "SAME_LOWER"; }
};

// `weight`: the input holding the weight (kernel), -1 for pooling.
Result<Window> ReadWindow(NodeEmitter& e, int weight) {
  Window w;
  auto k = SpatialRank(e, weight);
  if (!k || *k < 1 || *k > 3) {
    return e.Unsupported(k ? std::to_string(*k) + " spatial dimensions"
                           : "an input of unknown rank without kernel_shape");
  }
  w.k = *k;
  w.auto_pad = e.Str("auto_pad", "NOTSET");
  if (w.auto_pad != "NOTSET" && w.auto_pad != "VALID" && w.auto_pad != "SAME_UPPER" &&
      w.auto_pad != "SAME_LOWER") {
    return e.Unsupported("auto_pad '" + w.auto_pad + "'");
  }
  w.strides = IntsOr(e, "strides", w.k, 1);
  w.dilations = IntsOr(e, "dilations", w.k, 1);
  w.pads = w.auto_pad == "NOTSET" ? IntsOr(e, "pads", 2 * w.k, 0)
                                  : std::vector<int64_t>(2 * w.k, 0);
  if (w.strides.size() != static_cast<size_t>(w.k) || w.dilations.size() != w.strides.size() ||
      w.pads.size() != 2 * w.strides.size()) {
    return e.Invalid("strides, dilations and pads do not match the kernel rank");
  }
  if (auto ks = e.Ints("kernel_shape")) {
    w.kernel = *ks;
  } else if (weight >= 0 && e.Const(weight)) {
    const auto& dims = e.Const(weight)->dims();
    w.kernel.assign(dims.begin() + 2, dims.end());
  }
  if (!w.kernel.empty()) {
    w.kernel_expr = IntList(w.kernel);
  } else if (weight >= 0) {
    w.kernel_expr = e.In(weight) + ".size()[2:]";
  } else {
    return e.Invalid("needs kernel_shape");
  }
  return w;
}

// Torch pooling pads must be symmetric and at most half the kernel.
bool TorchPoolPads(const Window& w) {
  if (!w.Explicit() || !Symmetric(w.pads) || w.kernel.empty()) return false;
  for (int i = 0; i < w.k; ++i) {
    if (w.pads[i] * 2 > w.kernel[i]) return false;
  }
  return true;
}

Status EmitConv(NodeEmitter& e) {
  TESSERA_ASSIGN_OR_RETURN(std::string conv, ConvExpression(e, e.In(0), e.In(1), e.InOpt(2)));
  e.Set(0, "{}", conv);
  return Status::Ok();
}

Status EmitConvTranspose(NodeEmitter& e) {
  TESSERA_ASSIGN_OR_RETURN(Window w, ReadWindow(e, 1));
  int64_t group = e.Int("group", 1);
  auto out_pad = IntsOr(e, "output_padding", w.k, 0);
  auto out_shape = e.Ints("output_shape").value_or(std::vector<int64_t>{});
  if (out_shape.size() > static_cast<size_t>(w.k)) {
    out_shape.erase(out_shape.begin(), out_shape.end() - w.k);  // N, C given too
  }
  if (out_shape.empty() && w.Explicit() && Symmetric(w.pads)) {
    e.Set(0, "torch.conv_transpose{}d({}, {}, {}, {}, {}, {}, {}, {})", w.k, e.In(0), e.In(1),
          e.InOpt(2), IntList(w.strides), IntList(Head(w.pads, w.k)), IntList(out_pad), group,
          IntList(w.dilations));
  } else {
    e.Set(0, "{}({}, {}, {}, {}, {}, {}, {}, {}, {}, {})", e.Helper("onnx_conv_transpose"),
          e.In(0), e.In(1), e.InOpt(2), IntList(w.strides), IntList(w.pads),
          IntList(w.dilations), IntList(out_pad), group, IntList(out_shape),
          StrLit(w.auto_pad));
  }
  return Status::Ok();
}

Status EmitMaxPool(NodeEmitter& e) {
  TESSERA_ASSIGN_OR_RETURN(Window w, ReadWindow(e, -1));
  bool ceil_mode = e.Int("ceil_mode", 0) != 0;
  if (e.HasOut(1)) {
    if (!TorchPoolPads(w)) return e.Unsupported("the Indices output with asymmetric pads");
    std::string y = e.Out(0), idx = e.Out(1);
    e.Line(fmt::format("{}, {} = {}({}, {}, {}, {}, {}, {}, {})", y, idx,
                       e.Helper("onnx_max_pool_indices"), e.In(0), IntList(w.kernel),
                       IntList(w.strides), IntList(Head(w.pads, w.k)), IntList(w.dilations),
                       BoolLit(ceil_mode), BoolLit(e.Int("storage_order", 0) != 0)));
    return Status::Ok();
  }
  if (TorchPoolPads(w)) {
    // aten pools no 8-bit integers; float32 holds them exactly.
    auto type = e.ElemType(0);
    bool small_int = type && (*type == onnx::TensorProto::UINT8 || *type == onnx::TensorProto::INT8);
    std::string x = small_int ? e.In(0) + ".to(6)" : e.In(0);
    e.Set(0, "torch.max_pool{}d({}, {}, {}, {}, {}, {}){}", w.k, x, IntList(w.kernel),
          IntList(w.strides), IntList(Head(w.pads, w.k)), IntList(w.dilations),
          BoolLit(ceil_mode), small_int ? ".to(" + e.In(0) + ".dtype)" : "");
  } else {
    std::string pads = w.PadsExpr(e);
    e.Set(0, "{}({}, {}, {}, {}, {}, {})", e.Helper("onnx_max_pool"), e.In(0), w.kernel_expr,
          IntList(w.strides), pads, IntList(w.dilations), BoolLit(ceil_mode));
  }
  return Status::Ok();
}

Status EmitAveragePool(NodeEmitter& e) {
  TESSERA_ASSIGN_OR_RETURN(Window w, ReadWindow(e, -1));
  bool ceil_mode = e.Int("ceil_mode", 0) != 0;
  bool count_pad = e.Int("count_include_pad", 0) != 0;
  if (std::any_of(w.dilations.begin(), w.dilations.end(), [](int64_t d) { return d != 1; })) {
    return e.Unsupported("dilations");
  }
  bool no_pads = std::all_of(w.pads.begin(), w.pads.end(), [](int64_t p) { return p == 0; });
  if (TorchPoolPads(w) && (count_pad || no_pads || !ceil_mode)) {
    e.Set(0, "torch.avg_pool{}d({}, {}, {}, {}, {}, {})", w.k, e.In(0), IntList(w.kernel),
          IntList(w.strides), IntList(Head(w.pads, w.k)), BoolLit(ceil_mode), BoolLit(count_pad));
  } else {
    std::string pads = w.PadsExpr(e);
    e.Set(0, "{}({}, {}, {}, {}, {}, {})", e.Helper("onnx_avg_pool"), e.In(0), w.kernel_expr,
          IntList(w.strides), pads, BoolLit(ceil_mode), BoolLit(count_pad));
  }
  return Status::Ok();
}

Status EmitLpPool(NodeEmitter& e) {
  TESSERA_ASSIGN_OR_RETURN(Window w, ReadWindow(e, -1));
  std::string pads = w.PadsExpr(e);
  e.Set(0, "{}({}, {}, {}, {}, {})", e.Helper("onnx_lp_pool"), e.In(0), w.kernel_expr,
        IntList(w.strides), pads, FloatLit(static_cast<double>(e.Int("p", 2))));
  return Status::Ok();
}

// Spatial axes as a literal when the rank is known.
std::string SpatialDims(NodeEmitter& e) {
  if (auto r = e.Rank(0)) {
    std::vector<int64_t> dims;
    for (int i = 2; i < *r; ++i) dims.push_back(i);
    return IntList(dims);
  }
  return e.Helper("onnx_spatial_dims") + "(" + e.In(0) + ")";
}

Status EmitGemm(NodeEmitter& e) {
  double alpha = e.Float("alpha", 1.0), beta = e.Float("beta", 1.0);
  bool ta = e.Int("transA", 0) != 0, tb = e.Int("transB", 0) != 0;
  if (e.opset() < 7 && e.Int("broadcast", 1) == 0 && e.HasAttr("broadcast")) {
    // Unidirectional broadcasting of C was opt-in before opset 7; aten
    // broadcasts anyway, which gives the same result for valid models.
  }
  std::string a = ta ? e.In(0) + ".t()" : e.In(0);
  auto c_rank = e.Rank(2);
  bool linear_bias = !e.Has(2) || (c_rank && *c_rank <= 1 && beta == 1.0);
  if (alpha == 1.0 && linear_bias) {
    std::string weight = tb ? e.In(1) : e.In(1) + ".t()";
    e.Set(0, "torch.linear({}, {}, {})", a, weight, e.InOpt(2));
    return Status::Ok();
  }
  std::string b = tb ? e.In(1) + ".t()" : e.In(1);
  std::string expr = fmt::format("torch.matmul({}, {})", a, b);
  if (alpha != 1.0) expr += " * " + FloatLit(alpha);
  if (e.Has(2) && beta != 0.0) {
    expr += " + " + e.In(2) + (beta != 1.0 ? " * " + FloatLit(beta) : "");
  }
  e.Set(0, "{}", expr);
  return Status::Ok();
}

Status EmitBatchNorm(NodeEmitter& e) {
  double eps = e.Float("epsilon", 1e-5);
  if (e.opset() < 9 && e.Int("spatial", 1) == 0) return e.Unsupported("spatial=0");
  bool training = e.Int("training_mode", 0) != 0;
  if (training || (e.opset() >= 14 && e.HasOut(1))) {
    std::string y = e.Out(0), rm = e.Out(1), rv = e.Out(2);
    e.Line(fmt::format("{}, {}, {} = {}({}, {}, {}, {}, {}, {}, {})", y, rm, rv,
                       e.Helper("onnx_batch_norm_training"), e.In(0), e.In(1), e.In(2), e.In(3),
                       e.In(4), FloatLit(e.Float("momentum", 0.9)), FloatLit(eps)));
    return Status::Ok();
  }
  if (e.opset() < 14 && e.HasOut(1)) return e.Unsupported("training outputs (is_test=0)");
  e.Set(0, "torch.batch_norm({}, {}, {}, {}, {}, False, 0.0, {}, False)", e.In(0), e.In(1),
        e.In(2), e.In(3), e.In(4), FloatLit(eps));
  return Status::Ok();
}

Status EmitLayerNorm(NodeEmitter& e) {
  int64_t axis = e.Int("axis", -1);
  double eps = e.Float("epsilon", 1e-5);
  auto rank = e.Rank(0);
  const auto* w = e.Const(1);
  if (rank && w && !e.HasOut(1) && !e.HasOut(2)) {
    int64_t a = axis < 0 ? axis + *rank : axis;
    if (w->dims_size() == *rank - a) {
      std::vector<int64_t> shape(w->dims().begin(), w->dims().end());
      e.Set(0, "torch.layer_norm({}, {}, {}, {}, {}, False)", e.In(0), IntList(shape), e.In(1),
            e.InOpt(2), FloatLit(eps));
      return Status::Ok();
    }
  }
  std::string y = e.Out(0), mean = e.Out(1), rstd = e.Out(2);
  e.Line(fmt::format("{}, {}, {} = {}({}, {}, {}, {}, {})", y, mean, rstd,
                     e.Helper("onnx_layer_norm"), e.In(0), e.In(1), e.InOpt(2), axis,
                     FloatLit(eps)));
  return Status::Ok();
}

Status EmitSoftmax(NodeEmitter& e, const std::string& kind) {
  bool coerce = e.opset() < 13;
  int64_t axis = e.Int("axis", coerce ? 1 : -1);
  auto rank = e.Rank(0);
  int64_t last = rank ? *rank - 1 : -2;
  bool along_last = axis == -1 || axis == last;
  if (kind != "hardmax" && (!coerce || along_last)) {
    e.Set(0, "torch.{}({}, {})", kind, e.In(0), axis);
  } else {
    e.Set(0, "{}({}, {}, {}, {})", e.Helper("onnx_softmax"), e.In(0), axis, StrLit(kind),
          BoolLit(coerce));
  }
  return Status::Ok();
}

}  // namespace

Result<std::string> ConvExpression(NodeEmitter& e, const std::string& x, const std::string& weight,
                                   const std::string& bias, int weight_input) {
  TESSERA_ASSIGN_OR_RETURN(Window w, ReadWindow(e, weight_input));
  int64_t group = e.Int("group", 1);
  if (w.Explicit() && Symmetric(w.pads)) {
    return fmt::format("torch.conv{}d({}, {}, {}, {}, {}, {}, {})", w.k, x, weight, bias,
                       IntList(w.strides), IntList(Head(w.pads, w.k)), IntList(w.dilations),
                       group);
  }
  std::string pads = w.PadsExpr(e);
  return fmt::format("{}({}, {}, {}, {}, {}, {}, {})", e.Helper("onnx_conv"), x, weight, bias,
                     IntList(w.strides), pads, IntList(w.dilations), group);
}

void RegisterNnOps(OpTable& t) {
  t.Helper("onnx_torch_pads", kTorchPads);
  t.Helper("onnx_same_pads", kSamePads);
  t.Helper("onnx_conv", kConv, {"onnx_torch_pads"});
  t.Helper("onnx_conv_transpose", kConvTranspose);
  t.Helper("onnx_max_pool", kMaxPool, {"onnx_torch_pads"});
  t.Helper("onnx_max_pool_indices", kMaxPoolIndices);
  t.Helper("onnx_avg_pool", kAvgPool, {"onnx_torch_pads"});
  t.Helper("onnx_lp_pool", kLpPool, {"onnx_avg_pool"});
  t.Helper("onnx_spatial_dims", kSpatialDims);
  t.Helper("onnx_softmax", kSoftmax);
  t.Helper("onnx_layer_norm", kLayerNorm);
  t.Helper("onnx_batch_norm_training", kBatchNormTraining, {"onnx_spatial_dims"});
  t.Helper("onnx_lrn", kLrn);
  t.Helper("onnx_mvn", kMvn);

  t.Op("Conv", EmitConv);
  t.Op("ConvTranspose", EmitConvTranspose);
  t.Op("MaxPool", EmitMaxPool);
  t.Op("AveragePool", EmitAveragePool);
  t.Op("LpPool", EmitLpPool);
  t.Op("GlobalAveragePool", [](NodeEmitter& e) {
    // 4-D: adaptive_avg_pool2d runs on MKLDNN tensors after
    // optimize_for_inference; a mean would turn each activation dense and
    // back (squeeze-excitation blocks: 1.3x slower MobileNetV3).
    if (e.Rank(0) == 4) {
      e.Set(0, "torch.adaptive_avg_pool2d({}, [1, 1])", e.In(0));
      return Status::Ok();
    }
    e.Set(0, "torch.mean({}, {}, True)", e.In(0), SpatialDims(e));
    return Status::Ok();
  });
  t.Op("GlobalMaxPool", [](NodeEmitter& e) {
    e.Set(0, "torch.amax({}, {}, True)", e.In(0), SpatialDims(e));
    return Status::Ok();
  });
  t.Op("GlobalLpPool", [](NodeEmitter& e) {
    double p = static_cast<double>(e.Int("p", 2));
    e.Set(0, "torch.pow(torch.sum(torch.pow(torch.abs({}), {}), {}, True), {})", e.In(0),
          FloatLit(p), SpatialDims(e), FloatLit(1.0 / p));
    return Status::Ok();
  });
  t.Op("Gemm", EmitGemm);
  t.Op("MatMul", [](NodeEmitter& e) {
    e.Set(0, "torch.matmul({}, {})", e.In(0), e.In(1));
    return Status::Ok();
  });
  t.Op("BatchNormalization", EmitBatchNorm);
  t.Op("InstanceNormalization", [](NodeEmitter& e) {
    e.Set(0, "torch.instance_norm({}, {}, {}, None, None, True, 0.0, {}, False)", e.In(0),
          e.In(1), e.In(2), FloatLit(e.Float("epsilon", 1e-5)));
    return Status::Ok();
  });
  t.Op("LayerNormalization", EmitLayerNorm);
  t.Op("LRN", [](NodeEmitter& e) {
    e.Set(0, "{}({}, {}, {}, {}, {})", e.Helper("onnx_lrn"), e.In(0), e.Int("size", 1),
          FloatLit(e.Float("alpha", 1e-4)), FloatLit(e.Float("beta", 0.75)),
          FloatLit(e.Float("bias", 1.0)));
    return Status::Ok();
  });
  t.Op("MeanVarianceNormalization", [](NodeEmitter& e) {
    auto axes = e.Ints("axes").value_or(std::vector<int64_t>{0, 2, 3});
    e.Set(0, "{}({}, {})", e.Helper("onnx_mvn"), e.In(0), IntList(axes));
    return Status::Ok();
  });
  t.Op("LpNormalization", [](NodeEmitter& e) {
    int64_t p = e.Int("p", 2);
    e.Set(0, "{0} / torch.linalg_vector_norm({0}, {1}, [{2}], True)", e.In(0),
          FloatLit(static_cast<double>(p)), e.Int("axis", -1));
    return Status::Ok();
  });
  t.Op("Softmax", [](NodeEmitter& e) { return EmitSoftmax(e, "softmax"); });
  t.Op("LogSoftmax", [](NodeEmitter& e) { return EmitSoftmax(e, "log_softmax"); });
  t.Op("Hardmax", [](NodeEmitter& e) { return EmitSoftmax(e, "hardmax"); });
  t.Op("Einsum", [](NodeEmitter& e) {
    std::vector<std::string> ins;
    for (int i = 0; i < e.num_inputs(); ++i) ins.push_back(e.In(i));
    e.Set(0, "torch.einsum({}, [{}])", StrLit(e.Str("equation", "")), fmt::join(ins, ", "));
    return Status::Ok();
  });
  t.Op("GridSample", [](NodeEmitter& e) {
    std::string mode = e.Str("mode", "bilinear"), padding = e.Str("padding_mode", "zeros");
    int m = mode == "bilinear" ? 0 : mode == "nearest" ? 1 : mode == "bicubic" ? 2 : -1;
    int p = padding == "zeros" ? 0 : padding == "border" ? 1 : padding == "reflection" ? 2 : -1;
    if (m < 0) return e.Unsupported("mode '" + mode + "'");
    if (p < 0) return e.Unsupported("padding_mode '" + padding + "'");
    e.Set(0, "torch.grid_sampler({}, {}, {}, {}, {})", e.In(0), e.In(1), m, p,
          BoolLit(e.Int("align_corners", 0) != 0));
    return Status::Ok();
  });
}

}  // namespace tessera::onnx_import
