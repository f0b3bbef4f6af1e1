#include "frontend/metrics_endpoint.h"

#include "metrics/text_encoder.h"

namespace tessera::frontend {

RouteResult MetricsEndpoint::Route(const transport::HttpRequest& request) const {
  if (request.path != "/metrics") return RouteResult::NoMatch();
  if (request.method != "GET") return RouteResult::WrongMethod("GET");
  return RouteResult::Matched(
      [this](std::shared_ptr<const transport::HttpRequest>, transport::HttpRespond respond) {
        transport::HttpResponse response;
        response.content_type = metrics::kTextContentType;
        response.body = metrics_.Render();
        respond(std::move(response));
      });
}

}  // namespace tessera::frontend
