// KServeGrpcService: the KServe v2 gRPC front door (inference.GRPCInferenceService)
// over a tessera::InferenceService, built on gRPC's callback API so no gRPC
// thread ever blocks on inference.
//
// ModelInfer decodes the request, calls InferenceService::Infer and finishes
// the RPC from the completion callback. gRPC keeps the request message alive
// until Finish, so raw inputs are passed to the engine as borrowed tensors.
//
// ModelStreamInfer reads requests continuously and dispatches each one as it
// arrives; responses are written in the order they complete (match them by
// `id`), one write in flight at a time. A failed request becomes a response
// with `error_message` set and the stream goes on. The stream ends with OK
// after the client half-closes and every response has been written, or with
// CANCELLED when the client goes away. At most `max_in_flight_per_stream`
// requests per stream are being inferred or waiting to be written; reading
// pauses at that point, so a client that sends faster than it reads applies
// backpressure through gRPC flow control instead of growing server memory.
//
// Deadlines: ModelInfer passes the call's deadline, or the request's
// parameter "timeout" (microseconds) when that is earlier, as the core
// request's deadline, and a cancellation check of the call. On a stream the
// stream's deadline and timeout parameters apply to each request; once the
// client goes away its queued requests are dropped. See
// InferenceService::Infer for what the core does with them; the answers map
// to DEADLINE_EXCEEDED and CANCELLED.
//
// Ownership and thread-safety: `service` is not owned and must outlive this
// object, and every Infer callback it accepted must run before it is
// destroyed. The gRPC server must be shut down (which waits for every call)
// before this object is destroyed; streams cancelled with inferences still
// running clean up after themselves when those complete. All methods are
// called by gRPC, concurrently. `metrics` (may be null) is not owned and must
// outlive every Infer callback too; calls naming a model are counted there.
#pragma once

#include <atomic>
#include <memory>

#include "core/inference_service.h"
#include "core/repository_admin.h"
#include "kserve/grpc_predict_v2.grpc.pb.h"
#include "metrics/serving_metrics.h"

namespace tessera::kserve_grpc {

inline constexpr int kDefaultMaxInFlightPerStream = 256;

class KServeGrpcService final : public inference::GRPCInferenceService::CallbackService {
 public:
  // REQUIRES: max_in_flight_per_stream >= 1. `admin` (not owned, may be
  // null: those RPCs answer UNIMPLEMENTED) serves the statistics and model
  // repository RPCs and must outlive every call.
  explicit KServeGrpcService(InferenceService& service,
                             int max_in_flight_per_stream = kDefaultMaxInFlightPerStream,
                             const metrics::FrontDoorMetrics* metrics = nullptr,
                             RepositoryAdmin* admin = nullptr);

  // Number of ModelStreamInfer streams whose state is still alive (for
  // metrics and tests).
  int active_streams() const { return active_streams_->load(); }

  grpc::ServerUnaryReactor* ServerLive(grpc::CallbackServerContext* ctx,
                                       const inference::ServerLiveRequest* request,
                                       inference::ServerLiveResponse* response) override;
  grpc::ServerUnaryReactor* ServerReady(grpc::CallbackServerContext* ctx,
                                        const inference::ServerReadyRequest* request,
                                        inference::ServerReadyResponse* response) override;
  // NOT_FOUND for an unknown model or version (as Triton does); ready=false
  // when the model exists but is not AVAILABLE.
  grpc::ServerUnaryReactor* ModelReady(grpc::CallbackServerContext* ctx,
                                       const inference::ModelReadyRequest* request,
                                       inference::ModelReadyResponse* response) override;
  grpc::ServerUnaryReactor* ServerMetadata(grpc::CallbackServerContext* ctx,
                                           const inference::ServerMetadataRequest* request,
                                           inference::ServerMetadataResponse* response) override;
  grpc::ServerUnaryReactor* ModelMetadata(grpc::CallbackServerContext* ctx,
                                          const inference::ModelMetadataRequest* request,
                                          inference::ModelMetadataResponse* response) override;
  grpc::ServerUnaryReactor* ModelInfer(grpc::CallbackServerContext* ctx,
                                       const inference::ModelInferRequest* request,
                                       inference::ModelInferResponse* response) override;
  grpc::ServerBidiReactor<inference::ModelInferRequest, inference::ModelStreamInferResponse>*
  ModelStreamInfer(grpc::CallbackServerContext* ctx) override;
  // RepositoryAdmin::GetModelStatistics ("" name: every model; "" version:
  // every version).
  grpc::ServerUnaryReactor* ModelStatistics(grpc::CallbackServerContext* ctx,
                                            const inference::ModelStatisticsRequest* request,
                                            inference::ModelStatisticsResponse* response) override;
  // RepositoryAdmin::RepositoryIndex; repository_name is ignored (one
  // repository).
  grpc::ServerUnaryReactor* RepositoryIndex(grpc::CallbackServerContext* ctx,
                                            const inference::RepositoryIndexRequest* request,
                                            inference::RepositoryIndexResponse* response) override;
  // RepositoryAdmin::LoadModel / UnloadModel, finished from the admin's
  // thread; parameters checked by CheckRepositoryParameters.
  grpc::ServerUnaryReactor* RepositoryModelLoad(grpc::CallbackServerContext* ctx,
                                                const inference::RepositoryModelLoadRequest* request,
                                                inference::RepositoryModelLoadResponse* response) override;
  grpc::ServerUnaryReactor* RepositoryModelUnload(
      grpc::CallbackServerContext* ctx, const inference::RepositoryModelUnloadRequest* request,
      inference::RepositoryModelUnloadResponse* response) override;

 private:
  class StreamReactor;

  InferenceService& service_;
  const int max_in_flight_per_stream_;
  const metrics::FrontDoorMetrics* const metrics_;
  RepositoryAdmin* const admin_;
  std::shared_ptr<std::atomic<int>> active_streams_ = std::make_shared<std::atomic<int>>(0);
};

}  // namespace tessera::kserve_grpc
