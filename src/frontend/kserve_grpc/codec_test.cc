#include "frontend/kserve_grpc/codec.h"

#include <gtest/gtest.h>

#include <cstring>
#include <limits>

namespace tessera::kserve_grpc {
namespace {

using inference::ModelInferRequest;
using inference::ModelInferResponse;
using InputTensor = ModelInferRequest::InferInputTensor;

InputTensor* AddInput(ModelInferRequest& req, const std::string& name, const std::string& datatype,
                      const Shape& shape) {
  InputTensor* in = req.add_inputs();
  in->set_name(name);
  in->set_datatype(datatype);
  for (int64_t d : shape) in->add_shape(d);
  return in;
}

template <typename T>
std::string BytesOf(std::initializer_list<T> values) {
  std::string out(values.size() * sizeof(T), '\0');
  std::memcpy(out.data(), std::data(values), out.size());
  return out;
}

std::string TensorBytes(const Tensor& t) {
  return std::string(reinterpret_cast<const char*>(t.data()), t.byte_size());
}

// Decodes `req` and expects an INVALID_ARGUMENT whose message holds every
// fragment.
void ExpectInvalid(const ModelInferRequest& req, std::initializer_list<std::string> fragments) {
  Result<InferRequest> r = DecodeInferRequest(req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  for (const auto& f : fragments) {
    EXPECT_NE(r.status().message().find(f), std::string::npos)
        << "'" << f << "' not in: " << r.status().message();
  }
}

// --- model_version -------------------------------------------------------

TEST(DecodeTest, ModelVersionZeroAndUnsetAreTheDefault) {
  ModelInferRequest req;
  req.set_model_name("m");
  EXPECT_EQ(DecodeInferRequest(req)->model_version, kDefaultVersion);
  req.set_model_version("0");
  EXPECT_EQ(DecodeInferRequest(req)->model_version, kDefaultVersion);
  req.set_model_version("-1");
  Result<InferRequest> r = DecodeInferRequest(req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("Invalid model version '-1'"), std::string::npos);
}

TEST(DecodeTest, CopiesNameVersionIdAndRequestedOutputs) {
  ModelInferRequest req;
  req.set_model_name("resnet");
  req.set_model_version("3");
  req.set_id("req-7");
  req.add_outputs()->set_name("probs");
  req.add_outputs()->set_name("logits");
  AddInput(req, "x", "FP32", {1})->mutable_contents()->add_fp32_contents(1.0f);

  Result<InferRequest> r = DecodeInferRequest(req);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->model_name, "resnet");
  EXPECT_EQ(r->model_version, 3);
  EXPECT_EQ(r->id, "req-7");
  EXPECT_EQ(r->requested_outputs, (std::vector<std::string>{"probs", "logits"}));
}

TEST(DecodeTest, NoRequestedOutputsMeansAll) {
  ModelInferRequest req;
  AddInput(req, "x", "INT64", {1})->mutable_contents()->add_int64_contents(5);
  Result<InferRequest> r = DecodeInferRequest(req);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->requested_outputs.empty());
  EXPECT_EQ(r->model_version, kDefaultVersion);
}

TEST(DecodeTest, BadVersionIsInvalid) {
  ModelInferRequest req;
  req.set_model_version("latest");
  ExpectInvalid(req, {"'latest'", "non-negative integer"});
}

// --- typed contents, every datatype ----------------------------------------

struct ContentsCase {
  std::string datatype;
  DataType type;
  std::function<void(inference::InferTensorContents*)> fill;  // two values
  std::string expected_bytes;
};

class ContentsTest : public ::testing::TestWithParam<ContentsCase> {};

TEST_P(ContentsTest, DecodesIntoOwnedTensorOfDeclaredType) {
  const ContentsCase& c = GetParam();
  ModelInferRequest req;
  InputTensor* in = AddInput(req, "in", c.datatype, {1, 2});
  c.fill(in->mutable_contents());

  Result<InferRequest> r = DecodeInferRequest(req);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->inputs.size(), 1u);
  const Tensor& t = r->inputs[0].tensor;
  EXPECT_EQ(r->inputs[0].name, "in");
  EXPECT_EQ(t.dtype(), c.type);
  EXPECT_EQ(t.shape(), (Shape{1, 2}));
  EXPECT_EQ(TensorBytes(t), c.expected_bytes);
}

INSTANTIATE_TEST_SUITE_P(
    AllTypes, ContentsTest,
    ::testing::Values(
        ContentsCase{"BOOL", DataType::kBool,
                     [](auto* c) { c->add_bool_contents(true); c->add_bool_contents(false); },
                     std::string("\x01\x00", 2)},
        ContentsCase{"UINT8", DataType::kUint8,
                     [](auto* c) { c->add_uint_contents(0); c->add_uint_contents(255); },
                     BytesOf<uint8_t>({0, 255})},
        ContentsCase{"UINT16", DataType::kUint16,
                     [](auto* c) { c->add_uint_contents(1); c->add_uint_contents(65535); },
                     BytesOf<uint16_t>({1, 65535})},
        ContentsCase{"UINT32", DataType::kUint32,
                     [](auto* c) { c->add_uint_contents(2); c->add_uint_contents(4294967295u); },
                     BytesOf<uint32_t>({2, 4294967295u})},
        ContentsCase{"UINT64", DataType::kUint64,
                     [](auto* c) { c->add_uint64_contents(3); c->add_uint64_contents(~0ull); },
                     BytesOf<uint64_t>({3, ~0ull})},
        ContentsCase{"INT8", DataType::kInt8,
                     [](auto* c) { c->add_int_contents(-128); c->add_int_contents(127); },
                     BytesOf<int8_t>({-128, 127})},
        ContentsCase{"INT16", DataType::kInt16,
                     [](auto* c) { c->add_int_contents(-32768); c->add_int_contents(32767); },
                     BytesOf<int16_t>({-32768, 32767})},
        ContentsCase{"INT32", DataType::kInt32,
                     [](auto* c) { c->add_int_contents(INT32_MIN); c->add_int_contents(7); },
                     BytesOf<int32_t>({INT32_MIN, 7})},
        ContentsCase{"INT64", DataType::kInt64,
                     [](auto* c) { c->add_int64_contents(INT64_MIN); c->add_int64_contents(9); },
                     BytesOf<int64_t>({INT64_MIN, 9})},
        ContentsCase{"FP32", DataType::kFp32,
                     [](auto* c) { c->add_fp32_contents(1.5f); c->add_fp32_contents(-2.25f); },
                     BytesOf<float>({1.5f, -2.25f})},
        ContentsCase{"FP64", DataType::kFp64,
                     [](auto* c) { c->add_fp64_contents(0.1); c->add_fp64_contents(-1e300); },
                     BytesOf<double>({0.1, -1e300})},
        ContentsCase{"BYTES", DataType::kBytes,
                     [](auto* c) { c->add_bytes_contents("ab"); c->add_bytes_contents(""); },
                     std::string("\x02\x00\x00\x00" "ab" "\x00\x00\x00\x00", 10)}),
    [](const auto& info) { return info.param.datatype; });

TEST(ContentsErrorTest, ValueOutOfRangeForDatatype) {
  struct Case {
    std::string datatype;
    bool is_unsigned;
    int64_t value;
  };
  for (const Case& c : {Case{"INT8", false, 128}, Case{"INT8", false, -129},
                        Case{"INT16", false, 40000}, Case{"UINT8", true, 256},
                        Case{"UINT16", true, 70000}}) {
    ModelInferRequest req;
    auto* contents = AddInput(req, "small", c.datatype, {1})->mutable_contents();
    if (c.is_unsigned) {
      contents->add_uint_contents(static_cast<uint32_t>(c.value));
    } else {
      contents->add_int_contents(static_cast<int32_t>(c.value));
    }
    ExpectInvalid(req, {"'small'", "out of range", c.datatype, std::to_string(c.value)});
  }
}

TEST(ContentsErrorTest, ValuesInFieldOfAnotherDatatype) {
  ModelInferRequest req;
  AddInput(req, "x", "FP32", {1})->mutable_contents()->add_int_contents(1);
  ExpectInvalid(req, {"'x'", "fp32_contents", "int_contents"});
}

TEST(ContentsErrorTest, CountMustMatchShape) {
  ModelInferRequest req;
  auto* contents = AddInput(req, "x", "FP32", {2, 2})->mutable_contents();
  for (float v : {1.f, 2.f, 3.f}) contents->add_fp32_contents(v);
  ExpectInvalid(req, {"'x'", "3 values", "fp32_contents", "(2,2)", "needs 4"});
}

TEST(ContentsErrorTest, BytesCountMustMatchShape) {
  ModelInferRequest req;
  AddInput(req, "s", "BYTES", {2})->mutable_contents()->add_bytes_contents("only one");
  ExpectInvalid(req, {"'s'", "1 values", "bytes_contents", "needs 2"});
}

TEST(ContentsErrorTest, HalfPrecisionHasNoTypedForm) {
  for (const char* type : {"FP16", "BF16"}) {
    ModelInferRequest req;
    AddInput(req, "h", type, {1})->mutable_contents()->add_fp32_contents(1.0f);
    ExpectInvalid(req, {"'h'", type, "raw_input_contents"});
  }
}

// --- raw contents, every datatype ------------------------------------------

struct RawCase {
  std::string datatype;
  DataType type;
  size_t element_size;
};

class RawTest : public ::testing::TestWithParam<RawCase> {};

TEST_P(RawTest, BorrowsBytesFromTheRequest) {
  const RawCase& c = GetParam();
  ModelInferRequest req;
  AddInput(req, "a", c.datatype, {2, 3});
  std::string bytes(6 * c.element_size, '\0');
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>(i * 7 + 1);
  req.add_raw_input_contents(bytes);

  Result<InferRequest> r = DecodeInferRequest(req);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const Tensor& t = r->inputs[0].tensor;
  EXPECT_EQ(t.dtype(), c.type);
  EXPECT_EQ(t.shape(), (Shape{2, 3}));
  EXPECT_EQ(TensorBytes(t), bytes);
  // Zero copy: the tensor points into the message.
  EXPECT_EQ(static_cast<const void*>(t.data()),
            static_cast<const void*>(req.raw_input_contents(0).data()));
}

TEST_P(RawTest, ByteSizeMustMatchShape) {
  const RawCase& c = GetParam();
  ModelInferRequest req;
  AddInput(req, "a", c.datatype, {2, 3});
  req.add_raw_input_contents(std::string(5 * c.element_size, '\0'));
  ExpectInvalid(req, {"Expected: " + std::to_string(6 * c.element_size) + " bytes",
                      "Actual: " + std::to_string(5 * c.element_size) + " bytes",
                      "input name: a"});
}

INSTANTIATE_TEST_SUITE_P(
    AllTypes, RawTest,
    ::testing::Values(RawCase{"BOOL", DataType::kBool, 1}, RawCase{"UINT8", DataType::kUint8, 1},
                      RawCase{"UINT16", DataType::kUint16, 2},
                      RawCase{"UINT32", DataType::kUint32, 4},
                      RawCase{"UINT64", DataType::kUint64, 8}, RawCase{"INT8", DataType::kInt8, 1},
                      RawCase{"INT16", DataType::kInt16, 2}, RawCase{"INT32", DataType::kInt32, 4},
                      RawCase{"INT64", DataType::kInt64, 8}, RawCase{"FP16", DataType::kFp16, 2},
                      RawCase{"BF16", DataType::kBf16, 2}, RawCase{"FP32", DataType::kFp32, 4},
                      RawCase{"FP64", DataType::kFp64, 8}),
    [](const auto& info) { return info.param.datatype; });

TEST(RawBytesTest, BorrowsLengthPrefixedElements) {
  ModelInferRequest req;
  AddInput(req, "s", "BYTES", {2});
  std::string raw = JoinBytesElements({"hello", "x"});
  req.add_raw_input_contents(raw);
  Result<InferRequest> r = DecodeInferRequest(req);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const Tensor& t = r->inputs[0].tensor;
  EXPECT_EQ(t.dtype(), DataType::kBytes);
  EXPECT_EQ(TensorBytes(t), raw);
  EXPECT_EQ(static_cast<const void*>(t.data()),
            static_cast<const void*>(req.raw_input_contents(0).data()));
}

TEST(RawBytesTest, ElementCountMustMatchShape) {
  ModelInferRequest req;
  AddInput(req, "s", "BYTES", {3});
  req.add_raw_input_contents(JoinBytesElements({"a", "b"}));
  ExpectInvalid(req, {"'s'", "2 BYTES elements", "needs 3"});
}

TEST(RawBytesTest, TruncatedBufferIsInvalid) {
  ModelInferRequest req;
  AddInput(req, "s", "BYTES", {2});
  req.add_raw_input_contents(std::string("\x05\x00\x00\x00" "ab", 6));
  ExpectInvalid(req, {"'s'", "BYTES"});
}

TEST(RawBytesTest, OneUnprefixedElementIsTakenWhole) {
  ModelInferRequest req;
  AddInput(req, "s", "BYTES", {1});
  const std::string jpeg("\xFF\xD8\xFF\xE0 not a length prefix", 25);
  req.add_raw_input_contents(jpeg);
  auto decoded = DecodeInferRequest(req);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  const Tensor& t = decoded->inputs[0].tensor;
  auto elements = SplitBytesElements(t.data(), t.byte_size());
  ASSERT_TRUE(elements.ok());
  ASSERT_EQ(elements->size(), 1u);
  EXPECT_EQ((*elements)[0], jpeg);
}

// --- request-level errors --------------------------------------------------

TEST(DecodeErrorTest, MixingContentsAndRawIsInvalid) {
  ModelInferRequest req;
  AddInput(req, "a", "FP32", {1});
  AddInput(req, "b", "FP32", {1})->mutable_contents()->add_fp32_contents(1.0f);
  req.add_raw_input_contents(BytesOf<float>({1.0f}));
  req.add_raw_input_contents(BytesOf<float>({2.0f}));
  ExpectInvalid(req, {"'b'", "contents", "raw_input_contents", "mix"});
}

TEST(DecodeErrorTest, RawCountMustEqualInputCount) {
  ModelInferRequest req;
  AddInput(req, "a", "FP32", {1});
  AddInput(req, "b", "FP32", {1});
  req.add_raw_input_contents(BytesOf<float>({1.0f}));
  ExpectInvalid(req, {"1 raw_input_contents", "2 inputs"});
}

TEST(DecodeErrorTest, UnknownDatatypeNamesItAndTheInput) {
  ModelInferRequest req;
  AddInput(req, "img", "FLOAT32", {1})->mutable_contents()->add_fp32_contents(1.0f);
  ExpectInvalid(req, {"'FLOAT32'", "'img'"});
}

TEST(DecodeErrorTest, LowerCaseDatatypeIsUnknown) {
  ModelInferRequest req;
  AddInput(req, "img", "fp32", {1})->mutable_contents()->add_fp32_contents(1.0f);
  ExpectInvalid(req, {"'fp32'"});
}

TEST(DecodeErrorTest, NegativeDimIsInvalid) {
  ModelInferRequest req;
  AddInput(req, "x", "FP32", {1, -1});
  req.add_raw_input_contents("");
  ExpectInvalid(req, {"'x'", "(1,-1)", "negative"});
}

TEST(DecodeErrorTest, ShapeWhoseByteSizeOverflowsIsInvalid) {
  // 2^61 + 1 FP64 elements: the byte count wraps to 8 in 64 bits.
  ModelInferRequest req;
  AddInput(req, "x", "FP64", {(int64_t{1} << 61) + 1});
  req.add_raw_input_contents(std::string(8, '\0'));
  ExpectInvalid(req, {"'x'", "too many elements"});
}

TEST(DecodeErrorTest, InputWithoutDataIsInvalid) {
  ModelInferRequest req;
  AddInput(req, "x", "FP32", {2});
  ExpectInvalid(req, {"'x'", "no data"});
}

TEST(DecodeTest, EmptyTensorNeedsNoData) {
  ModelInferRequest req;
  AddInput(req, "x", "FP32", {0, 3});
  AddInput(req, "s", "BYTES", {0});
  Result<InferRequest> r = DecodeInferRequest(req);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->inputs[0].tensor.byte_size(), 0u);
  EXPECT_EQ(r->inputs[0].tensor.shape(), (Shape{0, 3}));
  EXPECT_EQ(r->inputs[1].tensor.dtype(), DataType::kBytes);
}

TEST(DecodeErrorTest, RepeatedInputNameIsInvalid) {
  ModelInferRequest req;
  AddInput(req, "x", "FP32", {1})->mutable_contents()->add_fp32_contents(1.0f);
  AddInput(req, "x", "FP32", {1})->mutable_contents()->add_fp32_contents(2.0f);
  ExpectInvalid(req, {"'x'", "more than once"});
}

TEST(DecodeTest, SeveralRawInputsMatchByPosition) {
  ModelInferRequest req;
  AddInput(req, "a", "INT32", {2});
  AddInput(req, "b", "FP64", {1});
  req.add_raw_input_contents(BytesOf<int32_t>({4, 5}));
  req.add_raw_input_contents(BytesOf<double>({2.5}));
  Result<InferRequest> r = DecodeInferRequest(req);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->inputs.size(), 2u);
  EXPECT_EQ(r->inputs[0].name, "a");
  EXPECT_EQ(r->inputs[0].tensor.data_as<int32_t>()[1], 5);
  EXPECT_EQ(r->inputs[1].name, "b");
  EXPECT_EQ(r->inputs[1].tensor.data_as<double>()[0], 2.5);
}

// --- responses -------------------------------------------------------------

TEST(EncodeTest, WritesEveryOutputRawInOrder) {
  InferResponse resp;
  resp.model_name = "m";
  resp.model_version = 3;
  resp.id = "abc";
  resp.outputs.push_back({"probs", Tensor::FromBytes(DataType::kFp32, {1, 2},
                                                     BytesOf<float>({0.25f, 0.75f}))});
  resp.outputs.push_back({"label", Tensor::FromBytes(DataType::kBytes, {1},
                                                     JoinBytesElements({"cat"}))});
  resp.outputs.push_back({"idx", Tensor::FromBytes(DataType::kInt64, {1}, BytesOf<int64_t>({1}))});

  ModelInferResponse out;
  ASSERT_TRUE(EncodeInferResponse(resp, &out).ok());
  EXPECT_EQ(out.model_name(), "m");
  EXPECT_EQ(out.model_version(), "3");
  EXPECT_EQ(out.id(), "abc");
  ASSERT_EQ(out.outputs_size(), 3);
  ASSERT_EQ(out.raw_output_contents_size(), 3);
  EXPECT_EQ(out.outputs(0).name(), "probs");
  EXPECT_EQ(out.outputs(0).datatype(), "FP32");
  EXPECT_EQ(std::vector<int64_t>(out.outputs(0).shape().begin(), out.outputs(0).shape().end()),
            (std::vector<int64_t>{1, 2}));
  EXPECT_FALSE(out.outputs(0).has_contents());
  EXPECT_EQ(out.raw_output_contents(0), BytesOf<float>({0.25f, 0.75f}));
  EXPECT_EQ(out.outputs(1).datatype(), "BYTES");
  EXPECT_EQ(out.raw_output_contents(1), JoinBytesElements({"cat"}));
  EXPECT_EQ(out.outputs(2).datatype(), "INT64");
  EXPECT_EQ(out.raw_output_contents(2), BytesOf<int64_t>({1}));
}

TEST(EncodeTest, UnknownVersionIsLeftEmpty) {
  InferResponse resp;
  resp.model_name = "m";
  ModelInferResponse out;
  ASSERT_TRUE(EncodeInferResponse(resp, &out).ok());
  EXPECT_EQ(out.model_version(), "");
  EXPECT_EQ(out.outputs_size(), 0);
}

TEST(EncodeTest, InconsistentOutputIsInternal) {
  InferResponse resp;
  resp.outputs.push_back({"y", Tensor::FromBytes(DataType::kFp32, {2}, "abc")});
  ModelInferResponse out;
  Status s = EncodeInferResponse(resp, &out);
  EXPECT_EQ(s.code(), StatusCode::kInternal);
  EXPECT_NE(s.message().find("y"), std::string::npos) << s.message();

  InferResponse invalid;
  invalid.outputs.push_back({"z", Tensor()});
  EXPECT_EQ(EncodeInferResponse(invalid, &out).code(), StatusCode::kInternal);
}

TEST(EncodeTest, ModelMetadata) {
  ModelMetadata md;
  md.name = "resnet";
  md.version = 2;
  md.versions = {1, 2};
  md.platform = "pytorch_torchscript";
  md.signature.inputs = {{"data", DataType::kFp32, {-1, 3, 224, 224}}};
  md.signature.outputs = {{"prob", DataType::kFp32, {-1, 1000}},
                          {"label", DataType::kBytes, {-1}}};
  inference::ModelMetadataResponse out;
  EncodeModelMetadata(md, &out);
  EXPECT_EQ(out.name(), "resnet");
  EXPECT_EQ(std::vector<std::string>(out.versions().begin(), out.versions().end()),
            (std::vector<std::string>{"1", "2"}));
  EXPECT_EQ(out.platform(), "pytorch_torchscript");
  ASSERT_EQ(out.inputs_size(), 1);
  EXPECT_EQ(out.inputs(0).name(), "data");
  EXPECT_EQ(out.inputs(0).datatype(), "FP32");
  EXPECT_EQ(std::vector<int64_t>(out.inputs(0).shape().begin(), out.inputs(0).shape().end()),
            (std::vector<int64_t>{-1, 3, 224, 224}));
  ASSERT_EQ(out.outputs_size(), 2);
  EXPECT_EQ(out.outputs(1).name(), "label");
  EXPECT_EQ(out.outputs(1).datatype(), "BYTES");
}

TEST(EncodeTest, ModelMetadataWithOnlyTheDescribedVersion) {
  ModelMetadata md;
  md.name = "m";
  md.version = 4;
  inference::ModelMetadataResponse out;
  EncodeModelMetadata(md, &out);
  ASSERT_EQ(out.versions_size(), 1);
  EXPECT_EQ(out.versions(0), "4");
}

TEST(EncodeTest, ServerMetadata) {
  inference::ServerMetadataResponse out;
  EncodeServerMetadata({"tessera", "0.1.0", {"binary_tensor_data", "model_repository"}}, &out);
  EXPECT_EQ(out.name(), "tessera");
  EXPECT_EQ(out.version(), "0.1.0");
  EXPECT_EQ(std::vector<std::string>(out.extensions().begin(), out.extensions().end()),
            (std::vector<std::string>{"binary_tensor_data", "model_repository"}));
}

}  // namespace
}  // namespace tessera::kserve_grpc
