#include "frontend/tfs_rest/json_number.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>
#include <system_error>

namespace tessera::tfs_rest {
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
std::optional<double> ScaledMantissa(const JsonNumber& n) {
  if (n.exponent < -kMaxExactPow10 || n.exponent > kMaxExactPow10) return std::nullopt;
  double m = static_cast<double>(n.mantissa);
  return n.exponent >= 0 ? m * kPow10[n.exponent] : m / kPow10[-n.exponent];
}

std::optional<double> FastDouble(const JsonNumber& n) {
  if (!n.exact) return std::nullopt;
  if (n.mantissa == 0) return n.negative ? -0.0 : 0.0;
  if (n.mantissa > kMaxExactDoubleInt) return std::nullopt;
  auto d = ScaledMantissa(n);
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

std::optional<int64_t> ToInt64(const JsonNumber& n) {
  if (!n.integral) return std::nullopt;
  if (n.exact && n.exponent == 0) {
    constexpr uint64_t kMaxNegative = uint64_t{1} << 63;
    if (n.negative) {
      if (n.mantissa > kMaxNegative) return std::nullopt;
      return static_cast<int64_t>(~n.mantissa + 1);  // two's complement of the magnitude
    }
    if (n.mantissa > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return std::nullopt;
    }
    return static_cast<int64_t>(n.mantissa);
  }
  int64_t v;
  auto r = std::from_chars(n.text.data(), n.text.data() + n.text.size(), v);
  if (r.ec != std::errc() || r.ptr != n.text.data() + n.text.size()) return std::nullopt;
  return v;
}

std::optional<uint64_t> ToUint64(const JsonNumber& n) {
  if (!n.integral || n.negative) {
    if (n.integral && n.negative && n.exact && n.mantissa == 0) return 0;  // "-0"
    return std::nullopt;
  }
  if (n.exact && n.exponent == 0) return n.mantissa;
  uint64_t v;
  auto r = std::from_chars(n.text.data(), n.text.data() + n.text.size(), v);
  if (r.ec != std::errc() || r.ptr != n.text.data() + n.text.size()) return std::nullopt;
  return v;
}

}  // namespace tessera::tfs_rest
