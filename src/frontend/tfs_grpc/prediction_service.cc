#include "frontend/tfs_grpc/prediction_service.h"

#include <memory>
#include <utility>

#include "frontend/kserve_grpc/call_context.h"
#include "frontend/kserve_grpc/status_map.h"
#include "frontend/tfs_grpc/codec.h"

namespace tessera::tfs_grpc {
namespace {

using kserve_grpc::ToGrpcStatus;
using tensorflow::serving::PredictRequest;
using metrics::CallMeter;
using tensorflow::serving::PredictResponse;

grpc::ServerUnaryReactor* FinishNow(grpc::CallbackServerContext* ctx, const grpc::Status& s) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  reactor->Finish(s);
  return reactor;
}

Status BuildPredictResponse(const PredictRequest& wire, Result<InferResponse> result,
                            PredictResponse* out) {
  if (!result.ok()) return result.status();
  Status encoded = EncodePredictResponse(*result, wire.model_spec().name(), out);
  // A half-filled response must not reach the client with an error status.
  if (!encoded.ok()) out->Clear();
  return encoded;
}

}  // namespace

TfsPredictionService::TfsPredictionService(InferenceService& service,
                                           const metrics::FrontDoorMetrics* metrics)
    : service_(service), metrics_(metrics) {}

grpc::ServerUnaryReactor* TfsPredictionService::Predict(grpc::CallbackServerContext* ctx,
                                                        const PredictRequest* request,
                                                        PredictResponse* response) {
  CallMeter meter(metrics_, metrics::Method::kPredict);
  Result<InferRequest> decoded = DecodePredictRequest(*request);
  if (!decoded.ok()) {
    Result<int64_t> version = DecodeModelVersion(request->model_spec());
    meter.Done(request->model_spec().name(), version.ok() ? *version : -1, false);
    return FinishNow(ctx, ToGrpcStatus(decoded.status()));
  }
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  // The core request must stay valid until the callback has run; the
  // callback owns it. `request` and `response` are gRPC's until Finish.
  auto core = std::make_shared<InferRequest>(std::move(decoded).value());
  core->deadline = kserve_grpc::CallDeadline(*ctx);
  core->cancelled = kserve_grpc::CallCancelled(*ctx);  // ctx lives until Finish, in the callback
  const InferRequest& core_ref = *core;
  service_.Infer(core_ref, [reactor, request, response, core, meter](Result<InferResponse> result) {
    int64_t version = result.ok() ? result->model_version : core->model_version;
    Status s = BuildPredictResponse(*request, std::move(result), response);
    meter.Done(core->model_name, version, s.ok());
    reactor->Finish(ToGrpcStatus(s));
  });
  return reactor;
}

grpc::ServerUnaryReactor* TfsPredictionService::GetModelMetadata(
    grpc::CallbackServerContext* ctx, const tensorflow::serving::GetModelMetadataRequest* request,
    tensorflow::serving::GetModelMetadataResponse* response) {
  CallMeter meter(metrics_, metrics::Method::kGetModelMetadata);
  Status fields = CheckMetadataFields(*request);
  Result<int64_t> version = DecodeModelVersion(request->model_spec());
  if (!fields.ok()) {
    meter.Done(request->model_spec().name(), version.ok() ? *version : -1, false);
    return FinishNow(ctx, ToGrpcStatus(fields));
  }
  if (!version.ok()) return FinishNow(ctx, ToGrpcStatus(version.status()));
  Result<ModelMetadata> metadata =
      service_.GetModelMetadata(request->model_spec().name(), *version);
  meter.Done(request->model_spec().name(), metadata.ok() ? metadata->version : *version,
             metadata.ok());
  if (!metadata.ok()) return FinishNow(ctx, ToGrpcStatus(metadata.status()));
  EncodeModelMetadata(*metadata, response);
  return FinishNow(ctx, grpc::Status::OK);
}

}  // namespace tessera::tfs_grpc
