// Encoding half of the codec (codec.h): InferResponse and metadata to
// KServe v2 REST bodies.
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>

#include "frontend/kserve_rest/codec.h"
#include "tensor/half.h"

namespace tessera::kserve_rest {
namespace {

std::string Quote(std::string_view s) { return "'" + std::string(s) + "'"; }

// Validates UTF-8 so BYTES outputs that are not text are reported, not sent
// as invalid JSON.
using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer, rapidjson::UTF8<>, rapidjson::UTF8<>,
                                     rapidjson::CrtAllocator, rapidjson::kWriteValidateEncodingFlag>;

// Writes `s` as a JSON string; false if it is not valid UTF-8. RapidJSON's
// UTF-8 check reads all continuation bytes of a multi-byte sequence without
// looking at the length, so a string that ends inside a sequence would be
// read up to 3 bytes past its end: it is checked in a copy padded with NULs
// (which fail the check).
bool WriteString(JsonWriter& w, std::string_view s) {
  thread_local std::string padded;
  padded.assign(s);
  padded.append(3, '\0');
  return w.String(padded.data(), static_cast<rapidjson::SizeType>(s.size()));
}

void WriteShape(JsonWriter& w, const Shape& shape) {
  w.StartArray();
  for (int64_t d : shape) w.Int64(d);
  w.EndArray();
}

template <typename T>
T Load(const uint8_t* p) {
  T value;
  std::memcpy(&value, p, sizeof(T));
  return value;
}

// Writes a float-like value; NaN and infinities as NaN / Infinity / -Infinity.
template <typename F>
void WriteFloat(JsonWriter& w, F value) {
  if (std::isnan(value)) {
    w.RawValue("NaN", 3, rapidjson::kNumberType);
  } else if (std::isinf(value)) {
    if (value > 0) {
      w.RawValue("Infinity", 8, rapidjson::kNumberType);
    } else {
      w.RawValue("-Infinity", 9, rapidjson::kNumberType);
    }
  } else {
    char text[32];
    auto end = std::to_chars(text, text + sizeof text, value).ptr;
    w.RawValue(text, static_cast<size_t>(end - text), rapidjson::kNumberType);
  }
}

template <typename T>
void WriteInts(JsonWriter& w, const uint8_t* data, int64_t count) {
  char text[24];
  for (int64_t i = 0; i < count; ++i) {
    T value = Load<T>(data + i * sizeof(T));
    auto end = std::to_chars(text, text + sizeof text, value).ptr;
    w.RawValue(text, static_cast<size_t>(end - text), rapidjson::kNumberType);
  }
}

Status WriteData(JsonWriter& w, const NamedTensor& output) {
  const Tensor& t = output.tensor;
  const uint8_t* data = t.data();
  const int64_t n = t.element_count();
  w.StartArray();
  switch (t.dtype()) {
    case DataType::kBool:
      for (int64_t i = 0; i < n; ++i) w.Bool(data[i] != 0);
      break;
    case DataType::kUint8: WriteInts<uint8_t>(w, data, n); break;
    case DataType::kUint16: WriteInts<uint16_t>(w, data, n); break;
    case DataType::kUint32: WriteInts<uint32_t>(w, data, n); break;
    case DataType::kUint64: WriteInts<uint64_t>(w, data, n); break;
    case DataType::kInt8: WriteInts<int8_t>(w, data, n); break;
    case DataType::kInt16: WriteInts<int16_t>(w, data, n); break;
    case DataType::kInt32: WriteInts<int32_t>(w, data, n); break;
    case DataType::kInt64: WriteInts<int64_t>(w, data, n); break;
    case DataType::kFp16:
      for (int64_t i = 0; i < n; ++i) {
        WriteFloat(w, static_cast<float>(HalfToDouble(Load<uint16_t>(data + 2 * i))));
      }
      break;
    case DataType::kBf16:
      for (int64_t i = 0; i < n; ++i) {
        WriteFloat(w, static_cast<float>(Bf16ToDouble(Load<uint16_t>(data + 2 * i))));
      }
      break;
    case DataType::kFp32:
      for (int64_t i = 0; i < n; ++i) WriteFloat(w, Load<float>(data + 4 * i));
      break;
    case DataType::kFp64:
      for (int64_t i = 0; i < n; ++i) WriteFloat(w, Load<double>(data + 8 * i));
      break;
    case DataType::kBytes: {
      auto elements = SplitBytesElements(data, t.byte_size());
      if (!elements.ok()) return Internal("Malformed BYTES output " + Quote(output.name));
      for (std::string_view e : *elements) {
        if (!WriteString(w, e)) {
          return InvalidArgument("Output " + Quote(output.name) +
                                 " holds bytes that are not valid UTF-8; request it as binary data");
        }
      }
      break;
    }
    case DataType::kInvalid: return Internal("Invalid datatype of output " + Quote(output.name));
  }
  w.EndArray();
  return Status::Ok();
}

Status CheckOutput(const NamedTensor& output) {
  const Tensor& t = output.tensor;
  if (t.dtype() == DataType::kInvalid) return Internal("Invalid datatype of output " + Quote(output.name));
  auto count = ElementCount(t.shape());
  if (!count) return Internal("Invalid shape of output " + Quote(output.name));
  if (t.dtype() == DataType::kBytes) {
    auto elements = SplitBytesElements(t.data(), t.byte_size());
    if (!elements.ok() || static_cast<int64_t>(elements->size()) != *count) {
      return Internal("Malformed BYTES output " + Quote(output.name));
    }
    return Status::Ok();
  }
  Status size = CheckByteSize(output.name, t.dtype(), t.shape(), t.byte_size());
  if (!size.ok()) return Internal("Output " + Quote(output.name) + ": " + size.message());
  return Status::Ok();
}

void WriteTensorMetadata(JsonWriter& w, const std::vector<TensorInfo>& tensors) {
  w.StartArray();
  for (const auto& t : tensors) {
    w.StartObject();
    w.Key("name");
    WriteString(w, t.name);
    w.Key("datatype");
    WriteString(w, KServeName(t.dtype));
    w.Key("shape");
    WriteShape(w, t.shape);
    w.EndObject();
  }
  w.EndArray();
}

}  // namespace

Result<EncodedResponse> EncodeInferResponse(const InferResponse& response,
                                            const OutputFormat& format) {
  size_t binary_size = 0;
  std::vector<bool> binary(response.outputs.size());
  for (size_t i = 0; i < response.outputs.size(); ++i) {
    TESSERA_RETURN_IF_ERROR(CheckOutput(response.outputs[i]));
    binary[i] = format.IsBinary(response.outputs[i].name);
    if (binary[i]) binary_size += response.outputs[i].tensor.byte_size();
  }

  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  w.Key("model_name");
  WriteString(w, response.model_name);
  w.Key("model_version");
  WriteString(w, response.model_version > 0 ? std::to_string(response.model_version) : "");
  if (!response.id.empty()) {
    w.Key("id");
    WriteString(w, response.id);
  }
  w.Key("outputs");
  w.StartArray();
  for (size_t i = 0; i < response.outputs.size(); ++i) {
    const NamedTensor& output = response.outputs[i];
    w.StartObject();
    w.Key("name");
    WriteString(w, output.name);
    w.Key("datatype");
    WriteString(w, KServeName(output.tensor.dtype()));
    w.Key("shape");
    WriteShape(w, output.tensor.shape());
    if (binary[i]) {
      w.Key("parameters");
      w.StartObject();
      w.Key("binary_data_size");
      w.Uint64(output.tensor.byte_size());
      w.EndObject();
    } else {
      w.Key("data");
      TESSERA_RETURN_IF_ERROR(WriteData(w, output));
    }
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();

  EncodedResponse encoded;
  encoded.json_size = buffer.GetSize();
  encoded.has_binary = std::find(binary.begin(), binary.end(), true) != binary.end();
  encoded.body.reserve(encoded.json_size + binary_size);
  encoded.body.assign(buffer.GetString(), buffer.GetSize());
  for (size_t i = 0; i < response.outputs.size(); ++i) {
    if (!binary[i]) continue;
    const Tensor& t = response.outputs[i].tensor;
    encoded.body.append(reinterpret_cast<const char*>(t.data()), t.byte_size());
  }
  return encoded;
}

std::string EncodeModelMetadata(const ModelMetadata& metadata) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  w.Key("name");
  WriteString(w, metadata.name);
  w.Key("versions");
  w.StartArray();
  for (int64_t v : metadata.versions) WriteString(w, std::to_string(v));
  w.EndArray();
  w.Key("platform");
  WriteString(w, metadata.platform);
  w.Key("inputs");
  WriteTensorMetadata(w, metadata.signature.inputs);
  w.Key("outputs");
  WriteTensorMetadata(w, metadata.signature.outputs);
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

std::string EncodeServerMetadata(const ServerMetadata& metadata) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  w.Key("name");
  WriteString(w, metadata.name);
  w.Key("version");
  WriteString(w, metadata.version);
  w.Key("extensions");
  w.StartArray();
  for (const auto& e : metadata.extensions) WriteString(w, e);
  w.EndArray();
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace tessera::kserve_rest
