// The REST side of the server as the HTTP fuzz harnesses drive it: an
// HttpRouter with the KServe v2 and TF Serving front doors over an
// EchoService (synchronous echo) that knows a few models and a FixedAdmin
// (repository and statistics calls), plus
// the HTTP server's own request-target handling (split at '?', percent-
// decoding of the path, as src/transport/http_server.cc does).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/testing/fake_inference_service.h"
#include "frontend/http_router.h"
#include "frontend/kserve_rest/kserve_rest_frontend.h"
#include "frontend/tfs_rest/tfs_rest_frontend.h"
#include "fuzz_common.h"
#include "transport/http_server.h"
#include "transport/url_path.h"

namespace tessera::fuzz {

// FakeInferenceService's models and metadata, but Infer only echoes: the
// fake's call log would grow with every one of millions of runs.
class EchoService : public testing::FakeInferenceService {
 public:
  void Infer(const InferRequest& request, InferCallback done) override { done(Echo(request)); }
};

// A RepositoryAdmin with one model and no memory of its calls (millions of
// runs): loads and unloads of "m" succeed, of anything else are kNotFound.
class FixedAdmin : public RepositoryAdmin {
 public:
  std::vector<RepositoryIndexEntry> RepositoryIndex(bool) const override {
    return {{"m", 1, ModelReadiness::kReady, ""}};
  }
  void LoadModel(const std::string& name, Done done) override { done(Known(name)); }
  void UnloadModel(const std::string& name, Done done) override { done(Known(name)); }
  Result<std::vector<ModelStatistics>> GetModelStatistics(const std::string& name, int64_t) const override {
    TESSERA_RETURN_IF_ERROR(name.empty() ? Status::Ok() : Known(name));
    ModelStatistics stats;
    stats.name = "m";
    stats.version = 1;
    stats.batch_stats = {{1, {1, 2}, {1, 3}, {1, 4}}};
    return std::vector<ModelStatistics>{stats};
  }

 private:
  static Status Known(const std::string& name) {
    return name == "m" ? Status::Ok() : NotFound("Model with requested name is not found");
  }
};

class RestTarget {
 public:
  RestTarget()
      : kserve_(service_, nullptr, &admin_), tfs_(tfs_rest::MakeTfsRestFrontend(service_, nullptr)) {
    AddModel("m", {{"x", DataType::kFp32, {-1, 3}}});
    AddModel("two", {{"a", DataType::kInt64, {-1}}, {"b", DataType::kBytes, {-1}}});
    AddModel("img", {{"i", DataType::kUint8, {-1, 4, 4, 3}}});
    router_.Add(&kserve_);
    router_.Add(tfs_.get());
  }

  // Sets request->path (raw) and ->query from a request target as the HTTP
  // server does; false where the server answers 400 itself.
  static bool SetTarget(std::string_view target, transport::HttpRequest* request) {
    size_t question = target.find('?');
    if (question != std::string_view::npos) {
      request->query = std::string(target.substr(question + 1));
      target = target.substr(0, question);
    }
    // The server keeps the raw path (the frontends decode per segment) and
    // answers 400 itself for a malformed escape.
    if (!transport::CheckPercentEncoding(target).ok()) return false;
    request->path = std::string(target);
    return true;
  }

  // Routes `request`; its respond function must be called exactly once.
  void Handle(std::shared_ptr<const transport::HttpRequest> request) {
    auto answered = std::make_shared<int>(0);
    router_.Handle(std::move(request), [answered](transport::HttpResponse) { ++*answered; });
    // The fake completes synchronously, so every answer is in by now.
    TESSERA_FUZZ_CHECK(*answered == 1);
  }

 private:
  void AddModel(const std::string& name, std::vector<TensorInfo> inputs) {
    ModelMetadata metadata;
    metadata.name = name;
    metadata.version = 1;
    metadata.versions = {1};
    metadata.platform = "pytorch_libtorch";
    metadata.signature.outputs = inputs;
    metadata.signature.inputs = std::move(inputs);
    service_.AddModel(std::move(metadata));
  }

  EchoService service_;
  FixedAdmin admin_;
  kserve_rest::KServeRestFrontend kserve_;
  std::unique_ptr<frontend::RestFrontend> tfs_;
  frontend::HttpRouter router_;
};

}  // namespace tessera::fuzz
