#include "frontend/tfs_grpc/codec.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <string_view>
#include <type_traits>
#include <unordered_set>
#include <utility>

#include "frontend/repeated_values.h"

namespace tessera::tfs_grpc {
namespace {

using frontend::CopyRepeatedValues;
using frontend::ValuesTarget;

using tensorflow::TensorProto;
using tensorflow::TensorShapeProto;

std::string Quote(std::string_view s) { return "'" + std::string(s) + "'"; }

std::string TfTypeName(int tf_type) {
  const std::string& name =
      tensorflow::DataType_IsValid(tf_type)
          ? tensorflow::DataType_Name(static_cast<tensorflow::DataType>(tf_type))
          : std::string();
  return name.empty() ? "dtype " + std::to_string(tf_type) : name;
}

// The typed value fields of TensorProto.
enum class ValField {
  kHalf, kFloat, kDouble, kInt, kString, kScomplex, kInt64, kBool, kDcomplex,
  kResource, kVariant, kUint32, kUint64, kNone,
};

constexpr ValField kAllValFields[] = {
    ValField::kHalf,     ValField::kFloat,    ValField::kDouble,  ValField::kInt,
    ValField::kString,   ValField::kScomplex, ValField::kInt64,   ValField::kBool,
    ValField::kDcomplex, ValField::kResource, ValField::kVariant, ValField::kUint32,
    ValField::kUint64,
};

ValField FieldFor(DataType type) {
  switch (type) {
    case DataType::kFp16:
    case DataType::kBf16: return ValField::kHalf;
    case DataType::kFp32: return ValField::kFloat;
    case DataType::kFp64: return ValField::kDouble;
    case DataType::kInt8:
    case DataType::kInt16:
    case DataType::kInt32:
    case DataType::kUint8:
    case DataType::kUint16: return ValField::kInt;
    case DataType::kInt64: return ValField::kInt64;
    case DataType::kBool: return ValField::kBool;
    case DataType::kBytes: return ValField::kString;
    case DataType::kUint32: return ValField::kUint32;
    case DataType::kUint64: return ValField::kUint64;
    case DataType::kInvalid: break;
  }
  return ValField::kNone;
}

const char* FieldName(ValField field) {
  switch (field) {
    case ValField::kHalf: return "half_val";
    case ValField::kFloat: return "float_val";
    case ValField::kDouble: return "double_val";
    case ValField::kInt: return "int_val";
    case ValField::kString: return "string_val";
    case ValField::kScomplex: return "scomplex_val";
    case ValField::kInt64: return "int64_val";
    case ValField::kBool: return "bool_val";
    case ValField::kDcomplex: return "dcomplex_val";
    case ValField::kResource: return "resource_handle_val";
    case ValField::kVariant: return "variant_val";
    case ValField::kUint32: return "uint32_val";
    case ValField::kUint64: return "uint64_val";
    case ValField::kNone: break;
  }
  return "none";
}

int FieldSize(const TensorProto& p, ValField field) {
  switch (field) {
    case ValField::kHalf: return p.half_val_size();
    case ValField::kFloat: return p.float_val_size();
    case ValField::kDouble: return p.double_val_size();
    case ValField::kInt: return p.int_val_size();
    case ValField::kString: return p.string_val_size();
    case ValField::kScomplex: return p.scomplex_val_size();
    case ValField::kInt64: return p.int64_val_size();
    case ValField::kBool: return p.bool_val_size();
    case ValField::kDcomplex: return p.dcomplex_val_size();
    case ValField::kResource: return p.resource_handle_val_size();
    case ValField::kVariant: return p.variant_val_size();
    case ValField::kUint32: return p.uint32_val_size();
    case ValField::kUint64: return p.uint64_val_size();
    case ValField::kNone: break;
  }
  return 0;
}

// The first typed field other than `except` that holds values, if any.
std::optional<ValField> OtherFieldSet(const TensorProto& p, ValField except) {
  for (ValField f : kAllValFields) {
    if (f != except && FieldSize(p, f) > 0) return f;
  }
  return std::nullopt;
}

Result<Tensor> TensorFromValues(const std::string& name, const TensorProto& p, DataType type,
                                const Shape& shape) {
  const ValuesTarget target{name, type, shape, TfTypeName(ToTfDataType(type))};
  switch (type) {
    case DataType::kFp16:
    case DataType::kBf16: return CopyRepeatedValues<uint16_t>(target, p.half_val());
    case DataType::kFp32: return CopyRepeatedValues<float>(target, p.float_val());
    case DataType::kFp64: return CopyRepeatedValues<double>(target, p.double_val());
    case DataType::kInt8: return CopyRepeatedValues<int8_t>(target, p.int_val());
    case DataType::kInt16: return CopyRepeatedValues<int16_t>(target, p.int_val());
    case DataType::kInt32: return CopyRepeatedValues<int32_t>(target, p.int_val());
    case DataType::kUint8: return CopyRepeatedValues<uint8_t>(target, p.int_val());
    case DataType::kUint16: return CopyRepeatedValues<uint16_t>(target, p.int_val());
    case DataType::kInt64: return CopyRepeatedValues<int64_t>(target, p.int64_val());
    case DataType::kBool: return CopyRepeatedValues<uint8_t>(target, p.bool_val());
    case DataType::kUint32: return CopyRepeatedValues<uint32_t>(target, p.uint32_val());
    case DataType::kUint64: return CopyRepeatedValues<uint64_t>(target, p.uint64_val());
    case DataType::kBytes: {
      std::vector<std::string_view> elements(p.string_val().begin(), p.string_val().end());
      return Tensor::FromBytes(type, shape, JoinBytesElements(elements));
    }
    case DataType::kInvalid: break;
  }
  return Internal("No value conversion for input " + Quote(name));
}

Result<DataType> DecodeDataType(const std::string& name, const TensorProto& p) {
  if (p.dtype() == tensorflow::DT_INVALID) {
    return InvalidArgument("Input " + Quote(name) + " has no dtype");
  }
  auto type = FromTfDataType(p.dtype());
  if (!type) {
    return InvalidArgument("Unsupported dtype " + TfTypeName(p.dtype()) + " of input " +
                           Quote(name));
  }
  return *type;
}

// Shape plus element count. Besides negative dims, rejects shapes whose byte
// size overflows: a wrapped product could otherwise "match" a short buffer.
Result<std::pair<Shape, int64_t>> DecodeShape(const std::string& name,
                                              const TensorShapeProto& proto, DataType type) {
  if (proto.unknown_rank()) {
    return InvalidArgument("Input " + Quote(name) +
                           " has tensor_shape.unknown_rank set; the shape must be known");
  }
  Shape shape;
  shape.reserve(proto.dim_size());
  for (const auto& dim : proto.dim()) shape.push_back(dim.size());
  for (int64_t dim : shape) {
    if (dim < 0) {
      return InvalidArgument("Invalid shape " + ShapeToString(shape) + " of input " +
                             Quote(name) + ": dimensions must not be negative");
    }
  }
  auto count = ElementCount(shape);
  const size_t element_size = std::max<size_t>(ElementSize(type), 1);
  if (!count || static_cast<uint64_t>(*count) >
                    static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) / element_size) {
    return InvalidArgument("Invalid shape " + ShapeToString(shape) + " of input " + Quote(name) +
                           ": too many elements");
  }
  return std::make_pair(std::move(shape), *count);
}

Result<Tensor> TensorFromContent(const std::string& name, const TensorProto& p, DataType type,
                                 const Shape& shape) {
  if (type == DataType::kBytes) {
    return InvalidArgument("Input " + Quote(name) +
                           " of dtype DT_STRING must send its values in string_val, not "
                           "tensor_content");
  }
  if (auto other = OtherFieldSet(p, ValField::kNone)) {
    return InvalidArgument("Input " + Quote(name) + " sets both tensor_content and " +
                           FieldName(*other) + "; use one of them");
  }
  TESSERA_RETURN_IF_ERROR(CheckByteSize(name, type, shape, p.tensor_content().size()));
  return Tensor::Borrow(type, shape, p.tensor_content().data(), p.tensor_content().size());
}

Result<Tensor> TensorFromTypedField(const std::string& name, const TensorProto& p,
                                    DataType type, const Shape& shape, int64_t count) {
  const ValField expected = FieldFor(type);
  const std::string tf_name = TfTypeName(p.dtype());
  if (auto other = OtherFieldSet(p, expected)) {
    return InvalidArgument("Input " + Quote(name) + " of dtype " + tf_name +
                           " expects its values in " + FieldName(expected) +
                           (type == DataType::kBytes ? "" : " or tensor_content") + ", but " +
                           FieldName(*other) + " is set");
  }
  const int actual = FieldSize(p, expected);
  if (actual == 0 && count > 0) {
    return InvalidArgument("Input " + Quote(name) + " has no data: shape " +
                           ShapeToString(shape) + " needs " + std::to_string(count) +
                           " values in " +
                           (type == DataType::kBytes ? "string_val"
                                                     : std::string("tensor_content or ") +
                                                           FieldName(expected)));
  }
  if (actual != count) {
    return InvalidArgument("Input " + Quote(name) + " has " + std::to_string(actual) +
                           " values in " + FieldName(expected) + "; shape " +
                           ShapeToString(shape) + " needs " + std::to_string(count));
  }
  return TensorFromValues(name, p, type, shape);
}

void EncodeTensorShape(const Shape& shape, TensorShapeProto* out) {
  for (int64_t dim : shape) out->add_dim()->set_size(dim);
}

tensorflow::TensorInfo MakeTensorInfo(const TensorInfo& info) {
  tensorflow::TensorInfo out;
  out.set_name(info.name);
  out.set_dtype(ToTfDataType(info.dtype));
  EncodeTensorShape(info.shape, out.mutable_tensor_shape());
  return out;
}

}  // namespace

std::optional<DataType> FromTfDataType(int tf_type) {
  switch (tf_type) {
    case tensorflow::DT_FLOAT: return DataType::kFp32;
    case tensorflow::DT_DOUBLE: return DataType::kFp64;
    case tensorflow::DT_INT32: return DataType::kInt32;
    case tensorflow::DT_UINT8: return DataType::kUint8;
    case tensorflow::DT_INT16: return DataType::kInt16;
    case tensorflow::DT_INT8: return DataType::kInt8;
    case tensorflow::DT_STRING: return DataType::kBytes;
    case tensorflow::DT_INT64: return DataType::kInt64;
    case tensorflow::DT_BOOL: return DataType::kBool;
    case tensorflow::DT_BFLOAT16: return DataType::kBf16;
    case tensorflow::DT_UINT16: return DataType::kUint16;
    case tensorflow::DT_HALF: return DataType::kFp16;
    case tensorflow::DT_UINT32: return DataType::kUint32;
    case tensorflow::DT_UINT64: return DataType::kUint64;
    default: return std::nullopt;
  }
}

tensorflow::DataType ToTfDataType(DataType type) {
  switch (type) {
    case DataType::kBool: return tensorflow::DT_BOOL;
    case DataType::kUint8: return tensorflow::DT_UINT8;
    case DataType::kUint16: return tensorflow::DT_UINT16;
    case DataType::kUint32: return tensorflow::DT_UINT32;
    case DataType::kUint64: return tensorflow::DT_UINT64;
    case DataType::kInt8: return tensorflow::DT_INT8;
    case DataType::kInt16: return tensorflow::DT_INT16;
    case DataType::kInt32: return tensorflow::DT_INT32;
    case DataType::kInt64: return tensorflow::DT_INT64;
    case DataType::kFp16: return tensorflow::DT_HALF;
    case DataType::kBf16: return tensorflow::DT_BFLOAT16;
    case DataType::kFp32: return tensorflow::DT_FLOAT;
    case DataType::kFp64: return tensorflow::DT_DOUBLE;
    case DataType::kBytes: return tensorflow::DT_STRING;
    case DataType::kInvalid: break;
  }
  return tensorflow::DT_INVALID;
}

Result<int64_t> DecodeModelVersion(const tensorflow::serving::ModelSpec& spec) {
  if (spec.version_choice_case() == tensorflow::serving::ModelSpec::kVersionLabel &&
      !spec.version_label().empty()) {
    return InvalidArgument("version_label is not supported; use version");
  }
  if (spec.has_version()) return spec.version().value();
  return kDefaultVersion;
}

Result<Tensor> DecodeTensor(const std::string& name, const TensorProto& proto) {
  TESSERA_ASSIGN_OR_RETURN(DataType type, DecodeDataType(name, proto));
  TESSERA_ASSIGN_OR_RETURN(auto shape_and_count, DecodeShape(name, proto.tensor_shape(), type));
  auto& [shape, count] = shape_and_count;
  if (!proto.tensor_content().empty()) return TensorFromContent(name, proto, type, shape);
  return TensorFromTypedField(name, proto, type, shape, count);
}

Result<InferRequest> DecodePredictRequest(const tensorflow::serving::PredictRequest& request) {
  InferRequest out;
  out.model_name = request.model_spec().name();
  TESSERA_ASSIGN_OR_RETURN(out.model_version, DecodeModelVersion(request.model_spec()));

  std::vector<const std::string*> names;
  names.reserve(request.inputs_size());
  for (const auto& [name, proto] : request.inputs()) names.push_back(&name);
  std::sort(names.begin(), names.end(),
            [](const std::string* a, const std::string* b) { return *a < *b; });
  out.inputs.reserve(names.size());
  for (const std::string* name : names) {
    TESSERA_ASSIGN_OR_RETURN(Tensor tensor, DecodeTensor(*name, request.inputs().at(*name)));
    out.inputs.push_back(NamedTensor{*name, std::move(tensor)});
  }

  std::unordered_set<std::string_view> seen;
  out.requested_outputs.reserve(request.output_filter_size());
  for (const std::string& name : request.output_filter()) {
    if (!seen.insert(name).second) {
      return InvalidArgument("Output " + Quote(name) + " appears more than once in output_filter");
    }
    out.requested_outputs.push_back(name);
  }
  return out;
}

Status EncodeTensor(const std::string& name, const Tensor& tensor, TensorProto* out) {
  const DataType type = tensor.dtype();
  if (type == DataType::kInvalid) {
    return Internal("Output " + Quote(name) + " has no valid datatype");
  }
  out->set_dtype(ToTfDataType(type));
  EncodeTensorShape(tensor.shape(), out->mutable_tensor_shape());
  if (type == DataType::kBytes) {
    auto elements = SplitBytesElements(tensor.data(), tensor.byte_size());
    if (!elements.ok()) {
      return Internal("Output " + Quote(name) + ": " + elements.status().message());
    }
    if (static_cast<int64_t>(elements->size()) != tensor.element_count()) {
      return Internal("Output " + Quote(name) + " has " + std::to_string(elements->size()) +
                      " BYTES elements; its shape " + ShapeToString(tensor.shape()) +
                      " needs " + std::to_string(tensor.element_count()));
    }
    for (std::string_view e : *elements) out->add_string_val(e.data(), e.size());
    return Status::Ok();
  }
  Status size = CheckByteSize(name, type, tensor.shape(), tensor.byte_size());
  if (!size.ok()) return Internal("Inconsistent output: " + size.message());
  out->set_tensor_content(reinterpret_cast<const char*>(tensor.data()), tensor.byte_size());
  return Status::Ok();
}

Status EncodePredictResponse(const InferResponse& response, const std::string& fallback_name,
                             tensorflow::serving::PredictResponse* out) {
  auto* spec = out->mutable_model_spec();
  spec->set_name(response.model_name.empty() ? fallback_name : response.model_name);
  if (response.model_version > 0) spec->mutable_version()->set_value(response.model_version);
  spec->set_signature_name(kDefaultSignatureName);
  auto& outputs = *out->mutable_outputs();
  for (const NamedTensor& output : response.outputs) {
    if (outputs.count(output.name)) {
      return Internal("Output " + Quote(output.name) + " is returned twice");
    }
    TESSERA_RETURN_IF_ERROR(EncodeTensor(output.name, output.tensor, &outputs[output.name]));
  }
  return Status::Ok();
}

Status CheckMetadataFields(const tensorflow::serving::GetModelMetadataRequest& request) {
  if (request.metadata_field_size() != 1 || request.metadata_field(0) != kSignatureDefField) {
    return InvalidArgument("Invalid signature name");
  }
  return Status::Ok();
}

tensorflow::serving::SignatureDefMap MakeSignatureDefMap(const ModelSignature& signature) {
  tensorflow::serving::SignatureDefMap map;
  tensorflow::SignatureDef& def = (*map.mutable_signature_def())[kDefaultSignatureName];
  for (const auto& input : signature.inputs) {
    (*def.mutable_inputs())[input.name] = MakeTensorInfo(input);
  }
  for (const auto& output : signature.outputs) {
    (*def.mutable_outputs())[output.name] = MakeTensorInfo(output);
  }
  def.set_method_name(kPredictMethodName);
  return map;
}

void EncodeModelMetadata(const ModelMetadata& metadata,
                         tensorflow::serving::GetModelMetadataResponse* out) {
  auto* spec = out->mutable_model_spec();
  spec->set_name(metadata.name);
  if (metadata.version > 0) spec->mutable_version()->set_value(metadata.version);
  (*out->mutable_metadata())[kSignatureDefField].PackFrom(
      MakeSignatureDefMap(metadata.signature));
}

void EncodeStatus(const Status& status, tensorflow::serving::StatusProto* out) {
  // StatusCode and tensorflow.error.Code share gRPC's numbering.
  out->set_error_code(static_cast<tensorflow::error::Code>(status.code()));
  out->set_error_message(status.ok() ? std::string() : status.message());
}

void EncodeModelStatus(const std::vector<VersionStatus>& statuses,
                       tensorflow::serving::GetModelStatusResponse* out) {
  for (const auto& s : statuses) {
    auto* entry = out->add_model_version_status();
    entry->set_version(s.version);
    // VersionState uses ModelVersionStatus.State's numbers.
    entry->set_state(static_cast<tensorflow::serving::ModelVersionStatus::State>(s.state));
    EncodeStatus(s.status, entry->mutable_status());
  }
}

Result<std::vector<ModelSource>> DecodeModelServerConfig(
    const tensorflow::serving::ModelServerConfig& config) {
  using tensorflow::serving::ModelServerConfig;
  if (config.config_case() == ModelServerConfig::kCustomModelConfig) {
    return Unimplemented("custom_model_config is not supported; send model_config_list");
  }
  if (config.config_case() != ModelServerConfig::kModelConfigList) {
    return InvalidArgument("ModelServerConfig has no model_config_list");
  }
  std::vector<ModelSource> models;
  models.reserve(config.model_config_list().config_size());
  for (const auto& model : config.model_config_list().config()) {
    if (model.has_model_version_policy()) {
      return Unimplemented("model_version_policy of model " + Quote(model.name()) +
                           " cannot be set through HandleReloadConfigRequest; set it in the "
                           "config file");
    }
    if (!model.version_labels().empty()) {
      return Unimplemented("version_labels of model " + Quote(model.name()) +
                           " are not supported");
    }
    models.push_back(ModelSource{model.name(), model.base_path(), model.model_platform()});
  }
  return models;
}

}  // namespace tessera::tfs_grpc
