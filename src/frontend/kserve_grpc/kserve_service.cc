#include "frontend/kserve_grpc/kserve_service.h"

#include <algorithm>
#include <deque>
#include <memory>
#include <mutex>
#include <utility>

#include "common/logging.h"
#include "frontend/kserve_grpc/call_context.h"
#include "frontend/kserve_grpc/codec.h"
#include "frontend/kserve_grpc/repository_codec.h"
#include "frontend/kserve_grpc/status_map.h"

namespace tessera::kserve_grpc {
namespace {

using inference::ModelInferRequest;
using inference::ModelInferResponse;
using inference::ModelStreamInferResponse;
using metrics::CallMeter;

// The version a failed call is counted under: the one asked for (0 =
// default), -1 when unparsable.
int64_t RequestedVersion(const std::string& text) {
  Result<int64_t> version = ParseModelVersion(text, /*empty_is_default=*/true);
  return version.ok() ? *version : -1;
}

grpc::ServerUnaryReactor* FinishNow(grpc::CallbackServerContext* ctx, const grpc::Status& s) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  reactor->Finish(s);
  return reactor;
}

// The response for `wire` from the engine's result. The id always comes from
// the request: KServe promises to echo it whatever the engine reports.
Status BuildInferResponse(const ModelInferRequest& wire, Result<InferResponse> result,
                          ModelInferResponse* out) {
  if (!result.ok()) return result.status();
  TESSERA_RETURN_IF_ERROR(EncodeInferResponse(*result, out));
  out->set_id(wire.id());
  if (out->model_name().empty()) out->set_model_name(wire.model_name());
  return Status::Ok();
}

// A stream reply for a failed request, still naming the request so the
// client can tell which one failed.
std::unique_ptr<ModelStreamInferResponse> ErrorReply(const ModelInferRequest& wire,
                                                     const Status& status) {
  auto reply = std::make_unique<ModelStreamInferResponse>();
  reply->set_error_message(status.message());
  ModelInferResponse* r = reply->mutable_infer_response();
  r->set_model_name(wire.model_name());
  r->set_model_version(wire.model_version());
  r->set_id(wire.id());
  return reply;
}

}  // namespace

// One ModelStreamInfer call. Lives until both gRPC is done with it (OnDone)
// and every Infer it started has called back; whichever comes last deletes
// it. After a cancel that may be after the server and the KServeGrpcService
// are gone, so the reactor touches nothing of theirs but the InferenceService
// (which must outlive its callbacks anyway) and the shared stream counter.
// All mutable state below is guarded by mu_.
class KServeGrpcService::StreamReactor
    : public grpc::ServerBidiReactor<ModelInferRequest, ModelStreamInferResponse> {
 public:
  StreamReactor(InferenceService& service, int max_in_flight,
                std::shared_ptr<std::atomic<int>> active, const metrics::FrontDoorMetrics* metrics,
                Deadline deadline)
      : service_(service), max_in_flight_(max_in_flight), active_(std::move(active)),
        metrics_(metrics), deadline_(deadline) {
    ++*active_;
    // No reaction can run before the constructor returns: no lock needed.
    reading_ = std::make_unique<ModelInferRequest>();
    StartRead(reading_.get());
  }

  ~StreamReactor() override { --*active_; }

  void OnReadDone(bool ok) override {
    std::unique_ptr<ModelInferRequest> wire;
    {
      std::lock_guard<std::mutex> lock(mu_);
      wire = std::move(reading_);
      if (!ok) {  // client half-closed, or the call is gone
        reads_done_ = true;
        MaybeFinishLocked();
        return;
      }
      if (broken_ || finished_) return;  // cancelled meanwhile: drop it
      ++inferring_;
      MaybeReadLocked();
    }
    Dispatch(std::move(wire));
  }

  void OnWriteDone(bool ok) override {
    std::lock_guard<std::mutex> lock(mu_);
    writing_ = false;
    queue_.pop_front();
    if (!ok) Break();
    MaybeWriteLocked();
    MaybeReadLocked();
    MaybeFinishLocked();
  }

  void OnCancel() override {
    std::lock_guard<std::mutex> lock(mu_);
    Break();
    MaybeFinishLocked();
  }

  void OnDone() override {
    bool last;
    {
      std::lock_guard<std::mutex> lock(mu_);
      done_ = true;
      last = inferring_ == 0;
    }
    if (last) delete this;
  }

 private:
  // Everything one dispatched request needs until its callback has run: the
  // wire message (raw inputs are borrowed from it) and the core request.
  struct Call {
    std::unique_ptr<ModelInferRequest> wire;
    InferRequest core;
  };

  void Dispatch(std::unique_ptr<ModelInferRequest> wire) {
    auto call = std::make_shared<Call>();
    call->wire = std::move(wire);
    CallMeter meter(metrics_, metrics::Method::kModelInfer);
    Result<InferRequest> decoded = DecodeInferRequest(*call->wire);
    if (!decoded.ok()) {
      meter.Done(call->wire->model_name(), RequestedVersion(call->wire->model_version()), false);
      Respond(ErrorReply(*call->wire, decoded.status()));
      return;
    }
    call->core = std::move(decoded).value();
    call->core.deadline = EarlierDeadline(call->core.deadline, deadline_);
    call->core.cancelled = FlagCancelled(gone_);
    service_.Infer(call->core, [this, call, meter](Result<InferResponse> result) {
      auto reply = std::make_unique<ModelStreamInferResponse>();
      int64_t version = result.ok() ? result->model_version : call->core.model_version;
      Status s = BuildInferResponse(*call->wire, std::move(result), reply->mutable_infer_response());
      meter.Done(call->core.model_name, version, s.ok());
      Respond(s.ok() ? std::move(reply) : ErrorReply(*call->wire, s));
    });
  }

  // Queues the reply of one dispatched request; deletes the reactor when it
  // was the last thing keeping it alive.
  void Respond(std::unique_ptr<ModelStreamInferResponse> reply) {
    bool last;
    {
      std::lock_guard<std::mutex> lock(mu_);
      --inferring_;
      if (!broken_) {
        queue_.push_back(std::move(reply));
        MaybeWriteLocked();
      }
      MaybeFinishLocked();
      last = done_ && inferring_ == 0;
    }
    if (last) delete this;
  }

  // The client is gone: nothing more is read or written. The reply being
  // written stays queued until OnWriteDone; gRPC still points at it.
  void Break() {
    broken_ = true;
    gone_->store(true, std::memory_order_relaxed);
    while (queue_.size() > (writing_ ? 1u : 0u)) queue_.pop_back();
  }

  int OutstandingLocked() const { return inferring_ + static_cast<int>(queue_.size()); }

  void MaybeReadLocked() {
    if (reading_ || finished_ || broken_ || reads_done_) return;
    if (OutstandingLocked() >= max_in_flight_) return;  // resumed by OnWriteDone
    reading_ = std::make_unique<ModelInferRequest>();
    StartRead(reading_.get());
  }

  void MaybeWriteLocked() {
    if (writing_ || queue_.empty() || finished_) return;
    writing_ = true;
    StartWrite(queue_.front().get());
  }

  void MaybeFinishLocked() {
    if (finished_ || writing_) return;
    if (broken_) {
      // Pending inferences may still call back; they only count down.
      finished_ = true;
      Finish(grpc::Status(grpc::CANCELLED, "Stream cancelled"));
    } else if (reads_done_ && inferring_ == 0 && queue_.empty()) {
      finished_ = true;
      Finish(grpc::Status::OK);
    }
  }

  InferenceService& service_;
  const int max_in_flight_;
  // Shared: after a cancel the reactor may outlive the service object while
  // the engine finishes requests it already accepted.
  std::shared_ptr<std::atomic<int>> active_;
  const metrics::FrontDoorMetrics* const metrics_;
  const Deadline deadline_;  // the stream's: applies to every request on it
  // Set once the client is gone; queued requests of the stream are dropped.
  const std::shared_ptr<std::atomic<bool>> gone_ = std::make_shared<std::atomic<bool>>(false);
  std::mutex mu_;
  std::unique_ptr<ModelInferRequest> reading_;  // target of the read in flight, if any
  std::deque<std::unique_ptr<ModelStreamInferResponse>> queue_;  // front: being written
  int inferring_ = 0;   // dispatched, reply not queued yet
  bool writing_ = false;
  bool reads_done_ = false;
  bool broken_ = false;    // cancelled, or a write failed
  bool finished_ = false;  // Finish called
  bool done_ = false;      // OnDone called
};

KServeGrpcService::KServeGrpcService(InferenceService& service, int max_in_flight_per_stream,
                                     const metrics::FrontDoorMetrics* metrics, RepositoryAdmin* admin)
    : service_(service),
      max_in_flight_per_stream_(std::max(1, max_in_flight_per_stream)),
      metrics_(metrics),
      admin_(admin) {}

grpc::ServerUnaryReactor* KServeGrpcService::ServerLive(grpc::CallbackServerContext* ctx,
                                                        const inference::ServerLiveRequest*,
                                                        inference::ServerLiveResponse* response) {
  response->set_live(service_.IsLive());
  return FinishNow(ctx, grpc::Status::OK);
}

grpc::ServerUnaryReactor* KServeGrpcService::ServerReady(grpc::CallbackServerContext* ctx,
                                                         const inference::ServerReadyRequest*,
                                                         inference::ServerReadyResponse* response) {
  response->set_ready(service_.IsReady());
  return FinishNow(ctx, grpc::Status::OK);
}

grpc::ServerUnaryReactor* KServeGrpcService::ModelReady(grpc::CallbackServerContext* ctx,
                                                        const inference::ModelReadyRequest* request,
                                                        inference::ModelReadyResponse* response) {
  CallMeter meter(metrics_, metrics::Method::kModelReady);
  Result<int64_t> version = ParseModelVersion(request->version(), /*empty_is_default=*/true);
  if (!version.ok()) return FinishNow(ctx, ToGrpcStatus(version.status()));
  Status ready = service_.ModelReady(request->name(), *version);
  const bool answered = ready.ok() || ready.code() == StatusCode::kUnavailable;
  meter.Done(request->name(), *version, answered);
  if (answered) {
    response->set_ready(ready.ok());
    return FinishNow(ctx, grpc::Status::OK);
  }
  return FinishNow(ctx, ToGrpcStatus(ready));
}

grpc::ServerUnaryReactor* KServeGrpcService::ServerMetadata(
    grpc::CallbackServerContext* ctx, const inference::ServerMetadataRequest*,
    inference::ServerMetadataResponse* response) {
  EncodeServerMetadata(service_.GetServerMetadata(), response);
  return FinishNow(ctx, grpc::Status::OK);
}

grpc::ServerUnaryReactor* KServeGrpcService::ModelMetadata(
    grpc::CallbackServerContext* ctx, const inference::ModelMetadataRequest* request,
    inference::ModelMetadataResponse* response) {
  CallMeter meter(metrics_, metrics::Method::kModelMetadata);
  Result<int64_t> version = ParseModelVersion(request->version(), /*empty_is_default=*/true);
  if (!version.ok()) return FinishNow(ctx, ToGrpcStatus(version.status()));
  Result<tessera::ModelMetadata> metadata = service_.GetModelMetadata(request->name(), *version);
  meter.Done(request->name(), metadata.ok() ? metadata->version : *version, metadata.ok());
  if (!metadata.ok()) return FinishNow(ctx, ToGrpcStatus(metadata.status()));
  EncodeModelMetadata(*metadata, response);
  return FinishNow(ctx, grpc::Status::OK);
}

grpc::ServerUnaryReactor* KServeGrpcService::ModelInfer(grpc::CallbackServerContext* ctx,
                                                        const ModelInferRequest* request,
                                                        ModelInferResponse* response) {
  CallMeter meter(metrics_, metrics::Method::kModelInfer);
  Result<InferRequest> decoded = DecodeInferRequest(*request);
  if (!decoded.ok()) {
    meter.Done(request->model_name(), RequestedVersion(request->model_version()), false);
    return FinishNow(ctx, ToGrpcStatus(decoded.status()));
  }
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  // The core request must stay valid until the callback has run; the
  // callback owns it. `request` and `response` are gRPC's until Finish.
  auto core = std::make_shared<InferRequest>(std::move(decoded).value());
  core->deadline = EarlierDeadline(core->deadline, CallDeadline(*ctx));
  core->cancelled = CallCancelled(*ctx);  // ctx lives until Finish, in the callback
  const InferRequest& core_ref = *core;
  service_.Infer(core_ref, [reactor, request, response, core, meter](Result<InferResponse> result) {
    int64_t version = result.ok() ? result->model_version : core->model_version;
    Status s = BuildInferResponse(*request, std::move(result), response);
    meter.Done(core->model_name, version, s.ok());
    reactor->Finish(ToGrpcStatus(s));
  });
  return reactor;
}

grpc::ServerBidiReactor<ModelInferRequest, ModelStreamInferResponse>*
KServeGrpcService::ModelStreamInfer(grpc::CallbackServerContext* ctx) {
  return new StreamReactor(service_, max_in_flight_per_stream_, active_streams_, metrics_,
                           CallDeadline(*ctx));
}

namespace {

// Starts a load or unload; the reactor finishes when the admin calls back.
template <typename Request>
grpc::ServerUnaryReactor* RepositoryModelCall(grpc::CallbackServerContext* ctx, RepositoryAdmin* admin,
                                              bool unload, const Request& request) {
  if (admin == nullptr) return FinishNow(ctx, ToGrpcStatus(RepositoryCallsNotServed()));
  Status checked = CheckRepositoryParameters(unload, DecodeRepositoryParameters(request.parameters()));
  if (!checked.ok()) return FinishNow(ctx, ToGrpcStatus(checked));
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  auto done = [reactor](Status status) { reactor->Finish(ToGrpcStatus(status)); };
  if (unload) {
    admin->UnloadModel(request.model_name(), std::move(done));
  } else {
    admin->LoadModel(request.model_name(), std::move(done));
  }
  return reactor;
}

}  // namespace

grpc::ServerUnaryReactor* KServeGrpcService::ModelStatistics(
    grpc::CallbackServerContext* ctx, const inference::ModelStatisticsRequest* request,
    inference::ModelStatisticsResponse* response) {
  if (admin_ == nullptr) return FinishNow(ctx, ToGrpcStatus(RepositoryCallsNotServed()));
  Result<int64_t> version = ParseModelVersion(request->version(), /*empty_is_default=*/true);
  if (!version.ok()) return FinishNow(ctx, ToGrpcStatus(version.status()));
  auto stats = admin_->GetModelStatistics(request->name(), *version);
  if (!stats.ok()) return FinishNow(ctx, ToGrpcStatus(stats.status()));
  EncodeModelStatistics(*stats, response);
  return FinishNow(ctx, grpc::Status::OK);
}

grpc::ServerUnaryReactor* KServeGrpcService::RepositoryIndex(
    grpc::CallbackServerContext* ctx, const inference::RepositoryIndexRequest* request,
    inference::RepositoryIndexResponse* response) {
  if (admin_ == nullptr) return FinishNow(ctx, ToGrpcStatus(RepositoryCallsNotServed()));
  EncodeRepositoryIndex(admin_->RepositoryIndex(request->ready()), response);
  return FinishNow(ctx, grpc::Status::OK);
}

grpc::ServerUnaryReactor* KServeGrpcService::RepositoryModelLoad(
    grpc::CallbackServerContext* ctx, const inference::RepositoryModelLoadRequest* request,
    inference::RepositoryModelLoadResponse*) {
  return RepositoryModelCall(ctx, admin_, /*unload=*/false, *request);
}

grpc::ServerUnaryReactor* KServeGrpcService::RepositoryModelUnload(
    grpc::CallbackServerContext* ctx, const inference::RepositoryModelUnloadRequest* request,
    inference::RepositoryModelUnloadResponse*) {
  return RepositoryModelCall(ctx, admin_, /*unload=*/true, *request);
}

}  // namespace tessera::kserve_grpc
