// Checks an InferRequest against a model's signature before it is queued, so
// the engine only ever sees well-formed inputs. Error texts follow OVMS.
#pragma once

#include <string>
#include <vector>

#include "common/result.h"
#include "core/types.h"
#include "tensor/signature.h"

namespace tessera {

// Returns the request's inputs in signature order (shallow copies sharing the
// request's bytes). kInvalidArgument when an input is missing, unexpected,
// duplicated, of the wrong datatype, shape or byte size. An input whose
// signature shape is empty (unknown rank) accepts any shape.
Result<std::vector<NamedTensor>> ValidateInputs(const ModelSignature& signature,
                                                const std::vector<NamedTensor>& inputs);

// Indices into signature.outputs of the outputs to return: all when
// `requested` is empty. kInvalidArgument for an unknown output name.
Result<std::vector<size_t>> SelectOutputs(const ModelSignature& signature,
                                          const std::vector<std::string>& requested);

}  // namespace tessera
