// Load-time validation of a PipelineDefinition: OVMS's rules (PIPELINES.md
// §2.2) in OVMS's order, with OVMS's status texts.
//
// Order: (1) the name is not a model's; (2) every custom node's library is
// loaded and initialize succeeds with the node's params; (3) the dynamic
// demultiplexer limit, then per node ("request", the config's nodes,
// "response"): unique name, model/library metadata, demultiplexer shapes,
// gather_from_node, each connection (missing node, "response" as source,
// input names, data sources, model outputs, shape and precision), every
// input connected; (4) cycles and unconnected nodes; (5) LIFO order of
// demultiplexers and gathers; (6) the pipeline's input and output metadata.
// The first failing rule is the result.
//
// Messages: "<OVMS status text>; pipeline: <name>; <details>" (the details
// are OVMS's log line for that failure). Codes: kUnimplemented where OVMS
// answers NOT_IMPLEMENTED, kAlreadyExists for the name clash, otherwise
// kFailedPrecondition (the pipeline stays known but cannot serve).
//
// Thread-safety: ValidatePipeline is reentrant; the dependencies object must
// be safe for concurrent reads if shared.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "custom_node/custom_node_library.h"
#include "pipeline/pipeline_definition.h"
#include "tensor/signature.h"

namespace tessera::pipeline {

// OVMS status texts (src/status.cpp) of the validation rules.
namespace text {
inline constexpr const char kNameOccupied[] = "Pipeline has the same name as model";
inline constexpr const char kInvalidNodeLibrary[] = "Pipeline refers to incorrect library";
inline constexpr const char kNotImplemented[] = "Functionality not implemented";
inline constexpr const char kNodeNameDuplicate[] = "Pipeline definition has multiple nodes with the same name";
inline constexpr const char kMissingModel[] = "Pipeline definition has reference to missing model";
inline constexpr const char kForbiddenDynamicParameter[] = "Value of provided parameter is forbidden";
inline constexpr const char kStringDemultiplication[] = "Demultiplication is not supported for string precision";
inline constexpr const char kMissingNode[] = "Pipeline definition has reference to missing node";
inline constexpr const char kExitAsDependency[] = "Pipeline definition has response node used as dependency node";
inline constexpr const char kMissingDataSource[] = "Pipeline definition has reference to missing data source";
inline constexpr const char kMissingModelOutput[] = "Pipeline definition has reference to missing model output";
inline constexpr const char kMissingModelInput[] = "Pipeline definition has connection to non existing model input";
inline constexpr const char kMultipleDataSources[] =
    "Pipeline definition has multiple connections to the same input of underlying model";
inline constexpr const char kNotAllInputsConnected[] =
    "Pipeline definition does not have connections for all inputs of underlying models";
inline constexpr const char kInvalidShape[] = "Invalid input shape";
inline constexpr const char kInvalidPrecision[] = "Invalid input precision";
inline constexpr const char kCycleFound[] = "Pipeline definition contains a cycle";
inline constexpr const char kUnconnectedNodes[] = "Pipeline definition has unconnected nodes";
inline constexpr const char kGatherFromMissingNode[] = "Gather node refers to not existing node";
inline constexpr const char kGatherFromNotDemultiplexer[] = "Gather node refers to node that isn't demultiplexer";
inline constexpr const char kNotEnoughDimensions[] = "Pipeline has not enough shape dimensions to demultiply";
inline constexpr const char kDemultiplyCountMismatch[] = "Demultiplication count does not match tensor first dimension";
inline constexpr const char kWrongGatherOrder[] = "Demultiplexer and gather nodes are not in LIFO order";
inline constexpr const char kAmbiguousInputs[] =
    "Multiple nodes connected to the same pipeline input require different tensor metadata";
}  // namespace text

// What a DL node needs to know about the model it calls.
struct PipelineModelInfo {
  ModelSignature signature;
  bool auto_batch_or_shape = false;  // batch_size or a shape set to "auto"
};

// The world a pipeline is validated against.
class PipelineDependencies {
 public:
  virtual ~PipelineDependencies() = default;
  // True when `name` is a model's (whatever its state): one namespace.
  virtual bool IsModelName(const std::string& name) const = 0;
  // The model version a node would call (unset: the default version), when
  // AVAILABLE; any error means "missing".
  virtual Result<PipelineModelInfo> FindModel(const std::string& name, std::optional<int64_t> version) const = 0;
  // The loaded library of that custom_node_library_config_list name; an
  // error (whose message says why: not configured, failed to load) otherwise.
  virtual Result<std::shared_ptr<const custom_node::CustomNodeLibrary>> FindLibrary(
      const std::string& name) const = 0;
};

struct ValidatedPipeline {
  std::string name;
  // Initialized custom nodes by node name (each deinitialized when the last
  // holder is gone).
  std::map<std::string, std::shared_ptr<custom_node::CustomNode>> custom_nodes;
  // Metadata, sorted by name. A dim is -1 when dynamic. A pipeline input
  // read only by "response" (passthrough) is kInvalid with an empty shape,
  // as is a pipeline output taken straight from "request".
  std::vector<TensorInfo> inputs;
  std::vector<TensorInfo> outputs;
};

Result<ValidatedPipeline> ValidatePipeline(const PipelineDefinition& definition,
                                           const PipelineDependencies& dependencies);

}  // namespace tessera::pipeline
