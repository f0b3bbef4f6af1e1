// IEEE binary16 (FP16) and bfloat16 (BF16) <-> float, for JSON numbers of
// half-precision tensors. Round to nearest, ties to even; NaN stays NaN.
#pragma once

#include <cstdint>
#include <cstring>

namespace tessera::tfs_rest {

inline uint32_t FloatBits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}

inline float BitsFloat(uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

inline uint16_t FloatToHalf(float f) {
  uint32_t x = FloatBits(f);
  uint32_t sign = (x >> 16) & 0x8000;
  uint32_t abs = x & 0x7fffffff;
  if (abs > 0x7f800000) return static_cast<uint16_t>(sign | 0x7e00);  // NaN
  if (abs >= 0x47800000) return static_cast<uint16_t>(sign | 0x7c00);  // >= 65536: inf
  if (abs < 0x38800000) {  // subnormal half (or zero)
    // Scale so the half's subnormal step (2^-24) becomes 1, round by adding.
    float scaled = BitsFloat(abs) + 0.5f;  // 0.5 = 2^-1: aligns mantissa to 2^-24 units
    return static_cast<uint16_t>(sign | (FloatBits(scaled) - 0x3f000000));
  }
  uint32_t mantissa_odd = (abs >> 13) & 1;
  abs += 0xc8000fff + mantissa_odd;  // rebias exponent (-112 << 23) and round
  return static_cast<uint16_t>(sign | (abs >> 13));
}

inline float HalfToFloat(uint16_t h) {
  uint32_t sign = uint32_t{h & 0x8000u} << 16;
  uint32_t exponent = (h >> 10) & 0x1f;
  uint32_t mantissa = h & 0x3ffu;
  if (exponent == 0x1f) return BitsFloat(sign | 0x7f800000 | (mantissa << 13));
  if (exponent == 0) {
    // Subnormal: mantissa × 2^-24.
    float value = static_cast<float>(mantissa) * 5.9604644775390625e-8f;
    return sign ? -value : value;
  }
  return BitsFloat(sign | ((exponent + 112) << 23) | (mantissa << 13));
}

inline uint16_t FloatToBf16(float f) {
  uint32_t x = FloatBits(f);
  if ((x & 0x7fffffff) > 0x7f800000) return static_cast<uint16_t>((x >> 16) | 0x40);  // NaN
  x += 0x7fff + ((x >> 16) & 1);
  return static_cast<uint16_t>(x >> 16);
}

inline float Bf16ToFloat(uint16_t b) { return BitsFloat(uint32_t{b} << 16); }

}  // namespace tessera::tfs_rest
