#include "frontend/tfs_rest/model_json.h"

#include <gtest/gtest.h>

namespace tessera::tfs_rest {
namespace {

TEST(ModelJsonTest, NamesEveryType) {
  EXPECT_EQ(TfDataTypeName(DataType::kBool), "DT_BOOL");
  EXPECT_EQ(TfDataTypeName(DataType::kUint8), "DT_UINT8");
  EXPECT_EQ(TfDataTypeName(DataType::kUint16), "DT_UINT16");
  EXPECT_EQ(TfDataTypeName(DataType::kUint32), "DT_UINT32");
  EXPECT_EQ(TfDataTypeName(DataType::kUint64), "DT_UINT64");
  EXPECT_EQ(TfDataTypeName(DataType::kInt8), "DT_INT8");
  EXPECT_EQ(TfDataTypeName(DataType::kInt16), "DT_INT16");
  EXPECT_EQ(TfDataTypeName(DataType::kInt32), "DT_INT32");
  EXPECT_EQ(TfDataTypeName(DataType::kInt64), "DT_INT64");
  EXPECT_EQ(TfDataTypeName(DataType::kFp16), "DT_HALF");
  EXPECT_EQ(TfDataTypeName(DataType::kBf16), "DT_BFLOAT16");
  EXPECT_EQ(TfDataTypeName(DataType::kFp32), "DT_FLOAT");
  EXPECT_EQ(TfDataTypeName(DataType::kFp64), "DT_DOUBLE");
  EXPECT_EQ(TfDataTypeName(DataType::kBytes), "DT_STRING");
  EXPECT_EQ(TfDataTypeName(DataType::kInvalid), "DT_INVALID");
}

TEST(ModelJsonTest, ModelStatus) {
  std::vector<VersionStatus> versions = {
      {1, VersionState::kEnd, Status::Ok()},
      {2, VersionState::kAvailable, Status::Ok()},
      {3, VersionState::kLoading, Unknown("cannot \"load\"")},
  };
  EXPECT_EQ(ModelStatusJson(versions),
            R"({"model_version_status":[)"
            R"({"version":"1","state":"END","status":{"error_code":"OK","error_message":""}},)"
            R"({"version":"2","state":"AVAILABLE","status":{"error_code":"OK","error_message":""}},)"
            R"({"version":"3","state":"LOADING","status":{"error_code":"UNKNOWN","error_message":"cannot \"load\""}}]})");
  EXPECT_EQ(ModelStatusJson({}), R"({"model_version_status":[]})");
}

TEST(ModelJsonTest, Metadata) {
  ModelMetadata m;
  m.name = "dense";
  m.version = 2;
  m.signature.inputs = {{"x", DataType::kFp32, {-1, 16}}};
  m.signature.outputs = {{"y", DataType::kInt64, {-1}}, {"any", DataType::kBytes, {}}};
  EXPECT_EQ(ModelMetadataJson(m),
            R"({"model_spec":{"name":"dense","signature_name":"","version":"2"},)"
            R"("metadata":{"signature_def":{"signature_def":{"serving_default":{)"
            R"("inputs":{"x":{"name":"x","dtype":"DT_FLOAT","tensor_shape":{"dim":[)"
            R"({"size":"-1","name":""},{"size":"16","name":""}],"unknown_rank":false}}},)"
            R"("outputs":{"y":{"name":"y","dtype":"DT_INT64","tensor_shape":{"dim":[)"
            R"({"size":"-1","name":""}],"unknown_rank":false}},)"
            R"("any":{"name":"any","dtype":"DT_STRING","tensor_shape":{"dim":[],"unknown_rank":true}}},)"
            R"("method_name":"tensorflow/serving/predict"}}}}})");
}

TEST(ModelJsonTest, ConfigStatus) {
  std::vector<ModelStatusEntry> models = {
      {"a", {{1, VersionState::kAvailable, Status::Ok()}}},
      {"b", {}},
  };
  EXPECT_EQ(ConfigStatusJson(models),
            R"({"a":{"model_version_status":[{"version":"1","state":"AVAILABLE",)"
            R"("status":{"error_code":"OK","error_message":""}}]},)"
            R"("b":{"model_version_status":[]}})");
  EXPECT_EQ(ConfigStatusJson({}), "{}");
}

}  // namespace
}  // namespace tessera::tfs_rest
