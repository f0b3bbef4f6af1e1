// JsonNumber: a JSON number as JsonReader scanned it, and its conversion to
// the C++ types of tensors.
//
// The reader accumulates up to 19 significant digits into `mantissa` while it
// checks the grammar, so the common float conversion is one multiply or divide
// by an exact power of ten; the result is the correctly rounded value (the
// same bits as std::from_chars), and cases where that cannot be proven cheaply
// fall back to std::from_chars.
#pragma once

#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <string_view>
#include <type_traits>

namespace tessera::json {

struct JsonNumber {
  std::string_view text;  // as written, e.g. "-1.5e-3"
  bool integral = true;   // no fraction and no exponent
  bool negative = false;
  // When `exact`: |value| == mantissa × 10^exponent. Not exact when more than
  // 19 digits were written or the exponent is huge; `text` then decides.
  // The mantissa may carry trailing zeros the text does not have (0.5 may
  // come as 5000000000000000 × 10^-16).
  bool exact = true;
  uint64_t mantissa = 0;
  int64_t exponent = 0;
};

// The nearest float / double (ties to even). False when the value overflows
// the type (a finite literal never becomes infinity); an underflow gives zero
// or a subnormal.
inline bool ToFloat(const JsonNumber& n, float* out);  // fast path inline, below
bool ToDouble(const JsonNumber& n, double* out);

// A JSON number read exactly as an integer, whatever its notation: 3, 3.0,
// 3e2, 300e-2 and 0.3e1 are whole numbers; nothing is rounded through a
// double, so a value just outside a type's range (-9223372036854775809,
// 9223372036854775807.5) never lands on its end.
struct JsonInteger {
  enum class Kind {
    kWhole,        // negative / magnitude hold the value ("-0" is 0)
    kNotWhole,     // has a non-zero fractional part
    kBeyond64Bits  // whole, but |value| >= 2^64
  };
  Kind kind = Kind::kWhole;
  bool negative = false;
  uint64_t magnitude = 0;

  // True when kWhole and within [min, max] of T (an integer type).
  template <typename T>
  bool Fits() const;
};

JsonInteger ToInteger(const JsonNumber& n);

template <typename T>
bool JsonInteger::Fits() const {
  static_assert(sizeof(T) <= 8);
  if (kind != Kind::kWhole) return false;
  if (negative && magnitude != 0) {
    if constexpr (std::is_unsigned_v<T>) {
      return false;
    } else {
      // |min| == max + 1
      return magnitude - 1 <= static_cast<uint64_t>(std::numeric_limits<T>::max());
    }
  }
  return magnitude <= static_cast<uint64_t>(std::numeric_limits<T>::max());
}

namespace internal_json {

// The high bit of each of the 8 bytes at `p` (loaded little-endian) that is
// not an ASCII digit, and possibly of bytes after the first such byte (a
// carry or borrow only moves upwards): the lowest set bit is exact.
[[gnu::always_inline]] inline uint64_t NonDigitBits(uint64_t v) {
  return ((v + 0x4646464646464646) | (v - 0x3030303030303030)) & 0x8080808080808080;
}

// True when the 8 bytes at `p` are all ASCII digits.
inline bool IsEightDigits(uint64_t v) { return NonDigitBits(v) == 0; }

// The first `n` (0..7) bytes of `v` as the last digits of 8, after 8 - n
// '0's: ParseEightDigits of it is the value of those n digits (0 for n = 0).
[[gnu::always_inline]] inline uint64_t FirstDigitsPadded(uint64_t v, int n) {
  int shift = 8 * (8 - n);  // 8..64: two steps, as a 64-bit shift is undefined
  return ((v << (shift - 1)) << 1) | (uint64_t{0x3030303030303030} >> (8 * n));
}

// The value of 8 ASCII digits loaded little-endian ("12345678" -> 12345678).
[[gnu::always_inline]] inline uint32_t ParseEightDigits(uint64_t v) {
  constexpr uint64_t kMask = 0x000000FF000000FF;
  constexpr uint64_t kMul1 = 0x000F424000000064;  // 100 + (1000000 << 32)
  constexpr uint64_t kMul2 = 0x0000271000000001;  // 1 + (10000 << 32)
  v -= 0x3030303030303030;
  v = (v * 10) + (v >> 8);
  v = (((v & kMask) * kMul1) + (((v >> 16) & kMask) * kMul2)) >> 32;
  return static_cast<uint32_t>(v);
}

// 10^0 .. 10^18 as integers.
inline constexpr uint64_t kPow10Int[19] = {1ull,
                                           10ull,
                                           100ull,
                                           1000ull,
                                           10000ull,
                                           100000ull,
                                           1000000ull,
                                           10000000ull,
                                           100000000ull,
                                           1000000000ull,
                                           10000000000ull,
                                           100000000000ull,
                                           1000000000000ull,
                                           10000000000000ull,
                                           100000000000000ull,
                                           1000000000000000ull,
                                           10000000000000000ull,
                                           100000000000000000ull,
                                           1000000000000000000ull};

// ToFloat when the fast path cannot prove its result.
bool ToFloatSlow(const JsonNumber& n, float* out);

// 10^0 .. 10^22 (exact doubles) and 10^0 .. 10^-22 (nearest doubles).
extern const double kPow10[23];
extern const double kNegPow10[23];

// The float nearest mantissa × 10^exponent when that can be proven cheaply:
// d = mantissa × 10^±k in double arithmetic takes three roundings of at most
// half a unit of relative precision each, so d is within 3 double ulps of
// the exact value, and rounding d to float gives the float nearest the exact
// value unless a float midpoint lies between the two. d's 29 bits below
// float precision are 2^28 at a midpoint; within 4 ulps of it, or outside
// the normal float range, false.
[[gnu::always_inline]] inline bool FastFloat(const JsonNumber& n, float* out) {
  if (!n.exact || n.exponent < -22 || n.exponent > 22) return false;
  if (n.mantissa == 0) {
    *out = n.negative ? -0.0f : 0.0f;
    return true;
  }
  double d = static_cast<double>(n.mantissa) *
             (n.exponent >= 0 ? kPow10[n.exponent] : kNegPow10[-n.exponent]);
  uint64_t bits;
  std::memcpy(&bits, &d, sizeof bits);
  int biased_exponent = static_cast<int>((bits >> 52) & 0x7ff);
  // Normal floats only, and not the top binade (where rounding may overflow).
  if (biased_exponent < 1023 - 126 || biased_exponent >= 1023 + 127) return false;
  uint64_t below = bits & ((uint64_t{1} << 29) - 1);
  constexpr uint64_t kMidpoint = uint64_t{1} << 28;
  constexpr uint64_t kSlack = 4;
  if (below + kSlack >= kMidpoint && below <= kMidpoint + kSlack) return false;
  float f = static_cast<float>(d);
  *out = n.negative ? -f : f;
  return true;
}

}  // namespace internal_json

[[gnu::always_inline]] inline bool ToFloat(const JsonNumber& n, float* out) {
  return internal_json::FastFloat(n, out) || internal_json::ToFloatSlow(n, out);
}

}  // namespace tessera::json
