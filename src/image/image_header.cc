#include "image/image_header.h"

#include <array>
#include <string>

namespace tessera::image {
namespace {

constexpr std::string_view kJpegSignature("\xFF\xD8\xFF", 3);
constexpr std::string_view kPngSignature("\x89PNG\r\n\x1A\n", 8);

uint8_t Byte(std::string_view b, size_t i) { return static_cast<uint8_t>(b[i]); }
uint32_t Be16(std::string_view b, size_t i) { return (Byte(b, i) << 8) | Byte(b, i + 1); }
uint32_t Be32(std::string_view b, size_t i) {
  return (static_cast<uint32_t>(Be16(b, i)) << 16) | Be16(b, i + 2);
}

// --- JPEG ----------------------------------------------------------------

constexpr uint8_t kSof0 = 0xC0, kDht = 0xC4, kJpg = 0xC8, kDac = 0xCC, kSof15 = 0xCF;
constexpr uint8_t kRst0 = 0xD0, kRst7 = 0xD7, kSoi = 0xD8, kEoi = 0xD9, kSos = 0xDA, kTem = 0x01;

Status JpegTruncated() { return InvalidArgument("truncated JPEG data (no end-of-image marker)"); }
Status JpegCorrupt(const std::string& what) {
  return InvalidArgument("corrupt JPEG data (" + what + ")");
}

// SOF0..SOF15 except DHT, JPG and DAC, which share the range.
bool IsFrameMarker(uint8_t m) { return m >= kSof0 && m <= kSof15 && m != kDht && m != kJpg && m != kDac; }
// Markers without a length field.
bool IsStandalone(uint8_t m) { return m == kTem || (m >= kRst0 && m <= kRst7); }

// Position just past the entropy-coded data starting at `pos`: the next
// marker that is not a stuffed 0xFF00 nor a restart marker; npos when the
// data ends first.
size_t SkipEntropyData(std::string_view b, size_t pos) {
  while (pos < b.size()) {
    if (Byte(b, pos) != 0xFF) {
      ++pos;
      continue;
    }
    if (pos + 1 >= b.size()) return std::string_view::npos;
    const uint8_t next = Byte(b, pos + 1);
    if (next == 0x00 || (next >= kRst0 && next <= kRst7)) {
      pos += 2;
    } else if (next == 0xFF) {
      ++pos;  // fill byte before a marker
    } else {
      return pos;
    }
  }
  return std::string_view::npos;
}

}  // namespace

ImageFormat SniffFormat(std::string_view bytes) {
  if (bytes.substr(0, kJpegSignature.size()) == kJpegSignature) return ImageFormat::kJpeg;
  if (bytes.substr(0, kPngSignature.size()) == kPngSignature) return ImageFormat::kPng;
  return ImageFormat::kOther;
}

Result<ImageHeader> ProbeJpeg(std::string_view b) {
  if (SniffFormat(b) != ImageFormat::kJpeg) return JpegCorrupt("no start-of-image marker");
  ImageHeader header{ImageFormat::kJpeg, 0, 0};
  bool have_frame = false, have_scan = false;
  size_t pos = 2;
  while (true) {
    if (pos >= b.size()) return JpegTruncated();
    if (Byte(b, pos) != 0xFF) {
      return JpegCorrupt("no marker at byte " + std::to_string(pos));
    }
    while (pos < b.size() && Byte(b, pos) == 0xFF) ++pos;  // fill bytes
    if (pos >= b.size()) return JpegTruncated();
    const uint8_t marker = Byte(b, pos++);
    if (marker == kEoi) {
      if (!have_scan) return JpegCorrupt("no image data before the end-of-image marker");
      return header;
    }
    if (IsStandalone(marker)) continue;
    if (marker < kSof0 || marker == kSoi) {  // 0x00, reserved 0x02..0xBF, a second SOI
      return JpegCorrupt("unknown or misplaced marker at byte " + std::to_string(pos - 2));
    }
    if (pos + 2 > b.size()) return JpegTruncated();
    const size_t length = Be16(b, pos);
    if (length < 2) return JpegCorrupt("segment length below 2 at byte " + std::to_string(pos));
    if (b.size() - pos < length) return JpegTruncated();
    if (IsFrameMarker(marker)) {
      if (have_frame) return JpegCorrupt("two frame headers");
      if (length < 8) return JpegCorrupt("frame header too short");
      header.height = Be16(b, pos + 3);
      header.width = Be16(b, pos + 5);
      if (header.width == 0 || header.height == 0) {
        return JpegCorrupt("frame header declares a zero width or height");
      }
      have_frame = true;
    }
    pos += length;
    if (marker == kSos) {
      if (!have_frame) return JpegCorrupt("image data before the frame header");
      have_scan = true;
      pos = SkipEntropyData(b, pos);
      if (pos == std::string_view::npos) return JpegTruncated();
    }
  }
}

// --- PNG -----------------------------------------------------------------

namespace {

constexpr uint32_t kMaxPngLength = 0x7FFFFFFF;  // chunk lengths, width, height
constexpr size_t kIhdrLength = 13;

constexpr std::array<uint32_t, 256> MakeCrcTable() {
  std::array<uint32_t, 256> table{};
  for (uint32_t n = 0; n < 256; ++n) {
    uint32_t c = n;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    table[n] = c;
  }
  return table;
}
constexpr std::array<uint32_t, 256> kCrcTable = MakeCrcTable();

// CRC-32 (ISO 3309, as PNG uses it) of `data`.
uint32_t Crc32(std::string_view data) {
  uint32_t c = 0xFFFFFFFFu;
  for (char ch : data) c = kCrcTable[(c ^ static_cast<uint8_t>(ch)) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

bool IsChunkType(std::string_view type) {
  for (char c : type) {
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))) return false;
  }
  return true;
}

Status PngTruncated() { return InvalidArgument("truncated PNG data (no IEND chunk)"); }
Status PngCorrupt(const std::string& what) { return InvalidArgument("corrupt PNG data (" + what + ")"); }

}  // namespace

Result<ImageHeader> ProbePng(std::string_view b) {
  if (SniffFormat(b) != ImageFormat::kPng) return PngCorrupt("no PNG signature");
  ImageHeader header{ImageFormat::kPng, 0, 0};
  size_t pos = kPngSignature.size();
  for (bool first = true;; first = false) {
    if (b.size() - pos < 8) return PngTruncated();
    const uint32_t length = Be32(b, pos);
    const std::string_view type = b.substr(pos + 4, 4);
    if (length > kMaxPngLength) {
      return PngCorrupt("chunk length over 2^31-1 at byte " + std::to_string(pos));
    }
    if (!IsChunkType(type)) return PngCorrupt("invalid chunk type at byte " + std::to_string(pos));
    if (b.size() - pos - 8 < static_cast<size_t>(length) + 4) return PngTruncated();
    const std::string_view data = b.substr(pos + 8, length);
    if (Crc32(b.substr(pos + 4, 4 + length)) != Be32(b, pos + 8 + length)) {
      return PngCorrupt("CRC mismatch in chunk " + std::string(type));
    }
    if (first) {
      if (type != "IHDR" || length != kIhdrLength) return PngCorrupt("first chunk is not IHDR");
      header.width = Be32(data, 0);
      header.height = Be32(data, 4);
      if (header.width == 0 || header.height == 0 || header.width > kMaxPngLength ||
          header.height > kMaxPngLength) {
        return PngCorrupt("IHDR declares a width or height of 0 or over 2^31-1");
      }
    }
    if (type == "IEND") return header;
    pos += 12 + static_cast<size_t>(length);
  }
}

}  // namespace tessera::image
