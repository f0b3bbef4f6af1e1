#include "frontend/tfs_rest/status_map.h"

#include <array>
#include <utility>

#include "frontend/rest_frontend.h"

namespace tessera::tfs_rest {
namespace {

constexpr std::array<std::pair<StatusCode, int>, 17> kHttpTable = {{
    {StatusCode::kOk, 200},
    {StatusCode::kCancelled, 499},  // nginx/TF Serving "client closed request"
    {StatusCode::kUnknown, 500},
    {StatusCode::kInvalidArgument, 400},
    {StatusCode::kDeadlineExceeded, 504},
    {StatusCode::kNotFound, 404},
    {StatusCode::kAlreadyExists, 409},
    {StatusCode::kPermissionDenied, 403},
    {StatusCode::kResourceExhausted, 429},
    {StatusCode::kFailedPrecondition, 400},
    {StatusCode::kAborted, 204},  // a pipeline's demultiplexer had no content (OVMS)
    {StatusCode::kOutOfRange, 400},
    {StatusCode::kUnimplemented, 501},
    {StatusCode::kInternal, 500},
    {StatusCode::kUnavailable, 503},
    {StatusCode::kDataLoss, 500},
    {StatusCode::kUnauthenticated, 401},
}};

}  // namespace

int HttpStatusFor(StatusCode code) {
  for (const auto& [ours, http] : kHttpTable) {
    if (ours == code) return http;
  }
  return 500;
}

transport::HttpResponse ErrorResponse(const Status& status) {
  return frontend::JsonError(HttpStatusFor(status.code()), status.message());
}

}  // namespace tessera::tfs_rest
