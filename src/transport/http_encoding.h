// HTTP content codings (RFC 9110 8.4): request bodies sent with
// Content-Encoding gzip or deflate are inflated, and replies are compressed
// for clients that send Accept-Encoding (tritonclient's
// request_compression_algorithm / response_compression_algorithm). zlib does
// the work. Pure functions: no state, safe from any thread.
//
// The HTTP server (http_server.h) applies them to every request and reply,
// so both REST APIs (and /metrics) get them from one place.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/result.h"

namespace tessera::transport {

enum class ContentCoding { kIdentity, kGzip, kDeflate };

// "identity", "gzip", "deflate".
const char* ContentCodingName(ContentCoding coding);

// Replies smaller than this many bytes are sent uncompressed whatever the
// client accepts: compressing them saves less than it costs.
inline constexpr size_t kMinCompressedReplyBytes = 1024;

// The coding of a request body from its Content-Encoding value: "gzip" (or
// "x-gzip"), "deflate", "identity" or "" (no coding); case-insensitive,
// surrounding blanks ignored. Anything else, lists of codings included, is
// kUnimplemented "Unsupported Content-Encoding '<value>'; supported: gzip,
// deflate, identity" (the server answers 415, as Triton).
Result<ContentCoding> ParseContentEncoding(std::string_view value);

// Inflates `body`, coded as `coding`: gzip is RFC 1952 (several members
// concatenated are one body, as gzip(1) and Python read them); deflate is
// the zlib format of RFC 1950 (what HTTP names "deflate" and Python's
// zlib.compress writes), and a raw RFC 1951 stream is accepted too (some
// clients send that). At most `max_bytes` are produced: a body that inflates
// to more is kResourceExhausted "Decompressed request body is larger than the
// limit of N bytes", found after inflating max_bytes + 1 bytes, never more.
// Corrupt or truncated data, or bytes after the end of the stream:
// kInvalidArgument "Invalid gzip request body: <why>" (or deflate).
// kIdentity returns `body` unchanged.
Result<std::string> Decompress(ContentCoding coding, std::string_view body, size_t max_bytes);

// The coding a reply should use given the request's Accept-Encoding value:
// gzip or deflate when listed with q > 0 ("*" stands for gzip), the higher q
// winning and gzip on a tie; kIdentity when neither is acceptable or the
// header is absent ("").
ContentCoding ChooseReplyCoding(std::string_view accept_encoding);

// Compresses `body` as `coding` (gzip or zlib-format deflate, zlib's fastest
// level: replies are compressed on the server's io threads). kInternal only
// when zlib fails (out of memory); the reply then goes uncompressed.
// REQUIRES: coding != kIdentity.
Result<std::string> Compress(ContentCoding coding, std::string_view body);

}  // namespace tessera::transport
