// HttpServer: an HTTP/1.1 server (Boost.Beast) that hands every request to
// one HttpHandler. It knows nothing about models or URLs; the REST frontends
// and their router (frontend/http_router.h) do.
//
// Threads: `num_threads` io threads run one shared io_context; connections
// are asynchronous (no thread per connection) and each connection's work runs
// on its own strand. The handler is called on an io thread and must not
// block: it completes the request later, from any thread, through the
// HttpRespond it was given; the write is posted back to the connection's
// strand. The connection (and the request the handler holds) stays alive
// until then; if the client went away meanwhile the response is dropped.
//
// Protocol: HTTP/1.1 keep-alive (and HTTP/1.0 "Connection: keep-alive");
// one request at a time per connection, in order. "Expect: 100-continue" is
// answered. The request target is split at '?': HttpRequest::path is the
// percent-decoded part before it, HttpRequest::query the raw part after it.
// Header names are lower-cased. Errors answered by the server itself, with a
// JSON body {"error": "..."} and the connection closed afterwards:
//   413 body larger than max_body_bytes (checked against Content-Length
//       before the body is read), 431 header block larger than
//       max_header_bytes, 400 anything else malformed (bad request line,
//       bad header, bad chunking, bad percent-encoding in the path),
//   500 when a handler dropped its HttpRespond without calling it.
// A connection idle longer than idle_timeout between requests is closed.
//
// Thread-safety: Start and Shutdown from one thread (Shutdown may run while
// handlers are still completing on other threads); port()/endpoint() after
// Start from any thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"
#include "common/status.h"
#include "transport/http_types.h"

namespace tessera::transport {

namespace internal_http {
struct ServerCore;
}  // namespace internal_http

// Default largest request body: 1 GiB, the same as the gRPC message limit.
inline constexpr size_t kDefaultMaxBodyBytes = size_t{1} << 30;
// Default largest request line + header block: 64 KiB.
inline constexpr size_t kDefaultMaxHeaderBytes = 64 * 1024;
// Default time a keep-alive connection may sit idle between requests.
inline constexpr std::chrono::seconds kDefaultIdleTimeout{60};

struct HttpServerOptions {
  // Host name or IP address to bind; IPv6 may be bracketed ("[::]").
  std::string address = "0.0.0.0";
  // 0 picks a free port; see HttpServer::port().
  int port = 0;
  // Number of io threads (>= 1), the OVMS --rest_workers flag.
  int num_threads = 1;
  size_t max_body_bytes = kDefaultMaxBodyBytes;      // > 0
  size_t max_header_bytes = kDefaultMaxHeaderBytes;  // > 0
  std::chrono::milliseconds idle_timeout = kDefaultIdleTimeout;  // > 0
};

class HttpServer {
 public:
  // `handler` is called for every well-formed request; see the file comment.
  HttpServer(HttpServerOptions options, HttpHandler handler);
  // Shuts down with an immediate deadline if still running.
  ~HttpServer();

  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds, listens and starts the io threads. Errors: kInvalidArgument (bad
  // options or an address that does not resolve), kUnavailable naming
  // address:port when the port is taken or the address cannot be bound,
  // kFailedPrecondition when already started.
  Status Start();

  // Stops accepting at once and closes idle keep-alive connections; requests
  // already received are answered and their connections then closed. At
  // `deadline` every connection still open is closed (late responses are
  // dropped). Returns when the io threads have stopped. Idempotent; a no-op
  // before Start().
  void Shutdown(std::chrono::steady_clock::time_point deadline);

  // The bound port (the picked one when options.port was 0); 0 before Start.
  int port() const { return bound_port_; }
  // "address:port" as bound, e.g. "127.0.0.1:8000" or "[::1]:8000".
  std::string endpoint() const;

  // Open connections (for tests and logging).
  size_t connection_count() const;

 private:
  HttpServerOptions options_;
  // Shared with every connection so the io_context outlives them all.
  std::shared_ptr<internal_http::ServerCore> core_;
  int bound_port_ = 0;
  bool started_ = false;
  bool shut_down_ = false;
};

// Decodes %XX escapes (not '+'); kInvalidArgument when an escape is
// malformed. Exposed for tests.
Result<std::string> PercentDecode(std::string_view text);

}  // namespace tessera::transport
