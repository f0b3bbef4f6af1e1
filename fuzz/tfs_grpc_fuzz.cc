// TF Serving gRPC (src/frontend/tfs_grpc/codec.h): the message bytes are
// parsed as a PredictRequest (decoded, echoed, encoded back as a
// PredictResponse) and as a ModelServerConfig (HandleReloadConfigRequest's
// payload), so both decoders see every input.
#include "core/testing/fake_inference_service.h"
#include "frontend/tfs_grpc/codec.h"
#include "fuzz_common.h"

namespace {

using namespace tessera;

void Predict(const uint8_t* data, size_t size) {
  tensorflow::serving::PredictRequest message;
  if (!message.ParseFromArray(data, static_cast<int>(size))) return;
  Result<InferRequest> request = tfs_grpc::DecodePredictRequest(message);
  if (!request.ok()) return;
  Result<InferResponse> response = testing::FakeInferenceService::Echo(*request);
  if (!response.ok()) return;
  tensorflow::serving::PredictResponse out;
  (void)tfs_grpc::EncodePredictResponse(*response, "m", &out);
}

void ReloadConfig(const uint8_t* data, size_t size) {
  tensorflow::serving::ModelServerConfig config;
  if (!config.ParseFromArray(data, static_cast<int>(size))) return;
  (void)tfs_grpc::DecodeModelServerConfig(config);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  tessera::fuzz::QuietLogs();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Predict(data, size);
  ReloadConfig(data, size);
  return 0;
}
