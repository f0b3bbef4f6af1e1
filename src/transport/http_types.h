// HTTP request/response values exchanged between the HTTP server (transport)
// and the REST frontends. No model knowledge.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace tessera::transport {

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string path;    // decoded path without the query, e.g. "/v2/models/m/infer"
  std::string query;   // text after '?', or ""
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;

  // Value of header `lower_name`, or nullptr.
  const std::string* header(std::string_view lower_name) const {
    for (const auto& [k, v] : headers) {
      if (k == lower_name) return &v;
    }
    return nullptr;
  }
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers
  std::string body;
};

// Completes one request. Must be called exactly once, from any thread.
using HttpRespond = std::function<void(HttpResponse)>;

// Handles one request. The request is shared so that tensors decoded from
// its body may borrow the bytes until `respond` has been called.
using HttpHandler = std::function<void(std::shared_ptr<const HttpRequest>, HttpRespond)>;

}  // namespace tessera::transport
