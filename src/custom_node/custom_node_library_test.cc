#include "custom_node/custom_node_library.h"

#include <dlfcn.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <thread>

namespace tessera::custom_node {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

Tensor Floats(Shape shape, std::vector<float> values) {
  std::string bytes(values.size() * sizeof(float), '\0');
  if (!values.empty()) std::memcpy(bytes.data(), values.data(), bytes.size());
  return Tensor::FromBytes(DataType::kFp32, std::move(shape), std::move(bytes));
}

std::vector<float> ToFloats(const Tensor& t) {
  return std::vector<float>(t.data_as<float>(), t.data_as<float>() + t.byte_size() / sizeof(float));
}

struct Counters {
  long live_allocations = 0;
  long live_managers = 0;
  long initialized = 0;
};

// Reads the misbehaving library's own bookkeeping (the library stays loaded
// while `library` lives, so RTLD_NOLOAD finds the same copy).
Counters ReadCounters() {
  void* handle = dlopen(MISBEHAVING_LIBRARY, RTLD_LAZY | RTLD_NOLOAD);
  EXPECT_NE(handle, nullptr);
  Counters c;
  if (handle == nullptr) return c;
  auto fn = reinterpret_cast<void (*)(long*, long*, long*)>(dlsym(handle, "tessera_test_counters"));
  fn(&c.live_allocations, &c.live_managers, &c.initialized);
  dlclose(handle);
  return c;
}

class MisbehavingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto loaded = CustomNodeLibrary::Load(MISBEHAVING_LIBRARY);
    ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
    library_ = *loaded;
    start_ = ReadCounters();
  }
  void TearDown() override {
    Counters now = ReadCounters();
    EXPECT_EQ(now.live_allocations, start_.live_allocations) << "memory not given back through release";
  }

  std::shared_ptr<CustomNode> Node(const std::string& mode) {
    auto node = CustomNode::Create(library_, "bad", {{"mode", mode}});
    EXPECT_TRUE(node.ok()) << node.status().ToString();
    return node.ok() ? *node : nullptr;
  }

  Status Run(const std::string& mode) {
    auto node = Node(mode);
    auto out = node->Execute({{"in", Floats({1, 2}, {1, 2})}}, {"out"});
    return out.ok() ? Status::Ok() : out.status();
  }

  std::shared_ptr<const CustomNodeLibrary> library_;
  Counters start_;
};

TEST(CustomNodeLibraryTest, LoadsEverySymbol) {
  auto library = CustomNodeLibrary::Load(ADD_SUB_LIBRARY);
  ASSERT_TRUE(library.ok()) << library.status().ToString();
  EXPECT_EQ((*library)->path(), ADD_SUB_LIBRARY);
  EXPECT_NE((*library)->initialize, nullptr);
  EXPECT_NE((*library)->release, nullptr);
}

TEST(CustomNodeLibraryTest, MissingFileNamesPath) {
  auto library = CustomNodeLibrary::Load("/nonexistent/libnothing.so");
  ASSERT_FALSE(library.ok());
  EXPECT_EQ(library.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(library.status().message(),
              StartsWith("Custom node library failed to open: /nonexistent/libnothing.so: "));
}

TEST(CustomNodeLibraryTest, MissingSymbolNamesSymbolAndPath) {
  auto library = CustomNodeLibrary::Load(MISSING_SYMBOL_LIBRARY);
  ASSERT_FALSE(library.ok());
  EXPECT_EQ(library.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(library.status().message(), std::string("Custom node library failed to load symbol: release; library: ") +
                                            MISSING_SYMBOL_LIBRARY);
}

TEST(CustomNodeLibraryTest, PathWithDotDotIsRefused) {
  auto library = CustomNodeLibrary::Load("/opt/../lib/libx.so");
  ASSERT_FALSE(library.ok());
  EXPECT_EQ(library.status().message(), "Path escape with .. is forbidden: /opt/../lib/libx.so");
}

TEST(CustomNodeLibraryTest, AddSubUsesNodeParams) {
  auto library = CustomNodeLibrary::Load(ADD_SUB_LIBRARY);
  ASSERT_TRUE(library.ok());
  auto node = CustomNode::Create(*library, "add", {{"add_value", "1.5"}, {"sub_value", "0.5"}});
  ASSERT_TRUE(node.ok()) << node.status().ToString();
  auto out = (*node)->Execute({{"input_numbers", Floats({1, 3}, {1, 2, 3})}}, {"output_numbers"});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ASSERT_EQ(out->size(), 1u);
  EXPECT_EQ((*out)[0].name, "output_numbers");
  EXPECT_EQ((*out)[0].tensor.dtype(), DataType::kFp32);
  EXPECT_EQ((*out)[0].tensor.shape(), (Shape{1, 3}));
  EXPECT_EQ(ToFloats((*out)[0].tensor), (std::vector<float>{2, 3, 4}));
}

TEST(CustomNodeLibraryTest, AddSubInfoReportsAnyDimAsDynamic) {
  auto library = CustomNodeLibrary::Load(ADD_SUB_LIBRARY);
  ASSERT_TRUE(library.ok());
  auto node = CustomNode::Create(*library, "add", {});
  ASSERT_TRUE(node.ok());
  auto inputs = (*node)->GetInputsInfo();
  ASSERT_TRUE(inputs.ok()) << inputs.status().ToString();
  EXPECT_EQ(*inputs, (std::vector<TensorInfo>{{"input_numbers", DataType::kFp32, {1, -1}}}));
  auto outputs = (*node)->GetOutputsInfo();
  ASSERT_TRUE(outputs.ok());
  EXPECT_EQ(*outputs, (std::vector<TensorInfo>{{"output_numbers", DataType::kFp32, {1, -1}}}));
}

TEST(CustomNodeLibraryTest, AddSubInitializeFailsOnBadParam) {
  auto library = CustomNodeLibrary::Load(ADD_SUB_LIBRARY);
  ASSERT_TRUE(library.ok());
  auto node = CustomNode::Create(*library, "add", {{"add_value", "one"}});
  ASSERT_FALSE(node.ok());
  EXPECT_EQ(node.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(node.status().message(), std::string("Failure during custom node library initialization; node: add; "
                                                 "library: ") + ADD_SUB_LIBRARY + "; code: 2");
}

TEST(CustomNodeLibraryTest, ConcurrentExecuteOnOneNode) {
  auto library = CustomNodeLibrary::Load(ADD_SUB_LIBRARY);
  ASSERT_TRUE(library.ok());
  auto node = CustomNode::Create(*library, "add", {{"add_value", "1"}});
  ASSERT_TRUE(node.ok());
  std::vector<std::thread> threads;
  std::atomic<int> good{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        auto out = (*node)->Execute({{"input_numbers", Floats({1, 1}, {float(t)})}}, {});
        if (out.ok() && ToFloats((*out)[0].tensor) == std::vector<float>{float(t + 1)}) ++good;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(good.load(), 800);
}

TEST_F(MisbehavingTest, InitializeAndDeinitializeOncePerNode) {
  long live = ReadCounters().live_managers;
  {
    auto a = Node("ok");
    auto b = Node("ok");
    EXPECT_EQ(ReadCounters().live_managers, live + 2);
  }
  EXPECT_EQ(ReadCounters().live_managers, live);
}

TEST_F(MisbehavingTest, OutputMemoryLivesUntilLastTensorCopyDies) {
  long live = ReadCounters().live_managers;
  Tensor kept;
  {
    auto node = Node("ok");
    auto out = node->Execute({{"in", Floats({1, 2}, {7, 8})}}, {"out"});
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    ASSERT_EQ(out->size(), 2u);  // "out" and "extra"; unmapped outputs are the caller's to drop
    kept = (*out)[0].tensor;
    // The tensor borrows library memory: the array and every dims are back,
    // the data of both outputs is not.
    EXPECT_EQ(ReadCounters().live_allocations, start_.live_allocations + 2);
  }
  // The node is gone from the caller's view, but the tensor keeps it alive.
  EXPECT_EQ(ReadCounters().live_managers, live + 1);
  EXPECT_EQ(ToFloats(kept), (std::vector<float>{7, 8}));
  EXPECT_EQ(ReadCounters().live_allocations, start_.live_allocations + 1);
  kept = Tensor();
  EXPECT_EQ(ReadCounters().live_allocations, start_.live_allocations);
  EXPECT_EQ(ReadCounters().live_managers, live);
}

TEST_F(MisbehavingTest, InitializeFailure) {
  auto node = CustomNode::Create(library_, "bad", {{"mode", "init_fail"}});
  ASSERT_FALSE(node.ok());
  EXPECT_THAT(node.status().message(), StartsWith("Failure during custom node library initialization; node: bad"));
}

TEST_F(MisbehavingTest, MetadataFailure) {
  auto node = Node("metadata_fail");
  auto info = node->GetInputsInfo();
  ASSERT_FALSE(info.ok());
  EXPECT_EQ(info.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(info.status().message(), StartsWith("Custom node failed on metadata call; node: bad; library: "));
  EXPECT_THAT(info.status().message(), HasSubstr("call: getInputsInfo; code: 2"));
  EXPECT_THAT(node->GetOutputsInfo().status().message(), HasSubstr("call: getOutputsInfo; code: 2"));
}

TEST_F(MisbehavingTest, MetadataNullArray) {
  auto info = Node("info_null")->GetOutputsInfo();
  ASSERT_FALSE(info.ok());
  EXPECT_THAT(info.status().message(), StartsWith("Custom node library has returned corrupted outputs handle"));
}

TEST_F(MisbehavingTest, MetadataZeroCount) {
  auto info = Node("info_zero_count")->GetInputsInfo();
  ASSERT_FALSE(info.ok());
  EXPECT_THAT(info.status().message(),
              StartsWith("Custom node library has produced corrupted number of outputs; node: bad"));
}

TEST_F(MisbehavingTest, ExecuteNonZeroReturn) {
  Status s = Run("exec_fail");
  EXPECT_EQ(s.code(), StatusCode::kInternal);
  EXPECT_THAT(s.message(), StartsWith("Custom node failed during execution; node: bad; library: "));
  EXPECT_THAT(s.message(), HasSubstr("; code: 3"));
}

TEST_F(MisbehavingTest, ExecuteNullOutputs) {
  Status s = Run("null_outputs");
  EXPECT_EQ(s.code(), StatusCode::kInternal);
  EXPECT_THAT(s.message(), StartsWith("Custom node library has returned corrupted outputs handle; node: bad"));
}

TEST_F(MisbehavingTest, ExecuteZeroCount) {
  Status s = Run("zero_count");
  EXPECT_THAT(s.message(), StartsWith("Custom node library has produced corrupted number of outputs; node: bad"));
  EXPECT_THAT(s.message(), HasSubstr("count: 0"));
}

TEST_F(MisbehavingTest, ExecuteWrongSize) {
  Status s = Run("wrong_size");
  EXPECT_EQ(s.code(), StatusCode::kInternal);
  EXPECT_EQ(s.message(), "Custom node output has invalid content size; node: bad; output: out; "
                         "expected: 8 bytes vs 12");
}

TEST_F(MisbehavingTest, ExecuteNullData) {
  Status s = Run("null_data");
  EXPECT_EQ(s.message(), "Custom node output has invalid content size; node: bad; output: out; data handle is null");
}

TEST_F(MisbehavingTest, ExecuteMissingName) {
  Status s = Run("missing_name");
  EXPECT_EQ(s.message(), "Custom node output is missing name; node: bad; output index: 0");
}

TEST_F(MisbehavingTest, ExecuteUnspecifiedPrecision) {
  Status s = Run("unspecified");
  EXPECT_EQ(s.message(), "Custom node has produced tensor with unspecified precision; node: bad; output: out");
}

TEST_F(MisbehavingTest, ExecuteMissingRequiredOutput) {
  Status s = Run("missing_output");
  EXPECT_EQ(s.code(), StatusCode::kInternal);
  EXPECT_EQ(s.message(), "Custom node output is missing; node: bad; output: out");
}

}  // namespace
}  // namespace tessera::custom_node
