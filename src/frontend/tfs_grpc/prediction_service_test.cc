#include "frontend/tfs_grpc/prediction_service.h"

#include <gtest/gtest.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <cstring>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "core/testing/fake_inference_service.h"
#include "transport/grpc_server.h"

namespace tessera::tfs_grpc {
namespace {

using namespace std::chrono_literals;
using tensorflow::TensorProto;
using tensorflow::serving::GetModelMetadataRequest;
using tensorflow::serving::GetModelMetadataResponse;
using tensorflow::serving::PredictionService;
using tensorflow::serving::PredictRequest;
using tensorflow::serving::PredictResponse;
using testing::FakeInferenceService;

std::string FloatBytes(std::initializer_list<float> v) {
  std::string out(v.size() * sizeof(float), '\0');
  std::memcpy(out.data(), std::data(v), out.size());
  return out;
}

std::vector<float> Floats(const std::string& bytes) {
  std::vector<float> out(bytes.size() / sizeof(float));
  std::memcpy(out.data(), bytes.data(), out.size() * sizeof(float));
  return out;
}

TensorProto FloatTensor(std::initializer_list<float> values) {
  TensorProto p;
  p.set_dtype(tensorflow::DT_FLOAT);
  p.mutable_tensor_shape()->add_dim()->set_size(static_cast<int64_t>(values.size()));
  p.set_tensor_content(FloatBytes(values));
  return p;
}

PredictRequest Request(const std::string& model, std::initializer_list<float> x) {
  PredictRequest req;
  req.mutable_model_spec()->set_name(model);
  (*req.mutable_inputs())["x"] = FloatTensor(x);
  return req;
}

ModelMetadata EchoMetadata() {
  ModelMetadata md;
  md.name = "echo";
  md.versions = {1, 2};
  md.platform = "pytorch_torchscript";
  md.signature.inputs = {{"x", DataType::kFp32, {-1, 3}}};
  md.signature.outputs = {{"y", DataType::kInt64, {-1}}};
  return md;
}

class TfsPredictionServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    transport::GrpcServerOptions options;
    options.address = "127.0.0.1";
    server_ = std::make_unique<transport::GrpcServer>(options);
    server_->AddService(&service_);
    Status started = server_->Start();
    ASSERT_TRUE(started.ok()) << started.ToString();
    stub_ = PredictionService::NewStub(grpc::CreateChannel(
        "127.0.0.1:" + std::to_string(server_->port()), grpc::InsecureChannelCredentials()));
    fake_.AddModel(EchoMetadata());
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

  grpc::Status Predict(const PredictRequest& req, PredictResponse* resp) {
    return stub_->Predict(Context().get(), req, resp);
  }

  grpc::Status Metadata(const GetModelMetadataRequest& req, GetModelMetadataResponse* resp) {
    return stub_->GetModelMetadata(Context().get(), req, resp);
  }

  // Member order matters: the fake outlives the service, which outlives the
  // server.
  FakeInferenceService fake_;
  TfsPredictionService service_{fake_};
  std::unique_ptr<transport::GrpcServer> server_;
  std::unique_ptr<PredictionService::Stub> stub_;
};

// --- Predict ---------------------------------------------------------------

TEST_F(TfsPredictionServiceTest, PredictRoundTripEchoesModelSpec) {
  PredictResponse resp;
  grpc::Status s = Predict(Request("echo", {1.f, 2.5f, -3.f}), &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(resp.model_spec().name(), "echo");
  EXPECT_EQ(resp.model_spec().version().value(), 1);
  EXPECT_EQ(resp.model_spec().signature_name(), "serving_default");
  ASSERT_EQ(resp.outputs_size(), 1);
  const TensorProto& x = resp.outputs().at("x");
  EXPECT_EQ(x.dtype(), tensorflow::DT_FLOAT);
  ASSERT_EQ(x.tensor_shape().dim_size(), 1);
  EXPECT_EQ(x.tensor_shape().dim(0).size(), 3);
  EXPECT_EQ(Floats(x.tensor_content()), (std::vector<float>{1.f, 2.5f, -3.f}));

  ASSERT_EQ(fake_.call_count(), 1u);
  EXPECT_EQ(fake_.calls()[0].model_name, "echo");
  EXPECT_EQ(fake_.calls()[0].model_version, kDefaultVersion);
}

TEST_F(TfsPredictionServiceTest, PredictPassesTheVersionAndTypedValues) {
  PredictRequest req;
  req.mutable_model_spec()->set_name("echo");
  req.mutable_model_spec()->mutable_version()->set_value(2);
  TensorProto& ids = (*req.mutable_inputs())["ids"];
  ids.set_dtype(tensorflow::DT_INT64);
  ids.mutable_tensor_shape()->add_dim()->set_size(2);
  ids.add_int64_val(-7);
  ids.add_int64_val(1LL << 40);
  PredictResponse resp;
  grpc::Status s = Predict(req, &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(resp.model_spec().version().value(), 2);
  const TensorProto& out = resp.outputs().at("ids");
  EXPECT_EQ(out.dtype(), tensorflow::DT_INT64);
  std::vector<int64_t> values(2);
  ASSERT_EQ(out.tensor_content().size(), sizeof(int64_t) * 2);
  std::memcpy(values.data(), out.tensor_content().data(), out.tensor_content().size());
  EXPECT_EQ(values, (std::vector<int64_t>{-7, 1LL << 40}));
  EXPECT_EQ(fake_.calls()[0].model_version, 2);
}

TEST_F(TfsPredictionServiceTest, PredictHonoursOutputFilter) {
  PredictRequest req = Request("echo", {1.f});
  (*req.mutable_inputs())["z"] = FloatTensor({9.f, 8.f});
  req.add_output_filter("z");
  PredictResponse resp;
  ASSERT_TRUE(Predict(req, &resp).ok());
  ASSERT_EQ(resp.outputs_size(), 1);
  EXPECT_EQ(Floats(resp.outputs().at("z").tensor_content()), (std::vector<float>{9.f, 8.f}));
  EXPECT_EQ(fake_.calls()[0].requested_outputs, (std::vector<std::string>{"z"}));
}

TEST_F(TfsPredictionServiceTest, BadRequestIsInvalidArgumentAndNeverReachesTheService) {
  PredictRequest req = Request("echo", {1.f});
  (*req.mutable_inputs())["x"].set_tensor_content("abc");
  PredictResponse resp;
  grpc::Status s = Predict(req, &resp);
  EXPECT_EQ(s.error_code(), grpc::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message(),
            "Invalid content size of tensor proto - Expected: 4 bytes; Actual: 3 bytes; input "
            "name: x");

  req = Request("echo", {1.f});
  req.mutable_model_spec()->set_version_label("stable");
  s = Predict(req, &resp);
  EXPECT_EQ(s.error_code(), grpc::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message(), "version_label is not supported; use version");
  EXPECT_EQ(fake_.call_count(), 0u);
}

TEST_F(TfsPredictionServiceTest, ServiceErrorsMapToGrpcCodes) {
  const std::pair<Status, grpc::StatusCode> cases[] = {
      {NotFound("Model with requested name is not found"), grpc::NOT_FOUND},
      {NotFound("Model with requested version is not found"), grpc::NOT_FOUND},
      {InvalidArgument("Invalid input shape - Expected: (1,3); Actual: (1,4); input name: x"),
       grpc::INVALID_ARGUMENT},
      {Unavailable("Model with requested version is not loaded yet"), grpc::UNAVAILABLE},
      {Internal("engine failed"), grpc::INTERNAL},
      {FailedPrecondition("reload needed"), grpc::FAILED_PRECONDITION},
      {ResourceExhausted("queue full"), grpc::RESOURCE_EXHAUSTED},
      {Status(StatusCode::kDeadlineExceeded, "Deadline exceeded while queued for model echo"),
       grpc::DEADLINE_EXCEEDED},
      {Status(StatusCode::kCancelled, "Request cancelled while queued for model echo"),
       grpc::CANCELLED},
  };
  for (const auto& [status, code] : cases) {
    fake_.SetHandler([status = status](const InferRequest&) -> Result<InferResponse> {
      return status;
    });
    PredictResponse resp;
    grpc::Status s = Predict(Request("echo", {1.f}), &resp);
    EXPECT_EQ(s.error_code(), code) << status.ToString();
    EXPECT_EQ(s.error_message(), status.message());
  }
}

TEST_F(TfsPredictionServiceTest, PredictPassesTheCallDeadlineAndCancellation) {
  const auto before = DeadlineClock::now();
  PredictResponse resp;
  ASSERT_TRUE(Predict(Request("echo", {1.f}), &resp).ok());  // the client allows 20 s
  const auto after = DeadlineClock::now();
  ASSERT_EQ(fake_.call_count(), 1u);
  InferRequest call = fake_.calls()[0];
  ASSERT_TRUE(call.deadline.has_value());
  EXPECT_GT(*call.deadline, before);
  EXPECT_LE(*call.deadline, after + 21s);  // gRPC rounds the timeout it sends up

  grpc::ClientContext no_deadline;
  ASSERT_TRUE(stub_->Predict(&no_deadline, Request("echo", {1.f}), &resp).ok());
  EXPECT_FALSE(fake_.calls()[1].deadline.has_value());

  std::promise<bool> saw_cancel;  // set by the handler (WaitForIdle does not wait for it)
  fake_.SetHandler([&saw_cancel](const InferRequest& request) -> Result<InferResponse> {
    for (int i = 0; i < 500 && request.cancelled && !request.cancelled(); ++i) {
      std::this_thread::sleep_for(10ms);
    }
    saw_cancel.set_value(request.cancelled && request.cancelled());
    return FakeInferenceService::Echo(request);
  });
  fake_.SetAsync(true);
  fake_.SetHold(true);
  grpc::ClientContext ctx;
  auto pending = std::async(std::launch::async, [&] {
    PredictResponse r;
    return stub_->Predict(&ctx, Request("echo", {1.f}), &r);
  });
  ASSERT_TRUE(fake_.WaitForCalls(3, 10s));
  ctx.TryCancel();
  EXPECT_EQ(pending.get().error_code(), grpc::CANCELLED);
  fake_.SetHold(false);
  auto seen = saw_cancel.get_future();
  ASSERT_EQ(seen.wait_for(10s), std::future_status::ready);
  EXPECT_TRUE(seen.get());
}

TEST_F(TfsPredictionServiceTest, BrokenEngineOutputIsInternal) {
  fake_.SetHandler([](const InferRequest&) -> Result<InferResponse> {
    InferResponse r;
    r.outputs.push_back({"y", Tensor::FromBytes(DataType::kFp32, {2}, "xyz")});
    return r;
  });
  PredictResponse resp;
  grpc::Status s = Predict(Request("echo", {1.f}), &resp);
  EXPECT_EQ(s.error_code(), grpc::INTERNAL);
  EXPECT_NE(s.error_message().find("Inconsistent output"), std::string::npos);
}

TEST_F(TfsPredictionServiceTest, BorrowedInputsStayValidUntilAsyncCompletion) {
  fake_.SetAsync(true);
  fake_.SetDelay([](const InferRequest&) { return 50ms; });
  fake_.SetHandler([](const InferRequest& r) -> Result<InferResponse> {
    // Runs on the fake's thread, after Predict returned to gRPC.
    InferResponse out;
    out.model_version = 1;
    float sum = 0;
    const Tensor& x = r.inputs.at(0).tensor;
    for (int64_t i = 0; i < x.element_count(); ++i) sum += x.data_as<float>()[i];
    out.outputs.push_back({"sum", Tensor::FromBytes(DataType::kFp32, {1}, FloatBytes({sum}))});
    return out;
  });
  PredictResponse resp;
  grpc::Status s = Predict(Request("echo", {1.f, 2.f, 3.5f}), &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(Floats(resp.outputs().at("sum").tensor_content()), (std::vector<float>{6.5f}));
  EXPECT_EQ(resp.model_spec().name(), "echo");  // the handler named no model
}

TEST_F(TfsPredictionServiceTest, PredictDoesNotHoldGrpcThreadsWhileInferring) {
  fake_.SetAsync(true);
  fake_.SetHold(true);
  constexpr int kCalls = 16;  // well above gRPC's callback threads on this machine
  std::vector<std::future<grpc::Status>> calls;
  for (int i = 0; i < kCalls; ++i) {
    calls.push_back(std::async(std::launch::async, [this, i] {
      PredictResponse resp;
      grpc::Status s = Predict(Request("echo", {float(i)}), &resp);
      if (s.ok() && Floats(resp.outputs().at("x").tensor_content()) != std::vector<float>{float(i)}) {
        return grpc::Status(grpc::INTERNAL, "wrong value");
      }
      return s;
    }));
  }
  ASSERT_TRUE(fake_.WaitForCalls(kCalls, 10s));
  // Every inference is parked, yet the server still answers.
  GetModelMetadataRequest req;
  req.mutable_model_spec()->set_name("echo");
  req.add_metadata_field("signature_def");
  GetModelMetadataResponse md;
  EXPECT_TRUE(Metadata(req, &md).ok());
  EXPECT_EQ(fake_.pending_count(), static_cast<size_t>(kCalls));

  fake_.SetHold(false);
  for (auto& call : calls) {
    grpc::Status s = call.get();
    EXPECT_TRUE(s.ok()) << s.error_message();
  }
}

// --- GetModelMetadata ------------------------------------------------------

TEST_F(TfsPredictionServiceTest, MetadataDescribesTheSignature) {
  GetModelMetadataRequest req;
  req.mutable_model_spec()->set_name("echo");
  req.add_metadata_field("signature_def");
  GetModelMetadataResponse resp;
  grpc::Status s = Metadata(req, &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(resp.model_spec().name(), "echo");
  EXPECT_EQ(resp.model_spec().version().value(), 2);  // the default: highest
  tensorflow::serving::SignatureDefMap map;
  ASSERT_TRUE(resp.metadata().at("signature_def").UnpackTo(&map));
  const tensorflow::SignatureDef& def = map.signature_def().at("serving_default");
  EXPECT_EQ(def.method_name(), "tensorflow/serving/predict");
  const tensorflow::TensorInfo& x = def.inputs().at("x");
  EXPECT_EQ(x.dtype(), tensorflow::DT_FLOAT);
  ASSERT_EQ(x.tensor_shape().dim_size(), 2);
  EXPECT_EQ(x.tensor_shape().dim(0).size(), -1);
  EXPECT_EQ(x.tensor_shape().dim(1).size(), 3);
  EXPECT_EQ(def.outputs().at("y").dtype(), tensorflow::DT_INT64);

  req.mutable_model_spec()->mutable_version()->set_value(1);
  ASSERT_TRUE(Metadata(req, &resp).ok());
  EXPECT_EQ(resp.model_spec().version().value(), 1);
}

TEST_F(TfsPredictionServiceTest, MetadataErrors) {
  GetModelMetadataRequest req;
  req.mutable_model_spec()->set_name("echo");
  GetModelMetadataResponse resp;
  grpc::Status s = Metadata(req, &resp);  // no metadata_field
  EXPECT_EQ(s.error_code(), grpc::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message(), "Invalid signature name");

  req.add_metadata_field("signature_def");
  req.mutable_model_spec()->set_name("nope");
  s = Metadata(req, &resp);
  EXPECT_EQ(s.error_code(), grpc::NOT_FOUND);
  EXPECT_EQ(s.error_message(), "Model with requested name is not found");

  req.mutable_model_spec()->set_name("echo");
  req.mutable_model_spec()->mutable_version()->set_value(9);
  s = Metadata(req, &resp);
  EXPECT_EQ(s.error_code(), grpc::NOT_FOUND);
  EXPECT_EQ(s.error_message(), "Model with requested version is not found");

  req.mutable_model_spec()->set_version_label("stable");
  s = Metadata(req, &resp);
  EXPECT_EQ(s.error_code(), grpc::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message(), "version_label is not supported; use version");
}

TEST_F(TfsPredictionServiceTest, UndeclaredMethodsAreUnimplemented) {
  auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()),
                                     grpc::InsecureChannelCredentials());
  grpc::GenericStub generic(channel);
  grpc::Slice empty("");
  grpc::ByteBuffer request(&empty, 1);  // an empty message
  grpc::ByteBuffer reply;
  std::promise<grpc::Status> done;
  auto ctx = Context();
  generic.UnaryCall(ctx.get(), "/tensorflow.serving.PredictionService/Classify",
                    grpc::StubOptions(), &request, &reply,
                    [&done](grpc::Status s) { done.set_value(s); });
  EXPECT_EQ(done.get_future().get().error_code(), grpc::UNIMPLEMENTED);
}

}  // namespace
}  // namespace tessera::tfs_grpc
