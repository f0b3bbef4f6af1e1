// FP16 (IEEE binary16) and BF16 conversions, the one converter of the
// project (JSON numbers of half-precision tensors on both REST APIs). Rounding is to nearest, ties to even; NaN stays NaN
// and infinities stay infinite.
#pragma once

#include <cstdint>

namespace tessera {

// A finite `value` whose magnitude rounds past the largest finite half
// (|value| >= 65520) becomes infinity; callers range-check first.
uint16_t DoubleToHalf(double value);
double HalfToDouble(uint16_t half);

// A finite `value` beyond the float range becomes infinity.
uint16_t DoubleToBf16(double value);
double Bf16ToDouble(uint16_t bf16);

// Smallest magnitude that rounds to an infinite half: values below it are in
// range (65504 is the largest half; 65520 is the tie, which rounds to
// infinity).
inline constexpr double kHalfRoundingLimit = 65520.0;

}  // namespace tessera
