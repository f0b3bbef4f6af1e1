// JPEG decoding with libjpeg that, unlike OpenCV's imdecode, refuses what
// libjpeg only warns about: entropy-coded data that ends early or is corrupt
// ("premature end of data segment", "bad Huffman code", ...), which libjpeg
// otherwise fills in with gray. Pixels are those imdecode(IMREAD_UNCHANGED)
// gives: BGR for colour, one channel for gray (same libjpeg, same settings).
//
// Internal to the image library. Thread-safety: stateless.
#pragma once

#include <opencv2/core.hpp>

#include <optional>
#include <string_view>

#include "common/result.h"

namespace tessera::image {

// The decoded image; nullopt for a 4-component (CMYK/YCCK) JPEG, left to
// OpenCV's own conversion. Errors (kInvalidArgument): "corrupt JPEG data
// (<libjpeg's reason>)". Never throws.
Result<std::optional<cv::Mat>> DecodeJpeg(std::string_view bytes);

}  // namespace tessera::image
