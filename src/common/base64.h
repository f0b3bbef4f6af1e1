// Base64 (RFC 4648): TF Serving REST {"b64": "..."} values, images sent as text.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace tessera {

// Room Base64Decode needs for `encoded_size` characters.
inline size_t Base64DecodedSizeBound(size_t encoded_size) { return encoded_size / 4 * 3 + 2; }

// Decodes `in` into `out`, which has room for Base64DecodedSizeBound(in.size())
// bytes; returns the number of bytes written. Accepts the standard alphabet
// and the URL-safe one ('-', '_'), with or without '=' padding. nullopt on any
// other character (whitespace included), on padding that does not end the
// input, or on an impossible length.
std::optional<size_t> Base64Decode(std::string_view in, char* out);

// Appends the standard, padded encoding of `in` to `*out`.
void Base64EncodeAppend(std::string_view in, std::string* out);

}  // namespace tessera
