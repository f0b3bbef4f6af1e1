#include "backend/torch/signature_json.h"

#include <gtest/gtest.h>

namespace tessera {
namespace {

constexpr char kSource[] = "/m/1/signature.json";

Status ParseError(std::string_view json) {
  auto result = ParseSignatureJson(json, kSource);
  EXPECT_FALSE(result.ok()) << json;
  return result.ok() ? Status::Ok() : result.status();
}

void ExpectError(std::string_view json, const std::string& fragment) {
  Status status = ParseError(json);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << json;
  EXPECT_NE(status.message().find(kSource), std::string::npos) << status.message();
  EXPECT_NE(status.message().find(fragment), std::string::npos)
      << "message: " << status.message() << "\nexpected fragment: " << fragment;
}

TEST(SignatureJson, ParsesInputsAndOutputs) {
  auto result = ParseSignatureJson(
      R"({"inputs":[{"name":"x","datatype":"FP32","shape":[-1,16]},
                    {"name":"ids","datatype":"INT64","shape":[2]}],
          "outputs":[{"name":"y","datatype":"FP32","shape":[-1,4]},
                     {"name":"mask","datatype":"BOOL"}]})",
      kSource);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  ModelSignature expected;
  expected.inputs = {{"x", DataType::kFp32, {-1, 16}}, {"ids", DataType::kInt64, {2}}};
  expected.outputs = {{"y", DataType::kFp32, {-1, 4}}, {"mask", DataType::kBool, {}}};
  EXPECT_EQ(*result, expected);
}

TEST(SignatureJson, AcceptsEveryTorchType) {
  for (const char* type : {"BOOL", "UINT8", "INT8", "INT16", "INT32", "INT64", "FP16", "BF16",
                           "FP32", "FP64"}) {
    std::string json = std::string(R"({"inputs":[{"name":"x","datatype":")") + type +
                       R"(","shape":[]}],"outputs":[{"name":"y","datatype":"FP32"}]})";
    auto result = ParseSignatureJson(json, kSource);
    ASSERT_TRUE(result.ok()) << type << ": " << result.status().ToString();
    EXPECT_EQ(KServeName(result->inputs[0].dtype), type);
    EXPECT_TRUE(result->inputs[0].shape.empty());
  }
}

TEST(SignatureJson, RejectsMalformedJson) {
  ExpectError("{\"inputs\": [", "invalid JSON at offset");
  ExpectError("", "invalid JSON");
  ExpectError("[1,2]", "top level must be an object");
}

// `levels` arrays and objects in all, under the key "x" of the top object.
std::string Nested(int levels) {
  return "{\"x\":" + std::string(levels - 1, '[') + std::string(levels - 1, ']') + "}";
}

TEST(SignatureJson, NestingIsBoundedAt64Levels) {
  ExpectError(Nested(64), "unknown top-level key \"x\"");  // parsed, then refused
  // The 65th level opens at offset 5 + 63.
  ExpectError(Nested(65), "invalid JSON at offset 68: nesting deeper than 64 levels");
  std::string brackets = std::string(100000, '[') + std::string(100000, ']');
  ExpectError(brackets, "invalid JSON at offset 64: nesting deeper than 64 levels");
  std::string objects;
  for (int i = 0; i < 1000000; ++i) objects += "{\"a\":";
  ExpectError(objects, "invalid JSON at offset 320: nesting deeper than 64 levels");
}

TEST(SignatureJson, RejectsMissingOrEmptyLists) {
  ExpectError(R"({"outputs":[{"name":"y","datatype":"FP32"}]})", "missing \"inputs\"");
  ExpectError(R"({"inputs":[{"name":"x","datatype":"FP32"}]})", "missing \"outputs\"");
  ExpectError(R"({"inputs":[],"outputs":[{"name":"y","datatype":"FP32"}]})",
              "\"inputs\" must be a non-empty array");
  ExpectError(R"({"inputs":{},"outputs":[{"name":"y","datatype":"FP32"}]})",
              "\"inputs\" must be a non-empty array");
}

TEST(SignatureJson, RejectsUnknownKeys) {
  ExpectError(R"({"inputs":[{"name":"x","datatype":"FP32"}],"outputs":[{"name":"y","datatype":"FP32"}],"extra":1})",
              "unknown top-level key \"extra\"");
  ExpectError(R"({"inputs":[{"name":"x","dtype":"FP32"}],"outputs":[{"name":"y","datatype":"FP32"}]})",
              "inputs[0]: unknown key \"dtype\"");
}

TEST(SignatureJson, RejectsBadEntries) {
  const std::string outputs = R"(,"outputs":[{"name":"y","datatype":"FP32"}]})";
  ExpectError(R"({"inputs":[1])" + outputs, "inputs[0]: must be an object");
  ExpectError(R"({"inputs":[{"datatype":"FP32"}])" + outputs, "inputs[0]: \"name\" must be");
  ExpectError(R"({"inputs":[{"name":"","datatype":"FP32"}])" + outputs, "\"name\" must be a non-empty");
  ExpectError(R"({"inputs":[{"name":"x"}])" + outputs, "inputs[0] (\"x\"): \"datatype\" must be");
  ExpectError(R"({"inputs":[{"name":"x","datatype":"FLOAT"}])" + outputs, "unknown datatype \"FLOAT\"");
  ExpectError(R"({"inputs":[{"name":"x","datatype":"BYTES"}])" + outputs, "BYTES is not supported");
  ExpectError(R"({"inputs":[{"name":"x","datatype":"UINT32"}])" + outputs, "UINT32 is not supported");
  ExpectError(R"j({"inputs":[{"name":"x","datatype":"FP32","shape":"(1,2)"}])j" + outputs,
              "\"shape\" must be an array");
  ExpectError(R"({"inputs":[{"name":"x","datatype":"FP32","shape":[1,2.5]}])" + outputs,
              "\"shape\"[1] is not an integer");
  ExpectError(R"({"inputs":[{"name":"x","datatype":"FP32","shape":[-2]}])" + outputs,
              "\"shape\"[0] is -2");
  ExpectError(R"({"inputs":[{"name":"x","datatype":"FP32"},{"name":"x","datatype":"FP32"}])" + outputs,
              "inputs[1]: duplicate name \"x\"");
  ExpectError(R"({"inputs":[{"name":"x","datatype":"FP32"}],"outputs":[{"name":"y","datatype":3}]})",
              "outputs[0] (\"y\"): \"datatype\" must be a string");
}

TEST(SignatureJson, TypeSupport) {
  EXPECT_TRUE(IsTorchCompatibleType(DataType::kBf16));
  EXPECT_TRUE(IsTorchCompatibleType(DataType::kBool));
  EXPECT_FALSE(IsTorchCompatibleType(DataType::kUint16));
  EXPECT_FALSE(IsTorchCompatibleType(DataType::kUint64));
  EXPECT_FALSE(IsTorchCompatibleType(DataType::kBytes));
  EXPECT_FALSE(IsTorchCompatibleType(DataType::kInvalid));
}

}  // namespace
}  // namespace tessera
