// Test helpers: build small ONNX models with the libonnx protobuf classes and
// run them through the importer. Test-only; links libtorch.
#pragma once

#include <torch/script.h>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "common/result.h"
#include "onnx/onnx_pb.h"

namespace tessera::onnx_import::testing {

// `tensor` as a TensorProto named `name` (raw_data).
onnx::TensorProto ToProto(const std::string& name, const at::Tensor& tensor);

// One node being built; attribute setters return *this for chaining.
class NodeBuilder {
 public:
  explicit NodeBuilder(onnx::NodeProto* node) : node_(node) {}
  NodeBuilder& Int(const std::string& name, int64_t v);
  NodeBuilder& Ints(const std::string& name, std::vector<int64_t> v);
  NodeBuilder& Float(const std::string& name, float v);
  NodeBuilder& Floats(const std::string& name, std::vector<float> v);
  NodeBuilder& Str(const std::string& name, const std::string& v);
  NodeBuilder& Tensor(const std::string& name, const at::Tensor& v);
  NodeBuilder& Graph(const std::string& name, const onnx::GraphProto& g);
  onnx::NodeProto& proto() { return *node_; }

 private:
  onnx::AttributeProto* Add(const std::string& name, onnx::AttributeProto::AttributeType type);
  onnx::NodeProto* node_;
};

class GraphBuilder {
 public:
  explicit GraphBuilder(int64_t opset);

  // Graph inputs/outputs; dims of -1 become symbolic ("N"); elem_type is an
  // onnx::TensorProto::DataType (FLOAT by default).
  GraphBuilder& Input(const std::string& name, std::vector<int64_t> dims,
                      int elem_type = onnx::TensorProto::FLOAT);
  GraphBuilder& Output(const std::string& name, std::vector<int64_t> dims = {},
                       int elem_type = onnx::TensorProto::FLOAT, bool has_shape = false);
  GraphBuilder& Initializer(const std::string& name, const at::Tensor& value);
  NodeBuilder Node(const std::string& op, std::vector<std::string> inputs,
                   std::vector<std::string> outputs, const std::string& name = "");

  onnx::ModelProto& model() { return model_; }
  onnx::GraphProto& graph() { return *model_.mutable_graph(); }

 private:
  onnx::ModelProto model_;
};

// Imports (frozen and optimised) and runs `model`; returns its outputs.
Result<std::vector<at::Tensor>> RunModel(const onnx::ModelProto& model,
                                         const std::vector<at::Tensor>& inputs);

// One-node model: inputs "x0".."xN" (any shape), output "y0".."yM".
Result<std::vector<at::Tensor>> RunNode(int64_t opset, const std::string& op,
                                        const std::vector<at::Tensor>& inputs,
                                        const std::function<void(NodeBuilder&)>& attrs = {},
                                        int outputs = 1);

}  // namespace tessera::onnx_import::testing
