// REST routing and handling without sockets: the input is
//   METHOD "\n" TARGET "\n" (NAME ": " VALUE "\n")* "\n" BODY
// (missing parts are empty). The target goes through the HTTP server's own
// split and percent-decoding, then the request through HttpRouter (404/405),
// the KServe v2 and TF Serving URL matching and their handlers (body
// decoding, echo inference, encoding) over a fake service. Every request
// must be answered exactly once.
#include <algorithm>
#include <cctype>
#include <memory>
#include <string>

#include "fuzz_common.h"
#include "rest_target.h"

namespace {

using namespace tessera;

std::string_view NextLine(std::string_view* in) {
  size_t nl = in->find('\n');
  std::string_view line = in->substr(0, nl);
  in->remove_prefix(nl == std::string_view::npos ? in->size() : nl + 1);
  return line;
}

std::string Lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fuzz::QuietLogs();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static fuzz::RestTarget* target = new fuzz::RestTarget();
  std::string_view in = fuzz::AsText(data, size);
  auto request = std::make_shared<transport::HttpRequest>();
  request->method = std::string(NextLine(&in));
  if (!fuzz::RestTarget::SetTarget(NextLine(&in), request.get())) return 0;
  while (!in.empty()) {
    std::string_view line = NextLine(&in);
    if (line.empty()) break;
    size_t colon = line.find(':');
    std::string_view name = line.substr(0, colon);
    std::string_view value = colon == std::string_view::npos ? "" : line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    request->headers.emplace_back(Lower(name), std::string(value));
  }
  request->body = std::string(in);
  target->Handle(std::move(request));
  return 0;
}
