// The one mapping from tessera::Status to a gRPC status for the KServe gRPC
// front door. Both use gRPC's canonical numbering, so the table is an
// identity by construction; it is still a table so a deliberate difference
// would be made here and nowhere else.
#pragma once

#include <grpcpp/support/status.h>

#include "common/status.h"

namespace tessera::kserve_grpc {

// gRPC code for `code`; UNKNOWN for a value outside the enum.
grpc::StatusCode ToGrpcCode(StatusCode code);

// Same code (via ToGrpcCode) and the message unchanged.
grpc::Status ToGrpcStatus(const Status& status);

}  // namespace tessera::kserve_grpc
