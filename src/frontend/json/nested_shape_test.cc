#include "frontend/json/nested_shape.h"

#include <gtest/gtest.h>

#include <string>

namespace tessera::json {
namespace {

using Error = NestedShape::Error;

// Feeds `text` ('[', ']', and 'x' for a leaf) and returns the first error
// with its position ("ragged@3"), or "ok rank=R lengths=a,b".
std::string Feed(const std::string& text) {
  NestedShape shape;
  for (size_t i = 0; i < text.size(); ++i) {
    Error e = Error::kNone;
    if (text[i] == '[') e = shape.StartList();
    if (text[i] == ']') e = shape.EndList();
    if (text[i] == 'x') {
      e = shape.CheckLeaf();
      if (e == Error::kNone) shape.CountLeaf();
    }
    switch (e) {
      case Error::kNone: break;
      case Error::kUnexpectedList: return "unexpected_list@" + std::to_string(i);
      case Error::kExpectedList: return "expected_list@" + std::to_string(i);
      case Error::kRagged:
        return "ragged@" + std::to_string(i) + " " + std::to_string(shape.ragged_count()) +
               " vs " + std::to_string(shape.lengths()[shape.depth()]);
    }
  }
  std::string out = "ok rank=" + std::to_string(shape.rank()) + " lengths=";
  for (int64_t n : shape.lengths()) out += std::to_string(n) + ",";
  return out;
}

TEST(NestedShapeTest, RectangularListsGiveTheirShape) {
  EXPECT_EQ(Feed("[[xxx][xxx]]"), "ok rank=2 lengths=2,3,");
  EXPECT_EQ(Feed("[xx]"), "ok rank=1 lengths=2,");
  EXPECT_EQ(Feed("x"), "ok rank=0 lengths=");
  EXPECT_EQ(Feed("[]"), "ok rank=1 lengths=0,");
  EXPECT_EQ(Feed("[[][]]"), "ok rank=2 lengths=2,0,");
}

TEST(NestedShapeTest, RaggedListsAndMixedDepths) {
  EXPECT_EQ(Feed("[[xx][x]]"), "ragged@7 1 vs 2");
  EXPECT_EQ(Feed("[[xx][xx[x]]]"), "unexpected_list@8");
  EXPECT_EQ(Feed("[[xx]x]"), "expected_list@5");
  EXPECT_EQ(Feed("[x[xx]]"), "unexpected_list@2");
  // An empty list is innermost: it fixes the rank before any leaf.
  EXPECT_EQ(Feed("[[][[]]]"), "unexpected_list@4");
  EXPECT_EQ(Feed("[[[]]x]"), "expected_list@5");
  EXPECT_EQ(Feed("[[][x]]"), "ragged@5 1 vs 0");
}

TEST(NestedShapeTest, CountsArePositionsOfTheNextElement) {
  NestedShape shape;
  ASSERT_EQ(shape.StartList(), Error::kNone);
  ASSERT_EQ(shape.StartList(), Error::kNone);
  ASSERT_EQ(shape.CheckLeaf(), Error::kNone);
  shape.CountLeaf();
  ASSERT_EQ(shape.EndList(), Error::kNone);
  ASSERT_EQ(shape.StartList(), Error::kNone);
  EXPECT_EQ(shape.depth(), 2);
  EXPECT_EQ(shape.counts(), (std::vector<int64_t>{1, 0}));
}

}  // namespace
}  // namespace tessera::json
