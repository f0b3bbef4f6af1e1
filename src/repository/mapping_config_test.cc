#include "repository/mapping_config.h"

#include <gtest/gtest.h>

#include <string>

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

TEST(MappingConfigTest, NestingIsBoundedAt64Levels) {
  // {"inputs": { + 62 more = 64 levels: valid JSON, then refused as a mapping.
  auto at_limit = ParseMappingConfig(
      R"({"inputs": {"x": )" + std::string(62, '[') + std::string(62, ']') + "}}", "m.json");
  ASSERT_FALSE(at_limit.ok());
  EXPECT_EQ(at_limit.status().message().find("not valid JSON"), std::string::npos)
      << at_limit.status().message();
  auto deep = ParseMappingConfig(std::string(100000, '[') + std::string(100000, ']'), "m.json");
  ASSERT_FALSE(deep.ok());
  EXPECT_EQ(deep.status().message(),
            "m.json is not valid JSON: nesting deeper than 64 levels at offset 64 (line 1, column 65)");
}

}  // namespace
}  // namespace tessera
