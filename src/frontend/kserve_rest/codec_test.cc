#include "frontend/kserve_rest/codec.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>

#include "common/json_depth.h"
#include "tensor/half.h"

namespace tessera::kserve_rest {
namespace {

template <typename T>
std::vector<T> Values(const Tensor& t) {
  std::vector<T> out(t.byte_size() / sizeof(T));
  if (!out.empty()) std::memcpy(out.data(), t.data(), t.byte_size());
  return out;
}

// Without a binary part both forms must agree; the server reads in place.
Result<DecodedInfer> Decode(const std::string& json, std::string_view binary = {}) {
  if (binary.empty()) {
    Result<DecodedInfer> copied = DecodeInferRequest(std::string_view(json), binary, nullptr);
    Result<DecodedInfer> in_place = DecodeInferRequest(json, nullptr);
    EXPECT_EQ(copied.ok(), in_place.ok());
    if (!copied.ok()) {
      EXPECT_EQ(copied.status().message(), in_place.status().message());
    }
    return in_place;
  }
  return DecodeInferRequest(json, binary, nullptr);
}

// Decodes one input {"name":"x","shape":SHAPE,"datatype":TYPE,"data":DATA}.
Result<DecodedInfer> DecodeOne(const std::string& type, const std::string& shape,
                               const std::string& data) {
  return Decode(R"({"inputs":[{"name":"x","shape":)" + shape + R"(,"datatype":")" + type +
                R"(","data":)" + data + "}]}");
}

// A copy: callers pass temporaries, which die at the end of their statement.
Tensor Only(const Result<DecodedInfer>& decoded) {
  EXPECT_TRUE(decoded.ok()) << decoded.status().ToString();
  static const Tensor kEmpty;
  if (!decoded.ok() || decoded->request.inputs.size() != 1) return kEmpty;
  return decoded->request.inputs[0].tensor;
}

void ExpectError(const Result<DecodedInfer>& decoded, const std::string& text) {
  ASSERT_FALSE(decoded.ok()) << "expected an error containing: " << text;
  EXPECT_EQ(decoded.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(decoded.status().message().find(text), std::string::npos) << decoded.status().message();
}

TEST(DecodeTest, EveryDatatypeFlat) {
  const Tensor b = Only(DecodeOne("BOOL", "[3]", "[true,false,true]"));
  EXPECT_EQ(b.dtype(), DataType::kBool);
  EXPECT_EQ(Values<uint8_t>(b), (std::vector<uint8_t>{1, 0, 1}));
  EXPECT_EQ(Values<uint8_t>(Only(DecodeOne("UINT8", "[2]", "[0,255]"))), (std::vector<uint8_t>{0, 255}));
  EXPECT_EQ(Values<uint16_t>(Only(DecodeOne("UINT16", "[2]", "[1,65535]"))),
            (std::vector<uint16_t>{1, 65535}));
  EXPECT_EQ(Values<uint32_t>(Only(DecodeOne("UINT32", "[1]", "[4294967295]"))),
            (std::vector<uint32_t>{4294967295u}));
  EXPECT_EQ(Values<uint64_t>(Only(DecodeOne("UINT64", "[2]", "[0,18446744073709551615]"))),
            (std::vector<uint64_t>{0, UINT64_MAX}));
  EXPECT_EQ(Values<int8_t>(Only(DecodeOne("INT8", "[2]", "[-128,127]"))), (std::vector<int8_t>{-128, 127}));
  EXPECT_EQ(Values<int16_t>(Only(DecodeOne("INT16", "[2]", "[-32768,32767]"))),
            (std::vector<int16_t>{-32768, 32767}));
  EXPECT_EQ(Values<int32_t>(Only(DecodeOne("INT32", "[2]", "[-2147483648,2147483647]"))),
            (std::vector<int32_t>{INT32_MIN, INT32_MAX}));
  EXPECT_EQ(Values<int64_t>(Only(DecodeOne("INT64", "[3]", "[-9223372036854775808,9223372036854775807,5]"))),
            (std::vector<int64_t>{INT64_MIN, INT64_MAX, 5}));
  EXPECT_EQ(Values<uint16_t>(Only(DecodeOne("FP16", "[3]", "[1.5,-2,65504]"))),
            (std::vector<uint16_t>{0x3e00, 0xc000, 0x7bff}));
  EXPECT_EQ(Values<uint16_t>(Only(DecodeOne("BF16", "[2]", "[1.0,-3]"))),
            (std::vector<uint16_t>{0x3f80, 0xc040}));
  EXPECT_EQ(Values<float>(Only(DecodeOne("FP32", "[3]", "[0.1,-2,3e10]"))),
            (std::vector<float>{0.1f, -2.0f, 3e10f}));
  EXPECT_EQ(Values<double>(Only(DecodeOne("FP64", "[2]", "[0.1,1e300]"))),
            (std::vector<double>{0.1, 1e300}));
  const Tensor& s = Only(DecodeOne("BYTES", "[2]", R"(["ab","\u00e9\n"])"));
  EXPECT_EQ(s.dtype(), DataType::kBytes);
  auto elements = SplitBytesElements(s.data(), s.byte_size());
  ASSERT_TRUE(elements.ok());
  EXPECT_EQ(*elements, (std::vector<std::string_view>{"ab", "\xc3\xa9\n"}));
}

TEST(DecodeTest, FullRequest) {
  auto decoded = Decode(R"({
    "id": "req-1", "model_name": "ignored",
    "parameters": {"binary_data_output": true, "other": {"nested": [1, {"x": 2}]}},
    "inputs": [
      {"name": "a", "shape": [1, 2], "datatype": "FP32", "parameters": {"foo": "bar"}, "data": [1, 2]},
      {"name": "b", "shape": [2], "datatype": "INT64", "data": [3, 4], "extra": [[1]]}
    ],
    "outputs": [{"name": "sum", "parameters": {"binary_data": false}}, {"name": "diff"}]
  })");
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  const InferRequest& r = decoded->request;
  EXPECT_EQ(r.id, "req-1");
  ASSERT_EQ(r.inputs.size(), 2u);
  EXPECT_EQ(r.inputs[0].name, "a");
  EXPECT_EQ(r.inputs[0].tensor.shape(), (Shape{1, 2}));
  EXPECT_EQ(Values<float>(r.inputs[0].tensor), (std::vector<float>{1, 2}));
  EXPECT_EQ(r.inputs[1].name, "b");
  EXPECT_EQ(Values<int64_t>(r.inputs[1].tensor), (std::vector<int64_t>{3, 4}));
  EXPECT_EQ(r.requested_outputs, (std::vector<std::string>{"sum", "diff"}));
  EXPECT_TRUE(decoded->format.binary_default);
  EXPECT_FALSE(decoded->format.IsBinary("sum"));
  EXPECT_TRUE(decoded->format.IsBinary("diff"));
}

TEST(DecodeTest, NestedDataIsRowMajor) {
  EXPECT_EQ(Values<int32_t>(Only(DecodeOne("INT32", "[2,3]", "[[1,2,3],[4,5,6]]"))),
            (std::vector<int32_t>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(Values<int32_t>(Only(DecodeOne("INT32", "[2,1,2]", "[[[1,2]],[[3,4]]]"))),
            (std::vector<int32_t>{1, 2, 3, 4}));
  // Partial nesting: the element count is what must match.
  EXPECT_EQ(Values<int32_t>(Only(DecodeOne("INT32", "[2,2]", "[[1,2,3,4]]"))),
            (std::vector<int32_t>{1, 2, 3, 4}));
  EXPECT_EQ(Only(DecodeOne("FP32", "[0,4]", "[]")).byte_size(), 0u);
  EXPECT_EQ(Values<float>(Only(DecodeOne("FP32", "[]", "[7]"))), (std::vector<float>{7}));
}

TEST(DecodeTest, RaggedAndMixedNestingAreRejected) {
  ExpectError(DecodeOne("INT32", "[3]", "[[1,2],[3]]"), "ragged");
  ExpectError(DecodeOne("INT32", "[4]", "[[1,2],[3,[4]]]"), "an array where values were expected");
  ExpectError(DecodeOne("INT32", "[3]", "[[1,2],3]"), "a value where an array was expected");
  ExpectError(DecodeOne("INT32", "[3]", "[1,[2,3]]"), "an array where values were expected");
  ExpectError(DecodeOne("INT32", "[2,2]", "[[[1],[2]],[[3],[4]],[5]]"), "");
}

TEST(DecodeTest, ElementCountMustMatchShape) {
  ExpectError(DecodeOne("FP32", "[2,2]", "[1,2,3]"), "3 elements for shape (2,2) (4 expected)");
  ExpectError(DecodeOne("FP32", "[1]", "[1,2]"), "input 'x'");
}

TEST(DecodeTest, OutOfRangeValues) {
  ExpectError(DecodeOne("UINT8", "[1]", "[256]"), "value 256 is out of range for datatype UINT8");
  ExpectError(DecodeOne("UINT32", "[1]", "[-1]"), "out of range");
  ExpectError(DecodeOne("INT8", "[1]", "[-129]"), "out of range");
  ExpectError(DecodeOne("INT32", "[1]", "[2147483648]"), "out of range");
  ExpectError(DecodeOne("INT64", "[1]", "[9223372036854775808]"), "out of range");
  ExpectError(DecodeOne("UINT64", "[1]", "[18446744073709551616]"),
              "value 18446744073709551616 is out of range for datatype UINT64");
  ExpectError(DecodeOne("FP64", "[1]", "[1e400]"), "Number too big to be stored in double");
  ExpectError(DecodeOne("FP32", "[1]", "[1e400]"), "Number too big to be stored in double");
  ExpectError(DecodeOne("INT8", "[1]", "[1.0]"), "expected an integer for datatype INT8");
  ExpectError(DecodeOne("INT64", "[1]", "[1e2]"), "expected an integer for datatype INT64");
  EXPECT_EQ(Values<double>(Only(DecodeOne("FP64", "[2]", "[1e-400,-1e-400]"))), (std::vector<double>{0, -0.0}));
  ExpectError(DecodeOne("FP32", "[1]", "[1e39]"), "out of range for datatype FP32");
  ExpectError(DecodeOne("FP16", "[1]", "[65520]"), "out of range for datatype FP16");
  ExpectError(DecodeOne("BF16", "[1]", "[-1e39]"), "out of range");
  EXPECT_EQ(Values<uint16_t>(Only(DecodeOne("FP16", "[1]", "[65519]"))), (std::vector<uint16_t>{0x7bff}));
  // The largest float, printed in shortest form, is just above FLT_MAX as a
  // double but still rounds to it.
  EXPECT_EQ(Values<float>(Only(DecodeOne("FP32", "[1]", "[3.4028235e38]"))),
            (std::vector<float>{std::numeric_limits<float>::max()}));
  ExpectError(DecodeOne("FP32", "[1]", "[3.4028236e38]"), "out of range");
}

TEST(DecodeTest, EveryIntegerTypeTakesBothEndsAndRefusesOneBeyond) {
  struct Case {
    const char* type;
    const char* min_minus_1;
    const char* min;
    const char* max;
    const char* max_plus_1;
  };
  const Case cases[] = {
      {"INT8", "-129", "-128", "127", "128"},
      {"INT16", "-32769", "-32768", "32767", "32768"},
      {"INT32", "-2147483649", "-2147483648", "2147483647", "2147483648"},
      {"INT64", "-9223372036854775809", "-9223372036854775808", "9223372036854775807",
       "9223372036854775808"},
      {"UINT8", "-1", "0", "255", "256"},
      {"UINT16", "-1", "0", "65535", "65536"},
      {"UINT32", "-1", "0", "4294967295", "4294967296"},
      {"UINT64", "-1", "0", "18446744073709551615", "18446744073709551616"},
  };
  for (const Case& c : cases) {
    auto ends = DecodeOne(c.type, "[2]", std::string("[") + c.min + "," + c.max + "]");
    ASSERT_TRUE(ends.ok()) << c.type << ": " << ends.status().message();
    for (const char* beyond : {c.min_minus_1, c.max_plus_1}) {
      auto r = DecodeOne(c.type, "[2]", std::string("[0,") + beyond + "]");
      ASSERT_FALSE(r.ok()) << c.type << " " << beyond;
      EXPECT_EQ(r.status().message(), std::string("Invalid data in input 'x': value ") + beyond +
                                          " is out of range for datatype " + c.type);
    }
  }
  EXPECT_EQ(Values<int64_t>(Only(DecodeOne("INT64", "[1]", "[-9223372036854775808]"))),
            (std::vector<int64_t>{INT64_MIN}));
}

TEST(DecodeTest, EveryFloatTypeRefusesBothEnds) {
  for (const char* v : {"1e39", "-1e39", "3.4028236e38", "-3.4028236e38"}) {
    auto r = DecodeOne("FP32", "[1]", std::string("[") + v + "]");
    ASSERT_FALSE(r.ok()) << v;
    EXPECT_EQ(r.status().message(),
              std::string("Invalid data in input 'x': value ") + v + " is out of range for datatype FP32");
  }
  ExpectError(DecodeOne("FP16", "[1]", "[-65520]"),
              "Invalid data in input 'x': value -65520 is out of range for datatype FP16");
  ExpectError(DecodeOne("BF16", "[1]", "[1e39]"), "is out of range for datatype BF16");
  EXPECT_EQ(Values<uint16_t>(Only(DecodeOne("FP16", "[2]", "[-65504,65504]"))),
            (std::vector<uint16_t>{0xfbff, 0x7bff}));
  EXPECT_EQ(Values<float>(Only(DecodeOne("FP32", "[2]", "[-3.4028235e38,3.4028235e38]"))),
            (std::vector<float>{-std::numeric_limits<float>::max(), std::numeric_limits<float>::max()}));
  EXPECT_EQ(Values<double>(Only(DecodeOne("FP64", "[2]", "[-1.7976931348623157e308,1.7976931348623157e308]"))),
            (std::vector<double>{-std::numeric_limits<double>::max(), std::numeric_limits<double>::max()}));
  ExpectError(DecodeOne("FP64", "[1]", "[-1e400]"), "Number too big to be stored in double");
}

// --- Nesting bound ----------------------------------------------------------

constexpr char kDataPrefix[] = R"({"inputs":[{"name":"x","shape":[1],"datatype":"FP32","data":)";

// A request whose "data" nests `levels` arrays; the document has 3 more
// levels around it ({, "inputs": [, {).
std::string DataNestedTo(int levels) {
  return kDataPrefix + std::string(levels, '[') + "1" + std::string(levels, ']') + "}]}";
}

std::string Repeated(std::string_view piece, int times) {
  std::string out;
  out.reserve(piece.size() * times);
  for (int i = 0; i < times; ++i) out += piece;
  return out;
}

void ExpectTooDeep(const std::string& json, size_t offset) {
  auto r = Decode(json);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(),
            "JSON nesting deeper than 64 levels at offset " + std::to_string(offset));
}

TEST(DecodeTest, NestingIsBoundedAt64Levels) {
  static_assert(kMaxJsonDepth == 64);
  const size_t data = std::string_view(kDataPrefix).size();
  // 3 + 61 = 64 levels: decoded (one element; the shape only counts them).
  EXPECT_EQ(Values<float>(Only(Decode(DataNestedTo(61)))), (std::vector<float>{1}));
  // Level 65 is the 62nd '[' of "data".
  ExpectTooDeep(DataNestedTo(62), data + 61);
  // Values of ignored keys count too: {"parameters":{"p": [[[...
  const std::string params = R"({"parameters":{"p":)";
  ExpectTooDeep(params + std::string(63, '[') + std::string(63, ']') + R"(}, "inputs": []})",
                params.size() + 62);
  auto at_limit = Decode(params + std::string(62, '[') + std::string(62, ']') + R"(}, "inputs": []})");
  EXPECT_TRUE(at_limit.ok()) << at_limit.status().message();
}

TEST(DecodeTest, HostileNestingIsRefusedWithoutRecursing) {
  const std::string infer = R"({"inputs":[{"name":"x","shape":[2,4],"datatype":"FP32","data":)";
  ExpectTooDeep(infer + std::string(100000, '[') + std::string(100000, ']') + "}]}",
                infer.size() + 61);
  ExpectTooDeep(infer + std::string(1000000, '['), infer.size() + 61);
  const std::string params = R"({"parameters":{"p":)";
  ExpectTooDeep(params + std::string(100000, '[') + std::string(100000, ']') + "}}",
                params.size() + 62);
  ExpectTooDeep(Repeated(R"({"a":)", 100000), 5 * 64);
  ExpectTooDeep(Repeated(R"({"a":)", 1000000) + "1" + std::string(1000000, '}'), 5 * 64);
  ExpectError(Decode(std::string(1000000, '[')), "The request body must be a JSON object");
}

TEST(DecodeTest, WrongJsonTypesNameTheInput) {
  ExpectError(DecodeOne("FP32", "[1]", R"(["1"])"), "Invalid data in input 'x': expected a number for datatype FP32");
  ExpectError(DecodeOne("INT64", "[1]", "[1.5]"), "input 'x': expected an integer");
  ExpectError(DecodeOne("INT64", "[1]", "[1.0]"), "expected an integer");
  ExpectError(DecodeOne("BOOL", "[1]", "[1]"), "expected a boolean");
  ExpectError(DecodeOne("BYTES", "[1]", "[1]"), "expected a string");
  ExpectError(DecodeOne("FP32", "[1]", "[null]"), "expected a number");
  ExpectError(DecodeOne("FP32", "[1]", R"([{"a":1}])"), "input 'x': unexpected object");
  ExpectError(DecodeOne("FP32", "[1]", "5"), "'data' in input 'x': expected an array");
  ExpectError(DecodeOne("FP32", "2", "[5]"), "'shape' in input 'x': expected an array");
  ExpectError(DecodeOne("FP32", "[-1]", "[5]"), "dims must be non-negative integers");
  ExpectError(DecodeOne("FP32", "[[1]]", "[5]"), "dims must be non-negative integers");
  ExpectError(DecodeOne("FP33", "[1]", "[5]"), "Invalid datatype 'FP33' of input 'x'");
  ExpectError(Decode(R"({"inputs":[{"name":7}]})"), "'name' in input #0: expected a string");
  ExpectError(Decode(R"({"inputs":{}})"), "'inputs': expected an array");
  ExpectError(Decode(R"({"inputs":[1]})"), "each input must be an object");
  ExpectError(Decode(R"({"id":1,"inputs":[]})"), "'id' in the request: expected a string");
  ExpectError(Decode(R"({"parameters":{"binary_data_output":"yes"},"inputs":[]})"), "expected a boolean");
  ExpectError(Decode(R"({"inputs":[],"outputs":[{"name":"y","parameters":{"binary_data":1}}]})"),
              "expected a boolean");
  ExpectError(Decode(R"([1,2])"), "must be a JSON object");
}

TEST(DecodeTest, MalformedJson) {
  ExpectError(Decode(R"({"inputs":[)"), "Invalid JSON at offset");
  ExpectError(Decode(R"({"inputs":[]} x)"), "Invalid JSON at offset 14");
  ExpectError(Decode(""), "Invalid JSON");
  ExpectError(Decode(std::string(R"({"inputs":[]})") + '\0' + "x"), "Invalid JSON at offset 13: unexpected NUL");
  ExpectError(Decode(std::string(R"({"id":"a)") + '\0' + R"("})"), "Invalid JSON at offset");
}

TEST(DecodeTest, MissingFields) {
  ExpectError(Decode(R"({})"), "Missing 'inputs'");
  ExpectError(Decode(R"({"inputs":[{"shape":[1],"datatype":"FP32","data":[1]}]})"), "Missing 'name' of input #0");
  ExpectError(Decode(R"({"inputs":[{"name":"x","datatype":"FP32","data":[1]}]})"), "Missing 'shape'");
  ExpectError(Decode(R"({"inputs":[{"name":"x","shape":[1],"data":[1]}]})"), "Missing 'datatype'");
  ExpectError(Decode(R"({"inputs":[{"name":"x","shape":[1],"datatype":"FP32"}]})"), "Missing 'data'");
  ExpectError(Decode(R"({"inputs":[],"outputs":[{}]})"), "Missing 'name' of a requested output");
}

TEST(DecodeTest, RepeatedNamesAndData) {
  ExpectError(Decode(R"({"inputs":[{"name":"x","shape":[1],"datatype":"FP32","data":[1]},
                                    {"name":"x","shape":[1],"datatype":"FP32","data":[2]}]})"),
              "Repeated input name 'x'");
  ExpectError(Decode(R"({"inputs":[{"name":"x","shape":[1],"datatype":"FP32","data":[1],"data":[2]}]})"),
              "Repeated 'data'");
}

TEST(DecodeTest, DataBeforeDatatypeIsBufferedThenConverted) {
  auto decoded = Decode(R"({"inputs":[{"data":[[1,2],[3,4]],"name":"x","datatype":"INT16","shape":[2,2]}]})");
  EXPECT_EQ(Values<int16_t>(Only(decoded)), (std::vector<int16_t>{1, 2, 3, 4}));
  auto strings = Decode(R"({"inputs":[{"data":["a","bc"],"datatype":"BYTES","name":"s","shape":[2]}]})");
  const Tensor& s = Only(strings);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(s.data()), s.byte_size()),
            std::string("\1\0\0\0a\2\0\0\0bc", 11));
  ExpectError(Decode(R"({"inputs":[{"data":[300],"datatype":"UINT8","name":"x","shape":[1]}]})"),
              "out of range");
}

TEST(DecodeTest, BufferedNumbersConvertLikeDirectOnes) {
  // Enough numbers to move the buffered texts around as the buffer grows.
  std::string data = "[";
  for (int i = 0; i < 100; ++i) data += (i ? "," : "") + std::to_string(i) + ".5";
  data += "]";
  auto values = Values<float>(Only(
      Decode(R"({"inputs":[{"data":)" + data + R"(,"name":"x","datatype":"FP32","shape":[100]}]})")));
  ASSERT_EQ(values.size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(values[i], i + 0.5f);
  EXPECT_EQ(Values<float>(Only(Decode(
                R"({"inputs":[{"data":[1.00000005960464477539062500001],"name":"x","datatype":"FP32","shape":[1]}]})"))),
            (std::vector<float>{1.00000012f}));
  ExpectError(Decode(R"({"inputs":[{"data":[1.0],"datatype":"INT8","name":"x","shape":[1]}]})"),
              "Invalid data in input 'x': expected an integer for datatype INT8");
  ExpectError(Decode(R"({"inputs":[{"data":[1e400],"datatype":"FP32","name":"x","shape":[1]}]})"),
              "Invalid JSON at offset 20: Number too big to be stored in double");
}

TEST(DecodeTest, NanAndInfinityAreAccepted) {
  auto values = Values<float>(Only(DecodeOne("FP32", "[3]", "[NaN,Infinity,-Infinity]")));
  ASSERT_EQ(values.size(), 3u);
  EXPECT_TRUE(std::isnan(values[0]));
  EXPECT_EQ(values[1], std::numeric_limits<float>::infinity());
  EXPECT_EQ(values[2], -std::numeric_limits<float>::infinity());
  EXPECT_EQ(Values<uint16_t>(Only(DecodeOne("FP16", "[1]", "[Infinity]"))), (std::vector<uint16_t>{0x7c00}));
  ExpectError(DecodeOne("INT32", "[1]", "[NaN]"), "expected an integer");
}

TEST(DecodeTest, BinaryInputsAreBorrowedInOrder) {
  float a[2] = {1.5f, -2.5f};
  int64_t c[1] = {42};
  std::string binary(reinterpret_cast<const char*>(a), sizeof a);
  binary += std::string("\3\0\0\0abc", 7);
  binary.append(reinterpret_cast<const char*>(c), sizeof c);
  auto keepalive = std::make_shared<int>(1);
  auto decoded = DecodeInferRequest(R"({"inputs":[
      {"name":"a","shape":[2],"datatype":"FP32","parameters":{"binary_data_size":8}},
      {"name":"j","shape":[1],"datatype":"INT32","data":[7]},
      {"name":"s","shape":[1],"datatype":"BYTES","parameters":{"binary_data_size":7}},
      {"name":"c","shape":[1,1],"datatype":"INT64","parameters":{"binary_data_size":8}}]})",
                                    binary, keepalive);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  const auto& inputs = decoded->request.inputs;
  ASSERT_EQ(inputs.size(), 4u);
  EXPECT_EQ(inputs[0].tensor.data(), reinterpret_cast<const uint8_t*>(binary.data()));
  EXPECT_EQ(Values<float>(inputs[0].tensor), (std::vector<float>{1.5f, -2.5f}));
  EXPECT_EQ(Values<int32_t>(inputs[1].tensor), (std::vector<int32_t>{7}));
  EXPECT_EQ(inputs[2].tensor.data(), reinterpret_cast<const uint8_t*>(binary.data() + 8));
  EXPECT_EQ(inputs[2].tensor.byte_size(), 7u);
  EXPECT_EQ(Values<int64_t>(inputs[3].tensor), (std::vector<int64_t>{42}));
  EXPECT_GT(keepalive.use_count(), 1);  // tensors hold it
}

TEST(DecodeTest, BinaryInputErrors) {
  const std::string eight(8, '\0');
  auto one = [](const std::string& params) {
    return R"({"inputs":[{"name":"a","shape":[2],"datatype":"FP32",)" + params + "}]}";
  };
  ExpectError(Decode(one(R"("parameters":{"binary_data_size":8},"data":[1,2])"), eight),
              "Input 'a' has both JSON 'data' and binary data");
  ExpectError(Decode(one(R"("parameters":{"binary_data_size":8})"), eight + "x"),
              "The binary part of the body has 9 bytes but the inputs take 8 "
              "(binary_data_size, or shape x datatype size)");
  ExpectError(Decode(one(R"("parameters":{"binary_data_size":8})"), "1234"), "runs past the end");
  ExpectError(Decode(one(R"("parameters":{"binary_data_size":4})"), "1234"),
              "Expected: 8 bytes; Actual: 4 bytes");
  ExpectError(Decode(one(R"("parameters":{"binary_data_size":-1})"), ""),
              "'binary_data_size' in input 'a': expected a non-negative integer");
  ExpectError(Decode(one(R"("data":[1,2])"), "xx"), "The binary part of the body has 2 bytes");
  ExpectError(Decode(R"({"inputs":[{"name":"s","shape":[2],"datatype":"BYTES","parameters":{"binary_data_size":5}}]})",
                     std::string("\1\0\0\0a", 5)),
              "1 BYTES elements; shape (2) needs 2");
  ExpectError(Decode(R"({"inputs":[{"name":"s","shape":[2],"datatype":"BYTES","parameters":{"binary_data_size":5}}]})",
                     std::string("\x09\0\0\0a", 5)),
              "Invalid binary data of input 's'");
}

TEST(DecodeTest, OneBytesInputWithoutSizeTakesTheWholeBinaryPart) {
  // The OVMS docs' request: one BYTES input, no binary_data_size, then a
  // 4-byte length and the image.
  const std::string jpeg("\xFF\xD8\xFF\xE0 jpeg", 9);
  std::string binary = std::string("\x09\0\0\0", 4) + jpeg;
  auto decoded = Decode(R"({"inputs":[{"name":"0","shape":[1],"datatype":"BYTES"}]})", binary);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  const Tensor& t = decoded->request.inputs[0].tensor;
  auto elements = SplitBytesElements(t.data(), t.byte_size());
  ASSERT_TRUE(elements.ok());
  ASSERT_EQ(elements->size(), 1u);
  EXPECT_EQ((*elements)[0], jpeg);
  // Without the length prefix too (one element taken whole).
  decoded = Decode(R"({"inputs":[{"name":"0","shape":[1],"datatype":"BYTES"}]})", jpeg);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
}

TEST(DecodeTest, FixedSizeInputsWithoutSizeTakeShapeTimesElementSize) {
  float a[2] = {1.5f, -2.5f};
  int64_t c[1] = {42};
  std::string binary(reinterpret_cast<const char*>(a), sizeof a);
  binary += std::string("\3\0\0\0abc", 7);
  binary.append(reinterpret_cast<const char*>(c), sizeof c);
  // FP32 and INT64 sizes follow from their shapes; the BYTES input in between
  // takes what they leave (7 bytes); a JSON input takes nothing.
  auto decoded = Decode(R"({"inputs":[
      {"name":"a","shape":[2],"datatype":"FP32"},
      {"name":"j","shape":[1],"datatype":"INT32","data":[7]},
      {"name":"s","shape":[1],"datatype":"BYTES"},
      {"name":"c","shape":[1,1],"datatype":"INT64"}]})", binary);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  const auto& inputs = decoded->request.inputs;
  ASSERT_EQ(inputs.size(), 4u);
  EXPECT_EQ(Values<float>(inputs[0].tensor), (std::vector<float>{1.5f, -2.5f}));
  EXPECT_EQ(Values<int32_t>(inputs[1].tensor), (std::vector<int32_t>{7}));
  EXPECT_EQ(inputs[2].tensor.data(), reinterpret_cast<const uint8_t*>(binary.data() + 8));
  EXPECT_EQ(inputs[2].tensor.byte_size(), 7u);
  EXPECT_EQ(Values<int64_t>(inputs[3].tensor), (std::vector<int64_t>{42}));
  // Mixed with declared sizes (tensors borrow the binary part: keep it).
  const std::string a_and_c = binary.substr(0, 8) + binary.substr(15);
  decoded = Decode(R"({"inputs":[
      {"name":"a","shape":[2],"datatype":"FP32","parameters":{"binary_data_size":8}},
      {"name":"c","shape":[1],"datatype":"INT64"}]})",
                   a_and_c);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(Values<int64_t>(decoded->request.inputs[1].tensor), (std::vector<int64_t>{42}));
}

TEST(DecodeTest, ImpliedBinarySizeErrors) {
  const std::string twelve(12, '\0');
  const std::string two_fp32 = R"({"inputs":[{"name":"a","shape":[2],"datatype":"FP32"},)"
                               R"({"name":"b","shape":[1],"datatype":"FP32"}]})";
  EXPECT_TRUE(Decode(two_fp32, twelve).ok());
  ExpectError(Decode(two_fp32, twelve + "x"),
              "The binary part of the body has 13 bytes but the inputs take 12 "
              "(binary_data_size, or shape x datatype size)");
  ExpectError(Decode(two_fp32, std::string(8, '\0')),
              "Binary data of input 'b' (4 bytes) runs past the end of the body");
  // Two BYTES inputs cannot both take "the rest".
  ExpectError(Decode(R"({"inputs":[{"name":"s","shape":[1],"datatype":"BYTES"},)"
                     R"({"name":"t","shape":[1],"datatype":"BYTES"}]})", "abcd"),
              "Inputs 's' and 't' are BYTES without parameters.binary_data_size: only one "
              "BYTES input may leave its binary size implied");
  // The others take more than there is: nothing is left for the BYTES input.
  ExpectError(Decode(R"({"inputs":[{"name":"s","shape":[1],"datatype":"BYTES"},)"
                     R"({"name":"a","shape":[4],"datatype":"FP32"}]})", twelve),
              "The binary part of the body has 12 bytes but the inputs other than 's' take 16 "
              "(binary_data_size, or shape x datatype size)");
  // A shape too large to be real.
  ExpectError(Decode(R"({"inputs":[{"name":"a","shape":[4611686018427387904],"datatype":"FP64"}]})",
                     twelve),
              "runs past the end of the body");
  // Without a binary part the data is missing.
  ExpectError(Decode(R"({"inputs":[{"name":"a","shape":[2],"datatype":"FP32"}]})", ""),
              "Missing 'data' of input 'a'");
}

TEST(DecodeBinaryTest, OneUnprefixedBytesElementIsTakenWhole) {
  const std::string image("\xFF\xD8\xFF\xE0 jpeg", 9);
  auto decoded = Decode(R"({"inputs":[{"name":"s","shape":[1],"datatype":"BYTES","parameters":{"binary_data_size":9}}]})",
                        image);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  const Tensor& t = decoded->request.inputs[0].tensor;
  auto elements = SplitBytesElements(t.data(), t.byte_size());
  ASSERT_TRUE(elements.ok());
  ASSERT_EQ(elements->size(), 1u);
  EXPECT_EQ((*elements)[0], image);
}

TEST(DecodeRawTest, DeducesShapeAndBorrows) {
  std::string body(64, '\0');
  auto decoded = DecodeRawBinaryRequest({"x", DataType::kFp32, {-1, 16}}, body, nullptr);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_TRUE(decoded->format.binary_default);
  ASSERT_EQ(decoded->request.inputs.size(), 1u);
  EXPECT_EQ(decoded->request.inputs[0].name, "x");
  EXPECT_EQ(decoded->request.inputs[0].tensor.shape(), (Shape{1, 16}));
  EXPECT_EQ(decoded->request.inputs[0].tensor.data(), reinterpret_cast<const uint8_t*>(body.data()));

  auto vec = DecodeRawBinaryRequest({"x", DataType::kInt64, {-1}}, std::string(24, '\0'), nullptr);
  ASSERT_TRUE(vec.ok());
  EXPECT_EQ(vec->request.inputs[0].tensor.shape(), (Shape{3}));
  auto image = DecodeRawBinaryRequest({"x", DataType::kUint8, {-1, -1, 2}}, std::string(6, '\0'), nullptr);
  ASSERT_TRUE(image.ok());
  EXPECT_EQ(image->request.inputs[0].tensor.shape(), (Shape{1, 3, 2}));

  ExpectError(DecodeRawBinaryRequest({"x", DataType::kFp32, {-1, 16}}, std::string(65, '\0'), nullptr),
              "Expected: 64 bytes; Actual: 65 bytes");
  ExpectError(DecodeRawBinaryRequest({"x", DataType::kFp32, {-1}}, std::string(6, '\0'), nullptr),
              "Cannot deduce the shape");
  ExpectError(DecodeRawBinaryRequest({"x", DataType::kFp32, {-1, -1, -1}}, std::string(8, '\0'), nullptr),
              "more than one dynamic dimension");
}

TEST(DecodeRawTest, BytesIsOneElement) {
  auto decoded = DecodeRawBinaryRequest({"img", DataType::kBytes, {-1}}, "JPEGDATA", nullptr);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  const Tensor& t = decoded->request.inputs[0].tensor;
  EXPECT_EQ(t.shape(), (Shape{1}));
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(t.data()), t.byte_size()),
            std::string("\x08\0\0\0JPEGDATA", 12));
  ExpectError(DecodeRawBinaryRequest({"img", DataType::kBytes, {2}}, "x", nullptr), "one element");
}

// ---------------------------------------------------------------------------

template <typename T>
Tensor Make(DataType type, Shape shape, std::vector<T> values) {
  return Tensor::FromBytes(type, std::move(shape),
                           std::string(reinterpret_cast<const char*>(values.data()),
                                       values.size() * sizeof(T)));
}

InferResponse Response(std::vector<NamedTensor> outputs) {
  InferResponse r;
  r.model_name = "m";
  r.model_version = 3;
  r.outputs = std::move(outputs);
  return r;
}

std::string EncodeJson(std::vector<NamedTensor> outputs) {
  auto encoded = EncodeInferResponse(Response(std::move(outputs)), {});
  EXPECT_TRUE(encoded.ok()) << encoded.status().ToString();
  if (!encoded.ok()) return "";
  EXPECT_FALSE(encoded->has_binary);
  EXPECT_EQ(encoded->json_size, encoded->body.size());
  return encoded->body;
}

std::string DataOf(const std::string& type, Tensor t) {
  std::string json = EncodeJson({{"y", std::move(t)}});
  auto start = json.find("\"data\":");
  return json.substr(start + 7, json.size() - start - 7 - 3);
}

TEST(EncodeTest, JsonResponseShape) {
  InferResponse r = Response({{"y", Make<float>(DataType::kFp32, {2, 2}, {1, 2.5f, -3, 0.1f})}});
  r.id = "abc";
  auto encoded = EncodeInferResponse(r, {});
  ASSERT_TRUE(encoded.ok());
  EXPECT_EQ(encoded->body,
            R"({"model_name":"m","model_version":"3","id":"abc","outputs":[{"name":"y","datatype":"FP32","shape":[2,2],"data":[1,2.5,-3,0.1]}]})");
}

TEST(EncodeTest, EveryDatatype) {
  EXPECT_EQ(DataOf("BOOL", Make<uint8_t>(DataType::kBool, {2}, {1, 0})), "[true,false]");
  EXPECT_EQ(DataOf("UINT8", Make<uint8_t>(DataType::kUint8, {2}, {0, 255})), "[0,255]");
  EXPECT_EQ(DataOf("UINT16", Make<uint16_t>(DataType::kUint16, {1}, {65535})), "[65535]");
  EXPECT_EQ(DataOf("UINT32", Make<uint32_t>(DataType::kUint32, {1}, {4294967295u})), "[4294967295]");
  EXPECT_EQ(DataOf("UINT64", Make<uint64_t>(DataType::kUint64, {1}, {UINT64_MAX})), "[18446744073709551615]");
  EXPECT_EQ(DataOf("INT8", Make<int8_t>(DataType::kInt8, {2}, {-128, 127})), "[-128,127]");
  EXPECT_EQ(DataOf("INT16", Make<int16_t>(DataType::kInt16, {1}, {-32768})), "[-32768]");
  EXPECT_EQ(DataOf("INT32", Make<int32_t>(DataType::kInt32, {1}, {INT32_MIN})), "[-2147483648]");
  EXPECT_EQ(DataOf("INT64", Make<int64_t>(DataType::kInt64, {2}, {INT64_MIN, 7})), "[-9223372036854775808,7]");
  EXPECT_EQ(DataOf("FP16", Make<uint16_t>(DataType::kFp16, {3}, {0x3e00, 0x7bff, 0x0001})),
            "[1.5,65504,5.9604645e-08]");
  EXPECT_EQ(DataOf("BF16", Make<uint16_t>(DataType::kBf16, {1}, {0xc040})), "[-3]");
  EXPECT_EQ(DataOf("FP32", Make<float>(DataType::kFp32, {2}, {3.4028235e38f, 1e-45f})),
            "[3.4028235e+38,1e-45]");
  EXPECT_EQ(DataOf("FP64", Make<double>(DataType::kFp64, {2}, {0.1, -1e300})), "[0.1,-1e+300]");
  EXPECT_EQ(DataOf("BYTES", Tensor::FromBytes(DataType::kBytes, {2}, JoinBytesElements({"a\"b", "\xc3\xa9"}))),
            "[\"a\\\"b\",\"\xc3\xa9\"]");
}

TEST(EncodeTest, NanAndInfinity) {
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_EQ(DataOf("FP32", Make<float>(DataType::kFp32, {3}, {std::nanf(""), inf, -inf})),
            "[NaN,Infinity,-Infinity]");
  EXPECT_EQ(DataOf("FP16", Make<uint16_t>(DataType::kFp16, {2}, {0x7e00, 0xfc00})), "[NaN,-Infinity]");
  // What we write, we read back.
  auto decoded = DecodeOne("FP32", "[3]", "[NaN,Infinity,-Infinity]");
  EXPECT_TRUE(decoded.ok());
}

TEST(EncodeTest, BinaryOutputs) {
  OutputFormat format;
  format.binary_default = true;
  format.overrides = {{"j", false}};
  auto encoded = EncodeInferResponse(
      Response({{"b", Make<float>(DataType::kFp32, {2}, {1, 2})},
                {"j", Make<int32_t>(DataType::kInt32, {1}, {5})},
                {"s", Tensor::FromBytes(DataType::kBytes, {1}, JoinBytesElements({"\xff\xfe"}))}}),
      format);
  ASSERT_TRUE(encoded.ok()) << encoded.status().ToString();
  EXPECT_TRUE(encoded->has_binary);
  const std::string json = encoded->body.substr(0, encoded->json_size);
  EXPECT_EQ(json,
            R"({"model_name":"m","model_version":"3","outputs":[)"
            R"({"name":"b","datatype":"FP32","shape":[2],"parameters":{"binary_data_size":8}},)"
            R"({"name":"j","datatype":"INT32","shape":[1],"data":[5]},)"
            R"({"name":"s","datatype":"BYTES","shape":[1],"parameters":{"binary_data_size":6}}]})");
  std::string binary = encoded->body.substr(encoded->json_size);
  ASSERT_EQ(binary.size(), 14u);
  float values[2];
  std::memcpy(values, binary.data(), 8);
  EXPECT_EQ(values[0], 1.0f);
  EXPECT_EQ(values[1], 2.0f);
  EXPECT_EQ(binary.substr(8), std::string("\2\0\0\0\xff\xfe", 6));
}

TEST(EncodeTest, Errors) {
  auto invalid_utf8 = EncodeInferResponse(
      Response({{"s", Tensor::FromBytes(DataType::kBytes, {1}, JoinBytesElements({"\xff"}))}}), {});
  ASSERT_FALSE(invalid_utf8.ok());
  EXPECT_EQ(invalid_utf8.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(invalid_utf8.status().message().find("request it as binary data"), std::string::npos);
  // A last element that ends inside a multi-byte sequence (a 4-byte lead):
  // refused, and (under ASan) not read past the tensor's bytes.
  auto truncated_utf8 = EncodeInferResponse(
      Response({{"s", Tensor::FromBytes(DataType::kBytes, {2}, JoinBytesElements({"ok", "a\xf0"}))}}),
      {});
  ASSERT_FALSE(truncated_utf8.ok());
  EXPECT_EQ(truncated_utf8.status().code(), StatusCode::kInvalidArgument);
  auto short_tensor = EncodeInferResponse(
      Response({{"y", Tensor::FromBytes(DataType::kFp32, {2}, std::string(4, '\0'))}}), {});
  EXPECT_EQ(short_tensor.status().code(), StatusCode::kInternal);
  auto bad_bytes = EncodeInferResponse(
      Response({{"y", Tensor::FromBytes(DataType::kBytes, {2}, JoinBytesElements({"a"}))}}), {});
  EXPECT_EQ(bad_bytes.status().code(), StatusCode::kInternal);
  auto invalid_type = EncodeInferResponse(Response({{"y", Tensor()}}), {});
  EXPECT_EQ(invalid_type.status().code(), StatusCode::kInternal);
}

TEST(DecodeTest, NumbersConvertExactly) {
  // Decimal texts that need more than the fast path to round correctly.
  EXPECT_EQ(Values<double>(Only(DecodeOne("FP64", "[4]",
                                          "[2.2250738585072011e-308,0.1,9007199254740993,1.7976931348623157e308]"))),
            (std::vector<double>{2.2250738585072011e-308, 0.1, 9007199254740993.0, 1.7976931348623157e308}));
  EXPECT_EQ(Values<float>(Only(DecodeOne("FP32", "[2]", "[1.00000005960464477539062500001,16777217]"))),
            (std::vector<float>{1.00000012f, 16777216.0f}));
}

TEST(EncodeTest, RoundTripThroughDecode) {
  // Every value written for FP32 parses back to the same float.
  std::vector<float> values = {0.1f, 1.0f / 3, 3.4028235e38f, 1.17549435e-38f, -0.0f, 123456.789f};
  std::string data = DataOf("FP32", Make<float>(DataType::kFp32, {6}, values));
  EXPECT_EQ(Values<float>(Only(DecodeOne("FP32", "[6]", data))), values);
}

TEST(MetadataTest, ModelAndServer) {
  ModelMetadata m;
  m.name = "dense";
  m.version = 2;
  m.versions = {1, 2};
  m.platform = "pytorch_torchscript";
  m.signature.inputs = {{"x", DataType::kFp32, {-1, 16}}};
  m.signature.outputs = {{"y", DataType::kFp32, {-1, 4}}};
  EXPECT_EQ(EncodeModelMetadata(m),
            R"({"name":"dense","versions":["1","2"],"platform":"pytorch_torchscript",)"
            R"("inputs":[{"name":"x","datatype":"FP32","shape":[-1,16]}],)"
            R"("outputs":[{"name":"y","datatype":"FP32","shape":[-1,4]}]})");
  EXPECT_EQ(EncodeServerMetadata({"tessera", "0.1.0", {"binary_tensor_data"}}),
            R"({"name":"tessera","version":"0.1.0","extensions":["binary_tensor_data"]})");
  EXPECT_EQ(EncodeServerMetadata({"t", "1", {}}), R"({"name":"t","version":"1","extensions":[]})");
}

}  // namespace
}  // namespace tessera::kserve_rest
