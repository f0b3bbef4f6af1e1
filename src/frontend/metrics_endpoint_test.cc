#include "frontend/metrics_endpoint.h"

#include <gtest/gtest.h>

namespace tessera::frontend {
namespace {

transport::HttpRequest Request(std::string method, std::string path) {
  transport::HttpRequest request;
  request.method = std::move(method);
  request.path = std::move(path);
  return request;
}

TEST(MetricsEndpointTest, GetServesTheTextFormat) {
  auto metrics = metrics::ServingMetrics::Create({"ovms_streams"});
  ASSERT_TRUE(metrics.ok());
  (*metrics)->ForVersion("m", 1).Started(3);
  MetricsEndpoint endpoint(**metrics);
  RouteResult route = endpoint.Route(Request("GET", "/metrics"));
  ASSERT_EQ(route.match, RouteMatch::kMatched);
  transport::HttpResponse response;
  route.handler(std::make_shared<transport::HttpRequest>(), [&](transport::HttpResponse r) {
    response = std::move(r);
  });
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.content_type, "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(response.body.find("ovms_streams{name=\"m\",version=\"1\"} 3\n"), std::string::npos)
      << response.body;
}

TEST(MetricsEndpointTest, OtherMethodsAndPaths) {
  auto metrics = metrics::ServingMetrics::Create({});
  ASSERT_TRUE(metrics.ok());
  MetricsEndpoint endpoint(**metrics);
  RouteResult post = endpoint.Route(Request("POST", "/metrics"));
  EXPECT_EQ(post.match, RouteMatch::kWrongMethod);
  EXPECT_EQ(post.allow, "GET");
  EXPECT_EQ(endpoint.Route(Request("GET", "/metrics/x")).match, RouteMatch::kNoMatch);
  EXPECT_EQ(endpoint.Route(Request("GET", "/v2/metrics")).match, RouteMatch::kNoMatch);
}

}  // namespace
}  // namespace tessera::frontend
