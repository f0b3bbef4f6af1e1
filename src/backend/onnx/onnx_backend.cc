#include "backend/onnx/onnx_backend.h"

#include <algorithm>

#include "backend/onnx/onnx_importer.h"
#include "backend/onnx/onnx_model.h"
#include "backend/torch/torch_runtime.h"
#include "common/logging.h"

namespace tessera {
namespace {

constexpr char kPlatform[] = "onnx_onnxv1";

bool IsOnnxFile(std::string_view name) {
  constexpr std::string_view kSuffix = ".onnx";
  return name.size() > kSuffix.size() && name.substr(name.size() - kSuffix.size()) == kSuffix;
}

Result<std::string> FindModelFile(const LoadOptions& options) {
  return FindSingleModelFile(options, IsOnnxFile, "ONNX", "*.onnx");
}

class OnnxBackend : public Backend {
 public:
  OnnxBackend() { SetInterOpThreadsOnce(); }

  std::string_view name() const override { return "onnx"; }

  bool Accepts(const std::vector<std::string>& file_names) const override {
    return std::any_of(file_names.begin(), file_names.end(),
                       [](const std::string& f) { return IsOnnxFile(f); });
  }

  Result<std::unique_ptr<LoadedModel>> Load(const LoadOptions& options) override {
    if (options.intra_op_threads < 1) {
      return InvalidArgument("intra_op_threads must be >= 1, got " +
                             std::to_string(options.intra_op_threads));
    }
    TESSERA_ASSIGN_OR_RETURN(std::string path, FindModelFile(options));
    TESSERA_ASSIGN_OR_RETURN(onnx::ModelProto model, onnx_import::ReadOnnxModel(path));
    TESSERA_ASSIGN_OR_RETURN(ModelSignature signature, onnx_import::OnnxSignature(model, path));
    Result<onnx_import::ImportedModule> imported = Internal("not imported");
    TESSERA_RETURN_IF_ERROR(CallTorch(StatusCode::kInternal, path, [&] {
      imported = onnx_import::ImportOnnx(model, {path, true});
    }));
    if (!imported.ok()) return imported.status();
    TorchModelSpec spec;
    spec.path = path;
    spec.platform = kPlatform;
    spec.kind = "ONNX";
    spec.module = std::move(imported->module);
    spec.copy_inputs = InputsWritten(spec.module.get_method("forward"), signature.inputs.size());
    spec.signature = std::move(signature);
    spec.intra_op_threads = options.intra_op_threads;
    TLOG_INFO("Loaded ONNX model {} (opset {}, {} inputs, {} outputs, {} intra-op threads)", path,
              onnx_import::DefaultOpset(model, path).value(), spec.signature.inputs.size(),
              spec.signature.outputs.size(), spec.intra_op_threads);
    return MakeTorchModel(std::move(spec));
  }
};

}  // namespace

std::unique_ptr<Backend> MakeOnnxBackend() { return std::make_unique<OnnxBackend>(); }

}  // namespace tessera
