// ShapeSpec: what shapes an input accepts — per dimension a fixed size, a
// closed range "lo:hi" or any size ("-1"). The form of OVMS's `shape` and
// `batch_size` settings ("(1:8,3,224,224)").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "tensor/shape.h"

namespace tessera {

struct Dim {
  int64_t lo = 0;
  int64_t hi = kDynamicDim;  // kDynamicDim: no upper bound

  static Dim Any() { return {}; }
  static Dim Fixed(int64_t n) { return {n, n}; }
  bool fixed() const { return lo == hi; }
  bool Accepts(int64_t size) const { return size >= lo && (hi == kDynamicDim || size <= hi); }
  // "224", "1:8", "-1".
  std::string ToString() const;
  // The size reported in metadata: the fixed size, else -1.
  int64_t MetadataSize() const { return fixed() ? lo : kDynamicDim; }
  bool operator==(const Dim&) const = default;
};

using ShapeSpec = std::vector<Dim>;

// -1 dims become Any, others Fixed.
ShapeSpec SpecFromShape(const Shape& shape);
// Fixed dims keep their size, ranges and Any become -1.
Shape MetadataShape(const ShapeSpec& spec);
// "(1:8,3,224,224)".
std::string SpecToString(const ShapeSpec& spec);
// Same rank and every dim accepted.
bool SpecAccepts(const ShapeSpec& spec, const Shape& shape);

// "8", "-1" or "1:8" (1 <= lo <= hi). kInvalidArgument otherwise.
Result<Dim> ParseDim(std::string_view text);
// "(1,3,224,224)" or "[1,3,224,224]", each dim as ParseDim; spaces allowed;
// "()" is a scalar. kInvalidArgument with the text otherwise.
Result<ShapeSpec> ParseShapeSpec(std::string_view text);

}  // namespace tessera
