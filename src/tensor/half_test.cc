#include "tensor/half.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace tessera {
namespace {

TEST(HalfTest, EveryHalfRoundTrips) {
  for (uint32_t h = 0; h <= 0xffff; ++h) {
    double d = HalfToDouble(static_cast<uint16_t>(h));
    bool nan = ((h >> 10) & 0x1f) == 0x1f && (h & 0x3ff) != 0;
    if (nan) {
      EXPECT_TRUE(std::isnan(d));
      EXPECT_EQ(DoubleToHalf(d) & 0x7fff, 0x7e00);
    } else {
      ASSERT_EQ(DoubleToHalf(d), h) << h;
    }
  }
}

TEST(HalfTest, ConvertsExactValues) {
  EXPECT_EQ(DoubleToHalf(0.0), 0x0000);
  EXPECT_EQ(DoubleToHalf(1.0), 0x3c00);
  EXPECT_EQ(DoubleToHalf(1.5), 0x3e00);
  EXPECT_EQ(DoubleToHalf(-2.0), 0xc000);
  EXPECT_EQ(DoubleToHalf(65504.0), 0x7bff);
  EXPECT_EQ(DoubleToHalf(5.9604644775390625e-8), 0x0001);  // smallest subnormal
  EXPECT_EQ(HalfToDouble(0x3e00), 1.5);
  EXPECT_EQ(HalfToDouble(0x7bff), 65504.0);
  EXPECT_EQ(HalfToDouble(0x0001), 5.9604644775390625e-8);
  EXPECT_TRUE(std::signbit(HalfToDouble(0x8000)));
  EXPECT_TRUE(std::isinf(HalfToDouble(0x7c00)));
  EXPECT_EQ(DoubleToHalf(std::numeric_limits<double>::infinity()), 0x7c00);
}

TEST(HalfTest, RoundsFromTheDoubleOnce) {
  // 1 + 2^-11 + 2^-40 is just above the tie between 1 and 1 + 2^-10: it
  // rounds up. Through a float (2^-40 is lost) it would be the tie, and even.
  EXPECT_EQ(DoubleToHalf(1.0 + std::ldexp(1.0, -11) + std::ldexp(1.0, -40)), 0x3c01);
}

TEST(HalfTest, RoundsToNearestEven) {
  EXPECT_EQ(DoubleToHalf(1.0 / 3), 0x3555);
  EXPECT_EQ(DoubleToHalf(0.1), 0x2e66);
  EXPECT_EQ(DoubleToHalf(2049), 0x6800);  // tie -> even (2048)
  EXPECT_EQ(DoubleToHalf(2051), 0x6802);  // tie -> even (2052)
  EXPECT_EQ(DoubleToHalf(65519), 0x7bff);
  EXPECT_EQ(DoubleToHalf(65520), 0x7c00);
  EXPECT_EQ(DoubleToHalf(std::ldexp(1.0, -25)), 0x0000);       // tie -> even (0)
  EXPECT_EQ(DoubleToHalf(std::ldexp(1.5, -25)), 0x0001);
  EXPECT_EQ(DoubleToHalf(std::ldexp(1023.5, -24)), 0x0400);    // rounds up to the smallest normal
  EXPECT_EQ(DoubleToHalf(-0.0), 0x8000);
  EXPECT_EQ(DoubleToHalf(-std::numeric_limits<double>::infinity()), 0xfc00);
}

TEST(Bf16Test, ConvertsAndRounds) {
  EXPECT_EQ(DoubleToBf16(1.0), 0x3f80);
  EXPECT_EQ(DoubleToBf16(-3.0), 0xc040);
  EXPECT_EQ(Bf16ToDouble(0x3f80), 1.0);
  EXPECT_EQ(DoubleToBf16(1.0 + 1.0 / 256), 0x3f80);      // tie -> even
  EXPECT_EQ(DoubleToBf16(1.0 + 3.0 / 256), 0x3f82);      // tie -> even (up)
  EXPECT_TRUE(std::isnan(Bf16ToDouble(DoubleToBf16(std::nan("")))));
  EXPECT_EQ(DoubleToBf16(1e300), 0x7f80);
  for (uint32_t b = 0; b <= 0xffff; ++b) {
    double d = Bf16ToDouble(static_cast<uint16_t>(b));
    if (std::isnan(d)) continue;
    ASSERT_EQ(DoubleToBf16(d), b) << b;
  }
}

}  // namespace
}  // namespace tessera
