// RestFrontend: the interface every REST front door (TFS /v1, KServe /v2)
// implements so one HttpRouter can dispatch to it, plus the small helpers
// they share (JSON error bodies, case-insensitive URL regexes).
//
// Contract of a frontend:
//   - Route() only matches the URL; it does no I/O and never blocks. It is
//     called on an HTTP io thread for every request, concurrently, so it must
//     be thread-safe (const, no mutable state).
//   - It answers one of three things for (method, path):
//       kMatched     the path is one of its URLs and the method is allowed:
//                    `handler` is set and will be called exactly once with
//                    the request and a respond function;
//       kWrongMethod the path is one of its URLs but the method is not
//                    allowed: `allow` lists the allowed methods ("GET, POST");
//                    the router answers 405;
//       kNoMatch     not one of its URLs; the router tries the next frontend
//                    and answers 404 when none matches.
//   - HttpRequest::path is the RAW path (query split off, escapes intact).
//     Frontends split it with transport::SplitUrlPath (url_path.h) and match
//     the decoded segments, so "%2F"/"%3A" are data, never separators. Fixed
//     words match case-insensitively (as TF Serving and OVMS do); model
//     names keep the case the client sent.
//   - The handler owns the request from then on: it must call `respond`
//     exactly once, from any thread, possibly after it returned. Tensors may
//     borrow bytes of request->body as long as they keep the shared_ptr alive
//     until `respond` is called (capture it in the completion callback).
//   - Errors are answered with JsonError() bodies: {"error": "<message>"}.
//   - Handlers must not throw.
#pragma once

#include <chrono>
#include <regex>
#include <string>
#include <string_view>
#include <utility>

#include "transport/http_types.h"

namespace tessera::frontend {

enum class RouteMatch {
  kNoMatch,
  kWrongMethod,
  kMatched,
};

struct RouteResult {
  RouteMatch match = RouteMatch::kNoMatch;
  // Set when match == kMatched. Typically a lambda capturing the URL
  // parameters (model name, version) parsed by Route().
  transport::HttpHandler handler;
  // Set when match == kWrongMethod: value of the Allow header, e.g. "POST".
  std::string allow;

  static RouteResult NoMatch() { return {}; }
  static RouteResult WrongMethod(std::string allow) {
    return {RouteMatch::kWrongMethod, nullptr, std::move(allow)};
  }
  static RouteResult Matched(transport::HttpHandler handler) {
    return {RouteMatch::kMatched, std::move(handler), {}};
  }
};

class RestFrontend {
 public:
  virtual ~RestFrontend() = default;
  // See the file comment. Thread-safe, non-blocking.
  virtual RouteResult Route(const transport::HttpRequest& request) const = 0;

  // The server-wide timeout of an inference request (--rest_request_timeout_ms),
  // counted from when its body has been decoded; zero = none. A request's own
  // timeout (KServe parameters.timeout) applies when earlier. Set it before
  // the frontend serves; not synchronised.
  void set_request_timeout(std::chrono::milliseconds timeout) { request_timeout_ = timeout; }
  std::chrono::milliseconds request_timeout() const { return request_timeout_; }

 private:
  std::chrono::milliseconds request_timeout_{0};
};

// An HttpResponse with `status`, Content-Type application/json and the body
// {"error": "<message>"} (message JSON-escaped).
// A 204 gets no body.
transport::HttpResponse JsonError(int status, std::string_view message);

// A case-insensitive ECMAScript regex, for URL patterns. Build once (e.g. a
// static or a member), match with std::regex_match on the whole path.
std::regex UrlRegex(const std::string& pattern);

}  // namespace tessera::frontend
