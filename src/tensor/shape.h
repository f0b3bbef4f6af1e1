// Shape: tensor dimensions. In a model's signature -1 means "any size".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tessera {

using Shape = std::vector<int64_t>;

inline constexpr int64_t kDynamicDim = -1;

// Product of the dims; nullopt when a dim is negative or the product
// overflows int64.
std::optional<int64_t> ElementCount(const Shape& shape);

// "(1,3,224,224)" — the form OVMS uses in error messages.
std::string ShapeToString(const Shape& shape);

// True when `actual` has the same rank as `pattern` and every dim of
// `pattern` is -1 or equal to the dim of `actual`.
bool ShapeMatches(const Shape& pattern, const Shape& actual);

}  // namespace tessera
