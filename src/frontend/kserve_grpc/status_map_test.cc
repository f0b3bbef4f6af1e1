#include "frontend/kserve_grpc/status_map.h"

#include <gtest/gtest.h>

namespace tessera::kserve_grpc {
namespace {

TEST(StatusMapTest, EveryCodeKeepsItsNumberAndName) {
  for (int i = 0; i <= 16; ++i) {
    auto ours = static_cast<StatusCode>(i);
    grpc::StatusCode theirs = ToGrpcCode(ours);
    EXPECT_EQ(static_cast<int>(theirs), i) << StatusCodeName(ours);
  }
  EXPECT_EQ(ToGrpcCode(StatusCode::kNotFound), grpc::NOT_FOUND);
  EXPECT_EQ(ToGrpcCode(StatusCode::kUnavailable), grpc::UNAVAILABLE);
  EXPECT_EQ(ToGrpcCode(StatusCode::kInvalidArgument), grpc::INVALID_ARGUMENT);
  EXPECT_EQ(ToGrpcCode(StatusCode::kFailedPrecondition), grpc::FAILED_PRECONDITION);
  EXPECT_EQ(ToGrpcCode(StatusCode::kResourceExhausted), grpc::RESOURCE_EXHAUSTED);
  EXPECT_EQ(ToGrpcCode(StatusCode::kInternal), grpc::INTERNAL);
}

TEST(StatusMapTest, ValueOutsideTheEnumIsUnknown) {
  EXPECT_EQ(ToGrpcCode(static_cast<StatusCode>(99)), grpc::UNKNOWN);
}

TEST(StatusMapTest, ConvertsStatusKeepingTheMessage) {
  grpc::Status s = ToGrpcStatus(NotFound("Model with requested name is not found"));
  EXPECT_EQ(s.error_code(), grpc::NOT_FOUND);
  EXPECT_EQ(s.error_message(), "Model with requested name is not found");
  EXPECT_TRUE(ToGrpcStatus(Status::Ok()).ok());
}

}  // namespace
}  // namespace tessera::kserve_grpc
