// What a gRPC call tells the core besides its message: the client's
// deadline and whether the client has gone away. Shared by the KServe and
// TF Serving gRPC front doors.
#pragma once

#include <atomic>
#include <functional>
#include <memory>

#include <grpcpp/server_context.h>

#include "core/types.h"

namespace tessera::kserve_grpc {

// The call's deadline on the core's clock; unset when the client set none
// (gpr_inf_future).
Deadline CallDeadline(const grpc::ServerContextBase& ctx);

// True once the client cancelled the call, its deadline passed or the
// connection went away (ServerContextBase::IsCancelled, which gRPC makes
// safe to call from any thread with the callback API).
// REQUIRES: `ctx` outlives every call of the returned function; true for a
// unary call whose request is answered by Finish from the core's callback.
std::function<bool()> CallCancelled(const grpc::ServerContextBase& ctx);

// A flag a stream sets when its client goes away; each request read from the
// stream holds a check of it, which stays valid after the stream is gone.
std::function<bool()> FlagCancelled(std::shared_ptr<const std::atomic<bool>> flag);

}  // namespace tessera::kserve_grpc
