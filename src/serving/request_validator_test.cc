#include "serving/request_validator.h"

#include <gtest/gtest.h>

namespace tessera {
namespace {

ModelSignature TwoInputs() {
  ModelSignature s;
  s.inputs = {{"a", DataType::kFp32, {-1, 2}}, {"b", DataType::kInt64, {1}}};
  s.outputs = {{"y", DataType::kFp32, {-1}}, {"z", DataType::kFp32, {-1}}};
  return s;
}

NamedTensor Input(const std::string& name, DataType type, Shape shape) {
  return {name, Tensor::Allocate(type, std::move(shape))};
}

TEST(ValidateInputsTest, ReordersIntoSignatureOrder) {
  auto r = ValidateInputs(TwoInputs(), {Input("b", DataType::kInt64, {1}),
                                        Input("a", DataType::kFp32, {3, 2})});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)[0].name, "a");
  EXPECT_EQ((*r)[1].name, "b");
}

TEST(ValidateInputsTest, RejectsWrongShapeWithOvmsText) {
  auto r = ValidateInputs(TwoInputs(), {Input("a", DataType::kFp32, {3, 3}),
                                        Input("b", DataType::kInt64, {1})});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(),
            "Invalid input shape - Expected: (-1,2); Actual: (3,3); input name: a");
}

TEST(ValidateInputsTest, RejectsWrongPrecision) {
  auto r = ValidateInputs(TwoInputs(), {Input("a", DataType::kFp64, {3, 2}),
                                        Input("b", DataType::kInt64, {1})});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "Invalid input precision - Expected: FP32; Actual: FP64; input name: a");
}

TEST(ValidateInputsTest, RejectsMissingUnexpectedAndDuplicateInputs) {
  auto missing = ValidateInputs(TwoInputs(), {Input("a", DataType::kFp32, {3, 2})});
  EXPECT_EQ(missing.status().message(), "Missing input with specific name - Required input: b");
  auto unexpected = ValidateInputs(TwoInputs(), {Input("a", DataType::kFp32, {3, 2}),
                                                 Input("c", DataType::kInt64, {1})});
  EXPECT_EQ(unexpected.status().message(), "Unexpected input name: c");
  auto dup = ValidateInputs(TwoInputs(), {Input("a", DataType::kFp32, {3, 2}),
                                          Input("a", DataType::kFp32, {3, 2})});
  EXPECT_EQ(dup.status().message(), "Duplicate input name: a");
}

TEST(ValidateInputsTest, RejectsByteSizeMismatch) {
  float data[5] = {};
  std::vector<NamedTensor> inputs = {
      {"a", Tensor::Borrow(DataType::kFp32, {2, 2}, data, sizeof(data))},
      Input("b", DataType::kInt64, {1})};
  auto r = ValidateInputs(TwoInputs(), inputs);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("Expected: 16 bytes; Actual: 20 bytes"), std::string::npos);
}

TEST(ValidateInputsTest, EmptySignatureShapeAcceptsAnyShape) {
  ModelSignature s;
  s.inputs = {{"x", DataType::kFp32, {}}};
  EXPECT_TRUE(ValidateInputs(s, {Input("x", DataType::kFp32, {2, 3, 4})}).ok());
}

TEST(ValidateInputsTest, BytesBufferMustHoldOneElementPerElement) {
  ModelSignature s;
  s.inputs = {{"t", DataType::kBytes, {-1}}};
  auto two = Tensor::FromBytes(DataType::kBytes, {2}, JoinBytesElements({"a", "bc"}));
  EXPECT_TRUE(ValidateInputs(s, {{"t", two}}).ok());
  auto three = ValidateInputs(s, {{"t", Tensor::FromBytes(DataType::kBytes, {3}, JoinBytesElements({"a", "bc"}))}});
  EXPECT_EQ(three.status().message(),
            "Invalid content size of tensor proto - Expected: 3 strings; Actual: 2 strings; input name: t");
  std::string lying = JoinBytesElements({"a"});
  lying[1] = 1;  // length 257
  auto past = ValidateInputs(s, {{"t", Tensor::FromBytes(DataType::kBytes, {1}, lying)}});
  EXPECT_EQ(past.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(past.status().message(),
            "Invalid content size of tensor proto - BYTES element length runs past the buffer end; input name: t");
}

TEST(CheckInputTest, InvalidDtypeAcceptsAnyDatatype) {
  TensorInfo any{"x", DataType::kInvalid, {1, -1}};
  EXPECT_TRUE(CheckInput(any, ShapeConstraint::FromShape(any.shape), Tensor::Allocate(DataType::kInt8, {1, 3})).ok());
}

TEST(SelectOutputsTest, AllByDefaultOrRequestedOrder) {
  EXPECT_EQ(*SelectOutputs(TwoInputs(), {}), (std::vector<size_t>{0, 1}));
  EXPECT_EQ(*SelectOutputs(TwoInputs(), {"z"}), (std::vector<size_t>{1}));
  auto bad = SelectOutputs(TwoInputs(), {"q"});
  EXPECT_EQ(bad.status().message(), "Invalid output name: q");
}

}  // namespace
}  // namespace tessera
