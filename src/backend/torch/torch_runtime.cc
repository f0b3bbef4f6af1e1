#include "backend/torch/torch_runtime.h"

#include <ATen/Parallel.h>
#include <c10/core/InferenceMode.h>
#include <omp.h>
#include <torch/csrc/jit/ir/alias_analysis.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <mutex>
#include <sstream>
#include <utility>

#include "backend/torch/conv_fusion.h"
#include "backend/torch/mkldnn_repair.h"
#include "backend/torch/row_matmul.h"
#include "backend/torch/silu_rewrite.h"
#include "common/logging.h"

namespace tessera {
namespace {

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

}  // namespace

std::string SummarizeTorchError(const std::string& message) { return Summarize(message); }

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

torch::jit::Module FreezeAndOptimize(torch::jit::Module module, const std::string& path) {
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
    int silus = RewriteSiluForMkldnn(*copy.get_method("forward").graph());
    if (silus > 0) TLOG_DEBUG("{}: {} SiLU(s) as x * sigmoid(x)", path, silus);
    optimized = torch::jit::optimize_for_inference(copy);
    auto graph = optimized.get_method("forward").graph();
    int repaired = RepairMkldnnUnaryOps(*graph);
    if (repaired > 0) TLOG_DEBUG("{}: {} MKLDNN activation(s) guarded", path, repaired);
    ConvFusionCount fused = FuseMkldnnConvolutions(graph);
    if (fused.relu + fused.add > 0) {
      TLOG_DEBUG("{}: {} conv + relu, {} conv + add fused", path, fused.relu, fused.add);
    }
    int rows = RewriteRowMatmuls(*graph);
    if (rows > 0) TLOG_DEBUG("{}: {} matmul(s) with constant weights", path, rows);
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

namespace {

class TorchModel : public LoadedModel {
 public:
  explicit TorchModel(TorchModelSpec spec)
      : path_(std::move(spec.path)),
        platform_(std::move(spec.platform)),
        kind_(std::move(spec.kind)),
        module_(std::move(spec.module)),
        forward_(module_.get_method("forward")),
        signature_(std::move(spec.signature)),
        declared_(spec.declared),
        copy_inputs_(std::move(spec.copy_inputs)),
        intra_op_threads_(spec.intra_op_threads) {}

  const ModelSignature& signature() const override { return signature_; }
  std::string platform() const override { return platform_; }

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
  Result<at::Tensor> WrapInput(const NamedTensor& input, bool copy) const {
    const Tensor& t = input.tensor;
    auto scalar = ToScalarType(t.dtype());
    if (!scalar) {
      return InvalidArgument("Input " + input.name + " has datatype " +
                             std::string(KServeName(t.dtype())) +
                             ", which " + kind_ + " models cannot take");
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
  const std::string platform_;
  const std::string kind_;
  torch::jit::Module module_;  // owns what forward_ refers to
  torch::jit::Method forward_;
  const ModelSignature signature_;
  const bool declared_;
  const std::vector<bool> copy_inputs_;
  const int intra_op_threads_;
};

}  // namespace

std::unique_ptr<LoadedModel> MakeTorchModel(TorchModelSpec spec) {
  return std::make_unique<TorchModel>(std::move(spec));
}

}  // namespace tessera
