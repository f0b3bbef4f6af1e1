#include "frontend/kserve_rest/kserve_rest_frontend.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <cstring>
#include <mutex>
#include <optional>

#include "core/testing/fake_inference_service.h"
#include "core/testing/fake_repository_admin.h"
#include "frontend/http_router.h"

namespace tessera::kserve_rest {
namespace {

using testing::FakeInferenceService;
using transport::HttpRequest;
using transport::HttpResponse;
using namespace std::chrono_literals;

class KServeRestFrontendTest : public ::testing::Test {
 protected:
  KServeRestFrontendTest() : frontend_(fake_) {
    router_.Add(&frontend_);
    ModelMetadata dense;
    dense.name = "dense";
    dense.version = 2;
    dense.versions = {1, 2};
    dense.platform = "pytorch_torchscript";
    dense.signature.inputs = {{"x", DataType::kFp32, {-1, 4}}};
    dense.signature.outputs = {{"x", DataType::kFp32, {-1, 4}}};
    fake_.AddModel(dense);
    ModelMetadata two;
    two.name = "two";
    two.version = 1;
    two.versions = {1};
    two.signature.inputs = {{"a", DataType::kFp32, {-1}}, {"b", DataType::kFp32, {-1}}};
    fake_.AddModel(two);
    ModelMetadata loading;
    loading.name = "loading";
    loading.version = 1;
    fake_.AddModel(loading, Unavailable("Model version is loading"));
    fake_.SetServerMetadata({"tessera", "1.2.3", {"model_repository"}});
  }

  // Routes one request and waits for its response.
  HttpResponse Call(const std::string& method, const std::string& path, std::string body = "",
                    std::vector<std::pair<std::string, std::string>> headers = {}) {
    auto request = std::make_shared<HttpRequest>();
    request->method = method;
    request->path = path;
    request->body = std::move(body);
    request->headers = std::move(headers);
    std::mutex mu;
    std::condition_variable cv;
    std::optional<HttpResponse> out;
    active_router_->Handle(request, [&](HttpResponse r) {
      std::lock_guard lock(mu);
      out = std::move(r);
      cv.notify_all();
    });
    std::unique_lock lock(mu);
    EXPECT_TRUE(cv.wait_for(lock, 5s, [&] { return out.has_value(); }));
    return out.value_or(HttpResponse{0, "", {}, ""});
  }

  static std::string Header(const HttpResponse& r, const std::string& name) {
    for (const auto& [k, v] : r.headers) {
      if (k == name) return v;
    }
    return "";
  }

  FakeInferenceService fake_;
  KServeRestFrontend frontend_;
  frontend::HttpRouter router_;
  frontend::HttpRouter* active_router_ = &router_;  // where Call() routes
};

TEST_F(KServeRestFrontendTest, Health) {
  HttpResponse r = Call("GET", "/v2/health/live");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "");
  EXPECT_EQ(Call("GET", "/v2/health/ready").status, 200);
  EXPECT_EQ(Call("GET", "/V2/Health/Ready").status, 200);
  fake_.SetReady(false);
  r = Call("GET", "/v2/health/ready");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.body, R"({"error":"Server is not ready"})");
  fake_.SetLive(false);
  EXPECT_EQ(Call("GET", "/v2/health/live").status, 503);
}

TEST_F(KServeRestFrontendTest, ServerMetadata) {
  HttpResponse r = Call("GET", "/v2");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "application/json");
  // Exactly the service's list: the front door adds nothing of its own.
  EXPECT_EQ(r.body, R"({"name":"tessera","version":"1.2.3","extensions":["model_repository"]})");
  fake_.SetServerMetadata({"tessera", "1.2.3", {"binary_tensor_data", "statistics"}});
  EXPECT_EQ(Call("GET", "/v2").body,
            R"({"name":"tessera","version":"1.2.3","extensions":["binary_tensor_data","statistics"]})");
}

// The repository and statistics routes, over a FakeRepositoryAdmin.
class KServeRestRepositoryTest : public KServeRestFrontendTest {
 protected:
  KServeRestRepositoryTest() : with_admin_(fake_, nullptr, &admin_) {
    admin_router_.Add(&with_admin_);
    active_router_ = &admin_router_;
    admin_.index = {{"dense", 1, ModelReadiness::kReady, ""},
                    {"dense", 2, ModelReadiness::kUnavailable, "unloaded"},
                    {"broken", 0, ModelReadiness::kUnavailable, "base path /m does not exist"}};
    ModelStatistics dense;
    dense.name = "dense";
    dense.version = 1;
    dense.inference_count = 3;
    dense.success = {3, 300};
    dense.batch_stats = {{1, {1, 10}, {1, 20}, {1, 30}}, {2, {1, 11}, {1, 21}, {1, 31}}};
    admin_.stats = {dense};
  }

  testing::FakeRepositoryAdmin admin_;
  KServeRestFrontend with_admin_;
  frontend::HttpRouter admin_router_;
};

TEST_F(KServeRestRepositoryTest, StatsOfEveryModelIsNotAModelNamedStats) {
  HttpResponse all = Call("GET", "/v2/models/stats");
  EXPECT_EQ(all.status, 200);
  EXPECT_EQ(all.body.rfind(R"({"model_stats":[{"name":"dense","version":"1","last_inference":0,)", 0), 0u)
      << all.body;
  EXPECT_EQ(Call("GET", "/v2/models/dense/stats").status, 200);
  EXPECT_EQ(Call("GET", "/v2/models/dense/versions/1/stats").status, 200);
  HttpResponse unknown = Call("GET", "/v2/models/nope/stats");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(unknown.body, R"({"error":"Model with requested name is not found"})");
  EXPECT_EQ(Call("GET", "/v2/models/dense/versions/x/stats").status, 400);
  EXPECT_EQ(Call("POST", "/v2/models/stats").status, 405);
  EXPECT_EQ(admin_.calls(),
            (std::vector<std::string>{"stats  0", "stats dense 0", "stats dense 1", "stats nope 0"}));
  // A model named "stats" keeps its metadata under a version.
  EXPECT_EQ(Call("GET", "/v2/MODELS/stats/versions/1").status, 404);  // the fake has no such model
}

TEST_F(KServeRestRepositoryTest, IndexListsEveryEntryOrTheReadyOnes) {
  HttpResponse r = Call("POST", "/v2/repository/index");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body,
            R"([{"name":"dense","version":"1","state":"READY","reason":""},)"
            R"({"name":"dense","version":"2","state":"UNAVAILABLE","reason":"unloaded"},)"
            R"({"name":"broken","state":"UNAVAILABLE","reason":"base path /m does not exist"}])");
  EXPECT_EQ(Call("POST", "/v2/repository/index", "{}").body, r.body);
  EXPECT_EQ(Call("POST", "/v2/repository/index", R"({"ready": true})").body,
            R"([{"name":"dense","version":"1","state":"READY","reason":""}])");
  HttpResponse bad = Call("POST", "/v2/repository/index", R"({"ready": 1})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.body, R"({"error":"'ready' must be a boolean"})");
  EXPECT_EQ(Call("GET", "/v2/repository/index").status, 405);
}

TEST_F(KServeRestRepositoryTest, LoadAndUnloadAnswerTheAdminsOutcome) {
  HttpResponse r = Call("POST", "/v2/repository/models/dense/unload",
                        R"({"parameters":{"unload_dependents":false}})");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "");
  EXPECT_EQ(Call("POST", "/v2/repository/models/dense/load").status, 200);
  admin_.load_result = NotFound("Model with requested name is not found");
  HttpResponse missing = Call("POST", "/v2/repository/models/nope/load", "{}");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.body, R"({"error":"Model with requested name is not found"})");
  HttpResponse config = Call("POST", "/v2/repository/models/dense/load",
                             R"({"parameters":{"config":"{}"}})");
  EXPECT_EQ(config.status, 400);
  EXPECT_EQ(config.body,
            R"({"error":"Parameter 'config' is not supported: models are configured in the config file"})");
  EXPECT_EQ(Call("POST", "/v2/repository/models/dense/unload", "[1]").status, 400);
  EXPECT_EQ(Call("GET", "/v2/repository/models/dense/load").status, 405);
  EXPECT_EQ(Call("POST", "/v2/repository/models/dense/reload").status, 404);
  // Requests with bad bodies never reach the admin.
  EXPECT_EQ(admin_.calls(), (std::vector<std::string>{"unload dense", "load dense", "load nope"}));
}

TEST_F(KServeRestFrontendTest, RepositoryCallsWithoutAnAdminAre501) {
  EXPECT_EQ(Call("GET", "/v2/models/stats").status, 501);
  EXPECT_EQ(Call("POST", "/v2/repository/index").status, 501);
  EXPECT_EQ(Call("POST", "/v2/repository/models/dense/load").status, 501);
}

TEST_F(KServeRestFrontendTest, ModelMetadata) {
  HttpResponse r = Call("GET", "/v2/models/dense");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body,
            R"({"name":"dense","versions":["1","2"],"platform":"pytorch_torchscript",)"
            R"("inputs":[{"name":"x","datatype":"FP32","shape":[-1,4]}],)"
            R"("outputs":[{"name":"x","datatype":"FP32","shape":[-1,4]}]})");
  EXPECT_EQ(Call("GET", "/v2/models/dense/versions/1").status, 200);
  r = Call("GET", "/v2/models/nope");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body, R"({"error":"Model with requested name is not found"})");
  // Version 0 is the default version (highest): "2".
  r = Call("GET", "/v2/models/dense/versions/0");
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find(R"("versions":["1","2"])"), std::string::npos);
  EXPECT_EQ(Call("GET", "/v2/models/dense/versions/0/ready").status, 200);
  r = Call("GET", "/v2/models/dense/versions/-1");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body, R"j({"error":"Invalid model version '-1': expected a non-negative integer (0 = the default version)"})j");
}

TEST_F(KServeRestFrontendTest, InferOnVersionZeroAsksForTheDefaultVersion) {
  HttpResponse r = Call("POST", "/v2/models/dense/versions/0/infer",
                        R"({"inputs":[{"name":"x","shape":[1],"datatype":"FP32","data":[1]}]})");
  EXPECT_EQ(r.status, 200) << r.body;
  // The engine names the version it ran (the fake: 1 for the default).
  EXPECT_NE(r.body.find(R"("model_version":"1")"), std::string::npos) << r.body;
  auto calls = fake_.calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].model_version, kDefaultVersion);
}

TEST_F(KServeRestFrontendTest, ModelReady) {
  HttpResponse r = Call("GET", "/v2/models/dense/ready");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "");
  EXPECT_EQ(Call("GET", "/v2/models/dense/versions/2/READY").status, 200);
  EXPECT_EQ(Call("GET", "/v2/models/nope/ready").status, 404);
  r = Call("GET", "/v2/models/loading/ready");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.body, R"({"error":"Model version is loading"})");
}

TEST_F(KServeRestFrontendTest, UnknownUrlsAndMethods) {
  for (const char* path : {"/", "/v1", "/v2/health", "/v2/models", "/v2/models/", "/v2/models/dense/x",
                           "/v2/models/dense/versions", "/v2/models/dense/versions//infer",
                           "/v2/models/dense/infer/more", "v2"}) {
    HttpResponse r = Call("GET", path);
    EXPECT_EQ(r.status, 404) << path;
    EXPECT_NE(r.body.find("\"error\""), std::string::npos) << path;
  }
  HttpResponse r = Call("GET", "/v2/models/dense/infer");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(Header(r, "Allow"), "POST");
  r = Call("POST", "/v2/models/dense/ready");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(Header(r, "Allow"), "GET");
  EXPECT_EQ(Call("DELETE", "/v2").status, 405);
}

TEST_F(KServeRestFrontendTest, JsonInfer) {
  HttpResponse r = Call("POST", "/v2/models/dense/versions/2/infer",
                        R"({"id":"q1","inputs":[{"name":"x","shape":[1,4],"datatype":"FP32","data":[[1,2,3,4.5]]}]})");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_EQ(r.body,
            R"({"model_name":"dense","model_version":"2","id":"q1","outputs":)"
            R"([{"name":"x","datatype":"FP32","shape":[1,4],"data":[1,2,3,4.5]}]})");
  auto calls = fake_.calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].model_name, "dense");
  EXPECT_EQ(calls[0].model_version, 2);
  EXPECT_EQ(calls[0].id, "q1");
}

TEST_F(KServeRestFrontendTest, InferErrors) {
  HttpResponse r = Call("POST", "/v2/models/dense/infer", "{not json");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("Invalid JSON at offset 1"), std::string::npos) << r.body;
  r = Call("POST", "/v2/models/dense/infer",
           R"({"inputs":[{"name":"x","shape":[2],"datatype":"FP32","data":[[1],[2,3]]}]})");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("ragged"), std::string::npos);
  fake_.SetHandler([](const InferRequest&) -> Result<InferResponse> {
    return NotFound("Model with requested version is not found");
  });
  r = Call("POST", "/v2/models/dense/versions/9/infer",
           R"({"inputs":[{"name":"x","shape":[1],"datatype":"FP32","data":[1]}]})");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body, R"({"error":"Model with requested version is not found"})");
  fake_.SetHandler([](const InferRequest&) -> Result<InferResponse> { return ResourceExhausted("queue full"); });
  r = Call("POST", "/v2/models/dense/infer", R"({"inputs":[]})");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(Call("POST", "/v2/models/dense/versions/x/infer", "{}").status, 400);
}

constexpr char kDenseInput[] = R"("inputs":[{"name":"x","shape":[1,4],"datatype":"FP32","data":[1,2,3,4]}])";

TEST_F(KServeRestFrontendTest, InferTimeoutParameterAndServerDefault) {
  const std::string plain = std::string("{") + kDenseInput + "}";
  const std::string timed = std::string(R"({"parameters":{"timeout":2000000},)") + kDenseInput + "}";
  EXPECT_EQ(Call("POST", "/v2/models/dense/infer", plain).status, 200);
  EXPECT_FALSE(fake_.calls()[0].deadline.has_value());  // none by default

  auto before = DeadlineClock::now();
  EXPECT_EQ(Call("POST", "/v2/models/dense/infer", timed).status, 200);
  auto after = DeadlineClock::now();
  InferRequest call = fake_.calls()[1];
  ASSERT_TRUE(call.deadline.has_value());  // parameters.timeout: 2 s
  EXPECT_GE(*call.deadline, before + 2s);
  EXPECT_LE(*call.deadline, after + 2s);

  frontend_.set_request_timeout(std::chrono::milliseconds(5000));
  before = DeadlineClock::now();
  EXPECT_EQ(Call("POST", "/v2/models/dense/infer", plain).status, 200);
  EXPECT_EQ(Call("POST", "/v2/models/dense/infer", timed).status, 200);
  after = DeadlineClock::now();
  call = fake_.calls()[2];
  ASSERT_TRUE(call.deadline.has_value());  // the server default: 5 s
  EXPECT_GE(*call.deadline, before + 5s);
  EXPECT_LE(*call.deadline, after + 5s);
  call = fake_.calls()[3];
  ASSERT_TRUE(call.deadline.has_value());  // the earlier of the two: 2 s
  EXPECT_LE(*call.deadline, after + 2s);

  HttpResponse r = Call("POST", "/v2/models/dense/infer",
                        std::string(R"({"parameters":{"timeout":-5},)") + kDenseInput + "}");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body, R"j({"error":"Invalid JSON type of 'timeout' in the request: expected a non-negative integer (microseconds)"})j");
  EXPECT_EQ(fake_.call_count(), 4u);

  fake_.SetHandler([](const InferRequest&) -> Result<InferResponse> {
    return Status(StatusCode::kDeadlineExceeded, "Deadline exceeded while queued for model dense");
  });
  r = Call("POST", "/v2/models/dense/infer", timed);
  EXPECT_EQ(r.status, 504);
  EXPECT_EQ(r.body, R"({"error":"Deadline exceeded while queued for model dense"})");
}

TEST_F(KServeRestFrontendTest, BinaryInferBorrowsTheBodyAndAnswersBinary) {
  const std::string json =
      R"({"inputs":[{"name":"x","shape":[1,4],"datatype":"FP32","parameters":{"binary_data_size":16}}],)"
      R"("outputs":[{"name":"x","parameters":{"binary_data":true}}]})";
  float values[4] = {1, 2, 3, 4};
  std::string body = json + std::string(reinterpret_cast<const char*>(values), 16);
  // The handler sees the request while its bytes are still the body's.
  const uint8_t* seen = nullptr;
  fake_.SetHandler([&seen](const InferRequest& request) {
    seen = request.inputs[0].tensor.data();
    return FakeInferenceService::Echo(request);
  });
  auto request = std::make_shared<HttpRequest>();
  request->method = "POST";
  request->path = "/v2/models/dense/infer";
  request->body = body;
  request->headers = {{"inference-header-content-length", std::to_string(json.size())}};
  std::optional<HttpResponse> out;
  router_.Handle(request, [&](HttpResponse r) { out = std::move(r); });
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(seen, reinterpret_cast<const uint8_t*>(request->body.data() + json.size()));
  EXPECT_EQ(out->status, 200) << out->body;
  EXPECT_EQ(out->content_type, "application/octet-stream");
  size_t json_size = std::stoul(Header(*out, "Inference-Header-Content-Length"));
  EXPECT_EQ(out->body.substr(0, json_size),
            R"({"model_name":"dense","model_version":"1","outputs":[{"name":"x","datatype":"FP32","shape":[1,4],"parameters":{"binary_data_size":16}}]})");
  EXPECT_EQ(out->body.substr(json_size), std::string(reinterpret_cast<const char*>(values), 16));
}

TEST_F(KServeRestFrontendTest, BinaryHeaderErrors) {
  const std::string json = R"({"inputs":[{"name":"x","shape":[1],"datatype":"FP32","data":[1]}]})";
  EXPECT_EQ(Call("POST", "/v2/models/dense/infer", json,
                 {{"inference-header-content-length", "abc"}}).status, 400);
  HttpResponse r = Call("POST", "/v2/models/dense/infer", json,
                        {{"inference-header-content-length", std::to_string(json.size() + 1)}});
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("larger than the body"), std::string::npos);
  r = Call("POST", "/v2/models/dense/infer", json + "xx",
           {{"inference-header-content-length", std::to_string(json.size())}});
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("binary part of the body has 2 bytes"), std::string::npos);
}

TEST_F(KServeRestFrontendTest, RawBinaryRequest) {
  float values[4] = {1, 2, 3, 4};
  std::string body(reinterpret_cast<const char*>(values), 16);
  HttpResponse r = Call("POST", "/v2/models/dense/infer", body, {{"inference-header-content-length", "0"}});
  EXPECT_EQ(r.status, 200) << r.body;
  size_t json_size = std::stoul(Header(r, "Inference-Header-Content-Length"));
  EXPECT_NE(r.body.substr(0, json_size).find(R"("shape":[1,4],"parameters":{"binary_data_size":16})"),
            std::string::npos);
  EXPECT_EQ(r.body.substr(json_size), body);
  r = Call("POST", "/v2/models/two/infer", body, {{"inference-header-content-length", "0"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("exactly one input"), std::string::npos);
  r = Call("POST", "/v2/models/nope/infer", body, {{"inference-header-content-length", "0"}});
  EXPECT_EQ(r.status, 404);
  r = Call("POST", "/v2/models/dense/infer", body + "x", {{"inference-header-content-length", "0"}});
  EXPECT_EQ(r.status, 400);
}

TEST_F(KServeRestFrontendTest, AsyncCompletionKeepsTheRequestAlive) {
  fake_.SetAsync(true);
  fake_.SetDelay([](const InferRequest&) { return 20ms; });
  const std::string json =
      R"({"inputs":[{"name":"x","shape":[1,4],"datatype":"FP32","parameters":{"binary_data_size":16}}]})";
  float values[4] = {5, 6, 7, 8};
  std::optional<HttpResponse> out;
  std::mutex mu;
  std::condition_variable cv;
  {
    auto request = std::make_shared<HttpRequest>();
    request->method = "POST";
    request->path = "/v2/models/dense/infer";
    request->body = json + std::string(reinterpret_cast<const char*>(values), 16);
    request->headers = {{"inference-header-content-length", std::to_string(json.size())}};
    router_.Handle(request, [&](HttpResponse r) {
      std::lock_guard lock(mu);
      out = std::move(r);
      cv.notify_all();
    });
  }  // the router's caller let go of the request
  std::unique_lock lock(mu);
  ASSERT_TRUE(cv.wait_for(lock, 5s, [&] { return out.has_value(); }));
  EXPECT_EQ(out->status, 200);
  EXPECT_NE(out->body.find("\"data\":[5,6,7,8]"), std::string::npos) << out->body;
}

// The path is raw: segments are split at raw '/' and then decoded, so an
// escaped "%2F" is part of the model name.
TEST_F(KServeRestFrontendTest, EscapedSlashIsPartOfTheModelName) {
  HttpResponse r = Call("GET", "/v2/models/dense%2Fready");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body, R"({"error":"Model with requested name is not found"})");
  r = Call("POST", "/v2/models/alpha%2Finfer", R"({"inputs":[]})");
  EXPECT_EQ(r.status, 405);  // the metadata URL of model "alpha/infer"
  EXPECT_EQ(Header(r, "Allow"), "GET");
  EXPECT_EQ(Call("GET", "/v2/models/alpha%2Finfer").status, 404);
  EXPECT_EQ(Call("GET", "/v2/models/%64ense/ready").status, 200);  // "%64" is 'd'
  EXPECT_EQ(Call("GET", "/v2/models/dense/%72eady").status, 200);
  EXPECT_EQ(Call("GET", "/v2/health%2Flive").status, 404);
}

}  // namespace
}  // namespace tessera::kserve_rest
