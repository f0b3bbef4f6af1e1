#include "pipeline/pipeline_definition.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "pipeline/pipeline_test_util.h"

namespace tessera::pipeline {
namespace {

using namespace testing;  // NOLINT: the JSON builders

Result<PipelineDefinition> ParseOne(const std::string& pipeline_json) {
  auto all = ParsePipelineDefinitions("[" + pipeline_json + "]");
  if (!all.ok()) return all.status();
  EXPECT_EQ(all->size(), 1u);
  return (*all)[0];
}

TEST(PipelineDefinitionTest, WiresEntryNodesAndExit) {
  auto d = ParseOne(Pipeline("p", {"x", "z"},
                             {Dl("a", "m1", {Src("in", "request", "x")}, {Out("out", "a_out")}),
                              Custom("c", "lib", R"({"k":"v"})", {Src("in", "a", "a_out"), Src("in2", "request", "z")},
                                     {Out("out", "c_out")})},
                             {Src("y", "c", "c_out"), Src("echo", "request", "x")}));
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->name(), "p");
  ASSERT_EQ(d->nodes().size(), 4u);
  EXPECT_EQ(d->nodes()[0].name, "request");
  EXPECT_EQ(d->nodes()[0].kind, NodeKind::kEntry);
  EXPECT_EQ(d->nodes()[0].output_aliases, (std::map<std::string, std::string>{{"x", "x"}, {"z", "z"}}));
  EXPECT_EQ(d->nodes()[1].kind, NodeKind::kDl);
  EXPECT_EQ(d->nodes()[1].model_name, "m1");
  EXPECT_FALSE(d->nodes()[1].model_version.has_value());
  EXPECT_EQ(d->nodes()[1].output_aliases, (std::map<std::string, std::string>{{"a_out", "out"}}));
  EXPECT_EQ(d->nodes()[2].kind, NodeKind::kCustom);
  EXPECT_EQ(d->nodes()[2].library_name, "lib");
  EXPECT_EQ(d->nodes()[2].params, (std::map<std::string, std::string>{{"k", "v"}}));
  EXPECT_EQ(d->nodes()[3].name, "response");
  EXPECT_EQ(d->nodes()[3].kind, NodeKind::kExit);

  EXPECT_EQ(d->DependenciesOf("c"), (std::vector<Dependency>{{"a", {{"a_out", "in"}}}, {"request", {{"z", "in2"}}}}));
  EXPECT_EQ(d->DependenciesOf("response"),
            (std::vector<Dependency>{{"c", {{"c_out", "y"}}}, {"request", {{"x", "echo"}}}}));
  EXPECT_TRUE(d->DependenciesOf("request").empty());
  EXPECT_EQ(d->inputs(), (std::vector<std::string>{"x", "z"}));
}

TEST(PipelineDefinitionTest, ImplicitGatherAndDemultiplyCounts) {
  auto d = ParseOne(Pipeline("p", {"x"},
                             {Dl("a", "m", {Src("in", "request", "x")}, {Out("out", "o")}, "\"demultiply_count\": 0"),
                              Dl("b", "m", {Src("in", "a", "o")}, {Out("out", "o")}, "\"demultiply_count\": 3"),
                              Dl("g", "m", {Src("in", "b", "o")}, {Out("out", "o")},
                                 "\"gather_from_node\": \"b\", \"version\": 2")},
                             {Src("y", "g", "o")}, "\"demultiply_count\": 4"));
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->FindNode("request")->demultiply_count, 4);
  EXPECT_EQ(d->FindNode("a")->demultiply_count, -1);  // 0 is the deprecated spelling of -1
  EXPECT_EQ(d->FindNode("b")->demultiply_count, 3);
  EXPECT_EQ(d->FindNode("g")->gather_from, (std::set<std::string>{"b"}));
  EXPECT_EQ(d->FindNode("g")->model_version, 2);
  // "response" gathers every demultiplexer nobody gathers: request and a.
  EXPECT_EQ(d->FindNode("response")->gather_from, (std::set<std::string>{"a", "request"}));
}

TEST(PipelineDefinitionTest, EmptyDemultiplexSetting) {
  auto plain = ParseOne(Pipeline("p", {"x"}, {}, {Src("y", "request", "x")}));
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->empty_demultiplex(), EmptyDemultiplex::kError);
  auto opted = ParseOne(Pipeline("p", {"x"}, {}, {Src("y", "request", "x")}, R"("empty_demultiplex":"empty_result")"));
  ASSERT_TRUE(opted.ok());
  EXPECT_EQ(opted->empty_demultiplex(), EmptyDemultiplex::kEmptyResult);
}

TEST(PipelineDefinitionTest, DuplicatePipelineInputIsIgnored) {
  auto d = ParseOne(Pipeline("p", {"x", "x"}, {}, {Src("y", "request", "x")}));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->inputs(), (std::vector<std::string>{"x"}));
}

TEST(PipelineDefinitionTest, UnsupportedNodeType) {
  std::string node = R"({"name":"a","type":"python","inputs":[],"outputs":[]})";
  auto d = ParseOne(Pipeline("p", {"x"}, {node}, {Src("y", "request", "x")}));
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(d.status().message(), "Unsupported node type: python");
}

TEST(PipelineDefinitionTest, SecondPipelineWithSameNameIsSkipped) {
  auto all = ParsePipelineDefinitions("[" + Pipeline("p", {"x"}, {}, {Src("y", "request", "x")}) + "," +
                                      Pipeline("p", {"z"}, {}, {Src("y", "request", "z")}) + "]");
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ((*all)[0].inputs(), (std::vector<std::string>{"x"}));
}

TEST(PipelineDefinitionTest, EmptyTextHasNoPipelines) {
  auto all = ParsePipelineDefinitions("");
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(all->empty());
}

TEST(PipelineDefinitionTest, MalformedTextIsInvalidArgument) {
  auto all = ParsePipelineDefinitions(R"([{"name": 3}])");
  ASSERT_FALSE(all.ok());
  EXPECT_EQ(all.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(all.status().message(), "Invalid pipeline_config_list: /0/name must be a string");
}

}  // namespace
}  // namespace tessera::pipeline
