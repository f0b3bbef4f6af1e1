#include "backend/onnx/testing/graph_builder.h"

#include <c10/core/InferenceMode.h>

#include <cstring>

#include "backend/onnx/onnx_emitter.h"
#include "backend/onnx/onnx_importer.h"
#include "backend/torch/torch_runtime.h"

namespace tessera::onnx_import::testing {
namespace {

int OnnxType(at::ScalarType type) {
  switch (type) {
    case at::kFloat: return onnx::TensorProto::FLOAT;
    case at::kDouble: return onnx::TensorProto::DOUBLE;
    case at::kLong: return onnx::TensorProto::INT64;
    case at::kInt: return onnx::TensorProto::INT32;
    case at::kShort: return onnx::TensorProto::INT16;
    case at::kChar: return onnx::TensorProto::INT8;
    case at::kByte: return onnx::TensorProto::UINT8;
    case at::kBool: return onnx::TensorProto::BOOL;
    case at::kHalf: return onnx::TensorProto::FLOAT16;
    default: return onnx::TensorProto::UNDEFINED;
  }
}

void SetTensorType(onnx::ValueInfoProto* value, int elem_type, const std::vector<int64_t>* dims) {
  auto* tensor = value->mutable_type()->mutable_tensor_type();
  tensor->set_elem_type(elem_type);
  if (!dims) return;
  auto* shape = tensor->mutable_shape();
  for (int64_t d : *dims) {
    auto* dim = shape->add_dim();
    if (d < 0) dim->set_dim_param("N");
    else dim->set_dim_value(d);
  }
}

}  // namespace

onnx::TensorProto ToProto(const std::string& name, const at::Tensor& tensor) {
  at::Tensor t = tensor.contiguous();
  onnx::TensorProto proto;
  proto.set_name(name);
  proto.set_data_type(OnnxType(t.scalar_type()));
  for (int64_t d : t.sizes()) proto.add_dims(d);
  proto.set_raw_data(std::string(static_cast<const char*>(t.data_ptr()), t.nbytes()));
  return proto;
}

onnx::AttributeProto* NodeBuilder::Add(const std::string& name,
                                       onnx::AttributeProto::AttributeType type) {
  auto* a = node_->add_attribute();
  a->set_name(name);
  a->set_type(type);
  return a;
}

NodeBuilder& NodeBuilder::Int(const std::string& name, int64_t v) {
  Add(name, onnx::AttributeProto::INT)->set_i(v);
  return *this;
}
NodeBuilder& NodeBuilder::Ints(const std::string& name, std::vector<int64_t> v) {
  auto* a = Add(name, onnx::AttributeProto::INTS);
  for (auto x : v) a->add_ints(x);
  return *this;
}
NodeBuilder& NodeBuilder::Float(const std::string& name, float v) {
  Add(name, onnx::AttributeProto::FLOAT)->set_f(v);
  return *this;
}
NodeBuilder& NodeBuilder::Floats(const std::string& name, std::vector<float> v) {
  auto* a = Add(name, onnx::AttributeProto::FLOATS);
  for (auto x : v) a->add_floats(x);
  return *this;
}
NodeBuilder& NodeBuilder::Str(const std::string& name, const std::string& v) {
  Add(name, onnx::AttributeProto::STRING)->set_s(v);
  return *this;
}
NodeBuilder& NodeBuilder::Tensor(const std::string& name, const at::Tensor& v) {
  *Add(name, onnx::AttributeProto::TENSOR)->mutable_t() = ToProto("", v);
  return *this;
}
NodeBuilder& NodeBuilder::Graph(const std::string& name, const onnx::GraphProto& g) {
  *Add(name, onnx::AttributeProto::GRAPH)->mutable_g() = g;
  return *this;
}

GraphBuilder::GraphBuilder(int64_t opset) {
  model_.set_ir_version(8);
  auto* op = model_.add_opset_import();
  op->set_domain("");
  op->set_version(opset);
  model_.mutable_graph()->set_name("test");
}

GraphBuilder& GraphBuilder::Input(const std::string& name, std::vector<int64_t> dims,
                                  int elem_type) {
  auto* in = graph().add_input();
  in->set_name(name);
  SetTensorType(in, elem_type, &dims);
  return *this;
}

GraphBuilder& GraphBuilder::Output(const std::string& name, std::vector<int64_t> dims,
                                   int elem_type, bool has_shape) {
  auto* out = graph().add_output();
  out->set_name(name);
  SetTensorType(out, elem_type, has_shape ? &dims : nullptr);
  return *this;
}

GraphBuilder& GraphBuilder::Initializer(const std::string& name, const at::Tensor& value) {
  *graph().add_initializer() = ToProto(name, value);
  return *this;
}

NodeBuilder GraphBuilder::Node(const std::string& op, std::vector<std::string> inputs,
                               std::vector<std::string> outputs, const std::string& name) {
  auto* node = graph().add_node();
  node->set_op_type(op);
  node->set_name(name.empty() ? op + "_" + std::to_string(graph().node_size()) : name);
  for (auto& i : inputs) node->add_input(i);
  for (auto& o : outputs) node->add_output(o);
  return NodeBuilder(node);
}

Result<std::vector<at::Tensor>> RunModel(const onnx::ModelProto& model,
                                         const std::vector<at::Tensor>& inputs) {
  Result<ImportedModule> imported = Internal("not imported");
  TESSERA_RETURN_IF_ERROR(CallTorch(StatusCode::kInternal, "import", [&] {
    imported = ImportOnnx(model, {"test model", true});
  }));
  if (!imported.ok()) return imported.status();
  std::vector<at::Tensor> outputs;
  TESSERA_RETURN_IF_ERROR(CallTorch(StatusCode::kInternal, "run", [&] {
    c10::InferenceMode guard;
    std::vector<c10::IValue> args(inputs.begin(), inputs.end());
    c10::IValue result = imported->module.forward(args);
    for (const auto& v : result.toTupleRef().elements()) {
      at::Tensor t = v.toTensor();
      outputs.push_back(t.is_mkldnn() ? t.to_dense() : t);
    }
  }));
  return outputs;
}

Result<std::vector<at::Tensor>> RunNode(int64_t opset, const std::string& op,
                                        const std::vector<at::Tensor>& inputs,
                                        const std::function<void(NodeBuilder&)>& attrs,
                                        int outputs) {
  GraphBuilder g(opset);
  std::vector<std::string> in_names, out_names;
  for (size_t i = 0; i < inputs.size(); ++i) {
    in_names.push_back("x" + std::to_string(i));
    std::vector<int64_t> dims(inputs[i].sizes().begin(), inputs[i].sizes().end());
    g.Input(in_names.back(), dims, OnnxType(inputs[i].scalar_type()));
  }
  for (int i = 0; i < outputs; ++i) {
    out_names.push_back("y" + std::to_string(i));
    auto* out = g.graph().add_output();
    out->set_name(out_names.back());
  }
  NodeBuilder node = g.Node(op, in_names, out_names);
  if (attrs) attrs(node);
  return RunModel(g.model(), inputs);
}

}  // namespace tessera::onnx_import::testing
