#include "image/image_decoder.h"

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cstring>
#include <exception>

#include "common/base64.h"
#include "image/image_header.h"
#include "image/jpeg_decode.h"

namespace tessera::image {
namespace {

// Base64 text (how JSON carries binary data), decoded; empty when it is not
// base64. Messages then describe the decoded bytes whichever door sent them.
std::string FromBase64Text(std::string_view text) {
  std::string out(Base64DecodedSizeBound(text.size()), '\0');
  auto size = Base64Decode(text, out.data());
  if (!size) return {};
  out.resize(*size);
  return out;
}

// The header of a JPEG or PNG (checked whole, see image_header.h); other
// formats are refused.
Result<ImageHeader> ReadHeader(std::string_view bytes) {
  switch (SniffFormat(bytes)) {
    case ImageFormat::kJpeg: return ProbeJpeg(bytes);
    case ImageFormat::kPng: return ProbePng(bytes);
    case ImageFormat::kOther: break;
  }
  return InvalidArgument("not an image in a supported format (JPEG or PNG; got " +
                         std::to_string(bytes.size()) + " bytes)");
}

// imdecode(IMREAD_UNCHANGED); empty on failure.
cv::Mat OpenCvDecode(std::string_view bytes) {
  try {
    cv::Mat raw(1, static_cast<int>(bytes.size()), CV_8U, const_cast<char*>(bytes.data()));
    return cv::imdecode(raw, cv::IMREAD_UNCHANGED);
  } catch (const std::exception&) {
    return cv::Mat();
  }
}

int CvDepth(DataType type) {
  switch (type) {
    case DataType::kUint8: return CV_8U;
    case DataType::kInt8: return CV_8S;
    case DataType::kUint16: return CV_16U;
    case DataType::kInt16: return CV_16S;
    case DataType::kInt32: return CV_32S;
    case DataType::kFp16: return CV_16F;
    case DataType::kFp32: return CV_32F;
    case DataType::kFp64:
    case DataType::kInt64: return CV_64F;  // INT64 goes through FP64
    default: return -1;
  }
}

class BatchDecoder {
 public:
  BatchDecoder(const std::string& input, const ImageTarget& target, size_t count)
      : input_(input), target_(target), count_(count) {}

  Result<Tensor> Run(const std::vector<std::string_view>& images) {
    for (size_t i = 0; i < images.size(); ++i) {
      TESSERA_ASSIGN_OR_RETURN(cv::Mat pixels, Decode(i, images[i]));
      TESSERA_RETURN_IF_ERROR(Place(i, pixels));
    }
    return std::move(batch_);
  }

 private:
  Status Error(size_t index, const std::string& what) const {
    return InvalidArgument("Invalid image " + std::to_string(index) + " of input " + input_ +
                           ": " + what);
  }

  // The header of `bytes` once its format, structure and declared size pass.
  Result<ImageHeader> Probe(size_t index, std::string_view bytes) const {
    Result<ImageHeader> header = ReadHeader(bytes);
    if (!header.ok()) return Error(index, header.status().message());
    if (header->pixels() > static_cast<uint64_t>(target_.max_pixels)) {
      return Error(index, "declared size " + std::to_string(header->width) + "x" +
                              std::to_string(header->height) +
                              " (WxH) exceeds --max_image_pixels (" +
                              std::to_string(target_.max_pixels) + ")");
    }
    return header;
  }

  Result<cv::Mat> Decode(size_t index, std::string_view bytes) const {
    std::string from_text;
    if (SniffFormat(bytes) == ImageFormat::kOther) {
      from_text = FromBase64Text(bytes);
      if (!from_text.empty()) bytes = from_text;
    }
    TESSERA_ASSIGN_OR_RETURN(ImageHeader header, Probe(index, bytes));
    const char* format = header.format == ImageFormat::kJpeg ? "JPEG" : "PNG";
    cv::Mat decoded;
    if (header.format == ImageFormat::kJpeg) {
      auto jpeg = DecodeJpeg(bytes);
      if (!jpeg.ok()) return Error(index, jpeg.status().message());
      decoded = *jpeg ? std::move(**jpeg) : OpenCvDecode(bytes);
    } else {
      decoded = OpenCvDecode(bytes);
    }
    if (decoded.empty()) return Error(index, std::string("corrupt ") + format + " data");
    if (decoded.dims != 2 || static_cast<uint32_t>(decoded.cols) != header.width ||
        static_cast<uint32_t>(decoded.rows) != header.height) {
      return Error(index, std::string("corrupt ") + format +
                              " data (decoded size differs from the declared one)");
    }
    return decoded;
  }

  // Size of dim `d` for an image of `size`: fixed dims impose theirs, others
  // take the size clamped into their range.
  static int TargetSize(const Dim& d, int size) {
    if (d.fixed()) return static_cast<int>(d.lo);
    int64_t s = std::max<int64_t>(size, d.lo);
    if (d.hi != kDynamicDim) s = std::min(s, d.hi);
    return static_cast<int>(s);
  }

  Status Place(size_t index, const cv::Mat& decoded) {
    const int channels = decoded.channels();
    if (!target_.channels.Accepts(channels)) {
      return Error(index, "it has " + std::to_string(channels) + " channel(s), the input takes " +
                              target_.channels.ToString());
    }
    if (index == 0) {
      first_ = decoded.size();
      height_ = TargetSize(target_.height, first_.height);
      width_ = TargetSize(target_.width, first_.width);
      channels_ = channels;
      batch_ = Tensor::Allocate(target_.dtype, {static_cast<int64_t>(count_), height_, width_,
                                                channels_});
    } else if (channels != channels_) {
      return Error(index, "it has " + std::to_string(channels) + " channel(s), image 0 has " +
                              std::to_string(channels_));
    } else if ((!target_.height.fixed() || !target_.width.fixed()) && decoded.size() != first_) {
      return Error(index, "its size " + SizeText(decoded.size()) + " differs from image 0's " +
                              SizeText(first_) +
                              "; with a dynamic height or width all images must be equal");
    }
    cv::Mat pixels = decoded;
    if (pixels.rows != height_ || pixels.cols != width_) {
      cv::resize(decoded, pixels, cv::Size(width_, height_), 0, 0, cv::INTER_LINEAR);
    }
    return Store(index, pixels);
  }

  static std::string SizeText(cv::Size s) {
    return std::to_string(s.width) + "x" + std::to_string(s.height) + " (WxH)";
  }

  Status Store(size_t index, const cv::Mat& pixels) {
    const size_t row = static_cast<size_t>(height_) * width_ * channels_;
    cv::Mat converted;
    pixels.convertTo(converted, CV_MAKETYPE(CvDepth(target_.dtype), channels_));
    if (!converted.isContinuous()) converted = converted.clone();
    if (target_.dtype == DataType::kInt64) {
      auto* out = reinterpret_cast<int64_t*>(batch_.mutable_data()) + index * row;
      const auto* in = converted.ptr<double>();
      for (size_t i = 0; i < row; ++i) out[i] = static_cast<int64_t>(in[i]);
      return Status::Ok();
    }
    const size_t bytes = row * ElementSize(target_.dtype);
    std::memcpy(batch_.mutable_data() + index * bytes, converted.data, bytes);
    return Status::Ok();
  }

  const std::string& input_;
  const ImageTarget& target_;
  const size_t count_;
  cv::Size first_;
  int height_ = 0, width_ = 0, channels_ = 0;
  Tensor batch_;
};

}  // namespace

bool IsImageType(DataType type) { return CvDepth(type) >= 0; }

Result<Tensor> DecodeImages(const std::string& input_name,
                            const std::vector<std::string_view>& images,
                            const ImageTarget& target) {
  if (!IsImageType(target.dtype)) {
    return InvalidArgument("Input " + input_name + " of datatype " +
                           std::string(KServeName(target.dtype)) +
                           " cannot take encoded images");
  }
  if (images.empty()) return InvalidArgument("Input " + input_name + " received no images");
  try {
    return BatchDecoder(input_name, target, images.size()).Run(images);
  } catch (const std::exception& e) {
    return InvalidArgument("Images of input " + input_name + " could not be converted: " +
                           e.what());
  }
}

Result<Tensor> DecodeImageTensor(const std::string& input_name, const Tensor& encoded,
                                 const ImageTarget& target) {
  if (encoded.shape().size() > 1) {
    return InvalidArgument("Input " + input_name + ": encoded images must be a 1-D BYTES tensor " +
                           "of N images, got shape " + ShapeToString(encoded.shape()));
  }
  auto images = SplitBytesElements(encoded.data(), encoded.byte_size());
  if (!images.ok()) {
    return InvalidArgument("Input " + input_name + ": " + images.status().message());
  }
  if (static_cast<int64_t>(images->size()) != encoded.element_count()) {
    return InvalidArgument("Input " + input_name + ": shape " + ShapeToString(encoded.shape()) +
                           " announces " + std::to_string(encoded.element_count()) +
                           " images, the data holds " + std::to_string(images->size()));
  }
  return DecodeImages(input_name, *images, target);
}

}  // namespace tessera::image
