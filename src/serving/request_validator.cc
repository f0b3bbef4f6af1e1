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

// True when `actual` differs from what `shape` accepts only in the batch dim.
bool OnlyBatchDiffers(const ShapeConstraint& shape, const Shape& actual) {
  if (!shape.batch_index || actual.size() != shape.spec.size()) return false;
  const size_t b = *shape.batch_index;
  for (size_t i = 0; i < actual.size(); ++i) {
    if (i != b && !shape.spec[i].Accepts(actual[i])) return false;
  }
  return !shape.spec[b].Accepts(actual[b]);
}

// A kBytes tensor's buffer must hold exactly one length-prefixed element per
// element of its shape.
Status CheckBytesContent(const std::string& name, const Tensor& actual) {
  auto elements = SplitBytesElements(actual.data(), actual.byte_size());
  if (!elements.ok()) {
    return InvalidArgument("Invalid content size of tensor proto - " + elements.status().message() +
                           "; input name: " + name);
  }
  if (static_cast<int64_t>(elements->size()) != actual.element_count()) {
    return InvalidArgument("Invalid content size of tensor proto - Expected: " +
                           std::to_string(actual.element_count()) + " strings; Actual: " +
                           std::to_string(elements->size()) + " strings; input name: " + name);
  }
  return Status::Ok();
}

}  // namespace

ShapeConstraint ShapeConstraint::FromShape(const Shape& shape) {
  ShapeConstraint c;
  c.any_rank = shape.empty();
  c.spec = SpecFromShape(shape);
  return c;
}

Result<std::vector<const NamedTensor*>> MatchInputs(const ModelSignature& signature,
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
  std::vector<const NamedTensor*> ordered;
  ordered.reserve(signature.inputs.size());
  for (const auto& info : signature.inputs) {
    const NamedTensor* input = FindInput(inputs, info.name);
    if (!input) {
      return InvalidArgument("Missing input with specific name - Required input: " + info.name);
    }
    ordered.push_back(input);
  }
  return ordered;
}

Status CheckInput(const TensorInfo& expected, const ShapeConstraint& shape, const Tensor& actual) {
  if (expected.dtype != DataType::kInvalid && actual.dtype() != expected.dtype) {
    return InvalidArgument("Invalid input precision - Expected: " +
                           std::string(KServeName(expected.dtype)) + "; Actual: " +
                           std::string(KServeName(actual.dtype())) + "; input name: " +
                           expected.name);
  }
  if (!shape.any_rank && !SpecAccepts(shape.spec, actual.shape())) {
    if (OnlyBatchDiffers(shape, actual.shape())) {
      const size_t b = *shape.batch_index;
      return InvalidArgument("Invalid batch size - Expected: " + shape.spec[b].ToString() +
                             "; Actual: " + std::to_string(actual.shape()[b]) +
                             "; input name: " + expected.name);
    }
    return InvalidArgument("Invalid input shape - Expected: " + SpecToString(shape.spec) +
                           "; Actual: " + ShapeToString(actual.shape()) +
                           "; input name: " + expected.name);
  }
  if (actual.dtype() == DataType::kBytes) return CheckBytesContent(expected.name, actual);
  return CheckByteSize(expected.name, actual.dtype(), actual.shape(), actual.byte_size());
}

Result<std::vector<NamedTensor>> ValidateInputs(const ModelSignature& signature,
                                                const std::vector<NamedTensor>& inputs) {
  TESSERA_ASSIGN_OR_RETURN(auto matched, MatchInputs(signature, inputs));
  std::vector<NamedTensor> ordered;
  ordered.reserve(matched.size());
  for (size_t i = 0; i < matched.size(); ++i) {
    const TensorInfo& info = signature.inputs[i];
    TESSERA_RETURN_IF_ERROR(
        CheckInput(info, ShapeConstraint::FromShape(info.shape), matched[i]->tensor));
    ordered.push_back(*matched[i]);
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
