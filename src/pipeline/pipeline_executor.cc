#include "pipeline/pipeline_executor.h"

#include <algorithm>
#include <mutex>
#include <set>
#include <utility>

#include "common/logging.h"

namespace tessera::pipeline {

struct PipelineExecutor::Node {
  struct Input {
    size_t source = 0;   // index of the node read from
    std::string alias;   // the source's alias
    std::string input;   // this node's input (response: the pipeline output) name
  };
  const NodeInfo* info = nullptr;
  std::vector<Input> inputs;
  size_t dependency_count = 0;      // distinct source nodes
  std::vector<size_t> consumers;    // distinct nodes reading this one
  // Model/library outputs some consumer reads (DL: the requested outputs).
  std::vector<std::string> needed_outputs;
  std::shared_ptr<custom_node::CustomNode> custom;
};

namespace {

using AliasMap = std::map<std::string, Tensor>;

size_t IndexOf(const PipelineDefinition& definition, const std::string& name) {
  const auto& nodes = definition.nodes();
  return std::find_if(nodes.begin(), nodes.end(), [&](const NodeInfo& n) { return n.name == name; }) -
         nodes.begin();
}

}  // namespace

PipelineExecutor::~PipelineExecutor() = default;

Result<std::unique_ptr<PipelineExecutor>> PipelineExecutor::Create(PipelineDefinition definition,
                                                                   ValidatedPipeline validated,
                                                                   InferenceService* models) {
  for (const NodeInfo& node : definition.nodes()) {
    if (node.demultiply_count) {
      return Unimplemented("Pipeline " + definition.name() + ": demultiplexing (node " + node.name +
                           ") is not supported by the executor yet");
    }
  }
  std::unique_ptr<PipelineExecutor> executor(new PipelineExecutor());
  executor->definition_ = std::move(definition);
  executor->validated_ = std::move(validated);
  executor->models_ = models;
  const PipelineDefinition& d = executor->definition_;
  auto& nodes = executor->nodes_;
  nodes.resize(d.nodes().size());
  std::vector<std::set<std::string>> needed(nodes.size());
  for (size_t i = 0; i < nodes.size(); ++i) {
    Node& node = nodes[i];
    node.info = &d.nodes()[i];
    if (node.info->kind == NodeKind::kCustom) node.custom = executor->validated_.custom_nodes.at(node.info->name);
    for (const Dependency& dependency : d.DependenciesOf(node.info->name)) {
      size_t source = IndexOf(d, dependency.node);
      ++node.dependency_count;
      nodes[source].consumers.push_back(i);
      for (const Mapping& mapping : dependency.mappings) {
        node.inputs.push_back(Node::Input{source, mapping.alias, mapping.input});
        const auto& aliases = d.nodes()[source].output_aliases;
        needed[source].insert(aliases.at(mapping.alias));
      }
    }
  }
  for (size_t i = 0; i < nodes.size(); ++i) nodes[i].needed_outputs.assign(needed[i].begin(), needed[i].end());
  return executor;
}

// One request's walk through the graph.
class PipelineExecutor::Run : public std::enable_shared_from_this<Run> {
 public:
  Run(const PipelineExecutor& executor, const InferRequest& request, InferCallback done)
      : ex_(executor), request_(request), done_(std::move(done)),
        remaining_(executor.nodes_.size()), produced_(executor.nodes_.size()) {
    for (size_t i = 0; i < ex_.nodes_.size(); ++i) remaining_[i] = ex_.nodes_[i].dependency_count;
  }

  void Start() {
    Status valid = CheckInputs();
    if (!valid.ok()) {
      Answer(valid);
      return;
    }
    AliasMap entry;
    for (const NamedTensor& input : request_.inputs) entry[input.name] = input.tensor;
    // The entry node counts as running until its outputs are recorded, so
    // an early failure of a node reading nothing cannot answer first.
    std::vector<Ready> ready;
    {
      std::lock_guard<std::mutex> lock(mu_);
      in_flight_ = 1;
      for (size_t i = 1; i < ex_.nodes_.size(); ++i) {
        if (remaining_[i] == 0) {
          ++in_flight_;
          ready.push_back(Ready{i, {}});
        }
      }
    }
    Launch(std::move(ready));
    Complete(0, std::move(entry));
  }

 private:
  struct Ready {
    size_t node;
    std::vector<NamedTensor> inputs;
  };

  Status CheckInputs() const {
    const auto& required = ex_.validated_.inputs;
    if (request_.inputs.size() != required.size()) {
      return InvalidArgument("Invalid number of inputs - Expected: " + std::to_string(required.size()) +
                             "; Actual: " + std::to_string(request_.inputs.size()));
    }
    for (const TensorInfo& info : required) {
      auto same = [&](const NamedTensor& t) { return t.name == info.name; };
      if (std::none_of(request_.inputs.begin(), request_.inputs.end(), same)) {
        return InvalidArgument("Missing input with specific name - Required input: " + info.name);
      }
    }
    return Status::Ok();
  }

  // REQUIRES: mu_ held; every source of `index` has completed.
  std::vector<NamedTensor> InputsOf(size_t index) const {
    std::vector<NamedTensor> inputs;
    for (const Node::Input& input : ex_.nodes_[index].inputs) {
      inputs.push_back(NamedTensor{input.input, produced_[input.source].at(input.alias)});
    }
    return inputs;
  }

  void Launch(std::vector<Ready> ready) {
    for (Ready& r : ready) RunNode(r.node, std::move(r.inputs));
  }

  void RunNode(size_t index, std::vector<NamedTensor> inputs) {
    const Node& node = ex_.nodes_[index];
    switch (node.info->kind) {
      case NodeKind::kDl: return RunModel(index, std::move(inputs));
      case NodeKind::kCustom: {
        auto outputs = node.custom->Execute(inputs, node.needed_outputs);
        if (!outputs.ok()) {
          return Fail(Status(outputs.status().code(), outputs.status().message() + "; pipeline: " + ex_.name()));
        }
        return Complete(index, ByAlias(node, std::move(outputs).value()));
      }
      case NodeKind::kExit: return Respond(std::move(inputs));
      case NodeKind::kEntry: return;  // completed in Start
    }
  }

  void RunModel(size_t index, std::vector<NamedTensor> inputs) {
    const Node& node = ex_.nodes_[index];
    auto request = std::make_shared<InferRequest>();
    request->model_name = node.info->model_name;
    request->model_version = node.info->model_version.value_or(kDefaultVersion);
    request->id = request_.id;
    request->inputs = std::move(inputs);
    request->requested_outputs = node.needed_outputs;
    auto self = shared_from_this();
    // `request` lives in the callback, which the service keeps until it runs.
    ex_.models_->Infer(*request, [self, index, request](Result<InferResponse> response) {
      const Node& node = self->ex_.nodes_[index];
      if (!response.ok()) {
        return self->Fail(Status(response.status().code(), response.status().message() + "; pipeline: " +
                                                               self->ex_.name() + "; node: " + node.info->name));
      }
      for (const std::string& wanted : node.needed_outputs) {
        auto& outputs = response->outputs;
        if (std::none_of(outputs.begin(), outputs.end(), [&](const NamedTensor& t) { return t.name == wanted; })) {
          return self->Fail(Internal("Model output missing: " + wanted + "; pipeline: " + self->ex_.name() +
                                     "; node: " + node.info->name));
        }
      }
      self->Complete(index, ByAlias(node, std::move(response->outputs)));
    });
  }

  // A node's outputs (by model/library output name) under its aliases.
  static AliasMap ByAlias(const Node& node, std::vector<NamedTensor> outputs) {
    AliasMap out;
    for (const auto& [alias, item] : node.info->output_aliases) {
      auto it = std::find_if(outputs.begin(), outputs.end(), [&](const NamedTensor& t) { return t.name == item; });
      if (it != outputs.end()) out[alias] = it->tensor;
    }
    return out;
  }

  // Records a finished node and starts every node it was the last wait of.
  void Complete(size_t index, AliasMap outputs) {
    std::vector<Ready> ready;
    bool answer_error = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      --in_flight_;
      produced_[index] = std::move(outputs);
      if (!error_.ok()) {
        answer_error = in_flight_ == 0;
      } else {
        for (size_t consumer : ex_.nodes_[index].consumers) {
          if (--remaining_[consumer] == 0) {
            ++in_flight_;
            ready.push_back(Ready{consumer, InputsOf(consumer)});
          }
        }
      }
    }
    if (answer_error) return Answer(error_);
    Launch(std::move(ready));
  }

  void Fail(Status status) {
    bool answer = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      --in_flight_;
      if (error_.ok()) error_ = std::move(status);
      answer = in_flight_ == 0;
    }
    if (answer) Answer(error_);
  }

  void Respond(std::vector<NamedTensor> outputs) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      --in_flight_;
    }
    std::sort(outputs.begin(), outputs.end(), [](const NamedTensor& a, const NamedTensor& b) { return a.name < b.name; });
    InferResponse response;
    response.model_name = ex_.name();
    response.model_version = kPipelineVersion;
    response.id = request_.id;
    response.outputs = std::move(outputs);
    Answer(std::move(response));
  }

  // Exactly once; after it the request must not be touched.
  void Answer(Result<InferResponse> result) {
    InferCallback done;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!done_) return;
      done = std::move(done_);
      done_ = nullptr;
    }
    done(std::move(result));
  }

  const PipelineExecutor& ex_;
  const InferRequest& request_;
  std::mutex mu_;
  InferCallback done_;
  std::vector<size_t> remaining_;
  std::vector<AliasMap> produced_;
  size_t in_flight_ = 0;
  Status error_;
};

void PipelineExecutor::Execute(const InferRequest& request, InferCallback done) const {
  std::make_shared<Run>(*this, request, std::move(done))->Start();
}

}  // namespace tessera::pipeline
