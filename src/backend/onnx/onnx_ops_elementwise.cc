// Elementwise ONNX ops: unary math and activations, broadcasting binary and
// variadic ops, comparisons, logic, Cast, Clip, Where, Identity, Dropout.
// ONNX multidirectional broadcasting is numpy's, which is what aten does.
#include <cmath>

#include "backend/onnx/onnx_emitter.h"

namespace tessera::onnx_import {
namespace {

bool IsFloatType(std::optional<int> t) {
  return t && (*t == onnx::TensorProto::FLOAT || *t == onnx::TensorProto::DOUBLE ||
               *t == onnx::TensorProto::FLOAT16 || *t == onnx::TensorProto::BFLOAT16);
}

// A scalar constant input as a literal of the right kind, else nullopt.
std::optional<std::string> ScalarLiteral(const NodeEmitter& e, int i) {
  const auto* t = e.Const(i);
  if (!t) return std::nullopt;
  int64_t elems = 1;
  for (auto d : t->dims()) elems *= d;
  if (elems != 1) return std::nullopt;
  if (IsFloatType(t->data_type())) {
    auto v = TensorFloats(*t);
    if (!v || v->size() != 1) return std::nullopt;
    return FloatLit((*v)[0]);
  }
  auto v = TensorInts(*t);
  if (!v || v->size() != 1) return std::nullopt;
  return std::to_string((*v)[0]);
}

void Unary(OpTable& t, const std::string& op, const std::string& fn) {
  t.Op(op, [fn](NodeEmitter& e) {
    e.Set(0, "{}({})", fn, e.In(0));
    return Status::Ok();
  });
}

void Binary(OpTable& t, const std::string& op, const std::string& fn) {
  t.Op(op, [fn](NodeEmitter& e) {
    e.Set(0, "{}({}, {})", fn, e.In(0), e.In(1));
    return Status::Ok();
  });
}

// Folds variadic inputs with a binary function.
void Variadic(OpTable& t, const std::string& op, const std::string& fn) {
  t.Op(op, [fn](NodeEmitter& e) {
    if (e.num_inputs() < 1) return e.Invalid("needs at least one input");
    std::string acc = e.In(0);
    for (int i = 1; i < e.num_inputs(); ++i) acc = fn + "(" + acc + ", " + e.In(i) + ")";
    e.Set(0, "{}", acc);
    return Status::Ok();
  });
}

constexpr char kDiv[] = R"(def onnx_div(self, a: Tensor, b: Tensor) -> Tensor:
    if a.is_floating_point() or b.is_floating_point():
        return a / b
    return torch.div(a, b, rounding_mode='trunc')
)";

constexpr char kShrink[] = R"(def onnx_shrink(self, x: Tensor, lambd: float, bias: float) -> Tensor:
    zero = torch.zeros_like(x)
    return torch.where(x < -lambd, x + bias, torch.where(x > lambd, x - bias, zero)).to(x.dtype)
)";

// Dropout in training mode (training_mode=1): a random mask, scaled.
constexpr char kDropout[] = R"(def onnx_dropout(self, x: Tensor, ratio: float, training: bool) -> Tuple[Tensor, Tensor]:
    if not training or ratio == 0.0:
        return x, torch.ones_like(x, dtype=11)
    mask = torch.rand(x.size()) >= ratio
    return x * mask.to(x.dtype) / (1.0 - ratio), mask
)";

}  // namespace

void RegisterElementwiseOps(OpTable& t) {
  for (const char* name : {"Abs", "Acos", "Acosh", "Asin", "Asinh", "Atan", "Atanh", "Ceil", "Cos",
                           "Cosh", "Erf", "Exp", "Floor", "Log", "Neg", "Reciprocal", "Relu",
                           "Sigmoid", "Sign", "Sin", "Sinh", "Sqrt", "Tan", "Tanh", "Round"}) {
    std::string fn = name;
    fn[0] = static_cast<char>(std::tolower(fn[0]));
    Unary(t, name, "torch." + fn);
  }
  Unary(t, "Not", "torch.logical_not");
  Unary(t, "IsNaN", "torch.isnan");
  Unary(t, "BitwiseNot", "torch.bitwise_not");
  Unary(t, "Mish", "torch.mish");
  Unary(t, "HardSwish", "torch.hardswish");
  t.Op("Softsign", [](NodeEmitter& e) {
    e.Set(0, "{0} / (torch.abs({0}) + 1)", e.In(0));
    return Status::Ok();
  });
  t.Op("Softplus", [](NodeEmitter& e) {
    // softplus(x) = log(1 + exp(x)); aten's threshold 20 returns x beyond it,
    // where the difference is below float precision.
    e.Set(0, "torch.softplus({})", e.In(0));
    return Status::Ok();
  });
  t.Op("Elu", [](NodeEmitter& e) {
    e.Set(0, "torch.elu({}, {})", e.In(0), FloatLit(e.Float("alpha", 1.0)));
    return Status::Ok();
  });
  t.Op("Celu", [](NodeEmitter& e) {
    e.Set(0, "torch.celu({}, {})", e.In(0), FloatLit(e.Float("alpha", 1.0)));
    return Status::Ok();
  });
  t.Op("Selu", [](NodeEmitter& e) {
    double alpha = e.Float("alpha", 1.67326319217681884765625);
    double gamma = e.Float("gamma", 1.05070102214813232421875);
    e.Set(0, "torch.where({0} > 0, {0}, (torch.exp({0}) - 1) * {1}) * {2}", e.In(0),
          FloatLit(alpha), FloatLit(gamma));
    return Status::Ok();
  });
  t.Op("LeakyRelu", [](NodeEmitter& e) {
    e.Set(0, "torch.leaky_relu({}, {})", e.In(0), FloatLit(e.Float("alpha", 0.01)));
    return Status::Ok();
  });
  t.Op("ThresholdedRelu", [](NodeEmitter& e) {
    e.Set(0, "torch.threshold({}, {}, 0.0)", e.In(0), FloatLit(e.Float("alpha", 1.0)));
    return Status::Ok();
  });
  t.Op("HardSigmoid", [](NodeEmitter& e) {
    double alpha = e.Float("alpha", 0.2), beta = e.Float("beta", 0.5);
    if (std::fabs(alpha - 1.0 / 6) < 1e-7 && beta == 0.5) {
      e.Set(0, "torch.hardsigmoid({})", e.In(0));
    } else {
      e.Set(0, "torch.clamp({} * {} + {}, 0.0, 1.0)", e.In(0), FloatLit(alpha), FloatLit(beta));
    }
    return Status::Ok();
  });
  t.Op("PRelu", [](NodeEmitter& e) {
    if (e.opset() < 7) {
      // Before opset 7 a 1-D slope is per channel (axis 1), as in aten.
      e.Set(0, "torch.prelu({}, {}.reshape([-1]))", e.In(0), e.In(1));
      return Status::Ok();
    }
    e.Set(0, "torch.where({0} < 0, {0} * {1}, {0})", e.In(0), e.In(1));
    return Status::Ok();
  });
  t.Helper("onnx_shrink", kShrink);
  t.Op("Shrink", [](NodeEmitter& e) {
    e.Set(0, "{}({}, {}, {})", e.Helper("onnx_shrink"), e.In(0),
          FloatLit(e.Float("lambd", 0.5)), FloatLit(e.Float("bias", 0.0)));
    return Status::Ok();
  });
  t.Op("IsInf", [](NodeEmitter& e) {
    bool neg = e.Int("detect_negative", 1) != 0, pos = e.Int("detect_positive", 1) != 0;
    if (neg && pos) e.Set(0, "torch.isinf({})", e.In(0));
    else if (neg) e.Set(0, "torch.isneginf({})", e.In(0));
    else if (pos) e.Set(0, "torch.isposinf({})", e.In(0));
    else e.Set(0, "torch.zeros_like({}, dtype=11)", e.In(0));
    return Status::Ok();
  });

  Binary(t, "Add", "torch.add");
  Binary(t, "Sub", "torch.sub");
  Binary(t, "Mul", "torch.mul");
  t.Helper("onnx_div", kDiv);
  t.Op("Div", [](NodeEmitter& e) {
    if (IsFloatType(e.ElemType(0))) {
      e.Set(0, "torch.div({}, {})", e.In(0), e.In(1));
    } else {
      e.Set(0, "{}({}, {})", e.Helper("onnx_div"), e.In(0), e.In(1));
    }
    return Status::Ok();
  });
  t.Op("Pow", [](NodeEmitter& e) {
    // The result has the base's type whatever the exponent's.
    e.Set(0, "torch.pow({0}, {1}).to({0}.dtype)", e.In(0), e.In(1));
    return Status::Ok();
  });
  t.Op("Mod", [](NodeEmitter& e) {
    e.Set(0, "{}({}, {})", e.Int("fmod", 0) ? "torch.fmod" : "torch.remainder", e.In(0), e.In(1));
    return Status::Ok();
  });
  t.Op("BitShift", [](NodeEmitter& e) {
    std::string dir = e.Str("direction", "");
    if (dir != "LEFT" && dir != "RIGHT") return e.Unsupported("direction '" + dir + "'");
    e.Set(0, "torch.{}({}, {})", dir == "LEFT" ? "bitwise_left_shift" : "bitwise_right_shift",
          e.In(0), e.In(1));
    return Status::Ok();
  });
  Binary(t, "And", "torch.logical_and");
  Binary(t, "Or", "torch.logical_or");
  Binary(t, "Xor", "torch.logical_xor");
  Binary(t, "BitwiseAnd", "torch.bitwise_and");
  Binary(t, "BitwiseOr", "torch.bitwise_or");
  Binary(t, "BitwiseXor", "torch.bitwise_xor");
  Binary(t, "Equal", "torch.eq");
  Binary(t, "Greater", "torch.gt");
  Binary(t, "Less", "torch.lt");
  Binary(t, "GreaterOrEqual", "torch.ge");
  Binary(t, "LessOrEqual", "torch.le");
  Variadic(t, "Max", "torch.maximum");
  Variadic(t, "Min", "torch.minimum");
  Variadic(t, "Sum", "torch.add");
  t.Op("Mean", [](NodeEmitter& e) {
    if (e.num_inputs() < 1) return e.Invalid("needs at least one input");
    std::string acc = e.In(0);
    for (int i = 1; i < e.num_inputs(); ++i) acc = "torch.add(" + acc + ", " + e.In(i) + ")";
    e.Set(0, "torch.div({}, {})", acc, e.num_inputs());
    return Status::Ok();
  });
  t.Op("Where", [](NodeEmitter& e) {
    e.Set(0, "torch.where({}, {}, {})", e.In(0), e.In(1), e.In(2));
    return Status::Ok();
  });

  t.Op("Clip", [](NodeEmitter& e) {
    if (e.opset() < 11) {
      double lo = e.Float("min", -INFINITY), hi = e.Float("max", INFINITY);
      e.Set(0, "torch.clamp({}, {}, {})", e.In(0), FloatLit(lo), FloatLit(hi));
      return Status::Ok();
    }
    if (!e.Has(1) && !e.Has(2)) {
      e.Alias(0, e.In(0));
      return Status::Ok();
    }
    // Constant bounds become scalars (clamp(x, 0.0, 6.0) is what the
    // inference optimisations recognise); others stay tensors.
    auto bound = [&](int i) {
      if (!e.Has(i)) return std::string("None");
      return ScalarLiteral(e, i).value_or(e.In(i));
    };
    std::string lo = bound(1), hi = bound(2);
    bool lo_tensor = e.Has(1) && !ScalarLiteral(e, 1), hi_tensor = e.Has(2) && !ScalarLiteral(e, 2);
    if (lo_tensor || hi_tensor) {
      // clamp's Tensor overload takes both bounds as tensors.
      lo = e.Has(1) ? e.In(1) : "None";
      hi = e.Has(2) ? e.In(2) : "None";
    }
    e.Set(0, "torch.clamp({}, {}, {})", e.In(0), lo, hi);
    return Status::Ok();
  });

  t.Op("Cast", [](NodeEmitter& e) {
    int to = static_cast<int>(e.Int("to", 0));
    auto code = TorchDtypeCode(to);
    if (!code) return e.Unsupported("cast to " + OnnxTypeName(to));
    if (auto from = e.ElemType(0); from && !TorchDtypeCode(*from)) {
      return e.Unsupported("cast from " + OnnxTypeName(*from));
    }
    e.Set(0, "{}.to({})", e.In(0), *code);
    return Status::Ok();
  });
  t.Op("CastLike", [](NodeEmitter& e) {
    e.Set(0, "{}.to({}.dtype)", e.In(0), e.In(1));
    return Status::Ok();
  });
  t.Op("Identity", [](NodeEmitter& e) {
    e.Alias(0, e.In(0));
    // The torch exporter puts Identity nodes on initializers: keep them
    // known constants so shape arguments stay literals.
    if (const auto* c = e.Const(0); c && e.HasOut(0)) {
      e.graph().SetConstantValue(e.node().output(0), c);
    }
    return Status::Ok();
  });
  t.Helper("onnx_dropout", kDropout);
  t.Op("Dropout", [](NodeEmitter& e) {
    auto training = e.Has(2) ? e.ConstInts(2) : std::optional<std::vector<int64_t>>(std::vector<int64_t>{});
    bool inference = training && (training->empty() || (*training)[0] == 0);
    if (inference) {
      e.Alias(0, e.In(0));
      if (e.HasOut(1)) e.Set(1, "torch.ones_like({}, dtype=11)", e.In(0));
      return Status::Ok();
    }
    std::string ratio = e.Has(1) ? "float(" + e.In(1) + ")" : FloatLit(e.Float("ratio", 0.5));
    std::string y = e.Out(0), mask = e.Out(1);
    e.Line(fmt::format("{}, {} = {}({}, {}, bool({}))", y, mask, e.Helper("onnx_dropout"),
                       e.In(0), ratio, e.In(2)));
    return Status::Ok();
  });
}

}  // namespace tessera::onnx_import
