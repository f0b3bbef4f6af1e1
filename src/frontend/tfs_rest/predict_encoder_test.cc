#include "frontend/tfs_rest/predict_encoder.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "tensor/half.h"

namespace tessera::tfs_rest {
namespace {

using ::testing::HasSubstr;

template <typename T>
NamedTensor Out(std::string name, DataType type, Shape shape, std::vector<T> values) {
  std::string bytes(values.size() * sizeof(T), '\0');
  if (!bytes.empty()) std::memcpy(bytes.data(), values.data(), bytes.size());
  return NamedTensor{std::move(name), Tensor::FromBytes(type, std::move(shape), std::move(bytes))};
}

NamedTensor Floats(std::string name, Shape shape, std::vector<float> values) {
  return Out<float>(std::move(name), DataType::kFp32, std::move(shape), std::move(values));
}

NamedTensor Strings(std::string name, Shape shape, std::vector<std::string_view> values) {
  return NamedTensor{std::move(name),
                     Tensor::FromBytes(DataType::kBytes, std::move(shape), JoinBytesElements(values))};
}

std::string Encode(const std::vector<NamedTensor>& outputs, PredictFormat format) {
  auto r = EncodePredictResponse(outputs, format);
  EXPECT_TRUE(r.ok()) << r.status().message();
  return r.ok() ? *r : "";
}

Status EncodeError(const std::vector<NamedTensor>& outputs, PredictFormat format) {
  auto r = EncodePredictResponse(outputs, format);
  EXPECT_FALSE(r.ok());
  return r.ok() ? Status::Ok() : r.status();
}

constexpr auto kRow = PredictFormat::kRow;
constexpr auto kColumn = PredictFormat::kColumn;

TEST(PredictEncoderTest, SingleOutputDropsTheName) {
  auto y = Floats("y", {2, 3}, {1, 2.5f, -3, 0.1f, 1e20f, 1.5e-7f});
  EXPECT_EQ(Encode({y}, kRow), R"({"predictions":[[1.0,2.5,-3.0],[0.1,1e+20,1.5e-07]]})");
  EXPECT_EQ(Encode({y}, kColumn), R"({"outputs":[[1.0,2.5,-3.0],[0.1,1e+20,1.5e-07]]})");
}

TEST(PredictEncoderTest, SeveralOutputs) {
  auto a = Floats("a", {2, 1}, {1, 2});
  auto b = Out<int64_t>("b", DataType::kInt64, {2}, {7, -8});
  EXPECT_EQ(Encode({a, b}, kRow), R"({"predictions":[{"a":[1.0],"b":7},{"a":[2.0],"b":-8}]})");
  EXPECT_EQ(Encode({a, b}, kColumn), R"({"outputs":{"a":[[1.0],[2.0]],"b":[7,-8]}})");
}

TEST(PredictEncoderTest, ScalarsAndEmptyDims) {
  EXPECT_EQ(Encode({Floats("s", {}, {4})}, kColumn), R"({"outputs":4.0})");
  EXPECT_EQ(Encode({Floats("e", {2, 0}, {})}, kColumn), R"({"outputs":[[],[]]})");
  EXPECT_EQ(Encode({Floats("e", {2, 0}, {})}, kRow), R"({"predictions":[[],[]]})");
  EXPECT_EQ(Encode({Floats("e", {0, 3}, {})}, kRow), R"({"predictions":[]})");
  EXPECT_EQ(Encode({Floats("v", {3}, {1, 2, 3})}, kRow), R"({"predictions":[1.0,2.0,3.0]})");
}

TEST(PredictEncoderTest, NanAndInfinity) {
  float inf = std::numeric_limits<float>::infinity();
  EXPECT_EQ(Encode({Floats("y", {3}, {std::nanf(""), inf, -inf})}, kColumn),
            R"({"outputs":[NaN,Infinity,-Infinity]})");
  double dinf = std::numeric_limits<double>::infinity();
  EXPECT_EQ(Encode({Out<double>("d", DataType::kFp64, {2}, {-dinf, std::nan("")})}, kColumn),
            R"({"outputs":[-Infinity,NaN]})");
}

TEST(PredictEncoderTest, EveryNumericType) {
  EXPECT_EQ(Encode({Out<int8_t>("v", DataType::kInt8, {2}, {-128, 127})}, kColumn),
            R"({"outputs":[-128,127]})");
  EXPECT_EQ(Encode({Out<uint8_t>("v", DataType::kUint8, {2}, {0, 255})}, kColumn),
            R"({"outputs":[0,255]})");
  EXPECT_EQ(Encode({Out<int16_t>("v", DataType::kInt16, {1}, {-32768})}, kColumn),
            R"({"outputs":[-32768]})");
  EXPECT_EQ(Encode({Out<uint16_t>("v", DataType::kUint16, {1}, {65535})}, kColumn),
            R"({"outputs":[65535]})");
  EXPECT_EQ(Encode({Out<int32_t>("v", DataType::kInt32, {1}, {-2147483647 - 1})}, kColumn),
            R"({"outputs":[-2147483648]})");
  EXPECT_EQ(Encode({Out<uint32_t>("v", DataType::kUint32, {1}, {4294967295u})}, kColumn),
            R"({"outputs":[4294967295]})");
  EXPECT_EQ(Encode({Out<int64_t>("v", DataType::kInt64, {2},
                                 {std::numeric_limits<int64_t>::min(), 3})},
                   kColumn),
            R"({"outputs":[-9223372036854775808,3]})");
  EXPECT_EQ(Encode({Out<uint64_t>("v", DataType::kUint64, {1},
                                  {std::numeric_limits<uint64_t>::max()})},
                   kColumn),
            R"({"outputs":[18446744073709551615]})");
  EXPECT_EQ(Encode({Out<double>("v", DataType::kFp64, {3}, {0.1, 1e300, 2})}, kColumn),
            R"({"outputs":[0.1,1e+300,2.0]})");
  EXPECT_EQ(Encode({Out<uint16_t>("v", DataType::kFp16, {2}, {0x3e00, 0xc000})}, kColumn),
            R"({"outputs":[1.5,-2.0]})");
  EXPECT_EQ(Encode({Out<uint16_t>("v", DataType::kBf16, {1}, {0x3fc0})}, kColumn),
            R"({"outputs":[1.5]})");
  EXPECT_EQ(Encode({Out<uint8_t>("v", DataType::kBool, {3}, {1, 0, 1})}, kColumn),
            R"({"outputs":[true,false,true]})");
}

TEST(PredictEncoderTest, FloatsReadBackExactly) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> dist(-1e6f, 1e6f);
  std::vector<float> values(1000);
  for (auto& v : values) v = dist(rng) * std::pow(10.0f, static_cast<float>(rng() % 20) - 10);
  std::string json = Encode({Floats("y", {1000}, values)}, kColumn);
  std::string list = json.substr(json.find('[') + 1);
  const char* p = list.c_str();
  for (float v : values) {
    char* end;
    float back = std::strtof(p, &end);
    EXPECT_EQ(back, v);
    p = end + 1;
  }
}

TEST(PredictEncoderTest, Strings) {
  auto s = Strings("text", {3}, {"plain", "q\"uo\\te\n\x01", "caf\xc3\xa9"});
  EXPECT_EQ(Encode({s}, kColumn), R"({"outputs":["plain","q\"uo\\te\n\u0001","café"]})");
}

TEST(PredictEncoderTest, BytesOutputsAreBase64) {
  auto b = Strings("image_bytes", {2}, {"hello", std::string_view("\0\xff", 2)});
  EXPECT_EQ(Encode({b}, kRow), R"({"predictions":[{"b64":"aGVsbG8="},{"b64":"AP8="}]})");
  // Not valid UTF-8 and no _bytes suffix: still b64, a JSON string cannot hold it.
  auto raw = Strings("raw", {1}, {"\xff\xfe"});
  EXPECT_EQ(Encode({raw}, kColumn), R"({"outputs":[{"b64":"//4="}]})");
}

TEST(PredictEncoderTest, RowRepliesNeedOneBatchSize) {
  auto a = Floats("a", {2, 1}, {1, 2});
  auto b = Floats("b", {3}, {1, 2, 3});
  Status s = EncodeError({a, b}, kRow);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "Tensor name: b has inconsistent batch size: 3 expecting: 2");
  EXPECT_EQ(Encode({a, b}, kColumn), R"({"outputs":{"a":[[1.0],[2.0]],"b":[1.0,2.0,3.0]}})");
  EXPECT_EQ(EncodeError({a, Floats("s", {}, {1})}, kRow).message(),
            "Tensor name: s has no shape information");
}

TEST(PredictEncoderTest, RejectsBadOutputs) {
  EXPECT_EQ(EncodeError({}, kRow).code(), StatusCode::kInvalidArgument);
  NamedTensor short_tensor{"y", Tensor::FromBytes(DataType::kFp32, {2}, std::string(4, '\0'))};
  Status s = EncodeError({short_tensor}, kColumn);
  EXPECT_EQ(s.code(), StatusCode::kInternal);
  EXPECT_THAT(s.message(), HasSubstr("Output y has 4 bytes"));
  NamedTensor few_strings{"s", Tensor::FromBytes(DataType::kBytes, {2}, JoinBytesElements({"a"}))};
  EXPECT_EQ(EncodeError({few_strings}, kColumn).code(), StatusCode::kInternal);
}

}  // namespace
}  // namespace tessera::tfs_rest
