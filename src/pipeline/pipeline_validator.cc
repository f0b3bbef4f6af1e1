#include "pipeline/pipeline_validator.h"

#include <algorithm>
#include <functional>
#include <set>
#include <utility>

#include "common/logging.h"

namespace tessera::pipeline {
namespace {

using custom_node::CustomNode;
using TensorMap = std::map<std::string, TensorInfo>;

struct NodeMetadata {
  TensorMap inputs;
  TensorMap outputs;
  bool auto_batch_or_shape = false;
};

bool IsWorker(const NodeInfo& node) { return node.kind == NodeKind::kDl || node.kind == NodeKind::kCustom; }

std::string Join(const std::vector<std::string>& items, const std::string& separator) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += separator;
    out += item;
  }
  return out;
}

// OVMS's "partially fits": same rank, and each dim dynamic on either side or equal.
bool ShapesMatch(const Shape& a, const Shape& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] != kDynamicDim && b[i] != kDynamicDim && a[i] != b[i]) return false;
  }
  return true;
}

bool IsUnspecified(const TensorInfo& info) { return info.dtype == DataType::kInvalid && info.shape.empty(); }

// The tightest metadata both sides accept, or nullopt when they conflict.
std::optional<TensorInfo> Intersect(const TensorInfo& a, const TensorInfo& b) {
  if (IsUnspecified(a)) return b;
  if (IsUnspecified(b)) return a;
  if (a.dtype != b.dtype || !ShapesMatch(a.shape, b.shape)) return std::nullopt;
  TensorInfo out = a;
  for (size_t i = 0; i < out.shape.size(); ++i) {
    if (out.shape[i] == kDynamicDim) out.shape[i] = b.shape[i];
  }
  return out;
}

std::string Describe(const TensorInfo& info) {
  return std::string(KServeName(info.dtype)) + " " + ShapeToString(info.shape);
}

std::vector<TensorInfo> Values(const TensorMap& map) {
  std::vector<TensorInfo> out;
  for (const auto& [name, info] : map) out.push_back(info);
  return out;
}

class Validator {
 public:
  Validator(const PipelineDefinition& definition, const PipelineDependencies& dependencies)
      : d_(definition), deps_(dependencies) {}

  Result<ValidatedPipeline> Run() {
    ValidatedPipeline out;
    out.name = d_.name();
    if (deps_.IsModelName(d_.name())) {
      TLOG_ERROR("Pipeline name: {} is already occupied by model.", d_.name());
      return Fail(text::kNameOccupied, "the name is occupied by a model", StatusCode::kAlreadyExists);
    }
    TESSERA_RETURN_IF_ERROR(InitializeNodeResources());
    TESSERA_RETURN_IF_ERROR(ValidateNodes());
    TESSERA_RETURN_IF_ERROR(ValidateForCycles());
    TESSERA_RETURN_IF_ERROR(ValidateGatherOrder());
    TESSERA_RETURN_IF_ERROR(BuildInputs(out));
    TESSERA_RETURN_IF_ERROR(BuildOutputs(out));
    out.custom_nodes = std::move(custom_nodes_);
    return out;
  }

 private:
  Status Fail(const char* what, const std::string& detail, StatusCode code = StatusCode::kFailedPrecondition) {
    Status status(code, std::string(what) + "; pipeline: " + d_.name() + "; " + detail);
    TLOG_ERROR("Validation of pipeline definition: {} failed: {}", d_.name(), status.message());
    return status;
  }

  // A custom node error ("<text>; node: ...") with the pipeline named after the text.
  Status WithPipeline(const Status& status) {
    std::string message = status.message();
    size_t pos = message.find(';');
    message.insert(pos == std::string::npos ? message.size() : pos, "; pipeline: " + d_.name());
    TLOG_ERROR("Validation of pipeline definition: {} failed: {}", d_.name(), message);
    return Status(status.code(), std::move(message));
  }

  const NodeInfo& Node(const std::string& name) const { return *d_.FindNode(name); }

  Status InitializeNodeResources() {
    for (const NodeInfo& node : d_.nodes()) {
      if (node.kind != NodeKind::kCustom || custom_nodes_.count(node.name)) continue;
      auto library = deps_.FindLibrary(node.library_name);
      if (!library.ok()) {
        TLOG_WARN("Pipeline: {} refers to non existing custom node library: {}", d_.name(), node.library_name);
        return Fail(text::kInvalidNodeLibrary, "node: " + node.name + " refers to invalid library: " +
                                                   node.library_name + " (" + library.status().message() + ")");
      }
      auto created = CustomNode::Create(*library, node.name, node.params);
      if (!created.ok()) return WithPipeline(created.status());
      custom_nodes_.emplace(node.name, *created);
    }
    return Status::Ok();
  }

  // Model or library metadata of a DL or custom node, fetched once.
  Result<const NodeMetadata*> Metadata(const NodeInfo& node, bool as_dependency) {
    if (auto it = metadata_.find(node.name); it != metadata_.end()) return &it->second;
    NodeMetadata md;
    if (node.kind == NodeKind::kDl) {
      auto model = deps_.FindModel(node.model_name, node.model_version);
      if (!model.ok()) {
        std::string version = std::to_string(node.model_version.value_or(0));
        return Fail(text::kMissingModel,
                    as_dependency ? "Dependency DL model node refers to unavailable model - name: " +
                                        node.model_name + "; version: " + version
                                  : "Missing model: " + node.model_name + "; version: " + version);
      }
      for (const auto& t : model->signature.inputs) md.inputs[t.name] = t;
      for (const auto& t : model->signature.outputs) md.outputs[t.name] = t;
      md.auto_batch_or_shape = model->auto_batch_or_shape;
    } else {
      const CustomNode& custom = *custom_nodes_.at(node.name);
      auto inputs = custom.GetInputsInfo();
      if (!inputs.ok()) return WithPipeline(inputs.status());
      auto outputs = custom.GetOutputsInfo();
      if (!outputs.ok()) return WithPipeline(outputs.status());
      for (const auto& t : *inputs) md.inputs[t.name] = t;
      for (const auto& t : *outputs) md.outputs[t.name] = t;
    }
    return &metadata_.emplace(node.name, std::move(md)).first->second;
  }

  Status ValidateShapeWithDemultiplexer(const Shape& shape, const NodeInfo& demultiplexer) {
    if (!demultiplexer.demultiply_count) return Status::Ok();
    int64_t count = *demultiplexer.demultiply_count;
    if (shape.size() < 3) {
      return Fail(text::kNotEnoughDimensions, "Node: " + demultiplexer.name +
                                                  " demultiply cannot occur due to not enough shape dimensions: " +
                                                  std::to_string(shape.size()));
    }
    if (count != -1) {
      if (shape[0] != kDynamicDim && shape[0] != count) {
        return Fail(text::kDemultiplyCountMismatch, "Demultiply count: " + std::to_string(count) + " of node: " +
                                                        demultiplexer.name +
                                                        " does not match tensor first dimension value: " +
                                                        std::to_string(shape[0]));
      }
      if (shape[0] == kDynamicDim) {
        TLOG_WARN("Pipeline: {}; Demultiply count: {} of node: {} is fixed while first dimension value is not. "
                  "This pipeline may fail at execution stage.", d_.name(), count, demultiplexer.name);
      }
    } else if (shape[0] != kDynamicDim) {
      TLOG_WARN("Pipeline: {}; Demultiply count: -1 of node: {} is dynamic while first dimension value is not: {}. "
                "This pipeline may fail at execution stage.", d_.name(), demultiplexer.name, shape[0]);
    }
    return Status::Ok();
  }

  Status ValidateNodes() {
    int demultiplexers = 0;
    bool any_dynamic = false;
    for (const NodeInfo& node : d_.nodes()) {
      if (!node.demultiply_count) continue;
      ++demultiplexers;
      any_dynamic |= *node.demultiply_count == -1;
    }
    if (any_dynamic && demultiplexers > 1) {
      return Fail(text::kNotImplemented,
                  "PipelineDefinition: " + d_.name() + " has multiple demultiplexers with at least one dynamic.",
                  StatusCode::kUnimplemented);
    }
    for (const NodeInfo& node : d_.nodes()) {
      auto same = [&](const NodeInfo& other) { return other.name == node.name; };
      if (std::count_if(d_.nodes().begin(), d_.nodes().end(), same) > 1) {
        return Fail(text::kNodeNameDuplicate,
                    "PipelineDefinition: " + d_.name() + " has multiple nodes with name: " + node.name);
      }
      TESSERA_RETURN_IF_ERROR(ValidateNode(node));
    }
    return Status::Ok();
  }

  Status ValidateNode(const NodeInfo& node) {
    const NodeMetadata* md = nullptr;
    std::set<std::string> unconnected;
    if (IsWorker(node)) {
      TESSERA_ASSIGN_OR_RETURN(md, Metadata(node, /*as_dependency=*/false));
      if (node.kind == NodeKind::kDl && md->auto_batch_or_shape) {
        return Fail(text::kForbiddenDynamicParameter,
                    "Node name: " + node.name + " used model name: " + node.model_name +
                        " with batch/shape parameter set to 'auto' which is forbidden. Use dynamic shape.");
      }
      for (const auto& [name, info] : md->inputs) unconnected.insert(name);
      for (const auto& [name, info] : md->outputs) {
        TESSERA_RETURN_IF_ERROR(ValidateShapeWithDemultiplexer(info.shape, node));
      }
    }
    for (const std::string& gather : node.gather_from) {
      const NodeInfo* source = d_.FindNode(gather);
      if (source == nullptr) {
        return Fail(text::kGatherFromMissingNode,
                    "Node name: " + node.name + ", have gather_from: " + gather + " which does not exist in pipeline");
      }
      if (!source->demultiply_count) {
        return Fail(text::kGatherFromNotDemultiplexer,
                    "Node name: " + node.name + ", have gather_from: " + gather + " which is not demultiplexer node");
      }
    }
    for (const Dependency& dependency : d_.DependenciesOf(node.name)) {
      const NodeInfo* source = d_.FindNode(dependency.node);
      if (source == nullptr) {
        return Fail(text::kMissingNode, "Node (name: " + node.name + ") is connected to missing dependency node (name: " +
                                            dependency.node + ")");
      }
      if (source->kind == NodeKind::kExit) return Fail(text::kExitAsDependency, "Exit node used as dependency node");
      TESSERA_RETURN_IF_ERROR(ValidateConnection(node, md, *source, dependency, unconnected));
    }
    if (!unconnected.empty()) {
      return Fail(text::kNotAllInputsConnected,
                  "Node: " + node.name + " has inputs: " +
                      Join(std::vector<std::string>(unconnected.begin(), unconnected.end()), ", ") +
                      " not connected to any source");
    }
    return Status::Ok();
  }

  Status ValidateConnection(const NodeInfo& node, const NodeMetadata* md, const NodeInfo& source,
                            const Dependency& dependency, std::set<std::string>& unconnected) {
    const NodeMetadata* source_md = nullptr;
    if (IsWorker(source)) {
      TESSERA_ASSIGN_OR_RETURN(source_md, Metadata(source, /*as_dependency=*/true));
    }
    for (const Mapping& mapping : dependency.mappings) {
      if (IsWorker(node)) {
        if (!md->inputs.count(mapping.input)) {
          return Fail(text::kMissingModelInput, "Node: " + node.name + " has no input with name: " + mapping.input);
        }
        if (unconnected.erase(mapping.input) == 0) {
          return Fail(text::kMultipleDataSources, "Node: " + node.name + " input name: " + mapping.input +
                                                      " is connected to more than one data source");
        }
      }
      auto alias = source.output_aliases.find(mapping.alias);
      if (alias == source.output_aliases.end()) {
        return Fail(text::kMissingDataSource, "Missing dependency node: " + source.name + " data item: " +
                                                  mapping.alias + " for dependent node: " + node.name);
      }
      if (IsWorker(source) && !source_md->outputs.count(alias->second)) {
        return Fail(text::kMissingModelOutput, "Missing output: " + alias->second + " of dependency node: " +
                                                   source.name + "; data source: " + mapping.alias);
      }
      if (IsWorker(node) && IsWorker(source)) {
        TESSERA_RETURN_IF_ERROR(CheckEdge(node, md->inputs.at(mapping.input), source,
                                          source_md->outputs.at(alias->second)));
      }
      if (IsWorker(node) && source.kind == NodeKind::kEntry && source.demultiply_count &&
          md->inputs.at(mapping.input).dtype == DataType::kBytes) {
        return Fail(text::kStringDemultiplication,
                    "Demultiplication of strings in unsupported. Node name: " + node.name);
      }
    }
    return Status::Ok();
  }

  // Shape and precision of one model/library -> model/library edge.
  Status CheckEdge(const NodeInfo& node, const TensorInfo& input, const NodeInfo& source, const TensorInfo& output) {
    Shape input_shape = input.shape;
    Shape output_shape = output.shape;
    if (source.demultiply_count) {
      TESSERA_RETURN_IF_ERROR(ValidateShapeWithDemultiplexer(output_shape, source));
      output_shape.erase(output_shape.begin());
      if (input.dtype == DataType::kBytes) {
        return Fail(text::kStringDemultiplication,
                    "Demultiplication of strings in unsupported. Node name: " + source.name);
      }
    }
    if (node.gather_from.size() == 1) {
      const NodeInfo& demultiplexer = Node(*node.gather_from.begin());
      TESSERA_RETURN_IF_ERROR(ValidateShapeWithDemultiplexer(input_shape, demultiplexer));
      input_shape.erase(input_shape.begin());
    }
    std::string between = "dependent node: " + node.name + "; input: " + input.name;
    std::string and_source = " vs dependency node: " + source.name + "; output: " + output.name;
    if (!ShapesMatch(input_shape, output_shape)) {
      return Fail(text::kInvalidShape, "Shape mismatch between: " + between + "; shape: " + ShapeToString(input_shape) +
                                           and_source + "; shape: " + ShapeToString(output_shape));
    }
    if (input.dtype != output.dtype) {
      return Fail(text::kInvalidPrecision, "Precision mismatch between: " + between + "; precision: " +
                                               std::string(KServeName(input.dtype)) + and_source +
                                               "; precision: " + std::string(KServeName(output.dtype)));
    }
    if (input.dtype == DataType::kBytes && node.kind == NodeKind::kDl && source.kind == NodeKind::kDl) {
      return Fail(text::kNotImplemented, "Connecting models with string precision is unsupported: " + between +
                                             and_source, StatusCode::kUnimplemented);
    }
    return Status::Ok();
  }

  // OVMS's walk backwards from "response" (over the transposed graph, which
  // has the same cycles).
  Status ValidateForCycles() {
    std::vector<std::string> visited{kExitNodeName};
    std::vector<std::string> parents;
    std::string current = kExitNodeName;
    while (true) {
      bool found_unvisited = false;
      for (const Dependency& dependency : d_.DependenciesOf(current)) {
        if (dependency.node == current) {
          return Fail(text::kCycleFound, "Node: " + current + " is connected to itself in pipeline: " + d_.name());
        }
        if (std::find(visited.begin(), visited.end(), dependency.node) == visited.end()) {
          parents.push_back(current);
          visited.push_back(dependency.node);
          current = dependency.node;
          found_unvisited = true;
          break;
        }
        if (std::find(parents.begin(), parents.end(), dependency.node) != parents.end()) {
          return Fail(text::kCycleFound,
                      "In pipeline: " + d_.name() + ", following nodes creates cycle: " + Join(parents, ", "));
        }
      }
      if (found_unvisited) continue;
      if (parents.empty()) break;
      current = parents.back();
      parents.pop_back();
    }
    if (visited.size() != d_.nodes().size()) {
      return Fail(text::kUnconnectedNodes, "In pipeline: " + d_.name() + ", there are not connected nodes");
    }
    return Status::Ok();
  }

  // Every path from "response" back to "request" must meet the gathers and
  // demultiplexers in last-in-first-out order, at one level per node.
  Status ValidateGatherOrder() {
    using GatherSet = std::set<std::string>;
    using Stack = std::vector<GatherSet>;
    const NodeInfo& exit = Node(kExitNodeName);
    std::vector<std::pair<std::string, Stack>> to_check{{exit.name, {}}};
    if (!exit.gather_from.empty()) to_check.back().second.push_back(exit.gather_from);
    std::map<std::string, Stack> visited;
    while (!to_check.empty()) {
      auto [name, stack] = to_check.back();
      to_check.pop_back();
      for (const Dependency& dependency : d_.DependenciesOf(name)) {
        Stack next = stack;
        const NodeInfo& source = Node(dependency.node);
        if (source.demultiply_count) {
          if (next.empty()) {
            return Fail(text::kWrongGatherOrder, "In pipeline: " + d_.name() +
                                                     " exists path that doesn't gather from demultiplexer node: " +
                                                     source.name + ", connection to node: " + name + ".");
          }
          GatherSet& last = next.back();
          if (!last.count(source.name)) {
            return Fail(text::kWrongGatherOrder,
                        "In pipeline: " + d_.name() + " exists path where after demultiplexer node: " + source.name +
                            " there is gathering from different nodes: " +
                            Join(std::vector<std::string>(last.begin(), last.end()), ", ") + ".");
          }
          last.erase(source.name);
          if (last.empty()) next.pop_back();
        }
        if (!source.gather_from.empty()) next.push_back(source.gather_from);
        if (source.kind == NodeKind::kEntry && !next.empty()) {
          return Fail(text::kWrongGatherOrder,
                      "In pipeline: " + d_.name() + " exists path that gathers from nodes that are not in path: " +
                          Join(std::vector<std::string>(next.back().begin(), next.back().end()), ", ") +
                          ". Consider changing inputs of the node that gathers from mentioned demultiplexer nodes");
        }
        auto seen = visited.find(source.name);
        if (seen != visited.end()) {
          if (seen->second != next) {
            return Fail(text::kWrongGatherOrder, "In pipeline: " + d_.name() + " after node: " + source.name +
                                                     " exist paths that have different demultiply levels. "
                                                     "Consider changing output connections of node: " + source.name);
          }
        } else {
          to_check.emplace_back(source.name, next);
          visited.emplace(source.name, std::move(next));
        }
      }
    }
    return Status::Ok();
  }

  Status BuildInputs(ValidatedPipeline& out) {
    TensorMap inputs;
    for (const NodeInfo& node : d_.nodes()) {
      for (const Dependency& dependency : d_.DependenciesOf(node.name)) {
        if (Node(dependency.node).kind != NodeKind::kEntry) continue;
        for (const Mapping& mapping : dependency.mappings) {
          TensorInfo wanted{mapping.alias, DataType::kInvalid, {}};
          if (IsWorker(node)) wanted = metadata_.at(node.name).inputs.at(mapping.input);
          wanted.name = mapping.alias;
          auto [it, inserted] = inputs.emplace(mapping.alias, wanted);
          if (inserted) continue;
          auto merged = Intersect(it->second, wanted);
          if (!merged) {
            return Fail(text::kAmbiguousInputs, "input: " + mapping.alias + "; " + Describe(it->second) + " vs " +
                                                    Describe(wanted) + " (node: " + node.name + ")");
          }
          it->second = *merged;
        }
      }
    }
    const NodeInfo& entry = Node(kEntryNodeName);
    if (entry.demultiply_count) {
      for (auto& [name, info] : inputs) info.shape.insert(info.shape.begin(), *entry.demultiply_count);
    }
    out.inputs = Values(inputs);
    return Status::Ok();
  }

  // The dim one gathered demultiplexer adds: its count, or for a dynamic one
  // -1 (a custom node: its first output's dim 0 as the library reports it).
  int64_t GatherDim(const NodeInfo& demultiplexer) {
    int64_t count = *demultiplexer.demultiply_count;
    if (count > 0) return count;
    if (demultiplexer.kind == NodeKind::kCustom) {
      const auto& outputs = metadata_.at(demultiplexer.name).outputs;
      if (!outputs.empty() && !outputs.begin()->second.shape.empty()) return outputs.begin()->second.shape[0];
    }
    return kDynamicDim;
  }

  // Dims "response" prepends: its gathered demultiplexers, outermost first.
  Shape ExitGatherShape() {
    const NodeInfo& exit = Node(kExitNodeName);
    std::vector<std::string> innermost_first;
    std::set<std::string> seen;
    std::function<void(const std::string&)> walk = [&](const std::string& name) {
      if (!seen.insert(name).second) return;
      if (exit.gather_from.count(name)) innermost_first.push_back(name);
      for (const Dependency& dependency : d_.DependenciesOf(name)) walk(dependency.node);
    };
    walk(exit.name);
    Shape shape;
    for (auto it = innermost_first.rbegin(); it != innermost_first.rend(); ++it) shape.push_back(GatherDim(Node(*it)));
    return shape;
  }

  Status BuildOutputs(ValidatedPipeline& out) {
    TensorMap outputs;
    Shape gather = ExitGatherShape();
    for (const Dependency& dependency : d_.DependenciesOf(kExitNodeName)) {
      const NodeInfo& source = Node(dependency.node);
      for (const Mapping& mapping : dependency.mappings) {
        if (source.kind == NodeKind::kEntry) {
          outputs.emplace(mapping.input, TensorInfo{mapping.input, DataType::kInvalid, {}});
          continue;
        }
        TensorInfo info = metadata_.at(source.name).outputs.at(source.output_aliases.at(mapping.alias));
        info.name = mapping.input;
        if (!gather.empty()) {
          if (source.demultiply_count && !info.shape.empty()) info.shape.erase(info.shape.begin());
          info.shape.insert(info.shape.begin(), gather.begin(), gather.end());
        }
        outputs[mapping.input] = info;
      }
    }
    out.outputs = Values(outputs);
    return Status::Ok();
  }

  const PipelineDefinition& d_;
  const PipelineDependencies& deps_;
  std::map<std::string, std::shared_ptr<CustomNode>> custom_nodes_;
  std::map<std::string, NodeMetadata> metadata_;
};

}  // namespace

Result<ValidatedPipeline> ValidatePipeline(const PipelineDefinition& definition,
                                           const PipelineDependencies& dependencies) {
  return Validator(definition, dependencies).Run();
}

}  // namespace tessera::pipeline
