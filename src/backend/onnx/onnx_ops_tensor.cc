// Shape and data-movement ONNX ops: Constant, Shape, Reshape, Flatten,
// Transpose, Concat, Split, Squeeze/Unsqueeze, Expand, Tile, Slice, Pad,
// Gather*/Scatter*, OneHot, Range, ConstantOfShape, NonZero, TopK, CumSum,
// Trilu, EyeLike, Compress, DepthToSpace/SpaceToDepth, ReverseSequence.
//
// Shape-valued inputs (Reshape's shape, Slice's starts, ...) are literals
// when known at load time and converted from tensors at run time otherwise,
// so shapes computed in the graph (Shape -> Gather -> Concat -> Reshape)
// work; freezing folds the conversions of constants.
#include <algorithm>

#include "backend/onnx/onnx_emitter.h"

namespace tessera::onnx_import {
namespace {

constexpr char kReshape[] = R"(def onnx_reshape(self, x: Tensor, shape: List[int], allowzero: bool) -> Tensor:
    s = shape.copy()
    if not allowzero:
        for i in range(len(s)):
            if s[i] == 0:
                s[i] = x.size(i)
    return x.reshape(s)
)";

constexpr char kFlatten[] = R"(def onnx_flatten(self, x: Tensor, axis: int) -> Tensor:
    if axis < 0:
        axis += x.dim()
    n = 1
    for i in range(axis):
        n *= x.size(i)
    m = 1
    for i in range(axis, x.dim()):
        m *= x.size(i)
    return x.reshape([n, m])
)";

constexpr char kSplitSizes[] = R"(def onnx_split_sizes(self, x: Tensor, axis: int, parts: int) -> List[int]:
    n = x.size(axis)
    chunk = (n + parts - 1) // parts
    sizes: List[int] = []
    left = n
    for i in range(parts):
        s = min(chunk, left)
        sizes.append(s)
        left -= s
    return sizes
)";

// Negative axes counted from the end of a rank-`rank` tensor.
constexpr char kNormAxes[] = R"(def onnx_norm_axes(self, axes: List[int], rank: int) -> List[int]:
    ax: List[int] = []
    for a in axes:
        if a < 0:
            a += rank
        ax.append(a)
    return ax
)";

constexpr char kSqueeze[] = R"(def onnx_squeeze(self, x: Tensor, axes: List[int]) -> Tensor:
    if len(axes) == 0:
        return torch.squeeze(x)
    ax = self.onnx_norm_axes(axes, x.dim())
    ax.sort(reverse=True)
    for a in ax:
        x = x.squeeze(a)
    return x
)";

constexpr char kUnsqueeze[] = R"(def onnx_unsqueeze(self, x: Tensor, axes: List[int]) -> Tensor:
    ax = self.onnx_norm_axes(axes, x.dim() + len(axes))
    ax.sort()
    for a in ax:
        x = x.unsqueeze(a)
    return x
)";

constexpr char kExpand[] = R"(def onnx_expand(self, x: Tensor, shape: List[int]) -> Tensor:
    xs = x.size()
    r = max(len(xs), len(shape))
    out: List[int] = []
    for i in range(r):
        a = 1
        j = i - r + len(xs)
        if j >= 0:
            a = xs[j]
        b = 1
        k = i - r + len(shape)
        if k >= 0:
            b = shape[k]
        if b == 1:
            out.append(a)
        else:
            out.append(b)
    return x.expand(out)
)";

constexpr char kSlice[] = R"(def onnx_slice(self, x: Tensor, starts: List[int], ends: List[int], axes: List[int], steps: List[int]) -> Tensor:
    r = x.dim()
    for i in range(len(starts)):
        a = i
        if len(axes) > 0:
            a = axes[i]
        if a < 0:
            a += r
        st = 1
        if len(steps) > 0:
            st = steps[i]
        s = starts[i]
        e = ends[i]
        if st > 0:
            x = torch.slice(x, a, s, e, st)
        else:
            n = x.size(a)
            if s < 0:
                s += n
            if e < 0:
                e += n
            s = min(max(s, 0), n - 1)
            e = min(max(e, -1), n - 1)
            x = x.index_select(a, torch.arange(s, e, st, dtype=4))
    return x
)";

constexpr char kGather[] = R"(def onnx_gather(self, x: Tensor, idx: Tensor, axis: int) -> Tensor:
    if axis < 0:
        axis += x.dim()
    n = x.size(axis)
    i = idx.to(4)
    i = torch.where(i < 0, i + n, i)
    shape = x.size()[:axis] + idx.size() + x.size()[axis + 1:]
    return x.index_select(axis, i.reshape([-1])).reshape(shape)
)";

constexpr char kGatherElements[] = R"(def onnx_gather_elements(self, x: Tensor, idx: Tensor, axis: int) -> Tensor:
    i = idx.to(4)
    i = torch.where(i < 0, i + x.size(axis), i)
    return torch.gather(x, axis, i)
)";

constexpr char kLinearIndex[] = R"(def onnx_linear_index(self, idx: Tensor, dims: List[int]) -> Tensor:
    # idx (m, k) -> row-major offsets (m) into the first k of dims
    lin = torch.zeros([idx.size(0)], dtype=4)
    for j in range(idx.size(1)):
        n = dims[j]
        ij = idx[:, j].to(4)
        ij = torch.where(ij < 0, ij + n, ij)
        lin = lin * n + ij
    return lin
)";

constexpr char kGatherNd[] = R"(def onnx_gather_nd(self, x: Tensor, idx: Tensor, b: int) -> Tensor:
    k = idx.size(-1)
    xs = x.size()
    nb = 1
    for d in range(b):
        nb *= xs[d]
    nk = 1
    for d in range(b, b + k):
        nk *= xs[d]
    rest = xs[b + k:]
    xf = x.reshape([nb, nk] + rest)
    ib = idx.reshape([nb, -1, k])
    m = ib.size(1)
    lin = self.onnx_linear_index(ib.reshape([-1, k]), xs[b:b + k]).reshape([nb, m])
    bi = torch.arange(nb, dtype=4).unsqueeze(1).expand([nb, m])
    out = xf[bi, lin]
    return out.reshape(idx.size()[:-1] + rest)
)";

constexpr char kScatterNd[] = R"(def onnx_scatter_nd(self, x: Tensor, idx: Tensor, upd: Tensor, reduction: str) -> Tensor:
    k = idx.size(-1)
    xs = x.size()
    nk = 1
    for d in range(k):
        nk *= xs[d]
    rest = xs[k:]
    xf = x.clone().reshape([nk] + rest)
    ii = idx.reshape([-1, k])
    lin = self.onnx_linear_index(ii, xs)
    u = upd.reshape([ii.size(0)] + rest).to(x.dtype)
    if reduction == 'add':
        xf.index_add_(0, lin, u)
    elif reduction == 'mul':
        xf.index_reduce_(0, lin, u, 'prod')
    elif reduction == 'max':
        xf.index_reduce_(0, lin, u, 'amax')
    elif reduction == 'min':
        xf.index_reduce_(0, lin, u, 'amin')
    else:
        xf.index_copy_(0, lin, u)
    return xf.reshape(xs)
)";

constexpr char kOneHot[] = R"(def onnx_one_hot(self, idx: Tensor, depth: Tensor, values: Tensor, axis: int) -> Tensor:
    d = int(depth.to(7).reshape([-1])[0].item())
    r = idx.dim() + 1
    if axis < 0:
        axis += r
    i = idx.to(4)
    i = torch.where(i < 0, i + d, i)
    shape = [1] * r
    shape[axis] = d
    eq = i.unsqueeze(axis) == torch.arange(d, dtype=4).reshape(shape)
    v = values.reshape([-1])
    return torch.where(eq, v[1], v[0])
)";

constexpr char kPadIndex[] = R"(def onnx_pad_index(self, x: Tensor, pads: List[int], mode: str) -> Tensor:
    r = x.dim()
    for d in range(r):
        b = pads[d]
        e = pads[d + r]
        if b == 0 and e == 0:
            continue
        n = x.size(d)
        idx = torch.arange(-b, n + e, dtype=4)
        if mode == 'edge':
            idx = idx.clamp(0, n - 1)
        elif mode == 'reflect':
            p = 2 * (n - 1)
            if p == 0:
                idx = idx * 0
            else:
                idx = torch.remainder(idx, p)
                idx = torch.where(idx >= n, p - idx, idx)
        else:
            idx = torch.remainder(idx, n)
        x = x.index_select(d, idx)
    return x
)";

constexpr char kPadConstant[] = R"(def onnx_pad_constant(self, x: Tensor, pads: List[int], value: float) -> Tensor:
    r = x.dim()
    tp: List[int] = []
    for d in range(r - 1, -1, -1):
        tp.append(pads[d])
        tp.append(pads[d + r])
    return torch.constant_pad_nd(x, tp, value)
)";

constexpr char kCumSum[] = R"(def onnx_cumsum(self, x: Tensor, axis: int, exclusive: bool, reverse: bool) -> Tensor:
    if reverse:
        x = x.flip([axis])
    y = torch.cumsum(x, axis).to(x.dtype)
    if exclusive:
        y = y - x
    if reverse:
        y = y.flip([axis])
    return y
)";

constexpr char kEyeLike[] = R"(def onnx_eye_like(self, x: Tensor, k: int, dtype: int) -> Tensor:
    r = torch.arange(x.size(0), dtype=4).unsqueeze(1)
    c = torch.arange(x.size(1), dtype=4).unsqueeze(0)
    return (c - r == k).to(dtype)
)";

constexpr char kCompress[] = R"(def onnx_compress(self, x: Tensor, cond: Tensor, axis: int, has_axis: bool) -> Tensor:
    idx = torch.nonzero(cond.to(11)).reshape([-1])
    if not has_axis:
        return x.reshape([-1]).index_select(0, idx)
    return x.index_select(axis, idx)
)";

constexpr char kDepthToSpace[] = R"(def onnx_depth_to_space(self, x: Tensor, b: int, crd: bool) -> Tensor:
    n = x.size(0)
    c = x.size(1)
    h = x.size(2)
    w = x.size(3)
    if crd:
        y = x.reshape([n, c // (b * b), b, b, h, w]).permute([0, 1, 4, 2, 5, 3])
    else:
        y = x.reshape([n, b, b, c // (b * b), h, w]).permute([0, 3, 4, 1, 5, 2])
    return y.reshape([n, c // (b * b), h * b, w * b])
)";

constexpr char kSpaceToDepth[] = R"(def onnx_space_to_depth(self, x: Tensor, b: int) -> Tensor:
    n = x.size(0)
    c = x.size(1)
    h = x.size(2)
    w = x.size(3)
    y = x.reshape([n, c, h // b, b, w // b, b]).permute([0, 3, 5, 1, 2, 4])
    return y.reshape([n, c * b * b, h // b, w // b])
)";

constexpr char kReverseSequence[] = R"(def onnx_reverse_sequence(self, x: Tensor, lens: Tensor, batch_axis: int, time_axis: int) -> Tensor:
    y = x.clone()
    t = time_axis
    if time_axis > batch_axis:
        t = time_axis - 1
    for b in range(x.size(batch_axis)):
        n = int(lens[b])
        if n > 0:
            src = x.select(batch_axis, b).narrow(t, 0, n).flip([t])
            y.select(batch_axis, b).narrow(t, 0, n).copy_(src)
    return y
)";

// ONNX Unique: values (sorted, or in order of first occurrence), the index of
// each value's first occurrence, the inverse indices and the counts.
constexpr char kUnique[] = R"(def onnx_unique(self, x: Tensor, axis: int, has_axis: bool, is_sorted: bool) -> Tuple[Tensor, Tensor, Tensor, Tensor]:
    d = 0
    if has_axis:
        d = axis
        if d < 0:
            d += x.dim()
        y, inv, counts = torch.unique_dim(x, d, True, True, True)
        n = x.size(d)
    else:
        y, inv, counts = torch._unique2(x.reshape([-1]), True, True, True)
        n = x.numel()
    inv = inv.reshape([-1])
    m = y.size(d)
    first = torch.full([m], n, dtype=4).scatter_reduce(0, inv, torch.arange(n, dtype=4), 'amin')
    if not is_sorted:
        order = torch.argsort(first)
        y = y.index_select(d, order)
        first = first.index_select(0, order)
        counts = counts.index_select(0, order)
        inv = torch.argsort(order).index_select(0, inv)
    return y, first, inv, counts
)";

// A 0-d or 1-element constant int input as a literal.
std::optional<int64_t> ConstScalarInt(const NodeEmitter& e, int i) {
  auto v = e.ConstInts(i);
  if (!v || v->size() != 1) return std::nullopt;
  return (*v)[0];
}

std::string ScalarIntIn(const NodeEmitter& e, int i) {
  if (auto v = ConstScalarInt(e, i)) return std::to_string(*v);
  return "int(" + e.In(i) + ".reshape([-1])[0])";
}

Status EmitConstant(NodeEmitter& e) {
  GraphEmitter& g = e.graph();
  const onnx::TensorProto* tensor = nullptr;
  if (const auto* a = e.Attr("value")) {
    tensor = &a->t();
  } else if (const auto* a = e.Attr("value_float")) {
    onnx::TensorProto t;
    t.set_data_type(onnx::TensorProto::FLOAT);
    t.add_float_data(a->f());
    tensor = g.OwnTensor(std::move(t));
  } else if (const auto* a = e.Attr("value_floats")) {
    onnx::TensorProto t;
    t.set_data_type(onnx::TensorProto::FLOAT);
    t.add_dims(a->floats_size());
    for (float f : a->floats()) t.add_float_data(f);
    tensor = g.OwnTensor(std::move(t));
  } else if (const auto* a = e.Attr("value_int")) {
    onnx::TensorProto t;
    t.set_data_type(onnx::TensorProto::INT64);
    t.add_int64_data(a->i());
    tensor = g.OwnTensor(std::move(t));
  } else if (const auto* a = e.Attr("value_ints")) {
    onnx::TensorProto t;
    t.set_data_type(onnx::TensorProto::INT64);
    t.add_dims(a->ints_size());
    for (int64_t i : a->ints()) t.add_int64_data(i);
    tensor = g.OwnTensor(std::move(t));
  } else if (e.HasAttr("sparse_value")) {
    return e.Unsupported("attribute sparse_value");
  } else if (e.HasAttr("value_string") || e.HasAttr("value_strings")) {
    return e.Unsupported("a string constant");
  } else {
    return e.Invalid("has no value attribute");
  }
  if (!TorchDtypeCode(tensor->data_type())) {
    return e.Unsupported("a constant of type " + OnnxTypeName(tensor->data_type()));
  }
  if (e.HasOut(0)) {
    e.Alias(0, g.AddBuffer(tensor));
    g.SetConstantValue(e.node().output(0), tensor);
  }
  return Status::Ok();
}

// Axes from the attribute (old opsets) or input `input` (newer ones);
// nullopt when neither is given.
std::optional<std::string> AxesArg(const NodeEmitter& e, int input) {
  if (auto a = e.Ints("axes")) return IntList(*a);
  if (e.Has(input)) return e.IntListIn(input);
  return std::nullopt;
}

}  // namespace

void RegisterTensorOps(OpTable& t) {
  t.Helper("onnx_reshape", kReshape);
  t.Helper("onnx_flatten", kFlatten);
  t.Helper("onnx_split_sizes", kSplitSizes);
  t.Helper("onnx_norm_axes", kNormAxes);
  t.Helper("onnx_squeeze", kSqueeze, {"onnx_norm_axes"});
  t.Helper("onnx_unsqueeze", kUnsqueeze, {"onnx_norm_axes"});
  t.Helper("onnx_expand", kExpand);
  t.Helper("onnx_slice", kSlice);
  t.Helper("onnx_gather", kGather);
  t.Helper("onnx_gather_elements", kGatherElements);
  t.Helper("onnx_linear_index", kLinearIndex);
  t.Helper("onnx_gather_nd", kGatherNd, {"onnx_linear_index"});
  t.Helper("onnx_scatter_nd", kScatterNd, {"onnx_linear_index"});
  t.Helper("onnx_one_hot", kOneHot);
  t.Helper("onnx_pad_index", kPadIndex);
  t.Helper("onnx_pad_constant", kPadConstant);
  t.Helper("onnx_cumsum", kCumSum);
  t.Helper("onnx_eye_like", kEyeLike);
  t.Helper("onnx_compress", kCompress);
  t.Helper("onnx_depth_to_space", kDepthToSpace);
  t.Helper("onnx_space_to_depth", kSpaceToDepth);
  t.Helper("onnx_reverse_sequence", kReverseSequence);
  t.Helper("onnx_unique", kUnique);

  t.Op("Constant", EmitConstant);

  t.Op("Shape", [](NodeEmitter& e) {
    if (e.HasAttr("start") || e.HasAttr("end")) {
      std::string start = std::to_string(e.Int("start", 0));
      std::string end = e.HasAttr("end") ? std::to_string(e.Int("end", 0)) : "";
      e.Set(0, "torch.tensor({}.size()[{}:{}], dtype=4)", e.In(0), start, end);
    } else {
      e.Set(0, "torch.tensor({}.size(), dtype=4)", e.In(0));
    }
    return Status::Ok();
  });
  t.Op("Size", [](NodeEmitter& e) {
    e.Set(0, "torch.tensor({}.numel(), dtype=4)", e.In(0));
    return Status::Ok();
  });

  t.Op("Reshape", [](NodeEmitter& e) {
    bool allowzero = e.Int("allowzero", 0) != 0;
    if (e.opset() < 5) return e.Unsupported("Reshape with a shape attribute (opset < 5)");
    auto shape = e.ConstInts(1);
    if (shape && (allowzero || std::find(shape->begin(), shape->end(), 0) == shape->end())) {
      e.Set(0, "{}.reshape({})", e.In(0), IntList(*shape));
    } else {
      e.Set(0, "{}({}, {}, {})", e.Helper("onnx_reshape"), e.In(0), e.IntListIn(1),
            BoolLit(allowzero));
    }
    return Status::Ok();
  });
  t.Op("Flatten", [](NodeEmitter& e) {
    int64_t axis = e.Int("axis", 1);
    auto rank = e.Rank(0);
    if (axis == 1 && rank && *rank >= 2) {
      e.Set(0, "torch.flatten({}, 1)", e.In(0));
    } else {
      e.Set(0, "{}({}, {})", e.Helper("onnx_flatten"), e.In(0), axis);
    }
    return Status::Ok();
  });
  t.Op("Transpose", [](NodeEmitter& e) {
    if (auto perm = e.Ints("perm")) {
      e.Set(0, "{}.permute({})", e.In(0), IntList(*perm));
    } else if (auto rank = e.Rank(0)) {
      std::vector<int64_t> perm;
      for (int i = *rank - 1; i >= 0; --i) perm.push_back(i);
      e.Set(0, "{}.permute({})", e.In(0), IntList(perm));
    } else {
      e.Set(0, "{0}.permute([i for i in range({0}.dim() - 1, -1, -1)])", e.In(0));
    }
    return Status::Ok();
  });
  t.Op("Concat", [](NodeEmitter& e) {
    std::vector<std::string> ins;
    for (int i = 0; i < e.num_inputs(); ++i) {
      if (e.Has(i)) ins.push_back(e.In(i));
    }
    e.Set(0, "torch.cat([{}], {})", fmt::join(ins, ", "), e.Int("axis", 0));
    return Status::Ok();
  });
  t.Op("Split", [](NodeEmitter& e) {
    int64_t axis = e.Int("axis", 0);
    std::string sizes;
    if (auto s = e.Ints("split")) {
      sizes = IntList(*s);
    } else if (e.opset() >= 13 && e.Has(1)) {
      sizes = e.IntListIn(1);
    } else {
      int64_t parts = e.Int("num_outputs", e.num_outputs());
      sizes = fmt::format("{}({}, {}, {})", e.Helper("onnx_split_sizes"), e.In(0), axis, parts);
    }
    std::string parts = e.Tmp();
    e.Line(fmt::format("{} = torch.split({}, {}, {})", parts, e.In(0), sizes, axis));
    for (int i = 0; i < e.num_outputs(); ++i) {
      if (e.HasOut(i)) e.Set(i, "{}[{}]", parts, i);
    }
    return Status::Ok();
  });
  t.Op("Squeeze", [](NodeEmitter& e) {
    auto axes = e.Ints("axes");
    if (!axes && e.opset() >= 13 && e.Has(1)) axes = e.ConstInts(1);
    auto rank = e.Rank(0);
    if (axes && !axes->empty()) {
      std::vector<int64_t> ax = *axes;
      bool known = true;
      for (auto& a : ax) {
        if (a < 0) {
          if (!rank) known = false;
          else a += *rank;
        }
      }
      if (known) {
        std::sort(ax.rbegin(), ax.rend());
        std::string expr = e.In(0);
        for (auto a : ax) expr += fmt::format(".squeeze({})", a);
        e.Set(0, "{}", expr);
        return Status::Ok();
      }
    }
    auto arg = AxesArg(e, 1);
    e.Set(0, "{}({}, {})", e.Helper("onnx_squeeze"), e.In(0),
          arg.value_or("[]"));
    return Status::Ok();
  });
  t.Op("Unsqueeze", [](NodeEmitter& e) {
    auto axes = e.Ints("axes");
    if (!axes && e.Has(1)) axes = e.ConstInts(1);
    if (axes && std::all_of(axes->begin(), axes->end(), [](int64_t a) { return a >= 0; })) {
      std::vector<int64_t> ax = *axes;
      std::sort(ax.begin(), ax.end());
      std::string expr = e.In(0);
      for (auto a : ax) expr += fmt::format(".unsqueeze({})", a);
      e.Set(0, "{}", expr);
      return Status::Ok();
    }
    auto arg = AxesArg(e, 1);
    if (!arg) return e.Invalid("has no axes");
    e.Set(0, "{}({}, {})", e.Helper("onnx_unsqueeze"), e.In(0), *arg);
    return Status::Ok();
  });
  t.Op("Expand", [](NodeEmitter& e) {
    e.Set(0, "{}({}, {})", e.Helper("onnx_expand"), e.In(0), e.IntListIn(1));
    return Status::Ok();
  });
  t.Op("Tile", [](NodeEmitter& e) {
    e.Set(0, "{}.repeat({})", e.In(0), e.IntListIn(1));
    return Status::Ok();
  });
  t.Op("Slice", [](NodeEmitter& e) {
    std::string starts, ends, axes = IntList({}), steps = IntList({});
    if (e.opset() < 10) {
      auto s = e.Ints("starts"), en = e.Ints("ends");
      if (!s || !en) return e.Invalid("needs starts and ends");
      starts = IntList(*s);
      ends = IntList(*en);
      if (auto a = e.Ints("axes")) axes = IntList(*a);
    } else {
      starts = e.IntListIn(1);
      ends = e.IntListIn(2);
      if (e.Has(3)) axes = e.IntListIn(3);
      if (e.Has(4)) steps = e.IntListIn(4);
    }
    e.Set(0, "{}({}, {}, {}, {}, {})", e.Helper("onnx_slice"), e.In(0), starts, ends, axes, steps);
    return Status::Ok();
  });
  t.Op("Pad", [](NodeEmitter& e) {
    std::string mode = e.Str("mode", "constant");
    if (mode != "constant" && mode != "reflect" && mode != "edge" && mode != "wrap") {
      return e.Unsupported("mode '" + mode + "'");
    }
    if (e.Has(3)) return e.Unsupported("the axes input");
    std::string pads, value = "0.0";
    if (e.opset() < 11) {
      auto p = e.Ints("pads");
      if (!p) return e.Invalid("needs pads");
      pads = IntList(*p);
      value = FloatLit(e.Float("value", 0.0));
    } else {
      pads = e.IntListIn(1);
      if (e.Has(2)) {
        auto v = e.ConstFloats(2);
        value = v && v->size() == 1 ? FloatLit((*v)[0]) : "float(" + e.In(2) + ".item())";
      }
    }
    if (mode == "constant") {
      e.Set(0, "{}({}, {}, {})", e.Helper("onnx_pad_constant"), e.In(0), pads, value);
    } else {
      e.Set(0, "{}({}, {}, {})", e.Helper("onnx_pad_index"), e.In(0), pads, StrLit(mode));
    }
    return Status::Ok();
  });

  t.Op("Gather", [](NodeEmitter& e) {
    int64_t axis = e.Int("axis", 0);
    const auto* c = e.Const(1);
    if (c && c->dims_size() == 0) {
      if (auto v = ConstScalarInt(e, 1)) {
        e.Set(0, "{}.select({}, {})", e.In(0), axis, *v);
        return Status::Ok();
      }
    }
    e.Set(0, "{}({}, {}, {})", e.Helper("onnx_gather"), e.In(0), e.In(1), axis);
    return Status::Ok();
  });
  t.Op("GatherElements", [](NodeEmitter& e) {
    e.Set(0, "{}({}, {}, {})", e.Helper("onnx_gather_elements"), e.In(0), e.In(1),
          e.Int("axis", 0));
    return Status::Ok();
  });
  t.Op("GatherND", [](NodeEmitter& e) {
    e.Set(0, "{}({}, {}, {})", e.Helper("onnx_gather_nd"), e.In(0), e.In(1),
          e.Int("batch_dims", 0));
    return Status::Ok();
  });
  auto scatter_elements = [](NodeEmitter& e) {
    int64_t axis = e.Int("axis", 0);
    std::string reduction = e.Str("reduction", "none");
    std::string idx = fmt::format("torch.where({1} < 0, {1} + {0}.size({2}), {1})", e.In(0),
                                  e.In(1), axis);
    std::string upd = e.In(2) + ".to(" + e.In(0) + ".dtype)";
    if (reduction == "none") {
      e.Set(0, "torch.scatter({}, {}, {}, {})", e.In(0), axis, idx, upd);
    } else if (reduction == "add") {
      e.Set(0, "torch.scatter_add({}, {}, {}, {})", e.In(0), axis, idx, upd);
    } else if (reduction == "mul" || reduction == "max" || reduction == "min") {
      std::string r = reduction == "mul" ? "prod" : "a" + reduction;
      e.Set(0, "torch.scatter_reduce({}, {}, {}, {}, {})", e.In(0), axis, idx, upd, StrLit(r));
    } else {
      return e.Unsupported("reduction '" + reduction + "'");
    }
    return Status::Ok();
  };
  t.Op("ScatterElements", scatter_elements);
  t.Op("Scatter", scatter_elements);
  t.Op("ScatterND", [](NodeEmitter& e) {
    e.Set(0, "{}({}, {}, {}, {})", e.Helper("onnx_scatter_nd"), e.In(0), e.In(1), e.In(2),
          StrLit(e.Str("reduction", "none")));
    return Status::Ok();
  });
  t.Op("OneHot", [](NodeEmitter& e) {
    e.Set(0, "{}({}, {}, {}, {})", e.Helper("onnx_one_hot"), e.In(0), e.In(1), e.In(2),
          e.Int("axis", -1));
    return Status::Ok();
  });
  t.Op("Range", [](NodeEmitter& e) {
    e.Set(0, "torch.arange({0}.item(), {1}.item(), {2}.item(), dtype={0}.dtype)", e.In(0),
          e.In(1), e.In(2));
    return Status::Ok();
  });
  t.Op("ConstantOfShape", [](NodeEmitter& e) {
    std::string value = "0.0";
    int code = 6;
    if (const auto* a = e.Attr("value")) {
      auto c = TorchDtypeCode(a->t().data_type());
      if (!c) return e.Unsupported("value of type " + OnnxTypeName(a->t().data_type()));
      code = *c;
      auto f = TensorFloats(a->t());
      if (!f || f->size() != 1) return e.Invalid("value must hold one element");
      bool is_float = a->t().data_type() == onnx::TensorProto::FLOAT ||
                      a->t().data_type() == onnx::TensorProto::DOUBLE;
      value = is_float ? FloatLit((*f)[0]) : std::to_string(static_cast<int64_t>((*f)[0]));
    }
    e.Set(0, "torch.full({}, {}, dtype={})", e.IntListIn(0), value, code);
    return Status::Ok();
  });
  t.Op("NonZero", [](NodeEmitter& e) {
    e.Set(0, "torch.nonzero({}).t()", e.In(0));
    return Status::Ok();
  });
  t.Op("TopK", [](NodeEmitter& e) {
    std::string k = e.opset() < 10 ? std::to_string(e.Int("k", 0)) : ScalarIntIn(e, 1);
    std::string vals = e.Out(0), idx = e.Out(1);
    e.Line(fmt::format("{}, {} = torch.topk({}, {}, {}, {}, {})", vals, idx, e.In(0), k,
                       e.Int("axis", -1), BoolLit(e.Int("largest", 1) != 0),
                       BoolLit(e.Int("sorted", 1) != 0)));
    return Status::Ok();
  });
  t.Op("CumSum", [](NodeEmitter& e) {
    e.Set(0, "{}({}, {}, {}, {})", e.Helper("onnx_cumsum"), e.In(0), ScalarIntIn(e, 1),
          BoolLit(e.Int("exclusive", 0) != 0), BoolLit(e.Int("reverse", 0) != 0));
    return Status::Ok();
  });
  t.Op("Trilu", [](NodeEmitter& e) {
    std::string k = e.Has(1) ? ScalarIntIn(e, 1) : "0";
    e.Set(0, "torch.{}({}, {})", e.Int("upper", 1) ? "triu" : "tril", e.In(0), k);
    return Status::Ok();
  });
  t.Op("EyeLike", [](NodeEmitter& e) {
    std::string dtype = e.In(0) + ".dtype";
    if (e.HasAttr("dtype")) {
      auto code = TorchDtypeCode(static_cast<int>(e.Int("dtype", 1)));
      if (!code) return e.Unsupported("dtype " + OnnxTypeName(static_cast<int>(e.Int("dtype", 1))));
      dtype = std::to_string(*code);
    }
    e.Set(0, "{}({}, {}, {})", e.Helper("onnx_eye_like"), e.In(0), e.Int("k", 0), dtype);
    return Status::Ok();
  });
  t.Op("Compress", [](NodeEmitter& e) {
    e.Set(0, "{}({}, {}, {}, {})", e.Helper("onnx_compress"), e.In(0), e.In(1), e.Int("axis", 0),
          BoolLit(e.HasAttr("axis")));
    return Status::Ok();
  });
  t.Op("DepthToSpace", [](NodeEmitter& e) {
    e.Set(0, "{}({}, {}, {})", e.Helper("onnx_depth_to_space"), e.In(0), e.Int("blocksize", 1),
          BoolLit(e.Str("mode", "DCR") == "CRD"));
    return Status::Ok();
  });
  t.Op("SpaceToDepth", [](NodeEmitter& e) {
    e.Set(0, "{}({}, {})", e.Helper("onnx_space_to_depth"), e.In(0), e.Int("blocksize", 1));
    return Status::Ok();
  });
  t.Op("ReverseSequence", [](NodeEmitter& e) {
    e.Set(0, "{}({}, {}, {}, {})", e.Helper("onnx_reverse_sequence"), e.In(0), e.In(1),
          e.Int("batch_axis", 1), e.Int("time_axis", 0));
    return Status::Ok();
  });
  t.Op("Unique", [](NodeEmitter& e) {
    std::string y = e.Out(0), first = e.Out(1), inv = e.Out(2), counts = e.Out(3);
    e.Line(fmt::format("{}, {}, {}, {} = {}({}, {}, {}, {})", y, first, inv, counts,
                       e.Helper("onnx_unique"), e.In(0), e.Int("axis", 0),
                       BoolLit(e.HasAttr("axis")), BoolLit(e.Int("sorted", 1) != 0)));
    return Status::Ok();
  });
  t.Op("Det", [](NodeEmitter& e) {
    e.Set(0, "torch.det({})", e.In(0));
    return Status::Ok();
  });
}

}  // namespace tessera::onnx_import
