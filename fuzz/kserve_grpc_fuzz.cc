// KServe v2 gRPC ModelInfer (src/frontend/kserve_grpc/codec.h): the message
// bytes a client sends are parsed as a ModelInferRequest, decoded into an
// InferRequest, echoed and encoded back as a ModelInferResponse.
#include "core/testing/fake_inference_service.h"
#include "frontend/kserve_grpc/codec.h"
#include "fuzz_common.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  tessera::fuzz::QuietLogs();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tessera;
  inference::ModelInferRequest message;
  if (!message.ParseFromArray(data, static_cast<int>(size))) return 0;
  Result<InferRequest> request = kserve_grpc::DecodeInferRequest(message);
  if (!request.ok()) return 0;
  Result<InferResponse> response = testing::FakeInferenceService::Echo(*request);
  if (!response.ok()) return 0;
  inference::ModelInferResponse out;
  (void)kserve_grpc::EncodeInferResponse(*response, &out);
  return 0;
}
