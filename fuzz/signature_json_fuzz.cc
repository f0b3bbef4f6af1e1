// signature.json of TorchScript models (src/backend/torch/signature_json.h).
#include "backend/torch/signature_json.h"
#include "fuzz_common.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  tessera::fuzz::QuietLogs();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)tessera::ParseSignatureJson(tessera::fuzz::AsText(data, size), "signature.json");
  return 0;
}
