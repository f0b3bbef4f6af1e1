// ONNX model import (src/backend/onnx): the bytes are written as model.onnx
// in a private temporary directory and loaded the way the ONNX backend loads
// a model file: ReadOnnxModel (parse, external data, which must stay inside
// that directory), OnnxSignature, then ImportOnnx (TorchScript
// emission and compilation; every 4th input also frozen and optimised).
// libtorch throws on bad graphs; CallTorch turns that into a Status as the
// backend does. Inputs over 64 KiB are skipped to bound the work per run.
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "backend/onnx/onnx_importer.h"
#include "backend/onnx/onnx_model.h"
#include "backend/torch/torch_runtime.h"
#include "fuzz_common.h"

namespace {

std::string& ModelPath() {
  static std::string path;
  return path;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  tessera::fuzz::QuietLogs();
  char dir[] = "/tmp/tessera-onnx-fuzz-XXXXXX";
  if (mkdtemp(dir) == nullptr) {
    std::perror("mkdtemp");
    std::abort();
  }
  ModelPath() = std::string(dir) + "/model.onnx";
  std::atexit([] { std::filesystem::remove_all(std::filesystem::path(ModelPath()).parent_path()); });
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tessera;
  if (size > 64 * 1024) return 0;
  {
    std::ofstream file(ModelPath(), std::ios::binary | std::ios::trunc);
    file.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  Result<onnx::ModelProto> model = onnx_import::ReadOnnxModel(ModelPath());
  if (!model.ok()) return 0;
  if (!onnx_import::OnnxSignature(*model, "fuzz").ok()) return 0;
  Result<onnx_import::ImportedModule> imported = Internal("not imported");
  Status status = CallTorch(StatusCode::kInternal, "fuzz", [&] {
    imported = onnx_import::ImportOnnx(*model, {"fuzz", size % 4 == 0});
  });
  // The backend logs DefaultOpset(...).value() after a successful import.
  if (status.ok() && imported.ok()) TESSERA_FUZZ_CHECK(onnx_import::DefaultOpset(*model, "fuzz").ok());
  return 0;
}
