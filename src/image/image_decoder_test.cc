#include "image/image_decoder.h"

#include <gtest/gtest.h>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "common/base64.h"

namespace tessera::image {
namespace {

// A w×h image with `channels` channels and distinct, smooth pixel values.
cv::Mat Pattern(int w, int h, int channels) {
  cv::Mat m(h, w, CV_8UC(channels));
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < channels; ++c) m.ptr<uint8_t>(y)[x * channels + c] = 10 * y + 3 * x + 50 * c;
  return m;
}

std::string Encode(const cv::Mat& m, const std::string& ext) {
  std::vector<uchar> buf;
  cv::imencode(ext, m, buf);
  return std::string(buf.begin(), buf.end());
}

ImageTarget Nhwc(DataType type, Dim h, Dim w, Dim c) { return {type, h, w, c}; }

TEST(DecodeImagesTest, PngIsExactAndConvertedWithoutScaling) {
  cv::Mat m = Pattern(5, 4, 3);
  std::string png = Encode(m, ".png");
  auto t = DecodeImages("x", {png}, Nhwc(DataType::kFp32, Dim::Fixed(4), Dim::Fixed(5), Dim::Fixed(3)));
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  ASSERT_EQ(t->shape(), (Shape{1, 4, 5, 3}));
  const float* v = t->data_as<float>();
  for (int i = 0; i < 4 * 5 * 3; ++i) EXPECT_EQ(v[i], m.data[i]) << i;
}

TEST(DecodeImagesTest, BatchOfGrayImagesWithDynamicSize) {
  std::string a = Encode(Pattern(6, 3, 1), ".png");
  std::string b = Encode(Pattern(6, 3, 1) + 1, ".png");
  auto t = DecodeImages("x", {a, b, a}, Nhwc(DataType::kUint8, Dim::Any(), Dim::Any(), Dim::Fixed(1)));
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  ASSERT_EQ(t->shape(), (Shape{3, 3, 6, 1}));
  EXPECT_EQ(t->data()[18], t->data()[0] + 1);
  EXPECT_EQ(t->data()[36], t->data()[0]);
}

TEST(DecodeImagesTest, ResizesToFixedSizeAndClampsRanges) {
  cv::Mat m = Pattern(8, 8, 3);
  std::string png = Encode(m, ".png");
  auto t = DecodeImages("x", {png}, Nhwc(DataType::kInt32, Dim::Fixed(4), Dim::Fixed(2), Dim::Any()));
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  ASSERT_EQ(t->shape(), (Shape{1, 4, 2, 3}));
  cv::Mat expected;
  cv::resize(m, expected, cv::Size(2, 4), 0, 0, cv::INTER_LINEAR);
  for (int i = 0; i < 4 * 2 * 3; ++i) EXPECT_EQ(t->data_as<int32_t>()[i], expected.data[i]);
  auto clamped = DecodeImages("x", {png}, Nhwc(DataType::kUint8, Dim{1, 4}, Dim{10, 20}, Dim::Fixed(3)));
  ASSERT_TRUE(clamped.ok());
  EXPECT_EQ(clamped->shape(), (Shape{1, 4, 10, 3}));
}

TEST(DecodeImagesTest, JpegAndBase64Text) {
  std::string jpeg = Encode(Pattern(16, 16, 3), ".jpg");
  std::string text;
  Base64EncodeAppend(jpeg, &text);
  ImageTarget target = Nhwc(DataType::kFp32, Dim::Fixed(16), Dim::Fixed(16), Dim::Fixed(3));
  auto raw = DecodeImages("x", {jpeg}, target);
  auto b64 = DecodeImages("x", {text}, target);
  ASSERT_TRUE(raw.ok()) << raw.status().ToString();
  ASSERT_TRUE(b64.ok()) << b64.status().ToString();
  EXPECT_EQ(0, std::memcmp(raw->data(), b64->data(), raw->byte_size()));
  auto int64 = DecodeImages("x", {jpeg}, Nhwc(DataType::kInt64, Dim::Any(), Dim::Any(), Dim::Any()));
  ASSERT_TRUE(int64.ok());
  EXPECT_EQ(int64->data_as<int64_t>()[5], static_cast<int64_t>(raw->data_as<float>()[5]));
}

void ExpectError(const Result<Tensor>& r, const std::string& text) {
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find(text), std::string::npos) << r.status().message();
}

TEST(DecodeImagesTest, ReportsEveryErrorWithInputAndIndex) {
  ImageTarget rgb = Nhwc(DataType::kFp32, Dim::Any(), Dim::Any(), Dim::Fixed(3));
  std::string png = Encode(Pattern(4, 4, 3), ".png");
  std::string jpeg = Encode(Pattern(16, 16, 3), ".jpg");
  ExpectError(DecodeImages("img", {png, "hello"}, rgb),
              "Invalid image 1 of input img: not an image in a supported format");
  ExpectError(DecodeImages("img", {png, jpeg.substr(0, jpeg.size() / 2)}, rgb),
              "Invalid image 1 of input img: truncated JPEG");
  std::string bad_jpeg = jpeg.substr(0, 20) + std::string(200, '\x11') + "\xFF\xD9";
  ExpectError(DecodeImages("img", {bad_jpeg}, rgb), "Invalid image 0 of input img: corrupt JPEG");
  ExpectError(DecodeImages("img", {png.substr(0, png.size() - 30)}, rgb),
              "Invalid image 0 of input img: corrupt or truncated PNG");
  ExpectError(DecodeImages("img", {Encode(Pattern(4, 4, 1), ".png")}, rgb),
              "Invalid image 0 of input img: it has 1 channel(s), the input takes 3");
  ExpectError(DecodeImages("img", {png, Encode(Pattern(5, 4, 3), ".png")}, rgb),
              "Invalid image 1 of input img: its size 5x4 (WxH) differs from image 0's 4x4");
  ExpectError(DecodeImages("img", {png, Encode(Pattern(4, 4, 1), ".png")},
                           Nhwc(DataType::kFp32, Dim::Any(), Dim::Any(), Dim::Any())),
              "Invalid image 1 of input img: it has 1 channel(s), image 0 has 3");
  ExpectError(DecodeImages("img", {png}, Nhwc(DataType::kBool, Dim::Any(), Dim::Any(), Dim::Any())),
              "Input img of datatype BOOL cannot take encoded images");
  ExpectError(DecodeImages("img", {}, rgb), "Input img received no images");
}

}  // namespace
}  // namespace tessera::image
