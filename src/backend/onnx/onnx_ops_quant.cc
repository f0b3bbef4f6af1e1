// Quantization ops: QuantizeLinear, DequantizeLinear, DynamicQuantizeLinear,
// ConvInteger, MatMulInteger, QLinearConv, QLinearMatMul. Computed in
// floating point (float64 where exactness matters) with round-half-to-even
// and saturation, as the ONNX reference does; not accelerated.
#include "backend/onnx/onnx_emitter.h"

namespace tessera::onnx_import {
namespace {

// A per-axis (1-D) scale or zero point viewed so it broadcasts along `axis`
// of a tensor with `rank` dims; scalars stay as they are.
constexpr char kQuant[] = R"(def onnx_per_axis(self, p: Tensor, rank: int, axis: int) -> Tensor:
    if p.dim() != 1:
        return p
    if axis < 0:
        axis += rank
    return p.reshape([-1] + [1] * (rank - axis - 1))

def onnx_quantize(self, x: Tensor, scale: Tensor, zp: Optional[Tensor], axis: int) -> Tensor:
    dtype = 0
    lo = 0.0
    hi = 255.0
    z = torch.zeros([1], dtype=7)
    if zp is not None:
        dtype = zp.dtype
        z = self.onnx_per_axis(zp, x.dim(), axis).to(7)
        if dtype == 1:
            lo = -128.0
            hi = 127.0
    s = self.onnx_per_axis(scale, x.dim(), axis).to(7)
    q = torch.round(x.to(7) / s) + z
    return torch.clamp(q, lo, hi).to(dtype)

def onnx_dequantize(self, x: Tensor, scale: Tensor, zp: Optional[Tensor], axis: int) -> Tensor:
    y = x.to(7)
    if zp is not None:
        y = y - self.onnx_per_axis(zp, x.dim(), axis).to(7)
    return (y * self.onnx_per_axis(scale, x.dim(), axis).to(7)).to(scale.dtype)

def onnx_dynamic_quantize(self, x: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
    # float32 arithmetic, as the reference
    zero = torch.zeros([], dtype=6)
    lo = torch.minimum(zero, x.min().to(6))
    hi = torch.maximum(zero, x.max().to(6))
    scale = (hi - lo) / 255.0
    zp = torch.clamp(torch.round((zero - lo) / scale), 0.0, 255.0)
    y = torch.clamp(torch.round(x.to(6) / scale) + zp, 0.0, 255.0)
    return y.to(0), scale, zp.to(0)

def onnx_centered(self, x: Tensor, zp: Optional[Tensor], axis: int) -> Tensor:
    y = x.to(7)
    if zp is not None:
        y = y - self.onnx_per_axis(zp, x.dim(), axis).to(7)
    return y
)";

// A function of the kQuant helper group, as "self.<fn>".
std::string Fn(NodeEmitter& e, const std::string& fn) {
  e.Helper("onnx_quant");
  return "self." + fn;
}

Status EmitConvInteger(NodeEmitter& e) {
  std::string x = fmt::format("{}({}, {}, 1)", Fn(e, "onnx_centered"), e.In(0), e.InOpt(2));
  std::string w = fmt::format("{}({}, {}, 0)", Fn(e, "onnx_centered"), e.In(1), e.InOpt(3));
  TESSERA_ASSIGN_OR_RETURN(std::string conv, ConvExpression(e, x, w, "None"));
  e.Set(0, "torch.round({}).to(3)", conv);
  return Status::Ok();
}

Status EmitQLinearConv(NodeEmitter& e) {
  // x, x_scale, x_zp, w, w_scale, w_zp, y_scale, y_zp, B
  std::string deq = Fn(e, "onnx_dequantize");
  std::string x = fmt::format("{}({}, {}.to(7), {}, 1)", deq, e.In(0), e.In(1), e.In(2));
  std::string w = fmt::format("{}({}, {}.to(7), {}, 0)", deq, e.In(3), e.In(4), e.In(5));
  std::string bias = "None";
  if (e.Has(8)) {
    bias = fmt::format("({}.to(7) * {}.to(7) * {}.to(7)).reshape([-1])", e.In(8), e.In(1), e.In(4));
  }
  TESSERA_ASSIGN_OR_RETURN(std::string conv, ConvExpression(e, x, w, bias, 3));
  e.Set(0, "{}({}, {}, {}, 1)", Fn(e, "onnx_quantize"), conv, e.In(6), e.In(7));
  return Status::Ok();
}

}  // namespace

void RegisterQuantOps(OpTable& t) {
  t.Helper("onnx_quant", kQuant);
  t.Op("QuantizeLinear", [](NodeEmitter& e) {
    e.Set(0, "{}({}, {}, {}, {})", Fn(e, "onnx_quantize"), e.In(0), e.In(1), e.InOpt(2),
          e.Int("axis", 1));
    return Status::Ok();
  });
  t.Op("DequantizeLinear", [](NodeEmitter& e) {
    e.Set(0, "{}({}, {}, {}, {})", Fn(e, "onnx_dequantize"), e.In(0), e.In(1), e.InOpt(2),
          e.Int("axis", 1));
    return Status::Ok();
  });
  t.Op("DynamicQuantizeLinear", [](NodeEmitter& e) {
    std::string y = e.Out(0), scale = e.Out(1), zp = e.Out(2);
    e.Line(fmt::format("{}, {}, {} = {}({})", y, scale, zp, Fn(e, "onnx_dynamic_quantize"),
                       e.In(0)));
    return Status::Ok();
  });
  t.Op("MatMulInteger", [](NodeEmitter& e) {
    // a's zero point may be per row (axis 0 of a 2-D a), b's per column.
    std::string a = fmt::format("{}({}, {}, 0)", Fn(e, "onnx_centered"), e.In(0), e.InOpt(2));
    std::string b = fmt::format("{}({}, {}, -1)", Fn(e, "onnx_centered"), e.In(1), e.InOpt(3));
    e.Set(0, "torch.matmul({}, {}).to(3)", a, b);
    return Status::Ok();
  });
  t.Op("QLinearMatMul", [](NodeEmitter& e) {
    std::string deq = Fn(e, "onnx_dequantize");
    std::string a = fmt::format("{}({}, {}.to(7), {}, 0)", deq, e.In(0), e.In(1), e.In(2));
    std::string b = fmt::format("{}({}, {}.to(7), {}, -1)", deq, e.In(3), e.In(4), e.In(5));
    e.Set(0, "{}(torch.matmul({}, {}), {}, {}, -1)", Fn(e, "onnx_quantize"), a, b, e.In(6),
          e.In(7));
    return Status::Ok();
  });
  t.Op("ConvInteger", EmitConvInteger);
  t.Op("QLinearConv", EmitQLinearConv);
}

}  // namespace tessera::onnx_import
