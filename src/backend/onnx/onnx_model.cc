#include "backend/onnx/onnx_model.h"

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace tessera::onnx_import {
namespace {

namespace fs = std::filesystem;

Result<std::string> ReadBytes(const fs::path& path, uint64_t offset, std::optional<uint64_t> length,
                              const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return InvalidArgument("Cannot open " + what + " " + path.string());
  in.seekg(0, std::ios::end);
  uint64_t size = static_cast<uint64_t>(in.tellg());
  if (offset > size || (length && *length > size - offset)) {
    return InvalidArgument(what + " " + path.string() + " is too short (" + std::to_string(size) +
                           " bytes) for offset " + std::to_string(offset) +
                           (length ? " and length " + std::to_string(*length) : ""));
  }
  std::string bytes(length ? *length : size - offset, '\0');
  in.seekg(static_cast<std::streamoff>(offset));
  in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!in) return InvalidArgument("Cannot read " + what + " " + path.string());
  return bytes;
}

// `location` inside `dir`, or an error when it would leave it.
Result<fs::path> ExternalPath(const fs::path& dir, const std::string& location,
                              const std::string& tensor) {
  fs::path rel(location);
  if (location.empty() || rel.is_absolute()) {
    return InvalidArgument("External data of tensor '" + tensor + "' has location '" + location +
                           "'; it must be a path relative to the model's directory");
  }
  std::error_code ec;
  fs::path root = fs::weakly_canonical(dir, ec);
  fs::path full = fs::weakly_canonical(dir / rel, ec);
  if (ec) return InvalidArgument("Cannot resolve external data location '" + location + "'");
  auto [root_end, full_it] = std::mismatch(root.begin(), root.end(), full.begin(), full.end());
  if (root_end != root.end()) {
    return InvalidArgument("External data of tensor '" + tensor + "' at '" + location +
                           "' is outside the model's directory");
  }
  return full;
}

Status LoadExternal(onnx::TensorProto& t, const fs::path& dir) {
  if (t.data_location() != onnx::TensorProto::EXTERNAL) return Status::Ok();
  std::string location;
  uint64_t offset = 0;
  std::optional<uint64_t> length;
  for (const auto& kv : t.external_data()) {
    try {
      if (kv.key() == "location") location = kv.value();
      if (kv.key() == "offset") offset = std::stoull(kv.value());
      if (kv.key() == "length") length = std::stoull(kv.value());
    } catch (const std::exception&) {
      return InvalidArgument("External data of tensor '" + t.name() + "' has a bad " + kv.key() +
                             ": '" + kv.value() + "'");
    }
  }
  TESSERA_ASSIGN_OR_RETURN(fs::path path, ExternalPath(dir, location, t.name()));
  TESSERA_ASSIGN_OR_RETURN(std::string bytes,
                           ReadBytes(path, offset, length,
                                     "external data file of tensor '" + t.name() + "'"));
  t.set_raw_data(std::move(bytes));
  t.clear_external_data();
  t.set_data_location(onnx::TensorProto::DEFAULT);
  return Status::Ok();
}

Status LoadExternalInGraph(onnx::GraphProto& graph, const fs::path& dir);

Status LoadExternalInAttributes(onnx::NodeProto& node, const fs::path& dir) {
  for (auto& attr : *node.mutable_attribute()) {
    if (attr.has_t()) TESSERA_RETURN_IF_ERROR(LoadExternal(*attr.mutable_t(), dir));
    for (auto& t : *attr.mutable_tensors()) TESSERA_RETURN_IF_ERROR(LoadExternal(t, dir));
    if (attr.has_g()) TESSERA_RETURN_IF_ERROR(LoadExternalInGraph(*attr.mutable_g(), dir));
    for (auto& g : *attr.mutable_graphs()) TESSERA_RETURN_IF_ERROR(LoadExternalInGraph(g, dir));
  }
  return Status::Ok();
}

Status LoadExternalInGraph(onnx::GraphProto& graph, const fs::path& dir) {
  for (auto& t : *graph.mutable_initializer()) TESSERA_RETURN_IF_ERROR(LoadExternal(t, dir));
  for (auto& node : *graph.mutable_node()) TESSERA_RETURN_IF_ERROR(LoadExternalInAttributes(node, dir));
  return Status::Ok();
}

Result<TensorInfo> InfoOf(const onnx::ValueInfoProto& value, const std::string& label) {
  if (!value.type().has_tensor_type()) {
    return InvalidArgument(label + ": graph input/output '" + value.name() +
                           "' is not a tensor; only tensors can be served");
  }
  const auto& tensor = value.type().tensor_type();
  auto dtype = FromOnnxType(tensor.elem_type());
  if (!dtype) {
    std::string type = onnx::TensorProto::DataType_IsValid(tensor.elem_type())
                           ? onnx::TensorProto::DataType_Name(
                                 static_cast<onnx::TensorProto::DataType>(tensor.elem_type()))
                           : std::to_string(tensor.elem_type());
    return InvalidArgument(label + ": graph input/output '" + value.name() + "' has type " + type +
                           ", which cannot be served");
  }
  TensorInfo info{value.name(), *dtype, {}};
  if (tensor.has_shape()) {
    for (const auto& dim : tensor.shape().dim()) {
      info.shape.push_back(dim.has_dim_value() ? dim.dim_value() : -1);
    }
  }
  return info;
}

}  // namespace

Result<onnx::ModelProto> ReadOnnxModel(const std::string& path) {
  TESSERA_ASSIGN_OR_RETURN(std::string bytes, ReadBytes(path, 0, std::nullopt, "ONNX model"));
  onnx::ModelProto model;
  if (!model.ParseFromString(bytes)) {
    return InvalidArgument("Cannot parse ONNX model " + path +
                           ": not a complete ONNX ModelProto (truncated or corrupt file?)");
  }
  if (!model.has_graph()) return InvalidArgument("ONNX model " + path + " has no graph");
  Status status = LoadExternalInGraph(*model.mutable_graph(), fs::path(path).parent_path());
  if (!status.ok()) return Status(status.code(), "ONNX model " + path + ": " + status.message());
  return model;
}

Result<int64_t> DefaultOpset(const onnx::ModelProto& model, const std::string& label) {
  for (const auto& op : model.opset_import()) {
    if (!op.domain().empty() && op.domain() != "ai.onnx") continue;
    if (op.version() < kMinOpset || op.version() > kMaxOpset) {
      return InvalidArgument(label + ": ONNX opset " + std::to_string(op.version()) +
                             " is not supported (supported: " + std::to_string(kMinOpset) +
                             " to " + std::to_string(kMaxOpset) + ")");
    }
    return op.version();
  }
  return InvalidArgument(label + ": the model imports no default-domain ONNX opset");
}

std::optional<DataType> FromOnnxType(int elem_type) {
  switch (elem_type) {
    case onnx::TensorProto::FLOAT: return DataType::kFp32;
    case onnx::TensorProto::UINT8: return DataType::kUint8;
    case onnx::TensorProto::INT8: return DataType::kInt8;
    case onnx::TensorProto::UINT16: return DataType::kUint16;
    case onnx::TensorProto::INT16: return DataType::kInt16;
    case onnx::TensorProto::INT32: return DataType::kInt32;
    case onnx::TensorProto::INT64: return DataType::kInt64;
    case onnx::TensorProto::BOOL: return DataType::kBool;
    case onnx::TensorProto::FLOAT16: return DataType::kFp16;
    case onnx::TensorProto::DOUBLE: return DataType::kFp64;
    case onnx::TensorProto::UINT32: return DataType::kUint32;
    case onnx::TensorProto::UINT64: return DataType::kUint64;
    case onnx::TensorProto::BFLOAT16: return DataType::kBf16;
    case onnx::TensorProto::STRING: return DataType::kBytes;
    default: return std::nullopt;
  }
}

Result<ModelSignature> OnnxSignature(const onnx::ModelProto& model, const std::string& label) {
  const auto& graph = model.graph();
  std::set<std::string> initializers;
  for (const auto& init : graph.initializer()) initializers.insert(init.name());
  ModelSignature signature;
  for (const auto& in : graph.input()) {
    if (initializers.count(in.name())) continue;
    TESSERA_ASSIGN_OR_RETURN(TensorInfo info, InfoOf(in, label));
    signature.inputs.push_back(std::move(info));
  }
  for (const auto& out : graph.output()) {
    TESSERA_ASSIGN_OR_RETURN(TensorInfo info, InfoOf(out, label));
    signature.outputs.push_back(std::move(info));
  }
  return signature;
}

}  // namespace tessera::onnx_import
