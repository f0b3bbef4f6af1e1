// One JSON value as one element of a tensor: the conversion both REST front
// doors use for every number, NaN and infinity of a request's tensor data.
//
// A number is converted once, straight from its JsonNumber into the tensor's
// type: floats to the nearest value (ties to even; FP32 without going
// through a double), integers exactly and only when whole and within the
// type's range, whatever the notation (3, 3.0, 3e0 are 3; callers that want
// integer notation only check JsonNumber::integral first). Nothing is
// written unless the result is kOk.
//
// Header-only; thread-compatible.
#pragma once

#include <cmath>
#include <cstring>

#include "frontend/json/json_number.h"
#include "tensor/data_type.h"
#include "tensor/half.h"

namespace tessera::json {

enum class ElementFit {
  kOk,          // written: ElementSize(dtype) bytes
  kNotInteger,  // integer type, and the value is not a whole number (or NaN)
  kOutOfRange,  // beyond the type's range (a finite value that would round
                // to infinity, an integer outside [min, max])
  kNotNumeric,  // BOOL, BYTES, invalid: no number fits
};

namespace internal_json {

template <typename T>
[[gnu::always_inline]] inline ElementFit Put(T value, char* out) {
  std::memcpy(out, &value, sizeof(T));
  return ElementFit::kOk;
}

template <typename T>
ElementFit PutInteger(const JsonNumber& n, char* out) {
  JsonInteger i = ToInteger(n);
  if (i.kind == JsonInteger::Kind::kNotWhole) return ElementFit::kNotInteger;
  if (!i.Fits<T>()) return ElementFit::kOutOfRange;
  // Two's complement of the magnitude, within T's range as checked.
  uint64_t bits = i.negative ? ~i.magnitude + 1 : i.magnitude;
  return Put(static_cast<T>(bits), out);
}

// FP16 / BF16 from a double; a finite value that would round to infinity
// is out of range.
inline ElementFit PutHalf(DataType dtype, double d, char* out) {
  uint16_t h = dtype == DataType::kFp16 ? DoubleToHalf(d) : DoubleToBf16(d);
  double back = dtype == DataType::kFp16 ? HalfToDouble(h) : Bf16ToDouble(h);
  if (std::isinf(back) && std::isfinite(d)) return ElementFit::kOutOfRange;
  return Put(h, out);
}

ElementFit PutNumberSlow(DataType dtype, const JsonNumber& n, char* out);

}  // namespace internal_json

// Writes `n` as one element of `dtype` to `out` (room for 8 bytes).
[[gnu::always_inline]] inline ElementFit PutNumber(DataType dtype, const JsonNumber& n,
                                                   char* out) {
  if (dtype == DataType::kFp32) {  // the common case, inline
    float f;
    if (!ToFloat(n, &f)) return ElementFit::kOutOfRange;
    return internal_json::Put(f, out);
  }
  return internal_json::PutNumberSlow(dtype, n, out);
}

// Writes NaN, Infinity or -Infinity (the JSON extension both APIs accept)
// as one element of a float `dtype`; integer types: kNotInteger for NaN,
// kOutOfRange for the infinities.
ElementFit PutNonFinite(DataType dtype, double d, char* out);

}  // namespace tessera::json
