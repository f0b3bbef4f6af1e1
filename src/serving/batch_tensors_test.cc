#include "serving/batch_tensors.h"

#include <gtest/gtest.h>

#include <cstring>

namespace tessera {
namespace {

NamedTensor Floats(const std::string& name, Shape shape, std::vector<float> values) {
  Tensor t = Tensor::Allocate(DataType::kFp32, std::move(shape));
  // memcpy from an empty vector's null data() is undefined even for 0 bytes.
  if (!values.empty()) std::memcpy(t.mutable_data(), values.data(), values.size() * sizeof(float));
  return {name, t};
}

std::vector<float> ValuesOf(const Tensor& t) {
  return std::vector<float>(t.data_as<float>(), t.data_as<float>() + t.element_count());
}

TEST(BatchRowsTest, SharedFirstDimOrNothing) {
  EXPECT_EQ(BatchRows({Floats("a", {3, 2}, {}), Floats("b", {3}, {})}), 3);
  EXPECT_EQ(BatchRows({Floats("a", {3, 2}, {}), Floats("b", {2, 2}, {})}), std::nullopt);
  EXPECT_EQ(BatchRows({Floats("a", {}, {})}), std::nullopt);
  EXPECT_EQ(BatchRows({Floats("a", {0, 2}, {})}), std::nullopt);
  EXPECT_EQ(BatchRows({}), std::nullopt);
  EXPECT_EQ(BatchRows({{"s", Tensor::FromBytes(DataType::kBytes, {1}, std::string("\1\0\0\0x", 5))}}),
            std::nullopt);
}

TEST(SameRowShapeTest, ComparesEverythingButTheFirstDim) {
  EXPECT_TRUE(SameRowShape({Floats("a", {1, 2}, {})}, {Floats("a", {5, 2}, {})}));
  EXPECT_FALSE(SameRowShape({Floats("a", {1, 2}, {})}, {Floats("a", {1, 3}, {})}));
  EXPECT_FALSE(SameRowShape({Floats("a", {1, 2}, {})}, {Floats("a", {1, 2, 1}, {})}));
  EXPECT_FALSE(SameRowShape({Floats("a", {1, 2}, {})},
                            {{"a", Tensor::Allocate(DataType::kFp64, {1, 2})}}));
  EXPECT_FALSE(SameRowShape({Floats("a", {1, 2}, {})}, {Floats("a", {1, 2}, {}), Floats("b", {1}, {})}));
}

TEST(ConcatRowsTest, JoinsInRequestOrderPerInput) {
  std::vector<NamedTensor> first = {Floats("a", {1, 2}, {1, 2}), Floats("b", {1}, {10})};
  std::vector<NamedTensor> second = {Floats("a", {2, 2}, {3, 4, 5, 6}), Floats("b", {2}, {20, 30})};
  auto joined = ConcatRows({&first, &second});
  ASSERT_EQ(joined.size(), 2u);
  EXPECT_EQ(joined[0].name, "a");
  EXPECT_EQ(joined[0].tensor.shape(), (Shape{3, 2}));
  EXPECT_EQ(ValuesOf(joined[0].tensor), (std::vector<float>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(joined[1].tensor.shape(), (Shape{3}));
  EXPECT_EQ(ValuesOf(joined[1].tensor), (std::vector<float>{10, 20, 30}));
}

TEST(SplitRowsTest, ViewsShareTheOutputBytes) {
  std::vector<NamedTensor> outputs = {Floats("y", {3, 2}, {1, 2, 3, 4, 5, 6})};
  const uint8_t* base = outputs[0].tensor.data();
  auto parts = SplitRows(outputs, {1, 2});
  ASSERT_TRUE(parts.ok()) << parts.status().message();
  ASSERT_EQ(parts->size(), 2u);
  outputs.clear();  // the views keep the bytes alive
  EXPECT_EQ((*parts)[0][0].name, "y");
  EXPECT_EQ((*parts)[0][0].tensor.shape(), (Shape{1, 2}));
  EXPECT_EQ(ValuesOf((*parts)[0][0].tensor), (std::vector<float>{1, 2}));
  EXPECT_EQ((*parts)[1][0].tensor.shape(), (Shape{2, 2}));
  EXPECT_EQ(ValuesOf((*parts)[1][0].tensor), (std::vector<float>{3, 4, 5, 6}));
  EXPECT_EQ((*parts)[0][0].tensor.data(), base);
  EXPECT_EQ((*parts)[1][0].tensor.data(), base + 2 * sizeof(float));
}

TEST(SplitRowsTest, OutputWithoutTheBatchRowsIsInternal) {
  auto wrong_rows = SplitRows({Floats("y", {2, 2}, {1, 2, 3, 4})}, {1, 2});
  EXPECT_EQ(wrong_rows.status(),
            Internal("Output y of shape (2,2) cannot be split into a batch of 3 rows"));
  auto scalar = SplitRows({Floats("s", {}, {1})}, {1, 1});
  EXPECT_EQ(scalar.status().code(), StatusCode::kInternal);
}

TEST(CheckBatchableTest, NeedsADynamicFirstDim) {
  ModelSignature s;
  s.inputs = {{"x", DataType::kFp32, {-1, 2}}, {"any", DataType::kFp32, {}}};
  EXPECT_TRUE(CheckBatchable(s).ok());
  s.inputs.push_back({"fixed", DataType::kFp32, {1, 2}});
  EXPECT_EQ(CheckBatchable(s),
            FailedPrecondition("dynamic_batching needs a dynamic first dimension (-1) on every input; "
                               "input fixed has shape (1,2)"));
}

}  // namespace
}  // namespace tessera
