#include "pipeline/pipeline_definition.h"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <algorithm>
#include <utility>

#include "common/json_depth.h"
#include "common/logging.h"

namespace tessera::pipeline {
namespace {

using Json = rapidjson::Value;

Status Malformed(const std::string& path, const std::string& what) {
  return InvalidArgument("Invalid pipeline_config_list: " + path + " " + what);
}

Result<std::string> String(const Json& object, const char* key, const std::string& path, bool required = true) {
  auto it = object.FindMember(key);
  if (it == object.MemberEnd()) {
    if (required) return Malformed(path + "/" + key, "is required");
    return std::string();
  }
  if (!it->value.IsString()) return Malformed(path + "/" + key, "must be a string");
  return std::string(it->value.GetString(), it->value.GetStringLength());
}

const Json* Array(const Json& object, const char* key) {
  auto it = object.FindMember(key);
  return it != object.MemberEnd() && it->value.IsArray() ? &it->value : nullptr;
}

Result<std::optional<int64_t>> OptionalInt(const Json& object, const char* key, const std::string& path) {
  auto it = object.FindMember(key);
  if (it == object.MemberEnd()) return std::optional<int64_t>();
  if (!it->value.IsInt64()) return Malformed(path + "/" + key, "must be an integer");
  return std::optional<int64_t>(it->value.GetInt64());
}

struct Source {
  std::string name;  // the single key: the dependant's input (or pipeline output) name
  std::string node_name;
  std::string data_item;
};

// [{"<name>": {"node_name": ..., "data_item": ...}}, ...]
Result<std::vector<Source>> Sources(const Json& object, const char* key, const std::string& path) {
  const Json* array = Array(object, key);
  if (array == nullptr) return Malformed(path + "/" + key, "must be an array");
  std::vector<Source> out;
  for (rapidjson::SizeType i = 0; i < array->Size(); ++i) {
    const Json& item = (*array)[i];
    std::string item_path = path + "/" + key + "/" + std::to_string(i);
    if (!item.IsObject() || item.MemberCount() != 1 || !item.MemberBegin()->value.IsObject()) {
      return Malformed(item_path, "must be an object with exactly one key");
    }
    const auto& member = *item.MemberBegin();
    Source source;
    source.name.assign(member.name.GetString(), member.name.GetStringLength());
    std::string inner = item_path + "/" + source.name;
    TESSERA_ASSIGN_OR_RETURN(source.node_name, String(member.value, "node_name", inner));
    TESSERA_ASSIGN_OR_RETURN(source.data_item, String(member.value, "data_item", inner));
    out.push_back(std::move(source));
  }
  return out;
}

void AddMapping(std::vector<Dependency>& dependencies, const Source& source) {
  auto it = std::find_if(dependencies.begin(), dependencies.end(),
                         [&](const Dependency& d) { return d.node == source.node_name; });
  if (it == dependencies.end()) {
    dependencies.push_back(Dependency{source.node_name, {}});
    it = std::prev(dependencies.end());
  }
  it->mappings.push_back(Mapping{source.data_item, source.name});
}

std::optional<int64_t> DemultiplyCount(std::optional<int64_t> count, const std::string& where) {
  if (count && *count == 0) {
    TLOG_WARN("{}: demultiply_count 0 will be deprecated. For dynamic count use -1.", where);
    return -1;
  }
  return count;
}

Result<NodeInfo> ParseNode(const Json& node, const std::string& path, std::vector<Source>& inputs) {
  if (!node.IsObject()) return Malformed(path, "must be an object");
  NodeInfo info;
  TESSERA_ASSIGN_OR_RETURN(info.name, String(node, "name", path));
  TESSERA_ASSIGN_OR_RETURN(std::string type, String(node, "type", path));
  if (type == "DL model") {
    info.kind = NodeKind::kDl;
    TESSERA_ASSIGN_OR_RETURN(info.model_name, String(node, "model_name", path));
    TESSERA_ASSIGN_OR_RETURN(info.model_version, OptionalInt(node, "version", path));
  } else if (type == "custom") {
    info.kind = NodeKind::kCustom;
    TESSERA_ASSIGN_OR_RETURN(info.library_name, String(node, "library_name", path));
    if (auto it = node.FindMember("params"); it != node.MemberEnd()) {
      if (!it->value.IsObject()) return Malformed(path + "/params", "must be an object");
      for (const auto& param : it->value.GetObject()) {
        if (!param.value.IsString()) return Malformed(path + "/params", "values must be strings");
        info.params[param.name.GetString()] = std::string(param.value.GetString(), param.value.GetStringLength());
      }
    }
  } else {
    TLOG_ERROR("Unsupported node type: {}", type);
    return FailedPrecondition(std::string(kUnsupportedNodeType) + ": " + type);
  }
  const Json* outputs = Array(node, "outputs");
  if (outputs == nullptr) return Malformed(path + "/outputs", "must be an array");
  for (rapidjson::SizeType i = 0; i < outputs->Size(); ++i) {
    std::string output_path = path + "/outputs/" + std::to_string(i);
    if (!(*outputs)[i].IsObject()) return Malformed(output_path, "must be an object");
    TESSERA_ASSIGN_OR_RETURN(std::string data_item, String((*outputs)[i], "data_item", output_path));
    TESSERA_ASSIGN_OR_RETURN(std::string alias, String((*outputs)[i], "alias", output_path));
    info.output_aliases[alias] = data_item;
  }
  TESSERA_ASSIGN_OR_RETURN(auto count, OptionalInt(node, "demultiply_count", path));
  info.demultiply_count = DemultiplyCount(count, "Node " + info.name);
  TESSERA_ASSIGN_OR_RETURN(std::string gather, String(node, "gather_from_node", path, /*required=*/false));
  if (node.HasMember("gather_from_node")) info.gather_from.insert(gather);
  TESSERA_ASSIGN_OR_RETURN(inputs, Sources(node, "inputs", path));
  return info;
}

Status ParseOne(const Json& pipeline, const std::string& path, std::string& name, std::vector<NodeInfo>& nodes,
                                    std::map<std::string, std::vector<Dependency>>& dependencies,
                                    std::vector<std::string>& pipeline_inputs) {
  if (!pipeline.IsObject()) return Malformed(path, "must be an object");
  TESSERA_ASSIGN_OR_RETURN(name, String(pipeline, "name", path));

  NodeInfo entry;
  entry.kind = NodeKind::kEntry;
  entry.name = kEntryNodeName;
  const Json* inputs = Array(pipeline, "inputs");
  if (inputs == nullptr) return Malformed(path + "/inputs", "must be an array");
  for (rapidjson::SizeType i = 0; i < inputs->Size(); ++i) {
    if (!(*inputs)[i].IsString()) return Malformed(path + "/inputs/" + std::to_string(i), "must be a string");
    std::string input((*inputs)[i].GetString(), (*inputs)[i].GetStringLength());
    if (entry.output_aliases.count(input)) {
      TLOG_WARN("Pipeline {} has duplicated input declaration", name);
      continue;
    }
    entry.output_aliases[input] = input;
    pipeline_inputs.push_back(input);
  }
  TESSERA_ASSIGN_OR_RETURN(auto count, OptionalInt(pipeline, "demultiply_count", path));
  entry.demultiply_count = DemultiplyCount(count, "Pipeline " + name);
  nodes.push_back(std::move(entry));

  const Json* config_nodes = Array(pipeline, "nodes");
  if (config_nodes == nullptr) return Malformed(path + "/nodes", "must be an array");
  for (rapidjson::SizeType i = 0; i < config_nodes->Size(); ++i) {
    std::vector<Source> node_inputs;
    TESSERA_ASSIGN_OR_RETURN(NodeInfo node,
                             ParseNode((*config_nodes)[i], path + "/nodes/" + std::to_string(i), node_inputs));
    // Duplicated node names are kept: the validator refuses them.
    auto& deps = dependencies[node.name];
    for (const Source& source : node_inputs) AddMapping(deps, source);
    nodes.push_back(std::move(node));
  }

  NodeInfo exit;
  exit.kind = NodeKind::kExit;
  exit.name = kExitNodeName;
  TESSERA_ASSIGN_OR_RETURN(std::vector<Source> outputs, Sources(pipeline, "outputs", path));
  for (const Source& source : outputs) AddMapping(dependencies[exit.name], source);
  // Implicit gathering: every demultiplexer nobody gathers explicitly.
  std::set<std::string> gathered;
  for (const NodeInfo& node : nodes) gathered.insert(node.gather_from.begin(), node.gather_from.end());
  for (const NodeInfo& node : nodes) {
    if (node.demultiply_count && !gathered.count(node.name)) exit.gather_from.insert(node.name);
  }
  nodes.push_back(std::move(exit));
  return Status::Ok();
}

}  // namespace

const NodeInfo* PipelineDefinition::FindNode(const std::string& name) const {
  auto it = std::find_if(nodes_.begin(), nodes_.end(), [&](const NodeInfo& n) { return n.name == name; });
  return it == nodes_.end() ? nullptr : &*it;
}

const std::vector<Dependency>& PipelineDefinition::DependenciesOf(const std::string& node) const {
  static const std::vector<Dependency> kNone;
  auto it = dependencies_.find(node);
  return it == dependencies_.end() ? kNone : it->second;
}

Result<std::vector<PipelineDefinition>> ParsePipelineDefinitions(std::string_view json_array) {
  std::vector<PipelineDefinition> out;
  if (json_array.empty()) return out;
  rapidjson::Document doc;
  JsonDocumentParse parsed = ParseJsonDocument(json_array, doc);
  if (!parsed.ok()) {
    return InvalidArgument(std::string("Invalid pipeline_config_list: ") +
                           (parsed.too_deep ? JsonNestingReason() : rapidjson::GetParseError_En(parsed.result.Code())));
  }
  if (!doc.IsArray()) return Malformed("", "must be an array");
  for (rapidjson::SizeType i = 0; i < doc.Size(); ++i) {
    PipelineDefinition definition;
    TESSERA_RETURN_IF_ERROR(ParseOne(doc[i], "/" + std::to_string(i), definition.name_, definition.nodes_,
                                     definition.dependencies_, definition.inputs_));
    std::string path = "/" + std::to_string(i);
    TESSERA_ASSIGN_OR_RETURN(std::string empty, String(doc[i], "empty_demultiplex", path, /*required=*/false));
    if (empty == "empty_result") {
      definition.empty_demultiplex_ = EmptyDemultiplex::kEmptyResult;
    } else if (!empty.empty() && empty != "error") {
      return Malformed(path + "/empty_demultiplex", "must be \"error\" or \"empty_result\"");
    }
    if (std::any_of(out.begin(), out.end(), [&](const auto& d) { return d.name() == definition.name(); })) {
      TLOG_WARN("Duplicated pipeline names: {} defined in config file. Only first definition will be loaded.",
                definition.name());
      continue;
    }
    out.push_back(std::move(definition));
  }
  return out;
}

}  // namespace tessera::pipeline
