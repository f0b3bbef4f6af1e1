#include "frontend/tfs_rest/predict_decoder.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "tensor/half.h"

namespace tessera::tfs_rest {
namespace {

using ::testing::HasSubstr;

TensorInfo In(std::string name, DataType type, Shape shape = {-1}) {
  return TensorInfo{std::move(name), type, std::move(shape)};
}

template <typename T>
std::vector<T> Values(const Tensor& t) {
  std::vector<T> out(t.byte_size() / sizeof(T));
  std::memcpy(out.data(), t.data(), out.size() * sizeof(T));
  return out;
}

std::vector<std::string> Strings(const Tensor& t) {
  auto split = SplitBytesElements(t.data(), t.byte_size());
  EXPECT_TRUE(split.ok());
  std::vector<std::string> out;
  for (auto s : *split) out.emplace_back(s);
  return out;
}

DecodedPredict DecodeOk(const std::string& body, const std::vector<TensorInfo>& inputs) {
  auto r = DecodePredictRequest(body, inputs);
  EXPECT_TRUE(r.ok()) << r.status().message();
  return r.ok() ? std::move(r).value() : DecodedPredict{};
}

Status DecodeError(const std::string& body, const std::vector<TensorInfo>& inputs) {
  auto r = DecodePredictRequest(body, inputs);
  EXPECT_FALSE(r.ok()) << body;
  return r.ok() ? Status::Ok() : r.status();
}

const std::vector<TensorInfo> kOneFloat = {In("x", DataType::kFp32, {-1, 2})};
const std::vector<TensorInfo> kTwoInputs = {In("a", DataType::kFp32, {-1, 2}),
                                            In("b", DataType::kInt64, {-1})};

constexpr char kUnknownOrder[] = "Invalid JSON structure. Could not detect row or column format";

// --- Formats -----------------------------------------------------------------

TEST(PredictDecoderTest, RowUnnamed) {
  auto d = DecodeOk(R"({"instances": [[1, 2], [3.5, -4]]})", kOneFloat);
  EXPECT_EQ(d.format, PredictFormat::kRow);
  ASSERT_EQ(d.inputs.size(), 1u);
  EXPECT_EQ(d.inputs[0].name, "x");
  EXPECT_EQ(d.inputs[0].tensor.dtype(), DataType::kFp32);
  EXPECT_EQ(d.inputs[0].tensor.shape(), (Shape{2, 2}));
  EXPECT_EQ(Values<float>(d.inputs[0].tensor), (std::vector<float>{1, 2, 3.5f, -4}));
}

TEST(PredictDecoderTest, RowUnnamedScalars) {
  auto d = DecodeOk(R"({"instances": [1, 2, 3]})", {In("x", DataType::kInt32)});
  EXPECT_EQ(d.inputs[0].tensor.shape(), (Shape{3}));
  EXPECT_EQ(Values<int32_t>(d.inputs[0].tensor), (std::vector<int32_t>{1, 2, 3}));
}

TEST(PredictDecoderTest, RowNamed) {
  auto d = DecodeOk(R"({"instances": [{"a": [1, 2], "b": 7}, {"b": 8, "a": [3, 4]}]})",
                    kTwoInputs);
  EXPECT_EQ(d.format, PredictFormat::kRow);
  ASSERT_EQ(d.inputs.size(), 2u);
  EXPECT_EQ(d.inputs[0].name, "a");
  EXPECT_EQ(d.inputs[0].tensor.shape(), (Shape{2, 2}));
  EXPECT_EQ(Values<float>(d.inputs[0].tensor), (std::vector<float>{1, 2, 3, 4}));
  EXPECT_EQ(d.inputs[1].name, "b");
  EXPECT_EQ(d.inputs[1].tensor.dtype(), DataType::kInt64);
  EXPECT_EQ(d.inputs[1].tensor.shape(), (Shape{2}));
  EXPECT_EQ(Values<int64_t>(d.inputs[1].tensor), (std::vector<int64_t>{7, 8}));
}

TEST(PredictDecoderTest, RowNamedSingleInput) {
  auto d = DecodeOk(R"({"instances": [{"x": [1, 2]}]})", kOneFloat);
  EXPECT_EQ(d.inputs[0].tensor.shape(), (Shape{1, 2}));
}

TEST(PredictDecoderTest, ColumnUnnamed) {
  auto d = DecodeOk(R"({"inputs": [[1, 2], [3, 4], [5, 6]]})", kOneFloat);
  EXPECT_EQ(d.format, PredictFormat::kColumn);
  EXPECT_EQ(d.inputs[0].tensor.shape(), (Shape{3, 2}));
  EXPECT_EQ(Values<float>(d.inputs[0].tensor), (std::vector<float>{1, 2, 3, 4, 5, 6}));
}

TEST(PredictDecoderTest, ColumnScalar) {
  auto d = DecodeOk(R"({"inputs": 5})", kOneFloat);
  EXPECT_EQ(d.inputs[0].tensor.shape(), (Shape{}));
  EXPECT_EQ(Values<float>(d.inputs[0].tensor), (std::vector<float>{5}));
}

TEST(PredictDecoderTest, ColumnNamedWithDifferentBatches) {
  auto d = DecodeOk(R"({"inputs": {"b": [1, 2, 3], "a": [[1, 2]]}})", kTwoInputs);
  EXPECT_EQ(d.format, PredictFormat::kColumn);
  ASSERT_EQ(d.inputs.size(), 2u);
  EXPECT_EQ(d.inputs[0].name, "b");
  EXPECT_EQ(d.inputs[0].tensor.shape(), (Shape{3}));
  EXPECT_EQ(d.inputs[1].name, "a");
  EXPECT_EQ(d.inputs[1].tensor.shape(), (Shape{1, 2}));
}

TEST(PredictDecoderTest, MissingNamedInputIsLeftToTheCore) {
  auto d = DecodeOk(R"({"inputs": {"a": [[1, 2]]}})", kTwoInputs);
  ASSERT_EQ(d.inputs.size(), 1u);
  EXPECT_EQ(d.inputs[0].name, "a");
}

TEST(PredictDecoderTest, EmptyLists) {
  auto d = DecodeOk(R"({"inputs": []})", kOneFloat);
  EXPECT_EQ(d.inputs[0].tensor.shape(), (Shape{0}));
  EXPECT_EQ(d.inputs[0].tensor.dtype(), DataType::kFp32);
  d = DecodeOk(R"({"inputs": [[], []]})", kOneFloat);
  EXPECT_EQ(d.inputs[0].tensor.shape(), (Shape{2, 0}));
  EXPECT_EQ(d.inputs[0].tensor.byte_size(), 0u);
}

TEST(PredictDecoderTest, SignatureNameAndUnknownKeys) {
  auto d = DecodeOk(R"({"signature_name": "serving_default", "extra": {"x": [1, [2, {}]]},)"
                    R"( "more": 3, "inputs": [[1, 2]], "after": null})",
                    kOneFloat);
  EXPECT_EQ(d.signature_name, "serving_default");
  EXPECT_EQ(d.inputs[0].tensor.shape(), (Shape{1, 2}));
}

TEST(PredictDecoderTest, SignatureNameMustBeString) {
  EXPECT_EQ(DecodeError(R"({"signature_name": 1, "inputs": [1]})", kOneFloat).message(),
            "Invalid JSON structure. 'signature_name' must be a string");
}

// --- Structure errors ----------------------------------------------------------

TEST(PredictDecoderTest, NeitherOrBothFormats) {
  EXPECT_EQ(DecodeError(R"({})", kOneFloat).message(), kUnknownOrder);
  EXPECT_EQ(DecodeError(R"({"signature_name": ""})", kOneFloat).message(), kUnknownOrder);
  Status both = DecodeError(R"({"instances": [[1, 2]], "inputs": [[1, 2]]})", kOneFloat);
  EXPECT_EQ(both.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(both.message(), kUnknownOrder);
  EXPECT_EQ(DecodeError(R"({"inputs": [1], "instances": [1]})", kOneFloat).message(),
            kUnknownOrder);
}

TEST(PredictDecoderTest, MalformedJson) {
  Status s = DecodeError(R"({"instances": [[1, 2]})", kOneFloat);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("JSON Parse error"));
  EXPECT_THAT(DecodeError("", kOneFloat).message(), HasSubstr("JSON Parse error"));
  EXPECT_THAT(DecodeError(R"({"inputs": [1, 2]} trailing)", kOneFloat).message(),
              HasSubstr("JSON Parse error"));
  EXPECT_THAT(DecodeError(R"({"inputs": [1, nan]})", kOneFloat).message(),
              HasSubstr("JSON Parse error"));
}

TEST(PredictDecoderTest, BytesAfterNulAreRejected) {
  std::string body = R"({"inputs": [1, 2]})";
  body.push_back('\0');
  body += "garbage";
  EXPECT_THAT(DecodeError(body, kOneFloat).message(),
              HasSubstr("JSON Parse error: The document root must not be followed by other "
                        "values. at offset: 18"));
  EXPECT_THAT(DecodeError(std::string("{\"inputs\": [1,\0 2]}", 19), kOneFloat).message(),
              HasSubstr("JSON Parse error: Invalid value. at offset: 14"));
}

TEST(PredictDecoderTest, BodyMustBeObject) {
  EXPECT_EQ(DecodeError("[1, 2]", kOneFloat).message(), "Request body should be JSON object");
  EXPECT_EQ(DecodeError("3", kOneFloat).message(), "Request body should be JSON object");
}

TEST(PredictDecoderTest, InstancesMustBeNonEmptyList) {
  EXPECT_EQ(DecodeError(R"({"instances": {"x": [1, 2]}})", kOneFloat).message(),
            "Invalid JSON structure. 'instances' must be a list");
  EXPECT_EQ(DecodeError(R"({"instances": 1})", kOneFloat).message(),
            "Invalid JSON structure. 'instances' must be a list");
  EXPECT_EQ(DecodeError(R"({"instances": []})", kOneFloat).message(),
            "Invalid JSON structure. Missing instances in row format");
}

TEST(PredictDecoderTest, EmptyInputsObject) {
  EXPECT_EQ(DecodeError(R"({"inputs": {}})", kOneFloat).message(),
            "Invalid JSON structure. Missing inputs in column format");
}

TEST(PredictDecoderTest, UnnamedFormsNeedOneInput) {
  Status row = DecodeError(R"({"instances": [[1, 2]]})", kTwoInputs);
  EXPECT_THAT(row.message(), HasSubstr("'instances' is a plain list"));
  EXPECT_THAT(row.message(), HasSubstr("2 inputs (a, b)"));
  Status column = DecodeError(R"({"inputs": [[1, 2]]})", kTwoInputs);
  EXPECT_THAT(column.message(), HasSubstr("'inputs' is a plain value"));
}

TEST(PredictDecoderTest, NamedInstancesMustAllBeObjects) {
  EXPECT_EQ(DecodeError(R"({"instances": [{"x": [1, 2]}, [1, 2]]})", kOneFloat).message(),
            "Invalid JSON structure. One of named instances is not a JSON object.");
}

TEST(PredictDecoderTest, RowBatchSizesMustMatch) {
  Status s = DecodeError(R"({"instances": [{"a": [1, 2], "b": 1}, {"a": [3, 4]}]})", kTwoInputs);
  EXPECT_THAT(s.message(), HasSubstr("Invalid JSON structure. Request inputs have different "
                                     "batch sizes"));
  EXPECT_THAT(s.message(), HasSubstr("input b is in 1"));
  s = DecodeError(R"({"instances": [{"x": [1, 2]}, {}]})", kOneFloat);
  EXPECT_THAT(s.message(), HasSubstr("Request inputs have different batch sizes"));
}

TEST(PredictDecoderTest, RowInstancesMustShareShape) {
  Status s = DecodeError(R"({"instances": [{"a": [1, 2], "b": 1}, {"a": [3], "b": 2}]})",
                         kTwoInputs);
  EXPECT_THAT(s.message(), HasSubstr("Input a: ragged nested list"));
}

TEST(PredictDecoderTest, UnknownAndDuplicateNames) {
  EXPECT_EQ(DecodeError(R"({"inputs": {"z": [1]}})", kTwoInputs).message(),
            "Unexpected input name: z");
  EXPECT_EQ(DecodeError(R"({"instances": [{"z": [1]}]})", kTwoInputs).message(),
            "Unexpected input name: z");
  EXPECT_EQ(DecodeError(R"({"inputs": {"b": [1], "b": [2]}})", kTwoInputs).message(),
            "Duplicate input name: b");
  EXPECT_THAT(DecodeError(R"({"instances": [{"b": 1, "b": 2}]})", kTwoInputs).message(),
              HasSubstr("Duplicate input name: b"));
}

TEST(PredictDecoderTest, RaggedLists) {
  Status s = DecodeError(R"({"inputs": [[1, 2], [3]]})", kOneFloat);
  EXPECT_EQ(s.message(), "Input x: ragged nested list, list at [1] has 1 elements, expected 2");
  EXPECT_EQ(DecodeError(R"({"inputs": [[1, 2], 3]})", kOneFloat).message(),
            "Input x: ragged nested list, expected a list at [1]");
  EXPECT_EQ(DecodeError(R"({"inputs": [1, [2]]})", kOneFloat).message(),
            "Input x: ragged nested list, unexpected list at [1]");
  EXPECT_THAT(DecodeError(R"({"instances": [[[1]], []]})", kOneFloat).message(),
              HasSubstr("ragged"));
  EXPECT_THAT(DecodeError(R"({"instances": [[], [[1]]]})", kOneFloat).message(),
              HasSubstr("ragged"));
}

std::string Repeated(std::string_view piece, int times) {
  std::string out;
  out.reserve(piece.size() * times);
  for (int i = 0; i < times; ++i) out += piece;
  return out;
}

void ExpectTooDeep(const std::string& body, size_t offset) {
  Status s = DecodeError(body, kOneFloat);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "JSON nesting deeper than 64 levels at offset " + std::to_string(offset));
}

TEST(PredictDecoderTest, NestingIsBoundedAt64Levels) {
  const std::vector<TensorInfo> one = {In("x", DataType::kFp32, {})};
  const std::string inputs = R"({"inputs":)";
  // { + 63 lists = 64 levels: decoded, shape (1,...,1).
  auto d = DecodeOk(inputs + std::string(63, '[') + "7" + std::string(63, ']') + "}", one);
  ASSERT_EQ(d.inputs.size(), 1u);
  EXPECT_EQ(d.inputs[0].tensor.shape(), Shape(63, 1));
  EXPECT_EQ(Values<float>(d.inputs[0].tensor), std::vector<float>{7});
  // The 64th list opens level 65.
  ExpectTooDeep(inputs + std::string(64, '[') + "7" + std::string(64, ']') + "}", inputs.size() + 63);
  // Values of ignored keys count too.
  const std::string other = R"({"other":)";
  EXPECT_EQ(DecodeError(other + std::string(63, '[') + std::string(63, ']') + "}", kOneFloat).message(),
            kUnknownOrder);  // parsed to the end
  ExpectTooDeep(other + std::string(64, '[') + std::string(64, ']') + "}", other.size() + 63);
}

TEST(PredictDecoderTest, HostileNestingIsRefusedWithoutRecursing) {
  const std::string instances = R"({"instances":)";
  ExpectTooDeep(instances + std::string(100000, '[') + std::string(100000, ']') + "}",
                instances.size() + 63);
  const std::string inputs = R"({"inputs":)";
  ExpectTooDeep(inputs + std::string(1000000, '['), inputs.size() + 63);
  const std::string other = R"({"other":)";
  ExpectTooDeep(other + std::string(100000, '['), other.size() + 63);
  ExpectTooDeep(Repeated(R"({"a":)", 100000), 5 * 64);
  ExpectTooDeep(Repeated(R"({"a":)", 1000000) + "1" + std::string(1000000, '}'), 5 * 64);
  ExpectTooDeep(R"({"instances":[{"x":)" + std::string(100000, '[') + "1" +
                    std::string(100000, ']') + "}]}",
                std::string_view(R"({"instances":[{"x":)").size() + 61);
}

// --- Values --------------------------------------------------------------------

template <typename T>
void ExpectDecodes(DataType type, const std::string& list, std::vector<T> expected) {
  auto d = DecodeOk(R"({"inputs": )" + list + "}", {In("v", type)});
  ASSERT_EQ(d.inputs.size(), 1u);
  EXPECT_EQ(d.inputs[0].tensor.dtype(), type);
  EXPECT_EQ(d.inputs[0].tensor.shape(), (Shape{static_cast<int64_t>(expected.size())}));
  EXPECT_EQ(Values<T>(d.inputs[0].tensor), expected) << list;
}

TEST(PredictDecoderTest, EveryNumericType) {
  ExpectDecodes<int8_t>(DataType::kInt8, "[-128, 0, 127, 5.0]", {-128, 0, 127, 5});
  ExpectDecodes<uint8_t>(DataType::kUint8, "[0, 255]", {0, 255});
  ExpectDecodes<int16_t>(DataType::kInt16, "[-32768, 32767]", {-32768, 32767});
  ExpectDecodes<uint16_t>(DataType::kUint16, "[0, 65535]", {0, 65535});
  ExpectDecodes<int32_t>(DataType::kInt32, "[-2147483648, 2147483647, 1e3]",
                         {std::numeric_limits<int32_t>::min(), 2147483647, 1000});
  ExpectDecodes<uint32_t>(DataType::kUint32, "[0, 4294967295]", {0, 4294967295u});
  ExpectDecodes<int64_t>(DataType::kInt64, "[-9223372036854775808, 9223372036854775807, -3]",
                         {std::numeric_limits<int64_t>::min(),
                          std::numeric_limits<int64_t>::max(), -3});
  ExpectDecodes<uint64_t>(DataType::kUint64, "[0, 18446744073709551615]",
                          {0, std::numeric_limits<uint64_t>::max()});
  ExpectDecodes<float>(DataType::kFp32, "[1.5, -2.25, 0.1, 7, 18446744073709551615, 1e-50]",
                       {1.5f, -2.25f, 0.1f, 7.0f, 18446744073709551615.0f, 0.0f});
  ExpectDecodes<float>(DataType::kFp32, "[3.4028235e38, -3.4028234663852886e38]",
                       {std::numeric_limits<float>::max(), -std::numeric_limits<float>::max()});
  ExpectDecodes<double>(DataType::kFp64, "[0.1, -1e300, 9007199254740993]",
                        {0.1, -1e300, 9007199254740992.0});
  ExpectDecodes<uint16_t>(DataType::kFp16, "[1.5, 65504, -2, 0]", {0x3e00, 0x7bff, 0xc000, 0});
  ExpectDecodes<uint16_t>(DataType::kBf16, "[1.5, -2, 1e38]",
                          {0x3fc0, 0xc000, DoubleToBf16(1e38)});
  ExpectDecodes<uint8_t>(DataType::kBool, "[true, false, true]", {1, 0, 1});
}

TEST(PredictDecoderTest, NanAndInfinity) {
  auto d = DecodeOk(R"({"inputs": [NaN, Infinity, -Infinity, 1]})", {In("f", DataType::kFp32)});
  auto f = Values<float>(d.inputs[0].tensor);
  ASSERT_EQ(f.size(), 4u);
  EXPECT_TRUE(std::isnan(f[0]));
  EXPECT_EQ(f[1], std::numeric_limits<float>::infinity());
  EXPECT_EQ(f[2], -std::numeric_limits<float>::infinity());
  d = DecodeOk(R"({"inputs": [NaN, -Infinity]})", {In("d", DataType::kFp64)});
  auto g = Values<double>(d.inputs[0].tensor);
  EXPECT_TRUE(std::isnan(g[0]));
  EXPECT_EQ(g[1], -std::numeric_limits<double>::infinity());
  d = DecodeOk(R"({"inputs": [Infinity]})", {In("h", DataType::kFp16)});
  EXPECT_EQ(Values<uint16_t>(d.inputs[0].tensor), (std::vector<uint16_t>{0x7c00}));
}

TEST(PredictDecoderTest, OutOfRange) {
  struct Case {
    DataType type;
    std::string value;
    std::string type_name;
  };
  std::vector<Case> cases = {
      {DataType::kInt8, "128", "DT_INT8"},
      {DataType::kInt8, "-129", "DT_INT8"},
      {DataType::kUint8, "256", "DT_UINT8"},
      {DataType::kUint8, "-1", "DT_UINT8"},
      {DataType::kInt16, "32768", "DT_INT16"},
      {DataType::kUint16, "65536", "DT_UINT16"},
      {DataType::kInt32, "2147483648", "DT_INT32"},
      {DataType::kUint32, "-1", "DT_UINT32"},
      {DataType::kUint32, "4294967296", "DT_UINT32"},
      {DataType::kInt64, "9223372036854775808", "DT_INT64"},
      {DataType::kUint64, "-1", "DT_UINT64"},
      {DataType::kInt64, "1e19", "DT_INT64"},
      {DataType::kInt32, "Infinity", "DT_INT32"},
      {DataType::kFp32, "1e39", "DT_FLOAT"},
      {DataType::kFp32, "-1e39", "DT_FLOAT"},
      {DataType::kFp16, "65520", "DT_HALF"},
      {DataType::kBf16, "1e39", "DT_BFLOAT16"},
  };
  for (const auto& c : cases) {
    Status s = DecodeError(R"({"inputs": [0, )" + c.value + "]}", {In("in1", c.type)});
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(s.message(), HasSubstr("Input in1: value ")) << c.value;
    EXPECT_THAT(s.message(), HasSubstr(" at [1] is out of range for " + c.type_name)) << c.value;
  }
}

TEST(PredictDecoderTest, IntegersMustBeWhole) {
  EXPECT_EQ(DecodeError(R"({"inputs": [[1, 1.5]]})", {In("i", DataType::kInt32)}).message(),
            "Input i: value 1.5 at [0,1] is not an integer (DT_INT32)");
  EXPECT_THAT(DecodeError(R"({"inputs": [NaN]})", {In("i", DataType::kInt64)}).message(),
              HasSubstr("value NaN at [0] is not an integer"));
}

TEST(PredictDecoderTest, EveryIntegerTypeTakesBothEndsAndRefusesOneBeyond) {
  struct Case {
    DataType type;
    const char* name;
    std::string min_minus_1, min, max, max_plus_1;
  };
  const Case cases[] = {
      {DataType::kInt8, "DT_INT8", "-129", "-128", "127", "128"},
      {DataType::kInt16, "DT_INT16", "-32769", "-32768", "32767", "32768"},
      {DataType::kInt32, "DT_INT32", "-2147483649", "-2147483648", "2147483647", "2147483648"},
      {DataType::kInt64, "DT_INT64", "-9223372036854775809", "-9223372036854775808",
       "9223372036854775807", "9223372036854775808"},
      {DataType::kUint8, "DT_UINT8", "-1", "0", "255", "256"},
      {DataType::kUint16, "DT_UINT16", "-1", "0", "65535", "65536"},
      {DataType::kUint32, "DT_UINT32", "-1", "0", "4294967295", "4294967296"},
      {DataType::kUint64, "DT_UINT64", "-1", "0", "18446744073709551615", "18446744073709551616"},
  };
  for (const Case& c : cases) {
    auto ok = DecodePredictRequest(R"({"instances": [[)" + c.min + ", " + c.max + "]]}",
                                   {In("x", c.type, {-1, 2})});
    ASSERT_TRUE(ok.ok()) << c.name << ": " << ok.status().message();
    // The same values in other notations, and one past each end in them.
    for (const std::string& beyond :
         {c.min_minus_1, c.max_plus_1, c.min_minus_1 + ".0", c.max_plus_1 + "e0",
          c.max_plus_1 + "0e-1"}) {
      Status s = DecodeError(R"({"instances": [[0, )" + beyond + "]]}", {In("x", c.type, {-1, 2})});
      EXPECT_EQ(s.message(), "Input x: value " + beyond + " at [0,1] is out of range for " + c.name);
    }
  }
  auto d = DecodeOk(R"({"instances": [[-9223372036854775808, 9223372036854775807]]})",
                    {In("x", DataType::kInt64, {-1, 2})});
  EXPECT_EQ(Values<int64_t>(d.inputs[0].tensor),
            (std::vector<int64_t>{std::numeric_limits<int64_t>::min(),
                                  std::numeric_limits<int64_t>::max()}));
  d = DecodeOk(R"({"instances": [[18446744073709551615, 1.8446744073709551615e19]]})",
               {In("x", DataType::kUint64, {-1, 2})});
  EXPECT_EQ(Values<uint64_t>(d.inputs[0].tensor),
            (std::vector<uint64_t>{std::numeric_limits<uint64_t>::max(),
                                   std::numeric_limits<uint64_t>::max()}));
}

TEST(PredictDecoderTest, TheReportedInt64IsRefused) {
  Status s = DecodeError(R"({"instances": [[-9223372036854775809,1,2]]})",
                         {In("x", DataType::kInt64, {-1, 3})});
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "Input x: value -9223372036854775809 at [0,0] is out of range for DT_INT64");
}

TEST(PredictDecoderTest, IntegersInAnyNotationAreExact) {
  const std::vector<TensorInfo> i64 = {In("i", DataType::kInt64)};
  auto d = DecodeOk(R"({"inputs": [3.0, 3e2, 300e-2, 0.3e1, -0.0, 0e999, 9223372036854775807.0,
                                   -92233720368547758.08e2]})",
                    i64);
  EXPECT_EQ(Values<int64_t>(d.inputs[0].tensor),
            (std::vector<int64_t>{3, 300, 3, 3, 0, 0, std::numeric_limits<int64_t>::max(),
                                  std::numeric_limits<int64_t>::min()}));
  // Not whole, even where a double would round it to a whole number.
  for (const char* v : {"-9223372036854775808.5", "9223372036854775806.5", "1.0000000000000000001",
                        "5e-1", "1e-99999999999"}) {
    EXPECT_EQ(DecodeError(R"({"inputs": [)" + std::string(v) + "]}", i64).message(),
              "Input i: value " + std::string(v) + " at [0] is not an integer (DT_INT64)");
  }
  EXPECT_EQ(DecodeError(R"({"inputs": [1e99999999999]})", i64).message(),
            "Input i: value 1e99999999999 at [0] is out of range for DT_INT64");
}

TEST(PredictDecoderTest, EveryFloatTypeRefusesBothEnds) {
  struct Case {
    DataType type;
    const char* name;
    const char* beyond;
  };
  const Case cases[] = {
      {DataType::kFp32, "DT_FLOAT", "3.4028236e38"},  {DataType::kFp32, "DT_FLOAT", "-3.4028236e38"},
      {DataType::kFp64, "DT_DOUBLE", "1e309"},        {DataType::kFp64, "DT_DOUBLE", "-1e309"},
      {DataType::kFp16, "DT_HALF", "65520"},          {DataType::kFp16, "DT_HALF", "-65520"},
      {DataType::kBf16, "DT_BFLOAT16", "3.4e38"},     {DataType::kBf16, "DT_BFLOAT16", "-1e39"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(DecodeError(R"({"inputs": [0, )" + std::string(c.beyond) + "]}", {In("f", c.type)})
                  .message(),
              "Input f: value " + std::string(c.beyond) + " at [1] is out of range for " + c.name);
  }
  ExpectDecodes<uint16_t>(DataType::kFp16, "[-65504, 65504, 65519]", {0xfbff, 0x7bff, 0x7bff});
  ExpectDecodes<double>(DataType::kFp64, "[-1.7976931348623157e308, 1.7976931348623157e308]",
                        {-std::numeric_limits<double>::max(), std::numeric_limits<double>::max()});
  // BOOL takes only true and false.
  EXPECT_EQ(DecodeError(R"({"inputs": [true, 1]})", {In("b", DataType::kBool)}).message(),
            "Input b: number 1 at [1] is not of expected type DT_BOOL");
}

TEST(PredictDecoderTest, WrongTypes) {
  EXPECT_EQ(DecodeError(R"({"inputs": [[1, "a"]]})", kOneFloat).message(),
            "Input x: string at [0,1] is not of expected type DT_FLOAT");
  EXPECT_EQ(DecodeError(R"({"inputs": [true]})", kOneFloat).message(),
            "Input x: true at [0] is not of expected type DT_FLOAT");
  EXPECT_EQ(DecodeError(R"({"inputs": [null]})", kOneFloat).message(),
            "Input x: null at [0] is not of expected type DT_FLOAT");
  EXPECT_EQ(DecodeError(R"({"inputs": [1]})", {In("m", DataType::kBool)}).message(),
            "Input m: number 1 at [0] is not of expected type DT_BOOL");
  EXPECT_EQ(DecodeError(R"({"inputs": [0.5]})", {In("s", DataType::kBytes)}).message(),
            "Input s: number 0.5 at [0] is not of expected type DT_STRING");
  EXPECT_THAT(DecodeError(R"({"inputs": [{"x": 1}]})", kOneFloat).message(),
              HasSubstr("Input x: only {\"b64\": \"<base64 string>\"} objects"));
  EXPECT_THAT(DecodeError(R"({"inputs": {"x": {"b64": "AA==", "y": 1}}})", kOneFloat).message(),
              HasSubstr("Input x: only {\"b64\""));
  EXPECT_THAT(DecodeError(R"({"inputs": [{"b64": 3}]})", kOneFloat).message(),
              HasSubstr("Input x: only {\"b64\""));
}

// --- Binary and strings -------------------------------------------------------

TEST(PredictDecoderTest, B64ValuesMakeBytesTensors) {
  // An image for a numeric input: BYTES, decoded by the core.
  auto d = DecodeOk(R"({"instances": [{"b64": "aGVsbG8="}, {"b64": "d29ybGQ"}]})",
                    {In("img", DataType::kFp32, {-1, 2, 2, 3})});
  ASSERT_EQ(d.inputs.size(), 1u);
  EXPECT_EQ(d.inputs[0].name, "img");
  EXPECT_EQ(d.inputs[0].tensor.dtype(), DataType::kBytes);
  EXPECT_EQ(d.inputs[0].tensor.shape(), (Shape{2}));
  EXPECT_EQ(Strings(d.inputs[0].tensor), (std::vector<std::string>{"hello", "world"}));

  d = DecodeOk(R"({"inputs": {"b64": "AAEC"}})", {In("img", DataType::kUint8)});
  EXPECT_EQ(d.inputs[0].tensor.shape(), (Shape{}));
  EXPECT_EQ(Strings(d.inputs[0].tensor), (std::vector<std::string>{std::string("\0\1\2", 3)}));

  d = DecodeOk(R"({"instances": [{"a": {"b64": "eA=="}, "b": 1}]})",
               {In("a", DataType::kBytes), In("b", DataType::kInt64)});
  EXPECT_EQ(Strings(d.inputs[0].tensor), (std::vector<std::string>{"x"}));
  EXPECT_EQ(d.inputs[0].tensor.shape(), (Shape{1}));
}

TEST(PredictDecoderTest, StringsForStringInputs) {
  auto d = DecodeOk(R"({"instances": ["foo", "b\u00e9r", {"b64": "YmF6"}]})",
                    {In("s", DataType::kBytes)});
  EXPECT_EQ(d.inputs[0].tensor.dtype(), DataType::kBytes);
  EXPECT_EQ(Strings(d.inputs[0].tensor), (std::vector<std::string>{"foo", "b\xc3\xa9r", "baz"}));
}

TEST(PredictDecoderTest, InputNamedB64IsNamed) {
  auto d = DecodeOk(R"({"inputs": {"b64": [1, 2]}})", {In("b64", DataType::kInt32)});
  EXPECT_EQ(d.inputs[0].name, "b64");
  EXPECT_EQ(d.inputs[0].tensor.dtype(), DataType::kInt32);
  EXPECT_EQ(Values<int32_t>(d.inputs[0].tensor), (std::vector<int32_t>{1, 2}));
}

TEST(PredictDecoderTest, BadBase64AndMixedValues) {
  EXPECT_EQ(DecodeError(R"({"inputs": [{"b64": "a$=="}]})", kOneFloat).message(),
            "Input x: invalid base64 in {\"b64\": ...} at [0]");
  EXPECT_EQ(DecodeError(R"({"inputs": [1, {"b64": "AA=="}]})", kOneFloat).message(),
            "Input x: {\"b64\": ...} at [1] mixed with numbers");
  EXPECT_EQ(DecodeError(R"({"inputs": [{"b64": "AA=="}, 1]})", kOneFloat).message(),
            "Input x: number 1 at [1] is not of expected type DT_STRING");
}

TEST(PredictDecoderTest, LargeBodyRoundTrip) {
  // 1x224x224x3 floats, row format: every value lands in order.
  std::string body = R"({"instances": [)";
  std::vector<float> expected;
  body += "[";
  for (int h = 0; h < 224; ++h) {
    body += h ? ",[" : "[";
    for (int w = 0; w < 224; ++w) {
      body += w ? ",[" : "[";
      for (int c = 0; c < 3; ++c) {
        float v = static_cast<float>(h * 1000 + w * 3 + c) / 7.0f;
        expected.push_back(v);
        char buf[32];
        snprintf(buf, sizeof buf, "%s%.9g", c ? "," : "", v);
        body += buf;
      }
      body += "]";
    }
    body += "]";
  }
  body += "]]}";
  auto d = DecodeOk(body, {In("image", DataType::kFp32, {-1, 224, 224, 3})});
  EXPECT_EQ(d.inputs[0].tensor.shape(), (Shape{1, 224, 224, 3}));
  EXPECT_EQ(Values<float>(d.inputs[0].tensor), expected);
}

}  // namespace
}  // namespace tessera::tfs_rest
