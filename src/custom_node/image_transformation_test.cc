// Tests of the shipped image_transformation library through the loader.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>

#include "custom_node/custom_node_library.h"

namespace tessera::custom_node {
namespace {

using ::testing::ElementsAre;
using ::testing::FloatNear;
using ::testing::Pointwise;
using ::testing::StartsWith;

Tensor Floats(Shape shape, const std::vector<float>& values) {
  std::string bytes(values.size() * sizeof(float), '\0');
  if (!values.empty()) std::memcpy(bytes.data(), values.data(), bytes.size());
  return Tensor::FromBytes(DataType::kFp32, std::move(shape), std::move(bytes));
}

std::vector<float> ToFloats(const Tensor& t) {
  return std::vector<float>(t.data_as<float>(), t.data_as<float>() + t.byte_size() / sizeof(float));
}

class ImageTransformationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto library = CustomNodeLibrary::Load(IMAGE_TRANSFORMATION_LIBRARY);
    ASSERT_TRUE(library.ok()) << library.status().ToString();
    library_ = *library;
  }
  Result<std::shared_ptr<CustomNode>> Node(NodeParams params) {
    return CustomNode::Create(library_, "transform", std::move(params));
  }
  Result<Tensor> Run(NodeParams params, Tensor image) {
    TESSERA_ASSIGN_OR_RETURN(auto node, Node(std::move(params)));
    TESSERA_ASSIGN_OR_RETURN(auto outputs, node->Execute({{"image", std::move(image)}}, {"image"}));
    return outputs[0].tensor;
  }
  std::shared_ptr<const CustomNodeLibrary> library_;
};

TEST_F(ImageTransformationTest, LayoutColorMeanAndScale) {
  // 1x1x2x3 NHWC, BGR pixels (1,2,3) and (4,5,6).
  auto out = Run({{"original_image_layout", "NHWC"}, {"target_image_layout", "NCHW"},
                  {"target_image_color_order", "RGB"}, {"mean_values", "[1,2,3]"}, {"scale_values", "[2, 1, 0.5]"}},
                 Floats({1, 1, 2, 3}, {1, 2, 3, 4, 5, 6}));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->shape(), (Shape{1, 3, 1, 2}));
  // RGB planes: R = (3,6), G = (2,5), B = (1,4); then (v - mean) / scale.
  EXPECT_THAT(ToFloats(*out), Pointwise(FloatNear(1e-5), std::vector<float>{1, 2.5f, 0, 3, -4, 2}));
}

TEST_F(ImageTransformationTest, BilinearDownscaleUsesPixelCentres) {
  std::vector<float> columns;
  for (int y = 0; y < 4; ++y) {
    for (int x = 0; x < 4; ++x) columns.push_back(float(x));
  }
  auto out = Run({{"original_image_layout", "NCHW"}, {"original_image_color_order", "GRAY"},
                  {"target_image_width", "2"}, {"target_image_height", "2"}},
                 Floats({1, 1, 4, 4}, columns));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->shape(), (Shape{1, 1, 2, 2}));
  EXPECT_THAT(ToFloats(*out), Pointwise(FloatNear(1e-5), std::vector<float>{0.5f, 2.5f, 0.5f, 2.5f}));
}

TEST_F(ImageTransformationTest, UpscaleOfAConstantImageStaysConstant) {
  auto out = Run({{"original_image_layout", "NHWC"}, {"target_image_width", "5"}, {"target_image_height", "3"}},
                 Floats({1, 2, 2, 3}, std::vector<float>(12, 7.0f)));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->shape(), (Shape{1, 3, 5, 3}));
  EXPECT_THAT(ToFloats(*out), Pointwise(FloatNear(1e-5), std::vector<float>(45, 7.0f)));
}

TEST_F(ImageTransformationTest, BgrToGray) {
  auto out = Run({{"original_image_layout", "NHWC"}, {"target_image_color_order", "GRAY"}},
                 Floats({1, 1, 1, 3}, {10, 20, 30}));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->shape(), (Shape{1, 1, 1, 1}));
  EXPECT_THAT(ToFloats(*out), ElementsAre(FloatNear(21.85f, 1e-4)));
}

TEST_F(ImageTransformationTest, MetadataFollowsParams) {
  auto node = Node({{"original_image_layout", "NCHW"}, {"target_image_layout", "NHWC"},
                    {"target_image_width", "224"}, {"target_image_height", "200"}});
  ASSERT_TRUE(node.ok()) << node.status().ToString();
  auto inputs = (*node)->GetInputsInfo();
  ASSERT_TRUE(inputs.ok());
  EXPECT_EQ(*inputs, (std::vector<TensorInfo>{{"image", DataType::kFp32, {1, 3, -1, -1}}}));
  auto outputs = (*node)->GetOutputsInfo();
  ASSERT_TRUE(outputs.ok());
  EXPECT_EQ(*outputs, (std::vector<TensorInfo>{{"image", DataType::kFp32, {1, 200, 224, 3}}}));
}

TEST_F(ImageTransformationTest, BadParamsFailInitialize) {
  EXPECT_THAT(Node({}).status().message(), StartsWith("Failure during custom node library initialization"));
  EXPECT_FALSE(Node({{"original_image_layout", "NC"}}).ok());
  EXPECT_FALSE(Node({{"original_image_layout", "NCHW"}, {"mean_values", "[1,2]"}}).ok());
  EXPECT_FALSE(Node({{"original_image_layout", "NCHW"}, {"scale", "0"}}).ok());
  EXPECT_FALSE(Node({{"original_image_layout", "NCHW"}, {"target_image_width", "-3"}}).ok());
}

TEST_F(ImageTransformationTest, WrongChannelCountFailsExecute) {
  auto out = Run({{"original_image_layout", "NCHW"}}, Floats({1, 1, 2, 2}, std::vector<float>(4, 0)));
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(out.status().message(), StartsWith("Custom node failed during execution; node: transform"));
}

}  // namespace
}  // namespace tessera::custom_node
