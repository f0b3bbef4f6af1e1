// KServe v2 REST bodies (src/frontend/kserve_rest/codec.h).
//
// Input: the JSON part, a NUL byte, then the binary part (the bytes after
// Inference-Header-Content-Length). Runs DecodeInferRequest on the two parts
// (and, without a binary part, its in-place form on the JSON part);
// when that succeeds, echoes the inputs as outputs and encodes the response
// as JSON and as binary (so decoded tensors must be well-formed for the
// encoder). The whole input is also decoded as a raw binary body
// (DecodeRawBinaryRequest) for a few input signatures, and the JSON part as
// the bodies of the repository extension (repository_codec.h).
#include <memory>
#include <string>

#include "core/testing/fake_inference_service.h"
#include "frontend/kserve_rest/codec.h"
#include "frontend/kserve_rest/repository_codec.h"
#include "fuzz_common.h"

namespace {

using namespace tessera;

void EncodeEcho(const InferRequest& request, bool binary) {
  Result<InferResponse> response = testing::FakeInferenceService::Echo(request);
  if (!response.ok()) return;
  kserve_rest::OutputFormat format;
  format.binary_default = binary;
  (void)kserve_rest::EncodeInferResponse(*response, format);
}

const std::vector<TensorInfo>& RawInputs() {
  static const std::vector<TensorInfo> kInputs = {
      {"x", DataType::kFp32, {-1, 3}},
      {"x", DataType::kFp16, {-1}},
      {"x", DataType::kInt64, {2, -1}},
      {"x", DataType::kBytes, {1}},
      {"x", DataType::kBytes, {-1, -1}},
      {"x", DataType::kUint8, {-1, -1, -1}},
  };
  return kInputs;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  tessera::fuzz::QuietLogs();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Tensors borrow from the body; a copy shows ASan any read past its end.
  auto body = std::make_shared<const std::string>(reinterpret_cast<const char*>(data), size);
  auto [json, binary] = fuzz::SplitAtNul(*body);
  Result<kserve_rest::DecodedInfer> decoded = kserve_rest::DecodeInferRequest(json, binary, body);
  if (decoded.ok()) {
    EncodeEcho(decoded->request, false);
    EncodeEcho(decoded->request, true);
  }
  if (binary.empty()) {
    // A body without a binary part as the server reads it: in place, and to
    // the same outcome.
    auto whole = std::make_shared<const std::string>(json);
    Result<kserve_rest::DecodedInfer> in_place = kserve_rest::DecodeInferRequest(*whole, whole);
    TESSERA_FUZZ_CHECK(in_place.ok() == decoded.ok());
  }
  (void)kserve_rest::DecodeRepositoryIndexRequest(json);
  auto parameters = kserve_rest::DecodeRepositoryModelRequest(json);
  if (parameters.ok()) (void)CheckRepositoryParameters(size % 2 == 0, *parameters);
  const TensorInfo& info = RawInputs()[size % RawInputs().size()];
  Result<kserve_rest::DecodedInfer> raw = kserve_rest::DecodeRawBinaryRequest(info, *body, body);
  if (raw.ok()) EncodeEcho(raw->request, true);
  return 0;
}
