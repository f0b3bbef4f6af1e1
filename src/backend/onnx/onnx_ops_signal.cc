// Signal processing ops of opset 17: DFT and the Hann, Hamming and Blackman
// windows (aten has all of them).
#include "backend/onnx/onnx_emitter.h"

namespace tessera::onnx_import {
namespace {

// ONNX keeps complex values as a trailing dimension of 2 (real, imaginary);
// a trailing 1 is a real signal.
constexpr char kDft[] = R"(def onnx_dft(self, x: Tensor, length: int, axis: int, inverse: bool, onesided: bool) -> Tensor:
    if axis < 0:
        axis += x.dim() - 1
    if x.size(-1) == 1:
        re = x.squeeze(-1)
        c = torch.complex(re, torch.zeros_like(re))
    else:
        c = torch.view_as_complex(x.contiguous())
    n = length
    if n <= 0:
        n = c.size(axis)
    if inverse:
        y = torch.fft_ifft(c, n, axis)
    else:
        y = torch.fft_fft(c, n, axis)
    if onesided:
        y = y.narrow(axis, 0, n // 2 + 1)
    return torch.view_as_real(y)
)";

Status EmitWindow(NodeEmitter& e, const std::string& call) {
  int type = static_cast<int>(e.Int("output_datatype", onnx::TensorProto::FLOAT));
  auto code = TorchDtypeCode(type);
  if (!code) return e.Unsupported("output_datatype " + OnnxTypeName(type));
  std::string periodic = BoolLit(e.Int("periodic", 1) != 0);
  e.Set(0, "torch.{}(int({}), {}{}).to({})", call, e.In(0), periodic,
        call == "hamming_window" ? ", 0.5434782608695652, 0.45652173913043476" : "", *code);
  return Status::Ok();
}

}  // namespace

void RegisterSignalOps(OpTable& t) {
  t.Helper("onnx_dft", kDft);
  t.Op("DFT", [](NodeEmitter& e) {
    std::string length = e.Has(1) ? "int(" + e.In(1) + ")" : "0";
    e.Set(0, "{}({}, {}, {}, {}, {})", e.Helper("onnx_dft"), e.In(0), length, e.Int("axis", 1),
          BoolLit(e.Int("inverse", 0) != 0), BoolLit(e.Int("onesided", 0) != 0));
    return Status::Ok();
  });
  t.Op("HannWindow", [](NodeEmitter& e) { return EmitWindow(e, "hann_window"); });
  t.Op("HammingWindow", [](NodeEmitter& e) { return EmitWindow(e, "hamming_window"); });
  t.Op("BlackmanWindow", [](NodeEmitter& e) { return EmitWindow(e, "blackman_window"); });
}

}  // namespace tessera::onnx_import
