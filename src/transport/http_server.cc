#include "transport/http_server.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <type_traits>
#include <vector>

#include "common/logging.h"
#include "transport/http_encoding.h"
#include "transport/url_path.h"

namespace tessera::transport {

namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using boost::system::error_code;

namespace internal_http {

class SessionBase;

// State shared by the server and every connection. Connections hold it, so
// the io_context (and the socket services) outlive every socket.
//
// Each io thread runs its own io_context, and every connection stays on the
// io_context it was accepted onto (round robin), which serializes its
// handlers without a strand. Nothing of a request is shared between io
// threads: no lock on one io_context's queue for every completion, and memory
// is freed on the thread that allocated it. Sockets and timers name the
// io_context's executor type, not asio's type-erased one, which would copy
// (and allocate) itself at every asynchronous operation.
struct ServerCore {
  explicit ServerCore(HttpServerOptions o, HttpHandler h)
      : options(std::move(o)),
        handler(std::move(h)),
        iocs(MakeContexts(std::max(options.num_threads, 1))),
        acceptor(*iocs.front()) {}

  static std::vector<std::unique_ptr<net::io_context>> MakeContexts(int count) {
    std::vector<std::unique_ptr<net::io_context>> out;
    // One thread runs each: the hint lets asio skip most of its locking.
    for (int i = 0; i < count; ++i) out.push_back(std::make_unique<net::io_context>(1));
    return out;
  }

  // The io_context the next accepted connection runs on.
  net::io_context& next_context() { return *iocs[next_context_index++ % iocs.size()]; }

  const HttpServerOptions options;
  const HttpHandler handler;
  const std::vector<std::unique_ptr<net::io_context>> iocs;  // one per io thread
  std::vector<net::executor_work_guard<net::io_context::executor_type>> work;
  tcp::acceptor acceptor;  // used on the first io thread only
  size_t next_context_index = 0;  // used on the first io thread only
  std::vector<std::thread> threads;

  std::mutex mu;
  std::condition_variable cv;
  bool draining = false;  // GUARDED_BY(mu): responses close their connection
  bool stopping = false;  // GUARDED_BY(mu): no new requests are read
  bool stopped = false;   // GUARDED_BY(mu): responses are dropped
  uint64_t next_id = 1;   // GUARDED_BY(mu)
  // Open connections, refused ones included. GUARDED_BY(mu)
  std::map<uint64_t, std::weak_ptr<SessionBase>> sessions;
  // Open connections that serve requests (not refused, not lingering after
  // an error answer). GUARDED_BY(mu)
  size_t serving = 0;
  // Set by Start() before the io threads run when TLS is on.
  std::unique_ptr<net::ssl::context> ssl;

  bool is_stopped() {
    std::lock_guard lock(mu);
    return stopped;
  }

  // A response written now closes its connection.
  bool closes_after_response() {
    std::lock_guard lock(mu);
    return draining || stopping;
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

// What Shutdown needs of a connection, whatever its stream type.
class SessionBase {
 public:
  virtual ~SessionBase() = default;
  // Any thread: closes the connection if it is waiting for a new request.
  virtual void PostStopIfIdle() = 0;
  // Any thread: closes the connection whatever it is doing.
  virtual void PostClose() = 0;
};

using Executor = net::io_context::executor_type;
using Socket = net::basic_stream_socket<tcp, Executor>;
using Timer = net::basic_waitable_timer<std::chrono::steady_clock,
                                        net::wait_traits<std::chrono::steady_clock>, Executor>;
using PlainStream = Socket;
using TlsStream = beast::ssl_stream<Socket>;

// How long an error answer's connection keeps reading (and dropping) what
// the client still sends before it is closed.
constexpr std::chrono::seconds kLingerTime{1};

// One connection over `Stream` (PlainStream or TlsStream). All members are
// used on the connection's io thread only, except the Post* functions (any
// thread).
template <class Stream>
class Session : public SessionBase, public std::enable_shared_from_this<Session<Stream>> {
 public:
  static constexpr bool kTls = !std::is_same_v<Stream, PlainStream>;

  // `refuse`: answer 503 (too many connections) instead of reading requests.
  template <class... StreamArgs>
  Session(std::shared_ptr<ServerCore> core, bool refuse, StreamArgs&&... stream_args)
      : core_(std::move(core)),
        stream_(std::forward<StreamArgs>(stream_args)...),
        timer_(stream_.get_executor()),
        refuse_(refuse),
        counted_(!refuse) {}

  ~Session() override { Unregister(); }

  // Registers with the server and starts the connection.
  void Start() {
    bool stopping;
    {
      std::lock_guard lock(core_->mu);
      id_ = core_->next_id++;
      core_->sessions.emplace(id_, this->weak_from_this());
      if (counted_) ++core_->serving;
      stopping = core_->stopping;
    }
    net::dispatch(stream_.get_executor(), [self = this->shared_from_this(), stopping] {
      if (stopping) return self->Close();
      if constexpr (kTls) {
        self->Handshake();
      } else {
        self->Begin();
      }
    });
  }

  // Any thread. Queues `response` for writing unless the server has stopped;
  // on the connection's own io thread (a handler that answered before it
  // returned, e.g. after an inline model run) it is written at once, which
  // saves a trip through the io_context's queue.
  void PostResponse(HttpResponse response) {
    if (stream_.get_executor().running_in_this_thread()) {
      // This io thread is running, so Shutdown has not joined it; Write
      // drops the response if the connection was closed meanwhile.
      if (!core_->is_stopped()) Write(std::move(response));
      return;
    }
    std::lock_guard lock(core_->mu);
    if (core_->stopped) return;
    net::post(stream_.get_executor(),
              [self = this->shared_from_this(), r = std::move(response)]() mutable {
                self->Write(std::move(r));
              });
  }

  void PostStopIfIdle() override {
    net::post(stream_.get_executor(), [self = this->shared_from_this()] {
      const bool waiting = self->state_ == State::kIdle && self->buffer_.size() == 0 &&
                           !self->parser_->got_some();
      if (waiting || self->state_ == State::kHandshake) self->Close();
    });
  }

  void PostClose() override {
    net::post(stream_.get_executor(), [self = this->shared_from_this()] { self->Close(); });
  }

 private:
  enum class State { kHandshake, kIdle, kReadingBody, kHandling, kWriting, kLingering, kClosed };
  // What the armed timer bounds.
  enum class Phase { kHeader, kBody, kLinger };

  Socket& socket() { return beast::get_lowest_layer(stream_); }

  // Sets the one deadline of the connection; a pending read is cancelled
  // when it passes (see OnTimeout). Re-arming replaces it, Disarm() clears it.
  // The timer's wait is kept across requests: a later deadline is picked up
  // when the wait ends, so the usual re-arm of every request costs no timer
  // operation (cancelling a wait would post its handler and wake another io
  // thread); only an earlier deadline restarts the wait.
  void Arm(std::chrono::steady_clock::duration after, Phase phase) {
    phase_ = phase;
    timed_out_ = false;
    deadline_ = std::chrono::steady_clock::now() + after;
    if (!timer_waiting_ || deadline_ < timer_.expiry()) WaitTimer();
  }

  void Disarm() { deadline_ = std::chrono::steady_clock::time_point::max(); }

  void WaitTimer() {
    timer_.expires_at(deadline_);  // a pending wait ends (and is ignored)
    timer_waiting_ = true;
    timer_.async_wait([self = this->shared_from_this(), generation = ++timer_generation_](error_code) {
      if (generation != self->timer_generation_) return;  // replaced or stopped
      self->timer_waiting_ = false;
      if (self->deadline_ == std::chrono::steady_clock::time_point::max()) return;  // disarmed
      if (std::chrono::steady_clock::now() < self->deadline_) return self->WaitTimer();  // moved
      self->OnTimeout();
    });
  }

  // Ends the timer's wait (so that it does not keep the connection alive).
  void StopTimer() {
    Disarm();
    ++timer_generation_;
    timer_waiting_ = false;
    timer_.cancel();
  }

  void OnTimeout() {
    if (phase_ == Phase::kLinger) return Close();
    timed_out_ = true;
    error_code ignored;
    socket().cancel(ignored);
  }

  void Handshake() {
    state_ = State::kHandshake;
    Arm(core_->options.header_timeout, Phase::kHeader);
    stream_.async_handshake(net::ssl::stream_base::server,
                            [self = this->shared_from_this()](error_code ec) {
                              if (ec) {
                                TLOG_DEBUG("TLS handshake failed: {}", ec.message());
                                return self->Close();
                              }
                              self->Begin();
                            });
  }

  void Begin() {
    if (refuse_) {
      return WriteError(503, "Too many connections (limit " +
                                 std::to_string(core_->options.max_connections) + ")");
    }
    ReadHeader();
  }

  void ReadHeader() {
    state_ = State::kIdle;
    parser_.emplace();
    parser_->body_limit(core_->options.max_body_bytes);
    parser_->header_limit(static_cast<std::uint32_t>(
        std::min<size_t>(core_->options.max_header_bytes, UINT32_MAX)));
    Arm(core_->options.header_timeout, Phase::kHeader);
    http::async_read_header(stream_, buffer_, *parser_,
                            [self = this->shared_from_this()](error_code ec, size_t) { self->OnHeader(ec); });
  }

  void OnHeader(error_code ec) {
    if (ec) {
      // Idle (no byte of a new request) is closed silently; a started
      // request that did not finish in time is answered.
      if (timed_out_ && (buffer_.size() > 0 || parser_->got_some())) {
        return WriteError(408, "Timed out reading the request header (limit " +
                                   Seconds(core_->options.header_timeout) + ")");
      }
      return OnReadError(ec);
    }
    state_ = State::kReadingBody;
    const auto& header = parser_->get();
    if (header.version() >= 11 && header.find(http::field::host) == header.end()) {
      return WriteError(400, "Missing Host header");
    }
    Arm(core_->options.body_timeout, Phase::kBody);
    auto expect = header.find(http::field::expect);
    if (expect != header.end() && beast::iequals(expect->value(), "100-continue")) {
      auto cont = std::make_shared<http::response<http::empty_body>>(http::status::continue_,
                                                                     header.version());
      http::async_write(stream_, *cont,
                        [self = this->shared_from_this(), cont](error_code ec, size_t) {
                          if (ec) return self->OnBodyError(ec);
                          self->ReadBody();
                        });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    // A small request's body usually came with its header: parse what is
    // buffered now and read only when more is needed (an asynchronous read
    // completes through the io_context's queue, which wakes another io
    // thread even when there is nothing to read).
    while (!parser_->is_done() && buffer_.size() > 0) {
      error_code ec;
      const size_t used = parser_->put(buffer_.data(), ec);
      buffer_.consume(used);
      if (ec == http::error::need_more || (!ec && used == 0)) break;
      if (ec) return OnBodyError(ec);
    }
    if (parser_->is_done()) {
      Disarm();
      return Dispatch();
    }
    http::async_read(stream_, buffer_, *parser_,
                     [self = this->shared_from_this()](error_code ec, size_t) {
                       if (ec) return self->OnBodyError(ec);
                       self->Disarm();
                       self->Dispatch();
                     });
  }

  void OnBodyError(error_code ec) {
    if (timed_out_) {
      return WriteError(408, "Timed out reading the request body (limit " +
                                 Seconds(core_->options.body_timeout) + ")");
    }
    OnReadError(ec);
  }

  static std::string Seconds(std::chrono::milliseconds d) {
    if (d.count() % 1000 == 0) return std::to_string(d.count() / 1000) + " s";
    return std::to_string(d.count()) + " ms";
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
    Status escapes = CheckPercentEncoding(target);
    if (!escapes.ok()) return WriteError(400, escapes.message());
    request->path = std::string(target);
    request->headers.reserve(std::distance(message.begin(), message.end()));
    for (const auto& field : message) {
      request->headers.emplace_back(ToLower({field.name_string().data(), field.name_string().size()}),
                                    std::string(field.value()));
    }
    request->body = std::move(message.body());
    state_ = State::kHandling;
    reply_coding_ = ContentCoding::kIdentity;
    if (std::optional<HttpResponse> refused = DecodeContent(*request)) {
      return Write(std::move(*refused));
    }
    if (const std::string* accept = request->header("accept-encoding")) {
      reply_coding_ = ChooseReplyCoding(*accept);
    }

    auto responder = std::make_shared<Responder>(this->shared_from_this());
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

  // Inflates a body sent with Content-Encoding (http_encoding.h) in place and
  // drops the header, so handlers only ever see plain bodies. The answer
  // when that fails: 415 (unknown coding, with Accept-Encoding listing the
  // known ones, as Triton), 413 (inflates past max_body_bytes) or 400
  // (corrupt). The body was read whole, so the connection stays usable.
  std::optional<HttpResponse> DecodeContent(HttpRequest& request) {
    std::string value;
    size_t count = 0;
    for (const auto& [name, v] : request.headers) {
      if (name != "content-encoding") continue;
      value += (count++ > 0 ? ", " : "") + v;
    }
    if (count == 0) return std::nullopt;
    Result<ContentCoding> coding = ParseContentEncoding(value);
    if (!coding.ok()) {
      HttpResponse response = ErrorResponse(415, coding.status().message());
      response.headers.emplace_back("Accept-Encoding", "gzip, deflate");
      return response;
    }
    if (*coding != ContentCoding::kIdentity) {
      Result<std::string> body = Decompress(*coding, request.body, core_->options.max_body_bytes);
      if (!body.ok()) {
        const bool too_large = body.status().code() == StatusCode::kResourceExhausted;
        return ErrorResponse(too_large ? 413 : 400, body.status().message());
      }
      request.body = std::move(*body);
    }
    auto& h = request.headers;
    h.erase(std::remove_if(h.begin(), h.end(),
                           [](const auto& kv) { return kv.first == "content-encoding"; }),
            h.end());
    return std::nullopt;
  }

  // Compresses a handler's reply when the request accepted gzip or deflate
  // and the body is at least kMinCompressedReplyBytes (and not coded yet).
  void EncodeReply(HttpResponse& response) const {
    if (reply_coding_ == ContentCoding::kIdentity ||
        response.body.size() < kMinCompressedReplyBytes) {
      return;
    }
    for (const auto& [name, value] : response.headers) {
      if (beast::iequals(name, "content-encoding")) return;
    }
    Result<std::string> compressed = Compress(reply_coding_, response.body);
    if (!compressed.ok()) return;  // zlib out of memory: send it plain
    response.body = std::move(*compressed);
    response.headers.emplace_back("Content-Encoding", ContentCodingName(reply_coding_));
    response.headers.emplace_back("Vary", "Accept-Encoding");
  }

  void Write(HttpResponse response) {
    if (state_ != State::kHandling) return;  // closed meanwhile
    EncodeReply(response);
    bool close = !keep_alive_ || core_->closes_after_response();
    WriteResponse(std::move(response), close ? AfterWrite::kClose : AfterWrite::kNextRequest);
  }

  // Answers an error the server found itself; the connection then lingers
  // and closes.
  void WriteError(int status, std::string message) {
    Disarm();
    version_ = 11;
    WriteResponse(ErrorResponse(status, message), AfterWrite::kLinger);
  }

  enum class AfterWrite { kNextRequest, kClose, kLinger };

  void WriteResponse(HttpResponse response, AfterWrite after) {
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
    out->keep_alive(after == AfterWrite::kNextRequest);
    out->prepare_payload();
    state_ = State::kWriting;
    http::async_write(stream_, *out, [self = this->shared_from_this(), out, after](error_code ec, size_t) {
      if (ec || after == AfterWrite::kClose) return self->Close();
      if (after == AfterWrite::kLinger) return self->Linger();
      self->ReadHeader();
    });
  }

  // Stops sending (the client sees the end of the answer), then reads and
  // drops what the client still sends until it closes or kLingerTime passes:
  // closing with unread bytes would reset the connection, and the client
  // could lose the answer.
  void Linger() {
    state_ = State::kLingering;
    Uncount();
    error_code ignored;
    socket().shutdown(tcp::socket::shutdown_send, ignored);
    Arm(kLingerTime, Phase::kLinger);
    Drain();
  }

  void Drain() {
    socket().async_read_some(net::buffer(drain_buffer_),
                             [self = this->shared_from_this()](error_code ec, size_t) {
                               if (self->state_ != State::kLingering) return;
                               if (ec) return self->Close();
                               self->Drain();
                             });
  }

  // The connection counts as open (for Shutdown) until closed, even while a
  // handler still holds its respond function.
  void Close() {
    if (state_ == State::kClosed) return;
    state_ = State::kClosed;
    StopTimer();
    error_code ignored;
    socket().shutdown(tcp::socket::shutdown_send, ignored);
    socket().close(ignored);
    Unregister();
  }

  void Unregister() {
    std::lock_guard lock(core_->mu);
    if (core_->sessions.erase(id_) > 0) {
      if (counted_) --core_->serving;
      counted_ = false;
      core_->cv.notify_all();
    }
  }

  // A lingering connection serves no more requests: it leaves the count the
  // connection limit is checked against (it stays open for Shutdown).
  void Uncount() {
    std::lock_guard lock(core_->mu);
    if (counted_ && core_->sessions.count(id_) > 0) --core_->serving;
    counted_ = false;
  }

  std::shared_ptr<ServerCore> core_;  // first member: destroyed after stream_
  uint64_t id_ = 0;
  Stream stream_;
  Timer timer_;
  uint64_t timer_generation_ = 0;  // of the wait whose handler counts
  bool timer_waiting_ = false;      // a wait whose handler counts is pending
  std::chrono::steady_clock::time_point deadline_ = std::chrono::steady_clock::time_point::max();
  Phase phase_ = Phase::kHeader;
  bool timed_out_ = false;  // the armed timer fired and cancelled the read
  const bool refuse_;
  bool counted_;  // GUARDED_BY(core_->mu): counted in core_->serving
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  State state_ = State::kHandshake;
  unsigned version_ = 11;
  bool keep_alive_ = false;
  ContentCoding reply_coding_ = ContentCoding::kIdentity;  // of the request being handled
  std::array<char, 4096> drain_buffer_;
};

}  // namespace internal_http

namespace {

// Refused connections still being answered beyond this many are closed at
// accept without an answer, so a flood cannot hold descriptors through them.
constexpr size_t kMaxRefusedInFlight = 64;

void StartSession(const std::shared_ptr<ServerCore>& core, internal_http::Socket socket) {
  bool refuse = false;
  {
    std::lock_guard lock(core->mu);
    if (core->serving >= core->options.max_connections) {
      if (core->sessions.size() - core->serving >= kMaxRefusedInFlight) return;  // closes `socket`
      refuse = true;
    }
  }
  if (core->ssl) {
    std::make_shared<internal_http::Session<internal_http::TlsStream>>(core, refuse, std::move(socket),
                                                                      *core->ssl)
        ->Start();
  } else {
    std::make_shared<internal_http::Session<internal_http::PlainStream>>(core, refuse, std::move(socket))
        ->Start();
  }
}

void Accept(std::shared_ptr<ServerCore> core) {
  core->acceptor.async_accept(core->next_context().get_executor(), [core](error_code ec,
                                                                         internal_http::Socket socket) {
    if (!core->acceptor.is_open()) return;
    if (ec) {
      TLOG_WARN("HTTP accept failed: {}", ec.message());
      // Out of descriptors: the connection stays queued; retry in a while
      // instead of spinning on the same error.
      auto timer = std::make_shared<net::steady_timer>(core->acceptor.get_executor(),
                                                       std::chrono::milliseconds(100));
      timer->async_wait([core, timer](error_code) { Accept(core); });
      return;
    }
    error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    StartSession(core, std::move(socket));
    Accept(core);
  });
}

// The server's TLS context for `files` (already checked by CheckTlsFiles).
Result<std::unique_ptr<net::ssl::context>> MakeTlsContext(const TlsFiles& files) {
  auto ctx = std::make_unique<net::ssl::context>(net::ssl::context::tls_server);
  error_code ec;
  ctx->set_options(net::ssl::context::default_workarounds | net::ssl::context::no_sslv2 |
                       net::ssl::context::no_sslv3 | net::ssl::context::no_tlsv1 |
                       net::ssl::context::no_tlsv1_1 | net::ssl::context::single_dh_use,
                   ec);
  if (!ec) ctx->use_certificate_chain_file(files.cert_file, ec);
  if (!ec) ctx->use_private_key_file(files.key_file, net::ssl::context::pem, ec);
  if (!ec && !files.client_ca_file.empty()) {
    ctx->load_verify_file(files.client_ca_file, ec);
    if (!ec) {
      ctx->set_verify_mode(net::ssl::verify_peer | net::ssl::verify_fail_if_no_peer_cert, ec);
    }
  }
  if (ec) return InvalidArgument("Cannot set up REST TLS: " + ec.message());
  return ctx;
}

Status ValidateOptions(const HttpServerOptions& o) {
  if (o.port < 0 || o.port > 65535) return InvalidArgument("Invalid REST port " + std::to_string(o.port));
  if (o.num_threads < 1) return InvalidArgument("REST workers must be at least 1");
  if (o.max_body_bytes == 0) return InvalidArgument("REST body limit must be positive");
  if (o.max_header_bytes == 0) return InvalidArgument("REST header limit must be positive");
  if (o.header_timeout.count() <= 0) return InvalidArgument("REST header timeout must be positive");
  if (o.body_timeout.count() <= 0) return InvalidArgument("REST body timeout must be positive");
  if (o.max_connections == 0) return InvalidArgument("REST connection limit must be positive");
  return Status::Ok();
}

}  // namespace

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
  if (options_.tls.enabled()) {
    TESSERA_RETURN_IF_ERROR(CheckTlsFiles(options_.tls));
    TESSERA_ASSIGN_OR_RETURN(core_->ssl, MakeTlsContext(options_.tls));
  }
  const std::string where = FormatEndpoint(options_.address, options_.port);

  error_code ec;
  tcp::resolver resolver(*core_->iocs.front());
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

  for (auto& ioc : core_->iocs) core_->work.push_back(net::make_work_guard(*ioc));
  Accept(core_);
  for (auto& ioc : core_->iocs) {
    core_->threads.emplace_back([ioc = ioc.get()] {
      for (;;) {
        try {
          ioc->run();
          return;
        } catch (const std::exception& e) {
          TLOG_ERROR("HTTP io thread caught: {}", e.what());
        }
      }
    });
  }
  return Status::Ok();
}

void HttpServer::BeginDrain() {
  std::lock_guard lock(core_->mu);
  core_->draining = true;
}

void HttpServer::Shutdown(std::chrono::steady_clock::time_point deadline) {
  if (!started_ || shut_down_) return;
  shut_down_ = true;
  ServerCore& core = *core_;

  auto live_sessions = [&core] {
    std::vector<std::shared_ptr<internal_http::SessionBase>> out;
    for (auto& [id, weak] : core.sessions) {
      if (auto s = weak.lock()) out.push_back(std::move(s));
    }
    return out;
  };

  std::vector<std::shared_ptr<internal_http::SessionBase>> sessions;
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

  core.work.clear();
  for (auto& thread : core.threads) thread.join();
  core.threads.clear();
}

}  // namespace tessera::transport
