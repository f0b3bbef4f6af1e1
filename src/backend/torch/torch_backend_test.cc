#include "backend/torch/torch_backend.h"

#include <ATen/Parallel.h>
#include <gtest/gtest.h>
#include <omp.h>
#include <stdlib.h>
#include <torch/script.h>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

namespace tessera {
namespace {

namespace fs = std::filesystem;

// ---------------------------------------------------------------------------
// Helpers

// A module built like a Python-scripted one (with a `training` flag).
torch::jit::Module MakeModule(const std::string& source) {
  torch::jit::Module m("m");
  m.register_attribute("training", c10::BoolType::get(), true);
  m.define(source);
  return m;
}

void Save(const torch::jit::Module& m, const fs::path& path, const std::string& signature = "") {
  torch::jit::ExtraFilesMap extra;
  if (!signature.empty()) extra["signature.json"] = signature;
  fs::create_directories(path.parent_path());
  m.save(path.string(), extra);
}

void WriteFile(const fs::path& path, const std::string& content) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << content;
}

std::string ReadAll(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

template <typename T>
NamedTensor Input(const std::string& name, DataType type, Shape shape, const std::vector<T>& v) {
  std::string bytes(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
  return {name, Tensor::FromBytes(type, std::move(shape), std::move(bytes))};
}

NamedTensor Floats(const std::string& name, Shape shape, const std::vector<float>& v) {
  return Input(name, DataType::kFp32, std::move(shape), v);
}

template <typename T>
std::vector<T> Values(const Tensor& t) {
  std::vector<T> out(t.byte_size() / sizeof(T));
  if (!out.empty()) std::memcpy(out.data(), t.data(), t.byte_size());
  return out;
}

class TorchBackendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "torch_backend_test.XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    root_ = pattern;
    backend_ = MakeTorchScriptBackend();
  }
  void TearDown() override { fs::remove_all(root_); }

  fs::path Dir(const std::string& name) { return root_ / name / "1"; }

  Result<std::unique_ptr<LoadedModel>> Load(const fs::path& dir, int threads = 1) {
    LoadOptions options;
    options.version_dir = dir.string();
    for (const auto& entry : fs::directory_iterator(dir)) {
      options.file_names.push_back(entry.path().filename().string());
    }
    options.intra_op_threads = threads;
    return backend_->Load(options);
  }

  std::unique_ptr<LoadedModel> MustLoad(const fs::path& dir, int threads = 1) {
    auto model = Load(dir, threads);
    EXPECT_TRUE(model.ok()) << model.status().ToString();
    return model.ok() ? std::move(*model) : nullptr;
  }

  // Loads expecting an error; returns it.
  Status LoadError(const fs::path& dir) {
    auto model = Load(dir);
    EXPECT_FALSE(model.ok());
    return model.ok() ? Status::Ok() : model.status();
  }

  fs::path root_;
  std::unique_ptr<Backend> backend_;
};

void ExpectContains(const std::string& text, const std::string& fragment) {
  EXPECT_NE(text.find(fragment), std::string::npos)
      << "text: " << text << "\nexpected fragment: " << fragment;
}

// y = x @ w + b with w: [2,3], b: [3], inside a submodule.
torch::jit::Module MakeLinear() {
  torch::jit::Module linear("linear");
  linear.register_attribute("training", c10::BoolType::get(), true);
  linear.register_parameter("w", torch::tensor({1.f, 2.f, 3.f, 4.f, 5.f, 6.f}).reshape({2, 3}),
                            false);
  linear.register_parameter("b", torch::tensor({0.5f, -0.5f, 1.f}), false);
  linear.define("def forward(self, x):\n  return torch.matmul(x, self.w) + self.b\n");
  torch::jit::Module m("top");
  m.register_attribute("training", c10::BoolType::get(), true);
  m.register_module("linear", linear);
  m.define("def forward(self, x):\n  return self.linear.forward(x)\n");
  return m;
}

constexpr char kLinearSignature[] =
    R"({"inputs":[{"name":"features","datatype":"FP32","shape":[-1,2]}],)"
    R"("outputs":[{"name":"scores","datatype":"FP32","shape":[-1,3]}]})";

// ---------------------------------------------------------------------------
// Accepts / file selection

TEST_F(TorchBackendTest, AcceptsTorchScriptFileNames) {
  EXPECT_EQ(backend_->name(), "torchscript");
  EXPECT_TRUE(backend_->Accepts({"model.pt"}));
  EXPECT_TRUE(backend_->Accepts({"signature.json", "net.torchscript"}));
  EXPECT_FALSE(backend_->Accepts({"model.onnx", "signature.json"}));
  EXPECT_FALSE(backend_->Accepts({".pt"}));
  EXPECT_FALSE(backend_->Accepts({"model.pth"}));
  EXPECT_FALSE(backend_->Accepts({}));
}

TEST_F(TorchBackendTest, NoModelFileIsNotFound) {
  WriteFile(Dir("empty") / "README", "nothing");
  Status status = LoadError(Dir("empty"));
  EXPECT_EQ(status.code(), StatusCode::kNotFound);
  ExpectContains(status.message(), Dir("empty").string());
}

TEST_F(TorchBackendTest, TwoModelFilesAreRejectedByName) {
  Save(MakeModule("def forward(self, x):\n  return x\n"), Dir("two") / "b.pt");
  Save(MakeModule("def forward(self, x):\n  return x\n"), Dir("two") / "a.torchscript");
  Status status = LoadError(Dir("two"));
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  ExpectContains(status.message(), "More than one TorchScript file");
  ExpectContains(status.message(), "a.torchscript, b.pt");
}

TEST_F(TorchBackendTest, GarbageFileGivesLoadErrorWithPath) {
  WriteFile(Dir("garbage") / "model.pt", "this is not a zip archive");
  Status status = LoadError(Dir("garbage"));
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  ExpectContains(status.message(), "Cannot load TorchScript model " +
                                       (Dir("garbage") / "model.pt").string());
  EXPECT_EQ(status.message().find('\n'), std::string::npos) << status.message();
}

TEST_F(TorchBackendTest, TruncatedFileGivesLoadError) {
  fs::path good = root_ / "good.pt";
  Save(MakeLinear(), good);
  std::string bytes = ReadAll(good);
  WriteFile(Dir("truncated") / "model.pt", bytes.substr(0, bytes.size() / 2));
  Status status = LoadError(Dir("truncated"));
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  ExpectContains(status.message(), (Dir("truncated") / "model.pt").string());
  EXPECT_EQ(status.message().find('\n'), std::string::npos) << status.message();
}

TEST_F(TorchBackendTest, RejectsNonPositiveThreadCount) {
  Save(MakeLinear(), Dir("m") / "model.pt", kLinearSignature);
  auto model = Load(Dir("m"), 0);
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().code(), StatusCode::kInvalidArgument);
  ExpectContains(model.status().message(), "intra_op_threads");
}

// ---------------------------------------------------------------------------
// Signatures

TEST_F(TorchBackendTest, EmbeddedSignatureNamesAndRuns) {
  Save(MakeLinear(), Dir("linear") / "model.pt", kLinearSignature);
  auto model = MustLoad(Dir("linear"));
  ASSERT_NE(model, nullptr);
  EXPECT_EQ(model->platform(), "pytorch_torchscript");
  ModelSignature expected;
  expected.inputs = {{"features", DataType::kFp32, {-1, 2}}};
  expected.outputs = {{"scores", DataType::kFp32, {-1, 3}}};
  EXPECT_EQ(model->signature(), expected);

  auto out = model->Run({Floats("features", {2, 2}, {1, 0, 1, 1})});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ASSERT_EQ(out->size(), 1u);
  EXPECT_EQ((*out)[0].name, "scores");
  EXPECT_EQ((*out)[0].tensor.dtype(), DataType::kFp32);
  EXPECT_EQ((*out)[0].tensor.shape(), (Shape{2, 3}));
  // [1,0]@w = [1,2,3]; [1,1]@w = [5,7,9]; plus b.
  EXPECT_EQ(Values<float>((*out)[0].tensor), (std::vector<float>{1.5, 1.5, 4, 5.5, 6.5, 10}));
}

TEST_F(TorchBackendTest, SignatureJsonBesideTheModel) {
  Save(MakeModule("def forward(self, a, b):\n  return (a + b, a - b)\n"), Dir("as") / "model.pt");
  WriteFile(Dir("as") / "signature.json",
            R"({"inputs":[{"name":"a","datatype":"FP32","shape":[-1,2]},)"
            R"({"name":"b","datatype":"FP32","shape":[-1,2]}],)"
            R"("outputs":[{"name":"sum","datatype":"FP32","shape":[-1,2]},)"
            R"({"name":"diff","datatype":"FP32","shape":[-1,2]}]})");
  auto model = MustLoad(Dir("as"));
  ASSERT_NE(model, nullptr);
  ASSERT_EQ(model->signature().outputs.size(), 2u);
  EXPECT_EQ(model->signature().outputs[1].name, "diff");

  auto out = model->Run({Floats("a", {1, 2}, {5, 7}), Floats("b", {1, 2}, {1, 2})});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ASSERT_EQ(out->size(), 2u);
  EXPECT_EQ((*out)[0].name, "sum");
  EXPECT_EQ(Values<float>((*out)[0].tensor), (std::vector<float>{6, 9}));
  EXPECT_EQ((*out)[1].name, "diff");
  EXPECT_EQ(Values<float>((*out)[1].tensor), (std::vector<float>{4, 5}));
}

TEST_F(TorchBackendTest, EmbeddedSignatureWinsOverFileBeside) {
  Save(MakeLinear(), Dir("both") / "model.pt", kLinearSignature);
  WriteFile(Dir("both") / "signature.json", "not even json");
  auto model = MustLoad(Dir("both"));
  ASSERT_NE(model, nullptr);
  EXPECT_EQ(model->signature().inputs[0].name, "features");
}

TEST_F(TorchBackendTest, DerivedSignatureSingleOutput) {
  Save(MakeModule("def forward(self, x):\n  return x * 2 + 1\n"), Dir("derived") / "model.pt");
  auto model = MustLoad(Dir("derived"));
  ASSERT_NE(model, nullptr);
  ModelSignature expected;
  expected.inputs = {{"x", DataType::kFp32, {}}};
  expected.outputs = {{"output", DataType::kFp32, {}}};
  EXPECT_EQ(model->signature(), expected);

  auto out = model->Run({Floats("x", {3}, {0, 1, -2})});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)[0].name, "output");
  EXPECT_EQ((*out)[0].tensor.shape(), (Shape{3}));
  EXPECT_EQ(Values<float>((*out)[0].tensor), (std::vector<float>{1, 3, -3}));

  // Empty signature shape: any rank works.
  out = model->Run({Floats("x", {2, 1, 2}, {1, 2, 3, 4})});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)[0].tensor.shape(), (Shape{2, 1, 2}));
  EXPECT_EQ(Values<float>((*out)[0].tensor), (std::vector<float>{3, 5, 7, 9}));
}

TEST_F(TorchBackendTest, DerivedSignatureTupleOutputs) {
  Save(MakeModule("def forward(self, x, y):\n  return x + y, x * y\n"), Dir("tuple") / "model.pt");
  auto model = MustLoad(Dir("tuple"));
  ASSERT_NE(model, nullptr);
  ASSERT_EQ(model->signature().inputs.size(), 2u);
  EXPECT_EQ(model->signature().inputs[1].name, "y");
  ASSERT_EQ(model->signature().outputs.size(), 2u);
  EXPECT_EQ(model->signature().outputs[0].name, "output_0");
  EXPECT_EQ(model->signature().outputs[1].name, "output_1");

  auto out = model->Run({Floats("x", {2}, {2, 3}), Floats("y", {2}, {4, 5})});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(Values<float>((*out)[0].tensor), (std::vector<float>{6, 8}));
  EXPECT_EQ(Values<float>((*out)[1].tensor), (std::vector<float>{8, 15}));
}

TEST_F(TorchBackendTest, DerivedSignatureListLiteral) {
  Save(MakeModule("def forward(self, x):\n  return [x + 1, x - 1, x * 0]\n"),
       Dir("list") / "model.pt");
  auto model = MustLoad(Dir("list"));
  ASSERT_NE(model, nullptr);
  ASSERT_EQ(model->signature().outputs.size(), 3u);
  EXPECT_EQ(model->signature().outputs[2].name, "output_2");
  auto out = model->Run({Floats("x", {1}, {10})});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(Values<float>((*out)[0].tensor), (std::vector<float>{11}));
  EXPECT_EQ(Values<float>((*out)[1].tensor), (std::vector<float>{9}));
  EXPECT_EQ(Values<float>((*out)[2].tensor), (std::vector<float>{0}));
}

TEST_F(TorchBackendTest, DerivedSignatureDictLiteralKeys) {
  Save(MakeModule("def forward(self, x, y):\n  return {'sum': x + y, 'prod': x * y}\n"),
       Dir("dict") / "model.pt");
  auto model = MustLoad(Dir("dict"));
  ASSERT_NE(model, nullptr);
  ASSERT_EQ(model->signature().outputs.size(), 2u);
  EXPECT_EQ(model->signature().outputs[0].name, "sum");
  EXPECT_EQ(model->signature().outputs[1].name, "prod");
  auto out = model->Run({Floats("x", {1}, {3}), Floats("y", {1}, {4})});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)[0].name, "sum");
  EXPECT_EQ(Values<float>((*out)[0].tensor), (std::vector<float>{7}));
  EXPECT_EQ((*out)[1].name, "prod");
  EXPECT_EQ(Values<float>((*out)[1].tensor), (std::vector<float>{12}));
}

TEST_F(TorchBackendTest, MutatedListCannotBeDerived) {
  Save(MakeModule("def forward(self, x):\n  outs = [x]\n  outs.append(x * 2)\n  return outs\n"),
       Dir("grown") / "model.pt");
  Status status = LoadError(Dir("grown"));
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  ExpectContains(status.message(), "add a signature.json");
}

TEST_F(TorchBackendTest, DerivedInputsSkipTrailingDefaults) {
  Save(MakeModule("def forward(self, x, scale: float = 3.0):\n  return x * scale\n"),
       Dir("defaults") / "model.pt");
  auto model = MustLoad(Dir("defaults"));
  ASSERT_NE(model, nullptr);
  ASSERT_EQ(model->signature().inputs.size(), 1u);
  auto out = model->Run({Floats("x", {2}, {1, 2})});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(Values<float>((*out)[0].tensor), (std::vector<float>{3, 6}));
}

TEST_F(TorchBackendTest, NonTensorArgumentIsRejected) {
  Save(MakeModule("def forward(self, x, k: int):\n  return x * k\n"), Dir("intarg") / "model.pt");
  Status status = LoadError(Dir("intarg"));
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  ExpectContains(status.message(), "argument 'k' has type int");
}

TEST_F(TorchBackendTest, SignatureInputCountMustFitForward) {
  Save(MakeModule("def forward(self, x):\n  return x\n"), Dir("count") / "model.pt",
       R"({"inputs":[{"name":"a","datatype":"FP32"},{"name":"b","datatype":"FP32"}],)"
       R"("outputs":[{"name":"y","datatype":"FP32"}]})");
  Status status = LoadError(Dir("count"));
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  ExpectContains(status.message(), "signature lists 2 inputs but forward() takes 1");
}

TEST_F(TorchBackendTest, InvalidSignatureBesideNamesTheFile) {
  Save(MakeLinear(), Dir("badsig") / "model.pt");
  WriteFile(Dir("badsig") / "signature.json", R"({"inputs":[{"name":"x","datatype":"FLOAT"}]})");
  Status status = LoadError(Dir("badsig"));
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  ExpectContains(status.message(), (Dir("badsig") / "signature.json").string());
  ExpectContains(status.message(), "unknown datatype \"FLOAT\"");
}

TEST_F(TorchBackendTest, InvalidEmbeddedSignatureNamesTheArchive) {
  Save(MakeLinear(), Dir("badembedded") / "model.pt", "{\"inputs\": oops}");
  Status status = LoadError(Dir("badembedded"));
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  ExpectContains(status.message(), "model.pt (embedded signature.json)");
  ExpectContains(status.message(), "invalid JSON");
}

TEST_F(TorchBackendTest, ModuleWithoutForwardIsRejected) {
  Save(MakeModule("def helper(self, x):\n  return x\n"), Dir("noforward") / "model.pt");
  Status status = LoadError(Dir("noforward"));
  ExpectContains(status.message(), "no forward() method");
}

// ---------------------------------------------------------------------------
// Outputs

TEST_F(TorchBackendTest, DictOutputsFollowSignatureOrder) {
  Save(MakeModule("def forward(self, x):\n  return {'y': x * 3, 'mask': x > 0, 'extra': x}\n"),
       Dir("order") / "model.pt",
       R"({"inputs":[{"name":"x","datatype":"INT64","shape":[-1]}],)"
       R"("outputs":[{"name":"mask","datatype":"BOOL","shape":[-1]},)"
       R"({"name":"y","datatype":"INT64","shape":[-1]}]})");
  auto model = MustLoad(Dir("order"));
  ASSERT_NE(model, nullptr);
  auto out = model->Run({Input<int64_t>("x", DataType::kInt64, {3}, {-1, 0, 5})});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ASSERT_EQ(out->size(), 2u);  // "extra" is not in the signature
  EXPECT_EQ((*out)[0].name, "mask");
  EXPECT_EQ((*out)[0].tensor.dtype(), DataType::kBool);
  EXPECT_EQ(Values<uint8_t>((*out)[0].tensor), (std::vector<uint8_t>{0, 0, 1}));
  EXPECT_EQ((*out)[1].name, "y");
  EXPECT_EQ((*out)[1].tensor.dtype(), DataType::kInt64);
  EXPECT_EQ(Values<int64_t>((*out)[1].tensor), (std::vector<int64_t>{-3, 0, 15}));
}

TEST_F(TorchBackendTest, MissingDictOutputIsInternalError) {
  Save(MakeModule("def forward(self, x):\n  return {'y': x}\n"), Dir("missing") / "model.pt",
       R"({"inputs":[{"name":"x","datatype":"FP32"}],)"
       R"("outputs":[{"name":"y","datatype":"FP32"},{"name":"z","datatype":"FP32"}]})");
  auto model = MustLoad(Dir("missing"));
  ASSERT_NE(model, nullptr);
  auto out = model->Run({Floats("x", {1}, {1})});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kInternal);
  ExpectContains(out.status().message(), "did not produce output 'z' (produced: y)");
}

TEST_F(TorchBackendTest, OutputCountMismatchIsInternalError) {
  Save(MakeModule("def forward(self, x):\n  return x, x\n"), Dir("count") / "model.pt",
       R"({"inputs":[{"name":"x","datatype":"FP32"}],"outputs":[{"name":"y","datatype":"FP32"}]})");
  auto model = MustLoad(Dir("count"));
  ASSERT_NE(model, nullptr);
  auto out = model->Run({Floats("x", {1}, {1})});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kInternal);
  ExpectContains(out.status().message(), "returned 2 outputs but its signature lists 1");
}

TEST_F(TorchBackendTest, DeclaredOutputTypeAndShapeAreEnforced) {
  Save(MakeModule("def forward(self, x):\n  return x.double()\n"),
       Dir("dtype") / "model.pt",
       R"({"inputs":[{"name":"x","datatype":"FP32"}],"outputs":[{"name":"y","datatype":"FP32"}]})");
  auto model = MustLoad(Dir("dtype"));
  ASSERT_NE(model, nullptr);
  auto out = model->Run({Floats("x", {1}, {1})});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kInternal);
  ExpectContains(out.status().message(), "output 'y' has datatype FP64 but the signature declares FP32");

  Save(MakeModule("def forward(self, x):\n  return x\n"), Dir("shape") / "model.pt",
       R"({"inputs":[{"name":"x","datatype":"FP32"}],)"
       R"("outputs":[{"name":"y","datatype":"FP32","shape":[-1,4]}]})");
  model = MustLoad(Dir("shape"));
  ASSERT_NE(model, nullptr);
  out = model->Run({Floats("x", {1, 3}, {1, 2, 3})});
  ASSERT_FALSE(out.ok());
  ExpectContains(out.status().message(), "has shape (1,3) but the signature declares (-1,4)");
}

TEST_F(TorchBackendTest, NonTensorResultIsInternalError) {
  Save(MakeModule("def forward(self, x):\n  return x.size(0)\n"), Dir("int") / "model.pt",
       R"({"inputs":[{"name":"x","datatype":"FP32"}],"outputs":[{"name":"n","datatype":"INT64"}]})");
  auto model = MustLoad(Dir("int"));
  ASSERT_NE(model, nullptr);
  auto out = model->Run({Floats("x", {2}, {1, 2})});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kInternal);
  ExpectContains(out.status().message(), "forward() returned Int");
}

TEST_F(TorchBackendTest, OutputsOutliveTheModel) {
  Save(MakeModule("def forward(self, x):\n  return x + 1\n"), Dir("alive") / "model.pt");
  auto model = MustLoad(Dir("alive"));
  ASSERT_NE(model, nullptr);
  auto out = model->Run({Floats("x", {4}, {1, 2, 3, 4})});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  model.reset();
  EXPECT_EQ(Values<float>((*out)[0].tensor), (std::vector<float>{2, 3, 4, 5}));
}

TEST_F(TorchBackendTest, ConvModelMatchesEagerAfterOptimisation) {
  // optimize_for_inference moves convolutions to oneDNN layouts; results must
  // come back dense and equal to eager libtorch.
  torch::jit::Module m("conv");
  m.register_attribute("training", c10::BoolType::get(), true);
  at::Tensor w = torch::linspace(-1, 1, 4 * 3 * 3 * 3).reshape({4, 3, 3, 3});
  at::Tensor b = torch::tensor({0.1f, -0.2f, 0.3f, 0.0f});
  m.register_parameter("w", w, false);
  m.register_parameter("b", b, false);
  m.define("def forward(self, x):\n  return torch.relu(torch.conv2d(x, self.w, self.b, 1, 1))\n");
  Save(m, Dir("conv") / "model.pt");
  auto model = MustLoad(Dir("conv"));
  ASSERT_NE(model, nullptr);

  at::Tensor x = torch::linspace(-2, 2, 2 * 3 * 5 * 5).reshape({2, 3, 5, 5});
  at::Tensor expected = torch::relu(torch::conv2d(x, w, b, 1, 1)).contiguous();
  std::vector<float> xs(x.data_ptr<float>(), x.data_ptr<float>() + x.numel());
  auto out = model->Run({Floats("x", {2, 3, 5, 5}, xs)});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)[0].tensor.shape(), (Shape{2, 4, 5, 5}));
  std::vector<float> got = Values<float>((*out)[0].tensor);
  ASSERT_EQ(got.size(), size_t(expected.numel()));
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_NEAR(got[i], expected.data_ptr<float>()[i], 1e-4) << "at " << i;
  }
}

// ---------------------------------------------------------------------------
// Inputs

TEST_F(TorchBackendTest, Int64AndBoolInputs) {
  Save(MakeModule("def forward(self, x, m):\n  return x * 3, m.logical_not()\n"),
       Dir("types") / "model.pt",
       R"({"inputs":[{"name":"x","datatype":"INT64","shape":[-1,2]},)"
       R"({"name":"m","datatype":"BOOL","shape":[-1]}],)"
       R"("outputs":[{"name":"y","datatype":"INT64","shape":[-1,2]},)"
       R"({"name":"not_m","datatype":"BOOL","shape":[-1]}]})");
  auto model = MustLoad(Dir("types"));
  ASSERT_NE(model, nullptr);
  auto out = model->Run({Input<int64_t>("x", DataType::kInt64, {2, 2}, {1, -2, 1LL << 40, 0}),
                         Input<uint8_t>("m", DataType::kBool, {3}, {1, 0, 1})});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)[0].tensor.shape(), (Shape{2, 2}));
  EXPECT_EQ(Values<int64_t>((*out)[0].tensor), (std::vector<int64_t>{3, -6, 3LL << 40, 0}));
  EXPECT_EQ((*out)[1].tensor.dtype(), DataType::kBool);
  EXPECT_EQ(Values<uint8_t>((*out)[1].tensor), (std::vector<uint8_t>{0, 1, 0}));
}

TEST_F(TorchBackendTest, HalfAndDoubleInputs) {
  Save(MakeModule("def forward(self, h, d):\n  return h * 2, d / 4\n"), Dir("fp") / "model.pt");
  auto model = MustLoad(Dir("fp"));
  ASSERT_NE(model, nullptr);
  // FP16 1.5 = 0x3E00, 3.0 = 0x4200.
  auto out = model->Run({Input<uint16_t>("h", DataType::kFp16, {1}, {0x3E00}),
                         Input<double>("d", DataType::kFp64, {2}, {1.0, -8.0})});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)[0].tensor.dtype(), DataType::kFp16);
  EXPECT_EQ(Values<uint16_t>((*out)[0].tensor), (std::vector<uint16_t>{0x4200}));
  EXPECT_EQ((*out)[1].tensor.dtype(), DataType::kFp64);
  EXPECT_EQ(Values<double>((*out)[1].tensor), (std::vector<double>{0.25, -2.0}));
}

TEST_F(TorchBackendTest, UnsupportedInputTypeIsInvalidArgument) {
  Save(MakeModule("def forward(self, x):\n  return x\n"), Dir("u16") / "model.pt");
  auto model = MustLoad(Dir("u16"));
  ASSERT_NE(model, nullptr);
  auto out = model->Run({Input<uint16_t>("x", DataType::kUint16, {1}, {7})});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kInvalidArgument);
  ExpectContains(out.status().message(), "UINT16");
}

TEST_F(TorchBackendTest, WrongInputCountOrSizeIsInvalidArgument) {
  Save(MakeModule("def forward(self, x):\n  return x\n"), Dir("n") / "model.pt");
  auto model = MustLoad(Dir("n"));
  ASSERT_NE(model, nullptr);
  auto out = model->Run({});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kInvalidArgument);
  out = model->Run({Input<float>("x", DataType::kFp32, {3}, {1, 2})});  // 8 bytes for 3 floats
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(TorchBackendTest, EngineErrorIsOneLineInternal) {
  Save(MakeLinear(), Dir("shape") / "model.pt");
  auto model = MustLoad(Dir("shape"));
  ASSERT_NE(model, nullptr);
  auto out = model->Run({Floats("x", {1, 3}, {1, 2, 3})});  // w is [2,3]
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kInternal);
  ExpectContains(out.status().message(), (Dir("shape") / "model.pt").string());
  ExpectContains(out.status().message(), "cannot be multiplied");
  EXPECT_EQ(out.status().message().find('\n'), std::string::npos) << out.status().message();
}

TEST_F(TorchBackendTest, InPlaceModelNeverWritesRequestBuffer) {
  Save(MakeModule("def forward(self, x):\n  x.add_(1)\n  return x * 2\n"),
       Dir("inplace") / "model.pt");
  auto model = MustLoad(Dir("inplace"));
  ASSERT_NE(model, nullptr);
  NamedTensor input = Floats("x", {3}, {1, 2, 3});
  for (int i = 0; i < 3; ++i) {
    auto out = model->Run({input});
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    EXPECT_EQ(Values<float>((*out)[0].tensor), (std::vector<float>{4, 6, 8}));
  }
  EXPECT_EQ(Values<float>(input.tensor), (std::vector<float>{1, 2, 3}));
}

TEST_F(TorchBackendTest, IdentityOutputDoesNotAliasRequest) {
  Save(MakeModule("def forward(self, x):\n  return x\n"), Dir("identity") / "model.pt");
  auto model = MustLoad(Dir("identity"));
  ASSERT_NE(model, nullptr);
  auto input = std::make_unique<NamedTensor>(Floats("x", {2}, {5, 6}));
  auto out = model->Run({*input});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_NE((*out)[0].tensor.data(), input->tensor.data());
  input.reset();  // the request goes away; the output stays valid
  EXPECT_EQ(Values<float>((*out)[0].tensor), (std::vector<float>{5, 6}));
}

TEST_F(TorchBackendTest, MisalignedInputIsHandled) {
  Save(MakeModule("def forward(self, x):\n  return x + 1\n"), Dir("align") / "model.pt");
  auto model = MustLoad(Dir("align"));
  ASSERT_NE(model, nullptr);
  std::vector<float> values = {1, 2, 3};
  std::string buffer(1 + values.size() * sizeof(float), '\0');
  std::memcpy(buffer.data() + 1, values.data(), values.size() * sizeof(float));
  NamedTensor input{"x", Tensor::Borrow(DataType::kFp32, {3}, buffer.data() + 1,
                                        values.size() * sizeof(float))};
  auto out = model->Run({input});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(Values<float>((*out)[0].tensor), (std::vector<float>{2, 3, 4}));
}

TEST_F(TorchBackendTest, EmptyTensorInput) {
  Save(MakeModule("def forward(self, x):\n  return x * 2\n"), Dir("empty") / "model.pt");
  auto model = MustLoad(Dir("empty"));
  ASSERT_NE(model, nullptr);
  auto out = model->Run({Floats("x", {0, 4}, {})});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)[0].tensor.shape(), (Shape{0, 4}));
  EXPECT_EQ((*out)[0].tensor.byte_size(), 0u);
}

// ---------------------------------------------------------------------------
// Threads

TEST_F(TorchBackendTest, ConcurrentRunsGiveCorrectResults) {
  Save(MakeLinear(), Dir("linear") / "model.pt", kLinearSignature);
  auto model = MustLoad(Dir("linear"));
  ASSERT_NE(model, nullptr);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 100; ++i) {
        float a = float(t), b = float(i);
        auto out = model->Run({Floats("features", {1, 2}, {a, b})});
        std::vector<float> expected = {a + 4 * b + 0.5f, 2 * a + 5 * b - 0.5f, 3 * a + 6 * b + 1};
        if (!out.ok() || Values<float>((*out)[0].tensor) != expected) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
}

TEST_F(TorchBackendTest, IntraOpThreadsApplyPerCallingThread) {
  Save(MakeModule("def forward(self, x):\n  return x + 1\n"), Dir("t") / "model.pt");
  auto one = MustLoad(Dir("t"), 1);
  auto two = MustLoad(Dir("t"), 2);
  ASSERT_NE(one, nullptr);
  ASSERT_NE(two, nullptr);
  int main_before = at::get_num_threads();

  int seen_one = 0, seen_two = 0, seen_switch = 0;
  std::thread a([&] {
    ASSERT_TRUE(one->Run({Floats("x", {1}, {1})}).ok());
    seen_one = omp_get_max_threads();
  });
  std::thread b([&] {
    ASSERT_TRUE(two->Run({Floats("x", {1}, {1})}).ok());
    seen_two = at::get_num_threads();
    ASSERT_TRUE(one->Run({Floats("x", {1}, {1})}).ok());
    seen_switch = at::get_num_threads();
  });
  a.join();
  b.join();
  EXPECT_EQ(seen_one, 1);
  EXPECT_EQ(seen_two, 2);
  EXPECT_EQ(seen_switch, 1);
  // Other threads keep their own setting.
  EXPECT_EQ(at::get_num_threads(), main_before);
}

// ---------------------------------------------------------------------------
// The example models of scripts/make_example_models.py

TEST_F(TorchBackendTest, ExampleModelsLoadAndMatchPythonReference) {
  const std::string python = "/usr/bin/python3";
  if (!fs::exists(python)) GTEST_SKIP() << "no " << python;
  const fs::path repo = root_ / "repo";
  // x = arange(32)/10 as [2,16]; references written as raw float32.
  const std::string script =
      "import sys, numpy as np\n"
      "sys.path.insert(0, '" TESSERA_SOURCE_DIR "/scripts')\n"
      "import make_example_models as m\n"
      "out = sys.argv[1]\n"
      "m.make_repository(out)\n"
      "x = (np.arange(32, dtype=np.float32) / 10).reshape(2, 16)\n"
      "m.dense_reference(1, x).astype(np.float32).tofile(out + '/dense1.bin')\n"
      "m.dense_reference(out + '/dense/2', x).astype(np.float32).tofile(out + '/dense2.bin')\n";
  WriteFile(root_ / "gen.py", script);
  std::string command = python + " " + (root_ / "gen.py").string() + " " + repo.string();
  ASSERT_EQ(std::system(command.c_str()), 0) << command;

  std::vector<float> x(32);
  for (int i = 0; i < 32; ++i) x[i] = float(i) / 10;
  for (int version : {1, 2}) {
    auto model = MustLoad(repo / "dense" / std::to_string(version));
    ASSERT_NE(model, nullptr);
    ModelSignature expected;
    expected.inputs = {{"x", DataType::kFp32, {-1, 16}}};
    expected.outputs = {{"y", DataType::kFp32, {-1, 4}}};
    EXPECT_EQ(model->signature(), expected);
    auto out = model->Run({Floats("x", {2, 16}, x)});
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    std::string ref_bytes = ReadAll(repo / ("dense" + std::to_string(version) + ".bin"));
    ASSERT_EQ(ref_bytes.size(), 8 * sizeof(float));
    std::vector<float> ref(8);
    std::memcpy(ref.data(), ref_bytes.data(), ref_bytes.size());
    std::vector<float> got = Values<float>((*out)[0].tensor);
    ASSERT_EQ(got.size(), 8u);
    for (size_t i = 0; i < 8; ++i) EXPECT_NEAR(got[i], ref[i], 1e-4f * (1 + std::abs(ref[i])));
  }

  auto add_sub = MustLoad(repo / "add_sub" / "1");
  ASSERT_NE(add_sub, nullptr);
  EXPECT_EQ(add_sub->signature().inputs[1].shape, (Shape{-1, 8}));
  std::vector<float> a(8, 2.5f), b(8, 0.5f);
  auto sums = add_sub->Run({Floats("a", {1, 8}, a), Floats("b", {1, 8}, b)});
  ASSERT_TRUE(sums.ok()) << sums.status().ToString();
  EXPECT_EQ((*sums)[0].name, "sum");
  EXPECT_EQ(Values<float>((*sums)[0].tensor), std::vector<float>(8, 3.0f));
  EXPECT_EQ((*sums)[1].name, "diff");
  EXPECT_EQ(Values<float>((*sums)[1].tensor), std::vector<float>(8, 2.0f));

  auto int_ops = MustLoad(repo / "int_ops" / "1");
  ASSERT_NE(int_ops, nullptr);
  auto ints = int_ops->Run({Input<int64_t>("x", DataType::kInt64, {1, 4}, {-1, 0, 2, 3})});
  ASSERT_TRUE(ints.ok()) << ints.status().ToString();
  EXPECT_EQ((*ints)[0].name, "y");
  EXPECT_EQ(Values<int64_t>((*ints)[0].tensor), (std::vector<int64_t>{-3, 0, 6, 9}));
  EXPECT_EQ((*ints)[1].name, "mask");
  EXPECT_EQ(Values<uint8_t>((*ints)[1].tensor), (std::vector<uint8_t>{0, 0, 1, 1}));
}

}  // namespace
}  // namespace tessera
