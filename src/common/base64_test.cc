#include "common/base64.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>

namespace tessera {
namespace {

std::optional<std::string> Decode(std::string_view in) {
  std::string out(Base64DecodedSizeBound(in.size()), '\0');
  auto n = Base64Decode(in, out.data());
  if (!n) return std::nullopt;
  out.resize(*n);
  return out;
}

std::string Encode(std::string_view in) {
  std::string out = "prefix:";
  Base64EncodeAppend(in, &out);
  return out.substr(7);
}

TEST(Base64Test, EncodesWithPadding) {
  EXPECT_EQ(Encode(""), "");
  EXPECT_EQ(Encode("f"), "Zg==");
  EXPECT_EQ(Encode("fo"), "Zm8=");
  EXPECT_EQ(Encode("foo"), "Zm9v");
  EXPECT_EQ(Encode("foob"), "Zm9vYg==");
  EXPECT_EQ(Encode("fooba"), "Zm9vYmE=");
  EXPECT_EQ(Encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(Encode(std::string("\xff\xfe\x00", 3)), "//4A");
}

TEST(Base64Test, DecodesWithAndWithoutPadding) {
  EXPECT_EQ(Decode(""), "");
  EXPECT_EQ(Decode("Zg=="), "f");
  EXPECT_EQ(Decode("Zg"), "f");
  EXPECT_EQ(Decode("Zm8="), "fo");
  EXPECT_EQ(Decode("Zm8"), "fo");
  EXPECT_EQ(Decode("Zm9vYmFy"), "foobar");
  EXPECT_EQ(Decode("//4A"), std::string("\xff\xfe\x00", 3));
}

TEST(Base64Test, DecodesUrlSafeAlphabet) { EXPECT_EQ(Decode("__4A"), std::string("\xff\xfe\x00", 3)); }

TEST(Base64Test, RoundTripsEveryByte) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  for (size_t n = 0; n < all.size(); n += 37) {
    std::string part = all.substr(0, n);
    EXPECT_EQ(Decode(Encode(part)), part) << n;
  }
}

TEST(Base64Test, RejectsInvalidInput) {
  EXPECT_FALSE(Decode("Zm9v!"));      // bad character
  EXPECT_FALSE(Decode("Zm 9v"));      // whitespace
  EXPECT_FALSE(Decode("Z"));          // 6 bits
  EXPECT_FALSE(Decode("Zm9vY"));      // 4n+1 characters
  EXPECT_FALSE(Decode("Zg=a"));       // padding in the middle
  EXPECT_FALSE(Decode("Zg="));        // wrong amount of padding
  EXPECT_FALSE(Decode("Zm9v===="));   // too much padding
  EXPECT_FALSE(Decode("=Zm9"));
}

}  // namespace
}  // namespace tessera
