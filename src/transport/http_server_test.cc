#include "transport/http_server.h"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "transport/http_encoding.h"

namespace tessera::transport {
namespace {

namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;

// A blocking HTTP client on one connection.
class Client {
 public:
  explicit Client(int port) : socket_(ioc_) {
    socket_.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), static_cast<uint16_t>(port)));
  }

  void SendRaw(const std::string& bytes) { net::write(socket_, net::buffer(bytes)); }
  // False once the server has closed (or reset) the connection.
  bool TrySendRaw(const std::string& bytes) {
    beast::error_code ec;
    net::write(socket_, net::buffer(bytes), ec);
    return !ec;
  }

  void Send(http::verb method, const std::string& target, std::string body = "",
            std::vector<std::pair<std::string, std::string>> headers = {}) {
    http::request<http::string_body> request(method, target, 11);
    request.set(http::field::host, "localhost");
    for (auto& [k, v] : headers) request.set(k, v);
    request.body() = std::move(body);
    request.prepare_payload();
    http::write(socket_, request);
  }

  // Reads one response; status 0 when the connection was closed instead.
  http::response<http::string_body> Read() {
    http::response<http::string_body> response;
    beast::error_code ec;
    http::read(socket_, buffer_, response, ec);
    if (ec) response.result(0);
    return response;
  }

  http::response<http::string_body> Call(http::verb method, const std::string& target,
                                         std::string body = "") {
    Send(method, target, std::move(body));
    return Read();
  }

  // True when the server has closed the connection (EOF within `timeout`).
  bool ClosedByPeer() {
    char byte;
    beast::error_code ec;
    socket_.read_some(net::buffer(&byte, 1), ec);
    return ec == net::error::eof || ec == net::error::connection_reset;
  }

  void Close() { socket_.close(); }

 private:
  net::io_context ioc_;
  tcp::socket socket_;
  beast::flat_buffer buffer_;
};

// Echoes the request: body "METHOD path?query|header x-test|body".
void EchoHandler(std::shared_ptr<const HttpRequest> request, HttpRespond respond) {
  HttpResponse response;
  response.content_type = "text/plain";
  const std::string* header = request->header("x-test");
  response.body = request->method + " " + request->path + "?" + request->query + "|" +
                  (header ? *header : "") + "|" + request->body;
  response.headers.emplace_back("X-Reply", "yes");
  respond(std::move(response));
}

std::unique_ptr<HttpServer> StartServer(HttpHandler handler, HttpServerOptions options = {}) {
  options.address = "127.0.0.1";
  options.port = 0;
  auto server = std::make_unique<HttpServer>(options, std::move(handler));
  Status status = server->Start();
  EXPECT_TRUE(status.ok()) << status.ToString();
  EXPECT_GT(server->port(), 0);
  return server;
}

bool WaitFor(const std::function<bool()>& condition, std::chrono::milliseconds timeout = 5s) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return condition();
}

TEST(HttpServerTest, PassesRawPathAndWritesResponse) {
  auto server = StartServer(EchoHandler);
  Client client(server->port());
  // The path stays raw: "%2F" and "%3A" are data the frontends decode per
  // segment, not separators.
  client.Send(http::verb::post, "/v2/models/my%20model%2Fx%3Ay/infer?a=1&b=%20", "payload",
              {{"X-Test", "Value"}});
  auto response = client.Read();
  EXPECT_EQ(response.result_int(), 200u);
  EXPECT_EQ(response.body(), "POST /v2/models/my%20model%2Fx%3Ay/infer?a=1&b=%20|Value|payload");
  EXPECT_EQ(response[http::field::content_type], "text/plain");
  EXPECT_EQ(response["X-Reply"], "yes");
  EXPECT_TRUE(response.keep_alive());
  EXPECT_EQ(server->endpoint(), "127.0.0.1:" + std::to_string(server->port()));
}

TEST(HttpServerTest, KeepAliveServesManyRequestsOnOneConnection) {
  auto server = StartServer(EchoHandler);
  Client client(server->port());
  for (int i = 0; i < 5; ++i) {
    auto response = client.Call(http::verb::get, "/x" + std::to_string(i));
    ASSERT_EQ(response.result_int(), 200u);
    EXPECT_EQ(response.body(), "GET /x" + std::to_string(i) + "?||");
  }
  EXPECT_EQ(server->connection_count(), 1u);
  // Pipelined: two requests written before reading either.
  client.SendRaw("GET /p1 HTTP/1.1\r\nHost: h\r\n\r\nGET /p2 HTTP/1.1\r\nHost: h\r\n\r\n");
  EXPECT_EQ(client.Read().body(), "GET /p1?||");
  EXPECT_EQ(client.Read().body(), "GET /p2?||");
}

TEST(HttpServerTest, ConnectionCloseAndHttp10AreHonoured) {
  auto server = StartServer(EchoHandler);
  Client client(server->port());
  client.SendRaw("GET /a HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
  auto response = client.Read();
  EXPECT_EQ(response.result_int(), 200u);
  EXPECT_FALSE(response.keep_alive());
  EXPECT_TRUE(client.ClosedByPeer());

  Client old(server->port());
  old.SendRaw("GET /b HTTP/1.0\r\n\r\n");
  response = old.Read();
  EXPECT_EQ(response.result_int(), 200u);
  EXPECT_EQ(response.version(), 10u);
  EXPECT_TRUE(old.ClosedByPeer());
}

TEST(HttpServerTest, DrainAnswersEveryRequestAndClosesItsConnection) {
  auto server = StartServer(EchoHandler);
  Client before(server->port());  // a keep-alive connection opened before the drain
  ASSERT_TRUE(before.Call(http::verb::get, "/a").keep_alive());

  server->BeginDrain();
  auto response = before.Call(http::verb::get, "/b");
  EXPECT_EQ(response.result_int(), 200u);
  EXPECT_EQ(response.body(), "GET /b?||");
  EXPECT_FALSE(response.keep_alive());  // "Connection: close"
  EXPECT_TRUE(before.ClosedByPeer());

  // New connections are still accepted and answered, once each.
  Client after(server->port());
  response = after.Call(http::verb::post, "/c", "body");
  EXPECT_EQ(response.result_int(), 200u);
  EXPECT_EQ(response.body(), "POST /c?||body");
  EXPECT_FALSE(response.keep_alive());
  EXPECT_TRUE(after.ClosedByPeer());
}

TEST(HttpServerTest, BodyOverLimitIs413BeforeTheBodyIsSent) {
  HttpServerOptions options;
  options.max_body_bytes = 1000;
  std::atomic<int> calls{0};
  auto server = StartServer(
      [&](std::shared_ptr<const HttpRequest> r, HttpRespond respond) {
        ++calls;
        EchoHandler(r, respond);
      },
      options);
  {
    Client client(server->port());
    client.SendRaw("POST /big HTTP/1.1\r\nHost: h\r\nContent-Length: 1001\r\n\r\n");
    auto response = client.Read();
    EXPECT_EQ(response.result_int(), 413u);
    EXPECT_EQ(response[http::field::content_type], "application/json");
    EXPECT_EQ(response.body(), R"({"error":"Request body is larger than the limit of 1000 bytes"})");
    EXPECT_TRUE(client.ClosedByPeer());
  }
  {
    // Chunked bodies are counted as they arrive.
    Client client(server->port());
    client.SendRaw("POST /big HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n" "3e8\r\n" +
                   std::string(1000, 'a') + "\r\n1\r\nb\r\n0\r\n\r\n");
    EXPECT_EQ(client.Read().result_int(), 413u);
  }
  // Exactly at the limit is fine.
  Client client(server->port());
  auto response = client.Call(http::verb::post, "/ok", std::string(1000, 'x'));
  EXPECT_EQ(response.result_int(), 200u);
  EXPECT_EQ(calls.load(), 1);
}

TEST(HttpServerTest, CompressedBodiesAreInflatedAndRepliesCompressed) {
  HttpServerOptions options;
  options.max_body_bytes = 4096;
  auto server = StartServer(EchoHandler, options);
  Client client(server->port());
  const std::string body(3000, 'b');
  // The handler sees the plain body and no Content-Encoding; the reply (over
  // 1 KiB) comes back gzip-compressed because the request accepts it.
  client.Send(http::verb::post, "/p", *Compress(ContentCoding::kGzip, body),
              {{"Content-Encoding", "gzip"}, {"Accept-Encoding", "gzip"}});
  auto r = client.Read();
  EXPECT_EQ(r.result_int(), 200);
  EXPECT_EQ(r["Content-Encoding"], "gzip");
  EXPECT_EQ(r["Vary"], "Accept-Encoding");
  EXPECT_EQ(*Decompress(ContentCoding::kGzip, r.body(), 1 << 20), "POST /p?||" + body);
  // Small replies stay plain; deflate bodies work too.
  client.Send(http::verb::post, "/p", *Compress(ContentCoding::kDeflate, "abc"),
              {{"Content-Encoding", "deflate"}, {"Accept-Encoding", "gzip"}});
  r = client.Read();
  EXPECT_EQ(r.result_int(), 200);
  EXPECT_EQ(r.count("Content-Encoding"), 0u);
  EXPECT_EQ(r.body(), "POST /p?||abc");
  // Errors answer that request only: the connection serves the next one.
  client.Send(http::verb::post, "/p", "x", {{"Content-Encoding", "br"}});
  r = client.Read();
  EXPECT_EQ(r.result_int(), 415);
  EXPECT_EQ(r["Accept-Encoding"], "gzip, deflate");
  EXPECT_EQ(r.body(), R"({"error":"Unsupported Content-Encoding 'br'; supported: gzip, deflate, identity"})");
  client.Send(http::verb::post, "/p", "not gzip", {{"Content-Encoding", "gzip"}});
  r = client.Read();
  EXPECT_EQ(r.result_int(), 400);
  EXPECT_EQ(r.body(), R"({"error":"Invalid gzip request body: incorrect header check"})");
  client.Send(http::verb::post, "/p", *Compress(ContentCoding::kGzip, std::string(5000, 'z')),
              {{"Content-Encoding", "gzip"}});
  r = client.Read();
  EXPECT_EQ(r.result_int(), 413);
  EXPECT_EQ(r.body(), R"({"error":"Decompressed request body is larger than the limit of 4096 bytes"})");
  // Two Content-Encoding lines are a list of codings: not supported.
  client.SendRaw("POST /p HTTP/1.1\r\nHost: h\r\nContent-Encoding: gzip\r\n"
                 "Content-Encoding: gzip\r\nContent-Length: 1\r\n\r\nx");
  EXPECT_EQ(client.Read().result_int(), 415);
  EXPECT_EQ(client.Call(http::verb::get, "/ok").body(), "GET /ok?||");
}

TEST(HttpServerTest, MalformedRequestsAre400) {
  auto server = StartServer(EchoHandler);
  for (std::string bad : {"GARBAGE\r\n\r\n", "GET /x HTTP/1.1\r\nBad Header\r\n\r\n",
                          "GET /a%zz HTTP/1.1\r\nHost: h\r\n\r\n",
                          "POST /x HTTP/1.1\r\nContent-Length: abc\r\n\r\n"}) {
    Client client(server->port());
    client.SendRaw(bad);
    auto response = client.Read();
    EXPECT_EQ(response.result_int(), 400u) << bad;
    EXPECT_NE(response.body().find("\"error\""), std::string::npos) << bad;
    EXPECT_TRUE(client.ClosedByPeer()) << bad;
  }
  HttpServerOptions small;
  small.max_header_bytes = 100;
  auto server2 = StartServer(EchoHandler, small);
  Client client(server2->port());
  client.SendRaw("GET /x HTTP/1.1\r\nX-Long: " + std::string(200, 'a') + "\r\n\r\n");
  EXPECT_EQ(client.Read().result_int(), 431u);
}

TEST(HttpServerTest, ExpectContinueIsAnswered) {
  auto server = StartServer(EchoHandler);
  Client client(server->port());
  client.SendRaw("POST /c HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n");
  auto interim = client.Read();
  EXPECT_EQ(interim.result_int(), 100u);
  client.SendRaw("abc");
  auto response = client.Read();
  EXPECT_EQ(response.result_int(), 200u);
  EXPECT_EQ(response.body(), "POST /c?||abc");
}

// Answers every request from another thread after `delay_ms` from the path.
class AsyncResponder {
 public:
  ~AsyncResponder() {
    for (auto& t : threads_) t.join();
  }
  HttpHandler handler() {
    return [this](std::shared_ptr<const HttpRequest> request, HttpRespond respond) {
      std::lock_guard lock(mu_);
      threads_.emplace_back([request, respond] {
        std::this_thread::sleep_for(std::chrono::milliseconds(std::stoi(request->path.substr(1))));
        HttpResponse response;
        response.body = request->path;
        respond(std::move(response));
      });
    };
  }

 private:
  std::mutex mu_;
  std::vector<std::thread> threads_;
};

TEST(HttpServerTest, ConcurrentRequestsCompleteFromOtherThreads) {
  AsyncResponder responder;
  HttpServerOptions options;
  options.num_threads = 2;
  auto server = StartServer(responder.handler(), options);
  std::vector<std::future<bool>> results;
  for (int c = 0; c < 8; ++c) {
    results.push_back(std::async(std::launch::async, [&, c] {
      Client client(server->port());
      bool ok = true;
      for (int i = 0; i < 5; ++i) {
        std::string path = "/" + std::to_string((c * 7 + i * 3) % 20);
        auto response = client.Call(http::verb::get, path);
        ok = ok && response.result_int() == 200u && response.body() == path;
      }
      return ok;
    }));
  }
  for (auto& r : results) EXPECT_TRUE(r.get());
}

// Each io thread has its own event loop: connections are dealt to the
// threads round robin and every request of a connection is handled on the
// thread it was accepted onto.
TEST(HttpServerTest, ConnectionsAreSpreadOverIoThreadsAndStayOnTheirs) {
  std::mutex mu;
  std::map<std::string, std::set<std::thread::id>> threads_of;  // by connection
  auto handler = [&](std::shared_ptr<const HttpRequest> request, HttpRespond respond) {
    {
      std::lock_guard lock(mu);
      threads_of[request->path].insert(std::this_thread::get_id());
    }
    HttpResponse response;
    response.body = "ok";
    respond(std::move(response));
  };
  HttpServerOptions options;
  options.num_threads = 2;
  auto server = StartServer(handler, options);
  Client first(server->port());
  Client second(server->port());
  for (int i = 0; i < 20; ++i) {
    ASSERT_EQ(first.Call(http::verb::get, "/first").result_int(), 200u);
    ASSERT_EQ(second.Call(http::verb::get, "/second").result_int(), 200u);
  }
  std::lock_guard lock(mu);
  ASSERT_EQ(threads_of["/first"].size(), 1u);
  ASSERT_EQ(threads_of["/second"].size(), 1u);
  EXPECT_NE(*threads_of["/first"].begin(), *threads_of["/second"].begin());
}

TEST(HttpServerTest, ClientDisconnectBeforeRespondIsHarmless) {
  std::mutex mu;
  std::vector<HttpRespond> held;
  auto server = StartServer([&](std::shared_ptr<const HttpRequest> request, HttpRespond respond) {
    if (request->path == "/hold") {
      std::lock_guard lock(mu);
      held.push_back(std::move(respond));
      return;
    }
    EchoHandler(request, respond);
  });
  {
    Client client(server->port());
    client.Send(http::verb::get, "/hold");
    ASSERT_TRUE(WaitFor([&] {
      std::lock_guard lock(mu);
      return held.size() == 1;
    }));
    client.Close();
  }
  std::this_thread::sleep_for(20ms);
  {
    std::lock_guard lock(mu);
    HttpResponse response;
    response.body = "late";
    held[0](std::move(response));
    held[0](HttpResponse{});  // a second call is ignored
    held.clear();
  }
  EXPECT_TRUE(WaitFor([&] { return server->connection_count() == 0; }));
  Client client(server->port());
  EXPECT_EQ(client.Call(http::verb::get, "/still").result_int(), 200u);
}

TEST(HttpServerTest, DroppedRespondIsAnswered500) {
  auto server = StartServer([](std::shared_ptr<const HttpRequest>, HttpRespond) {});
  Client client(server->port());
  auto response = client.Call(http::verb::get, "/x");
  EXPECT_EQ(response.result_int(), 500u);
  EXPECT_NE(response.body().find("not answered"), std::string::npos);
}

TEST(HttpServerTest, PortInUseIsUnavailableNamingAddressAndPort) {
  auto first = StartServer(EchoHandler);
  HttpServerOptions options;
  options.address = "127.0.0.1";
  options.port = first->port();
  HttpServer second(options, EchoHandler);
  Status status = second.Start();
  EXPECT_EQ(status.code(), StatusCode::kUnavailable);
  EXPECT_NE(status.message().find("127.0.0.1:" + std::to_string(first->port())), std::string::npos)
      << status.message();
}

TEST(HttpServerTest, RejectsBadOptions) {
  HttpServerOptions options;
  options.num_threads = 0;
  EXPECT_EQ(HttpServer(options, EchoHandler).Start().code(), StatusCode::kInvalidArgument);
  options = {};
  options.port = 70000;
  EXPECT_EQ(HttpServer(options, EchoHandler).Start().code(), StatusCode::kInvalidArgument);
  options = {};
  options.address = "no.such.host.invalid";
  EXPECT_EQ(HttpServer(options, EchoHandler).Start().code(), StatusCode::kInvalidArgument);
  HttpServer twice(HttpServerOptions{"127.0.0.1"}, EchoHandler);
  ASSERT_TRUE(twice.Start().ok());
  EXPECT_EQ(twice.Start().code(), StatusCode::kFailedPrecondition);
}

TEST(HttpServerTest, ShutdownFinishesInFlightAndClosesIdle) {
  std::mutex mu;
  std::vector<HttpRespond> held;
  auto server = StartServer([&](std::shared_ptr<const HttpRequest> request, HttpRespond respond) {
    if (request->path == "/hold") {
      std::lock_guard lock(mu);
      held.push_back(std::move(respond));
      return;
    }
    EchoHandler(request, respond);
  });
  const int port = server->port();
  Client idle(port);
  ASSERT_EQ(idle.Call(http::verb::get, "/warm").result_int(), 200u);
  Client busy(port);
  busy.Send(http::verb::get, "/hold");
  ASSERT_TRUE(WaitFor([&] {
    std::lock_guard lock(mu);
    return held.size() == 1;
  }));

  auto shutdown = std::async(std::launch::async, [&] {
    server->Shutdown(std::chrono::steady_clock::now() + 10s);
  });
  EXPECT_TRUE(idle.ClosedByPeer());
  // New connections are refused once the acceptor is closed.
  EXPECT_TRUE(WaitFor([&] {
    try {
      Client late(port);
      late.Send(http::verb::get, "/late");
      return late.Read().result_int() == 0;
    } catch (const std::exception&) {
      return true;
    }
  }));
  EXPECT_EQ(shutdown.wait_for(50ms), std::future_status::timeout);
  {
    std::lock_guard lock(mu);
    HttpResponse response;
    response.body = "finished";
    held[0](std::move(response));
  }
  auto response = busy.Read();
  EXPECT_EQ(response.result_int(), 200u);
  EXPECT_EQ(response.body(), "finished");
  EXPECT_FALSE(response.keep_alive());
  EXPECT_EQ(shutdown.wait_for(5s), std::future_status::ready);
}

TEST(HttpServerTest, ShutdownDeadlineDropsUnfinishedRequests) {
  std::mutex mu;
  std::vector<HttpRespond> held;
  auto server = StartServer([&](std::shared_ptr<const HttpRequest>, HttpRespond respond) {
    std::lock_guard lock(mu);
    held.push_back(std::move(respond));
  });
  Client client(server->port());
  client.Send(http::verb::get, "/hold");
  ASSERT_TRUE(WaitFor([&] {
    std::lock_guard lock(mu);
    return held.size() == 1;
  }));
  auto start = std::chrono::steady_clock::now();
  server->Shutdown(start + 100ms);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  EXPECT_EQ(client.Read().result_int(), 0u);  // closed without an answer
  std::lock_guard lock(mu);
  held[0](HttpResponse{});  // after shutdown: dropped, no crash
  held.clear();
  server.reset();
}

// The JSON error body of `response`, checked to be JSON.
std::string JsonError(const http::response<http::string_body>& response) {
  EXPECT_EQ(response[http::field::content_type], "application/json");
  return response.body();
}

TEST(HttpServerTest, MissingHostIs400ButHttp10NeedsNone) {
  auto server = StartServer(EchoHandler);
  Client client(server->port());
  client.SendRaw("POST /x HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc");
  auto response = client.Read();
  EXPECT_EQ(response.result_int(), 400u);
  EXPECT_EQ(JsonError(response), R"({"error":"Missing Host header"})");
  EXPECT_FALSE(response.keep_alive());
  EXPECT_TRUE(client.ClosedByPeer());

  Client old(server->port());
  old.SendRaw("GET /old HTTP/1.0\r\n\r\n");
  response = old.Read();
  EXPECT_EQ(response.result_int(), 200u);
  EXPECT_EQ(response.body(), "GET /old?||");
}

TEST(HttpServerTest, StalledBodyIs408AndClosed) {
  HttpServerOptions options;
  options.body_timeout = 300ms;
  std::atomic<int> calls{0};
  auto server = StartServer(
      [&](std::shared_ptr<const HttpRequest> r, HttpRespond respond) {
        ++calls;
        EchoHandler(r, respond);
      },
      options);
  for (const char* announced : {"100", "1073741824"}) {
    Client client(server->port());
    client.SendRaw(std::string("POST /v2/models/m/infer HTTP/1.1\r\nHost: h\r\nContent-Length: ") +
                   announced + "\r\n\r\n0123456789");
    auto response = client.Read();
    EXPECT_EQ(response.result_int(), 408u) << announced;
    EXPECT_EQ(JsonError(response), R"J({"error":"Timed out reading the request body (limit 300 ms)"})J");
    EXPECT_FALSE(response.keep_alive());
    EXPECT_TRUE(client.ClosedByPeer());
  }
  EXPECT_EQ(calls.load(), 0);
  EXPECT_TRUE(WaitFor([&] { return server->connection_count() == 0; }));
  // A body that arrives in time is served; the timer does not outlive it.
  Client client(server->port());
  EXPECT_EQ(client.Call(http::verb::post, "/ok", "body").body(), "POST /ok?||body");
  std::this_thread::sleep_for(400ms);
  EXPECT_EQ(client.Call(http::verb::post, "/again", "b").body(), "POST /again?||b");
}

TEST(HttpServerTest, SlowHeaderIs408AndIdleIsClosedSilently) {
  HttpServerOptions options;
  options.header_timeout = 300ms;
  auto server = StartServer(EchoHandler, options);
  {
    // Slowloris: a header line every 20 ms, never finished.
    Client client(server->port());
    client.SendRaw("GET /slow HTTP/1.1\r\nHost: h\r\n");
    std::atomic<bool> stop{false};
    std::thread trickle([&] {
      for (int i = 0; i < 500 && !stop; ++i) {
        if (!client.TrySendRaw("X-Slow-" + std::to_string(i) + ": y\r\n")) return;
        std::this_thread::sleep_for(20ms);
      }
    });
    auto response = client.Read();
    stop = true;
    trickle.join();
    EXPECT_EQ(response.result_int(), 408u);
    EXPECT_EQ(JsonError(response), R"J({"error":"Timed out reading the request header (limit 300 ms)"})J");
    EXPECT_TRUE(client.ClosedByPeer());
  }
  {
    // No byte at all: an idle connection, closed without an answer.
    Client client(server->port());
    EXPECT_EQ(client.Read().result_int(), 0u);
  }
  {
    // Between requests the same bound applies.
    Client client(server->port());
    EXPECT_EQ(client.Call(http::verb::get, "/one").result_int(), 200u);
    EXPECT_TRUE(client.ClosedByPeer());
  }
  EXPECT_TRUE(WaitFor([&] { return server->connection_count() == 0; }));
}

TEST(HttpServerTest, HeaderTimeoutRestartsWithEveryRequest) {
  // The connection keeps one timer wait across requests and moves its
  // deadline: requests 100 ms apart outlive a 500 ms header timeout, and
  // the connection still closes once it has been idle for one.
  HttpServerOptions options;
  options.header_timeout = 500ms;
  auto server = StartServer(EchoHandler, options);
  Client client(server->port());
  for (int i = 0; i < 10; ++i) {
    const std::string path = "/r" + std::to_string(i);
    EXPECT_EQ(client.Call(http::verb::get, path).body(), "GET " + path + "?||");
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_TRUE(client.ClosedByPeer());
  EXPECT_TRUE(WaitFor([&] { return server->connection_count() == 0; }));
}

TEST(HttpServerTest, ConnectionsOverTheLimitAre503AndClosed) {
  HttpServerOptions options;
  options.max_connections = 2;
  auto server = StartServer(EchoHandler, options);
  auto first = std::make_unique<Client>(server->port());
  Client second(server->port());
  ASSERT_EQ(first->Call(http::verb::get, "/1").result_int(), 200u);
  ASSERT_EQ(second.Call(http::verb::get, "/2").result_int(), 200u);
  {
    // Answered at once, without a request...
    Client third(server->port());
    auto response = third.Read();
    EXPECT_EQ(response.result_int(), 503u);
    EXPECT_EQ(JsonError(response), R"J({"error":"Too many connections (limit 2)"})J");
    EXPECT_FALSE(response.keep_alive());
    EXPECT_TRUE(third.ClosedByPeer());
  }
  {
    // ...and a client that sent one still reads the answer.
    Client third(server->port());
    third.Send(http::verb::post, "/3", std::string(100000, 'x'));
    EXPECT_EQ(third.Read().result_int(), 503u);
  }
  // The open ones keep working; once one closes, a new one is served.
  EXPECT_EQ(second.Call(http::verb::get, "/2b").result_int(), 200u);
  first.reset();
  ASSERT_TRUE(WaitFor([&] { return server->connection_count() == 1; }));
  Client fourth(server->port());
  EXPECT_EQ(fourth.Call(http::verb::get, "/4").result_int(), 200u);
}

}  // namespace
}  // namespace tessera::transport
