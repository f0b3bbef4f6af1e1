#include "frontend/http_router.h"

#include <utility>

namespace tessera::frontend {

void HttpRouter::Add(const RestFrontend* frontend) { frontends_.push_back(frontend); }

void HttpRouter::Handle(std::shared_ptr<const transport::HttpRequest> request,
                        transport::HttpRespond respond) const {
  std::string allow;
  for (const RestFrontend* frontend : frontends_) {
    RouteResult result = frontend->Route(*request);
    if (result.match == RouteMatch::kMatched) {
      result.handler(std::move(request), std::move(respond));
      return;
    }
    if (result.match == RouteMatch::kWrongMethod && allow.empty()) {
      allow = std::move(result.allow);
    }
  }
  if (!allow.empty()) {
    transport::HttpResponse response = JsonError(405, "Method not allowed: " + request->method);
    response.headers.emplace_back("Allow", std::move(allow));
    respond(std::move(response));
    return;
  }
  respond(JsonError(404, "Not Found: " + request->path));
}

transport::HttpHandler HttpRouter::AsHandler() const {
  return [this](std::shared_ptr<const transport::HttpRequest> request,
                transport::HttpRespond respond) { Handle(std::move(request), std::move(respond)); };
}

}  // namespace tessera::frontend
