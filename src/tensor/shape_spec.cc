#include "tensor/shape_spec.h"

#include <charconv>

namespace tessera {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

bool ParseInt(std::string_view s, int64_t* out) {
  s = Trim(s);
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return !s.empty() && ec == std::errc() && end == s.data() + s.size();
}

}  // namespace

std::string Dim::ToString() const {
  if (fixed()) return std::to_string(lo);
  if (lo == 0 && hi == kDynamicDim) return "-1";
  return std::to_string(lo) + ":" + (hi == kDynamicDim ? std::string("-1") : std::to_string(hi));
}

ShapeSpec SpecFromShape(const Shape& shape) {
  ShapeSpec spec;
  spec.reserve(shape.size());
  for (int64_t d : shape) spec.push_back(d == kDynamicDim ? Dim::Any() : Dim::Fixed(d));
  return spec;
}

Shape MetadataShape(const ShapeSpec& spec) {
  Shape shape;
  shape.reserve(spec.size());
  for (const Dim& d : spec) shape.push_back(d.MetadataSize());
  return shape;
}

std::string SpecToString(const ShapeSpec& spec) {
  std::string out = "(";
  for (size_t i = 0; i < spec.size(); ++i) {
    if (i) out += ',';
    out += spec[i].ToString();
  }
  return out + ")";
}

bool SpecAccepts(const ShapeSpec& spec, const Shape& shape) {
  if (spec.size() != shape.size()) return false;
  for (size_t i = 0; i < spec.size(); ++i) {
    if (!spec[i].Accepts(shape[i])) return false;
  }
  return true;
}

Result<Dim> ParseDim(std::string_view text) {
  const std::string bad = "Invalid dimension '" + std::string(text) +
                          "': expected a size, -1 (any) or a range like 1:8";
  size_t colon = text.find(':');
  int64_t lo = 0, hi = 0;
  if (colon == std::string_view::npos) {
    if (!ParseInt(text, &lo) || lo < -1) return InvalidArgument(bad);
    return lo == kDynamicDim ? Dim::Any() : Dim::Fixed(lo);
  }
  if (!ParseInt(text.substr(0, colon), &lo) || !ParseInt(text.substr(colon + 1), &hi) ||
      lo < 1 || hi < lo) {
    return InvalidArgument(bad);
  }
  return Dim{lo, hi};
}

Result<ShapeSpec> ParseShapeSpec(std::string_view text) {
  std::string_view s = Trim(text);
  const bool bracketed = s.size() >= 2 && ((s.front() == '(' && s.back() == ')') ||
                                           (s.front() == '[' && s.back() == ']'));
  if (!bracketed) {
    return InvalidArgument("Invalid shape '" + std::string(text) +
                           "': expected a list of dims like (1,3,224,224)");
  }
  s = Trim(s.substr(1, s.size() - 2));
  ShapeSpec spec;
  while (!s.empty()) {
    size_t comma = s.find(',');
    auto dim = ParseDim(s.substr(0, comma));
    if (!dim.ok()) {
      return InvalidArgument("Invalid shape '" + std::string(text) + "': " + dim.status().message());
    }
    spec.push_back(*dim);
    if (comma == std::string_view::npos) break;
    s = s.substr(comma + 1);
    if (Trim(s).empty()) return InvalidArgument("Invalid shape '" + std::string(text) + "'");
  }
  return spec;
}

}  // namespace tessera
