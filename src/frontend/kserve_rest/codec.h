// Codec between KServe v2 REST bodies (JSON, and Triton's binary tensor data
// extension) and the core types. Pure functions: no I/O, no state, safe to
// call from any thread.
//
// JSON tensor data is parsed with the SAX reader of src/frontend/json/
// straight into each input's typed buffer (no DOM of the values). Outputs
// are written with rapidjson::Writer and std::to_chars, without an
// intermediate DOM.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"
#include "core/types.h"

namespace tessera::kserve_rest {

// Which outputs are returned as binary data.
struct OutputFormat {
  // Request parameters.binary_data_output.
  bool binary_default = false;
  // outputs[i].parameters.binary_data where given; overrides the default.
  std::vector<std::pair<std::string, bool>> overrides;

  bool IsBinary(const std::string& output_name) const;
};

struct DecodedInfer {
  InferRequest request;  // model_name and model_version left for the caller
  OutputFormat format;
};

// Decodes an inference request: `json` is the JSON object, `binary` the bytes
// that followed it in the body (empty without the binary extension).
//
// JSON "data" may be flat or nested row-major; nested arrays must be
// rectangular and every scalar at the same depth. The element count must
// equal the shape's. Values must be JSON booleans for BOOL, integers within
// range for the integer types, numbers for FP16/BF16/FP32/FP64 (NaN,
// Infinity and -Infinity accepted; finite values beyond the type's range are
// errors) and strings for BYTES. Inputs with parameters.binary_data_size take
// their bytes from `binary`, in input order; so do inputs with neither 'data'
// nor a size when `binary` is not empty (OVMS's form): a fixed-size datatype
// takes shape x element size, and one BYTES input what the others leave
// (two such BYTES inputs are an error). Those tensors BORROW the bytes
// and hold `keepalive`, so REQUIRES: `binary` stays valid while `keepalive`
// lives. JSON data is copied into owned tensors. Request parameter
// "timeout" (Triton's: microseconds, a non-negative integer; 0 = none) sets
// the request's deadline to now + timeout.
//
// Errors are kInvalidArgument: malformed JSON (with the offset), nesting
// deeper than kMaxJsonDepth arrays and objects in the whole document ("JSON
// nesting deeper than 64 levels at offset N", common/json_depth.h; the
// parse never recurses), a wrong JSON
// type (naming the input), missing name/shape/datatype/data, an unknown
// datatype, data both in JSON and binary, ragged data, a value out of range,
// an element count or binary size not matching the shape, binary sizes not
// adding up to the binary part, repeated input names.
Result<DecodedInfer> DecodeInferRequest(std::string_view json, std::string_view binary,
                                        std::shared_ptr<const void> keepalive);

// The same for a body without a binary part (`binary` empty), read in place:
// no copy of the JSON text, which the other form makes.
Result<DecodedInfer> DecodeInferRequest(const std::string& body,
                                        std::shared_ptr<const void> keepalive);

// Decodes a body sent with Inference-Header-Content-Length: 0: the whole body
// is the data of `input`, the model's only input, and every output comes back
// binary. The shape is the input's with a leading -1 (the batch) set to 1 when
// the rank is at least 2; one remaining -1 is deduced from the byte size, more
// than one is an error. For BYTES the body is one element (without a length
// prefix) and every dim must be 1 or -1. Fixed-size data is BORROWED as above.
Result<DecodedInfer> DecodeRawBinaryRequest(const TensorInfo& input, std::string_view body,
                                            std::shared_ptr<const void> keepalive);

struct EncodedResponse {
  std::string body;        // the JSON object, then the binary outputs if any
  size_t json_size = 0;    // length of the JSON part
  bool has_binary = false; // some output is binary
};

// Encodes an inference response. JSON outputs carry flat row-major "data";
// FP16/BF16 as numbers; NaN and infinities as NaN, Infinity, -Infinity (as
// Python's json module reads and writes them); BYTES as strings, which must
// be valid UTF-8 (else kInvalidArgument: ask for the output as binary).
// Binary outputs carry parameters.binary_data_size and their bytes follow the
// JSON in output order. Errors: kInternal for a malformed output tensor.
Result<EncodedResponse> EncodeInferResponse(const InferResponse& response,
                                            const OutputFormat& format);

// {"name","versions":["1",...],"platform","inputs":[{"name","datatype","shape"}],"outputs":[...]}
std::string EncodeModelMetadata(const ModelMetadata& metadata);

// {"name","version","extensions":[...]}
std::string EncodeServerMetadata(const ServerMetadata& metadata);

}  // namespace tessera::kserve_rest
