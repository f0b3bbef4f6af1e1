// ONNX graph -> TorchScript source.
//
// The importer turns an ONNX graph into the source of a TorchScript module:
// forward() takes the graph inputs in order and returns a tuple of the graph
// outputs; every ONNX value becomes a local variable, every node a few
// statements calling aten ops (torch.*) directly, or a helper method of the
// module when the ONNX semantics need more than one aten call (ONNX Reshape's
// 0 dims, Slice with negative steps, Resize coordinate modes...). Tensors
// known at load time (initializers, Constant nodes) become module buffers
// (self.cN); torch::jit::freeze later turns them into graph constants, so
// shape arithmetic on constants folds away and convolutions fold their
// batch norms.
//
// Why source text rather than torch::jit::Graph calls: the TorchScript
// compiler does the schema matching, implicit conversions and type checking,
// the op helpers read like the ONNX specification, and a failing model can be
// debugged by reading the generated code (logged at debug level).
//
// This header includes no libtorch header: op translators only write text.
// Not thread-safe; one GraphEmitter per import.
#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/result.h"
#include "onnx/onnx_pb.h"

namespace tessera::onnx_import {

class NodeEmitter;

// Translates one node; returns an error for unsupported attributes/variants.
using OpTranslator = std::function<Status(NodeEmitter&)>;

// TorchScript helper methods an op translator may call (as self.<name>).
struct HelperDef {
  std::string source;              // "def name(self, ...):\n    ..." at column 0
  std::vector<std::string> deps;   // helpers it calls
};

// Op and helper tables, filled by the Register*Ops functions of each family.
struct OpTable {
  std::map<std::string, OpTranslator> ops;
  std::map<std::string, HelperDef> helpers;
  void Op(const std::string& name, OpTranslator fn) { ops[name] = std::move(fn); }
  void Helper(const std::string& name, std::string source, std::vector<std::string> deps = {}) {
    helpers[name] = HelperDef{std::move(source), std::move(deps)};
  }
};

// The process-wide table of all supported ops (built once, then read-only).
const OpTable& Ops();

void RegisterElementwiseOps(OpTable& table);
void RegisterNnOps(OpTable& table);
void RegisterTensorOps(OpTable& table);
void RegisterReduceOps(OpTable& table);
void RegisterResizeOps(OpTable& table);
void RegisterLossOps(OpTable& table);
void RegisterQuantOps(OpTable& table);
void RegisterSignalOps(OpTable& table);
void RegisterRnnOps(OpTable& table);
void RegisterControlFlowOps(OpTable& table);

// A tensor needed as a module buffer (self.<name>).
struct BufferRef {
  std::string name;
  const onnx::TensorProto* tensor;  // owned by the ModelProto or the emitter
};

struct EmittedModule {
  std::string source;             // all methods, forward last
  std::vector<BufferRef> buffers; // initializers and constants used
  std::vector<std::string> input_names;   // forward()'s inputs (ONNX names)
  std::vector<std::string> output_names;  // tuple elements returned
};

// ONNX TensorProto.DataType -> torch ScalarType code used in TorchScript
// (torch.float == 6, ...); UINT16 widens to int32, UINT32 and UINT64 to
// int64; nullopt for strings and other types libtorch lacks.
std::optional<int> TorchDtypeCode(int onnx_type);
std::string OnnxTypeName(int onnx_type);

class GraphEmitter {
 public:
  // `model` must outlive the emitter and every BufferRef it returns.
  // `opset` is the default-domain opset of the model.
  GraphEmitter(const onnx::ModelProto& model, int64_t opset);
  ~GraphEmitter();

  // Translates the main graph; the emitter keeps ownership of synthesized
  // constant tensors referenced by the result.
  Result<EmittedModule> Emit();

  // --- used by NodeEmitter and control-flow translators ---
  int64_t opset() const { return opset_; }
  // Emits `graph`'s nodes at `indent` in a new scope where `bindings` map
  // graph inputs to expressions; returns the expressions of its outputs.
  Result<std::vector<std::string>> EmitSubgraph(const onnx::GraphProto& graph,
                                                const std::vector<std::string>& input_exprs,
                                                int indent);
  void Line(const std::string& text);
  int indent() const { return indent_; }
  std::string FreshName(const std::string& prefix);
  std::string UseHelper(const std::string& name);  // returns "self.<name>"
  std::string AddBuffer(const onnx::TensorProto* tensor);  // returns "self.cN"
  const onnx::TensorProto* OwnTensor(onnx::TensorProto tensor);
  std::optional<std::string> Lookup(const std::string& onnx_name) const;
  void Bind(const std::string& onnx_name, const std::string& expr);
  const onnx::TensorProto* ConstantValue(const std::string& onnx_name) const;
  void SetConstantValue(const std::string& onnx_name, const onnx::TensorProto* tensor);
  const onnx::TypeProto* TypeOf(const std::string& onnx_name) const;

 private:
  Status EmitNodes(const onnx::GraphProto& graph);
  Status EmitNode(const onnx::NodeProto& node);

  const onnx::ModelProto& model_;
  const int64_t opset_;
  std::string body_;
  int indent_ = 1;
  int counter_ = 0;
  std::vector<std::map<std::string, std::string>> scopes_;
  std::map<std::string, const onnx::TensorProto*> constants_;
  std::map<std::string, const onnx::TypeProto*> types_;
  std::map<const onnx::TensorProto*, std::string> buffer_names_;
  std::vector<BufferRef> buffers_;
  std::set<std::string> helpers_used_;
  std::deque<onnx::TensorProto> owned_;
};

// The view of one node that op translators get.
class NodeEmitter {
 public:
  NodeEmitter(GraphEmitter& graph, const onnx::NodeProto& node) : g_(graph), node_(node) {}

  const onnx::NodeProto& node() const { return node_; }
  GraphEmitter& graph() { return g_; }
  int64_t opset() const { return g_.opset(); }

  // Inputs. An input is present when listed with a non-empty name.
  int num_inputs() const { return node_.input_size(); }
  bool Has(int i) const { return i < node_.input_size() && !node_.input(i).empty(); }
  // TorchScript expression of input i. REQUIRES: Has(i) (checked by the
  // emitter before translation: every named input is defined).
  std::string In(int i) const;
  // In(i), or `fallback` when absent.
  std::string InOr(int i, const std::string& fallback) const { return Has(i) ? In(i) : fallback; }
  // "None" when absent.
  std::string InOpt(int i) const { return InOr(i, "None"); }

  // Statically known input values (initializers, Constant outputs).
  const onnx::TensorProto* Const(int i) const;
  std::optional<std::vector<int64_t>> ConstInts(int i) const;
  std::optional<std::vector<double>> ConstFloats(int i) const;
  // Input i (a 1-D tensor) as a TorchScript List[int] / List[float]: a
  // literal when constant, else converted at run time.
  std::string IntListIn(int i) const;
  std::string FloatListIn(int i) const;
  // Declared or inferred facts about an input (nullopt when unknown).
  std::optional<int> Rank(int i) const;
  std::optional<int> ElemType(int i) const;  // ONNX TensorProto.DataType

  // Outputs. Out(i) names the variable for output i (a throwaway name when
  // the output is absent); Set assigns it.
  int num_outputs() const { return node_.output_size(); }
  bool HasOut(int i) const { return i < node_.output_size() && !node_.output(i).empty(); }
  std::string Out(int i);
  // Makes output i another name for an existing expression (no statement).
  void Alias(int i, const std::string& expr);
  template <typename... Args>
  void Set(int i, fmt::format_string<Args...> f, Args&&... args) {
    std::string expr = fmt::format(f, std::forward<Args>(args)...);
    Line(Out(i) + " = " + expr);
  }
  void Line(const std::string& text) { g_.Line(text); }
  std::string Tmp() { return g_.FreshName("t"); }
  std::string Helper(const std::string& name) { return g_.UseHelper(name); }

  // Attributes.
  bool HasAttr(const std::string& name) const { return Attr(name) != nullptr; }
  const onnx::AttributeProto* Attr(const std::string& name) const;
  int64_t Int(const std::string& name, int64_t fallback) const;
  double Float(const std::string& name, double fallback) const;
  std::string Str(const std::string& name, const std::string& fallback) const;
  std::optional<std::vector<int64_t>> Ints(const std::string& name) const;
  std::optional<std::vector<double>> Floats(const std::string& name) const;

  // Errors naming the op, node and opset.
  Status Unsupported(const std::string& what) const;
  Status Invalid(const std::string& what) const;
  std::string Describe() const;  // "Conv (node 'conv1', opset 13)"

 private:
  GraphEmitter& g_;
  const onnx::NodeProto& node_;
};

// A convolution of node `e` (Conv attributes: pads, strides, dilations,
// group, auto_pad, kernel_shape; the weight is input `weight_input`) over
// the expressions given, for Conv and its quantized variants.
Result<std::string> ConvExpression(NodeEmitter& e, const std::string& x, const std::string& weight,
                                   const std::string& bias, int weight_input = 1);

// TorchScript literals.
std::string FloatLit(double v);
std::string IntList(const std::vector<int64_t>& v);
std::string FloatList(const std::vector<double>& v);
std::string BoolLit(bool v);
std::string StrLit(const std::string& s);

// Values of an int/float TensorProto held inline (raw_data or typed fields);
// nullopt for other types or external data.
std::optional<std::vector<int64_t>> TensorInts(const onnx::TensorProto& t);
std::optional<std::vector<double>> TensorFloats(const onnx::TensorProto& t);

}  // namespace tessera::onnx_import
