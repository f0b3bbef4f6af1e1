// Checks an InferRequest against a model's signature before it is queued, so
// the engine only ever sees well-formed inputs. Error texts follow OVMS.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "core/types.h"
#include "tensor/shape_spec.h"
#include "tensor/signature.h"

namespace tessera {

// The shapes one input accepts.
struct ShapeConstraint {
  bool any_rank = false;              // unknown rank: every shape is accepted
  ShapeSpec spec;                     // otherwise: the accepted shapes
  std::optional<size_t> batch_index;  // the batch dim, for a batch-size message

  // From a signature shape: empty = any rank, -1 = any size.
  static ShapeConstraint FromShape(const Shape& shape);
};

// Matches `inputs` to `signature.inputs` by name and returns, in signature
// order, a pointer into `inputs` for each. kInvalidArgument when an input is
// missing, unexpected or duplicated.
Result<std::vector<const NamedTensor*>> MatchInputs(const ModelSignature& signature,
                                                    const std::vector<NamedTensor>& inputs);

// Checks one input's datatype, shape and byte size. The shape error names the
// expected and actual shapes: "Invalid input shape - Expected: (1:8,3);
// Actual: (9,3); input name: x", or "Invalid batch size - Expected: 1:8;
// Actual: 9; input name: x" when only the batch dim is wrong. An expected
// dtype of kInvalid accepts every datatype. The byte size must be elements ×
// element size ("Invalid content size of tensor proto - Expected: N bytes;
// ..."); a kBytes buffer must split into one length-prefixed element per
// element ("Invalid content size of tensor proto - Expected: N strings;
// Actual: M strings; input name: x", or the reason it does not split).
Status CheckInput(const TensorInfo& expected, const ShapeConstraint& shape, const Tensor& actual);

// MatchInputs + CheckInput against the signature's own shapes; returns the
// request's inputs in signature order (shallow copies sharing its bytes).
Result<std::vector<NamedTensor>> ValidateInputs(const ModelSignature& signature,
                                                const std::vector<NamedTensor>& inputs);

// Indices into signature.outputs of the outputs to return: all when
// `requested` is empty. kInvalidArgument for an unknown output name.
Result<std::vector<size_t>> SelectOutputs(const ModelSignature& signature,
                                          const std::vector<std::string>& requested);

}  // namespace tessera
