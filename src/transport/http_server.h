// HttpServer: an HTTP/1.1 server (Boost.Beast) that hands every request to
// one HttpHandler. It knows nothing about models or URLs; the REST frontends
// and their router (frontend/http_router.h) do.
//
// Threads: `num_threads` io threads, each running its own io_context;
// connections are asynchronous (no thread per connection) and each one stays
// on the io thread it was accepted onto (round robin), so its work is
// serialized without a strand. The handler is called on that io thread and
// must not block: it completes the request later, from any thread, through
// the HttpRespond it was given; the write is posted back to the connection's
// io thread (or done at once when the handler answers on it). The connection
// (and the request the handler holds) stays alive until then; if the client
// went away meanwhile the response is dropped.
//
// Protocol: HTTP/1.1 keep-alive (and HTTP/1.0 "Connection: keep-alive");
// one request at a time per connection, in order. "Expect: 100-continue" is
// answered. The request target is split at '?': HttpRequest::path is the RAW
// part before it (percent-escapes intact: the REST frontends split it at its
// raw separators and decode each segment, see url_path.h), HttpRequest::query
// the raw part after it. Header names are lower-cased.
//
// Errors answered by the server itself, with a JSON body {"error": "..."};
// the connection is then closed (the server stops sending, reads and drops
// what the client still sends for up to 1 s, then closes, so that the client
// reads the answer rather than a reset):
//   400 anything malformed (bad request line, bad header, bad chunking, bad
//       percent-encoding in the path), and an HTTP/1.1 request without a
//       Host header (RFC 7230 5.4; HTTP/1.0 needs none): "Missing Host header";
//   408 the request line and headers did not all arrive within
//       header_timeout of the connection being ready for a request (accepted,
//       or the previous response written): "Timed out reading the request
//       header (limit N s)"; or the body did not all arrive within
//       body_timeout of the end of the headers: "Timed out reading the
//       request body (limit N s)". A connection that received no byte of a
//       new request within header_timeout is an idle keep-alive connection
//       and is closed without an answer;
//   413 body larger than max_body_bytes (checked against Content-Length
//       before the body is read), 431 header block larger than
//       max_header_bytes;
//   503 "Too many connections (limit N)" to a connection accepted while
//       max_connections are already open (not counting refused ones, nor
//       ones lingering after an error answer): answered at once, without reading
//       a request (after the TLS handshake when TLS is on);
//   500 when a handler dropped its HttpRespond without calling it.
// Content codings (http_encoding.h): a body sent with Content-Encoding gzip
// or deflate is inflated (to at most max_body_bytes) before the handler sees
// it, and the header is dropped; the server answers itself, keeping the
// connection, 415 for another coding (with Accept-Encoding: gzip, deflate),
// 413 when it inflates past max_body_bytes, 400 when it is corrupt. A
// handler's reply of at least kMinCompressedReplyBytes is compressed when
// the request's Accept-Encoding allows gzip or deflate.
// The time to write a response is not bounded.
//
// TLS: with options.tls set, every connection is TLS (1.2 or later) with that
// certificate; with a client CA, a client without a certificate signed by it
// fails the handshake and is closed. The connection code is a template over
// the stream type, so plaintext connections run exactly the plaintext code.
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
#include "transport/tls.h"

namespace tessera::transport {

namespace internal_http {
struct ServerCore;
}  // namespace internal_http

// Default largest request body: 1 GiB, the same as the gRPC message limit.
inline constexpr size_t kDefaultMaxBodyBytes = size_t{1} << 30;
// Default largest request line + header block: 64 KiB.
inline constexpr size_t kDefaultMaxHeaderBytes = 64 * 1024;
// Default time for a request's line and headers to arrive (which is also how
// long a keep-alive connection may sit idle between requests).
inline constexpr std::chrono::seconds kDefaultHeaderTimeout{60};
// Default time for a request's body to arrive once its headers have.
inline constexpr std::chrono::seconds kDefaultBodyTimeout{60};
// Default largest number of open connections. Each costs one file
// descriptor and a few KiB while idle; clients of a model server keep small
// pools (one or a few per client process), so 1024 leaves room for hundreds
// of clients while bounding what a connection flood can hold.
inline constexpr size_t kDefaultMaxConnections = 1024;

struct HttpServerOptions {
  // Host name or IP address to bind; IPv6 may be bracketed ("[::]").
  std::string address = "0.0.0.0";
  // 0 picks a free port; see HttpServer::port().
  int port = 0;
  // Number of io threads (>= 1), the OVMS --rest_workers flag.
  int num_threads = 1;
  size_t max_body_bytes = kDefaultMaxBodyBytes;      // > 0
  size_t max_header_bytes = kDefaultMaxHeaderBytes;  // > 0
  std::chrono::milliseconds header_timeout = kDefaultHeaderTimeout;  // > 0
  std::chrono::milliseconds body_timeout = kDefaultBodyTimeout;      // > 0
  size_t max_connections = kDefaultMaxConnections;                   // > 0
  TlsFiles tls;  // empty: plaintext
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
  // options, TLS files that fail CheckTlsFiles, or an address that does not
  // resolve), kUnavailable naming
  // address:port when the port is taken or the address cannot be bound,
  // kFailedPrecondition when already started.
  Status Start();

  // From now on every response is sent with "Connection: close" and its
  // connection closed after it, so keep-alive clients open a new connection
  // (through a load balancer: to another replica) for their next request.
  // Requests are still accepted and answered. For the drain before a
  // Shutdown. Any thread, after Start().
  void BeginDrain();

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

}  // namespace tessera::transport
