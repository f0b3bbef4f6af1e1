#include "tensor/tensor.h"

#include <gtest/gtest.h>

namespace tessera {
namespace {

TEST(DataTypeTest, NamesRoundTrip) {
  for (auto t : {DataType::kBool, DataType::kUint8, DataType::kInt64, DataType::kFp16,
                 DataType::kFp32, DataType::kFp64, DataType::kBytes}) {
    EXPECT_EQ(DataTypeFromKServeName(KServeName(t)), t);
  }
  EXPECT_EQ(DataTypeFromKServeName("fp32"), std::nullopt);
  EXPECT_EQ(ElementSize(DataType::kFp16), 2u);
  EXPECT_EQ(ElementSize(DataType::kBytes), 0u);
}

TEST(ShapeTest, CountsAndMatches) {
  EXPECT_EQ(ElementCount({1, 3, 224, 224}), 150528);
  EXPECT_EQ(ElementCount({}), 1);
  EXPECT_EQ(ElementCount({2, -1}), std::nullopt);
  EXPECT_EQ(ElementCount({INT64_MAX, 3}), std::nullopt);
  EXPECT_EQ(ShapeToString({1, 3, 224, 224}), "(1,3,224,224)");
  EXPECT_TRUE(ShapeMatches({-1, 4}, {7, 4}));
  EXPECT_FALSE(ShapeMatches({-1, 4}, {7, 5}));
  EXPECT_FALSE(ShapeMatches({-1, 4}, {7, 4, 1}));
}

TEST(TensorTest, AllocateAndBorrow) {
  Tensor t = Tensor::Allocate(DataType::kFp32, {2, 3});
  EXPECT_EQ(t.byte_size(), 24u);
  EXPECT_EQ(t.element_count(), 6);
  float values[2] = {1.f, 2.f};
  Tensor b = Tensor::Borrow(DataType::kFp32, {2}, values, sizeof(values));
  EXPECT_EQ(b.data_as<float>()[1], 2.f);
}

TEST(TensorTest, CheckByteSizeNamesExpectedAndActual) {
  EXPECT_TRUE(CheckByteSize("x", DataType::kFp32, {2, 2}, 16).ok());
  Status s = CheckByteSize("x", DataType::kFp32, {2, 2}, 12);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("Expected: 16"), std::string::npos);
  EXPECT_NE(s.message().find("Actual: 12"), std::string::npos);
  // elements x element size overflowing size_t must not wrap to a small size.
  EXPECT_FALSE(CheckByteSize("x", DataType::kFp64, {(int64_t{1} << 61) + 1}, 8).ok());
}

TEST(TensorTest, BytesElementsRoundTrip) {
  std::string raw = JoinBytesElements({"ab", "", "xyz"});
  auto parts = SplitBytesElements(reinterpret_cast<const uint8_t*>(raw.data()), raw.size());
  ASSERT_TRUE(parts.ok());
  ASSERT_EQ(parts->size(), 3u);
  EXPECT_EQ((*parts)[2], "xyz");
  auto bad = SplitBytesElements(reinterpret_cast<const uint8_t*>(raw.data()), raw.size() - 1);
  EXPECT_FALSE(bad.ok());
}

}  // namespace
}  // namespace tessera
