// HttpRouter: dispatches HTTP requests to the REST frontends (see
// rest_frontend.h for the contract each one implements).
//
// For each request the frontends are asked in the order they were added; the
// first kMatched wins. When none matches but some frontend knows the path
// with another method, the answer is 405 with an Allow header; otherwise 404.
// Both carry a JSON body {"error": "..."}.
//
// Thread-safety: Add() before the server starts, from one thread. Handle() is
// then safe from any number of threads.
#pragma once

#include <memory>
#include <vector>

#include "frontend/rest_frontend.h"
#include "transport/http_types.h"

namespace tessera::frontend {

class HttpRouter {
 public:
  HttpRouter() = default;
  HttpRouter(const HttpRouter&) = delete;
  HttpRouter& operator=(const HttpRouter&) = delete;

  // Not owned: `frontend` must outlive every Handle() call.
  void Add(const RestFrontend* frontend);

  // Routes one request; `respond` is called exactly once (by the router for
  // 404/405, otherwise by the frontend's handler).
  void Handle(std::shared_ptr<const transport::HttpRequest> request,
              transport::HttpRespond respond) const;

  // A handler for HttpServer that calls Handle(). The router must outlive it.
  transport::HttpHandler AsHandler() const;

 private:
  std::vector<const RestFrontend*> frontends_;
};

}  // namespace tessera::frontend
