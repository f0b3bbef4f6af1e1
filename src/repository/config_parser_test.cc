#include "repository/config_parser.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "repository/config_schema.h"
#include "repository/testing/in_memory_file_system.h"

namespace tessera {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// Wraps model config bodies into a whole config.json.
std::string WithModels(const std::string& model_configs) {
  return R"({"model_config_list": [)" + model_configs + "]}";
}
std::string OneModel(const std::string& extra_keys) {
  return WithModels(R"({"config": {"name": "m", "base_path": "/models/m")" +
                    (extra_keys.empty() ? "" : ", " + extra_keys) + "}}");
}
// The error message of parsing `json`, or "OK".
std::string ErrorOf(const std::string& json) {
  auto result = ParseServerConfig(json, "/cfg");
  if (result.ok()) return "OK";
  EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument) << result.status().message();
  return result.status().message();
}

TEST(ConfigSchemaTest, BuiltInSchemasCompile) {
  EXPECT_TRUE(config_internal::ServerConfigSchema().valid());
  EXPECT_TRUE(config_internal::VersionPolicySchema().valid());
  EXPECT_TRUE(config_internal::PerInputSchema().valid());
  EXPECT_TRUE(config_internal::PluginConfigSchema().valid());
  EXPECT_TRUE(config_internal::DynamicBatchingSchema().valid());
}

TEST(ParseServerConfigTest, MinimalModelGetsDefaults) {
  auto config = ParseServerConfig(OneModel(""), "/cfg");
  ASSERT_TRUE(config.ok()) << config.status().message();
  ASSERT_EQ(config->models.size(), 1u);
  const ModelConfig& m = config->models[0];
  EXPECT_EQ(m.name, "m");
  EXPECT_EQ(m.base_path, "/models/m");
  EXPECT_FALSE(m.batch_size.has_value());
  EXPECT_TRUE(m.shape.empty());
  EXPECT_TRUE(m.layout.empty());
  EXPECT_EQ(m.version_policy.kind, VersionPolicy::Kind::kLatest);
  EXPECT_EQ(m.version_policy.num_versions, 1);
  EXPECT_EQ(m.nireq, 0);
  EXPECT_EQ(m.target_device, "CPU");
  EXPECT_TRUE(m.plugin_config.empty());
  EXPECT_FALSE(m.allow_cache);
  EXPECT_FALSE(m.stateful);
  EXPECT_EQ(m.max_queue_size, 0);
  EXPECT_FALSE(m.dynamic_batching.has_value());
  EXPECT_EQ(config->pipeline_config_json, "");
  EXPECT_EQ(config->metrics, MetricsConfig{});
}

TEST(ParseServerConfigTest, EveryKeyIsParsed) {
  const std::string json = R"json({
    "model_config_list": [
      {"config": {
        "name": "resnet",
        "base_path": "models/resnet/",
        "batch_size": "1:8",
        "shape": {"data": "(1,3,224,224)", "extra": "auto"},
        "layout": "NHWC:NCHW",
        "model_version_policy": {"specific": {"versions": [3, 1, 3]}},
        "nireq": 4,
        "target_device": "CPU",
        "plugin_config": {"NUM_STREAMS": "2", "N": 3, "F": 0.25, "B": false},
        "allow_cache": true,
        "stateful": true,
        "idle_sequence_cleanup": false,
        "low_latency_transformation": true,
        "max_sequence_number": 100
      }},
      {"config": {"name": "second", "base_path": "/abs/second", "batch_size": 16,
                  "shape": "(1,10)", "model_version_policy": {"all": {}}}},
      {"config": {"name": "third", "base_path": "s3://bucket/third",
                  "model_version_policy": {"latest": {"num_versions": 3}},
                  "graph_path": "g.pbtxt", "subconfig": "s.json",
                  "custom_loader_options": {"loader_name": "x"}}}
    ],
    "pipeline_config_list": [
      {"name": "pipe", "inputs": ["in"],
       "nodes": [{"name": "n1", "type": "DL model", "model_name": "resnet", "version": 1,
                  "inputs": [{"data": {"node_name": "request", "data_item": "in"}}],
                  "outputs": [{"data_item": "prob", "alias": "p"}],
                  "demultiply_count": 0}],
       "outputs": [{"out": {"node_name": "n1", "data_item": "p"}}]}
    ],
    "custom_node_library_config_list": [{"name": "lib", "base_path": "/lib.so"},
                                        {"name": "rel", "base_path": "libs/librel.so"},
                                        {"name": "esc", "base_path": "../libesc.so"}],
    "monitoring": {"metrics": {"enable": true, "metrics_list": ["ovms_requests_success"]}}
  })json";
  auto config = ParseServerConfig(json, "/etc/tessera");
  ASSERT_TRUE(config.ok()) << config.status().message();
  ASSERT_EQ(config->models.size(), 3u);

  const ModelConfig& a = config->models[0];
  EXPECT_EQ(a.name, "resnet");
  EXPECT_EQ(a.base_path, "/etc/tessera/models/resnet");
  EXPECT_EQ(a.batch_size, std::optional<std::string>("1:8"));
  EXPECT_FALSE(a.shape.whole_model.has_value());
  EXPECT_EQ(a.shape.per_input, (std::map<std::string, std::string>{{"data", "(1,3,224,224)"}, {"extra", "auto"}}));
  EXPECT_EQ(a.layout.whole_model, std::optional<std::string>("NHWC:NCHW"));
  EXPECT_TRUE(a.layout.per_input.empty());
  EXPECT_EQ(a.version_policy.kind, VersionPolicy::Kind::kSpecific);
  EXPECT_EQ(a.version_policy.versions, (std::vector<int64_t>{1, 3}));
  EXPECT_EQ(a.nireq, 4);
  EXPECT_EQ(a.target_device, "CPU");
  EXPECT_EQ(a.plugin_config, (std::map<std::string, std::string>{
                                 {"NUM_STREAMS", "2"}, {"N", "3"}, {"F", "0.25"}, {"B", "false"}}));
  EXPECT_TRUE(a.allow_cache);
  EXPECT_TRUE(a.stateful);

  const ModelConfig& b = config->models[1];
  EXPECT_EQ(b.base_path, "/abs/second");
  EXPECT_EQ(b.batch_size, std::optional<std::string>("16"));
  EXPECT_EQ(b.shape.whole_model, std::optional<std::string>("(1,10)"));
  EXPECT_EQ(b.version_policy.kind, VersionPolicy::Kind::kAll);

  EXPECT_EQ(config->custom_node_libraries,
            (std::vector<CustomNodeLibraryConfig>{{"lib", "/lib.so"},
                                                  {"rel", "/etc/tessera/libs/librel.so"},
                                                  {"esc", "../libesc.so"}}));

  const ModelConfig& c = config->models[2];
  EXPECT_EQ(c.base_path, "s3://bucket/third");
  EXPECT_EQ(c.version_policy.kind, VersionPolicy::Kind::kLatest);
  EXPECT_EQ(c.version_policy.num_versions, 3);

  EXPECT_EQ(config->pipeline_config_json,
            R"([{"name":"pipe","inputs":["in"],"nodes":[{"name":"n1","type":"DL model","model_name":"resnet",)"
            R"("version":1,"inputs":[{"data":{"node_name":"request","data_item":"in"}}],)"
            R"("outputs":[{"data_item":"prob","alias":"p"}],"demultiply_count":0}],)"
            R"("outputs":[{"out":{"node_name":"n1","data_item":"p"}}]}])");
  EXPECT_TRUE(config->metrics.enable);
  EXPECT_EQ(config->metrics.metrics_list, (std::vector<std::string>{"ovms_requests_success"}));
}

TEST(ParseServerConfigTest, Utf8ByteOrderMarkIsSkipped) {
  auto config = ParseServerConfig("\xEF\xBB\xBF" + OneModel(""), "/cfg");
  ASSERT_TRUE(config.ok()) << config.status().message();
  EXPECT_EQ(config->models[0].name, "m");
}

TEST(ParseServerConfigTest, EmptyModelListIsValid) {
  auto config = ParseServerConfig(R"({"model_config_list": []})", "/cfg");
  ASSERT_TRUE(config.ok());
  EXPECT_TRUE(config->models.empty());
}

TEST(ParseServerConfigTest, BasePathsAreResolvedAndNormalised) {
  auto config = ParseServerConfig(
      WithModels(R"({"config": {"name": "a", "base_path": "./x/../y//z/"}},)"
                 R"({"config": {"name": "b", "base_path": "/abs/./p/"}},)"
                 R"({"config": {"name": "c", "base_path": "../up"}})"),
      "/etc/cfg/");
  ASSERT_TRUE(config.ok()) << config.status().message();
  EXPECT_EQ(config->models[0].base_path, "/etc/cfg/y/z");
  EXPECT_EQ(config->models[1].base_path, "/abs/p");
  EXPECT_EQ(config->models[2].base_path, "/etc/up");
}

TEST(ParseServerConfigTest, RelativeConfigDirUsesCurrentDirectory) {
  auto config = ParseServerConfig(OneModel("").replace(OneModel("").find("/models/m"), 9, "rel"), "");
  ASSERT_TRUE(config.ok()) << config.status().message();
  EXPECT_EQ(config->models[0].base_path, (std::filesystem::current_path() / "rel").string());
}

TEST(ParseServerConfigTest, IntegerBatchSizeZeroMeansModelDefault) {
  auto config = ParseServerConfig(OneModel(R"("batch_size": 0)"), "/cfg");
  ASSERT_TRUE(config.ok());
  EXPECT_FALSE(config->models[0].batch_size.has_value());
  config = ParseServerConfig(OneModel(R"("batch_size": "auto")"), "/cfg");
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->models[0].batch_size, std::optional<std::string>("auto"));
}

TEST(ParseServerConfigTest, EmptyTargetDeviceMeansCpu) {
  auto config = ParseServerConfig(OneModel(R"("target_device": "")"), "/cfg");
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->models[0].target_device, "CPU");
}

TEST(ParseServerConfigTest, MonitoringWithoutListKeepsDefaults) {
  auto config = ParseServerConfig(R"({"model_config_list": [], "monitoring": {"metrics": {"enable": false}}})", "/c");
  ASSERT_TRUE(config.ok());
  EXPECT_FALSE(config->metrics.enable);
  EXPECT_TRUE(config->metrics.metrics_list.empty());
}

TEST(ParseServerConfigTest, SyntaxErrorNamesOffsetLineAndColumn) {
  EXPECT_EQ(ErrorOf("{\n  \"model_config_list\": [\n  }"),
            "Invalid JSON in config: Invalid value at offset 29 (line 3, column 3)");
  EXPECT_EQ(ErrorOf(""), "Invalid JSON in config: The document is empty at offset 0 (line 1, column 1)");
  EXPECT_EQ(ErrorOf(R"({"model_config_list": []} x)"),
            "Invalid JSON in config: The document root must not be followed by other values at offset 26 "
            "(line 1, column 27)");
}

TEST(ParseServerConfigTest, NestingIsBoundedAt64Levels) {
  // The object, the list and 62 levels inside it: 64, valid JSON.
  const std::string list = R"({"model_config_list": )";
  std::string at_limit = list + "[" + std::string(62, '[') + std::string(62, ']') + "]}";
  EXPECT_EQ(ErrorOf(at_limit).find("Invalid JSON"), std::string::npos) << ErrorOf(at_limit);
  // Level 65 opens at offset list.size() + 63.
  std::string over = list + "[" + std::string(63, '[') + std::string(63, ']') + "]}";
  const std::string where = std::to_string(list.size() + 63);
  EXPECT_EQ(ErrorOf(over), "Invalid JSON in config: nesting deeper than 64 levels at offset " +
                               where + " (line 1, column " + std::to_string(list.size() + 64) + ")");
  EXPECT_EQ(ErrorOf(std::string(100000, '[') + std::string(100000, ']')),
            "Invalid JSON in config: nesting deeper than 64 levels at offset 64 (line 1, column 65)");
  std::string objects;
  for (int i = 0; i < 1000000; ++i) objects += R"({"a":)";
  EXPECT_EQ(ErrorOf(objects),
            "Invalid JSON in config: nesting deeper than 64 levels at offset 320 (line 1, column 321)");
  // The JSON flag values go through the same parser.
  EXPECT_EQ(ParseVersionPolicyJson(std::string(100000, '{')).status(),
            InvalidArgument("not valid JSON: Missing a name for object member at offset 1 (line 1, column 2)"));
  EXPECT_EQ(ParsePluginConfigJson(std::string(100000, '[')).status(),
            InvalidArgument("not valid JSON: nesting deeper than 64 levels at offset 64 (line 1, column 65)"));
}

TEST(ParseServerConfigTest, TopLevelErrors) {
  EXPECT_EQ(ErrorOf("[]"), "Invalid config: the configuration must be an object (got an array)");
  EXPECT_EQ(ErrorOf("{}"), "Invalid config: /model_config_list is required but missing");
  EXPECT_EQ(ErrorOf(R"({"model_config_list": [], "models": 1})"),
            "Invalid config: /models is not allowed (allowed: model_config_list, pipeline_config_list, "
            "custom_node_library_config_list, monitoring)");
  EXPECT_EQ(ErrorOf(R"({"model_config_list": {}})"),
            "Invalid config: /model_config_list must be an array (got an object)");
}

TEST(ParseServerConfigTest, ModelEntryErrors) {
  EXPECT_EQ(ErrorOf(WithModels(R"("m")")),
            R"(Invalid config: /model_config_list/0 must be an object (got string "m"))");
  EXPECT_EQ(ErrorOf(WithModels(R"({"name": "m"})")),
            "Invalid config: /model_config_list/0/name is not allowed (allowed: config)");
  EXPECT_EQ(ErrorOf(WithModels("{}")), "Invalid config: /model_config_list/0/config is required but missing");
  EXPECT_EQ(ErrorOf(WithModels(R"({"config": {"base_path": "/x"}})")),
            "Invalid config: /model_config_list/0/config/name is required but missing");
  EXPECT_EQ(ErrorOf(WithModels(R"({"config": {"name": "m"}})")),
            "Invalid config: /model_config_list/0/config/base_path is required but missing");
  EXPECT_EQ(ErrorOf(WithModels(R"({"config": {"name": "", "base_path": "/x"}})")),
            "Invalid config: /model_config_list/0/config/name must not be empty");
  EXPECT_EQ(ErrorOf(WithModels(R"({"config": {"name": 5, "base_path": "/x"}})")),
            "Invalid config: /model_config_list/0/config/name must be a string (got integer 5)");
}

TEST(ParseServerConfigTest, UnknownModelKeyIsNamedWithItsPath) {
  std::string error = ErrorOf(OneModel(R"("nirq": 1)"));
  EXPECT_THAT(error, StartsWith("Invalid config: /model_config_list/0/config/nirq is not allowed (allowed: "
                                "name, base_path, batch_size, nireq, "));
  EXPECT_THAT(error, HasSubstr("model_version_policy, shape, layout, plugin_config, dynamic_batching)"));
  // The second model is pointed at, not the first.
  EXPECT_THAT(ErrorOf(WithModels(R"({"config": {"name": "a", "base_path": "/a"}},)"
                                 R"({"config": {"name": "b", "base_path": "/b", "Nireq": 2}})")),
              StartsWith("Invalid config: /model_config_list/1/config/Nireq is not allowed"));
}

TEST(ParseServerConfigTest, ValueTypeAndRangeErrors) {
  EXPECT_EQ(ErrorOf(OneModel(R"("nireq": "4")")),
            R"(Invalid config: /model_config_list/0/config/nireq must be an integer (got string "4"))");
  EXPECT_EQ(ErrorOf(OneModel(R"("nireq": 1.5)")),
            "Invalid config: /model_config_list/0/config/nireq must be an integer (got number 1.5)");
  EXPECT_EQ(ErrorOf(OneModel(R"("nireq": -1)")),
            "Invalid config: /model_config_list/0/config/nireq must be >= 0 (got integer -1)");
  EXPECT_EQ(ErrorOf(OneModel(R"("nireq": 3000000000)")),
            "Invalid config: /model_config_list/0/config/nireq must be <= 2147483647 (got integer 3000000000)");
  EXPECT_EQ(ErrorOf(OneModel(R"("batch_size": true)")),
            "Invalid config: /model_config_list/0/config/batch_size must be an integer or a string (got boolean true)");
  EXPECT_EQ(ErrorOf(OneModel(R"("batch_size": -2)")),
            "Invalid config: /model_config_list/0/config/batch_size must be >= -1 (got integer -2)");
  EXPECT_EQ(ErrorOf(OneModel(R"("batch_size": "eight")")),
            R"(Invalid config: /model_config_list/0/config/batch_size must be a positive integer, a range like 1:8, -1 or auto (got "eight"))");
  EXPECT_EQ(ErrorOf(OneModel(R"("batch_size": "8:1")")),
            R"(Invalid config: /model_config_list/0/config/batch_size must be a positive integer, a range like 1:8, -1 or auto (got "8:1"))");
  EXPECT_EQ(ErrorOf(OneModel(R"("target_device": ["CPU"])")),
            "Invalid config: /model_config_list/0/config/target_device must be a string (got an array)");
  EXPECT_EQ(ErrorOf(OneModel(R"("allow_cache": "yes")")),
            R"(Invalid config: /model_config_list/0/config/allow_cache must be a boolean (got string "yes"))");
  EXPECT_EQ(ErrorOf(OneModel(R"("stateful": 1)")),
            "Invalid config: /model_config_list/0/config/stateful must be a boolean (got integer 1)");
  EXPECT_EQ(ErrorOf(OneModel(R"("max_sequence_number": -5, "stateful": true)")),
            "Invalid config: /model_config_list/0/config/max_sequence_number must be >= 0 (got integer -5)");
}

TEST(ParseServerConfigTest, ShapeAndLayoutErrors) {
  EXPECT_EQ(ErrorOf(OneModel(R"("shape": 5)")),
            "Invalid config: /model_config_list/0/config/shape must be a string or an object (got integer 5)");
  EXPECT_EQ(ErrorOf(OneModel(R"("shape": {"x": [1, 2]})")),
            "Invalid config: /model_config_list/0/config/shape/x must be a string (got an array)");
  EXPECT_EQ(ErrorOf(OneModel(R"("layout": {"x": 1})")),
            "Invalid config: /model_config_list/0/config/layout/x must be a string (got integer 1)");
}

TEST(ParseServerConfigTest, PluginConfigErrors) {
  EXPECT_EQ(ErrorOf(OneModel(R"("plugin_config": "NUM_STREAMS=1")")),
            R"(Invalid config: /model_config_list/0/config/plugin_config must be an object (got string "NUM_STREAMS=1"))");
  EXPECT_EQ(ErrorOf(OneModel(R"("plugin_config": {"A": {"b": 1}})")),
            "Invalid config: /model_config_list/0/config/plugin_config/A must be a string, a number or a boolean "
            "(got an object)");
  EXPECT_EQ(ErrorOf(OneModel(R"("plugin_config": {"A": null})")),
            "Invalid config: /model_config_list/0/config/plugin_config/A must be a string, a number or a boolean "
            "(got null)");
}

TEST(ParseServerConfigTest, VersionPolicyErrors) {
  const std::string p = "Invalid config: /model_config_list/0/config/model_version_policy";
  EXPECT_EQ(ErrorOf(OneModel(R"("model_version_policy": {})")),
            p + " must have exactly one of the keys: all, latest, specific");
  EXPECT_EQ(ErrorOf(OneModel(R"("model_version_policy": {"all": {}, "latest": {"num_versions": 1}})")),
            p + " must have exactly one of the keys: all, latest, specific");
  EXPECT_EQ(ErrorOf(OneModel(R"("model_version_policy": {"newest": {}})")),
            p + "/newest is not allowed (allowed: all, latest, specific)");
  EXPECT_EQ(ErrorOf(OneModel(R"("model_version_policy": "all")")), p + R"( must be an object (got string "all"))");
  EXPECT_EQ(ErrorOf(OneModel(R"("model_version_policy": {"all": {"x": 1}})")), p + "/all/x is not allowed");
  EXPECT_EQ(ErrorOf(OneModel(R"("model_version_policy": {"latest": {}})")),
            p + "/latest/num_versions is required but missing");
  EXPECT_EQ(ErrorOf(OneModel(R"("model_version_policy": {"latest": {"num_versions": 0}})")),
            p + "/latest/num_versions must be >= 1 (got integer 0)");
  EXPECT_EQ(ErrorOf(OneModel(R"("model_version_policy": {"latest": {"num_versions": 1, "n": 2}})")),
            p + "/latest/n is not allowed (allowed: num_versions)");
  EXPECT_EQ(ErrorOf(OneModel(R"("model_version_policy": {"specific": {"versions": 1}})")),
            p + "/specific/versions must be an array (got integer 1)");
  EXPECT_EQ(ErrorOf(OneModel(R"("model_version_policy": {"specific": {"versions": [1, 0]}})")),
            p + "/specific/versions/1 must be >= 1 (got integer 0)");
  EXPECT_EQ(ErrorOf(OneModel(R"("model_version_policy": {"specific": {"versions": [9223372036854775808]}})")),
            p + "/specific/versions/0 must be <= 9223372036854775807 (got integer 9223372036854775808)");
}

TEST(ParseServerConfigTest, StatefulOnlyKeysNeedStateful) {
  EXPECT_EQ(ErrorOf(OneModel(R"("low_latency_transformation": true)")),
            R"(Invalid config: /model_config_list/0/config/low_latency_transformation requires "stateful": true)");
  EXPECT_EQ(ErrorOf(OneModel(R"("max_sequence_number": 5, "stateful": false)")),
            R"(Invalid config: /model_config_list/0/config/max_sequence_number requires "stateful": true)");
  EXPECT_EQ(ErrorOf(OneModel(R"("idle_sequence_cleanup": true, "stateful": true)")), "OK");
}

TEST(ParseServerConfigTest, DuplicateModelNames) {
  EXPECT_EQ(ErrorOf(WithModels(R"({"config": {"name": "a", "base_path": "/a"}},)"
                               R"({"config": {"name": "b", "base_path": "/b"}},)"
                               R"({"config": {"name": "a", "base_path": "/c"}})")),
            "Invalid config: duplicate model name 'a' at /model_config_list/0 and /model_config_list/2");
}

TEST(ParseServerConfigTest, MonitoringErrors) {
  EXPECT_EQ(ErrorOf(R"({"model_config_list": [], "monitoring": {}})"),
            "Invalid config: /monitoring/metrics is required but missing");
  EXPECT_EQ(ErrorOf(R"({"model_config_list": [], "monitoring": {"metrics": {}}})"),
            "Invalid config: /monitoring/metrics/enable is required but missing");
  EXPECT_EQ(ErrorOf(R"({"model_config_list": [], "monitoring": {"metrics": {"enable": true, "metrics_list": [1]}}})"),
            "Invalid config: /monitoring/metrics/metrics_list/0 must be a string (got integer 1)");
  EXPECT_EQ(ErrorOf(R"({"model_config_list": [], "monitoring": {"metrics": {"enable": true, "port": 1}}})"),
            "Invalid config: /monitoring/metrics/port is not allowed (allowed: enable, metrics_list)");
}

std::string WithPipeline(const std::string& pipeline) {
  return R"({"model_config_list": [{"config": {"name": "m", "base_path": "/m"}}], "pipeline_config_list": [)" +
         pipeline + "]}";
}
const char kNode[] =
    R"({"name": "n", "type": "DL model", "model_name": "m", "inputs": [], "outputs": []})";

TEST(ParseServerConfigTest, PipelineErrors) {
  EXPECT_EQ(ErrorOf(WithPipeline(R"({"name": "p", "inputs": [], "outputs": []})")),
            "Invalid config: /pipeline_config_list/0/nodes is required but missing");
  EXPECT_EQ(ErrorOf(WithPipeline(R"({"name": "p", "inputs": [], "outputs": [], "nodes": [)"
                                 R"({"name": "n", "type": "python", "inputs": [], "outputs": []}]})")),
            R"(Invalid config: /pipeline_config_list/0/nodes/0/type must be one of: DL model, custom (got string "python"))");
  EXPECT_EQ(ErrorOf(WithPipeline(R"({"name": "p", "inputs": [], "outputs": [], "nodes": [)"
                                 R"({"name": "n", "type": "DL model", "inputs": [], "outputs": []}]})")),
            R"(Invalid config: /pipeline_config_list/0/nodes/0/model_name is required for a node of type "DL model")");
  EXPECT_EQ(ErrorOf(WithPipeline(R"({"name": "p", "inputs": [], "outputs": [], "nodes": [)"
                                 R"({"name": "n", "type": "custom", "model_name": "m", "library_name": "l", )"
                                 R"("inputs": [], "outputs": []}]})")),
            R"(Invalid config: /pipeline_config_list/0/nodes/0/model_name is not allowed for a node of type "custom")");
  EXPECT_EQ(ErrorOf(WithPipeline(R"({"name": "p", "inputs": [], "nodes": [], "outputs": [{}]})")),
            "Invalid config: /pipeline_config_list/0/outputs/0 must have exactly one key");
  EXPECT_EQ(ErrorOf(WithPipeline(R"({"name": "p", "inputs": [], "nodes": [], "outputs": [{"o": {"node_name": "n"}}]})")),
            "Invalid config: /pipeline_config_list/0/outputs/0/o/data_item is required but missing");
  // A name used twice or taken by a model fails only that pipeline, later.
  EXPECT_TRUE(ParseServerConfig(WithPipeline(std::string(R"({"name": "p", "inputs": [], "outputs": [], "nodes": [)") +
                                             kNode + "]}," + R"({"name": "p", "inputs": [], "outputs": [], "nodes": []})"),
                                "/etc")
                  .ok());
  EXPECT_TRUE(ParseServerConfig(WithPipeline(R"({"name": "m", "inputs": [], "outputs": [], "nodes": []})"), "/etc").ok());
}

TEST(ParseServerConfigTest, EmptyDemultiplexSetting) {
  EXPECT_TRUE(ParseServerConfig(WithPipeline(R"({"name": "p", "inputs": [], "outputs": [], "nodes": [], )"
                                             R"("empty_demultiplex": "empty_result"})"),
                                "/etc")
                  .ok());
  EXPECT_EQ(ErrorOf(WithPipeline(R"({"name": "p", "inputs": [], "outputs": [], "nodes": [], )"
                                 R"("empty_demultiplex": "skip"})")),
            R"(Invalid config: /pipeline_config_list/0/empty_demultiplex must be one of: error, empty_result )"
            R"((got string "skip"))");
}

TEST(ParseServerConfigTest, CustomNodeLibraryErrors) {
  EXPECT_EQ(ErrorOf(R"({"model_config_list": [], "custom_node_library_config_list": [{"name": "l"}]})"),
            "Invalid config: /custom_node_library_config_list/0/base_path is required but missing");
}

TEST(ParseServerConfigTest, PointerTokensAreEscaped) {
  EXPECT_EQ(ErrorOf(OneModel(R"("shape": {"a/b~c": 1})")),
            "Invalid config: /model_config_list/0/config/shape/a~1b~0c must be a string (got integer 1)");
}

// --- Files --------------------------------------------------------------

TEST(LoadServerConfigFileTest, DirectoryMeansConfigJsonInside) {
  InMemoryFileSystem fs;
  fs.AddFile("/etc/t/config.json", R"({"model_config_list": [{"config": {"name": "m", "base_path": "m"}}]})");
  auto config = LoadServerConfigFile(fs, "/etc/t");
  ASSERT_TRUE(config.ok()) << config.status().message();
  EXPECT_EQ(config->models[0].base_path, "/etc/t/m");
  auto same = LoadServerConfigFile(fs, "/etc/t/config.json");
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(*same, *config);
}

TEST(LoadServerConfigFileTest, MissingOrUnreadableFileIsNotFoundNamingThePath) {
  InMemoryFileSystem fs;
  auto missing = LoadServerConfigFile(fs, "/nowhere/cfg.json");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status(), NotFound("Config file not found or cannot open.: /nowhere/cfg.json"));

  fs.AddDirectory("/empty");
  auto no_file = LoadServerConfigFile(fs, "/empty");
  EXPECT_EQ(no_file.status(), NotFound("Config file not found or cannot open.: /empty/config.json"));

  fs.AddFile("/locked.json", "{}");
  fs.SetReadError("/locked.json", Status(StatusCode::kPermissionDenied, "denied"));
  EXPECT_EQ(LoadServerConfigFile(fs, "/locked.json").status(),
            NotFound("Config file not found or cannot open.: /locked.json"));
}

TEST(LoadServerConfigFileTest, BadContentsReportTheParseError) {
  InMemoryFileSystem fs;
  fs.AddFile("/c.json", R"({"model_config_list": 1})");
  auto config = LoadServerConfigFile(fs, "/c.json");
  EXPECT_EQ(config.status(), InvalidArgument("Invalid config: /model_config_list must be an array (got integer 1)"));
}

TEST(ReadConfigFileTest, CarriesPathDirTextAndHash) {
  InMemoryFileSystem fs;
  fs.AddFile("/a/b/config.json", "{}");
  auto file = ReadConfigFile(fs, "/a/b/");
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(file->path, "/a/b/config.json");
  EXPECT_EQ(file->dir, "/a/b");
  EXPECT_EQ(file->text, "{}");
  EXPECT_EQ(file->hash, HashConfigText("{}"));
}

TEST(LoadServerConfigFileTest, ReadsFromLocalDisk) {
  std::filesystem::path dir = std::filesystem::temp_directory_path() / "tessera_config_parser_test";
  std::filesystem::create_directories(dir);
  {
    std::FILE* f = std::fopen((dir / "config.json").c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fputs(R"({"model_config_list": [{"config": {"name": "m", "base_path": "./v"}}]})", f);
    std::fclose(f);
  }
  LocalFileSystem fs;
  auto config = LoadServerConfigFile(fs, dir.string());
  ASSERT_TRUE(config.ok()) << config.status().message();
  EXPECT_EQ(config->models[0].base_path, (dir / "v").string());
  std::filesystem::remove_all(dir);
}

TEST(HashConfigTextTest, IsFnv1a64Hex) {
  EXPECT_EQ(HashConfigText(""), "cbf29ce484222325");
  EXPECT_EQ(HashConfigText("a"), "af63dc4c8601ec8c");
  EXPECT_EQ(HashConfigText("foobar"), "85944171f73967e8");
  EXPECT_NE(HashConfigText(R"({"a":1})"), HashConfigText(R"({"a":2})"));
}

TEST(ResolveBasePathTest, Forms) {
  EXPECT_EQ(ResolveBasePath("/a/b/", "/x"), "/a/b");
  EXPECT_EQ(ResolveBasePath("b", "/x/"), "/x/b");
  EXPECT_EQ(ResolveBasePath("../b/./c", "/x/y"), "/x/b/c");
  EXPECT_EQ(ResolveBasePath("gs://bucket/m", "/x"), "gs://bucket/m");
  EXPECT_EQ(ResolveBasePath("/", "/x"), "/");
}

// --- Single values ------------------------------------------------------

TEST(ParseVersionPolicyJsonTest, ValidForms) {
  auto all = ParseVersionPolicyJson(R"({"all": {}})");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->kind, VersionPolicy::Kind::kAll);
  auto latest = ParseVersionPolicyJson(R"({"latest": {"num_versions": 2}})");
  ASSERT_TRUE(latest.ok());
  EXPECT_EQ(*latest, (VersionPolicy{VersionPolicy::Kind::kLatest, 2, {}}));
  auto specific = ParseVersionPolicyJson(R"({"specific": {"versions": [5, 2, 5]}})");
  ASSERT_TRUE(specific.ok());
  EXPECT_EQ(specific->kind, VersionPolicy::Kind::kSpecific);
  EXPECT_EQ(specific->versions, (std::vector<int64_t>{2, 5}));
}

TEST(ParseVersionPolicyJsonTest, Errors) {
  EXPECT_EQ(ParseVersionPolicyJson("{all}").status(),
            InvalidArgument("not valid JSON: Missing a name for object member at offset 1 (line 1, column 2)"));
  EXPECT_EQ(ParseVersionPolicyJson("[1]").status(), InvalidArgument("value must be an object (got an array)"));
  EXPECT_EQ(ParseVersionPolicyJson(R"({"latest": {"num_versions": -3}})").status(),
            InvalidArgument("/latest/num_versions must be >= 1 (got integer -3)"));
  EXPECT_EQ(ParseVersionPolicyJson("{}").status(),
            InvalidArgument("value must have exactly one of the keys: all, latest, specific"));
}

TEST(ParsePluginConfigJsonTest, ValuesBecomeText) {
  auto config = ParsePluginConfigJson(R"({"A": "x", "B": 12, "C": -1, "D": 1e-3, "E": true, "F": 18446744073709551615})");
  ASSERT_TRUE(config.ok()) << config.status().message();
  EXPECT_EQ(*config, (std::map<std::string, std::string>{
                         {"A", "x"}, {"B", "12"}, {"C", "-1"}, {"D", "0.001"}, {"E", "true"},
                         {"F", "18446744073709551615"}}));
  EXPECT_TRUE(ParsePluginConfigJson("{}")->empty());
}

TEST(ParsePluginConfigJsonTest, Errors) {
  EXPECT_EQ(ParsePluginConfigJson(R"("NUM_STREAMS")").status(),
            InvalidArgument(R"(value must be an object (got string "NUM_STREAMS"))"));
  EXPECT_EQ(ParsePluginConfigJson(R"({"A": [1]})").status(),
            InvalidArgument("/A must be a string, a number or a boolean (got an array)"));
  EXPECT_EQ(ParsePluginConfigJson(R"({"A": 1,})").status().code(), StatusCode::kInvalidArgument);
}

TEST(ParsePerInputSettingTest, PlainStringOrObject) {
  auto whole = ParsePerInputSetting("(1,3,224,224)", PerInputKind::kShape);
  ASSERT_TRUE(whole.ok());
  EXPECT_EQ(whole->whole_model, std::optional<std::string>("(1,3,224,224)"));
  EXPECT_TRUE(whole->per_input.empty());

  auto per_input = ParsePerInputSetting(R"(  {"a": "NHWC:NCHW", "b": "NC"})", PerInputKind::kLayout);
  ASSERT_TRUE(per_input.ok());
  EXPECT_FALSE(per_input->whole_model.has_value());
  EXPECT_EQ(per_input->per_input, (std::map<std::string, std::string>{{"a", "NHWC:NCHW"}, {"b", "NC"}}));

  auto empty = ParsePerInputSetting("", PerInputKind::kShape);
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

TEST(ParsePerInputSettingTest, Errors) {
  const auto kShape = PerInputKind::kShape;
  EXPECT_EQ(ParsePerInputSetting(R"({"a": 1})", kShape).status(),
            InvalidArgument("/a must be a string (got integer 1)"));
  EXPECT_EQ(ParsePerInputSetting(R"({"a": "x")", kShape).status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(ParsePerInputSetting(R"({"a": "x")", kShape).status().message(),
              StartsWith("not valid JSON: "));
}

TEST(ParsePerInputSettingTest, ValuesMustBeShapesOrLayouts) {
  EXPECT_TRUE(ParsePerInputSetting(R"j({"a": "(1:8,3,-1,-1)", "b": "auto"})j", PerInputKind::kShape).ok());
  EXPECT_THAT(ParsePerInputSetting("1,3", PerInputKind::kShape).status().message(),
              StartsWith("Invalid shape '1,3'"));
  EXPECT_THAT(ParsePerInputSetting(R"j({"a": "(1,x)"})j", PerInputKind::kShape).status().message(),
              StartsWith("input a: Invalid shape '(1,x)'"));
  EXPECT_THAT(ParsePerInputSetting("nchw", PerInputKind::kLayout).status().message(),
              StartsWith("Invalid layout 'nchw'"));
  EXPECT_THAT(ParsePerInputSetting("NHWC:NCH", PerInputKind::kLayout).status().message(),
              StartsWith("Invalid layout 'NHWC:NCH'"));
}

TEST(ParseServerConfigTest, ShapeAndLayoutValuesAreChecked) {
  EXPECT_THAT(ErrorOf(OneModel(R"("shape": {"x": "(1,3"})")),
              StartsWith("Invalid config: /model_config_list/0/config/shape: input x: Invalid shape '(1,3'"));
  EXPECT_THAT(ErrorOf(OneModel(R"("layout": "NHWC:NC")")),
              StartsWith("Invalid config: /model_config_list/0/config/layout: Invalid layout 'NHWC:NC'"));
}

TEST(ParseBatchSizeTest, AcceptedForms) {
  EXPECT_EQ(*ParseBatchSize(""), std::nullopt);
  EXPECT_EQ(*ParseBatchSize("0"), std::nullopt);
  EXPECT_EQ(*ParseBatchSize("auto"), std::optional<std::string>("auto"));
  EXPECT_EQ(*ParseBatchSize("-1"), std::optional<std::string>("-1"));
  EXPECT_EQ(*ParseBatchSize("32"), std::optional<std::string>("32"));
  EXPECT_EQ(*ParseBatchSize("1:8"), std::optional<std::string>("1:8"));
  EXPECT_EQ(*ParseBatchSize("4:4"), std::optional<std::string>("4:4"));
}

TEST(ParseBatchSizeTest, RejectedForms) {
  for (const char* bad : {"x", "-2", "+3", "03", "1.5", "1:", ":8", "8:1", "0:4", "1:8:9", " 8", "AUTO",
                          "99999999999999999999"}) {
    auto result = ParseBatchSize(bad);
    ASSERT_FALSE(result.ok()) << bad;
    EXPECT_EQ(result.status(),
              InvalidArgument(std::string("must be a positive integer, a range like 1:8, -1 or auto (got \"") +
                              bad + "\")"));
  }
}

TEST(ParseServerConfigTest, SchedulerKeys) {
  auto config = ParseServerConfig(
      OneModel(R"("max_queue_size": 10, "dynamic_batching": {"max_batch_size": 16,
                  "max_queue_delay_microseconds": 500, "preferred_batch_sizes": [8, 4, 8]})"),
      "/cfg");
  ASSERT_TRUE(config.ok()) << config.status().message();
  const ModelConfig& m = config->models[0];
  EXPECT_EQ(m.max_queue_size, 10);
  ASSERT_TRUE(m.dynamic_batching.has_value());
  EXPECT_EQ(m.dynamic_batching->max_batch_size, 16);
  EXPECT_EQ(m.dynamic_batching->max_queue_delay_microseconds, 500);
  EXPECT_EQ(m.dynamic_batching->preferred_batch_sizes, (std::vector<int64_t>{4, 8}));

  auto defaults = ParseServerConfig(OneModel(R"("dynamic_batching": {})"), "/cfg");
  ASSERT_TRUE(defaults.ok()) << defaults.status().message();
  EXPECT_EQ(defaults->models[0].dynamic_batching, DynamicBatchingConfig{});
}

TEST(ParseServerConfigTest, SchedulerKeyErrors) {
  EXPECT_EQ(ErrorOf(OneModel(R"("max_queue_size": -1)")),
            "Invalid config: /model_config_list/0/config/max_queue_size must be >= 0 (got integer -1)");
  EXPECT_EQ(ErrorOf(OneModel(R"("dynamic_batching": {"max_batch_size": 0})")),
            "Invalid config: /model_config_list/0/config/dynamic_batching/max_batch_size must be >= 1 "
            "(got integer 0)");
  EXPECT_EQ(ErrorOf(OneModel(R"("dynamic_batching": {"max_queue_delay_microseconds": "5"})")),
            "Invalid config: /model_config_list/0/config/dynamic_batching/max_queue_delay_microseconds "
            "must be an integer (got string \"5\")");
  EXPECT_THAT(ErrorOf(OneModel(R"("dynamic_batching": {"max_batch": 4})")),
              StartsWith("Invalid config: /model_config_list/0/config/dynamic_batching/max_batch is not allowed "
                         "(allowed: max_batch_size, max_queue_delay_microseconds, preferred_batch_sizes)"));
  EXPECT_EQ(ErrorOf(OneModel(R"("dynamic_batching": {"max_batch_size": 4, "preferred_batch_sizes": [2, 8]})")),
            "Invalid config: /model_config_list/0/config/dynamic_batching/preferred_batch_sizes/1 must be <= "
            "max_batch_size 4 (got 8)");
  EXPECT_EQ(ErrorOf(OneModel(R"("dynamic_batching": true)")),
            "Invalid config: /model_config_list/0/config/dynamic_batching must be an object (got boolean true)");
}

TEST(ParseDynamicBatchingJsonTest, FormsAndErrors) {
  auto batching = ParseDynamicBatchingJson(R"({"max_batch_size": 4, "preferred_batch_sizes": [2]})");
  ASSERT_TRUE(batching.ok()) << batching.status().message();
  EXPECT_EQ(batching->max_batch_size, 4);
  EXPECT_EQ(batching->max_queue_delay_microseconds, 0);
  EXPECT_EQ(batching->preferred_batch_sizes, (std::vector<int64_t>{2}));
  EXPECT_EQ(ParseDynamicBatchingJson(R"({"preferred_batch_sizes": [9]})").status(),
            InvalidArgument("/preferred_batch_sizes/0 must be <= max_batch_size 8 (got 9)"));
  EXPECT_EQ(ParseDynamicBatchingJson(R"({"max_queue_delay_microseconds": -1})").status(),
            InvalidArgument("/max_queue_delay_microseconds must be >= 0 (got integer -1)"));
  EXPECT_THAT(ParseDynamicBatchingJson("{").status().message(), StartsWith("not valid JSON: "));
}

}  // namespace
}  // namespace tessera
