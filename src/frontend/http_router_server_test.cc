// The router behind a real HttpServer: status codes and bodies as a client
// sees them on the wire.
#include <gtest/gtest.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "frontend/http_router.h"
#include "transport/http_server.h"
#include "transport/url_path.h"

namespace tessera::frontend {
namespace {

namespace http = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using transport::HttpRequest;
using transport::HttpResponse;

// GET /hello/{name} -> "hello name", routed as the REST frontends route: on
// the raw path split into decoded segments.
class HelloFrontend : public RestFrontend {
 public:
  RouteResult Route(const HttpRequest& request) const override {
    auto segments = transport::SplitUrlPath(request.path);
    if (!segments.ok() || segments->size() != 2 || !std::regex_match((*segments)[0].text, pattern_)) {
      return RouteResult::NoMatch();
    }
    if (request.method != "GET") return RouteResult::WrongMethod("GET");
    std::string name = (*segments)[1].text;
    return RouteResult::Matched([name](std::shared_ptr<const HttpRequest>, transport::HttpRespond respond) {
      HttpResponse r;
      r.content_type = "text/plain";
      r.body = "hello " + name;
      respond(std::move(r));
    });
  }

 private:
  std::regex pattern_ = UrlRegex("hello");
};

TEST(HttpRouterServerTest, StatusCodesOnTheWire) {
  HelloFrontend frontend;
  HttpRouter router;
  router.Add(&frontend);
  transport::HttpServerOptions options;
  options.address = "127.0.0.1";
  transport::HttpServer server(options, router.AsHandler());
  ASSERT_TRUE(server.Start().ok());

  net::io_context ioc;
  tcp::socket socket(ioc);
  socket.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), static_cast<uint16_t>(server.port())));
  boost::beast::flat_buffer buffer;
  auto call = [&](http::verb verb, const std::string& target) {
    http::request<http::string_body> request(verb, target, 11);
    request.set(http::field::host, "localhost");
    request.prepare_payload();
    http::write(socket, request);
    http::response<http::string_body> response;
    http::read(socket, buffer, response);
    return response;
  };
  // All on one kept-alive connection, errors included.
  auto ok = call(http::verb::get, "/HELLO/W%C3%B6rld?x=1");
  EXPECT_EQ(ok.result_int(), 200u);
  EXPECT_EQ(ok.body(), "hello W\xc3\xb6rld");
  auto missing = call(http::verb::get, "/nope");
  EXPECT_EQ(missing.result_int(), 404u);
  EXPECT_EQ(missing[http::field::content_type], "application/json");
  EXPECT_EQ(missing.body(), R"({"error":"Not Found: /nope"})");
  auto wrong = call(http::verb::post, "/hello/x");
  EXPECT_EQ(wrong.result_int(), 405u);
  EXPECT_EQ(wrong[http::field::allow], "GET");
  EXPECT_EQ(wrong.body(), R"({"error":"Method not allowed: POST"})");
  EXPECT_TRUE(wrong.keep_alive());
  EXPECT_EQ(call(http::verb::get, "/hello/again").body(), "hello again");
  // An escaped '/' is part of the name, not a separator.
  EXPECT_EQ(call(http::verb::get, "/hello/a%2Fb").body(), "hello a/b");
  auto deeper = call(http::verb::get, "/hello/a/b");
  EXPECT_EQ(deeper.result_int(), 404u);
  EXPECT_EQ(deeper.body(), R"({"error":"Not Found: /hello/a/b"})");
}

}  // namespace
}  // namespace tessera::frontend
