#include "frontend/kserve_rest/kserve_rest_frontend.h"

#include <algorithm>
#include <charconv>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "frontend/kserve_rest/codec.h"
#include "frontend/kserve_rest/repository_codec.h"
#include "frontend/kserve_rest/status_map.h"
#include "transport/url_path.h"

namespace tessera::kserve_rest {
namespace {

using frontend::RouteResult;
using metrics::CallMeter;
using transport::HttpRequest;
using transport::HttpRespond;
using transport::HttpResponse;

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

HttpResponse Empty(int status) {
  HttpResponse response;
  response.status = status;
  response.content_type.clear();
  return response;
}

HttpResponse Json(std::string body) {
  HttpResponse response;
  response.body = std::move(body);
  return response;
}

// What a URL names; the version text is validated by the handler so that a
// bad version is a 400, not a 404.
enum class Endpoint {
  kNone, kServerMetadata, kLive, kReady, kModelMetadata, kModelReady, kInfer,
  kStatistics, kRepositoryIndex, kModelLoad, kModelUnload,
};

bool IsPost(Endpoint endpoint) {
  return endpoint == Endpoint::kInfer || endpoint == Endpoint::kRepositoryIndex ||
         endpoint == Endpoint::kModelLoad || endpoint == Endpoint::kModelUnload;
}

struct ParsedUrl {
  Endpoint endpoint = Endpoint::kNone;
  std::string model;
  std::string version;  // "" when not given
};

// Routes on the raw path split at its raw '/' (transport/url_path.h): an
// escaped "%2F" is part of a segment, so /v2/models/a%2Fb/infer names model
// "a/b". A path that does not split (malformed escape) matches nothing.
ParsedUrl ParseUrl(std::string_view raw_path) {
  ParsedUrl url;
  auto split = transport::SplitUrlPath(raw_path);
  if (!split.ok()) return url;
  std::vector<std::string> s;
  s.reserve(split->size());
  for (transport::UrlSegment& segment : *split) s.push_back(std::move(segment.text));
  if (s.empty() || !IEquals(s[0], "v2")) return url;
  if (s.size() == 1) {
    url.endpoint = Endpoint::kServerMetadata;
    return url;
  }
  if (s.size() == 3 && IEquals(s[1], "health")) {
    if (IEquals(s[2], "live")) url.endpoint = Endpoint::kLive;
    if (IEquals(s[2], "ready")) url.endpoint = Endpoint::kReady;
    return url;
  }
  if (IEquals(s[1], "repository")) {
    if (s.size() == 3 && IEquals(s[2], "index")) url.endpoint = Endpoint::kRepositoryIndex;
    if (s.size() == 5 && IEquals(s[2], "models") && !s[3].empty()) {
      url.model = std::move(s[3]);
      if (IEquals(s[4], "load")) url.endpoint = Endpoint::kModelLoad;
      if (IEquals(s[4], "unload")) url.endpoint = Endpoint::kModelUnload;
    }
    return url;
  }
  // Triton's: /v2/models/stats is every model's statistics, not the
  // metadata of a model named "stats" (reachable with /versions/{v}).
  if (s.size() == 3 && IEquals(s[1], "models") && IEquals(s[2], "stats")) {
    url.endpoint = Endpoint::kStatistics;
    return url;
  }
  if (s.size() < 3 || !IEquals(s[1], "models") || s[2].empty()) return url;
  url.model = std::move(s[2]);
  size_t next = 3;
  if (s.size() >= 5 && IEquals(s[3], "versions")) {
    if (s[4].empty()) return url;
    url.version = std::move(s[4]);
    next = 5;
  }
  if (s.size() == next) {
    url.endpoint = Endpoint::kModelMetadata;
  } else if (s.size() == next + 1 && IEquals(s[next], "ready")) {
    url.endpoint = Endpoint::kModelReady;
  } else if (s.size() == next + 1 && IEquals(s[next], "infer")) {
    url.endpoint = Endpoint::kInfer;
  } else if (s.size() == next + 1 && IEquals(s[next], "stats")) {
    url.endpoint = Endpoint::kStatistics;
  }
  return url;
}

// No /versions/{v} segment (empty text) or "0": the default version.
Result<int64_t> VersionOf(const std::string& text) {
  return ParseModelVersion(text, /*empty_is_default=*/true);
}

// One inference in flight: owns what the InferRequest borrows.
struct InferCall {
  std::shared_ptr<const HttpRequest> http;  // the body tensors may point into
  InferRequest request;
  OutputFormat format;
  HttpRespond respond;
  CallMeter meter;
};

void Complete(const InferCall& call, Result<InferResponse> result) {
  auto fail = [&call](const Status& status) {
    call.meter.Done(call.request.model_name, call.request.model_version, false);
    call.respond(ErrorResponse(status));
  };
  if (!result.ok()) return fail(result.status());
  auto encoded = EncodeInferResponse(*result, call.format);
  if (!encoded.ok()) return fail(encoded.status());
  call.meter.Done(call.request.model_name, result->model_version, true);
  HttpResponse response;
  if (encoded->has_binary) {
    response.content_type = "application/octet-stream";
    response.headers.emplace_back(kInferenceHeaderContentLength, std::to_string(encoded->json_size));
  }
  response.body = std::move(encoded->body);
  call.respond(std::move(response));
}

// Decodes the body: plain JSON, JSON + binary tensors, or (header value 0)
// the raw data of a one-input model.
Result<DecodedInfer> DecodeBody(InferenceService& service, const std::string& model,
                                int64_t version, const std::shared_ptr<const HttpRequest>& http) {
  const std::string& body = http->body;
  std::shared_ptr<const void> keepalive = http;
  const std::string* header = http->header("inference-header-content-length");
  if (header == nullptr) return DecodeInferRequest(body, std::move(keepalive));
  size_t json_size = 0;
  auto [end, ec] = std::from_chars(header->data(), header->data() + header->size(), json_size);
  if (header->empty() || ec != std::errc() || end != header->data() + header->size()) {
    return InvalidArgument("Invalid Inference-Header-Content-Length: " + *header);
  }
  if (json_size > body.size()) {
    return InvalidArgument("Inference-Header-Content-Length " + *header +
                           " is larger than the body (" + std::to_string(body.size()) + " bytes)");
  }
  if (json_size > 0) {
    std::string_view all(body);
    return DecodeInferRequest(all.substr(0, json_size), all.substr(json_size), std::move(keepalive));
  }
  TESSERA_ASSIGN_OR_RETURN(ModelMetadata metadata, service.GetModelMetadata(model, version));
  if (metadata.signature.inputs.size() != 1) {
    return InvalidArgument("A raw binary request (Inference-Header-Content-Length: 0) needs a model "
                           "with exactly one input; " + model + " has " +
                           std::to_string(metadata.signature.inputs.size()));
  }
  return DecodeRawBinaryRequest(metadata.signature.inputs[0], body, std::move(keepalive));
}

// `timeout`: the server-wide default (zero = none); the body's own
// parameters.timeout wins when earlier.
void Infer(InferenceService& service, CallMeter meter, const ParsedUrl& url,
           std::chrono::milliseconds timeout, std::shared_ptr<const HttpRequest> http,
           HttpRespond respond) {
  auto version = VersionOf(url.version);
  if (!version.ok()) return respond(ErrorResponse(version.status()));
  auto decoded = DecodeBody(service, url.model, *version, http);
  if (!decoded.ok()) {
    meter.Done(url.model, *version, false);
    return respond(ErrorResponse(decoded.status()));
  }
  auto call = std::make_shared<InferCall>();
  call->http = std::move(http);
  call->request = std::move(decoded->request);
  call->request.model_name = url.model;
  call->request.model_version = *version;
  call->request.deadline = EarlierDeadline(call->request.deadline, DeadlineAfter(timeout));
  call->format = std::move(decoded->format);
  call->respond = std::move(respond);
  call->meter = meter;
  service.Infer(call->request, [call](Result<InferResponse> result) {
    Complete(*call, std::move(result));
  });
}

void ModelMetadataCall(InferenceService& service, CallMeter meter, const ParsedUrl& url,
                       HttpRespond respond) {
  auto version = VersionOf(url.version);
  if (!version.ok()) return respond(ErrorResponse(version.status()));
  auto metadata = service.GetModelMetadata(url.model, *version);
  meter.Done(url.model, metadata.ok() ? metadata->version : *version, metadata.ok());
  if (!metadata.ok()) return respond(ErrorResponse(metadata.status()));
  respond(Json(EncodeModelMetadata(*metadata)));
}

// A model that is known but not AVAILABLE (503) is an answer, counted as a
// success, as the gRPC ModelReady's ready=false.
void ModelReadyCall(InferenceService& service, CallMeter meter, const ParsedUrl& url,
                    HttpRespond respond) {
  auto version = VersionOf(url.version);
  if (!version.ok()) return respond(ErrorResponse(version.status()));
  Status ready = service.ModelReady(url.model, *version);
  meter.Done(url.model, *version, ready.ok() || ready.code() == StatusCode::kUnavailable);
  if (!ready.ok()) return respond(ErrorResponse(ready));
  respond(Empty(200));
}

void StatisticsCall(const RepositoryAdmin& admin, const ParsedUrl& url, HttpRespond respond) {
  auto version = VersionOf(url.version);
  if (!version.ok()) return respond(ErrorResponse(version.status()));
  auto stats = admin.GetModelStatistics(url.model, *version);
  if (!stats.ok()) return respond(ErrorResponse(stats.status()));
  respond(Json(EncodeModelStatistics(*stats)));
}

void RepositoryIndexCall(const RepositoryAdmin& admin, const HttpRequest& http, HttpRespond respond) {
  auto ready = DecodeRepositoryIndexRequest(http.body);
  if (!ready.ok()) return respond(ErrorResponse(ready.status()));
  respond(Json(EncodeRepositoryIndex(admin.RepositoryIndex(*ready))));
}

// Load or unload; a success answers 200 with an empty body (as Triton).
void RepositoryModelCall(RepositoryAdmin& admin, bool unload, const ParsedUrl& url,
                         const HttpRequest& http, HttpRespond respond) {
  auto parameters = DecodeRepositoryModelRequest(http.body);
  Status checked = parameters.ok() ? CheckRepositoryParameters(unload, *parameters) : parameters.status();
  if (!checked.ok()) return respond(ErrorResponse(checked));
  auto done = [respond = std::move(respond)](Status status) {
    respond(status.ok() ? Empty(200) : ErrorResponse(status));
  };
  if (unload) return admin.UnloadModel(url.model, std::move(done));
  admin.LoadModel(url.model, std::move(done));
}

}  // namespace

RouteResult KServeRestFrontend::Route(const HttpRequest& request) const {
  ParsedUrl url = ParseUrl(request.path);
  if (url.endpoint == Endpoint::kNone) return RouteResult::NoMatch();
  const bool post = IsPost(url.endpoint);
  if (request.method != (post ? "POST" : "GET")) {
    return RouteResult::WrongMethod(post ? "POST" : "GET");
  }
  InferenceService& service = service_;
  const metrics::FrontDoorMetrics* metrics = metrics_;
  RepositoryAdmin* admin = admin_;
  const bool needs_admin = url.endpoint == Endpoint::kStatistics || url.endpoint == Endpoint::kRepositoryIndex ||
                           url.endpoint == Endpoint::kModelLoad || url.endpoint == Endpoint::kModelUnload;
  if (needs_admin && admin == nullptr) {
    return RouteResult::Matched([](std::shared_ptr<const HttpRequest>, HttpRespond respond) {
      respond(ErrorResponse(RepositoryCallsNotServed()));
    });
  }
  switch (url.endpoint) {
    case Endpoint::kServerMetadata:
      return RouteResult::Matched([&service](std::shared_ptr<const HttpRequest>, HttpRespond respond) {
        respond(Json(EncodeServerMetadata(service.GetServerMetadata())));
      });
    case Endpoint::kStatistics:
      return RouteResult::Matched([admin, url](std::shared_ptr<const HttpRequest>, HttpRespond respond) {
        StatisticsCall(*admin, url, std::move(respond));
      });
    case Endpoint::kRepositoryIndex:
      return RouteResult::Matched([admin](std::shared_ptr<const HttpRequest> http, HttpRespond respond) {
        RepositoryIndexCall(*admin, *http, std::move(respond));
      });
    case Endpoint::kModelLoad:
    case Endpoint::kModelUnload:
      return RouteResult::Matched([admin, url, unload = url.endpoint == Endpoint::kModelUnload](
                                      std::shared_ptr<const HttpRequest> http, HttpRespond respond) {
        RepositoryModelCall(*admin, unload, url, *http, std::move(respond));
      });
    case Endpoint::kLive:
      return RouteResult::Matched([&service](std::shared_ptr<const HttpRequest>, HttpRespond respond) {
        respond(service.IsLive() ? Empty(200) : frontend::JsonError(503, "Server is not live"));
      });
    case Endpoint::kReady:
      return RouteResult::Matched([&service](std::shared_ptr<const HttpRequest>, HttpRespond respond) {
        respond(service.IsReady() ? Empty(200) : frontend::JsonError(503, "Server is not ready"));
      });
    case Endpoint::kModelMetadata:
      return RouteResult::Matched(
          [&service, metrics, url](std::shared_ptr<const HttpRequest>, HttpRespond respond) {
            ModelMetadataCall(service, CallMeter(metrics, metrics::Method::kModelMetadata), url,
                              std::move(respond));
          });
    case Endpoint::kModelReady:
      return RouteResult::Matched(
          [&service, metrics, url](std::shared_ptr<const HttpRequest>, HttpRespond respond) {
            ModelReadyCall(service, CallMeter(metrics, metrics::Method::kModelReady), url,
                           std::move(respond));
          });
    case Endpoint::kInfer:
      return RouteResult::Matched(
          [&service, metrics, url, timeout = request_timeout()](std::shared_ptr<const HttpRequest> http,
                                                                HttpRespond respond) {
            Infer(service, CallMeter(metrics, metrics::Method::kModelInfer), url, timeout,
                  std::move(http), std::move(respond));
          });
    case Endpoint::kNone: break;
  }
  return RouteResult::NoMatch();
}

}  // namespace tessera::kserve_rest
