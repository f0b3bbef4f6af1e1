#include "backend/onnx/onnx_importer.h"

#include <cstring>

#include "backend/onnx/onnx_emitter.h"
#include "backend/onnx/onnx_model.h"
#include "backend/torch/torch_runtime.h"
#include "common/logging.h"

namespace tessera::onnx_import {
namespace {

template <typename T, typename Field>
at::Tensor FromField(const Field& field, at::ScalarType type, const std::vector<int64_t>& dims) {
  at::Tensor t = at::empty(dims, at::TensorOptions().dtype(type));
  T* out = static_cast<T*>(t.data_ptr());
  int64_t i = 0;
  for (auto v : field) out[i++] = static_cast<T>(v);
  return t;
}

int64_t FieldSize(const onnx::TensorProto& t) {
  switch (t.data_type()) {
    case onnx::TensorProto::FLOAT: return t.float_data_size();
    case onnx::TensorProto::DOUBLE: return t.double_data_size();
    case onnx::TensorProto::INT64: return t.int64_data_size();
    case onnx::TensorProto::UINT32:
    case onnx::TensorProto::UINT64: return t.uint64_data_size();
    default: return t.int32_data_size();
  }
}

// Raw unsigned values widened to `type` (int32 or int64).
template <typename T>
Result<at::Tensor> Widened(const std::string& raw, at::ScalarType type,
                           const std::vector<int64_t>& dims, int64_t numel,
                           const std::string& name) {
  if (raw.size() != static_cast<size_t>(numel) * sizeof(T)) {
    return InvalidArgument(name + " holds " + std::to_string(raw.size()) + " bytes, expected " +
                           std::to_string(numel * sizeof(T)));
  }
  std::vector<T> values(static_cast<size_t>(numel));
  if (numel) std::memcpy(values.data(), raw.data(), raw.size());
  at::Tensor t = at::empty(dims, at::TensorOptions().dtype(type));
  for (int64_t i = 0; i < numel; ++i) {
    if (type == at::kInt) t.data_ptr<int32_t>()[i] = static_cast<int32_t>(values[i]);
    else t.data_ptr<int64_t>()[i] = static_cast<int64_t>(values[i]);
  }
  return t;
}

}  // namespace

Result<at::Tensor> TensorFromProto(const onnx::TensorProto& proto) {
  auto code = TorchDtypeCode(proto.data_type());
  const std::string name = "tensor '" + proto.name() + "'";
  if (!code || proto.data_type() == onnx::TensorProto::COMPLEX64 ||
      proto.data_type() == onnx::TensorProto::COMPLEX128) {
    return InvalidArgument(name + " has type " + OnnxTypeName(proto.data_type()) +
                           ", which is not supported");
  }
  if (proto.data_location() == onnx::TensorProto::EXTERNAL) {
    return InvalidArgument(name + " still refers to external data");
  }
  auto type = static_cast<at::ScalarType>(*code);
  std::vector<int64_t> dims(proto.dims().begin(), proto.dims().end());
  int64_t numel = 1;
  for (int64_t d : dims) {
    if (d < 0) return InvalidArgument(name + " has a negative dimension");
    numel *= d;
  }
  if (proto.has_raw_data() && proto.data_type() == onnx::TensorProto::UINT16) {
    return Widened<uint16_t>(proto.raw_data(), type, dims, numel, name);
  }
  if (proto.has_raw_data() && proto.data_type() == onnx::TensorProto::UINT32) {
    return Widened<uint32_t>(proto.raw_data(), type, dims, numel, name);
  }
  if (proto.has_raw_data()) {
    const std::string& raw = proto.raw_data();
    size_t expected = static_cast<size_t>(numel) * c10::elementSize(type);
    if (raw.size() != expected) {
      return InvalidArgument(name + " holds " + std::to_string(raw.size()) + " bytes, expected " +
                             std::to_string(expected));
    }
    at::Tensor t = at::empty(dims, at::TensorOptions().dtype(type));
    if (expected) std::memcpy(t.data_ptr(), raw.data(), expected);
    return t;
  }
  if (FieldSize(proto) != numel) {
    return InvalidArgument(name + " holds " + std::to_string(FieldSize(proto)) +
                           " values, expected " + std::to_string(numel));
  }
  switch (proto.data_type()) {
    case onnx::TensorProto::FLOAT: return FromField<float>(proto.float_data(), type, dims);
    case onnx::TensorProto::DOUBLE: return FromField<double>(proto.double_data(), type, dims);
    case onnx::TensorProto::INT64: return FromField<int64_t>(proto.int64_data(), type, dims);
    case onnx::TensorProto::INT32: return FromField<int32_t>(proto.int32_data(), type, dims);
    case onnx::TensorProto::INT16: return FromField<int16_t>(proto.int32_data(), type, dims);
    case onnx::TensorProto::UINT16: return FromField<int32_t>(proto.int32_data(), type, dims);
    case onnx::TensorProto::UINT32:
    case onnx::TensorProto::UINT64: return FromField<int64_t>(proto.uint64_data(), type, dims);
    case onnx::TensorProto::INT8: return FromField<int8_t>(proto.int32_data(), type, dims);
    case onnx::TensorProto::UINT8: return FromField<uint8_t>(proto.int32_data(), type, dims);
    case onnx::TensorProto::BOOL: return FromField<bool>(proto.int32_data(), type, dims);
    case onnx::TensorProto::FLOAT16:
    case onnx::TensorProto::BFLOAT16:
      // int32_data holds the 16-bit patterns.
      return FromField<int16_t>(proto.int32_data(), at::kShort, dims).view(type);
    default:
      return InvalidArgument(name + " has type " + OnnxTypeName(proto.data_type()) +
                             ", which is not supported");
  }
}

Result<ImportedModule> ImportOnnx(const onnx::ModelProto& model, const ImportOptions& options) {
  TESSERA_ASSIGN_OR_RETURN(int64_t opset, DefaultOpset(model, options.label));
  GraphEmitter emitter(model, opset);
  Result<EmittedModule> emitted = emitter.Emit();
  if (!emitted.ok()) {
    return Status(emitted.status().code(), options.label + ": " + emitted.status().message());
  }
  ImportedModule result{torch::jit::Module("__torch__.OnnxModel"), emitted->source};
  for (const BufferRef& buffer : emitted->buffers) {
    Result<at::Tensor> t = TensorFromProto(*buffer.tensor);
    if (!t.ok()) return Status(t.status().code(), options.label + ": " + t.status().message());
    result.module.register_buffer(buffer.name, *t);
  }
  TLOG_DEBUG("{}: generated TorchScript:\n{}", options.label, result.source);
  TESSERA_RETURN_IF_ERROR(CallTorch(StatusCode::kInternal,
                                    options.label + ": cannot compile the imported graph",
                                    [&] { result.module.define(result.source); }));
  result.module.eval();
  if (options.optimize) {
    result.module = FreezeAndOptimize(std::move(result.module), options.label);
  }
  return result;
}

}  // namespace tessera::onnx_import
