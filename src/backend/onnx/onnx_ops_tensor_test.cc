// Shape ops, gather/scatter, and a control-free sequence of ops computing
// shapes at run time (the pattern exporters emit for dynamic batch sizes).
#include <gtest/gtest.h>

#include "backend/onnx/testing/expect.h"
#include "backend/onnx/testing/graph_builder.h"

namespace tessera::onnx_import::testing {
namespace {

at::Tensor Longs(std::vector<int64_t> v) { return torch::tensor(v, at::kLong); }

TEST(OnnxShapeOps, ReshapeTransposeFlattenConcatSplit) {
  at::Tensor x = torch::randn({2, 3, 4});
  ONNX_RUN(r, RunNode(13, "Reshape", {x, Longs({0, -1})}));
  EXPECT_TRUE(Close(r[0], x.reshape({2, 12})));
  ONNX_RUN(t, RunNode(13, "Transpose", {x}, [](NodeBuilder& n) { n.Ints("perm", {2, 0, 1}); }));
  EXPECT_TRUE(Close(t[0], x.permute({2, 0, 1})));
  ONNX_RUN(f, RunNode(13, "Flatten", {x}, [](NodeBuilder& n) { n.Int("axis", 2); }));
  EXPECT_TRUE(Close(f[0], x.reshape({6, 4})));
  ONNX_RUN(c, RunNode(13, "Concat", {x, x * 2}, [](NodeBuilder& n) { n.Int("axis", -1); }));
  EXPECT_TRUE(Close(c[0], torch::cat({x, x * 2}, -1)));
  ONNX_RUN(s, RunNode(13, "Split", {x, Longs({1, 3})}, [](NodeBuilder& n) { n.Int("axis", 2); }, 2));
  EXPECT_TRUE(Close(s[0], x.narrow(2, 0, 1)));
  EXPECT_TRUE(Close(s[1], x.narrow(2, 1, 3)));
  ONNX_RUN(s11, RunNode(11, "Split", {x}, [](NodeBuilder& n) { n.Int("axis", 1); }, 3));
  EXPECT_TRUE(Close(s11[2], x.narrow(1, 2, 1)));
}

TEST(OnnxShapeOps, SqueezeUnsqueezeAxesAttributeAndInput) {
  at::Tensor x = torch::randn({1, 3, 1, 2});
  ONNX_RUN(sq11, RunNode(11, "Squeeze", {x}, [](NodeBuilder& n) { n.Ints("axes", {0, -2}); }));
  EXPECT_TRUE(Close(sq11[0], x.reshape({3, 2})));
  ONNX_RUN(sq13, RunNode(13, "Squeeze", {x, Longs({2})}));
  EXPECT_TRUE(Close(sq13[0], x.reshape({1, 3, 2})));
  ONNX_RUN(un13, RunNode(13, "Unsqueeze", {x, Longs({0, -1})}));
  EXPECT_TRUE(Close(un13[0], x.reshape({1, 1, 3, 1, 2, 1})));
  ONNX_RUN(un11, RunNode(11, "Unsqueeze", {x}, [](NodeBuilder& n) { n.Ints("axes", {1}); }));
  EXPECT_TRUE(Close(un11[0], x.unsqueeze(1)));
}

TEST(OnnxShapeOps, SliceExpandPadShapeRangeConstantOfShape) {
  at::Tensor x = torch::randn({4, 6});
  ONNX_RUN(sl, RunNode(13, "Slice", {x, Longs({1, -1}), Longs({3, -6}), Longs({0, 1}),
                                     Longs({1, -2})}));
  EXPECT_TRUE(Close(sl[0], x.index({torch::indexing::Slice(1, 3)})
                              .index_select(1, Longs({5, 3, 1}))));
  ONNX_RUN(sl9, RunNode(9, "Slice", {x}, [](NodeBuilder& n) {
    n.Ints("starts", {2}).Ints("ends", {100}).Ints("axes", {1});
  }));
  EXPECT_TRUE(Close(sl9[0], x.narrow(1, 2, 4)));
  ONNX_RUN(ex, RunNode(13, "Expand", {torch::randn({3, 1}), Longs({2, 1, 4})}));
  EXPECT_EQ(ex[0].sizes(), (std::vector<int64_t>{2, 3, 4}));
  ONNX_RUN(pad, RunNode(13, "Pad", {x, Longs({1, 0, 0, 2}), torch::tensor(5.0f)}));
  EXPECT_TRUE(Close(pad[0], torch::constant_pad_nd(x, {0, 2, 1, 0}, 5.0)));
  ONNX_RUN(refl, RunNode(13, "Pad", {x, Longs({0, 2, 0, 1})}, [](NodeBuilder& n) {
    n.Str("mode", "reflect");
  }));
  EXPECT_TRUE(Close(refl[0], torch::reflection_pad1d(x, {2, 1})));
  ONNX_RUN(sh, RunNode(13, "Shape", {x}));
  EXPECT_TRUE(Close(sh[0], Longs({4, 6})));
  ONNX_RUN(rg, RunNode(11, "Range", {torch::tensor(1L), torch::tensor(10L), torch::tensor(3L)}));
  EXPECT_TRUE(Close(rg[0], Longs({1, 4, 7})));
  ONNX_RUN(cs, RunNode(9, "ConstantOfShape", {Longs({2, 3})}, [](NodeBuilder& n) {
    n.Tensor("value", torch::tensor({7L}));
  }));
  EXPECT_TRUE(Close(cs[0], torch::full({2, 3}, 7L)));
}

TEST(OnnxGatherScatter, GatherElementsNdScatter) {
  at::Tensor x = torch::randn({4, 5});
  ONNX_RUN(g, RunNode(13, "Gather", {x, Longs({3, -1, 0})}, [](NodeBuilder& n) { n.Int("axis", 0); }));
  EXPECT_TRUE(Close(g[0], x.index_select(0, Longs({3, 3, 0}))));
  at::Tensor idx = torch::randint(0, 5, {4, 2}, at::kLong);
  ONNX_RUN(ge, RunNode(13, "GatherElements", {x, idx}, [](NodeBuilder& n) { n.Int("axis", 1); }));
  EXPECT_TRUE(Close(ge[0], torch::gather(x, 1, idx)));
  at::Tensor nd = Longs({1, 2, 3, 0}).reshape({2, 2});
  ONNX_RUN(gnd, RunNode(13, "GatherND", {x, nd}));
  EXPECT_TRUE(Close(gnd[0], torch::stack({x[1][2], x[3][0]})));
  at::Tensor upd = torch::randn({4, 2});
  ONNX_RUN(se, RunNode(13, "ScatterElements", {x, idx.narrow(1, 0, 1).expand({4, 2}).contiguous(), upd},
                       [](NodeBuilder& n) { n.Int("axis", 1).Str("reduction", "add"); }));
  EXPECT_TRUE(Close(se[0], x.scatter_add(1, idx.narrow(1, 0, 1).expand({4, 2}), upd)));
  at::Tensor rows = Longs({2, 0}).reshape({2, 1}), vals = torch::randn({2, 5});
  ONNX_RUN(snd, RunNode(13, "ScatterND", {x, rows, vals}));
  at::Tensor expected = x.clone();
  expected[2] = vals[0];
  expected[0] = vals[1];
  EXPECT_TRUE(Close(snd[0], expected));
}

// x (N, 3, 4) -> Shape -> Gather(0) -> Unsqueeze -> Concat([N, -1]) ->
// Reshape -> MatMul(W) -> Add(b) -> Relu -> Softmax: the flatten-and-classify
// tail of an exported CNN with a dynamic batch, shapes computed in-graph.
TEST(OnnxSequence, DynamicBatchFlattenAndClassify) {
  GraphBuilder g(13);
  at::Tensor w = torch::randn({12, 5}), b = torch::randn({5});
  g.Input("x", {-1, 3, 4}).Output("y", {-1, 5}, onnx::TensorProto::FLOAT, true);
  g.Initializer("W", w).Initializer("b", b).Initializer("zero", torch::tensor(0L))
      .Initializer("axes0", Longs({0})).Initializer("minus1", Longs({-1}));
  g.Node("Shape", {"x"}, {"shape"});
  g.Node("Gather", {"shape", "zero"}, {"n"});
  g.Node("Unsqueeze", {"n", "axes0"}, {"n1"});
  g.Node("Concat", {"n1", "minus1"}, {"target"}).Int("axis", 0);
  g.Node("Reshape", {"x", "target"}, {"flat"});
  g.Node("MatMul", {"flat", "W"}, {"mm"});
  g.Node("Add", {"mm", "b"}, {"logits"});
  g.Node("Relu", {"logits"}, {"r"});
  g.Node("Softmax", {"r"}, {"y"}).Int("axis", 1);
  for (int64_t n : {1, 3}) {
    at::Tensor x = torch::randn({n, 3, 4});
    ONNX_RUN(y, RunModel(g.model(), {x}));
    EXPECT_TRUE(Close(y[0], torch::softmax(torch::relu(torch::matmul(x.reshape({n, 12}), w) + b), 1)));
  }
}

TEST(OnnxSequence, NodesOutOfOrderAreSortedAndIdentityOnInitializersFolds) {
  GraphBuilder g(13);
  g.Input("x", {2, 2}).Output("y");
  g.Initializer("w", torch::ones({2, 2}));
  g.Node("Add", {"x", "w2"}, {"y"});  // consumer before producer
  g.Node("Identity", {"w"}, {"w2"});
  at::Tensor x = torch::randn({2, 2});
  ONNX_RUN(y, RunModel(g.model(), {x}));
  EXPECT_TRUE(Close(y[0], x + 1));
}

}  // namespace
}  // namespace tessera::onnx_import::testing
