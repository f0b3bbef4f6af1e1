#include "frontend/tfs_rest/predict_encoder.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <string_view>

#include "common/base64.h"
#include "tensor/half.h"
#include "frontend/tfs_rest/model_json.h"

namespace tessera::tfs_rest {
namespace {

// Longest value text (a double such as -2.2250738585072014e-308 plus ".0"),
// with its separating comma, rounded up.
constexpr size_t kMaxNumberChars = 32;

// The reply body, written through a raw pointer.
class JsonOut {
 public:
  explicit JsonOut(size_t reserve) { bytes_.resize(std::max<size_t>(reserve, 256)); }

  char* Room(size_t n) {
    if (bytes_.size() - size_ < n) bytes_.resize(std::max(bytes_.size() * 2, size_ + n));
    return bytes_.data() + size_;
  }
  void Advance(const char* end) { size_ = static_cast<size_t>(end - bytes_.data()); }
  void Put(char c) {
    *Room(1) = c;
    ++size_;
  }
  void Put(std::string_view s) {
    std::memcpy(Room(s.size()), s.data(), s.size());
    size_ += s.size();
  }
  // `s` as a quoted, escaped JSON string.
  void PutString(std::string_view s);
  void PutB64(std::string_view bytes) {
    Put("{\"b64\":\"");
    std::string encoded;
    Base64EncodeAppend(bytes, &encoded);
    Put(encoded);
    Put("\"}");
  }
  std::string Release() {
    bytes_.resize(size_);
    return std::move(bytes_);
  }

 private:
  std::string bytes_;
  size_t size_ = 0;
};

void JsonOut::PutString(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  char* p = Room(s.size() * 6 + 2);
  *p++ = '"';
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      *p++ = '\\';
      *p++ = static_cast<char>(c);
    } else if (c < 0x20) {
      *p++ = '\\';
      switch (c) {
        case '\n': *p++ = 'n'; break;
        case '\r': *p++ = 'r'; break;
        case '\t': *p++ = 't'; break;
        case '\b': *p++ = 'b'; break;
        case '\f': *p++ = 'f'; break;
        default:
          *p++ = 'u';
          *p++ = '0';
          *p++ = '0';
          *p++ = kHex[c >> 4];
          *p++ = kHex[c & 15];
      }
    } else {
      *p++ = static_cast<char>(c);
    }
  }
  *p++ = '"';
  Advance(p);
}

bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t n;
    uint32_t cp;
    if (c >= 0xc2 && c <= 0xdf) {
      n = 1, cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
      n = 2, cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      n = 3, cp = c & 0x07;
    } else {
      return false;
    }
    if (s.size() - i <= n) return false;
    for (size_t k = 1; k <= n; ++k) {
      auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80) return false;
      cp = cp << 6 | (cc & 0x3f);
    }
    if ((n == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (n == 3 && (cp < 0x10000 || cp > 0x10ffff))) {
      return false;
    }
    i += n + 1;
  }
  return true;
}

template <typename F>
char* WriteFloat(char* p, F v) {
  if (std::isnan(v)) return std::copy_n("NaN", 3, p);
  if (std::isinf(v)) return v < 0 ? std::copy_n("-Infinity", 9, p) : std::copy_n("Infinity", 8, p);
  char* end = std::to_chars(p, p + kMaxNumberChars, v).ptr;
  // "3" would read back as an integer: TF Serving writes whole floats as "3.0".
  if (v == std::trunc(v) && !std::memchr(p, 'e', static_cast<size_t>(end - p))) {
    *end++ = '.';
    *end++ = '0';
  }
  return end;
}

template <typename I>
char* WriteInt(char* p, I v) {
  return std::to_chars(p, p + kMaxNumberChars, v).ptr;
}

// One output, checked and ready to write.
struct OutputView {
  const NamedTensor* output = nullptr;
  std::vector<std::string_view> strings;  // BYTES elements
  bool bytes_as_b64 = false;              // name ends in "_bytes"
  int64_t offset = 0;                     // next element to write

  const Shape& shape() const { return output->tensor.shape(); }
};

Result<OutputView> MakeView(const NamedTensor& output) {
  OutputView view;
  view.output = &output;
  const Tensor& t = output.tensor;
  if (t.dtype() == DataType::kBytes) {
    TESSERA_ASSIGN_OR_RETURN(view.strings, SplitBytesElements(t.data(), t.byte_size()));
    if (static_cast<int64_t>(view.strings.size()) != t.element_count()) {
      return Internal("Output " + output.name + " holds " + std::to_string(view.strings.size()) +
                      " strings for shape " + ShapeToString(t.shape()));
    }
    view.bytes_as_b64 = output.name.ends_with("_bytes");
    return view;
  }
  if (ElementSize(t.dtype()) == 0) {
    return Internal("Output " + output.name + " has an unsupported type");
  }
  auto count = ElementCount(t.shape());
  if (!count || static_cast<uint64_t>(*count) * ElementSize(t.dtype()) != t.byte_size()) {
    return Internal("Output " + output.name + " has " + std::to_string(t.byte_size()) +
                    " bytes, which does not match shape " + ShapeToString(t.shape()) + " of " +
                    std::string(TfDataTypeName(t.dtype())));
  }
  return view;
}

template <typename T, typename Write>
void WriteRunOf(JsonOut& out, const uint8_t* data, int64_t offset, int64_t n, Write write) {
  const T* values = reinterpret_cast<const T*>(data) + offset;
  for (int64_t i = 0; i < n; ++i) {
    char* p = out.Room(kMaxNumberChars);
    if (i) *p++ = ',';
    T v;
    std::memcpy(&v, values + i, sizeof v);  // output buffers need not be aligned
    out.Advance(write(p, v));
  }
}

// Writes `n` consecutive elements from view.offset, comma-separated.
void WriteRun(JsonOut& out, OutputView& view, int64_t n) {
  const uint8_t* d = view.output->tensor.data();
  int64_t o = view.offset;
  view.offset += n;
  switch (view.output->tensor.dtype()) {
    case DataType::kFp32: return WriteRunOf<float>(out, d, o, n, WriteFloat<float>);
    case DataType::kFp64: return WriteRunOf<double>(out, d, o, n, WriteFloat<double>);
    case DataType::kFp16:
      return WriteRunOf<uint16_t>(out, d, o, n,
                                  [](char* p, uint16_t h) { return WriteFloat(p, static_cast<float>(HalfToDouble(h))); });
    case DataType::kBf16:
      return WriteRunOf<uint16_t>(out, d, o, n,
                                  [](char* p, uint16_t h) { return WriteFloat(p, static_cast<float>(Bf16ToDouble(h))); });
    case DataType::kInt8: return WriteRunOf<int8_t>(out, d, o, n, WriteInt<int>);
    case DataType::kInt16: return WriteRunOf<int16_t>(out, d, o, n, WriteInt<int>);
    case DataType::kInt32: return WriteRunOf<int32_t>(out, d, o, n, WriteInt<int32_t>);
    case DataType::kInt64: return WriteRunOf<int64_t>(out, d, o, n, WriteInt<int64_t>);
    case DataType::kUint8: return WriteRunOf<uint8_t>(out, d, o, n, WriteInt<unsigned>);
    case DataType::kUint16: return WriteRunOf<uint16_t>(out, d, o, n, WriteInt<unsigned>);
    case DataType::kUint32: return WriteRunOf<uint32_t>(out, d, o, n, WriteInt<uint32_t>);
    case DataType::kUint64: return WriteRunOf<uint64_t>(out, d, o, n, WriteInt<uint64_t>);
    case DataType::kBool:
      return WriteRunOf<uint8_t>(out, d, o, n, [](char* p, uint8_t b) {
        return b ? std::copy_n("true", 4, p) : std::copy_n("false", 5, p);
      });
    case DataType::kBytes:
      for (int64_t i = 0; i < n; ++i) {
        if (i) out.Put(',');
        std::string_view s = view.strings[o + i];
        if (view.bytes_as_b64 || !IsValidUtf8(s)) {
          out.PutB64(s);
        } else {
          out.PutString(s);
        }
      }
      return;
    case DataType::kInvalid: return;  // rejected by MakeView
  }
}

// Writes the sub-tensor spanning dims [dim, rank) at view.offset.
void WriteNested(JsonOut& out, OutputView& view, size_t dim) {
  const Shape& shape = view.shape();
  if (dim == shape.size()) return WriteRun(out, view, 1);
  out.Put('[');
  if (dim + 1 == shape.size()) {
    WriteRun(out, view, shape[dim]);
  } else {
    for (int64_t i = 0; i < shape[dim]; ++i) {
      if (i) out.Put(',');
      WriteNested(out, view, dim + 1);
    }
  }
  out.Put(']');
}

Status CheckBatch(const std::vector<OutputView>& views) {
  for (const auto& view : views) {
    if (view.shape().empty()) {
      return InvalidArgument("Tensor name: " + view.output->name + " has no shape information");
    }
    int64_t batch = views.front().shape().front();
    if (view.shape().front() != batch) {
      return InvalidArgument("Tensor name: " + view.output->name +
                             " has inconsistent batch size: " +
                             std::to_string(view.shape().front()) +
                             " expecting: " + std::to_string(batch));
    }
  }
  return Status::Ok();
}

void WriteRows(JsonOut& out, std::vector<OutputView>& views) {
  out.Put("{\"predictions\":[");
  int64_t batch = views.front().shape().front();
  for (int64_t i = 0; i < batch; ++i) {
    if (i) out.Put(',');
    if (views.size() == 1) {
      WriteNested(out, views.front(), 1);
      continue;
    }
    out.Put('{');
    for (size_t k = 0; k < views.size(); ++k) {
      if (k) out.Put(',');
      out.PutString(views[k].output->name);
      out.Put(':');
      WriteNested(out, views[k], 1);
    }
    out.Put('}');
  }
  out.Put("]}");
}

void WriteColumns(JsonOut& out, std::vector<OutputView>& views) {
  out.Put("{\"outputs\":");
  if (views.size() == 1) {
    WriteNested(out, views.front(), 0);
  } else {
    out.Put('{');
    for (size_t k = 0; k < views.size(); ++k) {
      if (k) out.Put(',');
      out.PutString(views[k].output->name);
      out.Put(':');
      WriteNested(out, views[k], 0);
    }
    out.Put('}');
  }
  out.Put('}');
}

}  // namespace

Result<std::string> EncodePredictResponse(const std::vector<NamedTensor>& outputs,
                                          PredictFormat format) {
  if (outputs.empty()) return InvalidArgument("Cannot convert empty tensor map to JSON");
  std::vector<OutputView> views;
  size_t estimate = 64;
  for (const auto& output : outputs) {
    TESSERA_ASSIGN_OR_RETURN(OutputView view, MakeView(output));
    views.push_back(std::move(view));
    size_t count = static_cast<size_t>(output.tensor.element_count());
    estimate += output.name.size() + 4 +
                (output.tensor.dtype() == DataType::kBytes ? output.tensor.byte_size() * 4 / 3 + count * 12
                                                           : count * 12);
  }
  JsonOut out(estimate);
  if (format == PredictFormat::kRow) {
    TESSERA_RETURN_IF_ERROR(CheckBatch(views));
    WriteRows(out, views);
  } else {
    WriteColumns(out, views);
  }
  return out.Release();
}

}  // namespace tessera::tfs_rest
