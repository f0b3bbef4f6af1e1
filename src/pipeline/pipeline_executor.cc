#include "pipeline/pipeline_executor.h"

#include <algorithm>
#include <cstring>
#include <functional>
#include <mutex>
#include <set>
#include <utility>

#include "common/logging.h"
#include "pipeline/entry_images.h"
#include "serving/request_validator.h"

namespace tessera::pipeline {

// Static wiring of one node. A node runs once per "session": one instance
// per combination of shard indices of the demultiplexers above it (its
// level), so a node under a demultiplexer of count N runs N times.
struct PipelineExecutor::Node {
  struct Input {
    std::string alias;  // the source's alias
    std::string input;  // this node's input (response: the pipeline output) name
  };
  struct Dep {
    size_t source = 0;
    std::vector<Input> inputs;
    // Demultiplexer levels this node gathers from the source: 0 for a plain
    // edge; then the source's shards are stacked along new leading dims.
    size_t popped = 0;
  };
  const NodeInfo* info = nullptr;
  std::vector<Dep> deps;
  std::vector<std::pair<size_t, size_t>> consumers;  // (node, index in its deps)
  std::vector<size_t> level;      // demultiplexers (node indices) above this node, outermost first
  std::vector<size_t> out_level;  // level, plus this node when it demultiplexes
  // Model/library outputs some consumer reads (DL: the requested outputs).
  std::vector<std::string> needed_outputs;
  std::shared_ptr<custom_node::CustomNode> custom;
  // A custom node's getInputsInfo, by input name (read once at Create).
  std::map<std::string, TensorInfo> custom_inputs;
};

namespace {

using AliasMap = std::map<std::string, Tensor>;
using Key = std::vector<int64_t>;  // shard index per level

inline constexpr int64_t kMaxDemultiplyCount = 10000;

// OVMS's texts of the runtime demultiplexing errors.
inline constexpr const char kWrongNumberOfDimensions[] = "Wrong number of dimensions in a tensor to be sharded";
inline constexpr const char kWrongDimensionSize[] = "Wrong dimension size. Should match demultiply count";
inline constexpr const char kTooLargeDemultiply[] = "Too large dynamic demultiplication requested.";
inline constexpr const char kNoResults[] = "Pipeline execution aborted due to no content from custom node";
inline constexpr const char kInconsistentShards[] = "Gathered tensor shards dimensions are different";

size_t IndexOf(const PipelineDefinition& definition, const std::string& name) {
  const auto& nodes = definition.nodes();
  return std::find_if(nodes.begin(), nodes.end(), [&](const NodeInfo& n) { return n.name == name; }) -
         nodes.begin();
}

// Shard `index` of `tensor` along dim 0: a view that keeps the whole alive.
Tensor Shard(const Tensor& tensor, int64_t count, int64_t index) {
  size_t bytes = tensor.byte_size() / static_cast<size_t>(count);
  Shape shape(tensor.shape().begin() + 1, tensor.shape().end());
  auto whole = std::make_shared<Tensor>(tensor);
  return Tensor::Borrow(tensor.dtype(), std::move(shape), tensor.data() + bytes * index, bytes, whole);
}

}  // namespace

PipelineExecutor::~PipelineExecutor() = default;

Result<std::unique_ptr<PipelineExecutor>> PipelineExecutor::Create(PipelineDefinition definition,
                                                                   ValidatedPipeline validated,
                                                                   InferenceService* models,
                                                                   Options options) {
  std::unique_ptr<PipelineExecutor> executor(new PipelineExecutor());
  executor->options_ = std::move(options);
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
    if (node.info->kind == NodeKind::kCustom) {
      node.custom = executor->validated_.custom_nodes.at(node.info->name);
      TESSERA_ASSIGN_OR_RETURN(auto infos, node.custom->GetInputsInfo());
      for (TensorInfo& info : infos) node.custom_inputs[info.name] = std::move(info);
    }
    for (const Dependency& dependency : d.DependenciesOf(node.info->name)) {
      Node::Dep dep;
      dep.source = IndexOf(d, dependency.node);
      for (const Mapping& mapping : dependency.mappings) {
        dep.inputs.push_back(Node::Input{mapping.alias, mapping.input});
        needed[dep.source].insert(d.nodes()[dep.source].output_aliases.at(mapping.alias));
      }
      nodes[dep.source].consumers.emplace_back(i, node.deps.size());
      node.deps.push_back(std::move(dep));
    }
  }
  // Levels, from the sources down (the validator ruled out cycles and mixed
  // levels, so the first dependency decides).
  std::vector<bool> done(nodes.size(), false);
  std::function<void(size_t)> level_of = [&](size_t i) {
    if (done[i]) return;
    Node& node = nodes[i];
    if (!node.deps.empty()) {
      for (const Node::Dep& dep : node.deps) level_of(dep.source);
      node.level = nodes[node.deps[0].source].out_level;
      while (!node.level.empty() && node.info->gather_from.count(nodes[node.level.back()].info->name)) {
        node.level.pop_back();
      }
      for (Node::Dep& dep : node.deps) dep.popped = nodes[dep.source].out_level.size() - node.level.size();
    }
    node.out_level = node.level;
    if (node.info->demultiply_count) node.out_level.push_back(i);
    done[i] = true;
  };
  for (size_t i = 0; i < nodes.size(); ++i) {
    level_of(i);
    nodes[i].needed_outputs.assign(needed[i].begin(), needed[i].end());
  }
  executor->entry_demultiplexes_ = nodes[0].info->demultiply_count.has_value();
  for (const Node& node : nodes) {
    for (const Node::Dep& dep : node.deps) {
      if (dep.source != 0) continue;  // "request" is node 0
      if (node.info->kind != NodeKind::kCustom && !executor->entry_demultiplexes_) continue;
      for (const Node::Input& input : dep.inputs) executor->entry_decoded_.insert(input.alias);
    }
  }
  return executor;
}

// One request's walk through the graph.
class PipelineExecutor::Run : public std::enable_shared_from_this<Run> {
 public:
  Run(const PipelineExecutor& executor, const InferRequest& request, InferCallback done)
      : ex_(executor), request_(request), done_(std::move(done)), instances_(executor.nodes_.size()) {}

  void Start() {
    Status valid = CheckInputs();
    if (!valid.ok()) return Answer(valid);
    auto entry = EntryTensors();
    if (!entry.ok()) return Answer(entry.status());
    // The entry node counts as running until its outputs are recorded, so
    // an early failure of a node reading nothing cannot answer first.
    std::vector<Ready> ready;
    {
      std::lock_guard<std::mutex> lock(mu_);
      in_flight_ = 1;
      for (size_t i = 1; i < ex_.nodes_.size(); ++i) {
        if (ex_.nodes_[i].deps.empty()) {
          ++in_flight_;
          ready.push_back(Ready{i, {}, {}});
        }
      }
    }
    Launch(std::move(ready));
    Complete(0, {}, std::move(entry).value());
  }

 private:
  // What a node instance waits for: per dependency, the source's outputs by
  // the popped part of their shard key (an empty key for a plain edge).
  struct Instance {
    size_t remaining = 0;
    std::vector<std::map<Key, AliasMap>> slots;
  };
  struct Ready {
    size_t node;
    Key key;
    std::vector<std::map<Key, AliasMap>> slots;
  };

  // The request against the pipeline's input metadata, with the models'
  // checker. An input whose metadata has no type (read only by "response")
  // is not checked; an encoded image (BYTES for a 4-D non-BYTES input) is
  // decoded and checked by the model that reads it.
  Status CheckInputs() const {
    const auto& required = ex_.validated_.inputs;
    if (request_.inputs.size() != required.size()) {
      return InvalidArgument("Invalid number of inputs - Expected: " + std::to_string(required.size()) +
                             "; Actual: " + std::to_string(request_.inputs.size()));
    }
    for (const TensorInfo& info : required) {
      auto same = [&](const NamedTensor& t) { return t.name == info.name; };
      auto it = std::find_if(request_.inputs.begin(), request_.inputs.end(), same);
      if (it == request_.inputs.end()) {
        return InvalidArgument("Missing input with specific name - Required input: " + info.name);
      }
      if (info.dtype == DataType::kInvalid) continue;
      if (IsEncodedImageInput(info, it->tensor, ex_.entry_demultiplexes_)) continue;  // EntryTensors
      TESSERA_RETURN_IF_ERROR(CheckInput(info, ShapeConstraint::FromShape(info.shape), it->tensor));
    }
    return Status::Ok();
  }

  // The request's tensors by name, encoded images decoded where the entry
  // decodes them (entry_images.h).
  Result<AliasMap> EntryTensors() const {
    AliasMap entry;
    for (const NamedTensor& input : request_.inputs) {
      const TensorInfo* info = InputInfo(input.name);
      if (info && ex_.entry_decoded_.count(input.name) &&
          IsEncodedImageInput(*info, input.tensor, ex_.entry_demultiplexes_)) {
        TESSERA_ASSIGN_OR_RETURN(entry[input.name], DecodeEntryImages(*info, input.tensor, ex_.entry_demultiplexes_,
                                                                      ex_.options_.max_image_pixels));
        continue;
      }
      entry[input.name] = input.tensor;
    }
    return entry;
  }

  const TensorInfo* InputInfo(const std::string& name) const {
    for (const TensorInfo& info : ex_.validated_.inputs) {
      if (info.name == name) return &info;
    }
    return nullptr;
  }

  // A custom node's inputs against its getInputsInfo (-1 dims and an
  // UNSPECIFIED precision accept anything), so the library only reads
  // buffers of the sizes it declared. kInvalidArgument when the tensor is
  // the request's, kInternal when an earlier node produced it.
  Status CheckCustomInputs(size_t index, const std::vector<NamedTensor>& inputs) const {
    const Node& node = ex_.nodes_[index];
    for (const NamedTensor& input : inputs) {
      auto it = node.custom_inputs.find(input.name);
      if (it == node.custom_inputs.end()) continue;  // the validator connected only declared inputs
      Status valid = CheckInput(it->second, ShapeConstraint::FromShape(it->second.shape), input.tensor);
      if (valid.ok()) continue;
      StatusCode code = FromRequest(node, input.name) ? StatusCode::kInvalidArgument : StatusCode::kInternal;
      return Status(code, valid.message() + Where(index));
    }
    return Status::Ok();
  }

  // True when `node`'s input `name` is fed straight by "request".
  bool FromRequest(const Node& node, const std::string& name) const {
    for (const Node::Dep& dep : node.deps) {
      if (ex_.nodes_[dep.source].info->kind != NodeKind::kEntry) continue;
      for (const Node::Input& input : dep.inputs) {
        if (input.input == name) return true;
      }
    }
    return false;
  }

  std::string Where(size_t index) const {
    return "; pipeline: " + ex_.name() + "; node: " + ex_.nodes_[index].info->name;
  }

  void Launch(std::vector<Ready> ready) {
    for (Ready& r : ready) RunNode(std::move(r));
  }

  // The shard counts of the levels a dependency gathers, outermost first.
  // REQUIRES: mu_ held; every demultiplexer of those levels has run.
  std::vector<int64_t> GatherCounts(const Node::Dep& dep, const Key& key) const {
    const auto& levels = ex_.nodes_[dep.source].out_level;
    std::vector<int64_t> counts;
    for (size_t q = levels.size() - dep.popped; q < levels.size(); ++q) {
      int64_t fixed = *ex_.nodes_[levels[q]].info->demultiply_count;
      // A dynamic demultiplexer is the only one (validated), so its instance key is `key`.
      counts.push_back(fixed > 0 ? fixed : shard_counts_.at({levels[q], key}));
    }
    return counts;
  }

  // Builds a node instance's inputs, stacking gathered shards in shard order.
  Result<std::vector<NamedTensor>> InputsOf(const Ready& r) const {
    const Node& node = ex_.nodes_[r.node];
    std::vector<NamedTensor> inputs;
    for (size_t j = 0; j < node.deps.size(); ++j) {
      const Node::Dep& dep = node.deps[j];
      const auto& slots = r.slots[j];
      for (const Node::Input& input : dep.inputs) {
        if (dep.popped == 0) {
          inputs.push_back(NamedTensor{input.input, slots.begin()->second.at(input.alias)});
          continue;
        }
        TESSERA_ASSIGN_OR_RETURN(Tensor stacked, Stack(r, dep, slots, input.alias));
        inputs.push_back(NamedTensor{input.input, std::move(stacked)});
      }
    }
    return inputs;
  }

  Result<Tensor> Stack(const Ready& r, const Node::Dep& dep, const std::map<Key, AliasMap>& slots,
                       const std::string& alias) const {
    std::vector<int64_t> counts;
    {
      std::lock_guard<std::mutex> lock(mu_);
      counts = GatherCounts(dep, r.key);
    }
    const Tensor& first = slots.begin()->second.at(alias);
    for (const auto& [key, aliases] : slots) {
      const Tensor& shard = aliases.at(alias);
      if (shard.dtype() != first.dtype() || shard.shape() != first.shape() ||
          shard.byte_size() != first.byte_size()) {
        return Internal(std::string(kInconsistentShards) + Where(r.node) + "; input: " + alias + "; shard " +
                        ShapeToString(shard.shape()) + " vs " + ShapeToString(first.shape()));
      }
    }
    Shape shape(counts.begin(), counts.end());
    shape.insert(shape.end(), first.shape().begin(), first.shape().end());
    std::string bytes;
    bytes.reserve(first.byte_size() * slots.size());
    for (const auto& [key, aliases] : slots) {
      const Tensor& shard = aliases.at(alias);
      bytes.append(reinterpret_cast<const char*>(shard.data()), shard.byte_size());
    }
    return Tensor::FromBytes(first.dtype(), std::move(shape), std::move(bytes));
  }

  void RunNode(Ready r) {
    const Node& node = ex_.nodes_[r.node];
    auto inputs = InputsOf(r);
    if (!inputs.ok()) return Fail(inputs.status());
    switch (node.info->kind) {
      case NodeKind::kDl: return RunModel(r.node, std::move(r.key), std::move(inputs).value());
      case NodeKind::kCustom: {
        if (!ex_.options_.custom_node_runner) return RunCustom(r.node, std::move(r.key), std::move(inputs).value());
        auto self = shared_from_this();
        auto task = [self, index = r.node, key = std::move(r.key), in = std::move(inputs).value()]() mutable {
          self->RunCustom(index, std::move(key), std::move(in));
        };
        return ex_.options_.custom_node_runner(std::move(task));
      }
      case NodeKind::kExit: return Respond(std::move(inputs).value());
      case NodeKind::kEntry: return;  // completed in Start
    }
  }

  void RunCustom(size_t index, Key key, std::vector<NamedTensor> inputs) {
    const Node& node = ex_.nodes_[index];
    Status valid = CheckCustomInputs(index, inputs);
    if (!valid.ok()) return Fail(std::move(valid));
    auto start = std::chrono::steady_clock::now();
    auto outputs = node.custom->Execute(inputs, node.needed_outputs);
    Observe(index, start);
    if (!outputs.ok()) {
      return Fail(Status(outputs.status().code(), outputs.status().message() + "; pipeline: " + ex_.name()));
    }
    Complete(index, std::move(key), ByAlias(node, std::move(outputs).value()));
  }

  void RunModel(size_t index, Key key, std::vector<NamedTensor> inputs) {
    const Node& node = ex_.nodes_[index];
    auto request = std::make_shared<InferRequest>();
    request->model_name = node.info->model_name;
    request->model_version = node.info->model_version.value_or(kDefaultVersion);
    request->id = request_.id;
    request->inputs = std::move(inputs);
    request->requested_outputs = node.needed_outputs;
    auto self = shared_from_this();
    auto start = std::chrono::steady_clock::now();
    // `request` lives in the callback, which the service keeps until it runs.
    ex_.models_->Infer(*request, [self, index, key = std::move(key), request,
                                  start](Result<InferResponse> response) {
      self->Observe(index, start);
      const Node& node = self->ex_.nodes_[index];
      if (!response.ok()) {
        return self->Fail(Status(response.status().code(), response.status().message() + self->Where(index)));
      }
      for (const std::string& wanted : node.needed_outputs) {
        auto& outputs = response->outputs;
        if (std::none_of(outputs.begin(), outputs.end(), [&](const NamedTensor& t) { return t.name == wanted; })) {
          return self->Fail(Internal("Model output missing: " + wanted + self->Where(index)));
        }
      }
      self->Complete(index, key, ByAlias(node, std::move(response->outputs)));
    });
  }

  void Observe(size_t index, std::chrono::steady_clock::time_point start) const {
    if (!ex_.options_.node_time_observer) return;
    auto elapsed = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start);
    ex_.options_.node_time_observer(ex_.nodes_[index].info->name, elapsed);
  }

  // A node's outputs (by model/library output name) under its aliases.
  static AliasMap ByAlias(const Node& node, std::vector<NamedTensor> outputs) {
    AliasMap out;
    for (const auto& [alias, item] : node.info->output_aliases) {
      const std::string& wanted = item;  // clang 14 cannot capture a structured binding
      auto it = std::find_if(outputs.begin(), outputs.end(), [&](const NamedTensor& t) { return t.name == wanted; });
      if (it != outputs.end()) out[alias] = it->tensor;
    }
    return out;
  }

  // The shard count of a demultiplexer's outputs, checked as OVMS does.
  Result<int64_t> ShardCount(size_t index, const AliasMap& outputs) const {
    const NodeInfo& info = *ex_.nodes_[index].info;
    int64_t configured = *info.demultiply_count;
    std::optional<int64_t> count;
    // A request that cannot be split is the client's error; a node's output is the pipeline's.
    StatusCode code = info.kind == NodeKind::kEntry ? StatusCode::kInvalidArgument : StatusCode::kInternal;
    for (const auto& [alias, tensor] : outputs) {
      const Shape& shape = tensor.shape();
      std::string what = Where(index) + "; output: " + alias + "; shape: " + ShapeToString(shape);
      if (shape.size() < 3) return Status(code, std::string(kWrongNumberOfDimensions) + what + "; must be at least 3");
      if (shape[0] > kMaxDemultiplyCount) return Status(code, std::string(kTooLargeDemultiply) + what);
      int64_t expected = configured > 0 ? configured : count.value_or(shape[0]);
      if (shape[0] != expected) {
        return Status(code, std::string(kWrongDimensionSize) + what + "; expected: " + std::to_string(expected));
      }
      count = shape[0];
    }
    if (count.value_or(0) == 0) return Status(StatusCode::kAborted, std::string(kNoResults) + Where(index));
    return *count;
  }

  // Records a finished node instance and starts every instance it was the
  // last wait of.
  void Complete(size_t index, Key key, AliasMap outputs) {
    const Node& node = ex_.nodes_[index];
    // The slots this instance fills: itself, or one per shard.
    std::vector<std::pair<Key, AliasMap>> produced;
    if (node.info->demultiply_count) {
      auto count = ShardCount(index, outputs);
      if (!count.ok() && count.status().code() == StatusCode::kAborted && AnswersEmpty(index)) {
        return FinishEmpty(count.status());
      }
      if (!count.ok()) return Fail(count.status());
      for (int64_t i = 0; i < *count; ++i) {
        Key shard_key = key;
        shard_key.push_back(i);
        AliasMap shard;
        for (const auto& [alias, tensor] : outputs) shard[alias] = Shard(tensor, *count, i);
        produced.emplace_back(std::move(shard_key), std::move(shard));
      }
      std::lock_guard<std::mutex> lock(mu_);
      shard_counts_[{index, key}] = *count;
    } else {
      produced.emplace_back(std::move(key), std::move(outputs));
    }

    std::vector<Ready> ready;
    bool answer_error = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      --in_flight_;
      if (!error_.ok()) {
        answer_error = in_flight_ == 0;
      } else {
        for (auto& [slot_key, aliases] : produced) Deliver(index, slot_key, aliases, ready);
      }
    }
    if (answer_error) return Drained();
    Launch(std::move(ready));
  }

  // REQUIRES: mu_ held.
  void Deliver(size_t source, const Key& slot_key, const AliasMap& aliases, std::vector<Ready>& ready) {
    for (const auto& [consumer, j] : ex_.nodes_[source].consumers) {
      const Node& node = ex_.nodes_[consumer];
      const Node::Dep& dep = node.deps[j];
      Key key(slot_key.begin(), slot_key.end() - static_cast<std::ptrdiff_t>(dep.popped));
      Key suffix(slot_key.end() - static_cast<std::ptrdiff_t>(dep.popped), slot_key.end());
      auto [it, created] = instances_[consumer].try_emplace(key);
      Instance& instance = it->second;
      if (created) {
        instance.remaining = node.deps.size();
        instance.slots.resize(node.deps.size());
      }
      instance.slots[j][suffix] = aliases;
      size_t expected = 1;
      if (dep.popped > 0) {
        for (int64_t count : GatherCounts(dep, key)) expected *= static_cast<size_t>(count);
      }
      if (instance.slots[j].size() != expected) continue;
      if (--instance.remaining > 0) continue;
      ++in_flight_;
      ready.push_back(Ready{consumer, key, std::move(instance.slots)});
      instances_[consumer].erase(it);
    }
  }

  void Fail(Status status) {
    bool answer = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      --in_flight_;
      if (error_.ok()) error_ = std::move(status);
      answer = in_flight_ == 0;
    }
    if (answer) Drained();
  }

  // True when a 0-shard result of demultiplexer `index` is answered with
  // empty outputs: the pipeline opted in and "response" gathers it.
  bool AnswersEmpty(size_t index) const {
    return ex_.definition_.empty_demultiplex() == EmptyDemultiplex::kEmptyResult &&
           ex_.nodes_.back().info->gather_from.count(ex_.nodes_[index].info->name) > 0;
  }

  // Stops scheduling like a failure, but the answer is the empty response.
  void FinishEmpty(Status reason) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (error_.ok()) empty_result_ = true;
    }
    Fail(std::move(reason));
  }

  // Every started node has finished after a failure or an empty result.
  void Drained() {
    bool empty;
    {
      std::lock_guard<std::mutex> lock(mu_);
      empty = empty_result_;
    }
    if (!empty) return Answer(error_);
    TLOG_DEBUG("Pipeline {}: a demultiplexer returned no rows; answering empty outputs", ex_.name());
    Respond(EmptyOutputs(), /*counted=*/false);
  }

  // Each pipeline output as its metadata says with every unknown dim 0 (the
  // gathered dim among them); an output taken from "request" (the 0-row
  // demultiplexer itself) is the request's tensor.
  std::vector<NamedTensor> EmptyOutputs() const {
    std::vector<NamedTensor> outputs;
    const Node& exit = ex_.nodes_.back();
    for (const Node::Dep& dep : exit.deps) {
      for (const Node::Input& input : dep.inputs) {
        if (ex_.nodes_[dep.source].info->kind == NodeKind::kEntry) {
          for (const NamedTensor& t : request_.inputs) {
            if (t.name == input.alias) outputs.push_back(NamedTensor{input.input, t.tensor});
          }
          continue;
        }
        for (const TensorInfo& info : ex_.validated_.outputs) {
          if (info.name != input.input) continue;
          Shape shape = info.shape;
          for (int64_t& dim : shape) dim = dim < 0 ? 0 : dim;
          if (!shape.empty()) shape[0] = 0;
          outputs.push_back(NamedTensor{info.name, Tensor::FromBytes(info.dtype, shape, std::string())});
        }
      }
    }
    return outputs;
  }

  void Respond(std::vector<NamedTensor> outputs, bool counted = true) {
    if (counted) {
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
  mutable std::mutex mu_;
  InferCallback done_;
  std::vector<std::map<Key, Instance>> instances_;  // per node: instances still waiting
  std::map<std::pair<size_t, Key>, int64_t> shard_counts_;  // demultiplexer instance -> shards
  size_t in_flight_ = 0;
  Status error_;
  bool empty_result_ = false;  // the answer after draining is the empty response
};

void PipelineExecutor::Execute(const InferRequest& request, InferCallback done) const {
  std::make_shared<Run>(*this, request, std::move(done))->Start();
}

}  // namespace tessera::pipeline
