// Decoding half of the codec (codec.h): KServe v2 REST request bodies to
// InferRequest.
#include <rapidjson/error/en.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>
#include <type_traits>
#include <unordered_set>
#include <utility>

#include "common/json_depth.h"
#include "frontend/json/byte_buffer.h"
#include "frontend/json/json_reader.h"
#include "frontend/json/nested_shape.h"
#include "frontend/json/tensor_element.h"
#include "frontend/kserve_rest/codec.h"

namespace tessera::kserve_rest {


bool OutputFormat::IsBinary(const std::string& output_name) const {
  for (const auto& [name, binary] : overrides) {
    if (name == output_name) return binary;
  }
  return binary_default;
}

namespace {

std::string Quote(std::string_view s) { return "'" + std::string(s) + "'"; }

// One JSON scalar as the SAX reader delivered it.
struct Scalar {
  enum class Kind { kNull, kBool, kUint, kDouble, kString };
  Kind kind = Kind::kNull;
  bool b = false;
  uint64_t u = 0;  // kUint
  double d = 0;    // kDouble
  std::string_view s;  // kString: the string; numbers: their JSON text
};

// A JSON number outside tensor data as a Scalar: kUint when written as a
// non-negative integer (no fraction, no exponent) that fits 64 bits, else
// kDouble (zero below the double range); nullopt beyond the double range.
std::optional<Scalar> NumberScalar(const json::JsonNumber& n) {
  Scalar v;
  v.s = n.text;
  if (n.integral) {
    json::JsonInteger i = json::ToInteger(n);
    if (i.kind == json::JsonInteger::Kind::kWhole && (!i.negative || i.magnitude == 0)) {
      v.kind = Scalar::Kind::kUint;
      v.u = i.magnitude;
      return v;
    }
  }
  v.kind = Scalar::Kind::kDouble;
  if (!json::ToDouble(n, &v.d)) return std::nullopt;
  return v;
}

// A scalar kept for later, when "data" came before "datatype".
struct RecordedScalar {
  Scalar value;
  std::optional<json::JsonNumber> number;  // a number: this, not `value`
  std::string text;  // owns value.s for strings, number->text for numbers
};

template <typename T>
void AppendRaw(std::string& buffer, T value) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &value, sizeof(T));
  buffer.append(bytes, sizeof(T));
}

struct InputBuilder {
  size_t index = 0;
  std::string name;
  bool has_name = false;
  Shape shape;
  bool has_shape = false;
  std::string datatype;
  bool has_datatype = false;
  DataType dtype = DataType::kInvalid;  // valid once has_datatype and known
  std::optional<uint64_t> binary_size;
  bool has_data = false;
  bool recording = false;  // data arrived before a valid datatype
  std::vector<RecordedScalar> recorded;
  json::ByteBuffer buffer;  // typed bytes (BYTES: length-prefixed raw form)
  int64_t elements = 0;
  json::NestedShape nesting;  // of "data"; depth 1 is its outer array

  std::string Label() const {
    return has_name ? "input " + Quote(name) : "input #" + std::to_string(index);
  }
};

// Appends one JSON scalar to `in`'s typed buffer.
class ValueAppender {
 public:
  // A number, converted once into the tensor's type (tensor_element.h);
  // integer datatypes take integer notation only (1.0 is not an INT32).
  // False when not appended: NumberError() says why.
  [[gnu::always_inline]] static bool TryAppendNumber(InputBuilder& in, const json::JsonNumber& n) {
    if (!n.integral && IsIntegerType(in.dtype)) return false;
    if (json::PutNumber(in.dtype, n, in.buffer.Reserve(8)) != json::ElementFit::kOk) return false;
    in.buffer.Commit(in.dtype == DataType::kFp32 ? sizeof(float) : ElementSize(in.dtype));
    return true;
  }

  // Why TryAppendNumber(in, n) did not append, for a number within the
  // double range.
  static std::string NumberError(const InputBuilder& in, const json::JsonNumber& n) {
    switch (in.dtype) {
      case DataType::kBool: return Expected(in, "a boolean");
      case DataType::kBytes: return Expected(in, "a string");
      case DataType::kInvalid: return in.Label() + ": invalid datatype";
      default: break;
    }
    if (!n.integral && IsIntegerType(in.dtype)) return Expected(in, "an integer");
    return OutOfRange(in, std::string(n.text));
  }

  // Any other scalar: null, a boolean, a string, NaN or an infinity.
  static std::string Append(InputBuilder& in, const Scalar& v) {
    switch (in.dtype) {
      case DataType::kBool:
        if (v.kind != Scalar::Kind::kBool) return Expected(in, "a boolean");
        in.buffer.Put<uint8_t>(v.b ? 1 : 0);
        return "";
      case DataType::kBytes: {
        if (v.kind != Scalar::Kind::kString) return Expected(in, "a string");
        if (v.s.size() > UINT32_MAX) return in.Label() + ": string too long";
        in.buffer.Put<uint32_t>(static_cast<uint32_t>(v.s.size()));
        in.buffer.Append(v.s);
        return "";
      }
      case DataType::kInvalid: return in.Label() + ": invalid datatype";
      default: break;
    }
    if (IsIntegerType(in.dtype)) return Expected(in, "an integer");
    if (v.kind != Scalar::Kind::kDouble) return Expected(in, "a number");
    json::PutNonFinite(in.dtype, v.d, in.buffer.Reserve(8));  // a float type: always fits
    in.buffer.Commit(ElementSize(in.dtype));
    return "";
  }

 private:
  static std::string Expected(const InputBuilder& in, const char* what) {
    return "Invalid data in " + in.Label() + ": expected " + what + " for datatype " + in.datatype;
  }
  static std::string OutOfRange(const InputBuilder& in, const std::string& value) {
    return "Invalid data in " + in.Label() + ": value " + value + " is out of range for datatype " +
           in.datatype;
  }
};

// The SAX handler for a whole inference request. Knows where it is in the
// document through `where_` and which key's value comes next through
// `field_`; values of unknown keys are skipped. Every container counts
// towards the nesting bound, which the reader enforces (common/json_depth.h),
// skipped ones included.
class RequestReader {
 public:
  // `json_size`: the JSON text's, a bound for the tensor buffers.
  explicit RequestReader(size_t json_size) : json_size_(json_size) {}

  // --- json::JsonReader handler ---------------------------------------------
  bool Null() { return OnScalar(Scalar{}); }
  bool Bool(bool b) {
    Scalar v;
    v.kind = Scalar::Kind::kBool;
    v.b = b;
    return OnScalar(v);
  }
  // NaN, Infinity, -Infinity.
  bool Double(double d) {
    Scalar v;
    v.kind = Scalar::Kind::kDouble;
    v.d = d;
    return OnScalar(v);
  }
  // In tensor data: converted once, exactly, into the tensor's type.
  [[gnu::always_inline]] bool Number(const json::JsonNumber& n) {
    if (skip_depth_ > 0) return true;
    if (where_ == Where::kData) return OnDataNumber(n);
    auto v = NumberScalar(n);
    return v ? OnScalar(*v) : TooBig(n);
  }
  bool String(std::string_view s) {
    Scalar v;
    v.kind = Scalar::Kind::kString;
    v.s = s;
    return OnScalar(v);
  }
  bool StartObject() { return OpenObject(); }
  bool Key(std::string_view key);
  bool EndObject() { return CloseObject(); }
  bool StartArray() { return OpenArray(); }
  bool EndArray() { return CloseArray(); }

  // Valid after a successful parse.
  Result<DecodedInfer> Finish(std::string_view binary, std::shared_ptr<const void> keepalive);
  const std::string& error() const { return error_; }
  // After a failed parse: the length of the number beyond the double range
  // that stopped it (the reader's offset is its end), or 0.
  size_t too_big_length() const { return too_big_length_; }

 private:
  enum class Where {
    kStart, kTop, kTopParams, kInputs, kInput, kShape, kInputParams, kData,
    kOutputs, kOutput, kOutputParams, kEnd,
  };
  enum class Field {
    kNone, kSkip, kId, kParameters, kInputs, kOutputs, kName, kShape, kDatatype, kData,
    kBinaryDataOutput, kBinaryDataSize, kBinaryData, kTimeout,
  };

  // At a container start: true when the container is (inside) the value of
  // an ignored key, to be skipped whole; else moves the pending field to
  // *field.
  bool EntersSkippedContainer(Field* field);
  // A number beyond the double range is malformed JSON here, as in RapidJSON.
  bool TooBig(const json::JsonNumber& n) {
    too_big_length_ = n.text.size();
    return false;
  }
  bool Fail(std::string message) {
    if (error_.empty()) error_ = std::move(message);
    return false;
  }
  bool OnScalar(const Scalar& v);
  bool OnDataScalar(const Scalar& v);
  // Checks and counts one scalar of "data".
  [[gnu::always_inline]] bool DataLeaf(InputBuilder& in);
  [[gnu::always_inline]] bool OnDataNumber(const json::JsonNumber& n);  // the hot path
  bool BeginData();
  bool OpenObject();
  bool CloseObject();
  bool OpenArray();
  bool CloseArray();
  InputBuilder& input() { return inputs_.back(); }
  std::string Context() const;

  const size_t json_size_;
  Where where_ = Where::kStart;
  Field field_ = Field::kNone;
  int skip_depth_ = 0;
  std::string error_;
  size_t too_big_length_ = 0;

  std::string id_;
  bool has_inputs_ = false;
  std::vector<InputBuilder> inputs_;
  std::vector<std::string> output_names_;
  OutputFormat format_;
  std::optional<bool> output_binary_;  // of the output being read
  uint64_t timeout_us_ = 0;            // parameters.timeout; 0 = none
};

std::string RequestReader::Context() const {
  switch (where_) {
    case Where::kInput:
    case Where::kShape:
    case Where::kInputParams:
    case Where::kData: return inputs_.back().Label();
    case Where::kOutput:
    case Where::kOutputParams: return "output #" + std::to_string(output_names_.size());
    default: return "the request";
  }
}

bool RequestReader::OnScalar(const Scalar& v) {
  if (skip_depth_ > 0) return true;
  const Field field = field_;
  field_ = Field::kNone;
  if (where_ == Where::kData) return OnDataScalar(v);
  if (where_ == Where::kShape) {
    if (v.kind == Scalar::Kind::kUint && v.u <= static_cast<uint64_t>(INT64_MAX)) {
      input().shape.push_back(static_cast<int64_t>(v.u));
      return true;
    }
    return Fail("Invalid 'shape' of " + input().Label() + ": dims must be non-negative integers");
  }
  auto want = [&](Scalar::Kind kind, const char* key, const char* what) {
    if (v.kind == kind) return true;
    return Fail("Invalid JSON type of '" + std::string(key) + "' in " + Context() + ": expected " + what);
  };
  switch (field) {
    case Field::kSkip: return true;
    case Field::kId:
      if (!want(Scalar::Kind::kString, "id", "a string")) return false;
      id_ = std::string(v.s);
      return true;
    case Field::kBinaryDataOutput:
      if (!want(Scalar::Kind::kBool, "binary_data_output", "a boolean")) return false;
      format_.binary_default = v.b;
      return true;
    case Field::kTimeout:
      if (!want(Scalar::Kind::kUint, "timeout", "a non-negative integer (microseconds)")) return false;
      timeout_us_ = v.u;
      return true;
    case Field::kBinaryData:
      if (!want(Scalar::Kind::kBool, "binary_data", "a boolean")) return false;
      output_binary_ = v.b;
      return true;
    case Field::kBinaryDataSize:
      if (!want(Scalar::Kind::kUint, "binary_data_size", "a non-negative integer")) return false;
      input().binary_size = v.u;
      return true;
    case Field::kName:
      if (!want(Scalar::Kind::kString, "name", "a string")) return false;
      if (where_ == Where::kOutput) {
        output_names_.back() = std::string(v.s);
      } else {
        input().name = std::string(v.s);
        input().has_name = true;
      }
      return true;
    case Field::kDatatype: {
      if (!want(Scalar::Kind::kString, "datatype", "a string")) return false;
      InputBuilder& in = input();
      in.datatype = std::string(v.s);
      in.has_datatype = true;
      auto dtype = DataTypeFromKServeName(in.datatype);
      if (!dtype) return Fail("Invalid datatype " + Quote(in.datatype) + " of " + in.Label());
      in.dtype = *dtype;
      return true;
    }
    case Field::kShape: return Fail("Invalid JSON type of 'shape' in " + Context() + ": expected an array");
    case Field::kData: return Fail("Invalid JSON type of 'data' in " + Context() + ": expected an array");
    case Field::kInputs:
    case Field::kOutputs: return Fail("Invalid JSON type of '" + std::string(field == Field::kInputs ? "inputs" : "outputs") + "': expected an array");
    case Field::kParameters: return Fail("Invalid JSON type of 'parameters' in " + Context() + ": expected an object");
    case Field::kNone: break;
  }
  if (where_ == Where::kStart) return Fail("The request body must be a JSON object");
  if (where_ == Where::kInputs) return Fail("Invalid JSON type in 'inputs': each input must be an object");
  if (where_ == Where::kOutputs) return Fail("Invalid JSON type in 'outputs': each output must be an object");
  return Fail("Unexpected value in " + Context());
}

inline bool RequestReader::DataLeaf(InputBuilder& in) {
  if (in.nesting.CheckLeaf() != json::NestedShape::Error::kNone) [[unlikely]] {
    return Fail("Invalid data in " + in.Label() + ": a value where an array was expected");
  }
  in.nesting.CountLeaf();
  ++in.elements;
  return true;
}

inline bool RequestReader::OnDataNumber(const json::JsonNumber& n) {
  InputBuilder& in = input();
  if (!DataLeaf(in)) return false;
  if (in.recording) {
    if (double d; !json::ToDouble(n, &d)) return TooBig(n);
    RecordedScalar& r = in.recorded.emplace_back();
    r.number = n;
    r.text = std::string(n.text);
    return true;
  }
  if (ValueAppender::TryAppendNumber(in, n)) [[likely]] return true;
  if (double d; !json::ToDouble(n, &d)) return TooBig(n);
  return Fail(ValueAppender::NumberError(in, n));
}

bool RequestReader::OnDataScalar(const Scalar& v) {
  InputBuilder& in = input();
  if (!DataLeaf(in)) return false;
  if (in.recording) {
    RecordedScalar r{v, std::nullopt, std::string(v.s)};
    in.recorded.push_back(std::move(r));
    return true;
  }
  std::string err = ValueAppender::Append(in, v);
  return err.empty() ? true : Fail(std::move(err));
}

bool RequestReader::BeginData() {
  InputBuilder& in = input();
  if (in.has_data) return Fail("Repeated 'data' in " + in.Label());
  in.has_data = true;
  in.recording = in.dtype == DataType::kInvalid;
  if (!in.recording && in.has_shape) {
    auto count = ElementCount(in.shape);
    // Room for the expected size, bounded so a lying shape costs nothing:
    // every element takes at least 2 bytes of the JSON text ("0,").
    if (count && ElementSize(in.dtype) > 0 &&
        static_cast<uint64_t>(*count) <= json_size_ / 2 + 1) {
      in.buffer.Expect(static_cast<size_t>(*count) * ElementSize(in.dtype));
    }
  }
  where_ = Where::kData;
  return true;
}

bool RequestReader::EntersSkippedContainer(Field* field) {
  if (skip_depth_ > 0) {
    ++skip_depth_;
    return true;
  }
  *field = std::exchange(field_, Field::kNone);
  if (*field == Field::kSkip) {
    skip_depth_ = 1;
    return true;
  }
  return false;
}

bool RequestReader::OpenObject() {
  Field field;
  if (EntersSkippedContainer(&field)) return true;
  switch (where_) {
    case Where::kStart: where_ = Where::kTop; return true;
    case Where::kTop:
      if (field == Field::kParameters) {
        where_ = Where::kTopParams;
        return true;
      }
      break;
    case Where::kInputs:
      inputs_.emplace_back();
      inputs_.back().index = inputs_.size() - 1;
      where_ = Where::kInput;
      return true;
    case Where::kInput:
      if (field == Field::kParameters) {
        where_ = Where::kInputParams;
        return true;
      }
      break;
    case Where::kOutputs:
      output_names_.emplace_back();
      output_binary_.reset();
      where_ = Where::kOutput;
      return true;
    case Where::kOutput:
      if (field == Field::kParameters) {
        where_ = Where::kOutputParams;
        return true;
      }
      break;
    case Where::kData: return Fail("Invalid data in " + input().Label() + ": unexpected object");
    default: break;
  }
  field_ = field;
  return OnScalar(Scalar{});  // reports the type error for `field`
}

bool RequestReader::Key(std::string_view key) {
  if (skip_depth_ > 0) return true;
  Field field = Field::kSkip;
  switch (where_) {
    case Where::kTop:
      if (key == "id") field = Field::kId;
      else if (key == "parameters") field = Field::kParameters;
      else if (key == "inputs") field = Field::kInputs;
      else if (key == "outputs") field = Field::kOutputs;
      break;
    case Where::kTopParams:
      if (key == "binary_data_output") field = Field::kBinaryDataOutput;
      else if (key == "timeout") field = Field::kTimeout;
      break;
    case Where::kInput:
      if (key == "name") field = Field::kName;
      else if (key == "shape") field = Field::kShape;
      else if (key == "datatype") field = Field::kDatatype;
      else if (key == "parameters") field = Field::kParameters;
      else if (key == "data") field = Field::kData;
      break;
    case Where::kInputParams:
      if (key == "binary_data_size") field = Field::kBinaryDataSize;
      break;
    case Where::kOutput:
      if (key == "name") field = Field::kName;
      else if (key == "parameters") field = Field::kParameters;
      break;
    case Where::kOutputParams:
      if (key == "binary_data") field = Field::kBinaryData;
      break;
    default: break;
  }
  field_ = field;
  return true;
}

bool RequestReader::CloseObject() {
  if (skip_depth_ > 0) {
    --skip_depth_;
    return true;
  }
  switch (where_) {
    case Where::kTop: where_ = Where::kEnd; break;
    case Where::kTopParams: where_ = Where::kTop; break;
    case Where::kInput: where_ = Where::kInputs; break;
    case Where::kInputParams: where_ = Where::kInput; break;
    case Where::kOutput:
      if (output_binary_) format_.overrides.emplace_back(output_names_.back(), *output_binary_);
      where_ = Where::kOutputs;
      break;
    case Where::kOutputParams: where_ = Where::kOutput; break;
    default: return Fail("Unexpected end of object");
  }
  return true;
}

bool RequestReader::OpenArray() {
  Field field;
  if (EntersSkippedContainer(&field)) return true;
  if (where_ == Where::kData) {
    if (input().nesting.StartList() == json::NestedShape::Error::kNone) return true;
    return Fail("Invalid data in " + input().Label() + ": an array where values were expected");
  }
  if (where_ == Where::kTop && field == Field::kInputs) {
    if (has_inputs_) return Fail("Repeated 'inputs'");
    has_inputs_ = true;
    where_ = Where::kInputs;
    return true;
  }
  if (where_ == Where::kTop && field == Field::kOutputs) {
    where_ = Where::kOutputs;
    return true;
  }
  if (where_ == Where::kInput && field == Field::kShape) {
    if (input().has_shape) return Fail("Repeated 'shape' in " + input().Label());
    input().has_shape = true;
    where_ = Where::kShape;
    return true;
  }
  if (where_ == Where::kInput && field == Field::kData) {
    if (!BeginData()) return false;
    return OpenArray();
  }
  if (where_ == Where::kShape) {
    return Fail("Invalid 'shape' of " + input().Label() + ": dims must be non-negative integers");
  }
  field_ = field;
  return OnScalar(Scalar{});
}

bool RequestReader::CloseArray() {
  if (skip_depth_ > 0) {
    --skip_depth_;
    return true;
  }
  switch (where_) {
    case Where::kData: {
      json::NestedShape& nesting = input().nesting;
      if (nesting.EndList() != json::NestedShape::Error::kNone) {
        return Fail("Invalid data in " + input().Label() + ": ragged nested arrays (lengths " +
                    std::to_string(nesting.lengths()[nesting.depth()]) + " and " +
                    std::to_string(nesting.ragged_count()) + " at depth " +
                    std::to_string(nesting.depth() + 1) + ")");
      }
      if (nesting.depth() == 0) where_ = Where::kInput;
      return true;
    }
    case Where::kShape: where_ = Where::kInput; return true;
    case Where::kInputs:
    case Where::kOutputs: where_ = Where::kTop; return true;
    default: return Fail("Unexpected end of array");
  }
}

// Inputs with neither JSON 'data' nor parameters.binary_data_size take their
// bytes from the binary part too, as OVMS and Triton clients send them: a
// fixed-size datatype takes shape x element size; one BYTES input takes what
// the other inputs leave (the docs' single-image request). Sets their
// binary_size. Only with a binary part: without one the input is missing its
// data (FinishInput says so). Inputs missing name/shape/datatype are left to
// FinishInput.
Status ImplyBinarySizes(std::vector<InputBuilder>& inputs, size_t binary_size) {
  if (binary_size == 0) return Status::Ok();
  uint64_t taken = 0;  // saturates: only compared with binary_size
  auto take = [&taken](uint64_t n) { taken = n > UINT64_MAX - taken ? UINT64_MAX : taken + n; };
  InputBuilder* rest = nullptr;
  for (InputBuilder& in : inputs) {
    if (in.has_data) continue;
    if (in.binary_size) {
      take(*in.binary_size);
      continue;
    }
    if (!in.has_name || !in.has_shape || !in.has_datatype) continue;
    if (in.dtype == DataType::kBytes) {
      if (rest) {
        return InvalidArgument("Inputs " + Quote(rest->name) + " and " + Quote(in.name) +
                               " are BYTES without parameters.binary_data_size: only one "
                               "BYTES input may leave its binary size implied");
      }
      rest = &in;
      continue;
    }
    auto count = ElementCount(in.shape);
    if (!count) continue;
    const uint64_t unit = ElementSize(in.dtype);
    const uint64_t n = static_cast<uint64_t>(*count);
    in.binary_size = unit != 0 && n > UINT64_MAX / unit ? UINT64_MAX : n * unit;
    take(*in.binary_size);
  }
  if (rest) {
    if (taken > binary_size) {
      return InvalidArgument("The binary part of the body has " + std::to_string(binary_size) +
                             " bytes but the inputs other than " + Quote(rest->name) +
                             " take " + std::to_string(taken) +
                             " (binary_data_size, or shape x datatype size)");
    }
    rest->binary_size = binary_size - taken;
  }
  return Status::Ok();
}

Status FinishInput(InputBuilder& in, std::string_view binary, size_t& offset,
                   const std::shared_ptr<const void>& keepalive, NamedTensor* out) {
  if (!in.has_name) return InvalidArgument("Missing 'name' of " + in.Label());
  if (!in.has_shape) return InvalidArgument("Missing 'shape' of " + in.Label());
  if (!in.has_datatype) return InvalidArgument("Missing 'datatype' of " + in.Label());
  auto count = ElementCount(in.shape);
  if (!count) return InvalidArgument("Invalid 'shape' of " + in.Label());
  out->name = in.name;
  if (in.has_data && in.binary_size) {
    return InvalidArgument("Input " + Quote(in.name) +
                           " has both JSON 'data' and binary data (binary_data_size)");
  }
  if (in.binary_size) {
    if (*in.binary_size > binary.size() - offset) {
      return InvalidArgument("Binary data of input " + Quote(in.name) + " (" +
                             std::to_string(*in.binary_size) + " bytes) runs past the end of the body");
    }
    const char* data = binary.data() + offset;
    const size_t size = static_cast<size_t>(*in.binary_size);
    offset += size;
    if (in.dtype == DataType::kBytes) {
      auto tensor = BytesTensorFromRaw(in.shape, *count, data, size, keepalive);
      if (!tensor.ok()) {
        return InvalidArgument("Invalid binary data of input " + Quote(in.name) + ": " +
                               tensor.status().message());
      }
      out->tensor = std::move(*tensor);
      return Status::Ok();
    }
    TESSERA_RETURN_IF_ERROR(CheckByteSize(in.name, in.dtype, in.shape, size));
    out->tensor = Tensor::Borrow(in.dtype, in.shape, data, size, keepalive);
    return Status::Ok();
  }
  if (!in.has_data) return InvalidArgument("Missing 'data' of input " + Quote(in.name));
  if (in.recording) {
    for (RecordedScalar& r : in.recorded) {
      if (r.number) {
        r.number->text = r.text;
        if (!ValueAppender::TryAppendNumber(in, *r.number)) {
          return InvalidArgument(ValueAppender::NumberError(in, *r.number));
        }
        continue;
      }
      Scalar v = r.value;
      v.s = r.text;
      std::string err = ValueAppender::Append(in, v);
      if (!err.empty()) return InvalidArgument(err);
    }
    in.recorded.clear();
  }
  if (in.elements != *count) {
    return InvalidArgument("Invalid data in input " + Quote(in.name) + ": " +
                           std::to_string(in.elements) + " elements for shape " +
                           ShapeToString(in.shape) + " (" + std::to_string(*count) + " expected)");
  }
  out->tensor = Tensor::FromBytes(in.dtype, in.shape, in.buffer.Release());
  return Status::Ok();
}

Result<DecodedInfer> RequestReader::Finish(std::string_view binary,
                                           std::shared_ptr<const void> keepalive) {
  if (!has_inputs_) return InvalidArgument("Missing 'inputs' in the request");
  DecodedInfer decoded;
  decoded.request.id = std::move(id_);
  decoded.request.requested_outputs = std::move(output_names_);
  for (const auto& name : decoded.request.requested_outputs) {
    if (name.empty()) return InvalidArgument("Missing 'name' of a requested output");
  }
  decoded.format = std::move(format_);
  constexpr uint64_t kMaxTimeout = static_cast<uint64_t>(INT64_MAX);
  decoded.request.deadline = DeadlineAfter(
      std::chrono::microseconds(static_cast<int64_t>(std::min(timeout_us_, kMaxTimeout))));
  std::unordered_set<std::string> names;
  TESSERA_RETURN_IF_ERROR(ImplyBinarySizes(inputs_, binary.size()));
  size_t offset = 0;
  decoded.request.inputs.resize(inputs_.size());
  for (size_t i = 0; i < inputs_.size(); ++i) {
    TESSERA_RETURN_IF_ERROR(FinishInput(inputs_[i], binary, offset, keepalive,
                                        &decoded.request.inputs[i]));
    if (!names.insert(inputs_[i].name).second) {
      return InvalidArgument("Repeated input name " + Quote(inputs_[i].name));
    }
  }
  if (offset != binary.size()) {
    return InvalidArgument("The binary part of the body has " + std::to_string(binary.size()) +
                           " bytes but the inputs take " + std::to_string(offset) +
                           " (binary_data_size, or shape x datatype size)");
  }
  return decoded;
}

// REQUIRES: text.data()[text.size()] is readable and not part of the JSON.
Result<DecodedInfer> DecodeTerminated(std::string_view text, std::string_view binary,
                                      std::shared_ptr<const void> keepalive) {
  RequestReader handler(text.size());
  json::JsonReadResult read = json::JsonReader<RequestReader>(text, handler).Parse();
  if (!read.ok()) {
    if (read.too_deep) return InvalidArgument(JsonNestingMessage(read.offset));
    if (!handler.error().empty()) return InvalidArgument(handler.error());
    if (handler.too_big_length() > 0) {
      return InvalidArgument("Invalid JSON at offset " +
                             std::to_string(read.offset - handler.too_big_length()) + ": " +
                             rapidjson::GetParseError_En(rapidjson::kParseErrorNumberTooBig));
    }
    if (read.offset < text.size() && text[read.offset] == '\0') {
      return InvalidArgument("Invalid JSON at offset " + std::to_string(read.offset) +
                             ": unexpected NUL character");
    }
    return InvalidArgument(std::string("Invalid JSON at offset ") + std::to_string(read.offset) +
                           ": " + rapidjson::GetParseError_En(read.code));
  }
  return handler.Finish(binary, std::move(keepalive));
}

}  // namespace

Result<DecodedInfer> DecodeInferRequest(std::string_view json, std::string_view binary,
                                        std::shared_ptr<const void> keepalive) {
  // The reader needs a terminating byte after the document that is not part
  // of it, and `json` may be followed by the binary part: one copy.
  std::string text(json);
  return DecodeTerminated(text, binary, std::move(keepalive));
}

Result<DecodedInfer> DecodeInferRequest(const std::string& body,
                                        std::shared_ptr<const void> keepalive) {
  return DecodeTerminated(body, {}, std::move(keepalive));  // the string's NUL ends it
}

Result<DecodedInfer> DecodeRawBinaryRequest(const TensorInfo& input, std::string_view body,
                                            std::shared_ptr<const void> keepalive) {
  const std::string where = "the raw binary request for input " + Quote(input.name);
  Shape shape = input.shape;
  if (shape.size() >= 2 && shape[0] == kDynamicDim) shape[0] = 1;
  DecodedInfer decoded;
  decoded.format.binary_default = true;
  NamedTensor tensor;
  tensor.name = input.name;
  if (input.dtype == DataType::kBytes) {
    for (int64_t& d : shape) {
      if (d == kDynamicDim) d = 1;
      if (d != 1) return InvalidArgument("Cannot send " + where + ": a BYTES input must have one element");
    }
    if (body.size() > UINT32_MAX) return InvalidArgument("Body too large for " + where);
    std::string raw;
    raw.reserve(body.size() + 4);
    AppendRaw<uint32_t>(raw, static_cast<uint32_t>(body.size()));
    raw.append(body);
    tensor.tensor = Tensor::FromBytes(DataType::kBytes, std::move(shape), std::move(raw));
  } else {
    const size_t element_size = ElementSize(input.dtype);
    if (element_size == 0) return InvalidArgument("Invalid datatype of input " + Quote(input.name));
    int dynamic = -1;
    uint64_t fixed = 1;
    for (size_t i = 0; i < shape.size(); ++i) {
      if (shape[i] == kDynamicDim) {
        if (dynamic >= 0) {
          return InvalidArgument("Cannot deduce the shape of " + where + ": more than one dynamic dimension");
        }
        dynamic = static_cast<int>(i);
      } else {
        fixed *= static_cast<uint64_t>(shape[i]);
      }
    }
    if (dynamic >= 0) {
      const uint64_t unit = fixed * element_size;
      if (unit == 0 || body.size() % unit != 0) {
        return InvalidArgument("Cannot deduce the shape of " + where + " from " +
                               std::to_string(body.size()) + " bytes");
      }
      shape[dynamic] = static_cast<int64_t>(body.size() / unit);
    }
    TESSERA_RETURN_IF_ERROR(CheckByteSize(input.name, input.dtype, shape, body.size()));
    tensor.tensor = Tensor::Borrow(input.dtype, std::move(shape), body.data(), body.size(),
                                   std::move(keepalive));
  }
  decoded.request.inputs.push_back(std::move(tensor));
  return decoded;
}

}  // namespace tessera::kserve_rest
