// TfsPredictionService: the TensorFlow Serving gRPC front door for
// inference (tensorflow.serving.PredictionService) over a
// tessera::InferenceService, built on gRPC's callback API so no gRPC thread
// ever blocks on inference.
//
// Predict decodes the request, calls InferenceService::Infer and finishes
// the RPC from the completion callback. gRPC keeps the request message alive
// until Finish, so tensor_content inputs reach the engine as borrowed
// tensors. The call's deadline becomes the core request's deadline, with a
// cancellation check of the call: a request whose deadline passes, or whose
// client cancels, while it waits for a worker never runs and is answered
// DEADLINE_EXCEEDED or CANCELLED (InferenceService::Infer).
// GetModelMetadata answers from the service's metadata at once.
// Classify, Regress and MultiInference are not part of the service: gRPC
// answers them with UNIMPLEMENTED.
//
// Ownership and thread-safety: `service` is not owned and must outlive this
// object, and every Infer callback it accepted must run before it is
// destroyed. The gRPC server must be shut down (which waits for every call)
// before this object is destroyed. All methods are called by gRPC,
// concurrently. `metrics` (may be null) is not owned and must outlive every
// Infer callback too; calls naming a model are counted there.
#pragma once

#include "core/inference_service.h"
#include "metrics/serving_metrics.h"
#include "tensorflow_serving/apis/prediction_service.grpc.pb.h"

namespace tessera::tfs_grpc {

class TfsPredictionService final
    : public tensorflow::serving::PredictionService::CallbackService {
 public:
  explicit TfsPredictionService(InferenceService& service,
                                const metrics::FrontDoorMetrics* metrics = nullptr);

  // Errors: see docs/tfs_grpc.md. Codes follow the Status code of the
  // decoder or the InferenceService (NOT_FOUND, INVALID_ARGUMENT,
  // UNAVAILABLE, ...); messages are passed through unchanged.
  grpc::ServerUnaryReactor* Predict(grpc::CallbackServerContext* ctx,
                                    const tensorflow::serving::PredictRequest* request,
                                    tensorflow::serving::PredictResponse* response) override;

  // INVALID_ARGUMENT "Invalid signature name" unless metadata_field is
  // exactly ["signature_def"]; then the model's metadata or NOT_FOUND.
  grpc::ServerUnaryReactor* GetModelMetadata(
      grpc::CallbackServerContext* ctx,
      const tensorflow::serving::GetModelMetadataRequest* request,
      tensorflow::serving::GetModelMetadataResponse* response) override;

 private:
  InferenceService& service_;
  const metrics::FrontDoorMetrics* const metrics_;
};

}  // namespace tessera::tfs_grpc
