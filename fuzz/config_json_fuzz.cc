// config.json (src/repository/config_parser.h): the whole file through
// ParseServerConfig (schema check, then the rules a schema cannot say), and
// the same text through the single-value parsers shared with the command
// line (version policy, plugin config, dynamic batching, per-input shape and
// layout settings, batch size). A config that parses also has its
// pipeline_config_list turned into pipeline definitions (src/pipeline/).
#include "fuzz_common.h"
#include "pipeline/pipeline_definition.h"
#include "repository/config_parser.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  tessera::fuzz::QuietLogs();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tessera;
  std::string_view text = fuzz::AsText(data, size);
  auto config = ParseServerConfig(text, "/models");
  if (config.ok()) (void)pipeline::ParsePipelineDefinitions(config->pipeline_config_json);
  (void)ParseVersionPolicyJson(text);
  (void)ParsePluginConfigJson(text);
  (void)ParseDynamicBatchingJson(text);
  (void)ParsePerInputSetting(text, PerInputKind::kShape);
  (void)ParsePerInputSetting(text, PerInputKind::kLayout);
  (void)ParseBatchSize(text);
  (void)ResolveBasePath(std::string(text), "/models");
  return 0;
}
