#include "tensor/half.h"

#include <cmath>
#include <cstring>
#include <limits>

namespace tessera {

uint16_t DoubleToHalf(double value) {
  const uint16_t sign = std::signbit(value) ? 0x8000 : 0;
  if (std::isnan(value)) return sign | 0x7e00;
  const double magnitude = std::fabs(value);
  if (magnitude >= kHalfRoundingLimit) return sign | 0x7c00;
  constexpr double kSmallestNormal = 6.103515625e-05;  // 2^-14
  if (magnitude < kSmallestNormal) {
    // Subnormal: a multiple of 2^-24. Rounding up to 1024 units yields the
    // smallest normal, whose encoding is exactly 0x0400.
    return sign | static_cast<uint16_t>(std::nearbyint(magnitude * 16777216.0));
  }
  int exponent = 0;
  const double fraction = std::frexp(magnitude, &exponent);  // [0.5, 1)
  // magnitude = 1.m × 2^(exponent-1); biased half exponent = exponent + 14.
  uint32_t mantissa = static_cast<uint32_t>(std::nearbyint((fraction * 2 - 1) * 1024));
  uint32_t biased = static_cast<uint32_t>(exponent + 14);
  if (mantissa == 1024) {
    mantissa = 0;
    ++biased;
  }
  if (biased >= 31) return sign | 0x7c00;
  return static_cast<uint16_t>(sign | (biased << 10) | mantissa);
}

double HalfToDouble(uint16_t half) {
  const bool negative = half & 0x8000;
  const int exponent = (half >> 10) & 0x1f;
  const int mantissa = half & 0x3ff;
  double magnitude;
  if (exponent == 0x1f) {
    magnitude = mantissa ? std::numeric_limits<double>::quiet_NaN()
                         : std::numeric_limits<double>::infinity();
  } else if (exponent == 0) {
    magnitude = std::ldexp(mantissa, -24);
  } else {
    magnitude = std::ldexp(1024 + mantissa, exponent - 25);
  }
  return negative ? -magnitude : magnitude;
}

uint16_t DoubleToBf16(double value) {
  if (std::fabs(value) > std::numeric_limits<float>::max() && std::isfinite(value)) {
    return std::signbit(value) ? 0xff80 : 0x7f80;
  }
  const float f = static_cast<float>(value);
  uint32_t bits;
  std::memcpy(&bits, &f, sizeof bits);
  if (std::isnan(f)) return static_cast<uint16_t>((bits >> 16) | 0x40);
  bits += 0x7fff + ((bits >> 16) & 1);  // round to nearest even on the dropped half
  return static_cast<uint16_t>(bits >> 16);
}

double Bf16ToDouble(uint16_t bf16) {
  const uint32_t bits = uint32_t{bf16} << 16;
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

}  // namespace tessera
