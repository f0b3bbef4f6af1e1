#include "common/base64.h"

#include <array>
#include <cstdint>

namespace tessera {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr uint8_t kInvalid = 0xff;

constexpr std::array<uint8_t, 256> MakeDecodeTable() {
  std::array<uint8_t, 256> table{};
  for (auto& v : table) v = kInvalid;
  for (uint8_t i = 0; i < 64; ++i) table[static_cast<uint8_t>(kAlphabet[i])] = i;
  table['-'] = 62;
  table['_'] = 63;
  return table;
}

constexpr std::array<uint8_t, 256> kDecode = MakeDecodeTable();

}  // namespace

std::optional<size_t> Base64Decode(std::string_view in, char* out) {
  // Padding may only end the input: strip it, then the rest must be clean.
  size_t end = in.size();
  size_t padding = 0;
  while (end > 0 && in[end - 1] == '=' && padding < 2) {
    --end;
    ++padding;
  }
  if (padding > 0 && (end + padding) % 4 != 0) return std::nullopt;
  if (end % 4 == 1) return std::nullopt;  // 6 bits cannot make a byte

  char* dst = out;
  const auto* src = reinterpret_cast<const uint8_t*>(in.data());
  size_t i = 0;
  for (; i + 4 <= end; i += 4) {
    uint32_t a = kDecode[src[i]], b = kDecode[src[i + 1]], c = kDecode[src[i + 2]],
             d = kDecode[src[i + 3]];
    if ((a | b | c | d) & 0xc0) return std::nullopt;  // kInvalid has the top bits set
    uint32_t v = a << 18 | b << 12 | c << 6 | d;
    *dst++ = static_cast<char>(v >> 16);
    *dst++ = static_cast<char>(v >> 8);
    *dst++ = static_cast<char>(v);
  }
  size_t rest = end - i;
  if (rest > 0) {
    uint32_t v = 0;
    for (size_t k = 0; k < rest; ++k) {
      uint8_t x = kDecode[src[i + k]];
      if (x == kInvalid) return std::nullopt;
      v |= uint32_t{x} << (18 - 6 * k);
    }
    *dst++ = static_cast<char>(v >> 16);
    if (rest == 3) *dst++ = static_cast<char>(v >> 8);
  }
  return static_cast<size_t>(dst - out);
}

void Base64EncodeAppend(std::string_view in, std::string* out) {
  size_t base = out->size();
  out->resize(base + (in.size() + 2) / 3 * 4);
  char* dst = out->data() + base;
  const auto* src = reinterpret_cast<const uint8_t*>(in.data());
  size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    uint32_t v = uint32_t{src[i]} << 16 | uint32_t{src[i + 1]} << 8 | src[i + 2];
    *dst++ = kAlphabet[v >> 18];
    *dst++ = kAlphabet[(v >> 12) & 63];
    *dst++ = kAlphabet[(v >> 6) & 63];
    *dst++ = kAlphabet[v & 63];
  }
  size_t rest = in.size() - i;
  if (rest == 0) return;
  uint32_t v = uint32_t{src[i]} << 16 | (rest == 2 ? uint32_t{src[i + 1]} << 8 : 0);
  *dst++ = kAlphabet[v >> 18];
  *dst++ = kAlphabet[(v >> 12) & 63];
  *dst++ = rest == 2 ? kAlphabet[(v >> 6) & 63] : '=';
  *dst++ = '=';
}

}  // namespace tessera
