// Reading what an encoded image declares about itself, without decoding it:
// its format, its width and height, and whether its container structure is
// whole (JPEG markers up to the end-of-image marker, PNG chunks up to IEND
// with their CRCs). Used to refuse decompression bombs (a small file
// declaring a huge size) and truncated files before any pixel memory is
// allocated; libjpeg and libpng would otherwise decode both, the latter into
// a partly gray image with only a warning.
//
// Every function reads only `bytes`, at most once over (O(size)), allocates
// nothing but an error message and never throws: they take any input, including hostile or random
// bytes. Error messages are the reason only ("truncated JPEG data (...)"),
// for the caller to prefix with which image it was.
//
// Thread-safety: stateless; may be called concurrently.
#pragma once

#include <cstdint>
#include <string_view>

#include "common/result.h"

namespace tessera::image {

enum class ImageFormat { kJpeg, kPng, kOther };

// By the file signature: FF D8 FF (JPEG), 89 'PNG' 0D 0A 1A 0A (PNG).
ImageFormat SniffFormat(std::string_view bytes);

struct ImageHeader {
  ImageFormat format = ImageFormat::kOther;
  uint32_t width = 0;
  uint32_t height = 0;
  uint64_t pixels() const { return static_cast<uint64_t>(width) * height; }
};

// A baseline/progressive/lossless JPEG: the size of its frame header (the
// SOFn marker segment), after walking every marker segment and entropy-coded
// scan up to EOI. Errors (kInvalidArgument):
//   "truncated JPEG data (no end-of-image marker)"  the data ends first;
//   "corrupt JPEG data (<what>)"                     anything else malformed
//     (no or two frame headers, a scan before the frame header, a zero
//     width or height, a segment length below 2, bytes where a marker must
//     be, a reserved marker or a second SOI). Bytes after EOI are ignored.
// REQUIRES: SniffFormat(bytes) == kJpeg (else corrupt).
Result<ImageHeader> ProbeJpeg(std::string_view bytes);

// A PNG: the size of its IHDR chunk, after walking every chunk up to IEND
// and checking each chunk's CRC-32. Errors (kInvalidArgument):
//   "truncated PNG data (no IEND chunk)"  the data ends first;
//   "corrupt PNG data (<what>)"           anything else malformed (first chunk
//     not a 13-byte IHDR, a zero or over-2^31 width or height, a chunk length
//     over 2^31-1, a chunk type not made of letters, a CRC mismatch).
// Bytes after IEND are ignored.
// REQUIRES: SniffFormat(bytes) == kPng (else corrupt).
Result<ImageHeader> ProbePng(std::string_view bytes);

}  // namespace tessera::image
