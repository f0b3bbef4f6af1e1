#include "transport/url_path.h"

#include <utility>

namespace tessera::transport {
namespace {

constexpr char kMalformed[] = "Malformed percent-encoding in the request path";

int Hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

Status CheckPercentEncoding(std::string_view text) {
  for (size_t i = text.find('%'); i != std::string_view::npos; i = text.find('%', i + 3)) {
    if (i + 2 >= text.size() || Hex(text[i + 1]) < 0 || Hex(text[i + 2]) < 0) {
      return InvalidArgument(kMalformed);
    }
  }
  return Status::Ok();
}

Result<std::string> PercentDecode(std::string_view text) {
  auto hex = Hex;
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    int high = i + 2 < text.size() ? hex(text[i + 1]) : -1;
    int low = high >= 0 ? hex(text[i + 2]) : -1;
    if (low < 0) return InvalidArgument(kMalformed);
    out += static_cast<char>(high * 16 + low);
    i += 2;
  }
  return out;
}

Result<std::vector<UrlSegment>> SplitUrlPath(std::string_view raw_path, std::string_view separators) {
  if (raw_path.empty() || raw_path[0] != '/') {
    return InvalidArgument("The request path must start with '/'");
  }
  std::vector<UrlSegment> out;
  size_t start = 0;
  while (start < raw_path.size()) {
    size_t next = raw_path.find_first_of(separators, start + 1);
    if (next == std::string_view::npos) next = raw_path.size();
    TESSERA_ASSIGN_OR_RETURN(std::string text, PercentDecode(raw_path.substr(start + 1, next - start - 1)));
    out.push_back(UrlSegment{raw_path[start], std::move(text)});
    start = next;
  }
  return out;
}

}  // namespace tessera::transport
