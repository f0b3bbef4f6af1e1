#include "image/image_decoder.h"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "common/base64.h"
#include "image/image_header.h"

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
              "Invalid image 0 of input img: truncated PNG data (no IEND chunk)");
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

// --- Headers, limits, truncation ------------------------------------------

std::string EncodeWith(const cv::Mat& m, const std::string& ext, const std::vector<int>& params) {
  std::vector<uchar> buf;
  cv::imencode(ext, m, buf, params);
  return std::string(buf.begin(), buf.end());
}

void PutBe16(std::string& s, size_t at, uint32_t v) {
  s[at] = static_cast<char>(v >> 8);
  s[at + 1] = static_cast<char>(v);
}
void PutBe32(std::string& s, size_t at, uint32_t v) {
  PutBe16(s, at, v >> 16);
  PutBe16(s, at + 2, v & 0xFFFF);
}

// Position of the first `marker` (FF xx) of a JPEG; npos when absent.
size_t FindMarker(const std::string& jpeg, uint8_t marker) {
  return jpeg.find(std::string{'\xFF', static_cast<char>(marker)});
}

// `jpeg` with its frame header (SOF0..SOF2) declaring w x h.
std::string WithJpegSize(std::string jpeg, uint32_t w, uint32_t h) {
  size_t at = std::string::npos;
  for (uint8_t m : {0xC0, 0xC1, 0xC2}) at = std::min(at, FindMarker(jpeg, m));
  EXPECT_NE(at, std::string::npos);
  PutBe16(jpeg, at + 5, h);
  PutBe16(jpeg, at + 7, w);
  return jpeg;
}

uint32_t TestCrc32(std::string_view data) {
  uint32_t c = 0xFFFFFFFFu;
  for (char ch : data) {
    c ^= static_cast<uint8_t>(ch);
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
  }
  return c ^ 0xFFFFFFFFu;
}

// `png` with its IHDR declaring w x h, CRC recomputed.
std::string WithPngSize(std::string png, uint32_t w, uint32_t h) {
  PutBe32(png, 16, w);
  PutBe32(png, 20, h);
  PutBe32(png, 29, TestCrc32(std::string_view(png).substr(12, 17)));
  return png;
}

std::string ErrorText(const Result<ImageHeader>& r) {
  return r.ok() ? "OK" : r.status().message();
}

std::string DecodeError(const std::string& image, int64_t max_pixels = kDefaultMaxImagePixels) {
  ImageTarget target = Nhwc(DataType::kFp32, Dim::Any(), Dim::Any(), Dim::Any());
  target.max_pixels = max_pixels;
  auto r = DecodeImages("data", {image}, target);
  if (r.ok()) return "OK";
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  return r.status().message();
}

TEST(ImageHeaderTest, SniffsJpegAndPngOnly) {
  EXPECT_EQ(SniffFormat(Encode(Pattern(4, 4, 3), ".jpg")), ImageFormat::kJpeg);
  EXPECT_EQ(SniffFormat(Encode(Pattern(4, 4, 3), ".png")), ImageFormat::kPng);
  EXPECT_EQ(SniffFormat(Encode(Pattern(4, 4, 3), ".bmp")), ImageFormat::kOther);
  EXPECT_EQ(SniffFormat(""), ImageFormat::kOther);
  EXPECT_EQ(SniffFormat("\xFF\xD8"), ImageFormat::kOther);
}

TEST(ImageHeaderTest, ReadsBaselineAndProgressiveJpegFrameHeaders) {
  std::string baseline = Encode(Pattern(40, 24, 3), ".jpg");
  ASSERT_NE(FindMarker(baseline, 0xC0), std::string::npos);
  auto b = ProbeJpeg(baseline);
  ASSERT_TRUE(b.ok()) << b.status().message();
  EXPECT_EQ(b->format, ImageFormat::kJpeg);
  EXPECT_EQ(b->width, 40u);
  EXPECT_EQ(b->height, 24u);

  std::string progressive = EncodeWith(Pattern(33, 17, 1), ".jpg", {cv::IMWRITE_JPEG_PROGRESSIVE, 1});
  ASSERT_NE(FindMarker(progressive, 0xC2), std::string::npos);
  ASSERT_GT(std::count(progressive.begin(), progressive.end(), '\xDA'), 1) << "several scans";
  auto p = ProbeJpeg(progressive);
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_EQ(p->width, 33u);
  EXPECT_EQ(p->height, 17u);
  EXPECT_EQ(p->pixels(), 33u * 17u);

  auto huge = ProbeJpeg(WithJpegSize(baseline, 65535, 65535));
  ASSERT_TRUE(huge.ok());
  EXPECT_EQ(huge->pixels(), 65535ull * 65535ull);
}

TEST(ImageHeaderTest, ReadsPngHeader) {
  for (int channels : {1, 3, 4}) {
    auto h = ProbePng(Encode(Pattern(21, 13, channels), ".png"));
    ASSERT_TRUE(h.ok()) << h.status().message();
    EXPECT_EQ(h->format, ImageFormat::kPng);
    EXPECT_EQ(h->width, 21u);
    EXPECT_EQ(h->height, 13u);
  }
  auto big = ProbePng(WithPngSize(Encode(Pattern(4, 4, 3), ".png"), 0x7FFFFFFF, 3));
  ASSERT_TRUE(big.ok()) << big.status().message();
  EXPECT_EQ(big->pixels(), 0x7FFFFFFFull * 3);
}

TEST(ImageHeaderTest, MalformedJpegMessages) {
  const std::string jpeg = Encode(Pattern(8, 8, 3), ".jpg");
  EXPECT_EQ(ErrorText(ProbeJpeg(jpeg.substr(0, jpeg.size() - 2))),
            "truncated JPEG data (no end-of-image marker)");
  EXPECT_EQ(ErrorText(ProbeJpeg(jpeg.substr(0, 3))), "truncated JPEG data (no end-of-image marker)");
  EXPECT_EQ(ErrorText(ProbeJpeg(WithJpegSize(jpeg, 8, 0))),
            "corrupt JPEG data (frame header declares a zero width or height)");
  EXPECT_EQ(ErrorText(ProbeJpeg(jpeg.substr(0, 20) + std::string(50, '\x11') + "\xFF\xD9")),
            "corrupt JPEG data (no marker at byte 20)");
  EXPECT_EQ(ErrorText(ProbeJpeg(std::string("\xFF\xD8\xFF\xD9", 4))),
            "corrupt JPEG data (no image data before the end-of-image marker)");
  EXPECT_EQ(ErrorText(ProbeJpeg(std::string("\xFF\xD8\xFF\xDA\x00\x02\x00\xFF\xD9", 9))),
            "corrupt JPEG data (image data before the frame header)");
  EXPECT_EQ(ErrorText(ProbeJpeg(std::string("\xFF\xD8\xFF\xE0\x00\x01", 6))),
            "corrupt JPEG data (segment length below 2 at byte 4)");
  const size_t sof = FindMarker(jpeg, 0xC0);
  std::string two_frames = jpeg.substr(0, sof) + jpeg.substr(sof, 19) + jpeg.substr(sof);
  EXPECT_EQ(ErrorText(ProbeJpeg(two_frames)), "corrupt JPEG data (two frame headers)");
  EXPECT_EQ(ErrorText(ProbeJpeg("not a jpeg")), "corrupt JPEG data (no start-of-image marker)");
  // Bytes after the end-of-image marker do not matter.
  EXPECT_TRUE(ProbeJpeg(jpeg + "trailing").ok());
}

TEST(ImageHeaderTest, MalformedPngMessages) {
  const std::string png = Encode(Pattern(8, 8, 3), ".png");
  EXPECT_EQ(ErrorText(ProbePng(png.substr(0, png.size() - 12))), "truncated PNG data (no IEND chunk)");
  EXPECT_EQ(ErrorText(ProbePng(png.substr(0, 8))), "truncated PNG data (no IEND chunk)");
  std::string flipped = png;
  flipped[45] ^= 0x01;  // inside IDAT's data (IHDR ends at 33, IDAT's data starts at 41)
  EXPECT_EQ(ErrorText(ProbePng(flipped)), "corrupt PNG data (CRC mismatch in chunk IDAT)");
  std::string ihdr_crc = png;
  ihdr_crc[30] ^= 0x01;
  EXPECT_EQ(ErrorText(ProbePng(ihdr_crc)), "corrupt PNG data (CRC mismatch in chunk IHDR)");
  EXPECT_EQ(ErrorText(ProbePng(WithPngSize(png, 0, 8))),
            "corrupt PNG data (IHDR declares a width or height of 0 or over 2^31-1)");
  EXPECT_EQ(ErrorText(ProbePng(WithPngSize(png, 8, 0x80000000u))),
            "corrupt PNG data (IHDR declares a width or height of 0 or over 2^31-1)");
  std::string bad_type = png;
  bad_type[13] = '1';
  EXPECT_EQ(ErrorText(ProbePng(bad_type)), "corrupt PNG data (invalid chunk type at byte 8)");
  std::string huge_length = png;
  PutBe32(huge_length, 8, 0x80000000u);
  EXPECT_EQ(ErrorText(ProbePng(huge_length)), "corrupt PNG data (chunk length over 2^31-1 at byte 8)");
  // IEND first (its CRC is right): no IHDR.
  EXPECT_EQ(ErrorText(ProbePng(png.substr(0, 8) + png.substr(png.size() - 12))),
            "corrupt PNG data (first chunk is not IHDR)");
  EXPECT_TRUE(ProbePng(png + "trailing").ok());
}

// Every proper prefix of a whole image is refused, and no prefix or single
// flipped byte makes the probes read out of bounds (run under ASan to check).
TEST(ImageHeaderTest, EveryTruncationIsRefusedAndFlipsAreSafe) {
  for (const std::string& image :
       {Encode(Pattern(16, 16, 3), ".jpg"), EncodeWith(Pattern(16, 8, 3), ".jpg", {cv::IMWRITE_JPEG_PROGRESSIVE, 1}),
        Encode(Pattern(16, 16, 3), ".png"), Encode(Pattern(9, 5, 4), ".png")}) {
    const bool jpeg = SniffFormat(image) == ImageFormat::kJpeg;
    auto probe = [jpeg](std::string_view b) { return jpeg ? ProbeJpeg(b) : ProbePng(b); };
    ASSERT_TRUE(probe(image).ok());
    for (size_t n = 0; n < image.size(); ++n) {
      EXPECT_FALSE(probe(std::string_view(image).substr(0, n)).ok()) << n;
    }
    for (size_t i = 0; i < image.size(); ++i) {
      std::string flipped = image;
      flipped[i] ^= 0x5A;
      auto r = probe(flipped);
      // PNG: every byte is under a CRC, a length or the signature.
      if (!jpeg) {
        EXPECT_FALSE(r.ok()) << i;
      }
    }
  }
}

TEST(DecodeImagesTest, LimitBoundaryIsInclusive) {
  const std::string jpeg = Encode(Pattern(8, 6, 3), ".jpg");
  const std::string png = Encode(Pattern(8, 6, 3), ".png");
  EXPECT_EQ(DecodeError(jpeg, 48), "OK");
  EXPECT_EQ(DecodeError(png, 48), "OK");
  EXPECT_EQ(DecodeError(jpeg, 47),
            "Invalid image 0 of input data: declared size 8x6 (WxH) exceeds --max_image_pixels (47)");
  EXPECT_EQ(DecodeError(png, 47),
            "Invalid image 0 of input data: declared size 8x6 (WxH) exceeds --max_image_pixels (47)");
  EXPECT_EQ(DecodeError(WithJpegSize(jpeg, 4096, 4096)).find("declared size"), std::string::npos)
      << "exactly the default limit passes the size check";
}

long PeakRssKb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

TEST(DecodeImagesTest, BombIsRefusedBeforeDecoding) {
  // Under a kilobyte each, declaring 30000x30000: decoding would allocate
  // 2.7 GB (the JPEG) and 3.6 GB (the RGBA PNG).
  const std::string jpeg = WithJpegSize(Encode(Pattern(8, 8, 3), ".jpg"), 30000, 30000);
  const std::string png = WithPngSize(Encode(Pattern(8, 8, 4), ".png"), 30000, 30000);
  const long before = PeakRssKb();
  EXPECT_EQ(DecodeError(jpeg),
            "Invalid image 0 of input data: declared size 30000x30000 (WxH) exceeds "
            "--max_image_pixels (16777216)");
  EXPECT_EQ(DecodeError(png),
            "Invalid image 0 of input data: declared size 30000x30000 (WxH) exceeds "
            "--max_image_pixels (16777216)");
  EXPECT_EQ(DecodeError(WithJpegSize(Encode(Pattern(8, 8, 3), ".jpg"), 4097, 4096)),
            "Invalid image 0 of input data: declared size 4097x4096 (WxH) exceeds "
            "--max_image_pixels (16777216)");
  EXPECT_LT(PeakRssKb() - before, 64 * 1024) << "peak RSS grew";
  // Also as base64 text, and as the second image of a batch.
  std::string text;
  Base64EncodeAppend(jpeg, &text);
  EXPECT_EQ(DecodeError(text),
            "Invalid image 0 of input data: declared size 30000x30000 (WxH) exceeds "
            "--max_image_pixels (16777216)");
  ExpectError(DecodeImages("data", {Encode(Pattern(8, 8, 3), ".jpg"), png},
                           Nhwc(DataType::kUint8, Dim::Fixed(8), Dim::Fixed(8), Dim::Fixed(3))),
              "Invalid image 1 of input data: declared size 30000x30000 (WxH)");
}

TEST(DecodeImagesTest, TruncatedAndCorruptImagesAreRefused) {
  const std::string jpeg = Encode(Pattern(32, 32, 3), ".jpg");
  const std::string png = Encode(Pattern(32, 32, 3), ".png");
  EXPECT_EQ(DecodeError(jpeg.substr(0, jpeg.size() / 2)),
            "Invalid image 0 of input data: truncated JPEG data (no end-of-image marker)");
  EXPECT_EQ(DecodeError(png.substr(0, png.size() / 2)),
            "Invalid image 0 of input data: truncated PNG data (no IEND chunk)");
  // Only IEND missing: libpng alone would decode all pixels.
  EXPECT_EQ(DecodeError(png.substr(0, png.size() - 12)),
            "Invalid image 0 of input data: truncated PNG data (no IEND chunk)");
  std::string flipped = png;
  flipped[png.size() / 2] ^= 0x20;
  EXPECT_EQ(DecodeError(flipped), "Invalid image 0 of input data: corrupt PNG data (CRC mismatch in chunk IDAT)");
  EXPECT_EQ(DecodeError(std::string("\xFF\xD8\xFF garbage \xFF\xD9")),
            "Invalid image 0 of input data: corrupt JPEG data (unknown or misplaced marker at byte 2)");
  // Whole structure, too little scan data: libjpeg alone would fill in gray.
  EXPECT_EQ(DecodeError(WithJpegSize(Encode(Pattern(8, 8, 3), ".jpg"), 64, 64)),
            "Invalid image 0 of input data: corrupt JPEG data (premature end of data segment)");
  const size_t sos = FindMarker(jpeg, 0xDA);
  EXPECT_EQ(DecodeError(jpeg.substr(0, sos + (jpeg.size() - sos) / 2) + "\xFF\xD9"),
            "Invalid image 0 of input data: corrupt JPEG data (premature end of data segment)");
  // Whole structure, but 12-bit samples the 8-bit decoder rejects.
  std::string twelve_bit = jpeg;
  twelve_bit[FindMarker(jpeg, 0xC0) + 4] = 12;
  EXPECT_EQ(DecodeError(twelve_bit),
            "Invalid image 0 of input data: corrupt JPEG data (Unsupported JPEG data precision 12)");
}

// libjpeg called directly gives exactly what OpenCV's imdecode gives.
TEST(DecodeImagesTest, JpegPixelsAreOpenCvs) {
  const std::vector<std::string> jpegs = {
      Encode(Pattern(16, 16, 3), ".jpg"), Encode(Pattern(37, 23, 3), ".jpg"),
      Encode(Pattern(19, 11, 1), ".jpg"),
      EncodeWith(Pattern(40, 30, 3), ".jpg", {cv::IMWRITE_JPEG_PROGRESSIVE, 1}),
      EncodeWith(Pattern(40, 30, 3), ".jpg", {cv::IMWRITE_JPEG_RST_INTERVAL, 1}),
      EncodeWith(Pattern(33, 9, 3), ".jpg", {cv::IMWRITE_JPEG_QUALITY, 40}),
      EncodeWith(Pattern(33, 9, 3), ".jpg", {cv::IMWRITE_JPEG_LUMA_QUALITY, 90,
                                             cv::IMWRITE_JPEG_CHROMA_QUALITY, 50})};
  for (size_t i = 0; i < jpegs.size(); ++i) {
    cv::Mat want = cv::imdecode(cv::Mat(1, static_cast<int>(jpegs[i].size()), CV_8U,
                                        const_cast<char*>(jpegs[i].data())),
                                cv::IMREAD_UNCHANGED);
    auto got = DecodeImages("x", {jpegs[i]}, Nhwc(DataType::kUint8, Dim::Any(), Dim::Any(), Dim::Any()));
    ASSERT_TRUE(got.ok()) << i << ": " << got.status().message();
    ASSERT_EQ(got->shape(), (Shape{1, want.rows, want.cols, want.channels()})) << i;
    EXPECT_EQ(0, std::memcmp(got->data(), want.data, want.total() * want.elemSize())) << i;
  }
}

TEST(DecodeImagesTest, OtherFormatsAreRefused) {
  for (const char* ext : {".bmp", ".tiff", ".pgm"}) {
    const std::string image = Encode(Pattern(4, 4, 1), ext);
    ASSERT_FALSE(image.empty()) << ext;
    EXPECT_EQ(DecodeError(image), "Invalid image 0 of input data: not an image in a supported "
                                  "format (JPEG or PNG; got " +
                                      std::to_string(image.size()) + " bytes)")
        << ext;
  }
}

}  // namespace
}  // namespace tessera::image
