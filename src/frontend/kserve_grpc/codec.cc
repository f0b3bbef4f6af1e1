#include "frontend/kserve_grpc/codec.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <string_view>
#include <type_traits>
#include <unordered_set>
#include <utility>
#include <vector>

#include "frontend/repeated_values.h"

namespace tessera::kserve_grpc {
namespace {

using frontend::CopyRepeatedValues;
using frontend::ValuesTarget;

using inference::InferTensorContents;
using inference::ModelInferRequest;
using InputTensor = inference::ModelInferRequest::InferInputTensor;

std::string Quote(std::string_view s) { return "'" + std::string(s) + "'"; }

// The typed field of InferTensorContents that carries each datatype.
enum class ContentsField { kBool, kInt, kInt64, kUint, kUint64, kFp32, kFp64, kBytes, kNone };

constexpr ContentsField kAllFields[] = {
    ContentsField::kBool,   ContentsField::kInt,  ContentsField::kInt64,
    ContentsField::kUint,   ContentsField::kUint64, ContentsField::kFp32,
    ContentsField::kFp64,   ContentsField::kBytes,
};

ContentsField FieldFor(DataType type) {
  switch (type) {
    case DataType::kBool: return ContentsField::kBool;
    case DataType::kInt8:
    case DataType::kInt16:
    case DataType::kInt32: return ContentsField::kInt;
    case DataType::kInt64: return ContentsField::kInt64;
    case DataType::kUint8:
    case DataType::kUint16:
    case DataType::kUint32: return ContentsField::kUint;
    case DataType::kUint64: return ContentsField::kUint64;
    case DataType::kFp32: return ContentsField::kFp32;
    case DataType::kFp64: return ContentsField::kFp64;
    case DataType::kBytes: return ContentsField::kBytes;
    default: return ContentsField::kNone;  // FP16, BF16: raw only
  }
}

const char* FieldName(ContentsField field) {
  switch (field) {
    case ContentsField::kBool: return "bool_contents";
    case ContentsField::kInt: return "int_contents";
    case ContentsField::kInt64: return "int64_contents";
    case ContentsField::kUint: return "uint_contents";
    case ContentsField::kUint64: return "uint64_contents";
    case ContentsField::kFp32: return "fp32_contents";
    case ContentsField::kFp64: return "fp64_contents";
    case ContentsField::kBytes: return "bytes_contents";
    case ContentsField::kNone: break;
  }
  return "none";
}

int FieldSize(const InferTensorContents& c, ContentsField field) {
  switch (field) {
    case ContentsField::kBool: return c.bool_contents_size();
    case ContentsField::kInt: return c.int_contents_size();
    case ContentsField::kInt64: return c.int64_contents_size();
    case ContentsField::kUint: return c.uint_contents_size();
    case ContentsField::kUint64: return c.uint64_contents_size();
    case ContentsField::kFp32: return c.fp32_contents_size();
    case ContentsField::kFp64: return c.fp64_contents_size();
    case ContentsField::kBytes: return c.bytes_contents_size();
    case ContentsField::kNone: break;
  }
  return 0;
}

Result<Tensor> TensorFromContents(const InputTensor& input, DataType type, const Shape& shape,
                                  int64_t element_count) {
  const std::string& name = input.name();
  const InferTensorContents& c = input.contents();
  const ContentsField expected = FieldFor(type);
  if (expected == ContentsField::kNone) {
    return InvalidArgument("Input " + Quote(name) + " of datatype " +
                           std::string(KServeName(type)) +
                           " must be sent in raw_input_contents: KServe has no typed contents "
                           "field for it");
  }
  for (ContentsField f : kAllFields) {
    if (f != expected && FieldSize(c, f) > 0) {
      return InvalidArgument("Input " + Quote(name) + " of datatype " +
                             std::string(KServeName(type)) + " expects its values in " +
                             FieldName(expected) + ", but " + FieldName(f) + " is set");
    }
  }
  const int actual = FieldSize(c, expected);
  if (actual != element_count) {
    return InvalidArgument("Input " + Quote(name) + " has " + std::to_string(actual) +
                           " values in " + FieldName(expected) + "; shape " +
                           ShapeToString(shape) + " needs " + std::to_string(element_count));
  }
  const ValuesTarget target{name, type, shape, "datatype " + std::string(KServeName(type))};
  switch (type) {
    case DataType::kBool: return CopyRepeatedValues<uint8_t>(target, c.bool_contents());
    case DataType::kInt8: return CopyRepeatedValues<int8_t>(target, c.int_contents());
    case DataType::kInt16: return CopyRepeatedValues<int16_t>(target, c.int_contents());
    case DataType::kInt32: return CopyRepeatedValues<int32_t>(target, c.int_contents());
    case DataType::kInt64: return CopyRepeatedValues<int64_t>(target, c.int64_contents());
    case DataType::kUint8: return CopyRepeatedValues<uint8_t>(target, c.uint_contents());
    case DataType::kUint16: return CopyRepeatedValues<uint16_t>(target, c.uint_contents());
    case DataType::kUint32: return CopyRepeatedValues<uint32_t>(target, c.uint_contents());
    case DataType::kUint64: return CopyRepeatedValues<uint64_t>(target, c.uint64_contents());
    case DataType::kFp32: return CopyRepeatedValues<float>(target, c.fp32_contents());
    case DataType::kFp64: return CopyRepeatedValues<double>(target, c.fp64_contents());
    case DataType::kBytes: {
      std::vector<std::string_view> elements(c.bytes_contents().begin(),
                                             c.bytes_contents().end());
      return Tensor::FromBytes(type, shape, JoinBytesElements(elements));
    }
    default: break;
  }
  return Internal("No contents conversion for datatype " + std::string(KServeName(type)));
}

// Wraps raw bytes without copying; `raw` lives inside the request message.
Result<Tensor> TensorFromRaw(const std::string& name, DataType type, const Shape& shape,
                             int64_t element_count, const std::string& raw) {
  if (type == DataType::kBytes) {
    auto tensor = BytesTensorFromRaw(shape, element_count, raw.data(), raw.size(), nullptr);
    if (!tensor.ok()) {
      return InvalidArgument("Invalid BYTES raw_input_contents of input " + Quote(name) + ": " +
                             tensor.status().message());
    }
    return tensor;
  }
  TESSERA_RETURN_IF_ERROR(CheckByteSize(name, type, shape, raw.size()));
  return Tensor::Borrow(type, shape, raw.data(), raw.size());
}

Result<DataType> ParseDatatype(const InputTensor& input) {
  auto type = DataTypeFromKServeName(input.datatype());
  if (!type) {
    return InvalidArgument("Unsupported datatype " + Quote(input.datatype()) + " of input " +
                           Quote(input.name()));
  }
  return *type;
}

// Shape plus its element count. Besides negative dims, rejects shapes whose
// byte size overflows: a wrapped product could otherwise "match" a short
// buffer.
Result<std::pair<Shape, int64_t>> ParseShape(const InputTensor& input, DataType type) {
  Shape shape(input.shape().begin(), input.shape().end());
  for (int64_t dim : shape) {
    if (dim < 0) {
      return InvalidArgument("Invalid shape " + ShapeToString(shape) + " of input " +
                             Quote(input.name()) + ": dimensions must not be negative");
    }
  }
  auto count = ElementCount(shape);
  const size_t element_size = std::max<size_t>(ElementSize(type), 1);
  if (!count || static_cast<uint64_t>(*count) >
                    static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) / element_size) {
    return InvalidArgument("Invalid shape " + ShapeToString(shape) + " of input " +
                           Quote(input.name()) + ": too many elements");
  }
  return std::make_pair(std::move(shape), *count);
}

}  // namespace

Result<std::chrono::microseconds> DecodeTimeout(const ModelInferRequest& request) {
  auto it = request.parameters().find("timeout");
  if (it == request.parameters().end()) return std::chrono::microseconds::zero();
  const inference::InferParameter& p = it->second;
  using Choice = inference::InferParameter::ParameterChoiceCase;
  if (p.parameter_choice_case() == Choice::kInt64Param && p.int64_param() >= 0) {
    return std::chrono::microseconds(p.int64_param());
  }
  if (p.parameter_choice_case() == Choice::kUint64Param) {
    constexpr uint64_t kMax = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
    return std::chrono::microseconds(static_cast<int64_t>(std::min(p.uint64_param(), kMax)));
  }
  return InvalidArgument("Invalid parameter 'timeout': expected a non-negative integer (microseconds)");
}

Result<InferRequest> DecodeInferRequest(const ModelInferRequest& request) {
  InferRequest out;
  out.model_name = request.model_name();
  TESSERA_ASSIGN_OR_RETURN(out.model_version, ParseModelVersion(request.model_version(), /*empty_is_default=*/true));
  out.id = request.id();
  TESSERA_ASSIGN_OR_RETURN(auto timeout, DecodeTimeout(request));
  out.deadline = DeadlineAfter(timeout);

  const bool raw = request.raw_input_contents_size() > 0;
  if (raw && request.raw_input_contents_size() != request.inputs_size()) {
    return InvalidArgument("Request has " + std::to_string(request.raw_input_contents_size()) +
                           " raw_input_contents for " + std::to_string(request.inputs_size()) +
                           " inputs; there must be one per input");
  }

  std::unordered_set<std::string_view> seen;
  out.inputs.reserve(request.inputs_size());
  for (int i = 0; i < request.inputs_size(); ++i) {
    const InputTensor& input = request.inputs(i);
    if (!seen.insert(input.name()).second) {
      return InvalidArgument("Input " + Quote(input.name()) + " appears more than once");
    }
    TESSERA_ASSIGN_OR_RETURN(DataType type, ParseDatatype(input));
    TESSERA_ASSIGN_OR_RETURN(auto shape_and_count, ParseShape(input, type));
    auto& [shape, count] = shape_and_count;

    Tensor tensor;
    if (raw) {
      if (input.has_contents()) {
        return InvalidArgument("Input " + Quote(input.name()) +
                               " has contents while the request uses raw_input_contents; "
                               "one request must not mix both");
      }
      TESSERA_ASSIGN_OR_RETURN(
          tensor, TensorFromRaw(input.name(), type, shape, count, request.raw_input_contents(i)));
    } else if (input.has_contents()) {
      TESSERA_ASSIGN_OR_RETURN(tensor, TensorFromContents(input, type, shape, count));
    } else if (count == 0) {
      tensor = type == DataType::kBytes ? Tensor::FromBytes(type, shape, "")
                                        : Tensor::Allocate(type, shape);
    } else {
      return InvalidArgument("Input " + Quote(input.name()) +
                             " has no data: set its contents or raw_input_contents");
    }
    out.inputs.push_back(NamedTensor{input.name(), std::move(tensor)});
  }

  out.requested_outputs.reserve(request.outputs_size());
  for (const auto& output : request.outputs()) out.requested_outputs.push_back(output.name());
  return out;
}

Status EncodeInferResponse(const InferResponse& response, inference::ModelInferResponse* out) {
  out->set_model_name(response.model_name);
  out->set_model_version(response.model_version > 0 ? std::to_string(response.model_version)
                                                    : std::string());
  out->set_id(response.id);
  for (const NamedTensor& output : response.outputs) {
    const Tensor& t = output.tensor;
    if (t.dtype() == DataType::kInvalid) {
      return Internal("Output " + Quote(output.name) + " has no valid datatype");
    }
    if (t.dtype() != DataType::kBytes) {
      Status size = CheckByteSize(output.name, t.dtype(), t.shape(), t.byte_size());
      if (!size.ok()) return Internal("Inconsistent output: " + size.message());
    }
    auto* meta = out->add_outputs();
    meta->set_name(output.name);
    meta->set_datatype(std::string(KServeName(t.dtype())));
    for (int64_t dim : t.shape()) meta->add_shape(dim);
    out->add_raw_output_contents(reinterpret_cast<const char*>(t.data()), t.byte_size());
  }
  return Status::Ok();
}

namespace {

void EncodeTensorMetadata(const TensorInfo& info,
                          inference::ModelMetadataResponse::TensorMetadata* out) {
  out->set_name(info.name);
  out->set_datatype(std::string(KServeName(info.dtype)));
  for (int64_t dim : info.shape) out->add_shape(dim);
}

}  // namespace

void EncodeModelMetadata(const ModelMetadata& metadata, inference::ModelMetadataResponse* out) {
  out->set_name(metadata.name);
  for (int64_t v : metadata.versions) out->add_versions(std::to_string(v));
  // A service that fills only `version` still names the version it described.
  if (metadata.versions.empty() && metadata.version > 0) {
    out->add_versions(std::to_string(metadata.version));
  }
  out->set_platform(metadata.platform);
  for (const auto& input : metadata.signature.inputs) EncodeTensorMetadata(input, out->add_inputs());
  for (const auto& output : metadata.signature.outputs) {
    EncodeTensorMetadata(output, out->add_outputs());
  }
}

void EncodeServerMetadata(const ServerMetadata& metadata,
                          inference::ServerMetadataResponse* out) {
  out->set_name(metadata.name);
  out->set_version(metadata.version);
  for (const auto& ext : metadata.extensions) out->add_extensions(ext);
}

}  // namespace tessera::kserve_grpc
