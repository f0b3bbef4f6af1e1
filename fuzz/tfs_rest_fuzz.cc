// TF Serving REST predict bodies (src/frontend/tfs_rest/predict_decoder.h),
// decoded against a few model signatures: one unnamed FP32 input, a BYTES
// input, and named inputs of several types (row and column forms both
// reach every signature). Decoded inputs are encoded back as outputs in the
// request's format.
#include <string>
#include <vector>

#include "frontend/tfs_rest/predict_decoder.h"
#include "frontend/tfs_rest/predict_encoder.h"
#include "fuzz_common.h"

namespace {

using namespace tessera;

const std::vector<std::vector<TensorInfo>>& Signatures() {
  static const std::vector<std::vector<TensorInfo>> kSignatures = {
      {{"x", DataType::kFp32, {-1, 3}}},
      {{"s", DataType::kBytes, {-1}}},
      {{"a", DataType::kInt64, {-1, 2}}, {"b", DataType::kFp16, {-1}}, {"c", DataType::kBool, {-1}}},
      {{"b64", DataType::kUint8, {-1, -1}}, {"u", DataType::kUint32, {-1}}},
  };
  return kSignatures;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  tessera::fuzz::QuietLogs();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string body(reinterpret_cast<const char*>(data), size);
  for (const auto& signature : Signatures()) {
    Result<tfs_rest::DecodedPredict> decoded = tfs_rest::DecodePredictRequest(body, signature);
    if (!decoded.ok()) continue;
    (void)tfs_rest::EncodePredictResponse(decoded->inputs, decoded->format);
  }
  return 0;
}
