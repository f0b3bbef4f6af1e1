// Decoder of TF Serving REST predict bodies:
//   {"signature_name"?: "...", "instances": [...]}   row format
//   {"signature_name"?: "...", "inputs": ... }       column format
//
// The body is read once, as SAX events (json_reader.h); every number goes
// from its text straight into the typed buffer of its input tensor (no DOM,
// no intermediate doubles for FP32). The model's input signature gives the
// names the body may use and the type JSON numbers are converted to:
//   - row, unnamed:  "instances": [v0, v1, ...]           (model with 1 input)
//   - row, named:    "instances": [{"a": v, "b": v}, ...] (one object per
//                    batch item; every input must appear in every item)
//   - column, unnamed: "inputs": v                        (model with 1 input)
//   - column, named:   "inputs": {"a": v, "b": v}
// where v is a number, bool, string, {"b64": "..."} or a nested list of
// them. The tensor's shape is the nesting (plus the batch for named rows).
// {"b64": ...} values, and strings for a DT_STRING input, make BYTES tensors
// (decoded bytes in the 4-byte-length raw form); numbers must fit the input's
// type (integers for integer types). NaN, Infinity and -Infinity are
// accepted. An object {"b64": ...} counts as a value unless the model has an
// input named "b64". Unknown top-level keys are ignored.
//
// Every error is kInvalidArgument with a message naming the input and the
// position ([i,j,...]) where it applies, e.g. "Input x: value
// -9223372036854775809 at [0,0] is out of range for DT_INT64" (the value as
// written). A body nesting more than kMaxJsonDepth arrays and objects is
// refused where the level too many opens: "JSON nesting deeper than 64
// levels at offset N" (common/json_depth.h). Thread-safe (no shared state).
#pragma once

#include <string>
#include <vector>

#include "common/result.h"
#include "tensor/signature.h"

namespace tessera::tfs_rest {

enum class PredictFormat {
  kRow,     // "instances" -> reply {"predictions": ...}
  kColumn,  // "inputs" -> reply {"outputs": ...}
};

struct DecodedPredict {
  PredictFormat format = PredictFormat::kRow;
  std::string signature_name;       // "" when absent
  std::vector<NamedTensor> inputs;  // owned bytes, in order of appearance
};

// Decodes `body` for a model whose inputs are `inputs`.
Result<DecodedPredict> DecodePredictRequest(const std::string& body,
                                            const std::vector<TensorInfo>& inputs);

}  // namespace tessera::tfs_rest
