// KServeRestFrontend: the KServe v2 REST front door (see docs/kserve_rest.md).
//
//   GET  /v2                                   server metadata (+ "binary_tensor_data")
//   GET  /v2/health/live, /v2/health/ready     200, or 503 with a JSON error
//   GET  /v2/models/{m}[/versions/{v}]         model metadata
//   GET  /v2/models/{m}[/versions/{v}]/ready   200, 404 unknown, 503 not available
//   POST /v2/models/{m}[/versions/{v}]/infer   inference (JSON, binary extension)
//
// Fixed URL segments match case-insensitively; model names keep their case.
// Thread-safety: Route() and every handler it returns may run concurrently.
#pragma once

#include "core/inference_service.h"
#include "frontend/rest_frontend.h"
#include "metrics/serving_metrics.h"

namespace tessera::kserve_rest {

// Name of the request and response header of the binary data extension.
inline constexpr char kInferenceHeaderContentLength[] = "Inference-Header-Content-Length";
// Added to the server metadata's extensions by this front door (as Triton
// reports it).
inline constexpr char kBinaryTensorDataExtension[] = "binary_tensor_data";

class KServeRestFrontend : public frontend::RestFrontend {
 public:
  // Not owned: `service` (and `metrics`, which may be null) must outlive this
  // frontend and every request it accepted. Calls naming a model are
  // counted in `metrics`.
  explicit KServeRestFrontend(InferenceService& service,
                              const metrics::FrontDoorMetrics* metrics = nullptr)
      : service_(service), metrics_(metrics) {}

  frontend::RouteResult Route(const transport::HttpRequest& request) const override;

 private:
  InferenceService& service_;
  const metrics::FrontDoorMetrics* const metrics_;
};

}  // namespace tessera::kserve_rest
