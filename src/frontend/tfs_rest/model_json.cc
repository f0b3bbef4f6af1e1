#include "frontend/tfs_rest/model_json.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace tessera::tfs_rest {
namespace {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

void String(JsonWriter& w, std::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

void Key(JsonWriter& w, std::string_view s) {
  w.Key(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

void VersionStatusList(JsonWriter& w, const std::vector<VersionStatus>& versions) {
  w.StartObject();
  Key(w, "model_version_status");
  w.StartArray();
  for (const auto& v : versions) {
    w.StartObject();
    Key(w, "version");
    String(w, std::to_string(v.version));
    Key(w, "state");
    String(w, VersionStateName(v.state));
    Key(w, "status");
    w.StartObject();
    Key(w, "error_code");
    String(w, StatusCodeName(v.status.code()));
    Key(w, "error_message");
    String(w, v.status.message());
    w.EndObject();
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
}

void TensorInfoMap(JsonWriter& w, const std::vector<TensorInfo>& tensors) {
  w.StartObject();
  for (const auto& t : tensors) {
    Key(w, t.name);
    w.StartObject();
    Key(w, "name");
    String(w, t.name);
    Key(w, "dtype");
    String(w, TfDataTypeName(t.dtype));
    Key(w, "tensor_shape");
    w.StartObject();
    Key(w, "dim");
    w.StartArray();
    for (int64_t d : t.shape) {
      w.StartObject();
      Key(w, "size");
      String(w, std::to_string(d));
      Key(w, "name");
      String(w, "");
      w.EndObject();
    }
    w.EndArray();
    Key(w, "unknown_rank");
    w.Bool(t.shape.empty());
    w.EndObject();
    w.EndObject();
  }
  w.EndObject();
}

std::string Done(const rapidjson::StringBuffer& buffer) {
  return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace

std::string_view TfDataTypeName(DataType type) {
  switch (type) {
    case DataType::kBool: return "DT_BOOL";
    case DataType::kUint8: return "DT_UINT8";
    case DataType::kUint16: return "DT_UINT16";
    case DataType::kUint32: return "DT_UINT32";
    case DataType::kUint64: return "DT_UINT64";
    case DataType::kInt8: return "DT_INT8";
    case DataType::kInt16: return "DT_INT16";
    case DataType::kInt32: return "DT_INT32";
    case DataType::kInt64: return "DT_INT64";
    case DataType::kFp16: return "DT_HALF";
    case DataType::kBf16: return "DT_BFLOAT16";
    case DataType::kFp32: return "DT_FLOAT";
    case DataType::kFp64: return "DT_DOUBLE";
    case DataType::kBytes: return "DT_STRING";
    case DataType::kInvalid: break;
  }
  return "DT_INVALID";
}

std::string ModelStatusJson(const std::vector<VersionStatus>& versions) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  VersionStatusList(w, versions);
  return Done(buffer);
}

std::string ModelMetadataJson(const ModelMetadata& metadata) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  Key(w, "model_spec");
  w.StartObject();
  Key(w, "name");
  String(w, metadata.name);
  Key(w, "signature_name");
  String(w, "");
  Key(w, "version");
  String(w, std::to_string(metadata.version));
  w.EndObject();
  Key(w, "metadata");
  w.StartObject();
  Key(w, "signature_def");
  w.StartObject();
  Key(w, "signature_def");
  w.StartObject();
  Key(w, "serving_default");
  w.StartObject();
  Key(w, "inputs");
  TensorInfoMap(w, metadata.signature.inputs);
  Key(w, "outputs");
  TensorInfoMap(w, metadata.signature.outputs);
  Key(w, "method_name");
  String(w, "tensorflow/serving/predict");
  w.EndObject();  // serving_default
  w.EndObject();  // signature_def (map)
  w.EndObject();  // signature_def (SignatureDefMap)
  w.EndObject();  // metadata
  w.EndObject();
  return Done(buffer);
}

std::string ConfigStatusJson(const std::vector<ModelStatusEntry>& models) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  for (const auto& model : models) {
    Key(w, model.name);
    VersionStatusList(w, model.versions);
  }
  w.EndObject();
  return Done(buffer);
}

}  // namespace tessera::tfs_rest
