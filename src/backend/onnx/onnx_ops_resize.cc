// Resize (opsets 10, 11, 13) and Upsample (7, 9).
//
// Interpolation is separable, so the helper resizes one axis at a time, last
// axis first as the ONNX reference does: it maps each output index to a
// source coordinate with the coordinate transformation mode, then picks
// (nearest) or blends (linear, cubic) neighbouring slices with index_select.
// This covers every mode, rounding rule and axis (N and C too) with the
// reference's exact arithmetic.
#include <algorithm>

#include "backend/onnx/onnx_emitter.h"

namespace tessera::onnx_import {
namespace {

constexpr char kResizeAxis[] = R"(def onnx_resize_axis(self, x: Tensor, axis: int, out_len: int, scale: float, mode: str, ctm: str, nearest: str, cubic_a: float, exclude: bool, roi_start: float, roi_end: float, extrapolation: float) -> Tensor:
    n = x.size(axis)
    i = torch.arange(out_len, dtype=7)
    # The reference maps through the unrounded output length scale * n.
    length = scale * n
    if ctm == 'align_corners':
        if length == 1:
            o = i * 0.0
        else:
            o = i * (n - 1) / (length - 1)
    elif ctm == 'asymmetric':
        o = i / scale
    elif ctm == 'pytorch_half_pixel':
        if out_len == 1:
            o = i * 0.0 - 0.5
        else:
            o = (i + 0.5) / scale - 0.5
    elif ctm == 'tf_half_pixel_for_nn':
        o = (i + 0.5) / scale
    elif ctm == 'tf_crop_and_resize':
        if length == 1:
            o = i * 0.0 + (roi_end - roi_start) * (n - 1) / 2 + roi_start * (n - 1)
        else:
            o = i * (roi_end - roi_start) * (n - 1) / (length - 1) + roi_start * (n - 1)
    else:
        o = (i + 0.5) / scale - 0.5
    base = torch.floor(o)
    ratio = o - base
    b = base.to(4)
    view = [out_len] + [1] * (x.dim() - axis - 1)
    if mode == 'nearest':
        if nearest == 'round_prefer_ceil':
            idx = b + (ratio >= 0.5).to(4)
        elif nearest == 'floor':
            idx = b
        elif nearest == 'ceil':
            idx = b + (ratio > 0.0).to(4)
        else:
            idx = b + (ratio > 0.5).to(4)
        y = x.index_select(axis, idx.clamp(0, n - 1))
    elif mode == 'linear':
        lo = x.index_select(axis, b.clamp(0, n - 1))
        hi = x.index_select(axis, (b + 1).clamp(0, n - 1))
        w = ratio.to(x.dtype).reshape(view)
        y = lo + (hi - lo) * w
    else:
        a = cubic_a
        r = ratio
        s = 1.0 - r
        coeffs = [((a * (r + 1) - 5 * a) * (r + 1) + 8 * a) * (r + 1) - 4 * a,
                  ((a + 2) * r - (a + 3)) * r * r + 1,
                  ((a + 2) * s - (a + 3)) * s * s + 1,
                  ((a * (s + 1) - 5 * a) * (s + 1) + 8 * a) * (s + 1) - 4 * a]
        if exclude:
            total = torch.zeros_like(r)
            for j in range(4):
                inside = ((b + j - 1) >= 0) & ((b + j - 1) <= n - 1)
                coeffs[j] = torch.where(inside, coeffs[j], torch.zeros_like(r))
                total = total + coeffs[j]
            for j in range(4):
                coeffs[j] = coeffs[j] / total
        y = torch.zeros_like(x.index_select(axis, b.clamp(0, n - 1)))
        for j in range(4):
            src = x.index_select(axis, (b + j - 1).clamp(0, n - 1))
            y = y + src * coeffs[j].to(x.dtype).reshape(view)
    if ctm == 'tf_crop_and_resize':
        outside = ((o < 0) | (o > n - 1)).reshape(view)
        y = torch.where(outside, torch.full_like(y, extrapolation), y)
    return y.to(x.dtype)

def onnx_resize(self, x: Tensor, scales: List[float], sizes: List[int], roi: List[float], mode: str, ctm: str, nearest: str, cubic_a: float, exclude: bool, extrapolation: float) -> Tensor:
    r = x.dim()
    y = x
    for k in range(r):
        axis = r - 1 - k
        n = x.size(axis)
        if len(sizes) > 0:
            out_len = sizes[axis]
            scale = out_len / n
        else:
            scale = scales[axis]
            out_len = int(n * scale)
        roi_start = 0.0
        roi_end = 1.0
        if len(roi) == 2 * r:
            roi_start = roi[axis]
            roi_end = roi[axis + r]
        if out_len != n or scale != 1.0 or ctm == 'tf_crop_and_resize':
            y = self.onnx_resize_axis(y, axis, out_len, scale, mode, ctm, nearest, cubic_a, exclude, roi_start, roi_end, extrapolation)
    return y
)";

// Upsample/Resize before opset 11 and Upsample: asymmetric coordinates,
// nearest (floor) or linear.
std::string LegacyMode(const std::string& mode) {
  return mode == "bilinear" ? "linear" : mode;
}

// The fast path: nearest-neighbour upsampling by integer factors of the
// spatial axes of an NCHW tensor is aten's upsample_nearest2d.
bool IntegerSpatialScales(const std::vector<double>& scales) {
  if (scales.size() != 4 || scales[0] != 1.0 || scales[1] != 1.0) return false;
  for (int i = 2; i < 4; ++i) {
    if (scales[i] < 1.0 || scales[i] != static_cast<double>(static_cast<int64_t>(scales[i]))) {
      return false;
    }
  }
  return true;
}

Status EmitResizeCall(NodeEmitter& e, const std::string& scales, const std::string& sizes,
                      const std::string& roi, const std::string& mode, const std::string& ctm,
                      const std::string& nearest) {
  if (mode != "nearest" && mode != "linear" && mode != "cubic") {
    return e.Unsupported("mode '" + mode + "'");
  }
  static const char* kModes[] = {"half_pixel", "pytorch_half_pixel", "align_corners",
                                 "asymmetric", "tf_half_pixel_for_nn", "tf_crop_and_resize"};
  if (std::find(std::begin(kModes), std::end(kModes), ctm) == std::end(kModes)) {
    return e.Unsupported("coordinate_transformation_mode '" + ctm + "'");
  }
  e.Set(0, "{}({}, {}, {}, {}, {}, {}, {}, {}, {}, {})", e.Helper("onnx_resize"), e.In(0), scales,
        sizes, roi, StrLit(mode), StrLit(ctm), StrLit(nearest),
        FloatLit(e.Float("cubic_coeff_a", -0.75)), BoolLit(e.Int("exclude_outside", 0) != 0),
        FloatLit(e.Float("extrapolation_value", 0.0)));
  return Status::Ok();
}

Status EmitLegacy(NodeEmitter& e, const std::string& scales_expr,
                  const std::optional<std::vector<double>>& scales) {
  std::string mode = LegacyMode(e.Str("mode", "nearest"));
  if (mode == "nearest" && scales && IntegerSpatialScales(*scales)) {
    e.Set(0, "torch.upsample_nearest2d({}, None, [{}, {}])", e.In(0), FloatLit((*scales)[2]),
          FloatLit((*scales)[3]));
    return Status::Ok();
  }
  return EmitResizeCall(e, scales_expr, "[]", "[]", mode, "asymmetric", "floor");
}

Status EmitResize(NodeEmitter& e) {
  if (e.opset() < 11) {
    return EmitLegacy(e, e.FloatListIn(1), e.ConstFloats(1));
  }
  std::string mode = e.Str("mode", "nearest");
  std::string ctm = e.Str("coordinate_transformation_mode", "half_pixel");
  std::string nearest = e.Str("nearest_mode", "round_prefer_floor");
  std::string roi = "[]", scales = "[]", sizes = "[]";
  if (e.Has(1) && ctm == "tf_crop_and_resize") roi = e.FloatListIn(1);
  // Sizes win when given and not empty (the helper decides at run time).
  if (e.Has(3)) sizes = e.IntListIn(3);
  if (e.Has(2)) scales = e.FloatListIn(2);
  if (scales == "[]" && sizes == "[]") return e.Invalid("needs scales or sizes");
  return EmitResizeCall(e, scales, sizes, roi, mode, ctm, nearest);
}

}  // namespace

void RegisterResizeOps(OpTable& t) {
  t.Helper("onnx_resize", kResizeAxis);
  t.Op("Resize", EmitResize);
  t.Op("Upsample", [](NodeEmitter& e) {
    if (e.opset() < 9) {
      auto s = e.Floats("scales");
      if (!s) return e.Invalid("needs scales");
      return EmitLegacy(e, FloatList(*s), s);
    }
    return EmitLegacy(e, e.FloatListIn(1), e.ConstFloats(1));
  });
}

}  // namespace tessera::onnx_import
