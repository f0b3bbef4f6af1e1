#include "backend/torch/signature_json.h"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <set>
#include <vector>

#include "common/json_depth.h"

namespace tessera {
namespace {

using rapidjson::Value;

Status Invalid(const std::string& source, const std::string& where, const std::string& what) {
  return InvalidArgument(source + ": " + where + ": " + what);
}

Result<Shape> ParseShape(const Value& value, const std::string& source, const std::string& where) {
  if (!value.IsArray()) return Invalid(source, where, "\"shape\" must be an array of integers");
  Shape shape;
  for (rapidjson::SizeType i = 0; i < value.Size(); ++i) {
    const Value& dim = value[i];
    if (!dim.IsInt64()) {
      return Invalid(source, where, "\"shape\"[" + std::to_string(i) + "] is not an integer");
    }
    if (dim.GetInt64() < kDynamicDim) {
      return Invalid(source, where,
                     "\"shape\"[" + std::to_string(i) + "] is " + std::to_string(dim.GetInt64()) +
                         "; dims must be >= 0, or -1 for a dynamic dim");
    }
    shape.push_back(dim.GetInt64());
  }
  return shape;
}

Result<TensorInfo> ParseTensorInfo(const Value& entry, const std::string& source,
                                   const std::string& where) {
  if (!entry.IsObject()) return Invalid(source, where, "must be an object");
  for (auto it = entry.MemberBegin(); it != entry.MemberEnd(); ++it) {
    std::string_view key(it->name.GetString(), it->name.GetStringLength());
    if (key != "name" && key != "datatype" && key != "shape") {
      return Invalid(source, where,
                     "unknown key \"" + std::string(key) + "\" (expected name, datatype, shape)");
    }
  }
  TensorInfo info;
  auto name = entry.FindMember("name");
  if (name == entry.MemberEnd() || !name->value.IsString() || name->value.GetStringLength() == 0) {
    return Invalid(source, where, "\"name\" must be a non-empty string");
  }
  info.name.assign(name->value.GetString(), name->value.GetStringLength());

  const std::string named = where + " (\"" + info.name + "\")";
  auto datatype = entry.FindMember("datatype");
  if (datatype == entry.MemberEnd() || !datatype->value.IsString()) {
    return Invalid(source, named, "\"datatype\" must be a string such as \"FP32\"");
  }
  std::string_view type_name(datatype->value.GetString(), datatype->value.GetStringLength());
  auto type = DataTypeFromKServeName(type_name);
  if (!type) {
    return Invalid(source, named, "unknown datatype \"" + std::string(type_name) + "\"");
  }
  if (!IsTorchCompatibleType(*type)) {
    return Invalid(source, named,
                   "datatype " + std::string(type_name) +
                       " is not supported by TorchScript models (use BOOL, UINT8, INT8, INT16, "
                       "INT32, INT64, FP16, BF16, FP32 or FP64)");
  }
  info.dtype = *type;

  auto shape = entry.FindMember("shape");
  if (shape != entry.MemberEnd()) {
    TESSERA_ASSIGN_OR_RETURN(info.shape, ParseShape(shape->value, source, named));
  }
  return info;
}

Result<std::vector<TensorInfo>> ParseTensorList(const Value& root, const char* key,
                                                const std::string& source) {
  auto member = root.FindMember(key);
  if (member == root.MemberEnd()) {
    return InvalidArgument(source + ": missing \"" + key + "\" array");
  }
  if (!member->value.IsArray() || member->value.Empty()) {
    return InvalidArgument(source + ": \"" + key + "\" must be a non-empty array");
  }
  std::vector<TensorInfo> infos;
  std::set<std::string> seen;
  for (rapidjson::SizeType i = 0; i < member->value.Size(); ++i) {
    std::string where = std::string(key) + "[" + std::to_string(i) + "]";
    TESSERA_ASSIGN_OR_RETURN(TensorInfo info, ParseTensorInfo(member->value[i], source, where));
    if (!seen.insert(info.name).second) {
      return Invalid(source, where, "duplicate name \"" + info.name + "\"");
    }
    infos.push_back(std::move(info));
  }
  return infos;
}

}  // namespace

bool IsTorchCompatibleType(DataType type) {
  switch (type) {
    case DataType::kBool:
    case DataType::kUint8:
    case DataType::kInt8:
    case DataType::kInt16:
    case DataType::kInt32:
    case DataType::kInt64:
    case DataType::kFp16:
    case DataType::kBf16:
    case DataType::kFp32:
    case DataType::kFp64:
      return true;
    default:
      return false;
  }
}

Result<ModelSignature> ParseSignatureJson(std::string_view json, const std::string& source) {
  rapidjson::Document doc;
  JsonDocumentParse parse = ParseJsonDocument(json, doc);
  if (!parse.ok()) {
    return InvalidArgument(source + ": invalid JSON at offset " +
                           std::to_string(parse.result.Offset()) + ": " +
                           (parse.too_deep ? JsonNestingReason()
                                           : rapidjson::GetParseError_En(parse.result.Code())));
  }
  if (!doc.IsObject()) {
    return InvalidArgument(source + ": top level must be an object with \"inputs\" and \"outputs\"");
  }
  for (auto it = doc.MemberBegin(); it != doc.MemberEnd(); ++it) {
    std::string_view key(it->name.GetString(), it->name.GetStringLength());
    if (key != "inputs" && key != "outputs") {
      return InvalidArgument(source + ": unknown top-level key \"" + std::string(key) +
                             "\" (expected inputs, outputs)");
    }
  }
  ModelSignature signature;
  TESSERA_ASSIGN_OR_RETURN(signature.inputs, ParseTensorList(doc, "inputs", source));
  TESSERA_ASSIGN_OR_RETURN(signature.outputs, ParseTensorList(doc, "outputs", source));
  return signature;
}

}  // namespace tessera
