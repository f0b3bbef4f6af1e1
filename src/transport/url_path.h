// Request paths as the REST frontends route them: split at the RAW
// separators first, then each segment percent-decoded on its own, so that an
// escaped separator ("%2F", "%3A") is data inside a segment, never a
// separator (RFC 3986 section 2.2). HttpRequest::path holds the raw path.
//
// Thread-safety: plain functions over values.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace tessera::transport {

// One piece of a path: the raw separator character that preceded it ('/' or,
// when asked for, ':') and its percent-decoded text.
struct UrlSegment {
  char separator = '/';
  std::string text;
};

// Splits `raw_path` (it must start with '/') before every raw character of
// `separators` (which must include '/') and percent-decodes each piece:
//   "/v2/models/a%2Fb/infer", "/"  -> {/v2} {/models} {/a/b} {/infer}
//   "/v1/models/m%3Ax:predict", "/:" -> {/v1} {/models} {/m:x} {:predict}
// Empty pieces are kept ("/a//b" has three). Errors: kInvalidArgument when
// the path does not start with '/' or an escape is malformed.
Result<std::vector<UrlSegment>> SplitUrlPath(std::string_view raw_path,
                                             std::string_view separators = "/");

// Decodes %XX escapes (not '+'); kInvalidArgument when an escape is
// malformed.
Result<std::string> PercentDecode(std::string_view text);

// Ok when every '%' in `text` starts a well-formed %XX escape; otherwise the
// kInvalidArgument PercentDecode would return. Allocates nothing.
Status CheckPercentEncoding(std::string_view text);

}  // namespace tessera::transport
