// Raw HTTP/1.1 request bytes through Boost.Beast's request parser, set up as
// the server sets it up (header limit 64 KiB, body limit 1 MiB here), then
// turned into an HttpRequest as the server does (target split, percent-
// decoding, lower-cased header names) and routed through the REST front
// doors (rest_target.h). Pipelined requests in one input are all handled.
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/http.hpp>
#include <memory>
#include <optional>
#include <string>

#include "fuzz_common.h"
#include "rest_target.h"

namespace {

using namespace tessera;
namespace http = boost::beast::http;

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

void Dispatch(fuzz::RestTarget& target, http::request<http::string_body> message) {
  auto request = std::make_shared<transport::HttpRequest>();
  request->method = std::string(message.method_string());
  if (!fuzz::RestTarget::SetTarget({message.target().data(), message.target().size()},
                                   request.get())) {
    return;
  }
  for (const auto& field : message) {
    request->headers.emplace_back(Lower({field.name_string().data(), field.name_string().size()}),
                                  std::string(field.value()));
  }
  request->body = std::move(message.body());
  target.Handle(std::move(request));
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fuzz::QuietLogs();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static fuzz::RestTarget* target = new fuzz::RestTarget();
  boost::asio::const_buffer buffer(data, size);
  while (buffer.size() > 0) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(transport::kDefaultMaxHeaderBytes);
    parser.body_limit(1 << 20);
    parser.eager(true);
    boost::beast::error_code ec;
    while (!parser.is_done()) {
      size_t used = parser.put(buffer, ec);
      buffer += used;
      if (ec == http::error::need_more) ec = {};
      if (ec) return 0;
      if (used == 0) {
        // No more bytes: the connection ends here (a body without a length
        // ends with it, anything else is a partial message).
        parser.put_eof(ec);
        if (ec || !parser.is_done()) return 0;
      }
    }
    Dispatch(*target, parser.release());
  }
  return 0;
}
