#include "backend/onnx/onnx_emitter.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <queue>

namespace tessera::onnx_import {

// ---------------------------------------------------------------------------
// Tables and literals

const OpTable& Ops() {
  static const OpTable* table = [] {
    auto* t = new OpTable;
    RegisterElementwiseOps(*t);
    RegisterNnOps(*t);
    RegisterTensorOps(*t);
    RegisterReduceOps(*t);
    RegisterResizeOps(*t);
    RegisterLossOps(*t);
    RegisterQuantOps(*t);
    RegisterSignalOps(*t);
    RegisterRnnOps(*t);
    RegisterControlFlowOps(*t);
    return t;
  }();
  return *table;
}

std::optional<int> TorchDtypeCode(int onnx_type) {
  switch (onnx_type) {
    case onnx::TensorProto::FLOAT: return 6;
    case onnx::TensorProto::UINT8: return 0;
    case onnx::TensorProto::INT8: return 1;
    case onnx::TensorProto::INT16: return 2;
    case onnx::TensorProto::INT32: return 3;
    case onnx::TensorProto::INT64: return 4;
    case onnx::TensorProto::BOOL: return 11;
    case onnx::TensorProto::FLOAT16: return 5;
    case onnx::TensorProto::DOUBLE: return 7;
    case onnx::TensorProto::COMPLEX64: return 9;
    case onnx::TensorProto::COMPLEX128: return 10;
    case onnx::TensorProto::BFLOAT16: return 15;
    // libtorch has no unsigned types wider than 8 bits: computed widened
    // (uint64 values above 2^63 wrap).
    case onnx::TensorProto::UINT16: return 3;
    case onnx::TensorProto::UINT32: return 4;
    case onnx::TensorProto::UINT64: return 4;
    default: return std::nullopt;
  }
}

std::string OnnxTypeName(int onnx_type) {
  if (onnx::TensorProto::DataType_IsValid(onnx_type)) {
    return onnx::TensorProto::DataType_Name(static_cast<onnx::TensorProto::DataType>(onnx_type));
  }
  return "type " + std::to_string(onnx_type);
}

std::string FloatLit(double v) {
  if (std::isnan(v)) return "float('nan')";
  if (std::isinf(v)) return v > 0 ? "float('inf')" : "float('-inf')";
  // Attributes are float32: print the shortest text that reads back as the
  // same float32 when it is one, else the double.
  std::string s = static_cast<double>(static_cast<float>(v)) == v
                      ? fmt::format("{}", static_cast<float>(v))
                      : fmt::format("{}", v);
  if (s.find_first_of(".e") == std::string::npos) s += ".0";
  return s;
}

std::string IntList(const std::vector<int64_t>& v) {
  if (v.empty()) return "[]";
  return fmt::format("[{}]", fmt::join(v, ", "));
}

std::string FloatList(const std::vector<double>& v) {
  std::string out = "[";
  for (size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + FloatLit(v[i]);
  if (v.empty()) return "[]";
  return out + "]";
}

std::string BoolLit(bool v) { return v ? "True" : "False"; }

std::string StrLit(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

namespace {

template <typename T>
std::vector<T> FromRaw(const std::string& raw) {
  std::vector<T> v(raw.size() / sizeof(T));
  if (!v.empty()) std::memcpy(v.data(), raw.data(), v.size() * sizeof(T));
  return v;
}

template <typename Out, typename In>
std::vector<Out> Convert(const std::vector<In>& in) {
  return std::vector<Out>(in.begin(), in.end());
}

bool IsExternal(const onnx::TensorProto& t) {
  return t.data_location() == onnx::TensorProto::EXTERNAL;
}

}  // namespace

std::optional<std::vector<int64_t>> TensorInts(const onnx::TensorProto& t) {
  if (IsExternal(t)) return std::nullopt;
  const bool raw = t.has_raw_data();
  switch (t.data_type()) {
    case onnx::TensorProto::INT64:
      if (raw) return FromRaw<int64_t>(t.raw_data());
      return std::vector<int64_t>(t.int64_data().begin(), t.int64_data().end());
    case onnx::TensorProto::INT32:
      if (raw) return Convert<int64_t>(FromRaw<int32_t>(t.raw_data()));
      return std::vector<int64_t>(t.int32_data().begin(), t.int32_data().end());
    case onnx::TensorProto::INT16:
      if (raw) return Convert<int64_t>(FromRaw<int16_t>(t.raw_data()));
      return std::vector<int64_t>(t.int32_data().begin(), t.int32_data().end());
    case onnx::TensorProto::INT8:
      if (raw) return Convert<int64_t>(FromRaw<int8_t>(t.raw_data()));
      return std::vector<int64_t>(t.int32_data().begin(), t.int32_data().end());
    case onnx::TensorProto::UINT8:
    case onnx::TensorProto::BOOL:
      if (raw) return Convert<int64_t>(FromRaw<uint8_t>(t.raw_data()));
      return std::vector<int64_t>(t.int32_data().begin(), t.int32_data().end());
    default:
      return std::nullopt;
  }
}

std::optional<std::vector<double>> TensorFloats(const onnx::TensorProto& t) {
  if (IsExternal(t)) return std::nullopt;
  const bool raw = t.has_raw_data();
  switch (t.data_type()) {
    case onnx::TensorProto::FLOAT:
      if (raw) return Convert<double>(FromRaw<float>(t.raw_data()));
      return std::vector<double>(t.float_data().begin(), t.float_data().end());
    case onnx::TensorProto::DOUBLE:
      if (raw) return FromRaw<double>(t.raw_data());
      return std::vector<double>(t.double_data().begin(), t.double_data().end());
    default: {
      auto ints = TensorInts(t);
      if (!ints) return std::nullopt;
      return Convert<double>(*ints);
    }
  }
}

// ---------------------------------------------------------------------------
// GraphEmitter

GraphEmitter::GraphEmitter(const onnx::ModelProto& model, int64_t opset)
    : model_(model), opset_(opset) {}

GraphEmitter::~GraphEmitter() = default;

void GraphEmitter::Line(const std::string& text) {
  body_.append(static_cast<size_t>(indent_) * 4, ' ');
  body_ += text;
  body_ += '\n';
}

std::string GraphEmitter::FreshName(const std::string& prefix) {
  return prefix + std::to_string(counter_++);
}

std::string GraphEmitter::UseHelper(const std::string& name) {
  helpers_used_.insert(name);
  return "self." + name;
}

std::string GraphEmitter::AddBuffer(const onnx::TensorProto* tensor) {
  auto it = buffer_names_.find(tensor);
  if (it != buffer_names_.end()) return "self." + it->second;
  std::string name = "c" + std::to_string(buffers_.size());
  buffer_names_[tensor] = name;
  buffers_.push_back({name, tensor});
  return "self." + name;
}

const onnx::TensorProto* GraphEmitter::OwnTensor(onnx::TensorProto tensor) {
  owned_.push_back(std::move(tensor));
  return &owned_.back();
}

std::optional<std::string> GraphEmitter::Lookup(const std::string& onnx_name) const {
  for (auto scope = scopes_.rbegin(); scope != scopes_.rend(); ++scope) {
    auto it = scope->find(onnx_name);
    if (it != scope->end()) return it->second;
  }
  return std::nullopt;
}

void GraphEmitter::Bind(const std::string& onnx_name, const std::string& expr) {
  scopes_.back()[onnx_name] = expr;
}

const onnx::TensorProto* GraphEmitter::ConstantValue(const std::string& onnx_name) const {
  auto it = constants_.find(onnx_name);
  return it == constants_.end() ? nullptr : it->second;
}

void GraphEmitter::SetConstantValue(const std::string& onnx_name,
                                    const onnx::TensorProto* tensor) {
  constants_[onnx_name] = tensor;
}

const onnx::TypeProto* GraphEmitter::TypeOf(const std::string& onnx_name) const {
  auto it = types_.find(onnx_name);
  return it == types_.end() ? nullptr : it->second;
}

namespace {

// Names a node reads, including those its subgraphs read from outer scopes.
void CollectReads(const onnx::NodeProto& node, std::vector<std::string>& reads) {
  for (const auto& in : node.input()) {
    if (!in.empty()) reads.push_back(in);
  }
  for (const auto& attr : node.attribute()) {
    std::vector<const onnx::GraphProto*> graphs;
    if (attr.has_g()) graphs.push_back(&attr.g());
    for (const auto& g : attr.graphs()) graphs.push_back(&g);
    for (const onnx::GraphProto* g : graphs) {
      std::set<std::string> local;
      for (const auto& i : g->input()) local.insert(i.name());
      for (const auto& i : g->initializer()) local.insert(i.name());
      for (const auto& n : g->node()) {
        for (const auto& o : n.output()) local.insert(o);
      }
      std::vector<std::string> inner;
      for (const auto& n : g->node()) CollectReads(n, inner);
      for (const auto& o : g->output()) inner.push_back(o.name());
      for (auto& name : inner) {
        if (!local.count(name)) reads.push_back(name);
      }
    }
  }
}

std::string NodeLabel(const onnx::NodeProto& node) {
  return node.op_type() + (node.name().empty() ? "" : " '" + node.name() + "'");
}

}  // namespace

Status GraphEmitter::EmitNodes(const onnx::GraphProto& graph) {
  for (const auto& init : graph.initializer()) {
    constants_[init.name()] = &init;
  }
  for (const auto* list : {&graph.input(), &graph.output(), &graph.value_info()}) {
    for (const auto& vi : *list) {
      if (vi.has_type()) types_[vi.name()] = &vi.type();
    }
  }

  // Kahn's algorithm: ONNX requires sorted nodes, but exporters do not all
  // comply, and a cycle must be an error rather than a hang or a crash.
  const int n = graph.node_size();
  std::map<std::string, int> producer;
  for (int i = 0; i < n; ++i) {
    for (const auto& out : graph.node(i).output()) {
      if (out.empty()) continue;
      if (producer.count(out) || Lookup(out) || constants_.count(out)) {
        // ONNX graphs are SSA; an initializer or input name being produced
        // again is tolerated only if it is not also produced by two nodes.
        if (producer.count(out)) {
          return InvalidArgument("ONNX graph: value '" + out + "' is produced by both " +
                                 NodeLabel(graph.node(producer[out])) + " and " +
                                 NodeLabel(graph.node(i)));
        }
      }
      producer[out] = i;
    }
  }
  std::vector<std::vector<int>> users(n);
  std::vector<int> pending(n, 0);
  for (int i = 0; i < n; ++i) {
    std::vector<std::string> reads;
    CollectReads(graph.node(i), reads);
    std::set<int> deps;
    for (const auto& name : reads) {
      auto it = producer.find(name);
      if (it != producer.end()) {
        if (it->second == i) {
          return InvalidArgument("ONNX graph has a cycle: " + NodeLabel(graph.node(i)) +
                                 " reads its own output '" + name + "'");
        }
        deps.insert(it->second);
      } else if (!Lookup(name) && !constants_.count(name)) {
        return InvalidArgument("ONNX graph: " + NodeLabel(graph.node(i)) + " reads '" + name +
                               "', which is not a graph input, an initializer or a node output");
      }
    }
    pending[i] = static_cast<int>(deps.size());
    for (int d : deps) users[d].push_back(i);
  }
  std::queue<int> ready;
  for (int i = 0; i < n; ++i) {
    if (pending[i] == 0) ready.push(i);
  }
  int emitted = 0;
  while (!ready.empty()) {
    int i = ready.front();
    ready.pop();
    TESSERA_RETURN_IF_ERROR(EmitNode(graph.node(i)));
    ++emitted;
    for (int u : users[i]) {
      if (--pending[u] == 0) ready.push(u);
    }
  }
  if (emitted != n) {
    for (int i = 0; i < n; ++i) {
      if (pending[i] > 0) {
        return InvalidArgument("ONNX graph has a cycle through " + NodeLabel(graph.node(i)));
      }
    }
  }
  return Status::Ok();
}

Status GraphEmitter::EmitNode(const onnx::NodeProto& node) {
  NodeEmitter e(*this, node);
  const std::string& domain = node.domain();
  if (!domain.empty() && domain != "ai.onnx") {
    return Unimplemented("Unsupported ONNX operator '" + domain + "." + node.op_type() +
                         "' (node '" + node.name() + "'): only the default ONNX domain is supported");
  }
  const OpTable& table = Ops();
  auto it = table.ops.find(node.op_type());
  if (it == table.ops.end()) {
    return Unimplemented("Unsupported ONNX operator " + e.Describe());
  }
  std::string comment = "# " + node.op_type();
  if (!node.name().empty()) {
    std::string name = node.name();
    std::replace(name.begin(), name.end(), '\n', ' ');
    comment += " " + name;
  }
  Line(comment);
  TESSERA_RETURN_IF_ERROR(it->second(e));
  for (int i = 0; i < node.output_size(); ++i) {
    if (!node.output(i).empty() && !Lookup(node.output(i))) {
      return Unimplemented(e.Describe() + ": output " + std::to_string(i) +
                           " ('" + node.output(i) + "') is not supported");
    }
  }
  return Status::Ok();
}

Result<std::vector<std::string>> GraphEmitter::EmitSubgraph(
    const onnx::GraphProto& graph, const std::vector<std::string>& input_exprs, int indent) {
  if (static_cast<size_t>(graph.input_size()) != input_exprs.size()) {
    return InvalidArgument("ONNX subgraph '" + graph.name() + "' takes " +
                           std::to_string(graph.input_size()) + " inputs, given " +
                           std::to_string(input_exprs.size()));
  }
  int saved_indent = indent_;
  indent_ = indent;
  scopes_.emplace_back();
  for (int i = 0; i < graph.input_size(); ++i) Bind(graph.input(i).name(), input_exprs[i]);
  Status status = EmitNodes(graph);
  std::vector<std::string> outputs;
  if (status.ok()) {
    for (const auto& out : graph.output()) {
      auto expr = Lookup(out.name());
      if (!expr) {
        if (const auto* c = ConstantValue(out.name())) expr = AddBuffer(c);
      }
      if (!expr) {
        status = InvalidArgument("ONNX subgraph output '" + out.name() + "' is not defined");
        break;
      }
      outputs.push_back(*expr);
    }
  }
  // A branch with no statement still needs one.
  Line("pass");
  scopes_.pop_back();
  indent_ = saved_indent;
  if (!status.ok()) return status;
  return outputs;
}

Result<EmittedModule> GraphEmitter::Emit() {
  const onnx::GraphProto& graph = model_.graph();
  EmittedModule result;
  scopes_.emplace_back();
  std::set<std::string> initializers;
  for (const auto& init : graph.initializer()) initializers.insert(init.name());
  std::vector<std::string> params;
  for (const auto& in : graph.input()) {
    if (initializers.count(in.name())) continue;
    std::string var = "x" + std::to_string(params.size());
    Bind(in.name(), var);
    params.push_back(var + ": Tensor");
    result.input_names.push_back(in.name());
  }
  TESSERA_RETURN_IF_ERROR(EmitNodes(graph));
  std::vector<std::string> outs;
  for (const auto& out : graph.output()) {
    auto expr = Lookup(out.name());
    if (!expr) {
      if (const auto* c = ConstantValue(out.name())) expr = AddBuffer(c);
    }
    if (!expr) return InvalidArgument("ONNX graph output '" + out.name() + "' is not defined");
    // Outputs have their declared element type (a no-op when they do).
    int elem = out.type().tensor_type().elem_type();
    if (auto code = TorchDtypeCode(elem); code && out.type().has_tensor_type()) {
      *expr += ".to(" + std::to_string(*code) + ")";
    }
    outs.push_back(*expr);
    result.output_names.push_back(out.name());
  }
  if (outs.empty()) return InvalidArgument("ONNX graph has no outputs");
  Line("return (" + fmt::format("{}", fmt::join(outs, ", ")) + ",)");

  // Helpers used, with what they call.
  const OpTable& table = Ops();
  std::set<std::string> all;
  std::vector<std::string> todo(helpers_used_.begin(), helpers_used_.end());
  while (!todo.empty()) {
    std::string name = todo.back();
    todo.pop_back();
    if (!all.insert(name).second) continue;
    auto it = table.helpers.find(name);
    if (it == table.helpers.end()) return Internal("ONNX importer: no helper named " + name);
    for (const auto& d : it->second.deps) todo.push_back(d);
  }
  for (const auto& name : all) {
    result.source += table.helpers.at(name).source;
    result.source += "\n";
  }
  result.source += "def forward(self" + (params.empty() ? "" : ", " + fmt::format("{}", fmt::join(params, ", "))) + "):\n";
  result.source += body_;
  result.buffers = buffers_;
  return result;
}

// ---------------------------------------------------------------------------
// NodeEmitter

std::string NodeEmitter::In(int i) const {
  const std::string& name = node_.input(i);
  if (auto expr = g_.Lookup(name)) return *expr;
  if (const auto* c = g_.ConstantValue(name)) {
    std::string expr = g_.AddBuffer(c);
    return expr;
  }
  // EmitNodes checked every input exists; reaching here is an importer bug.
  return "UNDEFINED_" + name;
}

const onnx::TensorProto* NodeEmitter::Const(int i) const {
  if (!Has(i)) return nullptr;
  return g_.ConstantValue(node_.input(i));
}

std::optional<std::vector<int64_t>> NodeEmitter::ConstInts(int i) const {
  const auto* t = Const(i);
  if (!t) return std::nullopt;
  return TensorInts(*t);
}

std::optional<std::vector<double>> NodeEmitter::ConstFloats(int i) const {
  const auto* t = Const(i);
  if (!t) return std::nullopt;
  return TensorFloats(*t);
}

std::string NodeEmitter::IntListIn(int i) const {
  if (auto v = ConstInts(i)) return IntList(*v);
  // tolist() needs its type from an annotated assignment.
  std::string var = g_.FreshName("l");
  g_.Line(var + ": List[int] = " + In(i) + ".to(4).flatten().tolist()");
  return var;
}

std::string NodeEmitter::FloatListIn(int i) const {
  if (auto v = ConstFloats(i)) return FloatList(*v);
  std::string var = g_.FreshName("l");
  g_.Line(var + ": List[float] = " + In(i) + ".to(7).flatten().tolist()");
  return var;
}

std::optional<int> NodeEmitter::Rank(int i) const {
  if (!Has(i)) return std::nullopt;
  if (const auto* c = Const(i)) return c->dims_size();
  const auto* type = g_.TypeOf(node_.input(i));
  if (!type || !type->has_tensor_type() || !type->tensor_type().has_shape()) return std::nullopt;
  return type->tensor_type().shape().dim_size();
}

std::optional<int> NodeEmitter::ElemType(int i) const {
  if (!Has(i)) return std::nullopt;
  if (const auto* c = Const(i)) return c->data_type();
  const auto* type = g_.TypeOf(node_.input(i));
  if (!type || !type->has_tensor_type() || type->tensor_type().elem_type() == 0) {
    return std::nullopt;
  }
  return type->tensor_type().elem_type();
}

std::string NodeEmitter::Out(int i) {
  if (!HasOut(i)) return g_.FreshName("_unused");
  if (auto existing = g_.Lookup(node_.output(i))) {
    // Re-assigning in a nested scope would shadow; always use a new name.
    (void)existing;
  }
  std::string var = g_.FreshName("v");
  g_.Bind(node_.output(i), var);
  return var;
}

void NodeEmitter::Alias(int i, const std::string& expr) {
  if (HasOut(i)) g_.Bind(node_.output(i), expr);
}

const onnx::AttributeProto* NodeEmitter::Attr(const std::string& name) const {
  for (const auto& a : node_.attribute()) {
    if (a.name() == name) return &a;
  }
  return nullptr;
}

int64_t NodeEmitter::Int(const std::string& name, int64_t fallback) const {
  const auto* a = Attr(name);
  return a ? a->i() : fallback;
}

double NodeEmitter::Float(const std::string& name, double fallback) const {
  const auto* a = Attr(name);
  return a ? a->f() : fallback;
}

std::string NodeEmitter::Str(const std::string& name, const std::string& fallback) const {
  const auto* a = Attr(name);
  return a ? a->s() : fallback;
}

std::optional<std::vector<int64_t>> NodeEmitter::Ints(const std::string& name) const {
  const auto* a = Attr(name);
  if (!a) return std::nullopt;
  return std::vector<int64_t>(a->ints().begin(), a->ints().end());
}

std::optional<std::vector<double>> NodeEmitter::Floats(const std::string& name) const {
  const auto* a = Attr(name);
  if (!a) return std::nullopt;
  return std::vector<double>(a->floats().begin(), a->floats().end());
}

std::string NodeEmitter::Describe() const {
  return "'" + node_.op_type() + "' (node '" + node_.name() + "', opset " +
         std::to_string(opset()) + ")";
}

Status NodeEmitter::Unsupported(const std::string& what) const {
  return Unimplemented("ONNX operator " + Describe() + ": " + what + " is not supported");
}

Status NodeEmitter::Invalid(const std::string& what) const {
  return InvalidArgument("ONNX operator " + Describe() + ": " + what);
}

}  // namespace tessera::onnx_import
