#include "serving/model_interface.h"

#include <gtest/gtest.h>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

namespace tessera {
namespace {

ModelSignature Nchw() {
  ModelSignature s;
  s.inputs = {{"data", DataType::kFp32, {-1, 3, 4, 5}}};
  s.outputs = {{"prob", DataType::kFp32, {-1, 10}}};
  return s;
}

ModelConfig WithLayout(const std::string& layout) {
  ModelConfig c;
  c.layout.whole_model = layout;
  return c;
}

NamedTensor Zeros(const std::string& name, Shape shape, DataType type = DataType::kFp32) {
  return {name, Tensor::Allocate(type, std::move(shape))};
}

std::string Message(const Result<std::vector<NamedTensor>>& r) {
  return r.ok() ? "OK" : r.status().message();
}

TEST(ModelInterfaceTest, IdentityKeepsTheSignature) {
  ModelInterface identity = ModelInterface::Identity(Nchw());
  EXPECT_EQ(identity.client_signature(), Nchw());
  auto prepared = identity.PrepareInputs({Zeros("data", {2, 3, 4, 5})});
  ASSERT_TRUE(prepared.ok()) << Message(prepared);
  EXPECT_EQ((*prepared)[0].tensor.shape(), (Shape{2, 3, 4, 5}));
  EXPECT_EQ(*identity.WarmupShapes(), (std::vector<Shape>{{1, 3, 4, 5}}));
}

TEST(ModelInterfaceTest, ShapeSettingWithRangesIsEnforcedAndReported) {
  ModelConfig config;
  config.shape.per_input["data"] = "(1:2,3,4,-1)";
  auto made = ModelInterface::Make(Nchw(), config, {});
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  EXPECT_EQ(made->client_signature().inputs[0].shape, (Shape{-1, 3, 4, -1}));
  EXPECT_TRUE(made->PrepareInputs({Zeros("data", {2, 3, 4, 7})}).ok());
  EXPECT_EQ(Message(made->PrepareInputs({Zeros("data", {3, 3, 4, 5})})),
            "Invalid batch size - Expected: 1:2; Actual: 3; input name: data");
  EXPECT_EQ(Message(made->PrepareInputs({Zeros("data", {1, 3, 5, 5})})),
            "Invalid input shape - Expected: (1:2,3,4,-1); Actual: (1,3,5,5); input name: data");
  EXPECT_EQ(*made->WarmupShapes(), (std::vector<Shape>{{1, 3, 4, 1}}));
}

TEST(ModelInterfaceTest, BatchSizeFollowsTheLayout) {
  ModelConfig config = WithLayout("CHWN");
  config.batch_size = "8";
  ModelSignature s;
  s.inputs = {{"x", DataType::kFp32, {3, 4, 5, -1}}};
  s.outputs = {{"y", DataType::kFp32, {}}};
  auto made = ModelInterface::Make(s, config, {});
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  EXPECT_EQ(made->client_signature().inputs[0].shape, (Shape{3, 4, 5, 8}));
  EXPECT_EQ(Message(made->PrepareInputs({Zeros("x", {3, 4, 5, 2})})),
            "Invalid batch size - Expected: 8; Actual: 2; input name: x");

  ModelConfig range;
  range.batch_size = "1:4";
  auto ranged = ModelInterface::Make(Nchw(), range, {});
  ASSERT_TRUE(ranged.ok());
  EXPECT_EQ(ranged->client_signature().inputs[0].shape, (Shape{-1, 3, 4, 5}));
  EXPECT_FALSE(ranged->PrepareInputs({Zeros("data", {5, 3, 4, 5})}).ok());
  ModelConfig both = range;  // an explicit shape wins over batch_size
  both.shape.whole_model = "(6,3,4,5)";
  EXPECT_EQ(ModelInterface::Make(Nchw(), both, {})->client_signature().inputs[0].shape,
            (Shape{6, 3, 4, 5}));
}

TEST(ModelInterfaceTest, AutoMakesEveryDimDynamic) {
  ModelConfig config;
  config.shape.whole_model = "auto";
  auto made = ModelInterface::Make(Nchw(), config, {});
  ASSERT_TRUE(made.ok());
  EXPECT_EQ(made->client_signature().inputs[0].shape, (Shape{-1, -1, -1, -1}));
}

TEST(ModelInterfaceTest, TransposingLayoutReportsAndConvertsClientOrder) {
  auto made = ModelInterface::Make(Nchw(), WithLayout("NHWC:NCHW"), {});
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  EXPECT_EQ(made->client_signature().inputs[0].shape, (Shape{-1, 4, 5, 3}));
  Tensor nhwc = Tensor::Allocate(DataType::kFp32, {1, 4, 5, 3});
  auto* v = reinterpret_cast<float*>(nhwc.mutable_data());
  for (int i = 0; i < 60; ++i) v[i] = i;  // value = (h*5 + w)*3 + c
  auto prepared = made->PrepareInputs({{"data", nhwc}});
  ASSERT_TRUE(prepared.ok()) << Message(prepared);
  const Tensor& nchw = (*prepared)[0].tensor;
  ASSERT_EQ(nchw.shape(), (Shape{1, 3, 4, 5}));
  EXPECT_EQ(nchw.data_as<float>()[1 * 20 + 2 * 5 + 3], (2 * 5 + 3) * 3 + 1);  // c=1,h=2,w=3
  EXPECT_EQ(Message(made->PrepareInputs({Zeros("data", {1, 3, 4, 5})})),
            "Invalid input shape - Expected: (-1,4,5,3); Actual: (1,3,4,5); input name: data");
  EXPECT_EQ(*made->WarmupShapes(), (std::vector<Shape>{{1, 3, 4, 5}}));
}

TEST(ModelInterfaceTest, MappingRenamesInputsAndOutputs) {
  TensorNameMapping mapping;
  mapping.inputs["data"] = "image";
  mapping.outputs["prob"] = "scores";
  ModelConfig config;
  config.shape.per_input["image"] = "(1,3,4,5)";  // client names are accepted
  auto made = ModelInterface::Make(Nchw(), config, mapping);
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  EXPECT_EQ(made->client_signature().inputs[0].name, "image");
  EXPECT_EQ(made->client_signature().inputs[0].shape, (Shape{1, 3, 4, 5}));
  EXPECT_EQ(made->client_signature().outputs[0].name, "scores");
  auto prepared = made->PrepareInputs({Zeros("image", {1, 3, 4, 5})});
  ASSERT_TRUE(prepared.ok()) << Message(prepared);
  EXPECT_EQ((*prepared)[0].name, "data");
  EXPECT_EQ(Message(made->PrepareInputs({Zeros("data", {1, 3, 4, 5})})),
            "Unexpected input name: data");
}

TEST(ModelInterfaceTest, RejectsSettingsThatDoNotFit) {
  auto error = [](const ModelConfig& config, TensorNameMapping mapping = {}) {
    auto made = ModelInterface::Make(Nchw(), config, mapping);
    EXPECT_FALSE(made.ok());
    return made.ok() ? std::string() : made.status().message();
  };
  ModelConfig unknown;
  unknown.shape.per_input["nope"] = "(1)";
  EXPECT_EQ(error(unknown), "shape given for unknown input nope");
  ModelConfig rank;
  rank.shape.whole_model = "(1,3,4)";
  EXPECT_EQ(error(rank), "shape (1,3,4) for input data has 3 dims, the model's (-1,3,4,5) has 4");
  ModelConfig bad_shape;
  bad_shape.shape.whole_model = "1,3";
  EXPECT_NE(error(bad_shape).find("Invalid shape '1,3'"), std::string::npos);
  EXPECT_EQ(error(WithLayout("NC")), "layout NC for input data does not fit shape (-1,3,4,5)");
  EXPECT_NE(error(WithLayout("NHWC:NCH")).find("CLIENT:MODEL"), std::string::npos);
  ModelConfig bad_batch;
  bad_batch.batch_size = "x";
  EXPECT_NE(error(bad_batch).find("batch_size: Invalid dimension 'x'"), std::string::npos);
  TensorNameMapping mapping;
  mapping.outputs["nope"] = "y";
  EXPECT_EQ(error({}, mapping), "mapping_config.json renames unknown output nope");
  ModelSignature unknown_rank;
  unknown_rank.inputs = {{"x", DataType::kFp32, {}}};
  EXPECT_NE(ModelInterface::Make(unknown_rank, WithLayout("NHWC:NCHW"), {})
                .status().message().find("needs a known shape"),
            std::string::npos);
}

std::string Png(int w, int h, int channels) {
  cv::Mat m(h, w, CV_8UC(channels));
  for (size_t i = 0; i < m.total() * channels; ++i) m.data[i] = static_cast<uint8_t>(i * 7);
  std::vector<uchar> buf;
  cv::imencode(".png", m, buf);
  return std::string(buf.begin(), buf.end());
}

NamedTensor Images(const std::string& name, const std::vector<std::string>& images) {
  std::vector<std::string_view> views(images.begin(), images.end());
  return {name, Tensor::FromBytes(DataType::kBytes, {static_cast<int64_t>(images.size())},
                                  JoinBytesElements(views))};
}

TEST(ModelInterfaceTest, ImagesAreDecodedTransposedAndBatched) {
  auto made = ModelInterface::Make(Nchw(), WithLayout("NHWC:NCHW"), {});
  ASSERT_TRUE(made.ok());
  std::string png = Png(5, 4, 3);
  auto prepared = made->PrepareInputs({Images("data", {png, png, png})});
  ASSERT_TRUE(prepared.ok()) << Message(prepared);
  const Tensor& t = (*prepared)[0].tensor;
  ASSERT_EQ(t.shape(), (Shape{3, 3, 4, 5}));
  // NCHW element (n=2, c=1, h=0, w=1) is pixel (0,1) channel 1 = byte 4.
  EXPECT_EQ(t.data_as<float>()[2 * 60 + 1 * 20 + 1], static_cast<uint8_t>(4 * 7));
}

TEST(ModelInterfaceTest, ImageErrorsNameTheInput) {
  ModelSignature flat;
  flat.inputs = {{"x", DataType::kFp32, {-1, 10}}};
  flat.outputs = {{"y", DataType::kFp32, {-1}}};
  auto not_4d = ModelInterface::Identity(flat).PrepareInputs({Images("x", {Png(2, 2, 3)})});
  EXPECT_EQ(Message(not_4d),
            "Invalid input precision - Expected: FP32; Actual: BYTES; input name: x (encoded "
            "images are only accepted by 4-D NHWC inputs; this one has shape (-1,10))");
  auto nchw = ModelInterface::Make(Nchw(), WithLayout("NCHW"), {});
  EXPECT_NE(Message(nchw->PrepareInputs({Images("data", {Png(5, 4, 3)})}))
                .find("has layout NCHW; encoded images need NHWC"),
            std::string::npos);
  auto nhwc = ModelInterface::Make(Nchw(), WithLayout("NHWC:NCHW"), {});
  EXPECT_EQ(Message(nhwc->PrepareInputs({Images("data", {Png(5, 4, 3), Png(5, 4, 1)})})),
            "Invalid image 1 of input data: it has 1 channel(s), the input takes 3");
  ModelConfig one;
  one.layout.whole_model = "NHWC:NCHW";
  one.batch_size = "1";
  auto single = ModelInterface::Make(Nchw(), one, {});
  EXPECT_EQ(Message(single->PrepareInputs({Images("data", {Png(5, 4, 3), Png(5, 4, 3)})})),
            "Invalid batch size - Expected: 1; Actual: 2; input name: data");
}

}  // namespace
}  // namespace tessera
