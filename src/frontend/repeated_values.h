// Copying a protobuf repeated field of numbers into a typed tensor, shared by
// the gRPC front doors (KServe `*_contents`, TF Serving `*_val`).
#pragma once

#include <string>
#include <type_traits>
#include <utility>

#include "common/result.h"
#include "tensor/tensor.h"

namespace tessera::frontend {

// The tensor a repeated field is copied into, and how errors name it.
struct ValuesTarget {
  const std::string& input_name;
  DataType type;
  const Shape& shape;
  std::string type_name;  // as the front door names `type`, e.g. "DT_FLOAT"
};

// Copies `values` (anything with size() and Get(i), e.g. a RepeatedField)
// into a new tensor of target.type/shape, narrowing each value to `Dst`.
// An integer that does not fit `Dst` is the client's error, not something to
// wrap silently: INVALID_ARGUMENT "Value V at index I of input 'NAME' is out
// of range for TYPE_NAME" (TYPE_NAME is target.type_name).
// REQUIRES: values.size() == shape's element count; sizeof(Dst) is the
// element size of `type`.
template <typename Dst, typename Values>
Result<Tensor> CopyRepeatedValues(const ValuesTarget& target, const Values& values) {
  Tensor tensor = Tensor::Allocate(target.type, target.shape);
  Dst* dst = reinterpret_cast<Dst*>(tensor.mutable_data());
  for (int i = 0; i < values.size(); ++i) {
    const auto v = values.Get(i);
    using Src = std::remove_cv_t<decltype(v)>;
    if constexpr (std::is_integral_v<Src> && !std::is_same_v<Src, bool> &&
                  !std::is_same_v<Src, Dst>) {
      if (!std::in_range<Dst>(v)) {
        return InvalidArgument("Value " + std::to_string(v) + " at index " + std::to_string(i) +
                               " of input '" + target.input_name + "' is out of range for " +
                               target.type_name);
      }
    }
    dst[i] = static_cast<Dst>(v);
  }
  return tensor;
}

}  // namespace tessera::frontend
