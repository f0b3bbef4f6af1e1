// bare_http_server: the HTTP baseline of the benchmark. HTTP/1.1 keep-alive
// on the same Boost.Beast library and the same threading as Tessera's REST
// server (N io threads, each running its own io_context; connections are
// spread over them round robin and stay on theirs, sockets typed on the
// io_context's executor), reading
// each request with its body and answering one fixed reply: no routing, no
// decoding, no model.
//
// Usage: bare_http_server --port P --reply FILE [--threads N]
//   FILE is the reply body (run_all.py saves the real server's reply to the
//   benchmark request), sent as application/json. Serves until SIGINT or
//   SIGTERM; prints "listening on <port>" once ready.
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "bare_server_util.h"

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

using Socket = asio::basic_stream_socket<tcp, asio::io_context::executor_type>;

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(Socket socket, const std::string& reply)
      : stream_(std::move(socket)), reply_(reply) {}

  void Start() {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->Read(); });
  }

 private:
  void Read() {
    parser_.emplace();
    parser_->body_limit(std::uint64_t{1} << 30);
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, size_t) {
                       if (!ec) self->Write();
                     });
  }

  void Write() {
    const auto& request = parser_->get();
    response_ = {};
    response_.version(request.version());
    response_.result(http::status::ok);
    response_.set(http::field::content_type, "application/json");
    response_.keep_alive(request.keep_alive());
    response_.body() = reply_;
    response_.prepare_payload();
    http::async_write(stream_, response_, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (!ec && self->response_.keep_alive()) self->Read();
    });
  }

  Socket stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> response_;
  const std::string& reply_;
};

using Contexts = std::vector<std::unique_ptr<asio::io_context>>;

void Accept(tcp::acceptor& acceptor, Contexts& contexts, size_t next, const std::string& reply) {
  asio::io_context& io = *contexts[next % contexts.size()];
  acceptor.async_accept(io.get_executor(), [&, next](beast::error_code ec, Socket socket) {
    if (ec) return;
    socket.set_option(tcp::no_delay(true));
    std::make_shared<Connection>(std::move(socket), reply)->Start();
    Accept(acceptor, contexts, next + 1, reply);
  });
}

}  // namespace

int main(int argc, char** argv) {
  const char* port_flag = bare::Flag(argc, argv, "--port");
  const char* threads_flag = bare::Flag(argc, argv, "--threads");
  const char* reply_path = bare::Flag(argc, argv, "--reply");
  int port = port_flag ? std::atoi(port_flag) : -1;
  int threads = threads_flag ? std::atoi(threads_flag)
                             : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  if (port < 0 || reply_path == nullptr || threads < 1) {
    std::fprintf(stderr, "usage: bare_http_server --port P --reply FILE [--threads N]\n");
    return 2;
  }
  const std::string reply = bare::ReadFile(reply_path);
  const sigset_t signals = bare::BlockStopSignals();

  Contexts contexts;
  for (int i = 0; i < threads; ++i) contexts.push_back(std::make_unique<asio::io_context>(1));
  tcp::acceptor acceptor(*contexts.front(),
                         {asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)});
  Accept(acceptor, contexts, 0, reply);
  std::vector<std::thread> pool;
  for (auto& io : contexts) {
    pool.emplace_back([io = io.get()] {
      auto work = asio::make_work_guard(*io);  // a context with no connection yet keeps running
      io->run();
    });
  }
  bare::ServeUntilSignal(signals, acceptor.local_endpoint().port());
  for (auto& io : contexts) io->stop();
  for (auto& t : pool) t.join();
  return 0;
}
