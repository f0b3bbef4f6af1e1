#include "frontend/kserve_grpc/status_map.h"

#include <array>
#include <utility>

namespace tessera::kserve_grpc {
namespace {

constexpr std::array<std::pair<StatusCode, grpc::StatusCode>, 17> kCodeTable = {{
    {StatusCode::kOk, grpc::OK},
    {StatusCode::kCancelled, grpc::CANCELLED},
    {StatusCode::kUnknown, grpc::UNKNOWN},
    {StatusCode::kInvalidArgument, grpc::INVALID_ARGUMENT},
    {StatusCode::kDeadlineExceeded, grpc::DEADLINE_EXCEEDED},
    {StatusCode::kNotFound, grpc::NOT_FOUND},
    {StatusCode::kAlreadyExists, grpc::ALREADY_EXISTS},
    {StatusCode::kPermissionDenied, grpc::PERMISSION_DENIED},
    {StatusCode::kResourceExhausted, grpc::RESOURCE_EXHAUSTED},
    {StatusCode::kFailedPrecondition, grpc::FAILED_PRECONDITION},
    {StatusCode::kAborted, grpc::ABORTED},
    {StatusCode::kOutOfRange, grpc::OUT_OF_RANGE},
    {StatusCode::kUnimplemented, grpc::UNIMPLEMENTED},
    {StatusCode::kInternal, grpc::INTERNAL},
    {StatusCode::kUnavailable, grpc::UNAVAILABLE},
    {StatusCode::kDataLoss, grpc::DATA_LOSS},
    {StatusCode::kUnauthenticated, grpc::UNAUTHENTICATED},
}};

}  // namespace

grpc::StatusCode ToGrpcCode(StatusCode code) {
  for (const auto& [ours, theirs] : kCodeTable) {
    if (ours == code) return theirs;
  }
  return grpc::UNKNOWN;
}

grpc::Status ToGrpcStatus(const Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(ToGrpcCode(status.code()), status.message());
}

}  // namespace tessera::kserve_grpc
