#include "serving/request_validator.h"

namespace tessera {
namespace {

const NamedTensor* FindInput(const std::vector<NamedTensor>& inputs, const std::string& name) {
  const NamedTensor* found = nullptr;
  for (const auto& input : inputs) {
    if (input.name != name) continue;
    if (found) return nullptr;  // duplicates are reported by the caller
    found = &input;
  }
  return found;
}

Status CheckInput(const TensorInfo& expected, const Tensor& actual) {
  if (actual.dtype() != expected.dtype) {
    return InvalidArgument("Invalid input precision - Expected: " +
                           std::string(KServeName(expected.dtype)) + "; Actual: " +
                           std::string(KServeName(actual.dtype())) + "; input name: " +
                           expected.name);
  }
  bool any_shape = expected.shape.empty();
  if (!any_shape && !ShapeMatches(expected.shape, actual.shape())) {
    return InvalidArgument("Invalid input shape - Expected: " + ShapeToString(expected.shape) +
                           "; Actual: " + ShapeToString(actual.shape()) +
                           "; input name: " + expected.name);
  }
  if (expected.dtype == DataType::kBytes) return Status::Ok();
  return CheckByteSize(expected.name, actual.dtype(), actual.shape(), actual.byte_size());
}

}  // namespace

Result<std::vector<NamedTensor>> ValidateInputs(const ModelSignature& signature,
                                                const std::vector<NamedTensor>& inputs) {
  for (size_t i = 0; i < inputs.size(); ++i) {
    bool known = false;
    for (const auto& info : signature.inputs) known |= info.name == inputs[i].name;
    if (!known) return InvalidArgument("Unexpected input name: " + inputs[i].name);
    for (size_t j = 0; j < i; ++j) {
      if (inputs[j].name == inputs[i].name) {
        return InvalidArgument("Duplicate input name: " + inputs[i].name);
      }
    }
  }
  if (inputs.size() != signature.inputs.size()) {
    for (const auto& info : signature.inputs) {
      if (!FindInput(inputs, info.name)) {
        return InvalidArgument("Missing input with specific name - Required input: " + info.name);
      }
    }
  }
  std::vector<NamedTensor> ordered;
  ordered.reserve(signature.inputs.size());
  for (const auto& info : signature.inputs) {
    const NamedTensor* input = FindInput(inputs, info.name);
    TESSERA_RETURN_IF_ERROR(CheckInput(info, input->tensor));
    ordered.push_back(*input);
  }
  return ordered;
}

Result<std::vector<size_t>> SelectOutputs(const ModelSignature& signature,
                                          const std::vector<std::string>& requested) {
  std::vector<size_t> selected;
  if (requested.empty()) {
    for (size_t i = 0; i < signature.outputs.size(); ++i) selected.push_back(i);
    return selected;
  }
  for (const auto& name : requested) {
    size_t i = 0;
    while (i < signature.outputs.size() && signature.outputs[i].name != name) ++i;
    if (i == signature.outputs.size()) return InvalidArgument("Invalid output name: " + name);
    selected.push_back(i);
  }
  return selected;
}

}  // namespace tessera
