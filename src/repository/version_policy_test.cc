#include "repository/version_policy.h"

#include <gtest/gtest.h>

namespace tessera {
namespace {

using Versions = std::vector<int64_t>;

VersionPolicy All() { return VersionPolicy{VersionPolicy::Kind::kAll, 1, {}}; }
VersionPolicy Latest(int64_t n) { return VersionPolicy{VersionPolicy::Kind::kLatest, n, {}}; }
VersionPolicy Specific(Versions v) { return VersionPolicy{VersionPolicy::Kind::kSpecific, 1, std::move(v)}; }

TEST(SelectVersionsTest, AllReturnsEverythingAscendingWithoutDuplicates) {
  EXPECT_EQ(SelectVersions(All(), {3, 1, 2, 3}), (Versions{1, 2, 3}));
  EXPECT_EQ(SelectVersions(All(), {}), Versions{});
}

TEST(SelectVersionsTest, LatestTakesTheHighest) {
  EXPECT_EQ(SelectVersions(Latest(1), {1, 10, 2}), (Versions{10}));
  EXPECT_EQ(SelectVersions(Latest(2), {5, 1, 3, 4}), (Versions{4, 5}));
  EXPECT_EQ(SelectVersions(Latest(5), {2, 1}), (Versions{1, 2}));
  EXPECT_EQ(SelectVersions(Latest(2), {7, 7, 3}), (Versions{3, 7}));
  EXPECT_EQ(SelectVersions(Latest(3), {}), Versions{});
}

TEST(SelectVersionsTest, LatestBelowOneSelectsNothing) {
  EXPECT_EQ(SelectVersions(Latest(0), {1, 2}), Versions{});
  EXPECT_EQ(SelectVersions(Latest(-4), {1, 2}), Versions{});
}

TEST(SelectVersionsTest, SpecificKeepsListedVersionsThatExist) {
  EXPECT_EQ(SelectVersions(Specific({3, 1, 9}), {1, 2, 3, 4}), (Versions{1, 3}));
  EXPECT_EQ(SelectVersions(Specific({9}), {1, 2}), Versions{});
  EXPECT_EQ(SelectVersions(Specific({}), {1, 2}), Versions{});
}

TEST(VersionPolicyToJsonTest, OvmsForms) {
  EXPECT_EQ(VersionPolicyToJson(All()), R"({"all":{}})");
  EXPECT_EQ(VersionPolicyToJson(Latest(1)), R"({"latest":{"num_versions":1}})");
  EXPECT_EQ(VersionPolicyToJson(Latest(12)), R"({"latest":{"num_versions":12}})");
  EXPECT_EQ(VersionPolicyToJson(Specific({1, 3})), R"({"specific":{"versions":[1,3]}})");
  EXPECT_EQ(VersionPolicyToJson(Specific({})), R"({"specific":{"versions":[]}})");
  EXPECT_EQ(VersionPolicyToJson(VersionPolicy{}), R"({"latest":{"num_versions":1}})");
}

}  // namespace
}  // namespace tessera
