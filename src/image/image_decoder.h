// Decoding of encoded images (JPEG with libjpeg, see jpeg_decode.h; PNG with
// OpenCV imgcodecs) sent as BYTES to a 4-D NHWC input, into that input's
// typed tensor.
//
// Before anything is decoded, each image's header and structure are read
// (image_header.h): other formats (BMP, TIFF, WebP, ...) are refused, as are
// truncated or malformed files and images declaring more than
// ImageTarget::max_pixels pixels, so a small file cannot make the decoder
// allocate a huge image.
//
// Rules (those of OVMS, with clearer errors):
//  - no colour conversion: pixels stay as the codec returns them (OpenCV's
//    BGR order for colour JPEG/PNG, 1 channel for gray, 4 with alpha);
//  - an image whose height/width differs from a fixed H/W is resized to it
//    (bilinear, on the decoded pixels); a non-fixed H/W takes the first
//    image's size clamped into its range, and every image must then have
//    that same decoded size;
//  - the channel count must be accepted by C;
//  - values are converted to the input type without scaling (saturating);
//  - N images make N rows of the result.
// Every error is kInvalidArgument naming the input and the image index.
//
// Thread-safety: stateless; may be called concurrently.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "tensor/data_type.h"
#include "tensor/shape_spec.h"
#include "tensor/tensor.h"

namespace tessera::image {

// Default of ImageTarget::max_pixels (and --max_image_pixels): 4096x4096.
inline constexpr int64_t kDefaultMaxImagePixels = 16777216;

// The geometry and type of the NHWC tensor to produce, and the largest image
// (width x height as its header declares it) accepted.
struct ImageTarget {
  DataType dtype = DataType::kFp32;
  Dim height, width, channels;
  int64_t max_pixels = kDefaultMaxImagePixels;
};

// True when images can be converted to `type` (UINT8, INT8, UINT16, INT16,
// INT32, INT64, FP16, FP32, FP64).
bool IsImageType(DataType type);

// Decodes `images` (one encoded image each) into an owned tensor of shape
// (N, H, W, C). An element that is base64 text of an image (how JSON carries
// binary data) is accepted too. `input_name` is used in messages.
Result<Tensor> DecodeImages(const std::string& input_name,
                            const std::vector<std::string_view>& images,
                            const ImageTarget& target);

// DecodeImages for a BYTES tensor as the front doors deliver it: `encoded`
// must be 1-D (N images; its shape must announce as many elements as its
// length-prefixed data holds). Errors are kInvalidArgument naming the input.
Result<Tensor> DecodeImageTensor(const std::string& input_name, const Tensor& encoded,
                                 const ImageTarget& target);

}  // namespace tessera::image
