#include "frontend/kserve_grpc/kserve_service.h"

#include <gtest/gtest.h>
#include <grpcpp/grpcpp.h>

#include <cstring>
#include <future>
#include <map>
#include <set>
#include <thread>

#include "core/testing/fake_inference_service.h"
#include "core/testing/fake_repository_admin.h"
#include "transport/grpc_server.h"

namespace tessera::kserve_grpc {
namespace {

using namespace std::chrono_literals;
using inference::GRPCInferenceService;
using inference::ModelInferRequest;
using inference::ModelInferResponse;
using inference::ModelStreamInferResponse;
using testing::FakeInferenceService;

using Stream = grpc::ClientReaderWriter<ModelInferRequest, ModelStreamInferResponse>;

std::string FloatBytes(std::initializer_list<float> v) {
  std::string out(v.size() * sizeof(float), '\0');
  std::memcpy(out.data(), std::data(v), out.size());
  return out;
}

// A request with one raw FP32 input "x" of shape [n].
ModelInferRequest RawRequest(const std::string& id, std::initializer_list<float> values,
                             const std::string& model = "echo") {
  ModelInferRequest req;
  req.set_model_name(model);
  req.set_id(id);
  auto* in = req.add_inputs();
  in->set_name("x");
  in->set_datatype("FP32");
  in->add_shape(static_cast<int64_t>(values.size()));
  req.add_raw_input_contents(FloatBytes(values));
  return req;
}

ModelMetadata EchoMetadata() {
  ModelMetadata md;
  md.name = "echo";
  md.versions = {1, 2};
  md.platform = "pytorch_torchscript";
  md.signature.inputs = {{"x", DataType::kFp32, {-1}}};
  md.signature.outputs = {{"x", DataType::kFp32, {-1}}};
  return md;
}

class KServeServiceTest : public ::testing::Test {
 protected:
  void SetUp() override { StartServer(kDefaultMaxInFlightPerStream); }

  void StartServer(int max_in_flight, RepositoryAdmin* admin = nullptr) {
    server_.reset();
    service_ = std::make_unique<KServeGrpcService>(fake_, max_in_flight, nullptr, admin);
    transport::GrpcServerOptions options;
    options.address = "127.0.0.1";
    options.port = 0;
    server_ = std::make_unique<transport::GrpcServer>(options);
    server_->AddService(service_.get());
    Status started = server_->Start();
    ASSERT_TRUE(started.ok()) << started.ToString();
    stub_ = GRPCInferenceService::NewStub(grpc::CreateChannel(
        "127.0.0.1:" + std::to_string(server_->port()), grpc::InsecureChannelCredentials()));
  }

  void TearDown() override {
    fake_.SetHold(false);
    server_.reset();  // waits for every call before the service goes away
  }

  std::unique_ptr<grpc::ClientContext> Context() {
    auto ctx = std::make_unique<grpc::ClientContext>();
    ctx->set_deadline(std::chrono::system_clock::now() + 20s);
    return ctx;
  }

  grpc::Status Infer(const ModelInferRequest& req, ModelInferResponse* resp) {
    return stub_->ModelInfer(Context().get(), req, resp);
  }

  // Member order matters: the fake outlives the service, which outlives the
  // server.
  FakeInferenceService fake_;
  testing::FakeRepositoryAdmin admin_;
  std::unique_ptr<KServeGrpcService> service_;
  std::unique_ptr<transport::GrpcServer> server_;
  std::unique_ptr<GRPCInferenceService::Stub> stub_;
};

// --- repository and statistics extensions ----------------------------------

TEST_F(KServeServiceTest, RepositoryCallsWithoutAnAdminAreUnimplemented) {
  inference::ModelStatisticsResponse stats;
  inference::RepositoryIndexResponse index;
  inference::RepositoryModelLoadResponse loaded;
  EXPECT_EQ(stub_->ModelStatistics(Context().get(), {}, &stats).error_code(), grpc::UNIMPLEMENTED);
  EXPECT_EQ(stub_->RepositoryIndex(Context().get(), {}, &index).error_code(), grpc::UNIMPLEMENTED);
  EXPECT_EQ(stub_->RepositoryModelLoad(Context().get(), {}, &loaded).error_code(), grpc::UNIMPLEMENTED);
}

TEST_F(KServeServiceTest, RepositoryCallsGoThroughTheAdmin) {
  admin_.index = {{"dense", 1, ModelReadiness::kReady, ""}, {"pipe", 1, ModelReadiness::kUnavailable, "why"}};
  ModelStatistics dense;
  dense.name = "dense";
  dense.version = 1;
  dense.inference_count = 4;
  dense.batch_stats = {{4, {1, 10}, {1, 20}, {1, 30}}};
  admin_.stats = {dense};
  admin_.unload_result = NotFound("Model with requested name is not found");
  StartServer(kDefaultMaxInFlightPerStream, &admin_);

  inference::RepositoryIndexRequest index_request;
  index_request.set_ready(true);
  inference::RepositoryIndexResponse index;
  ASSERT_TRUE(stub_->RepositoryIndex(Context().get(), index_request, &index).ok());
  ASSERT_EQ(index.models_size(), 1);
  EXPECT_EQ(index.models(0).name(), "dense");
  EXPECT_EQ(index.models(0).version(), "1");
  EXPECT_EQ(index.models(0).state(), "READY");

  inference::ModelStatisticsRequest stats_request;
  stats_request.set_name("dense");
  stats_request.set_version("1");
  inference::ModelStatisticsResponse stats;
  ASSERT_TRUE(stub_->ModelStatistics(Context().get(), stats_request, &stats).ok());
  ASSERT_EQ(stats.model_stats_size(), 1);
  EXPECT_EQ(stats.model_stats(0).inference_count(), 4u);
  EXPECT_EQ(stats.model_stats(0).batch_stats(0).batch_size(), 4u);
  EXPECT_EQ(stats.model_stats(0).batch_stats(0).compute_infer().ns(), 20u);
  stats_request.set_version("x");
  EXPECT_EQ(stub_->ModelStatistics(Context().get(), stats_request, &stats).error_code(),
            grpc::INVALID_ARGUMENT);

  inference::RepositoryModelLoadRequest load;
  load.set_model_name("dense");
  inference::RepositoryModelLoadResponse loaded;
  EXPECT_TRUE(stub_->RepositoryModelLoad(Context().get(), load, &loaded).ok());
  (*load.mutable_parameters())["config"].set_string_param("{}");
  grpc::Status refused = stub_->RepositoryModelLoad(Context().get(), load, &loaded);
  EXPECT_EQ(refused.error_code(), grpc::INVALID_ARGUMENT);
  EXPECT_EQ(refused.error_message(),
            "Parameter 'config' is not supported: models are configured in the config file");

  inference::RepositoryModelUnloadRequest unload;
  unload.set_model_name("nope");
  (*unload.mutable_parameters())["unload_dependents"].set_bool_param(false);
  inference::RepositoryModelUnloadResponse unloaded;
  grpc::Status missing = stub_->RepositoryModelUnload(Context().get(), unload, &unloaded);
  EXPECT_EQ(missing.error_code(), grpc::NOT_FOUND);
  EXPECT_EQ(missing.error_message(), "Model with requested name is not found");
  EXPECT_EQ(admin_.calls(),
            (std::vector<std::string>{"index ready", "stats dense 1", "load dense", "unload nope"}));
}

// --- health and metadata ---------------------------------------------------

TEST_F(KServeServiceTest, ServerLiveAndReadyReportTheService) {
  inference::ServerLiveResponse live;
  inference::ServerReadyResponse ready;
  ASSERT_TRUE(stub_->ServerLive(Context().get(), {}, &live).ok());
  ASSERT_TRUE(stub_->ServerReady(Context().get(), {}, &ready).ok());
  EXPECT_TRUE(live.live());
  EXPECT_TRUE(ready.ready());

  fake_.SetLive(false);
  fake_.SetReady(false);
  ASSERT_TRUE(stub_->ServerLive(Context().get(), {}, &live).ok());
  ASSERT_TRUE(stub_->ServerReady(Context().get(), {}, &ready).ok());
  EXPECT_FALSE(live.live());
  EXPECT_FALSE(ready.ready());
}

TEST_F(KServeServiceTest, ServerMetadataComesFromTheService) {
  fake_.SetServerMetadata({"tessera", "0.1.0", {"model_repository", "binary_tensor_data"}});
  inference::ServerMetadataResponse resp;
  ASSERT_TRUE(stub_->ServerMetadata(Context().get(), {}, &resp).ok());
  EXPECT_EQ(resp.name(), "tessera");
  EXPECT_EQ(resp.version(), "0.1.0");
  ASSERT_EQ(resp.extensions_size(), 2);
  EXPECT_EQ(resp.extensions(1), "binary_tensor_data");
}

TEST_F(KServeServiceTest, ModelReadyStates) {
  fake_.AddModel(EchoMetadata());
  ModelMetadata loading;
  loading.name = "loading";
  loading.versions = {1};
  fake_.AddModel(loading, Unavailable("Model version is loading"));

  inference::ModelReadyRequest req;
  inference::ModelReadyResponse resp;
  req.set_name("echo");
  ASSERT_TRUE(stub_->ModelReady(Context().get(), req, &resp).ok());
  EXPECT_TRUE(resp.ready());

  req.set_version("2");
  ASSERT_TRUE(stub_->ModelReady(Context().get(), req, &resp).ok());
  EXPECT_TRUE(resp.ready());

  req.set_name("loading");
  req.set_version("");
  ASSERT_TRUE(stub_->ModelReady(Context().get(), req, &resp).ok());
  EXPECT_FALSE(resp.ready());
}

TEST_F(KServeServiceTest, ModelReadyErrors) {
  fake_.AddModel(EchoMetadata());
  inference::ModelReadyRequest req;
  inference::ModelReadyResponse resp;

  req.set_name("nope");
  grpc::Status s = stub_->ModelReady(Context().get(), req, &resp);
  EXPECT_EQ(s.error_code(), grpc::NOT_FOUND);
  EXPECT_EQ(s.error_message(), "Model with requested name is not found");

  req.set_name("echo");
  req.set_version("7");
  s = stub_->ModelReady(Context().get(), req, &resp);
  EXPECT_EQ(s.error_code(), grpc::NOT_FOUND);
  EXPECT_EQ(s.error_message(), "Model with requested version is not found");

  req.set_version("one");
  s = stub_->ModelReady(Context().get(), req, &resp);
  EXPECT_EQ(s.error_code(), grpc::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("'one'"), std::string::npos);
}

TEST_F(KServeServiceTest, ModelMetadataDescribesTheModel) {
  fake_.AddModel(EchoMetadata());
  inference::ModelMetadataRequest req;
  req.set_name("echo");
  inference::ModelMetadataResponse resp;
  ASSERT_TRUE(stub_->ModelMetadata(Context().get(), req, &resp).ok());
  EXPECT_EQ(resp.name(), "echo");
  EXPECT_EQ(std::vector<std::string>(resp.versions().begin(), resp.versions().end()),
            (std::vector<std::string>{"1", "2"}));
  EXPECT_EQ(resp.platform(), "pytorch_torchscript");
  ASSERT_EQ(resp.inputs_size(), 1);
  EXPECT_EQ(resp.inputs(0).name(), "x");
  EXPECT_EQ(resp.inputs(0).datatype(), "FP32");
  ASSERT_EQ(resp.inputs(0).shape_size(), 1);
  EXPECT_EQ(resp.inputs(0).shape(0), -1);
  ASSERT_EQ(resp.outputs_size(), 1);
}

TEST_F(KServeServiceTest, ModelMetadataErrors) {
  fake_.AddModel(EchoMetadata());
  inference::ModelMetadataRequest req;
  inference::ModelMetadataResponse resp;
  req.set_name("missing");
  EXPECT_EQ(stub_->ModelMetadata(Context().get(), req, &resp).error_code(), grpc::NOT_FOUND);
  req.set_name("echo");
  req.set_version("9");
  EXPECT_EQ(stub_->ModelMetadata(Context().get(), req, &resp).error_code(), grpc::NOT_FOUND);
  req.set_version("-2");
  EXPECT_EQ(stub_->ModelMetadata(Context().get(), req, &resp).error_code(),
            grpc::INVALID_ARGUMENT);
}

// --- ModelInfer ------------------------------------------------------------

TEST_F(KServeServiceTest, ModelInferRawRoundTrip) {
  ModelInferRequest req = RawRequest("r1", {1.f, 2.f, 3.f});
  req.set_model_version("2");
  ModelInferResponse resp;
  grpc::Status s = Infer(req, &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(resp.model_name(), "echo");
  EXPECT_EQ(resp.model_version(), "2");
  EXPECT_EQ(resp.id(), "r1");
  ASSERT_EQ(resp.outputs_size(), 1);
  EXPECT_EQ(resp.outputs(0).name(), "x");
  EXPECT_EQ(resp.outputs(0).datatype(), "FP32");
  ASSERT_EQ(resp.outputs(0).shape_size(), 1);
  EXPECT_EQ(resp.outputs(0).shape(0), 3);
  ASSERT_EQ(resp.raw_output_contents_size(), 1);
  EXPECT_EQ(resp.raw_output_contents(0), FloatBytes({1.f, 2.f, 3.f}));

  std::vector<InferRequest> calls = fake_.calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].model_name, "echo");
  EXPECT_EQ(calls[0].model_version, 2);
  EXPECT_EQ(calls[0].id, "r1");
  ASSERT_EQ(calls[0].inputs.size(), 1u);
  EXPECT_EQ(calls[0].inputs[0].tensor.data_as<float>()[2], 3.f);
}

TEST_F(KServeServiceTest, ModelInferTypedContentsComeBackRaw) {
  ModelInferRequest req;
  req.set_model_name("echo");
  auto* in = req.add_inputs();
  in->set_name("n");
  in->set_datatype("INT16");
  in->add_shape(2);
  in->mutable_contents()->add_int_contents(-3);
  in->mutable_contents()->add_int_contents(300);
  ModelInferResponse resp;
  ASSERT_TRUE(Infer(req, &resp).ok());
  ASSERT_EQ(resp.raw_output_contents_size(), 1);
  EXPECT_EQ(resp.outputs(0).datatype(), "INT16");
  const std::string& raw = resp.raw_output_contents(0);
  ASSERT_EQ(raw.size(), 4u);
  int16_t values[2];
  std::memcpy(values, raw.data(), 4);
  EXPECT_EQ(values[0], -3);
  EXPECT_EQ(values[1], 300);
  EXPECT_FALSE(resp.outputs(0).has_contents());
}

TEST_F(KServeServiceTest, ModelInferHonoursRequestedOutputs) {
  ModelInferRequest req = RawRequest("", {1.f});
  auto* b = req.add_inputs();
  b->set_name("y");
  b->set_datatype("FP32");
  b->add_shape(1);
  req.add_raw_input_contents(FloatBytes({9.f}));
  req.add_outputs()->set_name("y");
  ModelInferResponse resp;
  ASSERT_TRUE(Infer(req, &resp).ok());
  ASSERT_EQ(resp.outputs_size(), 1);
  EXPECT_EQ(resp.outputs(0).name(), "y");
  EXPECT_EQ(resp.raw_output_contents(0), FloatBytes({9.f}));
  EXPECT_EQ(fake_.calls().at(0).requested_outputs, std::vector<std::string>{"y"});
}

TEST_F(KServeServiceTest, ModelInferBadRequestIsInvalidArgumentAndNeverReachesTheService) {
  ModelInferRequest req = RawRequest("bad", {1.f, 2.f});
  req.mutable_inputs(0)->set_datatype("FLOAT");
  ModelInferResponse resp;
  grpc::Status s = Infer(req, &resp);
  EXPECT_EQ(s.error_code(), grpc::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("'FLOAT'"), std::string::npos) << s.error_message();

  req = RawRequest("bad", {1.f, 2.f});
  req.mutable_raw_input_contents(0)->resize(7);
  s = Infer(req, &resp);
  EXPECT_EQ(s.error_code(), grpc::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("Expected: 8 bytes; Actual: 7 bytes"), std::string::npos)
      << s.error_message();
  EXPECT_EQ(fake_.call_count(), 0u);
}

TEST_F(KServeServiceTest, ModelInferMapsServiceErrorsToGrpcCodes) {
  const std::vector<std::pair<Status, grpc::StatusCode>> cases = {
      {NotFound("Model with requested name is not found"), grpc::NOT_FOUND},
      {Unavailable("Model version is loading"), grpc::UNAVAILABLE},
      {InvalidArgument("Invalid input shape"), grpc::INVALID_ARGUMENT},
      {ResourceExhausted("queue full"), grpc::RESOURCE_EXHAUSTED},
      {FailedPrecondition("reload needed"), grpc::FAILED_PRECONDITION},
      {Internal("engine failed"), grpc::INTERNAL},
      {Status(StatusCode::kDeadlineExceeded, "Deadline exceeded while queued for model echo"),
       grpc::DEADLINE_EXCEEDED},
      {Status(StatusCode::kCancelled, "Request cancelled while queued for model echo"),
       grpc::CANCELLED},
  };
  for (const auto& [status, code] : cases) {
    fake_.SetHandler([status = status](const InferRequest&) -> Result<InferResponse> {
      return status;
    });
    ModelInferResponse resp;
    grpc::Status s = Infer(RawRequest("e", {1.f}), &resp);
    EXPECT_EQ(s.error_code(), code) << status.ToString();
    EXPECT_EQ(s.error_message(), status.message());
  }
}

TEST_F(KServeServiceTest, ModelInferBrokenEngineOutputIsInternal) {
  fake_.SetHandler([](const InferRequest&) -> Result<InferResponse> {
    InferResponse r;
    r.outputs.push_back({"y", Tensor::FromBytes(DataType::kFp32, {4}, "short")});
    return r;
  });
  ModelInferResponse resp;
  EXPECT_EQ(Infer(RawRequest("e", {1.f}), &resp).error_code(), grpc::INTERNAL);
}

TEST_F(KServeServiceTest, ModelInferEchoesIdEvenIfTheEngineDoesNot) {
  fake_.SetHandler([](const InferRequest& req) -> Result<InferResponse> {
    InferResponse r;  // no name, no id
    r.model_version = 1;
    return r;
  });
  ModelInferResponse resp;
  ASSERT_TRUE(Infer(RawRequest("keep-me", {1.f}), &resp).ok());
  EXPECT_EQ(resp.id(), "keep-me");
  EXPECT_EQ(resp.model_name(), "echo");
}

TEST_F(KServeServiceTest, ModelInferDoesNotHoldGrpcThreadsWhileInferring) {
  fake_.SetAsync(true);
  fake_.SetHold(true);
  constexpr int kCalls = 16;  // well above gRPC's callback threads on this machine
  std::vector<std::future<grpc::Status>> calls;
  for (int i = 0; i < kCalls; ++i) {
    calls.push_back(std::async(std::launch::async, [this, i] {
      ModelInferResponse resp;
      grpc::Status s = Infer(RawRequest(std::to_string(i), {float(i)}), &resp);
      if (s.ok() && resp.id() != std::to_string(i)) return grpc::Status(grpc::INTERNAL, "id");
      return s;
    }));
  }
  ASSERT_TRUE(fake_.WaitForCalls(kCalls, 10s));
  // Every inference is parked, yet the server still answers.
  inference::ServerLiveResponse live;
  EXPECT_TRUE(stub_->ServerLive(Context().get(), {}, &live).ok());
  EXPECT_EQ(fake_.pending_count(), static_cast<size_t>(kCalls));

  fake_.SetHold(false);
  for (auto& call : calls) {
    grpc::Status s = call.get();
    EXPECT_TRUE(s.ok()) << s.error_message();
  }
}

// --- deadlines and cancellation --------------------------------------------

void SetTimeout(ModelInferRequest& req, int64_t microseconds) {
  (*req.mutable_parameters())["timeout"].set_int64_param(microseconds);
}

// Waits (up to 5 s) for the request's cancellation check to turn true, as
// the core would see it; false when it has none or it stays false.
bool SeesCancel(const InferRequest& request) {
  if (!request.cancelled) return false;
  for (int i = 0; i < 500 && !request.cancelled(); ++i) std::this_thread::sleep_for(10ms);
  return request.cancelled();
}

TEST_F(KServeServiceTest, ModelInferPassesTheCallDeadline) {
  const auto before = DeadlineClock::now();
  ModelInferResponse resp;
  ASSERT_TRUE(Infer(RawRequest("d", {1.f}), &resp).ok());  // the client allows 20 s
  const auto after = DeadlineClock::now();
  ASSERT_EQ(fake_.call_count(), 1u);
  const InferRequest call = fake_.calls()[0];
  ASSERT_TRUE(call.deadline.has_value());
  EXPECT_GT(*call.deadline, before);
  EXPECT_LE(*call.deadline, after + 21s);  // gRPC rounds the timeout it sends up
  ASSERT_TRUE(call.cancelled != nullptr);
}

TEST_F(KServeServiceTest, ModelInferWithoutAClientDeadlineHasNone) {
  grpc::ClientContext ctx;  // no deadline
  ModelInferResponse resp;
  ASSERT_TRUE(stub_->ModelInfer(&ctx, RawRequest("d", {1.f}), &resp).ok());
  ASSERT_EQ(fake_.call_count(), 1u);
  EXPECT_FALSE(fake_.calls()[0].deadline.has_value());
}

TEST_F(KServeServiceTest, ModelInferTimeoutParameterWinsWhenEarlier) {
  ModelInferRequest req = RawRequest("t", {1.f});
  SetTimeout(req, 2'000'000);  // 2 s, the client allows 20 s
  const auto before = DeadlineClock::now();
  ModelInferResponse resp;
  ASSERT_TRUE(Infer(req, &resp).ok());
  const auto after = DeadlineClock::now();
  const InferRequest call = fake_.calls()[0];
  ASSERT_TRUE(call.deadline.has_value());
  EXPECT_GE(*call.deadline, before + 2s);
  EXPECT_LE(*call.deadline, after + 2s);

  // A timeout of 0 is none: the call's deadline applies.
  grpc::ClientContext ctx;
  req = RawRequest("t0", {1.f});
  SetTimeout(req, 0);
  ASSERT_TRUE(stub_->ModelInfer(&ctx, req, &resp).ok());
  EXPECT_FALSE(fake_.calls()[1].deadline.has_value());
}

TEST_F(KServeServiceTest, ModelInferBadTimeoutParameterIsInvalidArgument) {
  ModelInferRequest req = RawRequest("t", {1.f});
  (*req.mutable_parameters())["timeout"].set_string_param("1s");
  ModelInferResponse resp;
  grpc::Status s = Infer(req, &resp);
  EXPECT_EQ(s.error_code(), grpc::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message(), "Invalid parameter 'timeout': expected a non-negative integer (microseconds)");
  SetTimeout(req, -1);
  s = Infer(req, &resp);
  EXPECT_EQ(s.error_code(), grpc::INVALID_ARGUMENT);
  EXPECT_EQ(fake_.call_count(), 0u);
}

TEST_F(KServeServiceTest, ModelInferCancelledByTheClientIsSeenByTheCore) {
  std::promise<bool> saw_cancel;  // set by the handler (WaitForIdle does not wait for it)
  fake_.SetHandler([&saw_cancel](const InferRequest& request) -> Result<InferResponse> {
    saw_cancel.set_value(SeesCancel(request));
    return FakeInferenceService::Echo(request);
  });
  fake_.SetAsync(true);
  fake_.SetHold(true);
  grpc::ClientContext ctx;
  auto call = std::async(std::launch::async, [&] {
    ModelInferResponse resp;
    return stub_->ModelInfer(&ctx, RawRequest("c", {1.f}), &resp);
  });
  ASSERT_TRUE(fake_.WaitForCalls(1, 10s));
  ctx.TryCancel();
  EXPECT_EQ(call.get().error_code(), grpc::CANCELLED);
  fake_.SetHold(false);  // the core looks at the request only now
  auto seen = saw_cancel.get_future();
  ASSERT_EQ(seen.wait_for(10s), std::future_status::ready);
  EXPECT_TRUE(seen.get());
}

TEST_F(KServeServiceTest, StreamRequestsCarryTheStreamDeadlineAndCancellation) {
  std::promise<bool> saw_cancel;  // set by the handler of "held"
  fake_.SetHandler([&saw_cancel](const InferRequest& request) -> Result<InferResponse> {
    if (request.id == "held") saw_cancel.set_value(SeesCancel(request));
    return FakeInferenceService::Echo(request);
  });
  const auto before = DeadlineClock::now();
  auto ctx = Context();  // 20 s for the whole stream
  std::unique_ptr<Stream> stream = stub_->ModelStreamInfer(ctx.get());
  ModelInferRequest timed = RawRequest("timed", {1.f});
  SetTimeout(timed, 1'000'000);
  ASSERT_TRUE(stream->Write(RawRequest("plain", {1.f})));
  ASSERT_TRUE(stream->Write(timed));
  ModelStreamInferResponse reply;
  ASSERT_TRUE(stream->Read(&reply));
  ASSERT_TRUE(stream->Read(&reply));
  const auto after = DeadlineClock::now();
  std::map<std::string, InferRequest> calls;
  for (const auto& c : fake_.calls()) calls[c.id] = c;
  ASSERT_TRUE(calls["plain"].deadline.has_value());
  EXPECT_GT(*calls["plain"].deadline, before);
  EXPECT_LE(*calls["plain"].deadline, after + 21s);  // gRPC rounds the timeout it sends up
  ASSERT_TRUE(calls["timed"].deadline.has_value());
  EXPECT_LE(*calls["timed"].deadline, after + 1s);  // its own timeout is earlier

  fake_.SetAsync(true);
  fake_.SetHold(true);
  ASSERT_TRUE(stream->Write(RawRequest("held", {1.f})));
  ASSERT_TRUE(fake_.WaitForCalls(3, 10s));
  ctx->TryCancel();
  EXPECT_EQ(stream->Finish().error_code(), grpc::CANCELLED);
  fake_.SetHold(false);
  auto seen = saw_cancel.get_future();
  ASSERT_EQ(seen.wait_for(10s), std::future_status::ready);
  EXPECT_TRUE(seen.get());
}

// --- ModelStreamInfer ------------------------------------------------------

std::vector<ModelStreamInferResponse> ReadAll(Stream& stream) {
  std::vector<ModelStreamInferResponse> out;
  ModelStreamInferResponse r;
  while (stream.Read(&r)) out.push_back(r);
  return out;
}

// Replies by request id. Replies come in completion order, and the next
// request is read while the previous one is being dispatched, so even a
// synchronous engine does not fix the order.
std::map<std::string, ModelStreamInferResponse> ById(
    const std::vector<ModelStreamInferResponse>& replies) {
  std::map<std::string, ModelStreamInferResponse> out;
  for (const auto& r : replies) out[r.infer_response().id()] = r;
  return out;
}

TEST_F(KServeServiceTest, StreamAnswersEveryRequestAndContinuesAfterErrors) {
  auto ctx = Context();
  std::unique_ptr<Stream> stream = stub_->ModelStreamInfer(ctx.get());
  ASSERT_TRUE(stream->Write(RawRequest("a", {1.f})));
  ModelInferRequest bad = RawRequest("b", {2.f});
  bad.mutable_inputs(0)->set_datatype("NOPE");
  ASSERT_TRUE(stream->Write(bad));
  ASSERT_TRUE(stream->Write(RawRequest("c", {3.f, 4.f})));
  ASSERT_TRUE(stream->WritesDone());

  std::vector<ModelStreamInferResponse> all = ReadAll(*stream);
  grpc::Status s = stream->Finish();
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(all.size(), 3u);
  auto replies = ById(all);
  ASSERT_EQ(replies.size(), 3u);
  EXPECT_EQ(replies["a"].error_message(), "");
  ASSERT_EQ(replies["a"].infer_response().raw_output_contents_size(), 1);
  EXPECT_EQ(replies["a"].infer_response().raw_output_contents(0), FloatBytes({1.f}));
  EXPECT_NE(replies["b"].error_message().find("'NOPE'"), std::string::npos);
  EXPECT_EQ(replies["b"].infer_response().raw_output_contents_size(), 0);
  EXPECT_EQ(replies["c"].error_message(), "");
  ASSERT_EQ(replies["c"].infer_response().raw_output_contents_size(), 1);
  EXPECT_EQ(replies["c"].infer_response().raw_output_contents(0), FloatBytes({3.f, 4.f}));
  EXPECT_EQ(fake_.call_count(), 2u);
}

TEST_F(KServeServiceTest, StreamReportsEngineErrorsInTheReply) {
  fake_.SetHandler([](const InferRequest& req) -> Result<InferResponse> {
    if (req.model_name == "missing") return NotFound("Model with requested name is not found");
    return FakeInferenceService::Echo(req);
  });
  auto ctx = Context();
  std::unique_ptr<Stream> stream = stub_->ModelStreamInfer(ctx.get());
  ASSERT_TRUE(stream->Write(RawRequest("1", {1.f}, "missing")));
  ASSERT_TRUE(stream->Write(RawRequest("2", {2.f})));
  ASSERT_TRUE(stream->WritesDone());
  std::vector<ModelStreamInferResponse> all = ReadAll(*stream);
  ASSERT_TRUE(stream->Finish().ok());
  ASSERT_EQ(all.size(), 2u);
  auto replies = ById(all);
  ASSERT_EQ(replies.size(), 2u);
  EXPECT_EQ(replies["1"].error_message(), "Model with requested name is not found");
  EXPECT_EQ(replies["1"].infer_response().model_name(), "missing");
  EXPECT_EQ(replies["2"].error_message(), "");
  EXPECT_EQ(replies["2"].infer_response().model_name(), "echo");
}

TEST_F(KServeServiceTest, StreamWritesRepliesAsTheyComplete) {
  fake_.SetAsync(true);
  fake_.SetDelay([](const InferRequest& req) {
    return req.id == "slow" ? std::chrono::milliseconds(400) : std::chrono::milliseconds(0);
  });
  auto ctx = Context();
  std::unique_ptr<Stream> stream = stub_->ModelStreamInfer(ctx.get());
  ASSERT_TRUE(stream->Write(RawRequest("slow", {1.f})));
  ASSERT_TRUE(stream->Write(RawRequest("fast", {2.f})));
  ASSERT_TRUE(stream->WritesDone());
  std::vector<ModelStreamInferResponse> replies = ReadAll(*stream);
  ASSERT_TRUE(stream->Finish().ok());
  ASSERT_EQ(replies.size(), 2u);
  EXPECT_EQ(replies[0].infer_response().id(), "fast");
  EXPECT_EQ(replies[1].infer_response().id(), "slow");
}

TEST_F(KServeServiceTest, StreamWithManyRequestsInFlight) {
  fake_.SetAsync(true);
  fake_.SetDelay([](const InferRequest& req) {
    return std::chrono::milliseconds(std::stoi(req.id) % 7);
  });
  constexpr int kRequests = 200;
  auto ctx = Context();
  std::unique_ptr<Stream> stream = stub_->ModelStreamInfer(ctx.get());
  std::thread writer([&] {
    for (int i = 0; i < kRequests; ++i) {
      ASSERT_TRUE(stream->Write(RawRequest(std::to_string(i), {float(i)})));
    }
    stream->WritesDone();
  });
  std::vector<ModelStreamInferResponse> replies = ReadAll(*stream);
  writer.join();
  ASSERT_TRUE(stream->Finish().ok());
  ASSERT_EQ(replies.size(), static_cast<size_t>(kRequests));
  std::set<std::string> ids;
  for (const auto& r : replies) {
    EXPECT_EQ(r.error_message(), "");
    float v;
    std::memcpy(&v, r.infer_response().raw_output_contents(0).data(), sizeof(v));
    EXPECT_EQ(std::to_string(static_cast<int>(v)), r.infer_response().id());
    ids.insert(r.infer_response().id());
  }
  EXPECT_EQ(ids.size(), static_cast<size_t>(kRequests));
}

TEST_F(KServeServiceTest, StreamClosedWithoutRequestsFinishesOk) {
  auto ctx = Context();
  std::unique_ptr<Stream> stream = stub_->ModelStreamInfer(ctx.get());
  ASSERT_TRUE(stream->WritesDone());
  EXPECT_TRUE(ReadAll(*stream).empty());
  EXPECT_TRUE(stream->Finish().ok());
}

TEST_F(KServeServiceTest, StreamStopsReadingAtTheInFlightLimit) {
  StartServer(/*max_in_flight=*/2);
  fake_.SetAsync(true);
  fake_.SetHold(true);
  auto ctx = Context();
  std::unique_ptr<Stream> stream = stub_->ModelStreamInfer(ctx.get());
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(stream->Write(RawRequest(std::to_string(i), {1.f})));
  ASSERT_TRUE(stream->WritesDone());

  ASSERT_TRUE(fake_.WaitForCalls(2, 10s));
  EXPECT_FALSE(fake_.WaitForCalls(3, 300ms));  // the third is not read yet

  fake_.SetHold(false);
  std::vector<ModelStreamInferResponse> replies = ReadAll(*stream);
  ASSERT_TRUE(stream->Finish().ok());
  EXPECT_EQ(replies.size(), 5u);
  EXPECT_EQ(fake_.call_count(), 5u);
}

TEST_F(KServeServiceTest, CancelledStreamWithInferencesInFlightIsCleanedUp) {
  fake_.SetAsync(true);
  fake_.SetHold(true);
  {
    auto ctx = Context();
    std::unique_ptr<Stream> stream = stub_->ModelStreamInfer(ctx.get());
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(stream->Write(RawRequest(std::to_string(i), {1.f})));
    ASSERT_TRUE(fake_.WaitForCalls(3, 10s));
    EXPECT_EQ(service_->active_streams(), 1);
    ctx->TryCancel();
    EXPECT_EQ(stream->Finish().error_code(), grpc::CANCELLED);
  }
  // The engine finishes after the client is gone: the replies are dropped
  // and the stream state goes away only now.
  fake_.SetHold(false);
  ASSERT_TRUE(fake_.WaitForIdle(10s));
  for (int i = 0; i < 500 && service_->active_streams() != 0; ++i) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(service_->active_streams(), 0);

  // The service is still fine.
  ModelInferResponse resp;
  EXPECT_TRUE(Infer(RawRequest("after", {5.f}), &resp).ok());
}

TEST_F(KServeServiceTest, CancelledStreamMayOutliveServerAndService) {
  fake_.SetAsync(true);
  fake_.SetHold(true);
  auto ctx = Context();
  std::unique_ptr<Stream> stream = stub_->ModelStreamInfer(ctx.get());
  for (int i = 0; i < 2; ++i) ASSERT_TRUE(stream->Write(RawRequest(std::to_string(i), {1.f})));
  ASSERT_TRUE(fake_.WaitForCalls(2, 10s));
  ctx->TryCancel();
  EXPECT_EQ(stream->Finish().error_code(), grpc::CANCELLED);
  // Shutdown waits for the call, not for the engine: both go away first.
  server_.reset();
  service_.reset();
  fake_.SetHold(false);
  EXPECT_TRUE(fake_.WaitForIdle(10s));
}

TEST_F(KServeServiceTest, ServerShutdownEndsIdleStreams) {
  auto ctx = Context();
  std::unique_ptr<Stream> stream = stub_->ModelStreamInfer(ctx.get());
  ASSERT_TRUE(stream->Write(RawRequest("1", {1.f})));
  ModelStreamInferResponse reply;
  ASSERT_TRUE(stream->Read(&reply));
  server_->Shutdown(std::chrono::system_clock::now() + 200ms);
  EXPECT_FALSE(stream->Read(&reply));
  EXPECT_FALSE(stream->Finish().ok());
  for (int i = 0; i < 500 && service_->active_streams() != 0; ++i) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(service_->active_streams(), 0);
}

}  // namespace
}  // namespace tessera::kserve_grpc
