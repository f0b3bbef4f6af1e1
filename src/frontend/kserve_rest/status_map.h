// The one mapping from tessera::Status to an HTTP status for the KServe v2
// REST front door, following Triton's table where it has one:
//   INVALID_ARGUMENT, ALREADY_EXISTS, UNKNOWN, FAILED_PRECONDITION,
//   OUT_OF_RANGE → 400; NOT_FOUND → 404; UNAVAILABLE, CANCELLED and
//   RESOURCE_EXHAUSTED (a full queue; Triton answers 503 there too) → 503;
//   UNIMPLEMENTED → 501; INTERNAL, DATA_LOSS → 500; DEADLINE_EXCEEDED → 504;
//   PERMISSION_DENIED → 403; UNAUTHENTICATED → 401; ABORTED → 204 without a body (a
//   pipeline demultiplexer with no content, as OVMS).
#pragma once

#include "common/status.h"
#include "transport/http_types.h"

namespace tessera::kserve_rest {

// 200 for kOk; 500 for a value outside the enum.
int HttpStatusFor(StatusCode code);

// {"error": message} with HttpStatusFor(status.code()). REQUIRES: !status.ok().
transport::HttpResponse ErrorResponse(const Status& status);

}  // namespace tessera::kserve_rest
