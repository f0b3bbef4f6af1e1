// Reductions: Reduce*, ArgMax/ArgMin. Axes come from the attribute (opsets
// before 13 for ReduceSum, before 18 for the others) or the second input;
// no axes means all axes unless noop_with_empty_axes.
#include "backend/onnx/onnx_emitter.h"

namespace tessera::onnx_import {
namespace {

constexpr char kAllDims[] = R"(def onnx_all_dims(self, x: Tensor) -> List[int]:
    dims: List[int] = []
    for i in range(x.dim()):
        dims.append(i)
    return dims
)";

constexpr char kReduce[] = R"(def onnx_reduce(self, x: Tensor, axes: List[int], keep: bool, noop: bool, kind: str) -> Tensor:
    if len(axes) == 0:
        if noop:
            return x
        axes = self.onnx_all_dims(x)
    ax = self.onnx_norm_axes(axes, x.dim())
    if kind == 'sum':
        return torch.sum(x, ax, keep, dtype=x.dtype)
    if kind == 'mean':
        return torch.mean(x, ax, keep)
    if kind == 'max':
        return torch.amax(x, ax, keep)
    if kind == 'min':
        return torch.amin(x, ax, keep)
    if kind == 'l1':
        return torch.sum(torch.abs(x), ax, keep, dtype=x.dtype)
    if kind == 'l2':
        return torch.sqrt(torch.sum(x * x, ax, keep, dtype=x.dtype))
    if kind == 'sumsquare':
        return torch.sum(x * x, ax, keep, dtype=x.dtype)
    if kind == 'logsum':
        return torch.log(torch.sum(x, ax, keep, dtype=x.dtype))
    if kind == 'logsumexp':
        return torch.logsumexp(x, ax, keep)
    # prod: one axis at a time, highest first so lower indices stay valid
    ax.sort(reverse=True)
    y = x
    for a in ax:
        y = torch.prod(y, a, keep, dtype=x.dtype)
    return y
)";

struct ReduceKind {
  const char* op;
  const char* kind;
  int axes_input_opset;  // first opset taking axes as an input
};

constexpr ReduceKind kReductions[] = {
    {"ReduceSum", "sum", 13},        {"ReduceMean", "mean", 18},
    {"ReduceMax", "max", 18},        {"ReduceMin", "min", 18},
    {"ReduceProd", "prod", 18},      {"ReduceL1", "l1", 18},
    {"ReduceL2", "l2", 18},          {"ReduceSumSquare", "sumsquare", 18},
    {"ReduceLogSum", "logsum", 18},  {"ReduceLogSumExp", "logsumexp", 18},
};

}  // namespace

void RegisterReduceOps(OpTable& t) {
  t.Helper("onnx_all_dims", kAllDims);
  t.Helper("onnx_reduce", kReduce, {"onnx_all_dims", "onnx_norm_axes"});
  for (const ReduceKind& r : kReductions) {
    ReduceKind kind = r;
    t.Op(r.op, [kind](NodeEmitter& e) {
      std::string axes = IntList({});
      if (auto a = e.Ints("axes")) {
        axes = IntList(*a);
      } else if (e.opset() >= kind.axes_input_opset && e.Has(1)) {
        axes = e.IntListIn(1);
      }
      bool keep = e.Int("keepdims", 1) != 0;
      bool noop = e.Int("noop_with_empty_axes", 0) != 0;
      e.Set(0, "{}({}, {}, {}, {}, {})", e.Helper("onnx_reduce"), e.In(0), axes, BoolLit(keep),
            BoolLit(noop), StrLit(kind.kind));
      return Status::Ok();
    });
  }
  for (const char* op : {"ArgMax", "ArgMin"}) {
    std::string fn = std::string(op) == "ArgMax" ? "torch.argmax" : "torch.argmin";
    t.Op(op, [fn](NodeEmitter& e) {
      int64_t axis = e.Int("axis", 0);
      std::string keep = BoolLit(e.Int("keepdims", 1) != 0);
      if (e.Int("select_last_index", 0)) {
        e.Set(0, "{0}.size({1}) - 1 - {2}({0}.flip([{1}]), {1}, {3})", e.In(0), axis, fn, keep);
      } else {
        e.Set(0, "{}({}, {}, {})", fn, e.In(0), axis, keep);
      }
      return Status::Ok();
    });
  }
}

}  // namespace tessera::onnx_import
