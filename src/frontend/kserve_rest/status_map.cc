#include "frontend/kserve_rest/status_map.h"

#include "frontend/rest_frontend.h"

namespace tessera::kserve_rest {

int HttpStatusFor(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return 200;
    case StatusCode::kInvalidArgument:
    case StatusCode::kAlreadyExists:
    case StatusCode::kUnknown:
    case StatusCode::kFailedPrecondition:
    case StatusCode::kOutOfRange: return 400;
    case StatusCode::kNotFound: return 404;
    case StatusCode::kUnavailable:
    case StatusCode::kResourceExhausted:
    case StatusCode::kCancelled: return 503;
    case StatusCode::kUnimplemented: return 501;
    case StatusCode::kInternal:
    case StatusCode::kDataLoss: return 500;
    case StatusCode::kDeadlineExceeded: return 504;
    case StatusCode::kPermissionDenied: return 403;
    case StatusCode::kUnauthenticated: return 401;
    case StatusCode::kAborted: return 204;  // a pipeline's demultiplexer had no content (OVMS)
  }
  return 500;
}

transport::HttpResponse ErrorResponse(const Status& status) {
  return frontend::JsonError(HttpStatusFor(status.code()), status.message());
}

}  // namespace tessera::kserve_rest
