#include "pipeline/pipeline_validator.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "pipeline/pipeline_test_util.h"

namespace tessera::pipeline {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using namespace testing;  // NOLINT: the JSON builders (tessera::pipeline::testing)

class PipelineValidatorTest : public ::testing::Test {
 protected:
  Result<ValidatedPipeline> Validate(const std::string& pipeline_json) {
    auto all = ParsePipelineDefinitions("[" + pipeline_json + "]");
    if (!all.ok()) return all.status();
    return ValidatePipeline((*all)[0], deps_);
  }
  // The error of an invalid pipeline; fails the test when it validates.
  Status Error(const std::string& pipeline_json) {
    auto result = Validate(pipeline_json);
    EXPECT_FALSE(result.ok());
    return result.ok() ? Status::Ok() : result.status();
  }

  // request.x -> a (m1) -> response.y
  std::string Chain(const std::string& model = "m1") {
    return Pipeline("p", {"x"}, {Dl("a", model, {Src("in", "request", "x")}, {Out("out", "o")})},
                    {Src("y", "a", "o")});
  }

  FakeDependencies deps_;
};

// --- Valid pipelines and their metadata ------------------------------------

TEST_F(PipelineValidatorTest, ChainOfTwoModels) {
  auto p = Validate(Pipeline("p", {"x"},
                             {Dl("a", "m1", {Src("in", "request", "x")}, {Out("out", "o")}),
                              Dl("b", "m_dyn", {Src("in", "a", "o")}, {Out("out", "o")})},
                             {Src("y", "b", "o")}));
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->name, "p");
  EXPECT_EQ(p->inputs, (std::vector<TensorInfo>{T("x", {1, 10})}));
  EXPECT_EQ(p->outputs, (std::vector<TensorInfo>{T("y", {1, -1})}));
  EXPECT_TRUE(p->custom_nodes.empty());
}

TEST_F(PipelineValidatorTest, MetadataIsSortedByName) {
  auto p = Validate(Pipeline("p", {"x"}, {Dl("a", "m1", {Src("in", "request", "x")}, {Out("out", "o")})},
                             {Src("z", "a", "o"), Src("b", "a", "o")}));
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->outputs, (std::vector<TensorInfo>{T("b", {1, 10}), T("z", {1, 10})}));
}

TEST_F(PipelineValidatorTest, PassthroughIsUnspecified) {
  auto p = Validate(Pipeline("p", {"x"}, {}, {Src("y", "request", "x")}));
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->inputs, (std::vector<TensorInfo>{T("x", {}, DataType::kInvalid)}));
  EXPECT_EQ(p->outputs, (std::vector<TensorInfo>{T("y", {}, DataType::kInvalid)}));
}

TEST_F(PipelineValidatorTest, CustomNodeIsInitializedWithItsParams) {
  auto p = Validate(Pipeline("p", {"x"},
                             {Custom("add", "add_sub", R"({"add_value":"1"})", {Src("input_numbers", "request", "x")},
                                     {Out("output_numbers", "n")}),
                              Dl("a", "m1", {Src("in", "add", "n")}, {Out("out", "o")})},
                             {Src("y", "a", "o")}));
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  ASSERT_EQ(p->custom_nodes.count("add"), 1u);
  EXPECT_EQ(p->custom_nodes.at("add")->node_name(), "add");
  EXPECT_EQ(p->inputs, (std::vector<TensorInfo>{T("x", {1, -1})}));
}

TEST_F(PipelineValidatorTest, IntersectsInputMetadataOfSeveralConsumers) {
  auto p = Validate(Pipeline("p", {"x"},
                             {Dl("a", "m1", {Src("in", "request", "x")}, {Out("out", "o")}),
                              Dl("b", "m_dyn", {Src("in", "request", "x")}, {Out("out", "o")})},
                             {Src("y", "a", "o"), Src("z", "b", "o")}));
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->inputs, (std::vector<TensorInfo>{T("x", {1, 10})}));
}

TEST_F(PipelineValidatorTest, ImplicitGatherPrependsCount) {
  auto p = Validate(Pipeline("p", {"x"},
                             {Dl("s", "split3", {Src("in", "request", "x")}, {Out("out", "o")}, "\"demultiply_count\":3"),
                              Dl("a", "m1", {Src("in", "s", "o")}, {Out("out", "o")})},
                             {Src("y", "a", "o"), Src("shards", "s", "o")}));
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  // A demultiplexer's own output loses its dim 0 before the gather dim is added.
  EXPECT_EQ(p->outputs, (std::vector<TensorInfo>{T("shards", {3, 1, 10}), T("y", {3, 1, 10})}));
}

TEST_F(PipelineValidatorTest, DynamicDemultiplexerGathersToAnyDim) {
  auto p = Validate(Pipeline("p", {"x"},
                             {Dl("s", "split_any", {Src("in", "request", "x")}, {Out("out", "o")},
                                 "\"demultiply_count\":-1"),
                              Dl("a", "m1", {Src("in", "s", "o")}, {Out("out", "o")})},
                             {Src("y", "a", "o")}));
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->outputs, (std::vector<TensorInfo>{T("y", {-1, 1, 10})}));
}

TEST_F(PipelineValidatorTest, ExplicitGatherNodeTakesStackedInput) {
  auto p = Validate(Pipeline("p", {"x"},
                             {Dl("s", "split3", {Src("in", "request", "x")}, {Out("out", "o")}, "\"demultiply_count\":3"),
                              Dl("a", "m1", {Src("in", "s", "o")}, {Out("out", "o")}),
                              Dl("g", "gather3", {Src("in", "a", "o")}, {Out("out", "o")}, "\"gather_from_node\":\"s\"")},
                             {Src("y", "g", "o")}));
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->outputs, (std::vector<TensorInfo>{T("y", {3, 1, 10})}));
}

TEST_F(PipelineValidatorTest, EntryDemultiplexingAddsLeadingDim) {
  auto p = Validate(Pipeline("p", {"x"}, {Dl("a", "m1", {Src("in", "request", "x")}, {Out("out", "o")})},
                             {Src("y", "a", "o")}, "\"demultiply_count\": -1"));
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->inputs, (std::vector<TensorInfo>{T("x", {-1, 1, 10})}));
  EXPECT_EQ(p->outputs, (std::vector<TensorInfo>{T("y", {-1, 1, 10})}));
}

// --- One test per rule, in OVMS's order -------------------------------------

TEST_F(PipelineValidatorTest, NameOccupiedByModel) {
  Status s = Error(Pipeline("m1", {"x"}, {}, {Src("y", "request", "x")}));
  EXPECT_EQ(s.code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(s.message(), "Pipeline has the same name as model; pipeline: m1; the name is occupied by a model");
}

TEST_F(PipelineValidatorTest, LibraryNotLoaded) {
  Status s = Error(Pipeline("p", {"x"}, {Custom("c", "nolib", "{}", {Src("in", "request", "x")}, {Out("out", "o")})},
                            {Src("y", "c", "o")}));
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(), "Pipeline refers to incorrect library; pipeline: p; node: c refers to invalid library: nolib "
                         "(Custom node library not found)");
}

TEST_F(PipelineValidatorTest, InitializeFails) {
  Status s = Error(Pipeline("p", {"x"},
                            {Custom("c", "bad", R"({"mode":"init_fail"})", {Src("in", "request", "x")},
                                    {Out("out", "o")})},
                            {Src("y", "c", "o")}));
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(),
              StartsWith("Failure during custom node library initialization; pipeline: p; node: c; library: "));
}

TEST_F(PipelineValidatorTest, SeveralDemultiplexersWithADynamicOne) {
  Status s = Error(Pipeline("p", {"x"},
                            {Dl("s", "split_any", {Src("in", "request", "x")}, {Out("out", "o")},
                                "\"demultiply_count\":-1"),
                             Dl("t", "split3", {Src("in", "s", "o")}, {Out("out", "o")}, "\"demultiply_count\":3")},
                            {Src("y", "t", "o")}));
  EXPECT_EQ(s.code(), StatusCode::kUnimplemented);
  EXPECT_EQ(s.message(), "Functionality not implemented; pipeline: p; PipelineDefinition: p has multiple "
                         "demultiplexers with at least one dynamic.");
}

TEST_F(PipelineValidatorTest, DuplicateNodeName) {
  Status s = Error(Pipeline("p", {"x"},
                            {Dl("a", "m1", {Src("in", "request", "x")}, {Out("out", "o")}),
                             Dl("a", "m1", {Src("in", "request", "x")}, {Out("out", "o")})},
                            {Src("y", "a", "o")}));
  EXPECT_EQ(s.message(), "Pipeline definition has multiple nodes with the same name; pipeline: p; "
                         "PipelineDefinition: p has multiple nodes with name: a");
}

TEST_F(PipelineValidatorTest, NodeNamedRequestClashesWithEntry) {
  Status s = Error(Pipeline("p", {"x"}, {Dl("request", "m1", {}, {Out("out", "o")})}, {Src("y", "request", "o")}));
  EXPECT_THAT(s.message(), StartsWith("Pipeline definition has multiple nodes with the same name; pipeline: p;"));
}

TEST_F(PipelineValidatorTest, MissingModel) {
  Status s = Error(Chain("nomodel"));
  EXPECT_EQ(s.message(), "Pipeline definition has reference to missing model; pipeline: p; "
                         "Missing model: nomodel; version: 0");
}

TEST_F(PipelineValidatorTest, AutoBatchOrShapeForbidden) {
  Status s = Error(Chain("auto_model"));
  EXPECT_EQ(s.message(), "Value of provided parameter is forbidden; pipeline: p; Node name: a used model name: "
                         "auto_model with batch/shape parameter set to 'auto' which is forbidden. Use dynamic shape.");
}

TEST_F(PipelineValidatorTest, CustomNodeMetadataFails) {
  Status s = Error(Pipeline("p", {"x"},
                            {Custom("c", "bad", R"({"mode":"metadata_fail"})", {Src("in", "request", "x")},
                                    {Out("out", "o")})},
                            {Src("y", "c", "o")}));
  EXPECT_THAT(s.message(), StartsWith("Custom node failed on metadata call; pipeline: p; node: c; library: "));
  EXPECT_THAT(s.message(), HasSubstr("call: getInputsInfo; code: 2"));
}

TEST_F(PipelineValidatorTest, DemultiplexerWithTooFewDims) {
  Status s = Error(Pipeline("p", {"x"},
                            {Dl("a", "m1", {Src("in", "request", "x")}, {Out("out", "o")}, "\"demultiply_count\":1")},
                            {Src("y", "a", "o")}));
  EXPECT_EQ(s.message(), "Pipeline has not enough shape dimensions to demultiply; pipeline: p; Node: a demultiply "
                         "cannot occur due to not enough shape dimensions: 2");
}

TEST_F(PipelineValidatorTest, DemultiplyCountDoesNotMatchDimZero) {
  Status s = Error(Pipeline("p", {"x"},
                            {Dl("a", "split3", {Src("in", "request", "x")}, {Out("out", "o")}, "\"demultiply_count\":4")},
                            {Src("y", "a", "o")}));
  EXPECT_EQ(s.message(), "Demultiplication count does not match tensor first dimension; pipeline: p; "
                         "Demultiply count: 4 of node: a does not match tensor first dimension value: 3");
}

TEST_F(PipelineValidatorTest, GatherFromMissingNode) {
  Status s = Error(Pipeline("p", {"x"},
                            {Dl("a", "m1", {Src("in", "request", "x")}, {Out("out", "o")}, "\"gather_from_node\":\"zz\"")},
                            {Src("y", "a", "o")}));
  EXPECT_EQ(s.message(), "Gather node refers to not existing node; pipeline: p; Node name: a, have gather_from: zz "
                         "which does not exist in pipeline");
}

TEST_F(PipelineValidatorTest, GatherFromNonDemultiplexer) {
  Status s = Error(Pipeline("p", {"x"},
                            {Dl("a", "m1", {Src("in", "request", "x")}, {Out("out", "o")}),
                             Dl("b", "m1", {Src("in", "a", "o")}, {Out("out", "o")}, "\"gather_from_node\":\"a\"")},
                            {Src("y", "b", "o")}));
  EXPECT_EQ(s.message(), "Gather node refers to node that isn't demultiplexer; pipeline: p; Node name: b, have "
                         "gather_from: a which is not demultiplexer node");
}

TEST_F(PipelineValidatorTest, MissingDependencyNode) {
  Status s = Error(Pipeline("p", {"x"}, {Dl("a", "m1", {Src("in", "ghost", "x")}, {Out("out", "o")})},
                            {Src("y", "a", "o")}));
  EXPECT_EQ(s.message(), "Pipeline definition has reference to missing node; pipeline: p; Node (name: a) is "
                         "connected to missing dependency node (name: ghost)");
}

TEST_F(PipelineValidatorTest, ResponseUsedAsSource) {
  Status s = Error(Pipeline("p", {"x"}, {Dl("a", "m1", {Src("in", "response", "y")}, {Out("out", "o")})},
                            {Src("y", "a", "o")}));
  EXPECT_EQ(s.message(), "Pipeline definition has response node used as dependency node; pipeline: p; "
                         "Exit node used as dependency node");
}

TEST_F(PipelineValidatorTest, MissingDataSource) {
  Status s = Error(Pipeline("p", {"x"}, {Dl("a", "m1", {Src("in", "request", "nope")}, {Out("out", "o")})},
                            {Src("y", "a", "o")}));
  EXPECT_EQ(s.message(), "Pipeline definition has reference to missing data source; pipeline: p; Missing "
                         "dependency node: request data item: nope for dependent node: a");
}

TEST_F(PipelineValidatorTest, AliasOfMissingModelOutput) {
  Status s = Error(Pipeline("p", {"x"},
                            {Dl("a", "m1", {Src("in", "request", "x")}, {Out("no_such_output", "o")}),
                             Dl("b", "m1", {Src("in", "a", "o")}, {Out("out", "o")})},
                            {Src("y", "b", "o")}));
  EXPECT_EQ(s.message(), "Pipeline definition has reference to missing model output; pipeline: p; Missing output: "
                         "no_such_output of dependency node: a; data source: o");
}

TEST_F(PipelineValidatorTest, ConnectionToMissingModelInput) {
  Status s = Error(Pipeline("p", {"x"}, {Dl("a", "m1", {Src("wrong", "request", "x")}, {Out("out", "o")})},
                            {Src("y", "a", "o")}));
  EXPECT_EQ(s.message(), "Pipeline definition has connection to non existing model input; pipeline: p; Node: a "
                         "has no input with name: wrong");
}

TEST_F(PipelineValidatorTest, InputFedTwice) {
  Status s = Error(Pipeline("p", {"x", "z"},
                            {Dl("a", "m1", {Src("in", "request", "x"), Src("in", "request", "z")}, {Out("out", "o")})},
                            {Src("y", "a", "o")}));
  EXPECT_EQ(s.message(), "Pipeline definition has multiple connections to the same input of underlying model; "
                         "pipeline: p; Node: a input name: in is connected to more than one data source");
}

TEST_F(PipelineValidatorTest, InputLeftUnconnected) {
  Status s = Error(Pipeline("p", {"x"}, {Dl("a", "two_in", {Src("a", "request", "x")}, {Out("out", "o")})},
                            {Src("y", "a", "o")}));
  EXPECT_EQ(s.message(), "Pipeline definition does not have connections for all inputs of underlying models; "
                         "pipeline: p; Node: a has inputs: b not connected to any source");
}

TEST_F(PipelineValidatorTest, ShapeMismatchBetweenModels) {
  Status s = Error(Pipeline("p", {"x"},
                            {Dl("a", "m1", {Src("in", "request", "x")}, {Out("out", "o")}),
                             Dl("b", "m_wide", {Src("in", "a", "o")}, {Out("out", "o")})},
                            {Src("y", "b", "o")}));
  EXPECT_EQ(s.message(), "Invalid input shape; pipeline: p; Shape mismatch between: dependent node: b; input: in; "
                         "shape: (1,20) vs dependency node: a; output: out; shape: (1,10)");
}

TEST_F(PipelineValidatorTest, PrecisionMismatchBetweenModels) {
  Status s = Error(Pipeline("p", {"x"},
                            {Dl("a", "m1", {Src("in", "request", "x")}, {Out("out", "o")}),
                             Dl("b", "m_int", {Src("in", "a", "o")}, {Out("out", "o")})},
                            {Src("y", "b", "o")}));
  EXPECT_EQ(s.message(), "Invalid input precision; pipeline: p; Precision mismatch between: dependent node: b; "
                         "input: in; precision: INT32 vs dependency node: a; output: out; precision: FP32");
}

TEST_F(PipelineValidatorTest, StringsBetweenModels) {
  Status s = Error(Pipeline("p", {"x"},
                            {Dl("a", "m_str", {Src("in", "request", "x")}, {Out("out", "o")}),
                             Dl("b", "m_str", {Src("in", "a", "o")}, {Out("out", "o")})},
                            {Src("y", "b", "o")}));
  EXPECT_EQ(s.code(), StatusCode::kUnimplemented);
  EXPECT_THAT(s.message(), StartsWith("Functionality not implemented; pipeline: p; Connecting models with string "
                                      "precision is unsupported: dependent node: b"));
}

TEST_F(PipelineValidatorTest, EntryDemultiplexingOfStrings) {
  Status s = Error(Pipeline("p", {"x"}, {Dl("a", "m_str", {Src("in", "request", "x")}, {Out("out", "o")})},
                            {Src("y", "a", "o")}, "\"demultiply_count\": -1"));
  EXPECT_EQ(s.message(), "Demultiplication is not supported for string precision; pipeline: p; Demultiplication of "
                         "strings in unsupported. Node name: a");
}

TEST_F(PipelineValidatorTest, SelfLoop) {
  Status s = Error(Pipeline("p", {"x"},
                            {Dl("a", "two_in", {Src("a", "request", "x"), Src("b", "a", "o")}, {Out("out", "o")})},
                            {Src("y", "a", "o")}));
  EXPECT_EQ(s.message(), "Pipeline definition contains a cycle; pipeline: p; Node: a is connected to itself in "
                         "pipeline: p");
}

TEST_F(PipelineValidatorTest, Cycle) {
  Status s = Error(Pipeline("p", {"x"},
                            {Dl("a", "two_in", {Src("a", "request", "x"), Src("b", "b", "o")}, {Out("out", "o")}),
                             Dl("b", "m1", {Src("in", "a", "o")}, {Out("out", "o")})},
                            {Src("y", "b", "o")}));
  EXPECT_EQ(s.message(), "Pipeline definition contains a cycle; pipeline: p; In pipeline: p, following nodes "
                         "creates cycle: response, b");
}

TEST_F(PipelineValidatorTest, NodeNotReachingResponse) {
  Status s = Error(Pipeline("p", {"x"},
                            {Dl("a", "m1", {Src("in", "request", "x")}, {Out("out", "o")}),
                             Dl("b", "m1", {Src("in", "request", "x")}, {Out("out", "o")})},
                            {Src("y", "a", "o")}));
  EXPECT_EQ(s.message(), "Pipeline definition has unconnected nodes; pipeline: p; In pipeline: p, there are not "
                         "connected nodes");
}

TEST_F(PipelineValidatorTest, RequestNotRead) {
  Status s = Error(Pipeline("p", {"x"}, {Dl("a", "const", {}, {Out("out", "o")})}, {Src("y", "a", "o")}));
  EXPECT_EQ(s.message(), "Pipeline definition has unconnected nodes; pipeline: p; In pipeline: p, there are not "
                         "connected nodes");
}

TEST_F(PipelineValidatorTest, GatherNotInLifoOrder) {
  Status s = Error(Pipeline("p", {"x"},
                            {Dl("s", "split3", {Src("in", "request", "x")}, {Out("out", "o")}, "\"demultiply_count\":3"),
                             Dl("t", "split3", {Src("in", "s", "o")}, {Out("out", "o")}, "\"demultiply_count\":3"),
                             Dl("g", "gather3", {Src("in", "t", "o")}, {Out("out", "o")}, "\"gather_from_node\":\"s\"")},
                            {Src("y", "g", "o")}));
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(), "Demultiplexer and gather nodes are not in LIFO order; pipeline: p; In pipeline: p exists "
                         "path where after demultiplexer node: t there is gathering from different nodes: s.");
}

TEST_F(PipelineValidatorTest, PathsWithDifferentDemultiplyLevels) {
  // "a" feeds both the demultiplexed branch and a plain one that response
  // also reads: response gathers s, so the plain path reaches "a" at a
  // different level.
  Status s = Error(Pipeline("p", {"x"},
                            {Dl("a", "m1", {Src("in", "request", "x")}, {Out("out", "o")}),
                             Dl("s", "split3", {Src("in", "a", "o")}, {Out("out", "o")}, "\"demultiply_count\":3"),
                             Dl("b", "m1", {Src("in", "s", "o")}, {Out("out", "o")})},
                            {Src("y", "b", "o"), Src("z", "a", "o")}));
  EXPECT_THAT(s.message(), StartsWith("Demultiplexer and gather nodes are not in LIFO order; pipeline: p; In "
                                      "pipeline: p "));
}

TEST_F(PipelineValidatorTest, AmbiguousPipelineInput) {
  Status s = Error(Pipeline("p", {"x"},
                            {Dl("a", "m1", {Src("in", "request", "x")}, {Out("out", "o")}),
                             Dl("b", "m_wide", {Src("in", "request", "x")}, {Out("out", "o")})},
                            {Src("y", "a", "o"), Src("z", "b", "o")}));
  EXPECT_EQ(s.message(), "Multiple nodes connected to the same pipeline input require different tensor metadata; "
                         "pipeline: p; input: x; FP32 (1,10) vs FP32 (1,20) (node: b)");
}

}  // namespace
}  // namespace tessera::pipeline
