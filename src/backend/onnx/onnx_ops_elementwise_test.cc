// Elementwise ops with broadcasting, activations, Cast/Clip/Where, and
// reductions, against libtorch references.
#include <gtest/gtest.h>

#include "backend/onnx/testing/expect.h"
#include "backend/onnx/testing/graph_builder.h"

namespace tessera::onnx_import::testing {
namespace {

TEST(OnnxElementwise, BinaryOpsBroadcast) {
  at::Tensor a = torch::randn({2, 3, 4}), b = torch::randn({3, 1}) + 3.0;
  ONNX_RUN(add, RunNode(13, "Add", {a, b}));
  EXPECT_TRUE(Close(add[0], a + b));
  ONNX_RUN(sub, RunNode(13, "Sub", {a, b}));
  EXPECT_TRUE(Close(sub[0], a - b));
  ONNX_RUN(mul, RunNode(13, "Mul", {a, b}));
  EXPECT_TRUE(Close(mul[0], a * b));
  ONNX_RUN(div, RunNode(13, "Div", {a, b}));
  EXPECT_TRUE(Close(div[0], a / b));
  ONNX_RUN(pow, RunNode(13, "Pow", {a.abs(), b}));
  EXPECT_TRUE(Close(pow[0], torch::pow(a.abs(), b)));
}

TEST(OnnxElementwise, IntegerDivisionTruncates) {
  at::Tensor a = torch::tensor({7, -7, 9}, at::kLong), b = torch::tensor({2, 2, -4}, at::kLong);
  ONNX_RUN(y, RunNode(13, "Div", {a, b}));
  EXPECT_TRUE(Close(y[0], torch::tensor({3, -3, -2}, at::kLong)));
}

TEST(OnnxElementwise, UnaryAndActivations) {
  at::Tensor x = torch::randn({2, 5});
  ONNX_RUN(relu, RunNode(13, "Relu", {x}));
  EXPECT_TRUE(Close(relu[0], torch::relu(x)));
  ONNX_RUN(sig, RunNode(13, "Sigmoid", {x}));
  EXPECT_TRUE(Close(sig[0], torch::sigmoid(x)));
  ONNX_RUN(erf, RunNode(13, "Erf", {x}));
  EXPECT_TRUE(Close(erf[0], torch::erf(x)));
  ONNX_RUN(sqrt, RunNode(13, "Sqrt", {x.abs()}));
  EXPECT_TRUE(Close(sqrt[0], torch::sqrt(x.abs())));
  ONNX_RUN(hs, RunNode(14, "HardSwish", {x}));
  EXPECT_TRUE(Close(hs[0], x * torch::clamp(x / 6 + 0.5, 0, 1)));
  ONNX_RUN(hsig, RunNode(6, "HardSigmoid", {x}, [](NodeBuilder& n) { n.Float("alpha", 0.3f); }));
  EXPECT_TRUE(Close(hsig[0], torch::clamp(x * 0.3 + 0.5, 0, 1)));
  ONNX_RUN(leaky, RunNode(6, "LeakyRelu", {x}, [](NodeBuilder& n) { n.Float("alpha", 0.2f); }));
  EXPECT_TRUE(Close(leaky[0], torch::leaky_relu(x, 0.2)));
}

TEST(OnnxElementwise, ClipBoundsAreAttributesBefore11AndInputsAfter) {
  at::Tensor x = torch::randn({3, 4}) * 5;
  ONNX_RUN(old, RunNode(7, "Clip", {x}, [](NodeBuilder& n) { n.Float("min", 0).Float("max", 6); }));
  EXPECT_TRUE(Close(old[0], torch::clamp(x, 0, 6)));
  ONNX_RUN(now, RunNode(13, "Clip", {x, torch::tensor(-1.0f), torch::tensor(2.0f)}));
  EXPECT_TRUE(Close(now[0], torch::clamp(x, -1, 2)));
}

TEST(OnnxElementwise, CastWhereEqual) {
  at::Tensor x = torch::tensor({1.5f, -2.0f, 3.0f});
  ONNX_RUN(cast, RunNode(13, "Cast", {x}, [](NodeBuilder& n) {
    n.Int("to", onnx::TensorProto::INT64);
  }));
  EXPECT_TRUE(Close(cast[0], torch::tensor({1, -2, 3}, at::kLong)));
  at::Tensor c = torch::tensor({true, false, true});
  ONNX_RUN(where, RunNode(13, "Where", {c, x, torch::zeros({1})}));
  EXPECT_TRUE(Close(where[0], torch::tensor({1.5f, 0.0f, 3.0f})));
  ONNX_RUN(eq, RunNode(13, "Equal", {x, torch::tensor({1.5f})}));
  EXPECT_TRUE(Close(eq[0], torch::tensor({true, false, false})));
}

TEST(OnnxReduce, AxesAttributeBefore18AndInputForReduceSum13) {
  at::Tensor x = torch::randn({2, 3, 4});
  ONNX_RUN(mean, RunNode(13, "ReduceMean", {x}, [](NodeBuilder& n) {
    n.Ints("axes", {-1}).Int("keepdims", 1);
  }));
  EXPECT_TRUE(Close(mean[0], x.mean(std::vector<int64_t>{-1}, true)));
  ONNX_RUN(sum, RunNode(13, "ReduceSum", {x, torch::tensor({0, 2}, at::kLong)},
                        [](NodeBuilder& n) { n.Int("keepdims", 0); }));
  EXPECT_TRUE(Close(sum[0], x.sum(std::vector<int64_t>{0, 2})));
  ONNX_RUN(sum11, RunNode(11, "ReduceSum", {x}, [](NodeBuilder& n) { n.Ints("axes", {1}); }));
  EXPECT_TRUE(Close(sum11[0], x.sum(std::vector<int64_t>{1}, true)));
  ONNX_RUN(all, RunNode(13, "ReduceMax", {x}, [](NodeBuilder& n) { n.Int("keepdims", 0); }));
  EXPECT_TRUE(Close(all[0], x.max()));
  ONNX_RUN(arg, RunNode(13, "ArgMax", {x}, [](NodeBuilder& n) { n.Int("axis", 1); }));
  EXPECT_TRUE(Close(arg[0], x.argmax(1, true)));
}

TEST(OnnxElementwise, UnsupportedAttributeNamesOpNodeAndOpset) {
  auto result = RunNode(13, "BitShift", {torch::ones({2}, at::kLong), torch::ones({2}, at::kLong)},
                        [](NodeBuilder& n) { n.Str("direction", "UP"); });
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kUnimplemented);
  EXPECT_NE(result.status().message().find("BitShift"), std::string::npos);
  EXPECT_NE(result.status().message().find("node 'BitShift_1'"), std::string::npos);
  EXPECT_NE(result.status().message().find("opset 13"), std::string::npos);
}

}  // namespace
}  // namespace tessera::onnx_import::testing
