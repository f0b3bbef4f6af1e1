#include "transport/http_encoding.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <string>

namespace tessera::transport {
namespace {

// A reference encoder independent of Compress(): zlib's one-shot API for the
// zlib format, deflateInit2 with `window_bits` otherwise.
std::string Reference(std::string_view in, int window_bits) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, 6, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&z, in.size()), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}
std::string Gzip(std::string_view in) { return Reference(in, 31); }
std::string Zlib(std::string_view in) { return Reference(in, 15); }
std::string RawDeflate(std::string_view in) { return Reference(in, -15); }

const std::string kJson = R"({"inputs":[{"name":"x","shape":[1,4],"datatype":"FP32","data":[1,2,3,4]}]})";

TEST(ParseContentEncodingTest, KnownCodings) {
  EXPECT_EQ(*ParseContentEncoding("gzip"), ContentCoding::kGzip);
  EXPECT_EQ(*ParseContentEncoding(" GZip "), ContentCoding::kGzip);
  EXPECT_EQ(*ParseContentEncoding("x-gzip"), ContentCoding::kGzip);
  EXPECT_EQ(*ParseContentEncoding("deflate"), ContentCoding::kDeflate);
  EXPECT_EQ(*ParseContentEncoding("identity"), ContentCoding::kIdentity);
  EXPECT_EQ(*ParseContentEncoding(""), ContentCoding::kIdentity);
}

TEST(ParseContentEncodingTest, OthersAreUnsupported) {
  for (const char* bad : {"br", "zstd", "gzip, deflate", "gzip;q=1", "compress"}) {
    Result<ContentCoding> r = ParseContentEncoding(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), StatusCode::kUnimplemented);
    EXPECT_EQ(r.status().message(), std::string("Unsupported Content-Encoding '") + bad +
                                        "'; supported: gzip, deflate, identity");
  }
}

TEST(DecompressTest, GzipZlibAndRawDeflate) {
  EXPECT_EQ(*Decompress(ContentCoding::kGzip, Gzip(kJson), 1 << 20), kJson);
  EXPECT_EQ(*Decompress(ContentCoding::kDeflate, Zlib(kJson), 1 << 20), kJson);
  EXPECT_EQ(*Decompress(ContentCoding::kDeflate, RawDeflate(kJson), 1 << 20), kJson);
  EXPECT_EQ(*Decompress(ContentCoding::kIdentity, kJson, 1 << 20), kJson);
  // Binary bytes (NULs and all) survive; an empty payload too.
  std::string binary = kJson + std::string("\0\x01\xff\0", 4);
  EXPECT_EQ(*Decompress(ContentCoding::kGzip, Gzip(binary), 1 << 20), binary);
  EXPECT_EQ(*Decompress(ContentCoding::kGzip, Gzip(""), 1 << 20), "");
}

TEST(DecompressTest, ConcatenatedGzipMembersAreOneBody) {
  EXPECT_EQ(*Decompress(ContentCoding::kGzip, Gzip("abc") + Gzip("def"), 100), "abcdef");
}

TEST(DecompressTest, TheLimitIsExact) {
  const std::string big(100000, 'a');
  EXPECT_EQ(Decompress(ContentCoding::kGzip, Gzip(big), big.size())->size(), big.size());
  Result<std::string> r = Decompress(ContentCoding::kGzip, Gzip(big), big.size() - 1);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(r.status().message(),
            "Decompressed request body is larger than the limit of 99999 bytes");
}

TEST(DecompressTest, ABombStopsAtTheLimit) {
  // 16 MiB of zeros is ~16 KB of gzip; the limit of 1 MiB stops inflation.
  const std::string zeros(16 << 20, '\0');
  const std::string bomb = Gzip(zeros);
  ASSERT_LT(bomb.size(), 100000u);
  Result<std::string> r = Decompress(ContentCoding::kGzip, bomb, 1 << 20);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted);
  r = Decompress(ContentCoding::kDeflate, Zlib(zeros), 1 << 20);
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted);
}

TEST(DecompressTest, CorruptTruncatedOrTrailingDataIsInvalid) {
  auto expect_invalid = [](ContentCoding coding, const std::string& body, const std::string& text) {
    Result<std::string> r = Decompress(coding, body, 1 << 20);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(r.status().message(), text);
  };
  expect_invalid(ContentCoding::kGzip, kJson, "Invalid gzip request body: incorrect header check");
  expect_invalid(ContentCoding::kGzip, "", "Invalid gzip request body: truncated data");
  const std::string gz = Gzip(kJson);
  expect_invalid(ContentCoding::kGzip, gz.substr(0, gz.size() - 5),
                 "Invalid gzip request body: truncated data");
  std::string flipped = gz;
  flipped[gz.size() - 6] ^= 0x55;  // the CRC
  expect_invalid(ContentCoding::kGzip, flipped, "Invalid gzip request body: incorrect data check");
  expect_invalid(ContentCoding::kGzip, gz + "junk", "Invalid gzip request body: incorrect header check");
  expect_invalid(ContentCoding::kDeflate, Zlib(kJson) + "junk",
                 "Invalid deflate request body: 4 bytes after the end of the compressed data");
  expect_invalid(ContentCoding::kDeflate, std::string(10, '\xff'),
                 "Invalid deflate request body: invalid block type");
}

TEST(ChooseReplyCodingTest, FollowsAcceptEncoding) {
  EXPECT_EQ(ChooseReplyCoding(""), ContentCoding::kIdentity);
  EXPECT_EQ(ChooseReplyCoding("gzip"), ContentCoding::kGzip);
  EXPECT_EQ(ChooseReplyCoding("deflate"), ContentCoding::kDeflate);
  EXPECT_EQ(ChooseReplyCoding("gzip, deflate"), ContentCoding::kGzip);
  EXPECT_EQ(ChooseReplyCoding("deflate, gzip"), ContentCoding::kGzip);  // a tie: gzip
  EXPECT_EQ(ChooseReplyCoding("gzip;q=0.5, deflate"), ContentCoding::kDeflate);
  EXPECT_EQ(ChooseReplyCoding("GZIP; Q=0.9, deflate;q=0.8"), ContentCoding::kGzip);
  EXPECT_EQ(ChooseReplyCoding("gzip;q=0"), ContentCoding::kIdentity);
  EXPECT_EQ(ChooseReplyCoding("br, identity"), ContentCoding::kIdentity);
  EXPECT_EQ(ChooseReplyCoding("*"), ContentCoding::kGzip);
  EXPECT_EQ(ChooseReplyCoding("*;q=0, deflate"), ContentCoding::kDeflate);
  EXPECT_EQ(ChooseReplyCoding("gzip;q=nonsense"), ContentCoding::kIdentity);
}

TEST(CompressTest, RoundTrips) {
  const std::string text = kJson + std::string(5000, 'x');
  for (ContentCoding coding : {ContentCoding::kGzip, ContentCoding::kDeflate}) {
    Result<std::string> compressed = Compress(coding, text);
    ASSERT_TRUE(compressed.ok());
    EXPECT_LT(compressed->size(), text.size());
    EXPECT_EQ(*Decompress(coding, *compressed, text.size()), text);
  }
  // gzip magic and a zlib header, as clients check them.
  EXPECT_EQ(Compress(ContentCoding::kGzip, text)->substr(0, 2), "\x1f\x8b");
  EXPECT_EQ(static_cast<unsigned char>((*Compress(ContentCoding::kDeflate, text))[0]) & 0x0f, 8);
  EXPECT_STREQ(ContentCodingName(ContentCoding::kGzip), "gzip");
  EXPECT_STREQ(ContentCodingName(ContentCoding::kDeflate), "deflate");
}

}  // namespace
}  // namespace tessera::transport
