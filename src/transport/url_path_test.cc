#include "transport/url_path.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tessera::transport {
namespace {

// "/a:b" -> "/a :b" (each segment as separator + text).
std::string Show(const std::vector<UrlSegment>& segments) {
  std::string out;
  for (const auto& s : segments) out += (out.empty() ? "" : " ") + std::string(1, s.separator) + s.text;
  return out;
}

TEST(SplitUrlPathTest, SplitsAtRawSlashesAndDecodesEachSegment) {
  EXPECT_EQ(Show(SplitUrlPath("/v2/models/m/infer").value()), "/v2 /models /m /infer");
  EXPECT_EQ(Show(SplitUrlPath("/v2/models/alpha%2Finfer").value()), "/v2 /models /alpha/infer");
  EXPECT_EQ(Show(SplitUrlPath("/v2/models/my%20model/ready").value()), "/v2 /models /my model /ready");
  // ':' is data unless asked to split on it.
  EXPECT_EQ(Show(SplitUrlPath("/v1/models/m:predict").value()), "/v1 /models /m:predict");
  EXPECT_EQ(SplitUrlPath("/v1/models/m:predict").value().size(), 3u);
}

TEST(SplitUrlPathTest, SplitsAtRawColonsOnlyWhenAsked) {
  EXPECT_EQ(Show(SplitUrlPath("/v1/models/m:predict", "/:").value()), "/v1 /models /m :predict");
  EXPECT_EQ(Show(SplitUrlPath("/v1/models/alpha%3Apredict", "/:").value()), "/v1 /models /alpha:predict");
  EXPECT_EQ(Show(SplitUrlPath("/v1/models/a%3Ab%2Fc/versions/2:predict", "/:").value()),
            "/v1 /models /a:b/c /versions /2 :predict");
}

TEST(SplitUrlPathTest, KeepsEmptySegments) {
  EXPECT_EQ(Show(SplitUrlPath("/").value()), "/");
  EXPECT_EQ(SplitUrlPath("/").value().size(), 1u);
  EXPECT_EQ(SplitUrlPath("/a//b").value().size(), 3u);
  EXPECT_EQ(SplitUrlPath("/a/").value().size(), 2u);
}

TEST(SplitUrlPathTest, RejectsRelativePathsAndBadEscapes) {
  EXPECT_EQ(SplitUrlPath("").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(SplitUrlPath("v2/models").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(SplitUrlPath("/v2/models/a%zz").status().code(), StatusCode::kInvalidArgument);
}

TEST(PercentDecodeTest, DecodesAndRejectsMalformed) {
  EXPECT_EQ(PercentDecode("/a%20b%2Fc%2fd+e").value(), "/a b/c/d+e");
  EXPECT_EQ(PercentDecode("").value(), "");
  EXPECT_FALSE(PercentDecode("%").ok());
  EXPECT_FALSE(PercentDecode("%2").ok());
  EXPECT_FALSE(PercentDecode("%g0").ok());
  EXPECT_EQ(PercentDecode("%zz").status().code(), StatusCode::kInvalidArgument);
}

TEST(CheckPercentEncodingTest, AgreesWithPercentDecode) {
  for (const char* text : {"", "/a", "/a%20b", "%2f%2F", "/%", "/%2", "/a%g0", "/%%41", "%41%"}) {
    EXPECT_EQ(CheckPercentEncoding(text).ok(), PercentDecode(text).ok()) << text;
  }
  EXPECT_TRUE(CheckPercentEncoding("/v2/models/alpha%2Finfer").ok());
  EXPECT_EQ(CheckPercentEncoding("/a%zz").message(), "Malformed percent-encoding in the request path");
}

}  // namespace
}  // namespace tessera::transport
