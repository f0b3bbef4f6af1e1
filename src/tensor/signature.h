// Tensor metadata shared by every layer: what a model takes and returns.
#pragma once

#include <string>
#include <vector>

#include "tensor/data_type.h"
#include "tensor/shape.h"
#include "tensor/tensor.h"

namespace tessera {

struct TensorInfo {
  std::string name;
  DataType dtype = DataType::kFp32;
  Shape shape;  // -1 for dynamic dims
  bool operator==(const TensorInfo&) const = default;
};

// Inputs and outputs in the order the engine takes and returns them.
struct ModelSignature {
  std::vector<TensorInfo> inputs;
  std::vector<TensorInfo> outputs;
  bool operator==(const ModelSignature&) const = default;
};

struct NamedTensor {
  std::string name;
  Tensor tensor;
};

}  // namespace tessera
