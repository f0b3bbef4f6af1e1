#include "tensor/layout.h"

#include <gtest/gtest.h>

namespace tessera {
namespace {

TEST(LayoutTest, ParsesLettersAndEllipsis) {
  auto layout = ParseLayout("NCHW");
  ASSERT_TRUE(layout.ok());
  EXPECT_EQ(layout->IndexOf('C'), 1u);
  EXPECT_EQ(layout->IndexOf('X'), std::nullopt);
  EXPECT_TRUE(layout->FitsRank(4));
  EXPECT_FALSE(layout->FitsRank(3));
  auto open = ParseLayout("N...");
  ASSERT_TRUE(open.ok());
  EXPECT_TRUE(open->FitsRank(1));
  EXPECT_TRUE(open->FitsRank(5));
  EXPECT_FALSE(open->FitsRank(0));
  EXPECT_EQ(open->ToString(), "N...");
  EXPECT_TRUE(ParseLayout("...")->FitsRank(0));
  EXPECT_TRUE(ParseLayout("N??C").ok());
}

TEST(LayoutTest, RejectsBadLayouts) {
  for (const char* bad : {"", "nchw", "NNHW", "N..C", "N-C"}) {
    EXPECT_FALSE(ParseLayout(bad).ok()) << bad;
  }
  for (const char* bad : {"NHWC:NCH", "NHWC:NCHX", "N...:NC", "N?HW:NH?W", "NHWC:"}) {
    EXPECT_FALSE(ParseLayoutSetting(bad).ok()) << bad;
  }
}

TEST(LayoutTest, SettingGivesPermutation) {
  auto setting = ParseLayoutSetting("NHWC:NCHW");
  ASSERT_TRUE(setting.ok()) << setting.status().ToString();
  EXPECT_TRUE(setting->Transposes());
  auto p = ClientToModelPermutation(*setting);
  EXPECT_EQ(p, (std::vector<size_t>{0, 3, 1, 2}));
  EXPECT_EQ(Permute(Shape{2, 5, 7, 3}, p), (Shape{2, 3, 5, 7}));
  EXPECT_EQ(Permute(Permute(Shape{2, 5, 7, 3}, p), InversePermutation(p)), (Shape{2, 5, 7, 3}));
  auto same = ParseLayoutSetting("NCHW");
  ASSERT_TRUE(same.ok());
  EXPECT_FALSE(same->Transposes());
  EXPECT_EQ(ClientToModelPermutation(*same), (std::vector<size_t>{0, 1, 2, 3}));
}

TEST(TransposeTest, MovesChannelsFirst) {
  // NHWC (1,2,2,3) with value = 100*h + 10*w + c.
  Tensor in = Tensor::Allocate(DataType::kFp32, {1, 2, 2, 3});
  auto* v = reinterpret_cast<float*>(in.mutable_data());
  for (int h = 0; h < 2; ++h)
    for (int w = 0; w < 2; ++w)
      for (int c = 0; c < 3; ++c) v[(h * 2 + w) * 3 + c] = 100 * h + 10 * w + c;
  Tensor out = Transpose(in, {0, 3, 1, 2});
  ASSERT_EQ(out.shape(), (Shape{1, 3, 2, 2}));
  const float* o = out.data_as<float>();
  for (int c = 0; c < 3; ++c)
    for (int h = 0; h < 2; ++h)
      for (int w = 0; w < 2; ++w) EXPECT_EQ(o[(c * 2 + h) * 2 + w], 100 * h + 10 * w + c);
}

TEST(TransposeTest, HandlesEmptyAndOneByteTypes) {
  Tensor empty = Transpose(Tensor::Allocate(DataType::kUint8, {0, 2}), {1, 0});
  EXPECT_EQ(empty.shape(), (Shape{2, 0}));
  Tensor in = Tensor::FromBytes(DataType::kUint8, {2, 3}, std::string("abcdef"));
  Tensor out = Transpose(in, {1, 0});
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(out.data()), 6), "adbecf");
}

}  // namespace
}  // namespace tessera
