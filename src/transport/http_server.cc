#include "transport/http_server.h"

#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "common/logging.h"

namespace tessera::transport {

namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using boost::system::error_code;

namespace internal_http {

class Session;

// State shared by the server and every connection. Connections hold it, so
// the io_context (and the socket services) outlive every socket.
struct ServerCore {
  explicit ServerCore(HttpServerOptions o, HttpHandler h)
      : options(std::move(o)), handler(std::move(h)), acceptor(net::make_strand(ioc)) {}

  const HttpServerOptions options;
  const HttpHandler handler;
  net::io_context ioc;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work;
  tcp::acceptor acceptor;  // used on its own strand only
  std::vector<std::thread> threads;

  std::mutex mu;
  std::condition_variable cv;
  bool stopping = false;  // GUARDED_BY(mu): no new requests are read
  bool stopped = false;   // GUARDED_BY(mu): responses are dropped
  uint64_t next_id = 1;   // GUARDED_BY(mu)
  // Open connections. GUARDED_BY(mu)
  std::map<uint64_t, std::weak_ptr<Session>> sessions;

  bool is_stopping() {
    std::lock_guard lock(mu);
    return stopping;
  }
};

}  // namespace internal_http

namespace {

using internal_http::ServerCore;

std::string JsonErrorBody(std::string_view message) {
  std::string out = "{\"error\":\"";
  for (char c : message) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          static const char kHex[] = "0123456789abcdef";
          out += "\\u00";
          out += kHex[(c >> 4) & 0xf];
          out += kHex[c & 0xf];
        } else {
          out += c;
        }
    }
  }
  out += "\"}";
  return out;
}

HttpResponse ErrorResponse(int status, std::string_view message) {
  HttpResponse response;
  response.status = status;
  response.content_type = "application/json";
  response.body = JsonErrorBody(message);
  return response;
}

std::string ToLower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string StripBrackets(const std::string& address) {
  if (address.size() >= 2 && address.front() == '[' && address.back() == ']') {
    return address.substr(1, address.size() - 2);
  }
  return address;
}

std::string FormatEndpoint(const std::string& address, int port) {
  std::string host = StripBrackets(address);
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  return host + ":" + std::to_string(port);
}

}  // namespace

namespace internal_http {

// One connection. All members are used on the connection's strand only,
// except PostResponse (any thread).
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(std::shared_ptr<ServerCore> core, tcp::socket socket)
      : core_(std::move(core)), stream_(std::move(socket)) {}

  ~Session() { Unregister(); }

  // Registers with the server and starts reading the first request.
  void Start() {
    bool stopping;
    {
      std::lock_guard lock(core_->mu);
      id_ = core_->next_id++;
      core_->sessions.emplace(id_, weak_from_this());
      stopping = core_->stopping;
    }
    net::dispatch(stream_.get_executor(), [self = shared_from_this(), stopping] {
      if (stopping) {
        self->Close();
      } else {
        self->ReadHeader();
      }
    });
  }

  // Any thread. Queues `response` for writing unless the server has stopped.
  void PostResponse(HttpResponse response) {
    std::lock_guard lock(core_->mu);
    if (core_->stopped) return;
    net::post(stream_.get_executor(), [self = shared_from_this(), r = std::move(response)]() mutable {
      self->Write(std::move(r));
    });
  }

  // Any thread: closes the connection if it is waiting for a new request.
  void PostStopIfIdle() {
    net::post(stream_.get_executor(), [self = shared_from_this()] {
      if (self->state_ == State::kIdle && self->buffer_.size() == 0 && !self->parser_->got_some()) {
        self->Close();
      }
    });
  }

  // Any thread: closes the connection whatever it is doing.
  void PostClose() {
    net::post(stream_.get_executor(), [self = shared_from_this()] { self->Close(); });
  }

 private:
  enum class State { kIdle, kReadingBody, kHandling, kWriting, kClosed };

  void ReadHeader() {
    state_ = State::kIdle;
    parser_.emplace();
    parser_->body_limit(core_->options.max_body_bytes);
    parser_->header_limit(static_cast<std::uint32_t>(
        std::min<size_t>(core_->options.max_header_bytes, UINT32_MAX)));
    stream_.expires_after(core_->options.idle_timeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            [self = shared_from_this()](error_code ec, size_t) { self->OnHeader(ec); });
  }

  void OnHeader(error_code ec) {
    if (ec) return OnReadError(ec);
    stream_.expires_never();
    state_ = State::kReadingBody;
    const auto& header = parser_->get();
    auto expect = header.find(http::field::expect);
    if (expect != header.end() && beast::iequals(expect->value(), "100-continue")) {
      auto cont = std::make_shared<http::response<http::empty_body>>(http::status::continue_,
                                                                     header.version());
      http::async_write(stream_, *cont, [self = shared_from_this(), cont](error_code ec, size_t) {
        if (ec) return self->Close();
        self->ReadBody();
      });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](error_code ec, size_t) {
                       if (ec) return self->OnReadError(ec);
                       self->Dispatch();
                     });
  }

  void OnReadError(error_code ec) {
    if (ec == http::error::body_limit) {
      return WriteError(413, "Request body is larger than the limit of " +
                                 std::to_string(core_->options.max_body_bytes) + " bytes");
    }
    if (ec == http::error::header_limit) {
      return WriteError(431, "Request header is larger than the limit of " +
                                 std::to_string(core_->options.max_header_bytes) + " bytes");
    }
    // A malformed message (but not a client that closed or timed out).
    if (ec.category() == http::make_error_code(http::error::bad_method).category() &&
        ec != http::error::end_of_stream && ec != http::error::partial_message) {
      return WriteError(400, "Malformed HTTP request: " + ec.message());
    }
    Close();
  }

  void Dispatch() {
    http::request<http::string_body> message = parser_->release();
    version_ = message.version();
    keep_alive_ = message.keep_alive();
    auto request = std::make_shared<HttpRequest>();
    request->method = std::string(message.method_string());
    std::string_view target(message.target().data(), message.target().size());
    size_t question = target.find('?');
    if (question != std::string_view::npos) {
      request->query = std::string(target.substr(question + 1));
      target = target.substr(0, question);
    }
    auto path = PercentDecode(target);
    if (!path.ok()) return WriteError(400, path.status().message());
    request->path = std::move(path).value();
    request->headers.reserve(std::distance(message.begin(), message.end()));
    for (const auto& field : message) {
      request->headers.emplace_back(ToLower({field.name_string().data(), field.name_string().size()}),
                                    std::string(field.value()));
    }
    request->body = std::move(message.body());
    state_ = State::kHandling;

    auto responder = std::make_shared<Responder>(shared_from_this());
    try {
      core_->handler(std::move(request),
                     [responder](HttpResponse response) { responder->Respond(std::move(response)); });
    } catch (const std::exception& e) {
      TLOG_ERROR("HTTP handler threw: {}", e.what());
      responder->Respond(ErrorResponse(500, "Internal error"));
    } catch (...) {
      TLOG_ERROR("HTTP handler threw");
      responder->Respond(ErrorResponse(500, "Internal error"));
    }
  }

  // Completes one request exactly once; answers 500 if dropped unanswered.
  class Responder {
   public:
    explicit Responder(std::shared_ptr<Session> session) : session_(std::move(session)) {}
    ~Responder() {
      if (!done_.exchange(true)) {
        TLOG_ERROR("HTTP handler dropped a request without answering it");
        session_->PostResponse(ErrorResponse(500, "The request was not answered"));
      }
    }
    void Respond(HttpResponse response) {
      if (done_.exchange(true)) return;
      session_->PostResponse(std::move(response));
      session_.reset();  // callers may keep the respond function around
    }

   private:
    std::shared_ptr<Session> session_;
    std::atomic<bool> done_{false};
  };

  void Write(HttpResponse response) {
    if (state_ != State::kHandling) return;  // closed meanwhile
    bool close = !keep_alive_ || core_->is_stopping();
    WriteResponse(std::move(response), close);
  }

  void WriteError(int status, std::string message) {
    version_ = 11;
    WriteResponse(ErrorResponse(status, message), /*close=*/true);
  }

  void WriteResponse(HttpResponse response, bool close) {
    if (response.status < 100 || response.status > 999) {
      TLOG_ERROR("HTTP handler answered with invalid status {}", response.status);
      response = ErrorResponse(500, "Invalid response status");
    }
    auto out = std::make_shared<http::response<http::string_body>>();
    out->version(version_);
    out->result(static_cast<unsigned>(response.status));
    out->set(http::field::server, "tessera");
    if (!response.content_type.empty()) out->set(http::field::content_type, response.content_type);
    for (const auto& [name, value] : response.headers) out->set(name, value);
    out->body() = std::move(response.body);
    out->keep_alive(!close);
    out->prepare_payload();
    state_ = State::kWriting;
    http::async_write(stream_, *out, [self = shared_from_this(), out, close](error_code ec, size_t) {
      if (ec || close) return self->Close();
      self->ReadHeader();
    });
  }

  // The connection counts as open (for Shutdown) until closed, even while a
  // handler still holds its respond function.
  void Close() {
    if (state_ == State::kClosed) return;
    state_ = State::kClosed;
    error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.close();
    Unregister();
  }

  void Unregister() {
    std::lock_guard lock(core_->mu);
    if (core_->sessions.erase(id_) > 0) core_->cv.notify_all();
  }

  std::shared_ptr<ServerCore> core_;  // first member: destroyed after stream_
  uint64_t id_ = 0;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  State state_ = State::kIdle;
  unsigned version_ = 11;
  bool keep_alive_ = false;
};

}  // namespace internal_http

namespace {

void Accept(std::shared_ptr<ServerCore> core) {
  core->acceptor.async_accept(net::make_strand(core->ioc), [core](error_code ec, tcp::socket socket) {
    if (!core->acceptor.is_open()) return;
    if (ec) {
      TLOG_WARN("HTTP accept failed: {}", ec.message());
    } else {
      error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      std::make_shared<internal_http::Session>(core, std::move(socket))->Start();
    }
    Accept(core);
  });
}

Status ValidateOptions(const HttpServerOptions& o) {
  if (o.port < 0 || o.port > 65535) return InvalidArgument("Invalid REST port " + std::to_string(o.port));
  if (o.num_threads < 1) return InvalidArgument("REST workers must be at least 1");
  if (o.max_body_bytes == 0) return InvalidArgument("REST body limit must be positive");
  if (o.max_header_bytes == 0) return InvalidArgument("REST header limit must be positive");
  if (o.idle_timeout.count() <= 0) return InvalidArgument("REST idle timeout must be positive");
  return Status::Ok();
}

}  // namespace

Result<std::string> PercentDecode(std::string_view text) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    int high = i + 2 < text.size() ? hex(text[i + 1]) : -1;
    int low = high >= 0 ? hex(text[i + 2]) : -1;
    if (low < 0) return InvalidArgument("Malformed percent-encoding in the request path");
    out += static_cast<char>(high * 16 + low);
    i += 2;
  }
  return out;
}

HttpServer::HttpServer(HttpServerOptions options, HttpHandler handler)
    : options_(options), core_(std::make_shared<ServerCore>(std::move(options), std::move(handler))) {}

HttpServer::~HttpServer() { Shutdown(std::chrono::steady_clock::now()); }

std::string HttpServer::endpoint() const { return FormatEndpoint(options_.address, bound_port_); }

size_t HttpServer::connection_count() const {
  std::lock_guard lock(core_->mu);
  return core_->sessions.size();
}

Status HttpServer::Start() {
  if (started_) return FailedPrecondition("HTTP server already started");
  TESSERA_RETURN_IF_ERROR(ValidateOptions(options_));
  const std::string where = FormatEndpoint(options_.address, options_.port);

  error_code ec;
  tcp::resolver resolver(core_->ioc);
  auto results = resolver.resolve(StripBrackets(options_.address), std::to_string(options_.port),
                                  tcp::resolver::passive | tcp::resolver::numeric_service, ec);
  if (ec || results.empty()) {
    return InvalidArgument("Cannot resolve REST bind address " + where + ": " + ec.message());
  }
  tcp::endpoint endpoint = results.begin()->endpoint();
  tcp::acceptor& acceptor = core_->acceptor;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    error_code ignored;
    acceptor.close(ignored);
    return Unavailable("Failed to bind the REST server to " + where + ": " + ec.message());
  }
  bound_port_ = acceptor.local_endpoint(ec).port();
  started_ = true;

  core_->work.emplace(core_->ioc.get_executor());
  Accept(core_);
  for (int i = 0; i < options_.num_threads; ++i) {
    core_->threads.emplace_back([core = core_.get()] {
      for (;;) {
        try {
          core->ioc.run();
          return;
        } catch (const std::exception& e) {
          TLOG_ERROR("HTTP io thread caught: {}", e.what());
        }
      }
    });
  }
  return Status::Ok();
}

void HttpServer::Shutdown(std::chrono::steady_clock::time_point deadline) {
  if (!started_ || shut_down_) return;
  shut_down_ = true;
  ServerCore& core = *core_;

  auto live_sessions = [&core] {
    std::vector<std::shared_ptr<internal_http::Session>> out;
    for (auto& [id, weak] : core.sessions) {
      if (auto s = weak.lock()) out.push_back(std::move(s));
    }
    return out;
  };

  std::vector<std::shared_ptr<internal_http::Session>> sessions;
  {
    std::lock_guard lock(core.mu);
    core.stopping = true;
    sessions = live_sessions();
  }
  net::post(core.acceptor.get_executor(), [&core] {
    error_code ignored;
    core.acceptor.close(ignored);
  });
  for (auto& s : sessions) s->PostStopIfIdle();
  sessions.clear();

  {
    std::unique_lock lock(core.mu);
    core.cv.wait_until(lock, deadline, [&core] { return core.sessions.empty(); });
    core.stopped = true;
    sessions = live_sessions();
  }
  for (auto& s : sessions) s->PostClose();
  sessions.clear();

  core.work.reset();
  for (auto& thread : core.threads) thread.join();
  core.threads.clear();
}

}  // namespace tessera::transport
