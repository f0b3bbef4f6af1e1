// OnnxBackend: files, metadata, external data, and bad models (truncated
// file, unknown op, missing external data, cycle) giving clear errors.
#include "backend/onnx/onnx_backend.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "backend/onnx/testing/expect.h"
#include "backend/onnx/testing/graph_builder.h"

namespace tessera::onnx_import::testing {
namespace {

namespace fs = std::filesystem;

class OnnxBackendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "onnx_backend_test_XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { fs::remove_all(dir_); }

  void Write(const std::string& name, const std::string& bytes) {
    std::ofstream(dir_ / name, std::ios::binary) << bytes;
  }
  void WriteModel(const onnx::ModelProto& model, const std::string& name = "model.onnx") {
    Write(name, model.SerializeAsString());
  }
  Result<std::unique_ptr<LoadedModel>> Load() {
    LoadOptions options;
    options.version_dir = dir_.string();
    for (const auto& e : fs::directory_iterator(dir_)) {
      options.file_names.push_back(e.path().filename().string());
    }
    return backend_->Load(options);
  }
  static std::string Message(const Result<std::unique_ptr<LoadedModel>>& r) {
    return r.ok() ? "(loaded)" : r.status().message();
  }

  // y = x @ W + b with W external-data-able; x is [N, 4] with symbolic N.
  static GraphBuilder Linear() {
    GraphBuilder g(13);
    g.Input("x", {-1, 4}).Output("y", {-1, 3}, onnx::TensorProto::FLOAT, true);
    g.Initializer("W", torch::ones({4, 3})).Initializer("b", torch::arange(3).to(at::kFloat));
    // Exporters before IR 4 list initializers as graph inputs too.
    auto* w_input = g.graph().add_input();
    w_input->set_name("W");
    w_input->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::FLOAT);
    g.Node("MatMul", {"x", "W"}, {"xw"}, "matmul");
    g.Node("Add", {"xw", "b"}, {"y"}, "bias");
    return g;
  }

  // Moves initializer W's bytes into `file` as external data.
  static void Externalize(GraphBuilder& g, const std::string& location) {
    auto* w = g.graph().mutable_initializer(0);
    w->clear_raw_data();
    w->set_data_location(onnx::TensorProto::EXTERNAL);
    auto* kv = w->add_external_data();
    kv->set_key("location");
    kv->set_value(location);
  }

  std::unique_ptr<Backend> backend_ = MakeOnnxBackend();
  fs::path dir_;
};

TEST_F(OnnxBackendTest, AcceptsOnnxFiles) {
  EXPECT_TRUE(backend_->Accepts({"model.onnx", "weights.bin"}));
  EXPECT_FALSE(backend_->Accepts({"model.pt", "onnx"}));
}

TEST_F(OnnxBackendTest, MetadataFromGraphAndRun) {
  WriteModel(Linear().model());
  auto model = Load();
  ASSERT_TRUE(model.ok()) << Message(model);
  EXPECT_EQ((*model)->platform(), "onnx_onnxv1");
  const ModelSignature& sig = (*model)->signature();
  ASSERT_EQ(sig.inputs.size(), 1u);  // W is an initializer, not an input
  EXPECT_EQ(sig.inputs[0], (TensorInfo{"x", DataType::kFp32, {-1, 4}}));
  ASSERT_EQ(sig.outputs.size(), 1u);
  EXPECT_EQ(sig.outputs[0], (TensorInfo{"y", DataType::kFp32, {-1, 3}}));
  std::vector<float> x = {1, 2, 3, 4, 0, 0, 0, 1};
  auto out = (*model)->Run({{"x", Tensor::Borrow(DataType::kFp32, {2, 4}, x.data(),
                                                 x.size() * 4, nullptr)}});
  ASSERT_TRUE(out.ok()) << out.status().message();
  const float* y = reinterpret_cast<const float*>((*out)[0].tensor.data());
  EXPECT_EQ((*out)[0].tensor.shape(), (Shape{2, 3}));
  EXPECT_FLOAT_EQ(y[0], 10);
  EXPECT_FLOAT_EQ(y[2], 12);
  EXPECT_FLOAT_EQ(y[5], 3);
}

TEST_F(OnnxBackendTest, ExternalDataBesideTheModel) {
  GraphBuilder g = Linear();
  Externalize(g, "weights.bin");
  at::Tensor w = torch::full({4, 3}, 2.0f);
  Write("weights.bin", std::string(static_cast<const char*>(w.data_ptr()), w.nbytes()));
  WriteModel(g.model());
  auto model = Load();
  ASSERT_TRUE(model.ok()) << Message(model);
  std::vector<float> x = {1, 1, 1, 1};
  auto out = (*model)->Run({{"x", Tensor::Borrow(DataType::kFp32, {1, 4}, x.data(), 16, nullptr)}});
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_FLOAT_EQ(reinterpret_cast<const float*>((*out)[0].tensor.data())[1], 9);
}

TEST_F(OnnxBackendTest, MissingExternalDataFails) {
  GraphBuilder g = Linear();
  Externalize(g, "weights.bin");
  WriteModel(g.model());
  auto model = Load();
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(Message(model).find("weights.bin"), std::string::npos) << Message(model);
}

TEST_F(OnnxBackendTest, ExternalDataOutsideTheVersionDirectoryIsRefused) {
  for (std::string location : {"../weights.bin", "/etc/passwd"}) {
    GraphBuilder g = Linear();
    Externalize(g, location);
    WriteModel(g.model());
    auto model = Load();
    ASSERT_FALSE(model.ok());
    EXPECT_TRUE(Message(model).find("outside the model's directory") != std::string::npos ||
                Message(model).find("must be a path relative") != std::string::npos)
        << Message(model);
  }
}

TEST_F(OnnxBackendTest, TruncatedFileFails) {
  std::string bytes = Linear().model().SerializeAsString();
  Write("model.onnx", bytes.substr(0, bytes.size() / 2));
  auto model = Load();
  ASSERT_FALSE(model.ok());
  EXPECT_NE(Message(model).find("Cannot parse ONNX model"), std::string::npos) << Message(model);
}

TEST_F(OnnxBackendTest, UnknownOperatorNamesOpNodeAndOpset) {
  GraphBuilder g(13);
  g.Input("x", {2}).Output("y");
  g.Node("FrobnicateNd", {"x"}, {"y"}, "frob1");
  WriteModel(g.model());
  auto model = Load();
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().code(), StatusCode::kUnimplemented);
  EXPECT_NE(Message(model).find("'FrobnicateNd' (node 'frob1', opset 13)"), std::string::npos)
      << Message(model);
}

TEST_F(OnnxBackendTest, CycleFails) {
  GraphBuilder g(13);
  g.Input("x", {2}).Output("y");
  g.Node("Add", {"x", "b"}, {"a"}, "first");
  g.Node("Relu", {"a"}, {"b"}, "second");
  g.Node("Identity", {"a"}, {"y"}, "out");
  WriteModel(g.model());
  auto model = Load();
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(Message(model).find("cycle"), std::string::npos) << Message(model);
}

TEST_F(OnnxBackendTest, UnsupportedOpsetAndTwoModelsFail) {
  GraphBuilder g(18);
  g.Input("x", {2}).Output("y");
  g.Node("Relu", {"x"}, {"y"});
  WriteModel(g.model());
  auto model = Load();
  ASSERT_FALSE(model.ok());
  EXPECT_NE(Message(model).find("opset 18 is not supported"), std::string::npos) << Message(model);
  WriteModel(Linear().model(), "other.onnx");
  EXPECT_NE(Message(Load()).find("More than one ONNX file"), std::string::npos);
}

}  // namespace
}  // namespace tessera::onnx_import::testing
