#include "backend/torch/torch_backend.h"

#include <ATen/Parallel.h>
#include <c10/core/InferenceMode.h>
#include <omp.h>
#include <torch/csrc/jit/ir/alias_analysis.h>
#include <torch/csrc/jit/ir/constants.h>
#include <torch/script.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <fstream>
#include <mutex>
#include <optional>
#include <sstream>
#include <utility>

#include "backend/torch/signature_json.h"
#include "common/logging.h"

namespace tessera {
namespace {

constexpr char kSignatureFileName[] = "signature.json";
constexpr char kPlatform[] = "pytorch_torchscript";

// ---------------------------------------------------------------------------
// Error text

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

std::string TrimRight(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r')) s.pop_back();
  return s;
}

// "RuntimeError: ..." — an unindented "<Name>: " line (not "class X(...):").
bool IsCauseLine(const std::string& line) {
  size_t i = 0;
  while (i < line.size() && (std::isalnum(static_cast<unsigned char>(line[i])) ||
                             line[i] == '_' || line[i] == '.')) {
    ++i;
  }
  return i > 0 && line.compare(i, 2, ": ") == 0;
}

// One line that says what went wrong. Most libtorch messages put it on the
// first line; the TorchScript interpreter instead starts with script
// tracebacks (serialized and original code) and ends with the cause, e.g.
// "RuntimeError: mat1 and mat2 shapes cannot be multiplied (1x3 and 2x3)".
std::string Summarize(const std::string& message) {
  std::istringstream lines(message);
  std::string line;
  std::vector<std::string> all;
  while (std::getline(lines, line)) all.push_back(TrimRight(line));
  if (all.empty()) return "unknown error";
  if (StartsWith(all[0], "The following operation failed in the TorchScript interpreter")) {
    size_t last_traceback = 0;
    for (size_t i = 1; i < all.size(); ++i) {
      if (StartsWith(all[i], "Traceback of TorchScript")) last_traceback = i;
    }
    for (size_t i = last_traceback + 1; i < all.size(); ++i) {
      if (IsCauseLine(all[i])) return all[i];
    }
  }
  return all[0];
}

// Runs `fn`, turning anything libtorch throws into a Status with `code` and
// "<context>: <summary>".
template <typename Fn>
Status CallTorch(StatusCode code, const std::string& context, Fn&& fn) {
  try {
    fn();
    return Status::Ok();
  } catch (const c10::Error& e) {
    return Status(code, context + ": " + Summarize(e.msg()));
  } catch (const std::exception& e) {
    return Status(code, context + ": " + Summarize(e.what()));
  } catch (...) {
    return Status(code, context + ": unknown exception");
  }
}

// ---------------------------------------------------------------------------
// Types

std::optional<at::ScalarType> ToScalarType(DataType type) {
  switch (type) {
    case DataType::kBool: return at::kBool;
    case DataType::kUint8: return at::kByte;
    case DataType::kInt8: return at::kChar;
    case DataType::kInt16: return at::kShort;
    case DataType::kInt32: return at::kInt;
    case DataType::kInt64: return at::kLong;
    case DataType::kFp16: return at::kHalf;
    case DataType::kBf16: return at::kBFloat16;
    case DataType::kFp32: return at::kFloat;
    case DataType::kFp64: return at::kDouble;
    default: return std::nullopt;
  }
}

std::optional<DataType> FromScalarType(at::ScalarType type) {
  switch (type) {
    case at::kBool: return DataType::kBool;
    case at::kByte: return DataType::kUint8;
    case at::kChar: return DataType::kInt8;
    case at::kShort: return DataType::kInt16;
    case at::kInt: return DataType::kInt32;
    case at::kLong: return DataType::kInt64;
    case at::kHalf: return DataType::kFp16;
    case at::kBFloat16: return DataType::kBf16;
    case at::kFloat: return DataType::kFp32;
    case at::kDouble: return DataType::kFp64;
    default: return std::nullopt;
  }
}

// ---------------------------------------------------------------------------
// Threads (see the header comment for why this is not at::set_num_threads).

void UseIntraOpThreads(int threads) {
  // at::get_num_threads() runs ATen's one-time per-thread initialisation,
  // which would otherwise later reset this thread's ICV to the global default,
  // and returns this thread's current ICV.
  if (at::get_num_threads() != threads) omp_set_num_threads(threads);
}

void SetInterOpThreadsOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
    Status status = CallTorch(StatusCode::kInternal, "set_num_interop_threads",
                              [] { at::set_num_interop_threads(1); });
    if (!status.ok()) TLOG_DEBUG("Inter-op threads left as they are: {}", status.message());
    TLOG_DEBUG("libtorch parallel configuration:\n{}", at::get_parallel_info());
  });
}

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
  std::vector<std::string> found;
  for (const auto& name : options.file_names) {
    if (IsTorchScriptFile(name)) found.push_back(name);
  }
  if (found.empty()) {
    return NotFound("No TorchScript file (*.pt, *.torchscript) in " + options.version_dir);
  }
  if (found.size() > 1) {
    std::sort(found.begin(), found.end());
    std::string names;
    for (const auto& f : found) names += (names.empty() ? "" : ", ") + f;
    return InvalidArgument("More than one TorchScript file in " + options.version_dir + ": " +
                           names + "; keep exactly one model file per version directory");
  }
  return JoinPath(options.version_dir, found[0]);
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

// Freezes and optimises `module`; on failure keeps the last good stage.
torch::jit::Module Optimize(torch::jit::Module module, const std::string& path) {
  torch::jit::Module frozen = module;
  Status status = CallTorch(StatusCode::kInternal, "freeze",
                            [&] { frozen = torch::jit::freeze(module); });
  if (!status.ok()) {
    TLOG_WARN("{}: serving the model unfrozen (slower): {}", path, status.message());
    return module;
  }
  torch::jit::Module optimized;
  // optimize_for_inference rewrites the graph in place: work on a clone so a
  // failure half-way leaves `frozen` intact.
  status = CallTorch(StatusCode::kInternal, "optimize_for_inference", [&] {
    torch::jit::Module copy = frozen.clone();
    optimized = torch::jit::optimize_for_inference(copy);
  });
  if (!status.ok()) {
    TLOG_WARN("{}: serving the frozen model without inference optimisations: {}", path,
              status.message());
    return frozen;
  }
  return optimized;
}

// Inputs the model may write to (in-place ops on an argument or a view of it).
std::vector<bool> InputsWritten(const torch::jit::Method& forward, size_t count) {
  std::vector<bool> written(count, true);  // conservative if analysis fails
  auto graph = forward.graph();
  Status status = CallTorch(StatusCode::kInternal, "alias analysis", [&] {
    torch::jit::AliasDb db(graph);
    for (size_t i = 0; i < count && i + 1 < graph->inputs().size(); ++i) {
      written[i] = db.hasWriters(graph->inputs()[i + 1]);
    }
  });
  if (!status.ok()) TLOG_WARN("{}; inputs will be copied before each run", status.message());
  return written;
}

// ---------------------------------------------------------------------------
// Running

class TorchScriptModel : public LoadedModel {
 public:
  TorchScriptModel(std::string path, torch::jit::Module module, LoadedSignature signature,
                   std::vector<bool> copy_inputs, int intra_op_threads)
      : path_(std::move(path)),
        module_(std::move(module)),
        forward_(module_.get_method("forward")),
        signature_(std::move(signature.signature)),
        declared_(signature.declared),
        copy_inputs_(std::move(copy_inputs)),
        intra_op_threads_(intra_op_threads) {}

  const ModelSignature& signature() const override { return signature_; }
  std::string platform() const override { return kPlatform; }

  Result<std::vector<NamedTensor>> Run(const std::vector<NamedTensor>& inputs) override {
    UseIntraOpThreads(intra_op_threads_);
    c10::InferenceMode inference_mode;
    std::vector<at::Tensor> tensors;
    Result<std::vector<NamedTensor>> outputs = Internal("not run");
    Status status = CallTorch(StatusCode::kInternal, path_, [&] {
      auto wrapped = WrapInputs(inputs);
      if (!wrapped.ok()) {
        outputs = wrapped.status();
        return;
      }
      tensors = std::move(*wrapped);
      std::vector<c10::IValue> stack(tensors.begin(), tensors.end());
      c10::IValue result = forward_(std::move(stack));
      outputs = CollectOutputs(result, tensors);
    });
    if (!status.ok()) return status;
    return outputs;
  }

 private:
  struct Produced {
    std::optional<std::string> key;  // set for Dict[str, Tensor] results
    c10::IValue value;
  };

  Result<std::vector<at::Tensor>> WrapInputs(const std::vector<NamedTensor>& inputs) const {
    if (inputs.size() != signature_.inputs.size()) {
      return InvalidArgument("Expected " + std::to_string(signature_.inputs.size()) +
                             " inputs, got " + std::to_string(inputs.size()));
    }
    std::vector<at::Tensor> tensors;
    tensors.reserve(inputs.size());
    for (size_t i = 0; i < inputs.size(); ++i) {
      TESSERA_ASSIGN_OR_RETURN(at::Tensor t, WrapInput(inputs[i], copy_inputs_[i]));
      tensors.push_back(std::move(t));
    }
    return tensors;
  }

  // A tensor over the request's bytes; copied when the model writes to it or
  // the bytes are misaligned for the element type.
  static Result<at::Tensor> WrapInput(const NamedTensor& input, bool copy) {
    const Tensor& t = input.tensor;
    auto scalar = ToScalarType(t.dtype());
    if (!scalar) {
      return InvalidArgument("Input " + input.name + " has datatype " +
                             std::string(KServeName(t.dtype())) +
                             ", which TorchScript models cannot take");
    }
    TESSERA_RETURN_IF_ERROR(CheckByteSize(input.name, t.dtype(), t.shape(), t.byte_size()));
    auto options = at::TensorOptions().dtype(*scalar);
    if (t.byte_size() == 0) return at::empty(t.shape(), options);
    bool aligned = reinterpret_cast<uintptr_t>(t.data()) % ElementSize(t.dtype()) == 0;
    // from_blob takes a mutable pointer; the tensor is only read unless
    // copied first (see copy_inputs_).
    at::Tensor wrapped = torch::from_blob(const_cast<uint8_t*>(t.data()), t.shape(), options);
    return copy || !aligned ? wrapped.clone() : wrapped;
  }

  Result<std::vector<Produced>> Flatten(const c10::IValue& result) const {
    std::vector<Produced> produced;
    if (result.isTensor()) {
      produced.push_back({std::nullopt, result});
    } else if (result.isTuple()) {
      for (const auto& e : result.toTupleRef().elements()) produced.push_back({std::nullopt, e});
    } else if (result.isList()) {
      for (const auto& e : result.toListRef()) produced.push_back({std::nullopt, e});
    } else if (result.isGenericDict()) {
      for (const auto& entry : result.toGenericDict()) {
        if (!entry.key().isString()) {
          return Internal(path_ + ": forward() returned a Dict whose keys are not strings");
        }
        produced.push_back({entry.key().toStringRef(), entry.value()});
      }
    } else {
      return Internal(path_ + ": forward() returned " + result.tagKind() +
                      "; expected a Tensor, a tuple or list of Tensors, or a Dict[str, Tensor]");
    }
    return produced;
  }

  // Picks the produced value for each signature output, in signature order.
  Result<std::vector<c10::IValue>> MatchOutputs(const std::vector<Produced>& produced) const {
    const auto& wanted = signature_.outputs;
    std::vector<c10::IValue> values;
    bool keyed = !produced.empty() && produced[0].key.has_value();
    if (!keyed) {
      if (produced.size() != wanted.size()) {
        return Internal(path_ + ": model returned " + std::to_string(produced.size()) +
                        " outputs but its signature lists " + std::to_string(wanted.size()));
      }
      for (const auto& p : produced) values.push_back(p.value);
      return values;
    }
    for (const auto& info : wanted) {
      auto it = std::find_if(produced.begin(), produced.end(),
                             [&](const Produced& p) { return *p.key == info.name; });
      if (it == produced.end()) {
        std::string keys;
        for (const auto& p : produced) keys += (keys.empty() ? "" : ", ") + *p.key;
        return Internal(path_ + ": model did not produce output '" + info.name +
                        "' (produced: " + keys + ")");
      }
      values.push_back(it->value);
    }
    return values;
  }

  Result<std::vector<NamedTensor>> CollectOutputs(const c10::IValue& result,
                                                  const std::vector<at::Tensor>& inputs) const {
    TESSERA_ASSIGN_OR_RETURN(auto produced, Flatten(result));
    TESSERA_ASSIGN_OR_RETURN(auto values, MatchOutputs(produced));
    std::vector<NamedTensor> outputs;
    outputs.reserve(values.size());
    for (size_t i = 0; i < values.size(); ++i) {
      TESSERA_ASSIGN_OR_RETURN(Tensor t, ToTensor(signature_.outputs[i], values[i], inputs));
      outputs.push_back({signature_.outputs[i].name, std::move(t)});
    }
    return outputs;
  }

  Result<Tensor> ToTensor(const TensorInfo& info, const c10::IValue& value,
                          const std::vector<at::Tensor>& inputs) const {
    if (!value.isTensor()) {
      return Internal(path_ + ": output '" + info.name + "' is " + value.tagKind() +
                      ", not a Tensor");
    }
    at::Tensor t = value.toTensor();
    if (t.is_mkldnn()) t = t.to_dense();
    t = t.contiguous();
    // Never hand out a view of a request buffer: the response may outlive it.
    for (const auto& in : inputs) {
      if (t.storage().is_alias_of(in.storage())) {
        t = t.clone();
        break;
      }
    }
    auto dtype = FromScalarType(t.scalar_type());
    if (!dtype) {
      return Internal(path_ + ": output '" + info.name + "' has unsupported dtype " +
                      std::string(c10::toString(t.scalar_type())));
    }
    Shape shape(t.sizes().begin(), t.sizes().end());
    if (declared_) TESSERA_RETURN_IF_ERROR(CheckDeclared(info, *dtype, shape));
    auto holder = std::make_shared<at::Tensor>(std::move(t));
    return Tensor::Borrow(*dtype, std::move(shape), holder->data_ptr(), holder->nbytes(), holder);
  }

  Status CheckDeclared(const TensorInfo& info, DataType dtype, const Shape& shape) const {
    if (dtype != info.dtype) {
      return Internal(path_ + ": output '" + info.name + "' has datatype " +
                      std::string(KServeName(dtype)) + " but the signature declares " +
                      std::string(KServeName(info.dtype)));
    }
    if (!info.shape.empty() && !ShapeMatches(info.shape, shape)) {
      return Internal(path_ + ": output '" + info.name + "' has shape " + ShapeToString(shape) +
                      " but the signature declares " + ShapeToString(info.shape));
    }
    return Status::Ok();
  }

  const std::string path_;
  torch::jit::Module module_;  // owns what forward_ refers to
  torch::jit::Method forward_;
  const ModelSignature signature_;
  const bool declared_;
  const std::vector<bool> copy_inputs_;
  const int intra_op_threads_;
};

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
    torch::jit::Module optimized = Optimize(std::move(module), path);
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
    return std::unique_ptr<LoadedModel>(std::make_unique<TorchScriptModel>(
        path, std::move(optimized), std::move(signature), std::move(copy_inputs), threads));
  }
};

}  // namespace

std::unique_ptr<Backend> MakeTorchScriptBackend() { return std::make_unique<TorchScriptBackend>(); }

}  // namespace tessera
