// base64 (src/common/base64.h): decoding arbitrary text into a buffer of
// exactly Base64DecodedSizeBound bytes (ASan sees any write past it), and the
// round trip decode -> encode -> decode giving the same bytes.
#include <string>
#include <vector>

#include "common/base64.h"
#include "fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using tessera::Base64Decode;
  using tessera::Base64DecodedSizeBound;
  std::string_view in = tessera::fuzz::AsText(data, size);
  std::vector<char> out(Base64DecodedSizeBound(in.size()));
  std::optional<size_t> n = Base64Decode(in, out.data());
  if (!n) return 0;
  TESSERA_FUZZ_CHECK(*n <= out.size());
  std::string_view decoded(out.data(), *n);

  std::string encoded;
  tessera::Base64EncodeAppend(decoded, &encoded);
  TESSERA_FUZZ_CHECK(encoded.size() % 4 == 0);
  std::vector<char> again(Base64DecodedSizeBound(encoded.size()));
  std::optional<size_t> m = Base64Decode(encoded, again.data());
  TESSERA_FUZZ_CHECK(m.has_value());
  TESSERA_FUZZ_CHECK(std::string_view(again.data(), *m) == decoded);
  return 0;
}
