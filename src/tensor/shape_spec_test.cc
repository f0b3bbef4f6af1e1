#include "tensor/shape_spec.h"

#include <gtest/gtest.h>

namespace tessera {
namespace {

TEST(ShapeSpecTest, ParsesFixedAnyAndRanges) {
  auto spec = ParseShapeSpec("(1:8, 3,-1,224)");
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  EXPECT_EQ(*spec, (ShapeSpec{{1, 8}, Dim::Fixed(3), Dim::Any(), Dim::Fixed(224)}));
  EXPECT_EQ(SpecToString(*spec), "(1:8,3,-1,224)");
  EXPECT_EQ(MetadataShape(*spec), (Shape{-1, 3, -1, 224}));
  EXPECT_EQ(*ParseShapeSpec("[2,3]"), SpecFromShape({2, 3}));
  EXPECT_TRUE(ParseShapeSpec("()")->empty());
}

TEST(ShapeSpecTest, RejectsMalformedText) {
  for (const char* bad : {"1,3", "(1,,3)", "(1,3,)", "(a)", "(8:1)", "(0:4)", "(-2)", "(1:)",
                          "(1,3]"}) {
    auto spec = ParseShapeSpec(bad);
    EXPECT_FALSE(spec.ok()) << bad;
    if (!spec.ok()) EXPECT_EQ(spec.status().code(), StatusCode::kInvalidArgument);
  }
}

TEST(ShapeSpecTest, AcceptsWithinRangesOnly) {
  ShapeSpec spec = *ParseShapeSpec("(1:4,-1,3)");
  EXPECT_TRUE(SpecAccepts(spec, {1, 100, 3}));
  EXPECT_TRUE(SpecAccepts(spec, {4, 0, 3}));
  EXPECT_FALSE(SpecAccepts(spec, {5, 1, 3}));
  EXPECT_FALSE(SpecAccepts(spec, {0, 1, 3}));
  EXPECT_FALSE(SpecAccepts(spec, {1, 1, 4}));
  EXPECT_FALSE(SpecAccepts(spec, {1, 1}));
}

TEST(ShapeSpecTest, ParsesSingleDims) {
  EXPECT_EQ(*ParseDim("8"), Dim::Fixed(8));
  EXPECT_EQ(*ParseDim("-1"), Dim::Any());
  EXPECT_EQ(*ParseDim("2:16"), (Dim{2, 16}));
  EXPECT_EQ(ParseDim("2:16")->ToString(), "2:16");
  EXPECT_FALSE(ParseDim("x").ok());
  EXPECT_FALSE(ParseDim("").ok());
}

}  // namespace
}  // namespace tessera
