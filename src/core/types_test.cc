#include "core/types.h"

#include <gtest/gtest.h>

#include <limits>
#include <string>

namespace tessera {
namespace {

TEST(ParseModelVersionTest, ZeroIsTheDefaultVersion) {
  EXPECT_EQ(*ParseModelVersion("0", /*empty_is_default=*/false), kDefaultVersion);
  EXPECT_EQ(*ParseModelVersion("0", /*empty_is_default=*/true), kDefaultVersion);
  EXPECT_EQ(*ParseModelVersion("000", /*empty_is_default=*/false), kDefaultVersion);
  EXPECT_EQ(*ParseModelVersion("", /*empty_is_default=*/true), kDefaultVersion);
}

TEST(ParseModelVersionTest, DecimalIntegersParse) {
  EXPECT_EQ(*ParseModelVersion("1", false), 1);
  EXPECT_EQ(*ParseModelVersion("42", true), 42);
  EXPECT_EQ(*ParseModelVersion("007", true), 7);
  EXPECT_EQ(*ParseModelVersion("9223372036854775807", true), std::numeric_limits<int64_t>::max());
}

TEST(ParseModelVersionTest, RejectsAnythingElseNamingTheText) {
  for (const char* bad : {"-1", "-0", "abc", "1.5", " 1", "1 ", "+1", "v1", "1a",
                          "99999999999999999999"}) {
    Result<int64_t> r = ParseModelVersion(bad, /*empty_is_default=*/true);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(r.status().message(), std::string("Invalid model version '") + bad +
                                        "': expected a non-negative integer (0 = the default version)");
  }
  Result<int64_t> empty = ParseModelVersion("", /*empty_is_default=*/false);
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace tessera
