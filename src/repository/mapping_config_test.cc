#include "repository/mapping_config.h"

#include <gtest/gtest.h>

namespace tessera {
namespace {

TEST(MappingConfigTest, ParsesInputsAndOutputs) {
  auto m = ParseMappingConfig(R"({"inputs": {"x": "image"}, "outputs": {"y": "scores"}})", "m.json");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->inputs.at("x"), "image");
  EXPECT_EQ(m->outputs.at("y"), "scores");
  auto only_outputs = ParseMappingConfig(R"({"outputs": {}})", "m.json");
  ASSERT_TRUE(only_outputs.ok());
  EXPECT_TRUE(only_outputs->inputs.empty());
}

TEST(MappingConfigTest, RejectsMalformedFiles) {
  for (const char* bad : {"{", "[]", R"({"input": {}})", R"({"inputs": []})",
                          R"({"inputs": {"x": 1}})", R"({"outputs": {"y": ""}})"}) {
    auto m = ParseMappingConfig(bad, "/m/1/mapping_config.json");
    ASSERT_FALSE(m.ok()) << bad;
    EXPECT_EQ(m.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(m.status().message().find("/m/1/mapping_config.json"), std::string::npos);
  }
}

}  // namespace
}  // namespace tessera
