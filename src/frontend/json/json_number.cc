#include "frontend/json/json_number.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>
#include <system_error>

namespace tessera::json {
namespace internal_json {

const double kPow10[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                           1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
const double kNegPow10[23] = {1e-0,  1e-1,  1e-2,  1e-3,  1e-4,  1e-5,  1e-6,  1e-7,
                              1e-8,  1e-9,  1e-10, 1e-11, 1e-12, 1e-13, 1e-14, 1e-15,
                              1e-16, 1e-17, 1e-18, 1e-19, 1e-20, 1e-21, 1e-22};

}  // namespace internal_json

namespace {

using internal_json::kPow10;

constexpr int64_t kMaxExactPow10 = 22;
constexpr uint64_t kMaxExactDoubleInt = uint64_t{1} << 53;

// std::from_chars, except that an underflow gives the nearest of zero and
// the smallest subnormal instead of an error. False on overflow.
template <typename F>
bool FromChars(std::string_view text, F* out) {
  auto r = std::from_chars(text.data(), text.data() + text.size(), *out);
  if (r.ec == std::errc()) return true;
  double d = std::strtod(std::string(text).c_str(), nullptr);
  if (std::isinf(d) || std::fabs(d) > std::numeric_limits<F>::max()) return false;
  *out = static_cast<F>(d);
  return true;
}

// mantissa × 10^exponent in double arithmetic, correctly rounded when the
// mantissa is an exact double (Clinger's fast path). nullopt when the power
// of ten is not exact.
std::optional<double> ScaledMantissa(uint64_t mantissa, int64_t exponent) {
  if (exponent < -kMaxExactPow10 || exponent > kMaxExactPow10) return std::nullopt;
  double m = static_cast<double>(mantissa);
  return exponent >= 0 ? m * kPow10[exponent] : m / kPow10[-exponent];
}

std::optional<double> FastDouble(const JsonNumber& n) {
  if (!n.exact) return std::nullopt;
  if (n.mantissa == 0) return n.negative ? -0.0 : 0.0;
  uint64_t mantissa = n.mantissa;
  int64_t exponent = n.exponent;
  // The reader may pad a fraction with trailing zeros (json_reader.h).
  while (mantissa > kMaxExactDoubleInt && mantissa % 10 == 0) {
    mantissa /= 10;
    ++exponent;
  }
  if (mantissa > kMaxExactDoubleInt) return std::nullopt;
  auto d = ScaledMantissa(mantissa, exponent);
  if (!d) return std::nullopt;
  return n.negative ? -*d : *d;
}

}  // namespace

namespace internal_json {

bool ToFloatSlow(const JsonNumber& n, float* out) { return FromChars(n.text, out); }

}  // namespace internal_json

bool ToDouble(const JsonNumber& n, double* out) {
  if (auto d = FastDouble(n)) {
    *out = *d;
    return true;
  }
  return FromChars(n.text, out);
}

namespace {

// The slow, general case of ToInteger: the text as digits d (integer and
// fraction part) times 10^e, normalised.
JsonInteger IntegerFromText(std::string_view text) {
  JsonInteger out;
  size_t i = 0;
  if (i < text.size() && text[i] == '-') {
    out.negative = true;
    ++i;
  }
  std::string digits;  // significant digits, leading zeros dropped
  int64_t e = 0;       // value = digits x 10^e
  bool fraction = false;
  for (; i < text.size() && text[i] != 'e' && text[i] != 'E'; ++i) {
    if (text[i] == '.') {
      fraction = true;
      continue;
    }
    if (fraction) --e;
    if (digits.empty() && text[i] == '0') continue;
    digits.push_back(text[i]);
  }
  if (i < text.size()) {  // exponent; capped far beyond any 20-digit value
    ++i;
    bool minus = i < text.size() && text[i] == '-';
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) ++i;
    constexpr int64_t kCap = int64_t{1} << 40;
    int64_t exponent = 0;
    for (; i < text.size(); ++i) {
      if (exponent < kCap) exponent = exponent * 10 + (text[i] - '0');
    }
    e += minus ? -exponent : exponent;
  }
  if (digits.empty()) return out;  // zero, in any notation
  while (digits.back() == '0') {
    digits.pop_back();
    ++e;
  }
  if (e < 0) {
    out.kind = JsonInteger::Kind::kNotWhole;  // the last digit is below the point
    return out;
  }
  if (static_cast<int64_t>(digits.size()) + e > 20) {
    out.kind = JsonInteger::Kind::kBeyond64Bits;
    return out;
  }
  digits.append(static_cast<size_t>(e), '0');
  auto r = std::from_chars(digits.data(), digits.data() + digits.size(), out.magnitude);
  if (r.ec != std::errc()) out.kind = JsonInteger::Kind::kBeyond64Bits;
  return out;
}

}  // namespace

JsonInteger ToInteger(const JsonNumber& n) {
  if (n.integral && n.exact && n.exponent == 0) {  // the common case: digits only, at most 19
    JsonInteger out;
    out.negative = n.negative;
    out.magnitude = n.mantissa;
    return out;
  }
  return IntegerFromText(n.text);
}

}  // namespace tessera::json
