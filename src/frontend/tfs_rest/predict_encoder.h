// Encoder of TF Serving REST predict replies:
//   row    -> {"predictions": [item0, item1, ...]}, item i = output[i] when
//             there is one output, else {"<name>": output[i], ...}
//   column -> {"outputs": value}, value = the output when there is one, else
//             {"<name>": output, ...}
// Outputs keep the order given. Values are written straight into the body
// with std::to_chars (no DOM): floats in the shortest form that reads back
// to the same value, whole ones with ".0" as TF Serving writes them, and NaN,
// Infinity, -Infinity as those tokens; FP16/BF16 as floats; BOOL as
// true/false. BYTES outputs whose name ends in "_bytes" are written as
// {"b64": "<base64>"}; other BYTES elements as JSON strings when they are
// valid UTF-8, else as {"b64": ...} too (a JSON string cannot hold them).
//
// Errors: kInvalidArgument for no outputs, and in row format for an output
// without a batch dimension ("Tensor name: X has no shape information") or
// whose batch differs from the first output's ("Tensor name: X has
// inconsistent batch size: N expecting: M"); kInternal for an output whose
// bytes do not match its shape. Thread-safe (no shared state).
#pragma once

#include <string>
#include <vector>

#include "common/result.h"
#include "frontend/tfs_rest/predict_decoder.h"
#include "tensor/signature.h"

namespace tessera::tfs_rest {

Result<std::string> EncodePredictResponse(const std::vector<NamedTensor>& outputs,
                                          PredictFormat format);

}  // namespace tessera::tfs_rest
