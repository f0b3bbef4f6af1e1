#include "tensor/shape.h"

#include <limits>

namespace tessera {

std::optional<int64_t> ElementCount(const Shape& shape) {
  int64_t count = 1;
  for (int64_t dim : shape) {
    if (dim < 0) return std::nullopt;
    if (dim != 0 && count > std::numeric_limits<int64_t>::max() / dim) return std::nullopt;
    count *= dim;
  }
  return count;
}

std::string ShapeToString(const Shape& shape) {
  std::string out = "(";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) out += ',';
    out += std::to_string(shape[i]);
  }
  out += ')';
  return out;
}

bool ShapeMatches(const Shape& pattern, const Shape& actual) {
  if (pattern.size() != actual.size()) return false;
  for (size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] != kDynamicDim && pattern[i] != actual[i]) return false;
  }
  return true;
}

}  // namespace tessera
