#include "frontend/tfs_rest/tfs_rest_frontend.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <mutex>

#include "core/testing/fake_inference_service.h"

namespace tessera::tfs_rest {
namespace {

using frontend::RouteMatch;
using testing::FakeInferenceService;
using ::testing::HasSubstr;
using transport::HttpRequest;
using transport::HttpResponse;

class FakeAdmin : public ModelAdmin {
 public:
  Result<bool> ReloadConfig() override {
    std::lock_guard lock(mu_);
    ++reloads_;
    return reload_result_;
  }
  std::vector<ModelStatusEntry> AllModelStatuses() const override {
    std::lock_guard lock(mu_);
    return statuses_;
  }
  Status ReplaceModels(const std::vector<ModelSource>&) override {
    return Unimplemented("not used");
  }

  void SetReloadResult(Result<bool> r) {
    std::lock_guard lock(mu_);
    reload_result_ = std::move(r);
  }
  void SetStatuses(std::vector<ModelStatusEntry> s) {
    std::lock_guard lock(mu_);
    statuses_ = std::move(s);
  }
  int reloads() const {
    std::lock_guard lock(mu_);
    return reloads_;
  }

 private:
  mutable std::mutex mu_;
  Result<bool> reload_result_ = false;
  std::vector<ModelStatusEntry> statuses_;
  int reloads_ = 0;
};

class TfsRestFrontendTest : public ::testing::Test {
 protected:
  TfsRestFrontendTest() {
    ModelMetadata dense;
    dense.name = "dense";
    dense.version = 2;
    dense.versions = {1, 2};
    dense.signature.inputs = {{"x", DataType::kFp32, {-1, 4}}};
    dense.signature.outputs = {{"y", DataType::kFp32, {-1, 4}}};
    service_.AddModel(dense);
    ModelMetadata two;
    two.name = "Two";
    two.version = 1;
    two.versions = {1};
    two.signature.inputs = {{"a", DataType::kInt64, {-1}}, {"flag", DataType::kBool, {-1}}};
    two.signature.outputs = two.signature.inputs;
    service_.AddModel(two);
    admin_.SetStatuses({{"dense", {{1, VersionState::kEnd, Status::Ok()},
                                   {2, VersionState::kAvailable, Status::Ok()}}}});
  }

  frontend::RouteResult Route(const TfsRestFrontend& f, const std::string& method,
                              const std::string& path) {
    HttpRequest request;
    request.method = method;
    request.path = path;
    return f.Route(request);
  }

  HttpResponse Call(const TfsRestFrontend& f, const std::string& method, const std::string& path,
                    const std::string& body = "") {
    auto request = std::make_shared<HttpRequest>();
    request->method = method;
    request->path = path;
    request->body = body;
    auto route = f.Route(*request);
    EXPECT_EQ(route.match, RouteMatch::kMatched) << method << " " << path;
    if (route.match != RouteMatch::kMatched) return HttpResponse{};
    auto promise = std::make_shared<std::promise<HttpResponse>>();
    auto calls = std::make_shared<std::atomic<int>>(0);
    route.handler(request, [promise, calls](HttpResponse r) {
      if (calls->fetch_add(1) == 0) promise->set_value(std::move(r));
    });
    auto future = promise->get_future();
    EXPECT_EQ(future.wait_for(std::chrono::seconds(10)), std::future_status::ready);
    HttpResponse response = future.get();
    EXPECT_EQ(response.content_type, "application/json");
    EXPECT_EQ(calls->load(), 1);
    return response;
  }

  HttpResponse Call(const std::string& method, const std::string& path,
                    const std::string& body = "") {
    return Call(frontend_, method, path, body);
  }

  FakeInferenceService service_;
  FakeAdmin admin_;
  TfsRestFrontend frontend_{service_, &admin_};
};

std::string Error(const std::string& message) { return R"({"error":")" + message + R"("})"; }

// --- Routing -----------------------------------------------------------------

TEST_F(TfsRestFrontendTest, RoutesOnlyItsUrls) {
  EXPECT_EQ(Route(frontend_, "GET", "/v2/models/dense").match, RouteMatch::kNoMatch);
  EXPECT_EQ(Route(frontend_, "GET", "/v1/other").match, RouteMatch::kNoMatch);
  EXPECT_EQ(Route(frontend_, "GET", "/v1/models/dense/versions/x").match, RouteMatch::kNoMatch);
  EXPECT_EQ(Route(frontend_, "POST", "/v1/models/dense:explain").match, RouteMatch::kNoMatch);
  EXPECT_EQ(Route(frontend_, "GET", "/v1/models/dense/").match, RouteMatch::kNoMatch);
  EXPECT_EQ(Route(frontend_, "POST", "/v1/models/dense:predictx").match, RouteMatch::kNoMatch);
  EXPECT_EQ(Route(frontend_, "POST", "/v1/models/dense:").match, RouteMatch::kNoMatch);
  EXPECT_EQ(Route(frontend_, "POST", "/v1/models/dense/versions/:predict").match,
            RouteMatch::kNoMatch);
  EXPECT_EQ(Route(frontend_, "GET", "/v1/models/dense/versions/1x").match, RouteMatch::kNoMatch);
  EXPECT_EQ(Route(frontend_, "GET", "/v1/models/dense/labels/").match, RouteMatch::kNoMatch);
  EXPECT_EQ(Route(frontend_, "GET", "/v1/models/dense/metadata/x").match, RouteMatch::kNoMatch);
  EXPECT_EQ(Route(frontend_, "GET", "/v1/configs").match, RouteMatch::kNoMatch);
  EXPECT_EQ(Route(frontend_, "GET", "/v1/models//metadata").match, RouteMatch::kNoMatch);
  EXPECT_EQ(Route(frontend_, "GET", "/V1/MODELS/").match, RouteMatch::kMatched);  // 400 below
}

TEST_F(TfsRestFrontendTest, WrongMethods) {
  auto r = Route(frontend_, "GET", "/v1/models/dense:predict");
  EXPECT_EQ(r.match, RouteMatch::kWrongMethod);
  EXPECT_EQ(r.allow, "POST");
  r = Route(frontend_, "POST", "/v1/models/dense");
  EXPECT_EQ(r.match, RouteMatch::kWrongMethod);
  EXPECT_EQ(r.allow, "GET");
  EXPECT_EQ(Route(frontend_, "POST", "/v1/models/dense/metadata").allow, "GET");
  EXPECT_EQ(Route(frontend_, "GET", "/v1/config/reload").allow, "POST");
  EXPECT_EQ(Route(frontend_, "POST", "/v1/config").allow, "GET");
}

TEST_F(TfsRestFrontendTest, MissingModelName) {
  auto r = Call("GET", "/v1/models");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body, Error("Missing model name in request."));
}

// --- Status and metadata -----------------------------------------------------

TEST_F(TfsRestFrontendTest, ModelStatus) {
  auto r = Call("GET", "/v1/models/dense");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body,
            R"({"model_version_status":[)"
            R"({"version":"1","state":"AVAILABLE","status":{"error_code":"OK","error_message":""}},)"
            R"({"version":"2","state":"AVAILABLE","status":{"error_code":"OK","error_message":""}}]})");
  r = Call("GET", "/v1/models/dense/versions/2");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body,
            R"({"model_version_status":[)"
            R"({"version":"2","state":"AVAILABLE","status":{"error_code":"OK","error_message":""}}]})");
}

TEST_F(TfsRestFrontendTest, UrlsAreCaseInsensitiveButNamesKeepCase) {
  EXPECT_EQ(Call("GET", "/V1/Models/Two/VERSIONS/1").status, 200);
  auto r = Call("GET", "/v1/models/two");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body, Error("Model with requested name is not found"));
  EXPECT_EQ(Call("GET", "/V1/MODELS/dense/METADATA").status, 200);
}

TEST_F(TfsRestFrontendTest, UnknownModelOrVersion) {
  auto r = Call("GET", "/v1/models/nope");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body, Error("Model with requested name is not found"));
  r = Call("GET", "/v1/models/dense/versions/7");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body, Error("Model with requested version is not found"));
  r = Call("GET", "/v1/models/dense/versions/7/metadata");
  EXPECT_EQ(r.status, 404);
  r = Call("POST", "/v1/models/nope:predict", R"({"instances": [[1, 2, 3, 4]]})");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body, Error("Model with requested name is not found"));
}

TEST_F(TfsRestFrontendTest, VersionLabelsAndHugeVersions) {
  auto r = Call("GET", "/v1/models/dense/labels/stable");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body, Error("Version labels are not supported (label: stable); use "
                          "/versions/{version}"));
  EXPECT_EQ(Call("POST", "/v1/models/dense/labels/canary:predict", "{}").status, 400);
  r = Call("GET", "/v1/models/dense/versions/99999999999999999999");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body, Error("Failed to convert version: 99999999999999999999 to numeric."));
}

TEST_F(TfsRestFrontendTest, Metadata) {
  auto r = Call("GET", "/v1/models/dense/versions/1/metadata");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body,
            R"({"model_spec":{"name":"dense","signature_name":"","version":"1"},)"
            R"("metadata":{"signature_def":{"signature_def":{"serving_default":{)"
            R"("inputs":{"x":{"name":"x","dtype":"DT_FLOAT","tensor_shape":{"dim":[)"
            R"({"size":"-1","name":""},{"size":"4","name":""}],"unknown_rank":false}}},)"
            R"("outputs":{"y":{"name":"y","dtype":"DT_FLOAT","tensor_shape":{"dim":[)"
            R"({"size":"-1","name":""},{"size":"4","name":""}],"unknown_rank":false}}},)"
            R"("method_name":"tensorflow/serving/predict"}}}}})");
  EXPECT_THAT(Call("GET", "/v1/models/dense/metadata").body,
              HasSubstr(R"("model_spec":{"name":"dense","signature_name":"","version":"2"})"));
}

// --- Predict -------------------------------------------------------------------

TEST_F(TfsRestFrontendTest, PredictRowAndColumn) {
  auto r = Call("POST", "/v1/models/dense:predict", R"({"instances": [[1, 2, 3, 4], [5, 6, 7, 8]]})");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"predictions":[[1.0,2.0,3.0,4.0],[5.0,6.0,7.0,8.0]]})");
  r = Call("POST", "/v1/models/dense/versions/1:predict", R"({"inputs": [[1, 2, 3, 4.5]]})");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"outputs":[[1.0,2.0,3.0,4.5]]})");

  auto calls = service_.calls();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0].model_name, "dense");
  EXPECT_EQ(calls[0].model_version, kDefaultVersion);
  EXPECT_EQ(calls[1].model_version, 1);
  ASSERT_EQ(calls[1].inputs.size(), 1u);
  EXPECT_EQ(calls[1].inputs[0].name, "x");
  EXPECT_EQ(calls[1].inputs[0].tensor.shape(), (Shape{1, 4}));
  EXPECT_TRUE(calls[1].requested_outputs.empty());
}

TEST_F(TfsRestFrontendTest, VersionZeroIsTheDefaultVersion) {
  auto r = Call("POST", "/v1/models/dense/versions/0:predict", R"({"inputs": [[1, 2, 3, 4]]})");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, R"({"outputs":[[1.0,2.0,3.0,4.0]]})");
  auto calls = service_.calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].model_version, kDefaultVersion);
  // Status and metadata of version 0 are those of the model (all versions /
  // the default version).
  EXPECT_EQ(Call("GET", "/v1/models/dense/versions/0").body, Call("GET", "/v1/models/dense").body);
  EXPECT_EQ(Call("GET", "/v1/models/dense/versions/0/metadata").body,
            Call("GET", "/v1/models/dense/metadata").body);
}

TEST_F(TfsRestFrontendTest, PredictNamedMultipleOutputs) {
  auto r = Call("POST", "/v1/models/Two:PREDICT",
                R"({"signature_name": "serving_default", "instances": [{"a": 1, "flag": true},)"
                R"( {"a": -2, "flag": false}]})");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"predictions":[{"a":1,"flag":true},{"a":-2,"flag":false}]})");
  r = Call("POST", "/v1/models/Two:predict", R"({"inputs": {"a": [5, 6, 7], "flag": [true]}})");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"outputs":{"a":[5,6,7],"flag":[true]}})");
}

TEST_F(TfsRestFrontendTest, RowReplyWithInconsistentBatch) {
  auto r = Call("POST", "/v1/models/Two:predict", R"({"instances": [{"a": 1, "flag": true}]})");
  EXPECT_EQ(r.status, 200);
  service_.SetHandler([](const InferRequest&) -> Result<InferResponse> {
    InferResponse response;
    response.outputs.push_back({"a", Tensor::FromBytes(DataType::kInt64, {1}, std::string(8, 0))});
    response.outputs.push_back({"b", Tensor::FromBytes(DataType::kInt64, {2}, std::string(16, 0))});
    return response;
  });
  r = Call("POST", "/v1/models/Two:predict", R"({"instances": [{"a": 1, "flag": true}]})");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body, Error("Tensor name: b has inconsistent batch size: 2 expecting: 1"));
  r = Call("POST", "/v1/models/Two:predict", R"({"inputs": {"a": [1], "flag": [true]}})");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"outputs":{"a":[0],"b":[0,0]}})");
}

TEST_F(TfsRestFrontendTest, PredictBodyErrors) {
  auto r = Call("POST", "/v1/models/dense:predict", R"({"instances": [[1, 2, 3, 4]])");
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body, HasSubstr("JSON Parse error"));
  r = Call("POST", "/v1/models/dense:predict", R"({"signature_name": "x"})");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body, Error("Invalid JSON structure. Could not detect row or column format"));
  r = Call("POST", "/v1/models/dense:predict", R"({"instances": [[1]], "inputs": [[1]]})");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body, Error("Invalid JSON structure. Could not detect row or column format"));
  r = Call("POST", "/v1/models/dense:predict", R"({"inputs": [[1, "a"]]})");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body, Error("Input x: string at [0,1] is not of expected type DT_FLOAT"));
  EXPECT_EQ(service_.call_count(), 0u);  // nothing reached the model
}

TEST_F(TfsRestFrontendTest, ClassifyAndRegressAreNotSupported) {
  auto r = Call("POST", "/v1/models/dense:classify", "{}");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body, Error("The classify API is not supported; use predict"));
  r = Call("POST", "/v1/models/dense/versions/1:REGRESS", "{}");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body, Error("The regress API is not supported; use predict"));
}

TEST_F(TfsRestFrontendTest, InferenceErrorsUseTheStatusTable) {
  struct Case {
    Status status;
    int http;
  };
  std::vector<Case> cases = {
      {InvalidArgument("Invalid input shape - Expected: (-1,4); Actual: (1,3); input name: x"), 400},
      {ResourceExhausted("queue full"), 429},
      {Unavailable("Model with requested version is not loaded yet"), 503},
      {Internal("engine"), 500},
      {FailedPrecondition("reload needed"), 400},
      {NotFound("Model with requested version is retired"), 404},
      {Status(StatusCode::kDeadlineExceeded, "late"), 504},
      {Unimplemented("nope"), 501},
  };
  for (const auto& c : cases) {
    service_.SetHandler([s = c.status](const InferRequest&) -> Result<InferResponse> { return s; });
    auto r = Call("POST", "/v1/models/dense:predict", R"({"instances": [[1, 2, 3]]})");
    EXPECT_EQ(r.status, c.http) << c.status.message();
    EXPECT_EQ(r.body, Error(c.status.message()));
  }
}

TEST_F(TfsRestFrontendTest, PredictCarriesTheServerRequestTimeout) {
  auto r = Call("POST", "/v1/models/dense:predict", R"({"inputs": [[1, 2, 3, 4]]})");
  EXPECT_EQ(r.status, 200);
  EXPECT_FALSE(service_.calls()[0].deadline.has_value());  // none by default

  frontend_.set_request_timeout(std::chrono::milliseconds(1500));
  const auto before = DeadlineClock::now();
  r = Call("POST", "/v1/models/dense:predict", R"({"inputs": [[1, 2, 3, 4]]})");
  const auto after = DeadlineClock::now();
  EXPECT_EQ(r.status, 200);
  const InferRequest call = service_.calls()[1];
  ASSERT_TRUE(call.deadline.has_value());
  EXPECT_GE(*call.deadline, before + std::chrono::milliseconds(1500));
  EXPECT_LE(*call.deadline, after + std::chrono::milliseconds(1500));
  EXPECT_FALSE(call.cancelled);  // REST requests have no cancellation check

  service_.SetHandler([](const InferRequest&) -> Result<InferResponse> {
    return Status(StatusCode::kDeadlineExceeded, "Deadline exceeded while queued for model dense");
  });
  r = Call("POST", "/v1/models/dense:predict", R"({"inputs": [[1, 2, 3, 4]]})");
  EXPECT_EQ(r.status, 504);
  EXPECT_EQ(r.body, Error("Deadline exceeded while queued for model dense"));
}

TEST_F(TfsRestFrontendTest, PredictCompletesAsynchronously) {
  service_.SetAsync(true);
  service_.SetDelay([](const InferRequest&) { return std::chrono::milliseconds(20); });
  auto r = Call("POST", "/v1/models/dense:predict", R"({"inputs": [[1, 2, 3, 4]]})");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"outputs":[[1.0,2.0,3.0,4.0]]})");
}

// --- Config ----------------------------------------------------------------------

constexpr char kDenseAggregate[] =
    R"({"dense":{"model_version_status":[)"
    R"({"version":"1","state":"END","status":{"error_code":"OK","error_message":""}},)"
    R"({"version":"2","state":"AVAILABLE","status":{"error_code":"OK","error_message":""}}]}})";

TEST_F(TfsRestFrontendTest, ConfigStatus) {
  auto r = Call("GET", "/v1/config");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, kDenseAggregate);
  EXPECT_EQ(admin_.reloads(), 0);
}

TEST_F(TfsRestFrontendTest, ConfigReload) {
  admin_.SetReloadResult(true);
  auto r = Call("POST", "/v1/config/reload");
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(r.body, kDenseAggregate);
  admin_.SetReloadResult(false);
  r = Call("POST", "/V1/CONFIG/RELOAD");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, kDenseAggregate);
  EXPECT_EQ(admin_.reloads(), 2);
}

TEST_F(TfsRestFrontendTest, ConfigReloadErrors) {
  struct Case {
    Status status;
    int http;
    std::string message;
  };
  std::vector<Case> cases = {
      {NotFound("whatever the admin says"), 404, "Config file not found or cannot open."},
      {InvalidArgument("bad"), 400,
       "Reloading config file failed. Check server logs for more info."},
      {FailedPrecondition("Config reload is not available in single-model mode"), 400,
       "Config reload is not available in single-model mode"},
      {Internal("disk"), 500, "Reloading models versions failed. Check server logs for more info."},
      {Unavailable("busy"), 503,
       "Reloading models versions failed. Check server logs for more info."},
  };
  for (const auto& c : cases) {
    admin_.SetReloadResult(c.status);
    auto r = Call("POST", "/v1/config/reload");
    EXPECT_EQ(r.status, c.http) << c.status.message();
    EXPECT_EQ(r.body, Error(c.message));
  }
}

TEST_F(TfsRestFrontendTest, ConfigWithoutAdmin) {
  TfsRestFrontend no_admin(service_, nullptr);
  auto r = Call(no_admin, "POST", "/v1/config/reload");
  EXPECT_EQ(r.status, 501);
  EXPECT_EQ(r.body, Error("Config reload is not available"));
  r = Call(no_admin, "GET", "/v1/config");
  EXPECT_EQ(r.status, 501);
  EXPECT_EQ(Call(no_admin, "GET", "/v1/models/dense").status, 200);
}

TEST_F(TfsRestFrontendTest, FactoryMakesAWorkingFrontend) {
  auto f = MakeTfsRestFrontend(service_, &admin_);
  HttpRequest request;
  request.method = "GET";
  request.path = "/v1/config";
  EXPECT_EQ(f->Route(request).match, RouteMatch::kMatched);
}

// The path is raw: segments are split at raw '/' and ':' and then decoded,
// so "%3A" and "%2F" are part of the model name.
TEST_F(TfsRestFrontendTest, EscapedSeparatorsArePartOfTheModelName) {
  auto r = Call("GET", "/v1/models/dense%3Apredict");
  EXPECT_EQ(r.status, 404);  // the status URL of model "dense:predict"
  EXPECT_EQ(r.body, Error("Model with requested name is not found"));
  auto route = Route(frontend_, "POST", "/v1/models/alpha%3Apredict");
  EXPECT_EQ(route.match, RouteMatch::kWrongMethod);
  EXPECT_EQ(route.allow, "GET");
  EXPECT_EQ(Call("GET", "/v1/models/dense%2Fmetadata").status, 404);
  EXPECT_EQ(Call("GET", "/v1/models/dense%2Fversions%2F1").status, 404);
  EXPECT_EQ(Call("GET", "/v1/models/%64ense/versions/%31").status, 200);
  EXPECT_EQ(Call("POST", "/v1/models/dense%3Apredict:predict", R"({"instances": [[1, 2, 3, 4]]})").status,
            404);
  EXPECT_EQ(Route(frontend_, "GET", "/v1/config%2Freload").match, RouteMatch::kNoMatch);
  EXPECT_EQ(Route(frontend_, "GET", "/v1/models/dense/labels/a%3Ab").match, RouteMatch::kMatched);
}

}  // namespace
}  // namespace tessera::tfs_rest
