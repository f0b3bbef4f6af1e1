// Convolution and pooling, MatMul/Gemm, normalisations, Resize, recurrent
// and quantization ops against libtorch references.
#include <gtest/gtest.h>

#include "backend/onnx/testing/expect.h"
#include "backend/onnx/testing/graph_builder.h"

namespace tessera::onnx_import::testing {
namespace {

at::Tensor Conv2d(const at::Tensor& x, const at::Tensor& w, const at::Tensor& b, int64_t stride = 1,
                  int64_t pad = 0, int64_t dilation = 1, int64_t groups = 1) {
  return at::conv2d(x, w, b, std::vector<int64_t>{stride, stride}, std::vector<int64_t>{pad, pad},
                    std::vector<int64_t>{dilation, dilation}, groups);
}

// x -> Conv(W, B) with constant weights, the way exporters write it.
onnx::ModelProto ConvModel(const at::Tensor& w, const at::Tensor& b,
                           const std::function<void(NodeBuilder&)>& attrs) {
  GraphBuilder g(13);
  g.Input("x", {-1, w.size(1), -1, -1}).Output("y");
  g.Initializer("W", w).Initializer("B", b);
  NodeBuilder node = g.Node("Conv", {"x", "W", "B"}, {"y"});
  attrs(node);
  return g.model();
}

TEST(OnnxConvPool, ConvSymmetricAsymmetricAndSamePadding) {
  at::Tensor x = torch::randn({2, 3, 9, 9}), w = torch::randn({4, 3, 3, 3}), b = torch::randn({4});
  ONNX_RUN(sym, RunModel(ConvModel(w, b, [](NodeBuilder& n) {
    n.Ints("pads", {1, 1, 1, 1}).Ints("strides", {2, 2});
  }), {x}));
  EXPECT_TRUE(Close(sym[0], Conv2d(x, w, b, 2, 1)));
  ONNX_RUN(asym, RunModel(ConvModel(w, b, [](NodeBuilder& n) { n.Ints("pads", {0, 1, 2, 0}); }),
                          {x}));
  EXPECT_TRUE(Close(asym[0], Conv2d(torch::constant_pad_nd(x, {1, 0, 0, 2}), w, b)));
  ONNX_RUN(same, RunModel(ConvModel(w, b, [](NodeBuilder& n) {
    n.Str("auto_pad", "SAME_UPPER").Ints("strides", {2, 2});
  }), {x}));
  // in 9, stride 2 -> out 5, total pad 2: 1 before, 1 after
  EXPECT_TRUE(Close(same[0], Conv2d(x, w, b, 2, 1)));
}

TEST(OnnxConvPool, GroupedAndDilatedConv) {
  at::Tensor x = torch::randn({1, 4, 10, 10}), w = torch::randn({8, 2, 3, 3}), b = torch::randn({8});
  ONNX_RUN(y, RunModel(ConvModel(w, b, [](NodeBuilder& n) {
    n.Int("group", 2).Ints("dilations", {2, 2});
  }), {x}));
  EXPECT_TRUE(Close(y[0], Conv2d(x, w, b, 1, 0, 2, 2)));
}

TEST(OnnxConvPool, Pools) {
  at::Tensor x = torch::randn({2, 3, 8, 8});
  ONNX_RUN(max, RunNode(13, "MaxPool", {x}, [](NodeBuilder& n) {
    n.Ints("kernel_shape", {3, 3}).Ints("strides", {2, 2}).Ints("pads", {1, 1, 1, 1});
  }));
  EXPECT_TRUE(Close(max[0], torch::max_pool2d(x, 3, 2, 1)));
  ONNX_RUN(avg, RunNode(13, "AveragePool", {x}, [](NodeBuilder& n) {
    n.Ints("kernel_shape", {2, 2}).Ints("strides", {2, 2});
  }));
  EXPECT_TRUE(Close(avg[0], torch::avg_pool2d(x, 2, 2)));
  ONNX_RUN(avg_pad, RunNode(13, "AveragePool", {x}, [](NodeBuilder& n) {
    n.Ints("kernel_shape", {3, 3}).Ints("pads", {1, 1, 1, 1});
  }));
  EXPECT_TRUE(Close(avg_pad[0], torch::avg_pool2d(x, 3, 1, 1, false, /*count_include_pad=*/false)));
  ONNX_RUN(global, RunNode(13, "GlobalAveragePool", {x}));
  EXPECT_TRUE(Close(global[0], x.mean(std::vector<int64_t>{2, 3}, true)));
}

TEST(OnnxMatMulGemm, MatMulBatchedAndGemmAttributes) {
  at::Tensor a = torch::randn({2, 3, 4}), b = torch::randn({4, 5});
  ONNX_RUN(mm, RunNode(13, "MatMul", {a, b}));
  EXPECT_TRUE(Close(mm[0], torch::matmul(a, b)));
  at::Tensor x = torch::randn({3, 4}), w = torch::randn({5, 4}), c = torch::randn({5});
  ONNX_RUN(lin, RunNode(13, "Gemm", {x, w, c}, [](NodeBuilder& n) { n.Int("transB", 1); }));
  EXPECT_TRUE(Close(lin[0], torch::linear(x, w, c)));
  at::Tensor xt = torch::randn({4, 3}), c2 = torch::randn({3, 5});
  ONNX_RUN(full, RunNode(11, "Gemm", {xt, w, c2}, [](NodeBuilder& n) {
    n.Int("transA", 1).Int("transB", 1).Float("alpha", 0.5f).Float("beta", 2.0f);
  }));
  EXPECT_TRUE(Close(full[0], torch::matmul(xt.t(), w.t()) * 0.5 + c2 * 2.0));
}

TEST(OnnxNormalization, BatchInstanceLayerNorm) {
  at::Tensor x = torch::randn({2, 3, 4, 4});
  at::Tensor s = torch::rand({3}) + 0.5, b = torch::randn({3}), m = torch::randn({3}),
             v = torch::rand({3}) + 0.5;
  ONNX_RUN(bn, RunNode(15, "BatchNormalization", {x, s, b, m, v}));
  EXPECT_TRUE(Close(bn[0], torch::batch_norm(x, s, b, m, v, false, 0.1, 1e-5, false)));
  ONNX_RUN(in, RunNode(6, "InstanceNormalization", {x, s, b}));
  EXPECT_TRUE(Close(in[0], torch::instance_norm(x, s, b, {}, {}, true, 0.0, 1e-5, false)));
  at::Tensor t = torch::randn({2, 5, 8}), g = torch::randn({8}), beta = torch::randn({8});
  ONNX_RUN(ln, RunNode(17, "LayerNormalization", {t, g, beta}));
  EXPECT_TRUE(Close(ln[0], torch::layer_norm(t, {8}, g, beta, 1e-5)));
  ONNX_RUN(sm, RunNode(13, "Softmax", {t}, [](NodeBuilder& n) { n.Int("axis", 1); }));
  EXPECT_TRUE(Close(sm[0], torch::softmax(t, 1)));
  ONNX_RUN(sm11, RunNode(11, "Softmax", {t}, [](NodeBuilder& n) { n.Int("axis", 1); }));
  EXPECT_TRUE(Close(sm11[0], torch::softmax(t.reshape({2, 40}), 1).reshape({2, 5, 8})));
}

TEST(OnnxResize, NearestAndLinearModes) {
  at::Tensor x = torch::randn({1, 2, 4, 5});
  at::Tensor scales = torch::tensor({1.0f, 1.0f, 2.0f, 2.0f});
  at::Tensor empty = torch::empty({0});
  ONNX_RUN(nearest, RunNode(13, "Resize", {x, empty, scales}, [](NodeBuilder& n) {
    n.Str("coordinate_transformation_mode", "asymmetric").Str("nearest_mode", "floor");
  }));
  EXPECT_TRUE(Close(nearest[0], torch::upsample_nearest2d(x, {8, 10})));
  ONNX_RUN(linear, RunNode(13, "Resize", {x, empty, scales}, [](NodeBuilder& n) {
    n.Str("mode", "linear");
  }));
  EXPECT_TRUE(Close(linear[0], torch::upsample_bilinear2d(x, {8, 10}, /*align_corners=*/false)));
  at::Tensor sizes = torch::tensor({1, 2, 7, 3}, at::kLong);
  ONNX_RUN(corners, RunNode(13, "Resize", {x, empty, empty, sizes}, [](NodeBuilder& n) {
    n.Str("mode", "linear").Str("coordinate_transformation_mode", "align_corners");
  }));
  EXPECT_TRUE(Close(corners[0], torch::upsample_bilinear2d(x, {7, 3}, /*align_corners=*/true)));
  ONNX_RUN(up, RunNode(9, "Upsample", {x, scales}));
  EXPECT_TRUE(Close(up[0], torch::upsample_nearest2d(x, {8, 10})));
}

// ONNX LSTM gates are i, o, f, c; aten's are i, f, g(c), o.
at::Tensor OnnxGateOrder(const at::Tensor& t) {
  auto c = t.chunk(4, 0);
  return torch::cat({c[0], c[3], c[1], c[2]}, 0);
}

TEST(OnnxRecurrent, LstmAndRnnMatchAten) {
  const int64_t seq = 5, batch = 2, in = 3, hidden = 4;
  at::Tensor x = torch::randn({seq, batch, in});
  at::Tensor w_ih = torch::randn({4 * hidden, in}), w_hh = torch::randn({4 * hidden, hidden});
  at::Tensor b_ih = torch::randn({4 * hidden}), b_hh = torch::randn({4 * hidden});
  at::Tensor h0 = torch::randn({1, batch, hidden}), c0 = torch::randn({1, batch, hidden});
  at::Tensor w = OnnxGateOrder(w_ih).unsqueeze(0), r = OnnxGateOrder(w_hh).unsqueeze(0);
  at::Tensor b = torch::cat({OnnxGateOrder(b_ih), OnnxGateOrder(b_hh)}).unsqueeze(0);
  at::Tensor lens = torch::full({batch}, seq, at::kInt);
  ONNX_RUN(lstm, RunNode(14, "LSTM", {x, w, r, b, lens, h0, c0},
                         [&](NodeBuilder& n) { n.Int("hidden_size", hidden); }, 3));
  auto ref = at::lstm(x, {h0, c0}, {w_ih, w_hh, b_ih, b_hh}, true, 1, 0.0, false, false, false);
  EXPECT_TRUE(Close(lstm[0], std::get<0>(ref).unsqueeze(1)));  // [seq, dirs, batch, hidden]
  EXPECT_TRUE(Close(lstm[1], std::get<1>(ref)));
  EXPECT_TRUE(Close(lstm[2], std::get<2>(ref)));

  at::Tensor rw = torch::randn({hidden, in}), rr = torch::randn({hidden, hidden});
  at::Tensor rb_ih = torch::randn({hidden}), rb_hh = torch::randn({hidden});
  ONNX_RUN(rnn, RunNode(14, "RNN", {x, rw.unsqueeze(0), rr.unsqueeze(0),
                                    torch::cat({rb_ih, rb_hh}).unsqueeze(0)},
                        [&](NodeBuilder& n) { n.Int("hidden_size", hidden); }, 2));
  auto rref = at::rnn_tanh(x, torch::zeros({1, batch, hidden}), {rw, rr, rb_ih, rb_hh}, true, 1,
                           0.0, false, false, false);
  EXPECT_TRUE(Close(rnn[0], std::get<0>(rref).unsqueeze(1)));
  EXPECT_TRUE(Close(rnn[1], std::get<1>(rref)));
}

TEST(OnnxQuantization, QuantizeDequantizeRoundTrip) {
  at::Tensor x = torch::tensor({-1.0f, 0.0f, 0.25f, 0.3f, 100.0f});
  at::Tensor scale = torch::tensor(0.1f), zp = torch::tensor(static_cast<uint8_t>(10));
  ONNX_RUN(q, RunNode(13, "QuantizeLinear", {x, scale, zp}));
  // round half to even: 0.25 / 0.1 = 2.5 -> 2; saturates at 255
  EXPECT_TRUE(Close(q[0], torch::tensor({0, 10, 12, 13, 255}, at::kByte)));
  ONNX_RUN(dq, RunNode(13, "DequantizeLinear", {q[0], scale, zp}));
  EXPECT_TRUE(Close(dq[0], torch::tensor({-1.0f, 0.0f, 0.2f, 0.3f, 24.5f})));
}

}  // namespace
}  // namespace tessera::onnx_import::testing
