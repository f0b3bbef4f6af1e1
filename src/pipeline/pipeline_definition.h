// PipelineDefinition: one entry of config.json's pipeline_config_list as a
// graph, the way OVMS wires it (PIPELINES.md §2.1):
//  - the implicit entry node "request", whose outputs are the pipeline
//    inputs (each its own alias), and the implicit exit node "response",
//    whose inputs are the pipeline outputs;
//  - for every node, its dependencies in order of first mention, each with
//    the (source alias, own input name) pairs it feeds;
//  - "response" gathers every demultiplexer no gather_from_node names
//    (implicit gathering); a pipeline-level demultiply_count makes "request"
//    a demultiplexer.
// A definition is only a shape of the config: nothing here checks that
// names refer to anything (see pipeline_validator.h).
//
// Plain values; safe to share read-only between threads.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace tessera::pipeline {

inline constexpr const char kEntryNodeName[] = "request";
inline constexpr const char kExitNodeName[] = "response";

enum class NodeKind { kEntry, kDl, kCustom, kExit };

// What a demultiplexer producing 0 shards does (config "empty_demultiplex",
// a Tessera extension): OVMS's error, or an answer whose outputs are empty.
enum class EmptyDemultiplex { kError, kEmptyResult };

struct NodeInfo {
  NodeKind kind = NodeKind::kDl;
  std::string name;
  std::string model_name;                // kDl
  std::optional<int64_t> model_version;  // kDl; unset: the default version
  std::string library_name;              // kCustom
  std::map<std::string, std::string> params;  // kCustom
  // alias -> data_item (the model or library output name). For "request":
  // each pipeline input name -> itself.
  std::map<std::string, std::string> output_aliases;
  // Set on demultiplexers: a fixed count, or -1 (dynamic). OVMS's 0 is -1.
  std::optional<int64_t> demultiply_count;
  // Demultiplexers this node gathers (config: at most one; "response": the
  // ones gathered implicitly).
  std::set<std::string> gather_from;
  bool operator==(const NodeInfo&) const = default;
};

// One edge: `alias` of the dependency feeds input `input` of the dependant.
struct Mapping {
  std::string alias;
  std::string input;
  bool operator==(const Mapping&) const = default;
};

struct Dependency {
  std::string node;               // the dependency (source) node
  std::vector<Mapping> mappings;  // in config order
  bool operator==(const Dependency&) const = default;
};

class PipelineDefinition {
 public:
  const std::string& name() const { return name_; }
  // "request", then the config's nodes in order, then "response".
  const std::vector<NodeInfo>& nodes() const { return nodes_; }
  // The node named `name` (the first, if duplicated), or null.
  const NodeInfo* FindNode(const std::string& name) const;
  // What feeds `node`, in order of first mention; empty when nothing does.
  const std::vector<Dependency>& DependenciesOf(const std::string& node) const;
  // Pipeline input names in config order, without duplicates.
  const std::vector<std::string>& inputs() const { return inputs_; }
  EmptyDemultiplex empty_demultiplex() const { return empty_demultiplex_; }

  bool operator==(const PipelineDefinition&) const = default;

 private:
  friend Result<std::vector<PipelineDefinition>> ParsePipelineDefinitions(std::string_view json_array);
  std::string name_;
  std::vector<NodeInfo> nodes_;
  std::map<std::string, std::vector<Dependency>> dependencies_;
  std::vector<std::string> inputs_;
  EmptyDemultiplex empty_demultiplex_ = EmptyDemultiplex::kError;
};

// Text of the unsupported-type error (OVMS PIPELINE_NODE_WRONG_KIND_CONFIGURATION).
inline constexpr const char kUnsupportedNodeType[] = "Unsupported node type";

// Builds every pipeline of a pipeline_config_list array (the text kept in
// ServerConfig::pipeline_config_json, already checked against the schema).
// A node "type" other than "DL model" or "custom" is kFailedPrecondition
// "Unsupported node type: <type>"; other malformed text is
// kInvalidArgument. A second pipeline with an already-used name is skipped
// with OVMS's warning ("Only first definition will be loaded").
Result<std::vector<PipelineDefinition>> ParsePipelineDefinitions(std::string_view json_array);

}  // namespace tessera::pipeline
