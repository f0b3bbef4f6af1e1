#include "pipeline/entry_images.h"

#include <gtest/gtest.h>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace tessera::pipeline {
namespace {

// A w x h 3-channel PNG whose pixel (y, x, c) is 10y + 3x + 50c.
std::string Png(int w, int h) {
  cv::Mat m(h, w, CV_8UC3);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < 3; ++c) m.ptr<uint8_t>(y)[x * 3 + c] = 10 * y + 3 * x + 50 * c;
  std::vector<uchar> buf;
  cv::imencode(".png", m, buf);
  return std::string(buf.begin(), buf.end());
}

Tensor Images(const std::vector<std::string>& images) {
  std::vector<std::string_view> views(images.begin(), images.end());
  return Tensor::FromBytes(DataType::kBytes, {static_cast<int64_t>(images.size())}, JoinBytesElements(views));
}

TEST(EntryImagesTest, RecognisesEncodedImagesByTypeAndRank) {
  Tensor images = Images({Png(4, 4)});
  TensorInfo nhwc{"image", DataType::kFp32, {1, -1, -1, 3}};
  TensorInfo demultiplexed{"image", DataType::kFp32, {-1, 1, 4, 4, 3}};
  EXPECT_TRUE(IsEncodedImageInput(nhwc, images, false));
  EXPECT_FALSE(IsEncodedImageInput(nhwc, images, true));
  EXPECT_TRUE(IsEncodedImageInput(demultiplexed, images, true));
  EXPECT_FALSE(IsEncodedImageInput({"image", DataType::kBytes, {1, 4, 4, 3}}, images, false));
  EXPECT_FALSE(IsEncodedImageInput({"image", DataType::kFp32, {1, 48}}, images, false));
  EXPECT_FALSE(IsEncodedImageInput({"image", DataType::kInvalid, {}}, images, false));
  EXPECT_FALSE(IsEncodedImageInput(nhwc, Tensor::Allocate(DataType::kFp32, {1, 4, 4, 3}), false));
}

TEST(EntryImagesTest, DecodesToNhwcOfTheInputsTypeWithoutScaling) {
  auto decoded = DecodeEntryImages({"image", DataType::kFp32, {1, -1, -1, 3}}, Images({Png(5, 4)}), false,
                                   1 << 20);
  ASSERT_TRUE(decoded.ok()) << decoded.status().message();
  EXPECT_EQ(decoded->shape(), (Shape{1, 4, 5, 3}));
  const float* px = decoded->data_as<float>();
  EXPECT_EQ(px[(2 * 5 + 1) * 3 + 2], 10 * 2 + 3 * 1 + 50 * 2);  // y=2, x=1, c=2
}

TEST(EntryImagesTest, ResizesToAFixedSize) {
  auto decoded = DecodeEntryImages({"image", DataType::kUint8, {1, 2, 3, 3}}, Images({Png(6, 4)}), false, 1 << 20);
  ASSERT_TRUE(decoded.ok()) << decoded.status().message();
  EXPECT_EQ(decoded->shape(), (Shape{1, 2, 3, 3}));
}

TEST(EntryImagesTest, EntryDemultiplexingMakesOneShardPerImage) {
  auto decoded = DecodeEntryImages({"image", DataType::kFp32, {-1, 1, 4, 4, 3}}, Images({Png(4, 4), Png(4, 4)}),
                                   true, 1 << 20);
  ASSERT_TRUE(decoded.ok()) << decoded.status().message();
  EXPECT_EQ(decoded->shape(), (Shape{2, 1, 4, 4, 3}));
  EXPECT_EQ(decoded->byte_size(), 2u * 4 * 4 * 3 * sizeof(float));
}

TEST(EntryImagesTest, ErrorsNameTheInput) {
  TensorInfo info{"image", DataType::kFp32, {1, -1, -1, 3}};
  auto not_an_image = DecodeEntryImages(info, Images({"not an image"}), false, 1 << 20);
  ASSERT_FALSE(not_an_image.ok());
  EXPECT_EQ(not_an_image.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(not_an_image.status().message().find("image"), std::string::npos);

  auto too_large = DecodeEntryImages(info, Images({Png(8, 8)}), false, 63);
  ASSERT_FALSE(too_large.ok());
  EXPECT_EQ(too_large.status().code(), StatusCode::kInvalidArgument);

  Tensor two_d = Tensor::FromBytes(DataType::kBytes, {1, 1}, JoinBytesElements({Png(4, 4)}));
  auto wrong_rank = DecodeEntryImages(info, two_d, false, 1 << 20);
  ASSERT_FALSE(wrong_rank.ok());
  EXPECT_NE(wrong_rank.status().message().find("1-D BYTES tensor"), std::string::npos);
}

}  // namespace
}  // namespace tessera::pipeline
