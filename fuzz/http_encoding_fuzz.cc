// Content-Encoding (src/transport/http_encoding.h): the first input byte
// picks gzip or deflate, the rest is the request body the server would
// inflate, with a 1 MiB limit. Invariants: the result never exceeds the
// limit; what inflates compresses and inflates back to the same bytes. The
// whole input is also read as a Content-Encoding and an Accept-Encoding value.
#include <string>

#include "fuzz_common.h"
#include "transport/http_encoding.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tessera::transport;
  std::string_view in = tessera::fuzz::AsText(data, size);
  (void)ParseContentEncoding(in);
  (void)ChooseReplyCoding(in);
  if (in.empty()) return 0;
  const ContentCoding coding = (in[0] & 1) ? ContentCoding::kDeflate : ContentCoding::kGzip;
  constexpr size_t kLimit = 1 << 20;
  tessera::Result<std::string> body = Decompress(coding, in.substr(1), kLimit);
  if (!body.ok()) return 0;
  TESSERA_FUZZ_CHECK(body->size() <= kLimit);
  tessera::Result<std::string> again = Compress(coding, *body);
  TESSERA_FUZZ_CHECK(again.ok());
  tessera::Result<std::string> back = Decompress(coding, *again, kLimit);
  TESSERA_FUZZ_CHECK(back.ok() && *back == *body);
  return 0;
}
