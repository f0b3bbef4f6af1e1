#include "frontend/tfs_grpc/codec.h"

#include <gtest/gtest.h>

#include <cstring>
#include <limits>
#include <string>
#include <vector>

namespace tessera::tfs_grpc {
namespace {

using tensorflow::TensorProto;
using tensorflow::serving::ModelSpec;
using tensorflow::serving::PredictRequest;

template <typename T>
std::string Bytes(std::initializer_list<T> values) {
  std::string out(values.size() * sizeof(T), '\0');
  std::memcpy(out.data(), std::data(values), out.size());
  return out;
}

template <typename T>
std::vector<T> Values(const Tensor& t) {
  std::vector<T> out(t.byte_size() / sizeof(T));
  std::memcpy(out.data(), t.data(), out.size() * sizeof(T));
  return out;
}

TensorProto Proto(tensorflow::DataType dtype, std::initializer_list<int64_t> dims) {
  TensorProto p;
  p.set_dtype(dtype);
  for (int64_t d : dims) p.mutable_tensor_shape()->add_dim()->set_size(d);
  return p;
}

void ExpectInvalid(const Result<Tensor>& r, const std::string& message) {
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(), message);
}

// --- data types ------------------------------------------------------------

TEST(TfsCodecTest, DataTypesMapBothWays) {
  const std::pair<tensorflow::DataType, DataType> pairs[] = {
      {tensorflow::DT_FLOAT, DataType::kFp32},    {tensorflow::DT_DOUBLE, DataType::kFp64},
      {tensorflow::DT_INT8, DataType::kInt8},     {tensorflow::DT_INT16, DataType::kInt16},
      {tensorflow::DT_INT32, DataType::kInt32},   {tensorflow::DT_INT64, DataType::kInt64},
      {tensorflow::DT_UINT8, DataType::kUint8},   {tensorflow::DT_UINT16, DataType::kUint16},
      {tensorflow::DT_UINT32, DataType::kUint32}, {tensorflow::DT_UINT64, DataType::kUint64},
      {tensorflow::DT_BOOL, DataType::kBool},     {tensorflow::DT_HALF, DataType::kFp16},
      {tensorflow::DT_BFLOAT16, DataType::kBf16}, {tensorflow::DT_STRING, DataType::kBytes},
  };
  for (const auto& [tf, ours] : pairs) {
    EXPECT_EQ(FromTfDataType(tf), ours) << tf;
    EXPECT_EQ(ToTfDataType(ours), tf) << tf;
  }
  EXPECT_EQ(ToTfDataType(DataType::kInvalid), tensorflow::DT_INVALID);
  for (int unsupported : {0, 8, 11, 18, 20, 21, 101, 999, -1}) {
    EXPECT_FALSE(FromTfDataType(unsupported).has_value()) << unsupported;
  }
}

// --- versions --------------------------------------------------------------

TEST(TfsCodecTest, ModelVersionFromSpec) {
  ModelSpec spec;
  EXPECT_EQ(*DecodeModelVersion(spec), kDefaultVersion);
  spec.mutable_version()->set_value(3);
  EXPECT_EQ(*DecodeModelVersion(spec), 3);
  spec.mutable_version()->set_value(0);
  EXPECT_EQ(*DecodeModelVersion(spec), kDefaultVersion);
  spec.mutable_version()->set_value(-2);
  EXPECT_EQ(*DecodeModelVersion(spec), -2);  // the core answers NOT_FOUND
}

TEST(TfsCodecTest, VersionLabelIsRejectedUnlessEmpty) {
  ModelSpec spec;
  spec.set_version_label("stable");
  auto r = DecodeModelVersion(spec);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "version_label is not supported; use version");
  spec.set_version_label("");
  EXPECT_EQ(*DecodeModelVersion(spec), kDefaultVersion);
}

// --- tensor_content --------------------------------------------------------

TEST(TfsCodecTest, TensorContentIsBorrowedNotCopied) {
  TensorProto p = Proto(tensorflow::DT_FLOAT, {2, 2});
  p.set_tensor_content(Bytes<float>({1.5f, -2.f, 3.f, 4.25f}));
  auto t = DecodeTensor("x", p);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->dtype(), DataType::kFp32);
  EXPECT_EQ(t->shape(), (Shape{2, 2}));
  EXPECT_EQ(static_cast<const void*>(t->data()),
            static_cast<const void*>(p.tensor_content().data()));
  EXPECT_EQ(Values<float>(*t), (std::vector<float>{1.5f, -2.f, 3.f, 4.25f}));
}

TEST(TfsCodecTest, TensorContentOfEveryFixedType) {
  TensorProto p = Proto(tensorflow::DT_INT64, {3});
  p.set_tensor_content(Bytes<int64_t>({-1, 0, 1LL << 40}));
  EXPECT_EQ(Values<int64_t>(*DecodeTensor("i", p)), (std::vector<int64_t>{-1, 0, 1LL << 40}));

  p = Proto(tensorflow::DT_HALF, {2});
  p.set_tensor_content(Bytes<uint16_t>({0x3C00, 0xC000}));
  auto half = DecodeTensor("h", p);
  ASSERT_TRUE(half.ok());
  EXPECT_EQ(half->dtype(), DataType::kFp16);
  EXPECT_EQ(Values<uint16_t>(*half), (std::vector<uint16_t>{0x3C00, 0xC000}));

  p = Proto(tensorflow::DT_BOOL, {3});
  p.set_tensor_content(std::string("\x01\x00\x01", 3));
  EXPECT_EQ(Values<uint8_t>(*DecodeTensor("b", p)), (std::vector<uint8_t>{1, 0, 1}));
}

TEST(TfsCodecTest, TensorContentSizeMismatchUsesOvmsText) {
  TensorProto p = Proto(tensorflow::DT_FLOAT, {1, 4});
  p.set_tensor_content(Bytes<float>({1.f, 2.f, 3.f}));
  ExpectInvalid(DecodeTensor("x", p),
                "Invalid content size of tensor proto - Expected: 16 bytes; Actual: 12 bytes; "
                "input name: x");
}

TEST(TfsCodecTest, TensorContentMixedWithValuesIsRejected) {
  TensorProto p = Proto(tensorflow::DT_FLOAT, {1});
  p.set_tensor_content(Bytes<float>({1.f}));
  p.add_float_val(1.f);
  ExpectInvalid(DecodeTensor("x", p),
                "Input 'x' sets both tensor_content and float_val; use one of them");
}

TEST(TfsCodecTest, StringTensorContentIsRejected) {
  TensorProto p = Proto(tensorflow::DT_STRING, {1});
  p.set_tensor_content("abc");
  ExpectInvalid(DecodeTensor("s", p),
                "Input 's' of dtype DT_STRING must send its values in string_val, not "
                "tensor_content");
}

// --- typed values ----------------------------------------------------------

TEST(TfsCodecTest, FloatAndDoubleValues) {
  TensorProto p = Proto(tensorflow::DT_FLOAT, {1, 3});
  for (float v : {0.5f, -1.f, 7.f}) p.add_float_val(v);
  auto t = DecodeTensor("x", p);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->shape(), (Shape{1, 3}));
  EXPECT_EQ(Values<float>(*t), (std::vector<float>{0.5f, -1.f, 7.f}));

  p = Proto(tensorflow::DT_DOUBLE, {2});
  p.add_double_val(1e300);
  p.add_double_val(-0.25);
  t = DecodeTensor("d", p);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->dtype(), DataType::kFp64);
  EXPECT_EQ(Values<double>(*t), (std::vector<double>{1e300, -0.25}));
}

TEST(TfsCodecTest, IntValFillsNarrowIntegerTypes) {
  TensorProto p = Proto(tensorflow::DT_INT8, {3});
  for (int v : {-128, 0, 127}) p.add_int_val(v);
  EXPECT_EQ(Values<int8_t>(*DecodeTensor("a", p)), (std::vector<int8_t>{-128, 0, 127}));

  p = Proto(tensorflow::DT_UINT8, {2});
  for (int v : {0, 255}) p.add_int_val(v);
  EXPECT_EQ(Values<uint8_t>(*DecodeTensor("b", p)), (std::vector<uint8_t>{0, 255}));

  p = Proto(tensorflow::DT_INT16, {2});
  for (int v : {-32768, 32767}) p.add_int_val(v);
  EXPECT_EQ(Values<int16_t>(*DecodeTensor("c", p)), (std::vector<int16_t>{-32768, 32767}));

  p = Proto(tensorflow::DT_UINT16, {1});
  p.add_int_val(65535);
  EXPECT_EQ(Values<uint16_t>(*DecodeTensor("d", p)), (std::vector<uint16_t>{65535}));

  p = Proto(tensorflow::DT_INT32, {2});
  for (int v : {std::numeric_limits<int>::min(), 42}) p.add_int_val(v);
  EXPECT_EQ(Values<int32_t>(*DecodeTensor("e", p)),
            (std::vector<int32_t>{std::numeric_limits<int>::min(), 42}));
}

TEST(TfsCodecTest, IntValOutOfRangeIsRejected) {
  TensorProto p = Proto(tensorflow::DT_INT8, {2});
  p.add_int_val(1);
  p.add_int_val(128);
  ExpectInvalid(DecodeTensor("a", p), "Value 128 at index 1 of input 'a' is out of range for DT_INT8");

  p = Proto(tensorflow::DT_UINT8, {1});
  p.add_int_val(-1);
  ExpectInvalid(DecodeTensor("b", p), "Value -1 at index 0 of input 'b' is out of range for DT_UINT8");
}

TEST(TfsCodecTest, Int64BoolUnsignedValues) {
  TensorProto p = Proto(tensorflow::DT_INT64, {2, 2});
  for (int64_t v : {-2LL, 0LL, 5LL, 1LL << 50}) p.add_int64_val(v);
  EXPECT_EQ(Values<int64_t>(*DecodeTensor("i", p)),
            (std::vector<int64_t>{-2, 0, 5, 1LL << 50}));

  p = Proto(tensorflow::DT_BOOL, {3});
  for (bool v : {true, false, true}) p.add_bool_val(v);
  auto b = DecodeTensor("b", p);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->dtype(), DataType::kBool);
  EXPECT_EQ(Values<uint8_t>(*b), (std::vector<uint8_t>{1, 0, 1}));

  p = Proto(tensorflow::DT_UINT32, {1});
  p.add_uint32_val(4000000000u);
  EXPECT_EQ(Values<uint32_t>(*DecodeTensor("u", p)), (std::vector<uint32_t>{4000000000u}));

  p = Proto(tensorflow::DT_UINT64, {1});
  p.add_uint64_val(~0ULL);
  EXPECT_EQ(Values<uint64_t>(*DecodeTensor("v", p)), (std::vector<uint64_t>{~0ULL}));
}

TEST(TfsCodecTest, HalfValCarriesSixteenBitPatterns) {
  TensorProto p = Proto(tensorflow::DT_HALF, {2});
  p.add_half_val(0x3C00);  // 1.0
  p.add_half_val(0xC000);  // -2.0
  auto t = DecodeTensor("h", p);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->dtype(), DataType::kFp16);
  EXPECT_EQ(Values<uint16_t>(*t), (std::vector<uint16_t>{0x3C00, 0xC000}));

  p = Proto(tensorflow::DT_BFLOAT16, {1});
  p.add_half_val(0x3F80);  // 1.0
  t = DecodeTensor("bf", p);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->dtype(), DataType::kBf16);
  EXPECT_EQ(Values<uint16_t>(*t), (std::vector<uint16_t>{0x3F80}));

  p = Proto(tensorflow::DT_HALF, {1});
  p.add_half_val(70000);
  ExpectInvalid(DecodeTensor("h", p), "Value 70000 at index 0 of input 'h' is out of range for DT_HALF");
}

TEST(TfsCodecTest, StringValBecomesLengthPrefixedBytes) {
  TensorProto p = Proto(tensorflow::DT_STRING, {3});
  p.add_string_val("ab");
  p.add_string_val("");
  p.add_string_val(std::string("\x00\xff", 2));
  auto t = DecodeTensor("s", p);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->dtype(), DataType::kBytes);
  EXPECT_EQ(t->shape(), (Shape{3}));
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(t->data()), t->byte_size()),
            std::string("\x02\x00\x00\x00" "ab" "\x00\x00\x00\x00" "\x02\x00\x00\x00" "\x00\xff",
                        4 + 2 + 4 + 4 + 2));
}

TEST(TfsCodecTest, ValueCountMustMatchTheShape) {
  TensorProto p = Proto(tensorflow::DT_FLOAT, {2, 3});
  for (int i = 0; i < 5; ++i) p.add_float_val(1.f);
  ExpectInvalid(DecodeTensor("x", p), "Input 'x' has 5 values in float_val; shape (2,3) needs 6");

  p = Proto(tensorflow::DT_INT64, {4});
  p.add_int64_val(1);  // TensorFlow's "repeat the last value" shorthand
  ExpectInvalid(DecodeTensor("n", p), "Input 'n' has 1 values in int64_val; shape (4) needs 4");

  p = Proto(tensorflow::DT_STRING, {2});
  p.add_string_val("only one");
  ExpectInvalid(DecodeTensor("s", p), "Input 's' has 1 values in string_val; shape (2) needs 2");
}

TEST(TfsCodecTest, ValuesInTheWrongFieldAreRejected) {
  TensorProto p = Proto(tensorflow::DT_INT64, {2});
  p.add_int_val(1);
  p.add_int_val(2);
  ExpectInvalid(DecodeTensor("x", p),
                "Input 'x' of dtype DT_INT64 expects its values in int64_val or tensor_content, "
                "but int_val is set");

  p = Proto(tensorflow::DT_STRING, {1});
  p.add_float_val(1.f);
  ExpectInvalid(DecodeTensor("s", p),
                "Input 's' of dtype DT_STRING expects its values in string_val, but float_val is "
                "set");
}

TEST(TfsCodecTest, MissingDataIsNamed) {
  ExpectInvalid(DecodeTensor("x", Proto(tensorflow::DT_FLOAT, {1, 16})),
                "Input 'x' has no data: shape (1,16) needs 16 values in tensor_content or "
                "float_val");
  ExpectInvalid(DecodeTensor("s", Proto(tensorflow::DT_STRING, {2})),
                "Input 's' has no data: shape (2) needs 2 values in string_val");
}

TEST(TfsCodecTest, EmptyAndScalarTensors) {
  auto empty = DecodeTensor("e", Proto(tensorflow::DT_FLOAT, {0, 4}));
  ASSERT_TRUE(empty.ok()) << empty.status().ToString();
  EXPECT_EQ(empty->shape(), (Shape{0, 4}));
  EXPECT_EQ(empty->byte_size(), 0u);

  TensorProto scalar;
  scalar.set_dtype(tensorflow::DT_FLOAT);
  scalar.add_float_val(2.5f);
  auto t = DecodeTensor("s", scalar);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->shape(), Shape{});
  EXPECT_EQ(Values<float>(*t), (std::vector<float>{2.5f}));
}

TEST(TfsCodecTest, BadDtypesAndShapesAreRejected) {
  TensorProto p;
  p.add_float_val(1.f);
  ExpectInvalid(DecodeTensor("x", p), "Input 'x' has no dtype");

  p = Proto(tensorflow::DT_COMPLEX64, {1});
  p.add_scomplex_val(1.f);
  p.add_scomplex_val(0.f);
  ExpectInvalid(DecodeTensor("c", p), "Unsupported dtype DT_COMPLEX64 of input 'c'");

  p = Proto(static_cast<tensorflow::DataType>(77), {1});
  ExpectInvalid(DecodeTensor("q", p), "Unsupported dtype dtype 77 of input 'q'");

  p = Proto(tensorflow::DT_FLOAT, {});
  p.mutable_tensor_shape()->set_unknown_rank(true);
  p.add_float_val(1.f);
  ExpectInvalid(DecodeTensor("u", p),
                "Input 'u' has tensor_shape.unknown_rank set; the shape must be known");

  p = Proto(tensorflow::DT_FLOAT, {-1, 4});
  ExpectInvalid(DecodeTensor("n", p),
                "Invalid shape (-1,4) of input 'n': dimensions must not be negative");

  p = Proto(tensorflow::DT_FLOAT, {1LL << 40, 1LL << 30});
  p.set_tensor_content("abcd");
  ExpectInvalid(DecodeTensor("big", p),
                "Invalid shape (1099511627776,1073741824) of input 'big': too many elements");
}

// --- PredictRequest --------------------------------------------------------

TEST(TfsCodecTest, PredictRequestBecomesInferRequest) {
  PredictRequest req;
  req.mutable_model_spec()->set_name("add_sub");
  req.mutable_model_spec()->mutable_version()->set_value(2);
  req.mutable_model_spec()->set_signature_name("serving_default");
  TensorProto b = Proto(tensorflow::DT_FLOAT, {1, 2});
  b.set_tensor_content(Bytes<float>({3.f, 4.f}));
  TensorProto a = Proto(tensorflow::DT_FLOAT, {1, 2});
  a.add_float_val(1.f);
  a.add_float_val(2.f);
  (*req.mutable_inputs())["b"] = b;
  (*req.mutable_inputs())["a"] = a;
  req.add_output_filter("diff");

  auto r = DecodePredictRequest(req);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->model_name, "add_sub");
  EXPECT_EQ(r->model_version, 2);
  ASSERT_EQ(r->inputs.size(), 2u);
  EXPECT_EQ(r->inputs[0].name, "a");
  EXPECT_EQ(r->inputs[1].name, "b");
  EXPECT_EQ(Values<float>(r->inputs[0].tensor), (std::vector<float>{1.f, 2.f}));
  EXPECT_EQ(Values<float>(r->inputs[1].tensor), (std::vector<float>{3.f, 4.f}));
  EXPECT_EQ(static_cast<const void*>(r->inputs[1].tensor.data()),
            static_cast<const void*>(req.inputs().at("b").tensor_content().data()));
  EXPECT_EQ(r->requested_outputs, (std::vector<std::string>{"diff"}));
}

TEST(TfsCodecTest, PredictRequestErrors) {
  PredictRequest req;
  req.mutable_model_spec()->set_name("m");
  req.mutable_model_spec()->set_version_label("canary");
  EXPECT_EQ(DecodePredictRequest(req).status().message(),
            "version_label is not supported; use version");

  req.mutable_model_spec()->mutable_version()->set_value(1);
  (*req.mutable_inputs())["x"] = Proto(tensorflow::DT_FLOAT, {2});
  auto r = DecodePredictRequest(req);
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(),
            "Input 'x' has no data: shape (2) needs 2 values in tensor_content or float_val");

  (*req.mutable_inputs())["x"].add_float_val(1.f);
  (*req.mutable_inputs())["x"].add_float_val(2.f);
  req.add_output_filter("y");
  req.add_output_filter("y");
  r = DecodePredictRequest(req);
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "Output 'y' appears more than once in output_filter");
}

// --- PredictResponse -------------------------------------------------------

TEST(TfsCodecTest, PredictResponseCarriesTensorContentAndModelSpec) {
  InferResponse response;
  response.model_name = "dense";
  response.model_version = 2;
  response.outputs.push_back(
      {"y", Tensor::FromBytes(DataType::kFp32, {1, 2}, Bytes<float>({0.5f, -1.f}))});
  response.outputs.push_back(
      {"s", Tensor::FromBytes(DataType::kBytes, {2}, JoinBytesElements({"hi", ""}))});
  tensorflow::serving::PredictResponse out;
  ASSERT_TRUE(EncodePredictResponse(response, "ignored", &out).ok());
  EXPECT_EQ(out.model_spec().name(), "dense");
  EXPECT_EQ(out.model_spec().version().value(), 2);
  EXPECT_EQ(out.model_spec().signature_name(), "serving_default");
  ASSERT_EQ(out.outputs_size(), 2);
  const TensorProto& y = out.outputs().at("y");
  EXPECT_EQ(y.dtype(), tensorflow::DT_FLOAT);
  ASSERT_EQ(y.tensor_shape().dim_size(), 2);
  EXPECT_EQ(y.tensor_shape().dim(0).size(), 1);
  EXPECT_EQ(y.tensor_shape().dim(1).size(), 2);
  EXPECT_EQ(y.tensor_content(), Bytes<float>({0.5f, -1.f}));
  EXPECT_EQ(y.float_val_size(), 0);
  const TensorProto& s = out.outputs().at("s");
  EXPECT_EQ(s.dtype(), tensorflow::DT_STRING);
  EXPECT_TRUE(s.tensor_content().empty());
  ASSERT_EQ(s.string_val_size(), 2);
  EXPECT_EQ(s.string_val(0), "hi");
  EXPECT_EQ(s.string_val(1), "");
}

TEST(TfsCodecTest, PredictResponseFallsBackToTheRequestedName) {
  InferResponse response;
  tensorflow::serving::PredictResponse out;
  ASSERT_TRUE(EncodePredictResponse(response, "asked", &out).ok());
  EXPECT_EQ(out.model_spec().name(), "asked");
  EXPECT_FALSE(out.model_spec().has_version());
}

TEST(TfsCodecTest, InconsistentOutputsAreInternalErrors) {
  InferResponse response;
  response.outputs.push_back({"y", Tensor::FromBytes(DataType::kFp32, {2}, "abc")});
  tensorflow::serving::PredictResponse out;
  Status s = EncodePredictResponse(response, "m", &out);
  EXPECT_EQ(s.code(), StatusCode::kInternal);
  EXPECT_NE(s.message().find("input name: y"), std::string::npos) << s.message();

  response.outputs = {{"z", Tensor()}};
  out.Clear();
  s = EncodePredictResponse(response, "m", &out);
  EXPECT_EQ(s.code(), StatusCode::kInternal);
  EXPECT_EQ(s.message(), "Output 'z' has no valid datatype");

  Tensor ok = Tensor::FromBytes(DataType::kFp32, {1}, Bytes<float>({1.f}));
  response.outputs = {{"w", ok}, {"w", ok}};
  out.Clear();
  s = EncodePredictResponse(response, "m", &out);
  EXPECT_EQ(s.code(), StatusCode::kInternal);
  EXPECT_EQ(s.message(), "Output 'w' is returned twice");
}

// --- metadata --------------------------------------------------------------

TEST(TfsCodecTest, MetadataFieldMustBeExactlySignatureDef) {
  tensorflow::serving::GetModelMetadataRequest req;
  EXPECT_EQ(CheckMetadataFields(req), InvalidArgument("Invalid signature name"));
  req.add_metadata_field("signature_def");
  EXPECT_TRUE(CheckMetadataFields(req).ok());
  req.add_metadata_field("signature_def");
  EXPECT_EQ(CheckMetadataFields(req), InvalidArgument("Invalid signature name"));
  req.clear_metadata_field();
  req.add_metadata_field("inputs");
  EXPECT_EQ(CheckMetadataFields(req), InvalidArgument("Invalid signature name"));
}

TEST(TfsCodecTest, MetadataPacksASignatureDefMap) {
  ModelMetadata md;
  md.name = "dense";
  md.version = 2;
  md.versions = {1, 2};
  md.signature.inputs = {{"x", DataType::kFp32, {-1, 16}}};
  md.signature.outputs = {{"y", DataType::kInt64, {-1, 4}}, {"s", DataType::kBytes, {-1}}};
  tensorflow::serving::GetModelMetadataResponse out;
  EncodeModelMetadata(md, &out);
  EXPECT_EQ(out.model_spec().name(), "dense");
  EXPECT_EQ(out.model_spec().version().value(), 2);
  EXPECT_EQ(out.model_spec().signature_name(), "");
  ASSERT_EQ(out.metadata_size(), 1);
  const google::protobuf::Any& any = out.metadata().at("signature_def");
  EXPECT_EQ(any.type_url(), "type.googleapis.com/tensorflow.serving.SignatureDefMap");
  tensorflow::serving::SignatureDefMap map;
  ASSERT_TRUE(any.UnpackTo(&map));
  ASSERT_EQ(map.signature_def_size(), 1);
  const tensorflow::SignatureDef& def = map.signature_def().at("serving_default");
  EXPECT_EQ(def.method_name(), "tensorflow/serving/predict");
  ASSERT_EQ(def.inputs_size(), 1);
  const tensorflow::TensorInfo& x = def.inputs().at("x");
  EXPECT_EQ(x.name(), "x");
  EXPECT_EQ(x.dtype(), tensorflow::DT_FLOAT);
  ASSERT_EQ(x.tensor_shape().dim_size(), 2);
  EXPECT_EQ(x.tensor_shape().dim(0).size(), -1);
  EXPECT_EQ(x.tensor_shape().dim(1).size(), 16);
  EXPECT_FALSE(x.tensor_shape().unknown_rank());
  ASSERT_EQ(def.outputs_size(), 2);
  EXPECT_EQ(def.outputs().at("y").dtype(), tensorflow::DT_INT64);
  EXPECT_EQ(def.outputs().at("s").dtype(), tensorflow::DT_STRING);
}

// --- status ----------------------------------------------------------------

TEST(TfsCodecTest, ModelStatusUsesTfServingNumbers) {
  std::vector<VersionStatus> statuses = {
      {1, VersionState::kEnd, Status::Ok()},
      {2, VersionState::kAvailable, Status::Ok()},
      {3, VersionState::kLoading, Unknown("cannot load model.pt")},
  };
  tensorflow::serving::GetModelStatusResponse out;
  EncodeModelStatus(statuses, &out);
  ASSERT_EQ(out.model_version_status_size(), 3);
  using State = tensorflow::serving::ModelVersionStatus;
  EXPECT_EQ(out.model_version_status(0).version(), 1);
  EXPECT_EQ(out.model_version_status(0).state(), State::END);
  EXPECT_EQ(out.model_version_status(1).state(), State::AVAILABLE);
  EXPECT_EQ(out.model_version_status(1).status().error_code(), tensorflow::error::OK);
  EXPECT_EQ(out.model_version_status(1).status().error_message(), "");
  EXPECT_EQ(out.model_version_status(2).state(), State::LOADING);
  EXPECT_EQ(out.model_version_status(2).status().error_code(), tensorflow::error::UNKNOWN);
  EXPECT_EQ(out.model_version_status(2).status().error_message(), "cannot load model.pt");
  EXPECT_EQ(static_cast<int>(State::START), static_cast<int>(VersionState::kStart));
  EXPECT_EQ(static_cast<int>(State::UNLOADING), static_cast<int>(VersionState::kUnloading));
}

TEST(TfsCodecTest, StatusCodesShareNumbers) {
  tensorflow::serving::StatusProto proto;
  for (int code = 0; code <= 16; ++code) {
    EncodeStatus(Status(static_cast<StatusCode>(code), code ? "why" : ""), &proto);
    EXPECT_EQ(static_cast<int>(proto.error_code()), code);
    EXPECT_EQ(tensorflow::error::Code_Name(proto.error_code()),
              StatusCodeName(static_cast<StatusCode>(code)));
  }
}

// --- ModelServerConfig -----------------------------------------------------

TEST(TfsCodecTest, ModelConfigListBecomesModelSources) {
  tensorflow::serving::ModelServerConfig config;
  auto* list = config.mutable_model_config_list();
  auto* a = list->add_config();
  a->set_name("a");
  a->set_base_path("/models/a");
  a->set_model_platform("pytorch_torchscript");
  a->mutable_logging_config()->mutable_sampling_config()->set_sampling_rate(0.5);  // ignored
  auto* b = list->add_config();
  b->set_name("b");
  b->set_base_path("/models/b");
  auto models = DecodeModelServerConfig(config);
  ASSERT_TRUE(models.ok()) << models.status().ToString();
  ASSERT_EQ(models->size(), 2u);
  EXPECT_EQ((*models)[0].name, "a");
  EXPECT_EQ((*models)[0].base_path, "/models/a");
  EXPECT_EQ((*models)[0].platform, "pytorch_torchscript");
  EXPECT_EQ((*models)[1].name, "b");
  EXPECT_EQ((*models)[1].platform, "");

  config.mutable_model_config_list()->clear_config();
  models = DecodeModelServerConfig(config);
  ASSERT_TRUE(models.ok());
  EXPECT_TRUE(models->empty());  // an empty list retires every model
}

TEST(TfsCodecTest, UnsupportedModelServerConfigs) {
  tensorflow::serving::ModelServerConfig config;
  EXPECT_EQ(DecodeModelServerConfig(config).status(),
            InvalidArgument("ModelServerConfig has no model_config_list"));

  config.mutable_custom_model_config()->set_type_url("type.googleapis.com/x.Y");
  EXPECT_EQ(DecodeModelServerConfig(config).status(),
            Unimplemented("custom_model_config is not supported; send model_config_list"));

  auto* m = config.mutable_model_config_list()->add_config();
  m->set_name("m");
  m->set_base_path("/m");
  m->mutable_model_version_policy()->mutable_all();
  EXPECT_EQ(DecodeModelServerConfig(config).status(),
            Unimplemented("model_version_policy of model 'm' cannot be set through "
                          "HandleReloadConfigRequest; set it in the config file"));

  m->clear_model_version_policy();
  (*m->mutable_version_labels())["stable"] = 1;
  EXPECT_EQ(DecodeModelServerConfig(config).status(),
            Unimplemented("version_labels of model 'm' are not supported"));
}

}  // namespace
}  // namespace tessera::tfs_grpc
