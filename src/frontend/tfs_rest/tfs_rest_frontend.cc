#include "frontend/tfs_rest/tfs_rest_frontend.h"

#include <algorithm>
#include <cctype>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>
#include <utility>

#include "common/logging.h"
#include "frontend/tfs_rest/model_json.h"
#include "frontend/tfs_rest/predict_decoder.h"
#include "frontend/tfs_rest/predict_encoder.h"
#include "frontend/tfs_rest/status_map.h"
#include "transport/url_path.h"

namespace tessera::tfs_rest {

using frontend::RouteResult;
using transport::HttpRequest;
using transport::HttpRespond;
using transport::HttpResponse;

namespace {

constexpr char kConfigUnavailable[] = "Config reload is not available";

HttpResponse JsonResponse(int status, std::string body) {
  HttpResponse response;
  response.status = status;
  response.content_type = "application/json";
  response.body = std::move(body);
  return response;
}

bool StartsWithIgnoreCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
  }
  return true;
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool EqualsIgnoreCase(std::string_view s, std::string_view lower) {
  return s.size() == lower.size() && StartsWithIgnoreCase(s, lower);
}

// /v1/models/{name}[/versions/{digits}|/labels/{label}]{suffix}, matched
// without std::regex (it cost ~7 us per request) on the raw path split at its
// raw '/' and ':' (transport/url_path.h): fixed words match
// case-insensitively; {name} and {label} are whole decoded segments, so an
// escaped "%2F" or "%3A" is part of the name, never a separator.
struct ModelUrl {
  std::string name;
  std::optional<std::string> digits;  // after /versions/
  std::optional<std::string> label;   // after /labels/
  // What follows: kNone, "/metadata", or ":verb" (verb as sent).
  enum class Suffix { kNone, kMetadata, kVerb, kOther } suffix = Suffix::kNone;
  std::string verb;
};

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::optional<ModelUrl> ParseModelUrl(std::string_view raw_path) {
  auto split = transport::SplitUrlPath(raw_path, "/:");
  if (!split.ok()) return std::nullopt;
  const std::vector<transport::UrlSegment>& s = *split;
  auto word = [&s](size_t i, char separator, std::string_view lower) {
    return i < s.size() && s[i].separator == separator && EqualsIgnoreCase(s[i].text, lower);
  };
  if (!word(0, '/', "v1") || !word(1, '/', "models") || s.size() < 3 || s[2].separator != '/' ||
      s[2].text.empty()) {
    return std::nullopt;
  }
  ModelUrl url;
  url.name = s[2].text;
  size_t next = 3;
  const bool has_value = next + 1 < s.size() && s[next + 1].separator == '/';
  if (has_value && word(next, '/', "versions") && AllDigits(s[next + 1].text)) {
    url.digits = s[next + 1].text;
    next += 2;
  } else if (has_value && word(next, '/', "labels") && !s[next + 1].text.empty()) {
    url.label = s[next + 1].text;
    next += 2;
  }
  if (next == s.size()) {
    url.suffix = ModelUrl::Suffix::kNone;
  } else if (next + 1 == s.size() && word(next, '/', "metadata")) {
    url.suffix = ModelUrl::Suffix::kMetadata;
  } else if (next + 1 == s.size() && s[next].separator == ':') {
    url.suffix = ModelUrl::Suffix::kVerb;
    url.verb = s[next].text;
  } else {
    url.suffix = ModelUrl::Suffix::kOther;
  }
  return url;
}

// The version named by the URL: digits after /versions/ ("0" is the
// default version, as TF Serving), or a label after /labels/ (not
// supported), or none (kDefaultVersion).
Result<int64_t> UrlVersion(const ModelUrl& url) {
  if (url.label) {
    return InvalidArgument("Version labels are not supported (label: " + std::string(*url.label) +
                           "); use /versions/{version}");
  }
  if (!url.digits) return kDefaultVersion;
  Result<int64_t> version = ParseModelVersion(*url.digits, /*empty_is_default=*/false);
  if (!version.ok()) {  // digits only, so: too large (OVMS's text)
    return InvalidArgument("Failed to convert version: " + *url.digits + " to numeric.");
  }
  return version;
}

// Runs a handler once the URL's version is known to be valid.
template <typename Fn>
RouteResult WithVersion(Result<int64_t> version, Fn fn) {
  return RouteResult::Matched(
      [version = std::move(version), fn = std::move(fn)](std::shared_ptr<const HttpRequest> request,
                                                          HttpRespond respond) {
        if (!version.ok()) return respond(ErrorResponse(version.status()));
        fn(*version, *request, std::move(respond));
      });
}

}  // namespace

// Runs config reloads, one at a time, on its own thread.
class TfsRestFrontend::ReloadWorker {
 public:
  ReloadWorker() : thread_([this] { Loop(); }) {}
  ~ReloadWorker() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

  void Post(std::function<void()> job) {
    {
      std::lock_guard lock(mu_);
      jobs_.push_back(std::move(job));
    }
    cv_.notify_all();
  }

 private:
  // Jobs already posted still run before the thread ends: each owes a reply.
  void Loop() {
    std::unique_lock lock(mu_);
    while (true) {
      cv_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      if (jobs_.empty()) return;
      auto job = std::move(jobs_.front());
      jobs_.pop_front();
      lock.unlock();
      job();
      lock.lock();
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  std::thread thread_;  // last: starts once the members above exist
};

TfsRestFrontend::TfsRestFrontend(InferenceService& service, ModelAdmin* admin,
                                 const metrics::FrontDoorMetrics* metrics)
    : service_(service),
      admin_(admin),
      metrics_(metrics),
      reload_worker_(admin ? std::make_unique<ReloadWorker>() : nullptr) {}

TfsRestFrontend::~TfsRestFrontend() = default;

RouteResult TfsRestFrontend::Route(const HttpRequest& request) const {
  if (!StartsWithIgnoreCase(request.path, "/v1/")) return RouteResult::NoMatch();
  const std::string& method = request.method;
  const std::string_view path = request.path;
  if (std::optional<ModelUrl> url = ParseModelUrl(path)) {
    std::string name = url->name;
    if (url->suffix == ModelUrl::Suffix::kVerb) {
      std::string verb = Lower(url->verb);
      if (verb == "predict" || verb == "classify" || verb == "regress") {
        if (method != "POST") return RouteResult::WrongMethod("POST");
        if (verb != "predict") {
          return RouteResult::Matched([verb](std::shared_ptr<const HttpRequest>, HttpRespond respond) {
            respond(frontend::JsonError(404, "The " + verb + " API is not supported; use predict"));
          });
        }
        return WithVersion(UrlVersion(*url),
                           [this, name](int64_t version, const HttpRequest& r, HttpRespond respond) {
                             HandlePredict(name, version, r, std::move(respond));
                           });
      }
    }
    const bool metadata = url->suffix == ModelUrl::Suffix::kMetadata;
    if (url->suffix == ModelUrl::Suffix::kNone || metadata) {
      if (method != "GET") return RouteResult::WrongMethod("GET");
      return WithVersion(UrlVersion(*url), [this, name, metadata](int64_t version,
                                                                  const HttpRequest&,
                                                                  HttpRespond respond) {
        if (metadata) return HandleMetadata(name, version, std::move(respond));
        HandleStatus(name, version, std::move(respond));
      });
    }
  }
  if (EqualsIgnoreCase(path, "/v1/config/reload")) {
    if (method != "POST") return RouteResult::WrongMethod("POST");
    return RouteResult::Matched([this](std::shared_ptr<const HttpRequest>, HttpRespond respond) {
      HandleReload(std::move(respond));
    });
  }
  if (EqualsIgnoreCase(path, "/v1/config")) {
    if (method != "GET") return RouteResult::WrongMethod("GET");
    return RouteResult::Matched([this](std::shared_ptr<const HttpRequest>, HttpRespond respond) {
      HandleConfig(std::move(respond));
    });
  }
  if (EqualsIgnoreCase(path, "/v1/models") || EqualsIgnoreCase(path, "/v1/models/")) {
    if (method != "GET") return RouteResult::WrongMethod("GET");
    return RouteResult::Matched([](std::shared_ptr<const HttpRequest>, HttpRespond respond) {
      respond(frontend::JsonError(400, "Missing model name in request."));
    });
  }
  return RouteResult::NoMatch();
}

void TfsRestFrontend::HandleStatus(const std::string& name, int64_t version,
                                   HttpRespond respond) const {
  metrics::CallMeter meter(metrics_, metrics::Method::kGetModelStatus);
  auto statuses = service_.GetModelStatus(name, version);
  meter.Done(name, version, statuses.ok());
  if (!statuses.ok()) return respond(ErrorResponse(statuses.status()));
  respond(JsonResponse(200, ModelStatusJson(*statuses)));
}

void TfsRestFrontend::HandleMetadata(const std::string& name, int64_t version,
                                     HttpRespond respond) const {
  metrics::CallMeter meter(metrics_, metrics::Method::kGetModelMetadata);
  auto metadata = service_.GetModelMetadata(name, version);
  meter.Done(name, metadata.ok() ? metadata->version : version, metadata.ok());
  if (!metadata.ok()) return respond(ErrorResponse(metadata.status()));
  respond(JsonResponse(200, ModelMetadataJson(*metadata)));
}

void TfsRestFrontend::HandlePredict(const std::string& name, int64_t version,
                                    const HttpRequest& request, HttpRespond respond) const {
  // The input types come from the version that is asked for; the request
  // names that same version, so a version swap in between is caught by the
  // core's type check rather than misread here.
  metrics::CallMeter meter(metrics_, metrics::Method::kPredict);
  auto fail = [&](const Status& status) {
    meter.Done(name, version, false);
    respond(ErrorResponse(status));
  };
  auto metadata = service_.GetModelMetadata(name, version);
  if (!metadata.ok()) return fail(metadata.status());
  auto decoded = DecodePredictRequest(request.body, metadata->signature.inputs);
  if (!decoded.ok()) return fail(decoded.status());

  auto infer = std::make_shared<InferRequest>();
  infer->model_name = name;
  infer->model_version = version;
  infer->inputs = std::move(decoded->inputs);
  infer->deadline = DeadlineAfter(request_timeout());
  PredictFormat format = decoded->format;
  // The callback owns the request (inputs own their bytes) until it runs.
  service_.Infer(*infer, [infer, format, meter, respond = std::move(respond)](
                             Result<InferResponse> result) {
    auto fail = [&](const Status& status) {
      meter.Done(infer->model_name, infer->model_version, false);
      respond(ErrorResponse(status));
    };
    if (!result.ok()) return fail(result.status());
    auto body = EncodePredictResponse(result->outputs, format);
    if (!body.ok()) return fail(body.status());
    meter.Done(infer->model_name, result->model_version, true);
    respond(JsonResponse(200, std::move(*body)));
  });
}

void TfsRestFrontend::HandleReload(HttpRespond respond) const {
  if (!admin_) return respond(frontend::JsonError(501, kConfigUnavailable));
  reload_worker_->Post([this, respond = std::move(respond)] { Reload(respond); });
}

void TfsRestFrontend::Reload(const HttpRespond& respond) const {
  auto changed = admin_->ReloadConfig();
  if (!changed.ok()) {
    const Status& s = changed.status();
    TLOG_WARN("Config reload failed: {}", s.message());
    switch (s.code()) {
      case StatusCode::kNotFound:
        return respond(frontend::JsonError(404, "Config file not found or cannot open."));
      case StatusCode::kInvalidArgument:
        return respond(frontend::JsonError(
            400, "Reloading config file failed. Check server logs for more info."));
      case StatusCode::kFailedPrecondition:  // single-model mode: the admin says why
        return respond(ErrorResponse(s));
      default:
        return respond(frontend::JsonError(
            HttpStatusFor(s.code()),
            "Reloading models versions failed. Check server logs for more info."));
    }
  }
  respond(JsonResponse(*changed ? 201 : 200, ConfigStatusJson(admin_->AllModelStatuses())));
}

void TfsRestFrontend::HandleConfig(HttpRespond respond) const {
  if (!admin_) return respond(frontend::JsonError(501, kConfigUnavailable));
  respond(JsonResponse(200, ConfigStatusJson(admin_->AllModelStatuses())));
}

std::unique_ptr<frontend::RestFrontend> MakeTfsRestFrontend(
    InferenceService& service, ModelAdmin* admin, const metrics::FrontDoorMetrics* metrics) {
  return std::make_unique<TfsRestFrontend>(service, admin, metrics);
}

}  // namespace tessera::tfs_rest
