#include "frontend/http_router.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>

namespace tessera::frontend {
namespace {

using transport::HttpRequest;
using transport::HttpResponse;

// Answers GET /a/{x} with 200 and body x; knows POST-only /b.
class TestFrontend : public RestFrontend {
 public:
  RouteResult Route(const HttpRequest& request) const override {
    std::smatch m;
    if (std::regex_match(request.path, m, a_)) {
      if (request.method != "GET") return RouteResult::WrongMethod("GET");
      std::string x = m[1];
      return RouteResult::Matched([x](std::shared_ptr<const HttpRequest>, transport::HttpRespond respond) {
        HttpResponse response;
        response.body = x;
        respond(std::move(response));
      });
    }
    if (std::regex_match(request.path, b_)) {
      if (request.method != "POST") return RouteResult::WrongMethod("POST");
      return RouteResult::Matched([](std::shared_ptr<const HttpRequest>, transport::HttpRespond respond) {
        respond(HttpResponse{201, "text/plain", {}, "b"});
      });
    }
    return RouteResult::NoMatch();
  }

 private:
  std::regex a_ = UrlRegex("/a/([^/]+)");
  std::regex b_ = UrlRegex("/b");
};

HttpResponse Call(const HttpRouter& router, std::string method, std::string path) {
  auto request = std::make_shared<HttpRequest>();
  request->method = std::move(method);
  request->path = std::move(path);
  std::optional<HttpResponse> out;
  int calls = 0;
  router.Handle(request, [&](HttpResponse r) {
    ++calls;
    out = std::move(r);
  });
  EXPECT_EQ(calls, 1);
  return out.value_or(HttpResponse{});
}

std::string Header(const HttpResponse& r, const std::string& name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "";
}

TEST(HttpRouterTest, DispatchesCaseInsensitively) {
  TestFrontend frontend;
  HttpRouter router;
  router.Add(&frontend);
  HttpResponse r = Call(router, "GET", "/A/Model");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "Model");
  r = Call(router, "POST", "/B");
  EXPECT_EQ(r.status, 201);
}

TEST(HttpRouterTest, UnknownUrlIs404WithJsonError) {
  TestFrontend frontend;
  HttpRouter router;
  router.Add(&frontend);
  HttpResponse r = Call(router, "GET", "/nope");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_EQ(r.body, R"({"error":"Not Found: /nope"})");
  r = Call(router, "GET", "/a/x/y");
  EXPECT_EQ(r.status, 404);
}

TEST(HttpRouterTest, WrongMethodIs405WithAllow) {
  TestFrontend frontend;
  HttpRouter router;
  router.Add(&frontend);
  HttpResponse r = Call(router, "DELETE", "/a/m");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(Header(r, "Allow"), "GET");
  EXPECT_NE(r.body.find("\"error\""), std::string::npos);
  r = Call(router, "GET", "/b");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(Header(r, "Allow"), "POST");
}

TEST(HttpRouterTest, LaterFrontendMatchBeatsEarlierWrongMethod) {
  TestFrontend first, second;
  HttpRouter router;
  router.Add(&first);
  router.Add(&second);
  EXPECT_EQ(Call(router, "GET", "/a/z").status, 200);
  HttpRouter empty;
  EXPECT_EQ(Call(empty, "GET", "/a/z").status, 404);
}

TEST(JsonErrorTest, EscapesMessage) {
  HttpResponse r = JsonError(400, "bad \"x\"\n");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body, R"({"error":"bad \"x\"\n"})");
}

}  // namespace
}  // namespace tessera::frontend
