#include "frontend/tfs_rest/predict_decoder.h"

#include <rapidjson/error/en.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>
#include <string_view>
#include <type_traits>
#include <vector>

#include "common/base64.h"
#include "frontend/json/byte_buffer.h"
#include "frontend/json/json_reader.h"
#include "frontend/json/nested_shape.h"
#include "frontend/json/tensor_element.h"
#include "frontend/tfs_rest/model_json.h"

namespace tessera::tfs_rest {
using json::ByteBuffer;
using json::JsonNumber;
using json::JsonReadResult;
using json::JsonReader;
using json::NestedShape;

namespace {

constexpr char kUnknownOrder[] = "Invalid JSON structure. Could not detect row or column format";
constexpr char kNotAnObject[] = "Request body should be JSON object";
constexpr char kInstancesNotList[] = "Invalid JSON structure. 'instances' must be a list";
constexpr char kNoInstances[] = "Invalid JSON structure. Missing instances in row format";
constexpr char kNamedInstanceNotObject[] =
    "Invalid JSON structure. One of named instances is not a JSON object.";
constexpr char kBatchSizesDiffer[] =
    "Invalid JSON structure. Request inputs have different batch sizes";
constexpr char kNoInputs[] = "Invalid JSON structure. Missing inputs in column format";
constexpr char kSignatureNotString[] = "Invalid JSON structure. 'signature_name' must be a string";

std::string DoubleText(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d < 0 ? "-Infinity" : "Infinity";
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, d);
  return std::string(buf, r.ptr);
}

// Builds one tensor from the SAX events of a (nested) JSON value: the
// nesting gives the shape, every leaf is converted and appended.
class TensorBuilder {
 public:
  // `body_size`: the request body's, for a first guess of the tensor's size.
  TensorBuilder(const TensorInfo& info, size_t body_size) : info_(info), body_size_(body_size) {}

  // Open lists. The value the builder was handed is complete once depth()
  // is back where it started and no {"b64"} object is open.
  int depth() const { return shape_.depth(); }
  bool in_object() const { return object_ != Object::kNone; }
  const std::string& name() const { return info_.name; }
  const Status& error() const { return error_; }
  // Size of the outermost list, once it is closed.
  int64_t outer_size() const { return shape_.lengths().empty() ? 0 : shape_.lengths()[0]; }

  bool StartArray() {
    if (in_object()) return BadObject();
    if (shape_.StartList() != NestedShape::Error::kNone) {
      return Ragged("unexpected list at " + Position());
    }
    return true;
  }

  bool EndArray() {
    if (shape_.EndList() != NestedShape::Error::kNone) {
      return Ragged("list at " + Position() + " has " + std::to_string(shape_.ragged_count()) +
                    " elements, expected " + std::to_string(shape_.lengths()[depth()]));
    }
    return true;
  }

  // Objects are only accepted as {"b64": "<base64>"} leaves.
  bool StartObject() {
    if (in_object()) return BadObject();
    if (!BeginLeaf()) return false;
    if (dtype_ == DataType::kInvalid) dtype_ = DataType::kBytes;
    if (dtype_ != DataType::kBytes) return Fail("{\"b64\": ...} at " + Position() +
                                                " mixed with numbers");
    object_ = Object::kExpectKey;
    return true;
  }
  bool Key(std::string_view key) {
    if (object_ != Object::kExpectKey || key != "b64") return BadObject();
    object_ = Object::kExpectValue;
    return true;
  }
  bool EndObject() {
    if (object_ != Object::kExpectEnd) return BadObject();
    object_ = Object::kNone;
    EndLeaf();
    return true;
  }

  bool String(std::string_view s) {
    if (object_ == Object::kExpectValue) return PutBase64(s);
    if (in_object()) return BadObject();
    if (!BeginLeaf()) return false;
    if (dtype_ == DataType::kInvalid && info_.dtype == DataType::kBytes) dtype_ = DataType::kBytes;
    if (dtype_ != DataType::kBytes) return WrongType("string");
    PutBytes(s.data(), s.size());
    EndLeaf();
    return true;
  }

  bool Null() { return in_object() ? BadObject() : (BeginLeaf() && WrongType("null")); }

  bool Bool(bool b) {
    if (!BeginNumeric()) return false;
    if (dtype_ != DataType::kBool) return WrongType(b ? "true" : "false");
    buffer_.Put<uint8_t>(b ? 1 : 0);
    EndLeaf();
    return true;
  }

  // A JSON number, converted once, straight to the tensor's type; integers
  // exactly, whatever the notation (tensor_element.h).
  [[gnu::always_inline]] bool Number(const JsonNumber& n) {
    if (dtype_ == DataType::kFp32 && depth() == shape_.rank() && !in_object()) [[likely]] {
      return Put(json::PutNumber(dtype_, n, buffer_.Reserve(8)), n.text);  // the hot path
    }
    if (!BeginNumeric(n.text.size())) return false;
    return Put(json::PutNumber(dtype_, n, buffer_.Reserve(8)), n.text);
  }

  // NaN, Infinity or -Infinity: the only doubles the reader hands over.
  bool Double(double d) {
    if (!BeginNumeric()) return false;
    return Put(json::PutNonFinite(dtype_, d, buffer_.Reserve(8)), DoubleText(d));
  }

  // The finished tensor. REQUIRES: the value is complete (see depth()).
  Result<NamedTensor> Finish() {
    if (shape_.rank() < 0 || in_object()) return Internal("Input " + name() + ": incomplete value");
    if (dtype_ == DataType::kInvalid) dtype_ = info_.dtype;  // no leaf at all: []
    Shape shape = shape_.lengths();
    shape.resize(shape_.rank());
    for (int64_t& d : shape) {
      if (d < 0) d = 0;
    }
    return NamedTensor{info_.name, Tensor::FromBytes(dtype_, std::move(shape), buffer_.Release())};
  }

 private:
  enum class Object { kNone, kExpectKey, kExpectValue, kExpectEnd };

  // Checks that a leaf sits as deep as every other leaf.
  bool BeginLeaf() {
    if (shape_.CheckLeaf() != NestedShape::Error::kNone) {
      return Ragged("expected a list at " + Position());
    }
    return true;
  }

  // `text_size`: a first number's JSON text length, for the first guess of
  // the tensor's size: the body as numbers that long, each with a comma,
  // and a quarter more (the first may be longer than most). 0: no guess.
  bool BeginNumeric(size_t text_size = 0) {
    if (in_object()) return BadObject();
    if (!BeginLeaf()) return false;
    if (dtype_ == DataType::kInvalid) {
      dtype_ = info_.dtype;
      if (text_size > 0) {
        buffer_.Expect(body_size_ / (text_size + 1) * 5 / 4 * ElementSize(dtype_));
      }
    }
    return true;
  }

  void EndLeaf() { shape_.CountLeaf(); }

  // Commits the element just written, or reports why none was.
  [[gnu::always_inline]] bool Put(json::ElementFit fit, std::string_view value) {
    if (fit == json::ElementFit::kOk) [[likely]] {
      buffer_.Commit(dtype_ == DataType::kFp32 ? sizeof(float) : ElementSize(dtype_));
      EndLeaf();
      return true;
    }
    switch (fit) {
      case json::ElementFit::kNotInteger: return NotInteger(std::string(value));
      case json::ElementFit::kOutOfRange: return OutOfRange(std::string(value));
      default: return WrongType("number " + std::string(value));
    }
  }

  void PutBytes(const char* data, size_t size) {
    uint32_t length = static_cast<uint32_t>(size);
    char* dst = buffer_.Reserve(4 + size);
    for (int i = 0; i < 4; ++i) dst[i] = static_cast<char>((length >> (8 * i)) & 0xff);
    std::memcpy(dst + 4, data, size);
    buffer_.Commit(4 + size);
  }

  bool PutBase64(std::string_view encoded) {
    char* dst = buffer_.Reserve(4 + Base64DecodedSizeBound(encoded.size()));
    auto size = Base64Decode(encoded, dst + 4);
    if (!size) return Fail("invalid base64 in {\"b64\": ...} at " + Position());
    uint32_t length = static_cast<uint32_t>(*size);
    for (int i = 0; i < 4; ++i) dst[i] = static_cast<char>((length >> (8 * i)) & 0xff);
    buffer_.Commit(4 + *size);
    object_ = Object::kExpectEnd;
    return true;
  }

  // "[i,j,...]": where the next element goes.
  std::string Position() const {
    std::string out = "[";
    for (size_t i = 0; i < shape_.counts().size(); ++i) {
      if (i) out += ',';
      out += std::to_string(shape_.counts()[i]);
    }
    return out + "]";
  }

  bool Fail(std::string what) {
    error_ = InvalidArgument("Input " + info_.name + ": " + what);
    return false;
  }
  bool Ragged(const std::string& what) { return Fail("ragged nested list, " + what); }
  bool WrongType(const std::string& what) {
    DataType expected = dtype_ == DataType::kInvalid ? info_.dtype : dtype_;
    return Fail(what + " at " + Position() + " is not of expected type " +
                std::string(TfDataTypeName(expected)));
  }
  bool NotInteger(const std::string& value) {
    return Fail("value " + value + " at " + Position() + " is not an integer (" +
                std::string(TfDataTypeName(dtype_)) + ")");
  }
  bool OutOfRange(const std::string& value) {
    return Fail("value " + value + " at " + Position() + " is out of range for " +
                std::string(TfDataTypeName(dtype_)));
  }
  bool BadObject() {
    return Fail("only {\"b64\": \"<base64 string>\"} objects are accepted as values (at " +
                Position() + ")");
  }

  const TensorInfo& info_;
  const size_t body_size_;
  DataType dtype_ = DataType::kInvalid;  // set by the first leaf
  NestedShape shape_;
  ByteBuffer buffer_;
  Object object_ = Object::kNone;
  Status error_;
};

// The SAX handler: walks the body's structure and hands each tensor value
// to its TensorBuilder.
class PredictHandler {
 public:
  // `body_size`: the request body's (a hint for the tensor buffers).
  PredictHandler(const std::vector<TensorInfo>& inputs, size_t body_size)
      : inputs_(inputs), builders_(inputs.size()), body_size_(body_size) {}

  const Status& error() const { return error_; }

  Result<DecodedPredict> Finish() {
    if (state_ != State::kDone) return Internal("Incomplete predict request");
    if (!format_) return InvalidArgument(kUnknownOrder);
    DecodedPredict out;
    out.format = *format_;
    out.signature_name = std::move(signature_name_);
    for (size_t index : order_) {
      TESSERA_ASSIGN_OR_RETURN(NamedTensor t, builders_[index]->Finish());
      out.inputs.push_back(std::move(t));
    }
    return out;
  }

  // --- JsonReader handler ------------------------------------------------------

  bool Null() { return Value([](TensorBuilder& b) { return b.Null(); }); }
  bool Bool(bool v) { return Value([v](TensorBuilder& b) { return b.Bool(v); }); }
  [[gnu::always_inline]] bool Number(const JsonNumber& n) {
    if (state_ == State::kTensor) return Forwarded(active_->Number(n));
    return Value([&n](TensorBuilder& b) { return b.Number(n); });
  }
  bool Double(double v) { return Value([v](TensorBuilder& b) { return b.Double(v); }); }
  bool String(std::string_view text) {
    if (state_ == State::kSignatureName) {
      signature_name_.assign(text);
      state_ = State::kRootKey;
      return true;
    }
    return Value([text](TensorBuilder& b) { return b.String(text); });
  }

  bool StartArray() {
    switch (state_) {
      case State::kTensor: return Forwarded(active_->StartArray());
      case State::kRowStart:
        state_ = State::kRowElement;
        return true;
      default: return Value([](TensorBuilder& b) { return b.StartArray(); }, /*opens=*/true);
    }
  }

  bool EndArray() {
    switch (state_) {
      case State::kTensor: return Forwarded(active_->EndArray());
      case State::kSkipping: return EndSkipped();
      case State::kRowElement:
        if (!row_named_) return Fail(InvalidArgument(kNoInstances));
        return FinishNamedRow();
      default: return Fail(Internal("Unexpected end of list"));
    }
  }

  bool StartObject() {
    switch (state_) {
      case State::kStart:
        state_ = State::kRootKey;
        return true;
      case State::kTensor: return Forwarded(active_->StartObject());
      case State::kRowElement:
        if (row_named_) return StartInstance();
        state_ = State::kRowPendingObject;  // named instance or {"b64"}: the key tells
        return true;
      case State::kColumnStart:
        state_ = State::kColumnPendingObject;
        return true;
      default: return Value([](TensorBuilder& b) { return b.StartObject(); }, /*opens=*/true);
    }
  }

  bool Key(std::string_view key) {
    switch (state_) {
      case State::kTensor: return Forwarded(active_->Key(key));
      case State::kSkipping: return true;
      case State::kRootKey: return RootKey(key);
      case State::kRowPendingObject:
        if (IsB64Value(key)) {
          return StartSingleInput("'instances' is a plain list", /*row=*/true) &&
                 Forwarded(active_->StartObject()) && Forwarded(active_->Key(key));
        }
        row_named_ = true;
        return StartInstance() && NamedRowKey(key);
      case State::kRowNamedKey: return NamedRowKey(key);
      case State::kColumnPendingObject:
        if (IsB64Value(key)) {
          return StartSingleInput("'inputs' is a plain value", /*row=*/false) &&
                 Forwarded(active_->StartObject()) && Forwarded(active_->Key(key));
        }
        return NamedColumnKey(key);
      case State::kColumnNamedKey: return NamedColumnKey(key);
      default: return Fail(Internal("Unexpected key"));
    }
  }

  bool EndObject() {
    switch (state_) {
      case State::kTensor: return Forwarded(active_->EndObject());
      case State::kSkipping: return EndSkipped();
      case State::kRootKey:
        state_ = State::kDone;
        return true;
      case State::kRowPendingObject:  // {} as the first instance
        row_named_ = true;
        ++instances_;
        state_ = State::kRowElement;
        return true;
      case State::kRowNamedKey:
        ++instances_;
        state_ = State::kRowElement;
        return true;
      case State::kColumnPendingObject: return Fail(InvalidArgument(kNoInputs));
      case State::kColumnNamedKey:
        state_ = State::kRootKey;
        return true;
      default: return Fail(Internal("Unexpected end of object"));
    }
  }

 private:
  enum class State {
    kStart,                // before the root object
    kRootKey,              // in the root object: a key or its end
    kSignatureName,        // the value of "signature_name"
    kSkipValue,            // the value of an unknown key
    kSkipping,             // inside a container of that value
    kRowStart,             // the value of "instances"
    kRowElement,           // in "instances": an element or the end
    kRowPendingObject,     // first instance is an object: named, or {"b64"}?
    kRowNamedKey,          // in a named instance: a key or its end
    kColumnStart,          // the value of "inputs"
    kColumnPendingObject,  // "inputs" is an object: named, or {"b64"}?
    kColumnNamedKey,       // in the "inputs" object: a key or its end
    kTensor,               // inside a tensor value: events go to active_
    kDone,                 // after the root object
  };

  bool Fail(Status status) {
    error_ = std::move(status);
    return false;
  }

  // A scalar, or the start of a list or object (`opens`), outside kTensor.
  template <typename Apply>
  bool Value(Apply apply, bool opens = false) {
    switch (state_) {
      case State::kTensor: return Forwarded(apply(*active_));
      case State::kSkipValue:
      case State::kSkipping: return Skipped(opens);
      case State::kRowElement:
        if (row_named_) return Fail(InvalidArgument(kNamedInstanceNotObject));
        return StartSingleInput("'instances' is a plain list", /*row=*/true) &&
               Forwarded(apply(*active_));
      case State::kColumnStart:
        return StartSingleInput("'inputs' is a plain value", /*row=*/false) &&
               Forwarded(apply(*active_));
      case State::kRowStart: return Fail(InvalidArgument(kInstancesNotList));
      case State::kSignatureName: return Fail(InvalidArgument(kSignatureNotString));
      case State::kStart: return Fail(InvalidArgument(kNotAnObject));
      default: return Fail(Internal("Unexpected value"));
    }
  }

  // The value of an unknown key is read and dropped.
  bool Skipped(bool opens) {
    if (!opens) {
      if (state_ == State::kSkipValue) state_ = State::kRootKey;
      return true;
    }
    ++skip_depth_;
    state_ = State::kSkipping;
    return true;
  }

  bool EndSkipped() {
    if (--skip_depth_ == 0) state_ = State::kRootKey;
    return true;
  }

  // After an event went to active_: on error keep its status; when its value
  // is complete, return to the enclosing structure.
  [[gnu::always_inline]] bool Forwarded(bool ok) {
    if (!ok) return Fail(active_->error());
    if (active_->depth() == base_depth_ && !active_->in_object()) {
      state_ = return_state_;
      active_ = nullptr;
    }
    return true;
  }

  bool RootKey(std::string_view key) {
    if (key == "signature_name") {
      state_ = State::kSignatureName;
    } else if (key == "instances" || key == "inputs") {
      if (format_) return Fail(InvalidArgument(kUnknownOrder));
      bool row = key == "instances";
      format_ = row ? PredictFormat::kRow : PredictFormat::kColumn;
      state_ = row ? State::kRowStart : State::kColumnStart;
    } else {
      state_ = State::kSkipValue;
    }
    return true;
  }

  // {"b64": ...} is a value, unless the model has an input called "b64".
  bool IsB64Value(std::string_view key) const { return key == "b64" && FindInput(key) < 0; }

  int FindInput(std::string_view name) const {
    for (size_t i = 0; i < inputs_.size(); ++i) {
      if (inputs_[i].name == name) return static_cast<int>(i);
    }
    return -1;
  }

  TensorBuilder& Create(size_t index) {
    // One input may take the whole body; more share it in unknown parts.
    builders_[index] =
        std::make_unique<TensorBuilder>(inputs_[index], inputs_.size() == 1 ? body_size_ : 0);
    order_.push_back(index);
    return *builders_[index];
  }

  std::string InputNames() const {
    std::string out;
    for (const auto& input : inputs_) out += (out.empty() ? "" : ", ") + input.name;
    return out;
  }

  // Unnamed form: the whole value (for rows, the "instances" list itself,
  // already opened) is the model's only input.
  bool StartSingleInput(const std::string& what, bool row) {
    if (inputs_.size() != 1) {
      return Fail(InvalidArgument("Invalid JSON structure. " + what + ", but the model has " +
                                  std::to_string(inputs_.size()) + " inputs (" + InputNames() +
                                  "): name them with " +
                                  (row ? "a list of objects" : "an object")));
    }
    active_ = &Create(0);
    base_depth_ = 0;
    return_state_ = State::kRootKey;
    state_ = State::kTensor;
    return !row || Forwarded(active_->StartArray());
  }

  bool StartInstance() {
    seen_in_instance_.assign(inputs_.size(), false);
    state_ = State::kRowNamedKey;
    return true;
  }

  int NamedIndex(std::string_view key) {
    int index = FindInput(key);
    if (index < 0) Fail(InvalidArgument("Unexpected input name: " + std::string(key)));
    return index;
  }

  // Named rows: each input's tensor is one list over the instances, opened
  // when the input first appears; each instance adds one element to it.
  bool NamedRowKey(std::string_view key) {
    int index = NamedIndex(key);
    if (index < 0) return false;
    if (seen_in_instance_[index]) {
      return Fail(InvalidArgument("Duplicate input name: " + std::string(key) + " in instance " +
                                  std::to_string(instances_)));
    }
    seen_in_instance_[index] = true;
    if (!builders_[index] && !Create(index).StartArray()) return Fail(builders_[index]->error());
    active_ = builders_[index].get();
    base_depth_ = 1;
    return_state_ = State::kRowNamedKey;
    state_ = State::kTensor;
    return true;
  }

  bool NamedColumnKey(std::string_view key) {
    int index = NamedIndex(key);
    if (index < 0) return false;
    if (builders_[index]) return Fail(InvalidArgument("Duplicate input name: " + std::string(key)));
    active_ = &Create(index);
    base_depth_ = 0;
    return_state_ = State::kColumnNamedKey;
    state_ = State::kTensor;
    return true;
  }

  bool FinishNamedRow() {
    for (size_t index : order_) {
      TensorBuilder& b = *builders_[index];
      if (!b.EndArray()) return Fail(b.error());
      if (b.outer_size() != instances_) {
        return Fail(InvalidArgument(std::string(kBatchSizesDiffer) + ": " +
                                    std::to_string(instances_) + " instances, input " + b.name() +
                                    " is in " + std::to_string(b.outer_size())));
      }
    }
    state_ = State::kRootKey;
    return true;
  }

  const std::vector<TensorInfo>& inputs_;
  std::vector<std::unique_ptr<TensorBuilder>> builders_;  // by model input index
  const size_t body_size_;
  std::vector<size_t> order_;                             // builders in order of appearance
  State state_ = State::kStart;
  std::optional<PredictFormat> format_;
  std::string signature_name_;
  TensorBuilder* active_ = nullptr;
  int base_depth_ = 0;
  State return_state_ = State::kRootKey;
  int skip_depth_ = 0;
  bool row_named_ = false;
  int64_t instances_ = 0;
  std::vector<bool> seen_in_instance_;
  Status error_;
};

}  // namespace

Result<DecodedPredict> DecodePredictRequest(const std::string& body,
                                            const std::vector<TensorInfo>& inputs) {
  PredictHandler handler(inputs, body.size());
  JsonReadResult read = JsonReader<PredictHandler>(body, handler).Parse();
  if (!read.ok()) {
    if (read.too_deep) return InvalidArgument(JsonNestingMessage(read.offset));
    if (read.code == rapidjson::kParseErrorTermination && !handler.error().ok()) {
      return handler.error();
    }
    return InvalidArgument(std::string("JSON Parse error: ") + rapidjson::GetParseError_En(read.code) +
                           " at offset: " + std::to_string(read.offset));
  }
  return handler.Finish();
}

}  // namespace tessera::tfs_rest
