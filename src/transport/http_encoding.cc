#include "transport/http_encoding.h"

#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <climits>
#include <cstdlib>

namespace tessera::transport {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool IEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// An RFC 1950 header: deflate method, 32K window at most, check bits valid.
bool LooksLikeZlib(std::string_view body) {
  if (body.size() < 2) return false;
  const auto cmf = static_cast<unsigned char>(body[0]);
  const auto flg = static_cast<unsigned char>(body[1]);
  return (cmf & 0x0f) == 8 && (cmf >> 4) <= 7 && (cmf * 256 + flg) % 31 == 0;
}

// The quality of one Accept-Encoding entry's parameters ("q=0.5"); 1 when
// absent, 0 when unreadable.
double Quality(std::string_view params) {
  while (!params.empty()) {
    size_t semi = params.find(';');
    std::string_view param = Trim(params.substr(0, semi));
    params = semi == std::string_view::npos ? std::string_view() : params.substr(semi + 1);
    if (param.size() < 2 || std::tolower(static_cast<unsigned char>(param[0])) != 'q' ||
        param[1] != '=') {
      continue;
    }
    std::string value(Trim(param.substr(2)).substr(0, 8));
    char* end = nullptr;
    double q = std::strtod(value.c_str(), &end);
    if (value.empty() || *end != '\0' || !(q >= 0 && q <= 1)) return 0;
    return q;
  }
  return 1;
}

// Owns a z_stream set up for inflate or deflate.
class ZStream {
 public:
  explicit ZStream(bool inflating) : inflating_(inflating) {}
  ~ZStream() {
    if (!ready_) return;
    if (inflating_) {
      inflateEnd(&z_);
    } else {
      deflateEnd(&z_);
    }
  }
  ZStream(const ZStream&) = delete;
  ZStream& operator=(const ZStream&) = delete;

  bool InitInflate(int window_bits) { return ready_ = inflateInit2(&z_, window_bits) == Z_OK; }
  bool InitDeflate(int window_bits) {
    return ready_ = deflateInit2(&z_, Z_BEST_SPEED, Z_DEFLATED, window_bits, 8,
                                 Z_DEFAULT_STRATEGY) == Z_OK;
  }
  z_stream* get() { return &z_; }

 private:
  const bool inflating_;
  bool ready_ = false;
  z_stream z_{};
};

// zlib counts in uInt: feed at most this much input per call.
constexpr size_t kMaxFeed = UINT_MAX;
// Output grows by this much per inflate call.
constexpr size_t kInflateChunk = 64 * 1024;

}  // namespace

const char* ContentCodingName(ContentCoding coding) {
  switch (coding) {
    case ContentCoding::kGzip: return "gzip";
    case ContentCoding::kDeflate: return "deflate";
    case ContentCoding::kIdentity: break;
  }
  return "identity";
}

Result<ContentCoding> ParseContentEncoding(std::string_view value) {
  std::string_view v = Trim(value);
  if (v.empty() || IEquals(v, "identity")) return ContentCoding::kIdentity;
  if (IEquals(v, "gzip") || IEquals(v, "x-gzip")) return ContentCoding::kGzip;
  if (IEquals(v, "deflate")) return ContentCoding::kDeflate;
  return Unimplemented("Unsupported Content-Encoding '" + std::string(value.substr(0, 100)) +
                       "'; supported: gzip, deflate, identity");
}

Result<std::string> Decompress(ContentCoding coding, std::string_view body, size_t max_bytes) {
  if (coding == ContentCoding::kIdentity) return std::string(body);
  const std::string what = std::string("Invalid ") + ContentCodingName(coding) + " request body: ";
  const bool gzip = coding == ContentCoding::kGzip;
  const int window_bits = gzip ? 15 + 16 : LooksLikeZlib(body) ? 15 : -15;
  ZStream stream(/*inflating=*/true);
  if (!stream.InitInflate(window_bits)) return Internal("zlib inflateInit2 failed");
  z_stream* z = stream.get();

  std::string out;
  out.reserve(std::min(max_bytes, std::max(kInflateChunk, body.size() * 4)));
  size_t fed = 0;  // bytes of `body` handed to zlib so far
  for (;;) {
    if (z->avail_in == 0 && fed < body.size()) {
      const size_t n = std::min(body.size() - fed, kMaxFeed);
      z->next_in = reinterpret_cast<Bytef*>(const_cast<char*>(body.data() + fed));
      z->avail_in = static_cast<uInt>(n);
      fed += n;
    }
    // Never room for more than max_bytes + 1: one byte over is enough to know.
    const size_t old_size = out.size();
    const size_t grow = std::min(kInflateChunk, max_bytes + 1 - old_size);
    out.resize(old_size + grow);
    z->next_out = reinterpret_cast<Bytef*>(out.data() + old_size);
    z->avail_out = static_cast<uInt>(grow);
    const int rc = inflate(z, Z_NO_FLUSH);
    out.resize(old_size + grow - z->avail_out);
    if (out.size() > max_bytes) {
      return ResourceExhausted("Decompressed request body is larger than the limit of " +
                               std::to_string(max_bytes) + " bytes");
    }
    const size_t unread = z->avail_in + (body.size() - fed);
    if (rc == Z_STREAM_END) {
      if (unread == 0) return out;
      if (!gzip) {
        return InvalidArgument(what + std::to_string(unread) +
                               " bytes after the end of the compressed data");
      }
      if (inflateReset(z) != Z_OK) return Internal("zlib inflateReset failed");
      continue;  // the next gzip member
    }
    if (rc == Z_NEED_DICT) return InvalidArgument(what + "a preset dictionary is not supported");
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      return InvalidArgument(what + (z->msg ? z->msg : "corrupt data"));
    }
    // Output room left and no input left: the stream stops short.
    if (unread == 0 && z->avail_out != 0) return InvalidArgument(what + "truncated data");
  }
}

ContentCoding ChooseReplyCoding(std::string_view accept_encoding) {
  double gzip = -1, deflate = -1, any = -1;  // -1: not listed
  std::string_view rest = accept_encoding;
  while (!rest.empty()) {
    size_t comma = rest.find(',');
    std::string_view entry = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    size_t semi = entry.find(';');
    std::string_view name = Trim(entry.substr(0, semi));
    double q = semi == std::string_view::npos ? 1 : Quality(entry.substr(semi + 1));
    if (IEquals(name, "gzip") || IEquals(name, "x-gzip")) {
      gzip = std::max(gzip, q);
    } else if (IEquals(name, "deflate")) {
      deflate = std::max(deflate, q);
    } else if (name == "*") {
      any = std::max(any, q);
    }
  }
  if (gzip < 0) gzip = any;
  if (gzip > 0 && gzip >= deflate) return ContentCoding::kGzip;
  if (deflate > 0) return ContentCoding::kDeflate;
  return ContentCoding::kIdentity;
}

Result<std::string> Compress(ContentCoding coding, std::string_view body) {
  ZStream stream(/*inflating=*/false);
  const int window_bits = coding == ContentCoding::kGzip ? 15 + 16 : 15;
  if (!stream.InitDeflate(window_bits)) return Internal("zlib deflateInit2 failed");
  z_stream* z = stream.get();
  std::string out;
  out.resize(deflateBound(z, static_cast<uLong>(body.size())));
  z->next_out = reinterpret_cast<Bytef*>(out.data());
  size_t fed = 0;
  int rc = Z_OK;
  while (rc == Z_OK) {
    if (z->avail_in == 0 && fed < body.size()) {
      const size_t n = std::min(body.size() - fed, kMaxFeed);
      z->next_in = reinterpret_cast<Bytef*>(const_cast<char*>(body.data() + fed));
      z->avail_in = static_cast<uInt>(n);
      fed += n;
    }
    const size_t written = reinterpret_cast<char*>(z->next_out) - out.data();
    z->avail_out = static_cast<uInt>(std::min(out.size() - written, kMaxFeed));
    rc = deflate(z, fed == body.size() ? Z_FINISH : Z_NO_FLUSH);
  }
  if (rc != Z_STREAM_END) return Internal("zlib deflate failed");
  out.resize(reinterpret_cast<char*>(z->next_out) - out.data());
  return out;
}

}  // namespace tessera::transport
