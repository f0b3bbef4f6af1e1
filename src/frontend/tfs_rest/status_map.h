// The one mapping from tessera::Status to an HTTP status for the TensorFlow
// Serving REST front door, following TF Serving's own table
// (model_servers/http_server.cc): INVALID_ARGUMENT, FAILED_PRECONDITION and
// OUT_OF_RANGE are 400, NOT_FOUND 404, ALREADY_EXISTS 409, ABORTED 204 without a body (a pipeline
// demultiplexer with no content, as OVMS), ...
#pragma once

#include "common/status.h"
#include "transport/http_types.h"

namespace tessera::tfs_rest {

// HTTP status for `code`: 200 for kOk, 500 for a value outside the enum.
int HttpStatusFor(StatusCode code);

// {"error": "<message>"} with HttpStatusFor(status.code()).
// REQUIRES: !status.ok().
transport::HttpResponse ErrorResponse(const Status& status);

}  // namespace tessera::tfs_rest
