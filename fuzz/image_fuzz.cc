// Encoded image inputs (src/image/image_decoder.h): the bytes as one image
// (raw, and so base64 text too) into a fixed-size UINT8 NHWC target (decode +
// resize) and into an FP32 target with ranged H/W and 1-4 channels.
// Inputs over 64 KiB are skipped to bound the work per run; huge declared
// image sizes are left to the decoder's own limits (and -rss_limit_mb).
#include <string_view>
#include <vector>

#include "fuzz_common.h"
#include "image/image_decoder.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  tessera::fuzz::QuietLogs();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tessera;
  if (size > 64 * 1024) return 0;
  std::vector<std::string_view> images = {fuzz::AsText(data, size)};
  image::ImageTarget fixed{DataType::kUint8, Dim::Fixed(8), Dim::Fixed(8), Dim::Fixed(3)};
  (void)image::DecodeImages("x", images, fixed);
  image::ImageTarget ranged{DataType::kFp32, Dim{1, 64}, Dim{1, 64}, Dim{1, 4}};
  (void)image::DecodeImages("x", images, ranged);
  return 0;
}
