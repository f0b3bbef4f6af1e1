#include "backend/torch/torch_backend.h"

#include <torch/csrc/jit/ir/alias_analysis.h>
#include <torch/csrc/jit/ir/constants.h>
#include <torch/script.h>

#include <algorithm>
#include <fstream>
#include <optional>
#include <sstream>
#include <utility>

#include "backend/torch/signature_json.h"
#include "backend/torch/torch_runtime.h"
#include "common/logging.h"

namespace tessera {
namespace {

constexpr char kSignatureFileName[] = "signature.json";
constexpr char kPlatform[] = "pytorch_torchscript";

// ---------------------------------------------------------------------------
// Files

bool IsTorchScriptFile(std::string_view name) {
  auto ends_with = [&](std::string_view suffix) {
    return name.size() > suffix.size() && name.substr(name.size() - suffix.size()) == suffix;
  };
  return ends_with(".pt") || ends_with(".torchscript");
}

std::string JoinPath(const std::string& dir, const std::string& name) {
  if (dir.empty() || dir.back() == '/') return dir + name;
  return dir + "/" + name;
}

Result<std::string> FindModelFile(const LoadOptions& options) {
  return FindSingleModelFile(options, IsTorchScriptFile, "TorchScript", "*.pt, *.torchscript");
}

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return InvalidArgument("Cannot open " + path);
  std::ostringstream content;
  content << in.rdbuf();
  if (in.bad()) return InvalidArgument("Cannot read " + path);
  return content.str();
}

// ---------------------------------------------------------------------------
// Signature

struct LoadedSignature {
  ModelSignature signature;
  bool declared = false;  // from a signature.json, so enforced at run time
};

// Embedded signature.json, else the one beside the model, else nullopt.
Result<std::optional<ModelSignature>> ReadDeclaredSignature(const LoadOptions& options,
                                                            const std::string& model_path,
                                                            const std::string& embedded) {
  if (!embedded.empty()) {
    TESSERA_ASSIGN_OR_RETURN(
        ModelSignature signature,
        ParseSignatureJson(embedded, model_path + " (embedded " + kSignatureFileName + ")"));
    return std::optional<ModelSignature>(std::move(signature));
  }
  bool beside = std::find(options.file_names.begin(), options.file_names.end(),
                          kSignatureFileName) != options.file_names.end();
  if (!beside) return std::optional<ModelSignature>();
  std::string path = JoinPath(options.version_dir, kSignatureFileName);
  TESSERA_ASSIGN_OR_RETURN(std::string json, ReadFile(path));
  TESSERA_ASSIGN_OR_RETURN(ModelSignature signature, ParseSignatureJson(json, path));
  return std::optional<ModelSignature>(std::move(signature));
}

// forward()'s arguments after self.
std::vector<c10::Argument> ForwardArguments(const torch::jit::Method& forward) {
  const auto& args = forward.function().getSchema().arguments();
  return std::vector<c10::Argument>(args.begin() + (args.empty() ? 0 : 1), args.end());
}

// Checks that `count` tensors can be passed positionally to forward().
Status CheckInputCount(const std::vector<c10::Argument>& args, size_t count,
                       const std::string& path) {
  size_t required = 0;
  for (const auto& arg : args) required += arg.default_value() ? 0 : 1;
  if (count < required || count > args.size()) {
    return InvalidArgument(path + ": signature lists " + std::to_string(count) +
                           " inputs but forward() takes " + std::to_string(required) +
                           (required == args.size() ? "" : "-" + std::to_string(args.size())));
  }
  for (size_t i = 0; i < count; ++i) {
    if (!c10::TensorType::get()->isSubtypeOf(*args[i].type())) {
      return InvalidArgument(path + ": forward() argument '" + args[i].name() + "' has type " +
                             args[i].type()->str() + "; only Tensor arguments can be served");
    }
  }
  return Status::Ok();
}

std::vector<TensorInfo> DeriveInputs(const std::vector<c10::Argument>& args) {
  std::vector<TensorInfo> inputs;
  for (const auto& arg : args) {
    if (arg.default_value()) break;  // trailing defaults keep their values
    inputs.push_back({arg.name(), DataType::kFp32, {}});
  }
  return inputs;
}

std::vector<TensorInfo> NumberedOutputs(size_t count) {
  std::vector<TensorInfo> outputs;
  for (size_t i = 0; i < count; ++i) {
    outputs.push_back({"output_" + std::to_string(i), DataType::kFp32, {}});
  }
  return outputs;
}

// Dict literal with constant string keys → its keys; otherwise nullopt.
std::optional<std::vector<TensorInfo>> DictLiteralOutputs(const torch::jit::Node* node) {
  std::vector<TensorInfo> outputs;
  for (size_t i = 0; i + 1 < node->inputs().size(); i += 2) {
    auto key = torch::jit::toIValue(node->inputs()[i]);
    if (!key || !key->isString()) return std::nullopt;
    outputs.push_back({key->toStringRef(), DataType::kFp32, {}});
  }
  return outputs;
}

Result<std::vector<TensorInfo>> DeriveOutputs(const torch::jit::Method& forward,
                                              const std::string& path) {
  auto graph = forward.graph();
  if (graph->outputs().size() != 1) {
    return InvalidArgument(path + ": forward() graph has " +
                           std::to_string(graph->outputs().size()) + " outputs");
  }
  const torch::jit::Value* ret = graph->outputs()[0];
  const torch::jit::Node* node = ret->node();
  const auto kind = node->kind();
  if (!node->inputs().empty() &&
      (kind == c10::prim::TupleConstruct || kind == c10::prim::ListConstruct ||
       kind == c10::prim::DictConstruct)) {
    // A list or dict literal only tells the result if nothing appends to it
    // later; tuples are immutable.
    bool mutated = kind != c10::prim::TupleConstruct && torch::jit::AliasDb(graph).hasWriters(ret);
    if (!mutated && kind != c10::prim::DictConstruct) return NumberedOutputs(node->inputs().size());
    if (!mutated) {
      if (auto outputs = DictLiteralOutputs(node)) return std::move(*outputs);
    }
  }
  const c10::TypePtr& type = ret->type();
  if (type->kind() == c10::TypeKind::TensorType) {
    return std::vector<TensorInfo>{{"output", DataType::kFp32, {}}};
  }
  if (auto tuple = type->cast<c10::TupleType>()) return NumberedOutputs(tuple->elements().size());
  return InvalidArgument(path + ": cannot tell the outputs of forward() (returns " +
                         type->str() + ") without running it; add a " + kSignatureFileName +
                         " listing them");
}

// ---------------------------------------------------------------------------
// Loading

void SetEvalMode(torch::jit::Module& module) {
  for (auto sub : module.modules()) {
    if (sub.hasattr("training")) sub.setattr("training", false);
  }
}

class TorchScriptBackend : public Backend {
 public:
  TorchScriptBackend() { SetInterOpThreadsOnce(); }

  std::string_view name() const override { return "torchscript"; }

  bool Accepts(const std::vector<std::string>& file_names) const override {
    return std::any_of(file_names.begin(), file_names.end(),
                       [](const std::string& f) { return IsTorchScriptFile(f); });
  }

  Result<std::unique_ptr<LoadedModel>> Load(const LoadOptions& options) override {
    if (options.intra_op_threads < 1) {
      return InvalidArgument("intra_op_threads must be >= 1, got " +
                             std::to_string(options.intra_op_threads));
    }
    TESSERA_ASSIGN_OR_RETURN(std::string path, FindModelFile(options));
    torch::jit::Module module;
    torch::jit::ExtraFilesMap extra{{kSignatureFileName, ""}};
    TESSERA_RETURN_IF_ERROR(CallTorch(StatusCode::kInvalidArgument,
                                      "Cannot load TorchScript model " + path,
                                      [&] { module = torch::jit::load(path, at::kCPU, extra); }));
    TESSERA_ASSIGN_OR_RETURN(auto declared,
                             ReadDeclaredSignature(options, path, extra[kSignatureFileName]));
    Result<std::unique_ptr<LoadedModel>> model = Internal("not prepared");
    TESSERA_RETURN_IF_ERROR(CallTorch(StatusCode::kInvalidArgument, path, [&] {
      model = Prepare(path, std::move(module), std::move(declared), options.intra_op_threads);
    }));
    return model;
  }

 private:
  // Checks the signature against forward(), optimises, derives what is left.
  static Result<std::unique_ptr<LoadedModel>> Prepare(const std::string& path,
                                                      torch::jit::Module module,
                                                      std::optional<ModelSignature> declared,
                                                      int threads) {
    auto method = module.find_method("forward");
    if (!method) return InvalidArgument(path + ": module has no forward() method");
    auto args = ForwardArguments(*method);
    LoadedSignature signature;
    signature.declared = declared.has_value();
    if (declared) {
      signature.signature = std::move(*declared);
    } else {
      signature.signature.inputs = DeriveInputs(args);
    }
    TESSERA_RETURN_IF_ERROR(CheckInputCount(args, signature.signature.inputs.size(), path));

    SetEvalMode(module);
    torch::jit::Module optimized = FreezeAndOptimize(std::move(module), path);
    torch::jit::Method forward = optimized.get_method("forward");
    if (!signature.declared) {
      TESSERA_ASSIGN_OR_RETURN(signature.signature.outputs, DeriveOutputs(forward, path));
    }
    auto copy_inputs = InputsWritten(forward, signature.signature.inputs.size());
    std::string copied;
    for (size_t i = 0; i < copy_inputs.size(); ++i) {
      if (copy_inputs[i]) copied += (copied.empty() ? "" : ", ") + signature.signature.inputs[i].name;
    }
    if (!copied.empty()) {
      TLOG_INFO("{}: the model may write to input(s) {}; they are copied before each run", path,
                copied);
    }
    TLOG_INFO("Loaded TorchScript model {} ({} inputs, {} outputs, signature {}, {} intra-op threads)",
              path, signature.signature.inputs.size(), signature.signature.outputs.size(),
              signature.declared ? "declared" : "derived", threads);
    TorchModelSpec spec;
    spec.path = path;
    spec.platform = kPlatform;
    spec.kind = "TorchScript";
    spec.module = std::move(optimized);
    spec.signature = std::move(signature.signature);
    spec.declared = signature.declared;
    spec.copy_inputs = std::move(copy_inputs);
    spec.intra_op_threads = threads;
    return MakeTorchModel(std::move(spec));
  }
};

}  // namespace

std::unique_ptr<Backend> MakeTorchScriptBackend() { return std::make_unique<TorchScriptBackend>(); }

}  // namespace tessera
