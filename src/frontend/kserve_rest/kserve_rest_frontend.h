// KServeRestFrontend: the KServe v2 REST front door (see docs/kserve_rest.md).
//
//   GET  /v2                                   server metadata
//   GET  /v2/health/live, /v2/health/ready     200, or 503 with a JSON error
//   GET  /v2/models/{m}[/versions/{v}]         model metadata
//   GET  /v2/models/{m}[/versions/{v}]/ready   200, 404 unknown, 503 not available
//   POST /v2/models/{m}[/versions/{v}]/infer   inference (JSON, binary extension)
//   GET  /v2/models[/{m}[/versions/{v}]]/stats statistics (RepositoryAdmin)
//   POST /v2/repository/index                  repository index (RepositoryAdmin)
//   POST /v2/repository/models/{m}/load|unload load, unload (RepositoryAdmin)
//
// /v2/models/stats is every model's statistics (as Triton), never the
// metadata of a model named "stats". Without a RepositoryAdmin the last
// three answer 501. Loads and unloads answer from the admin's thread.
// Fixed URL segments match case-insensitively; model names keep their case.
// Thread-safety: Route() and every handler it returns may run concurrently.
#pragma once

#include "core/inference_service.h"
#include "core/repository_admin.h"
#include "frontend/rest_frontend.h"
#include "metrics/serving_metrics.h"

namespace tessera::kserve_rest {

// Name of the request and response header of the binary data extension.
inline constexpr char kInferenceHeaderContentLength[] = "Inference-Header-Content-Length";
// Triton's name of the binary data extension, for the server metadata's
// extensions (which the server lists, one list for every KServe door).
inline constexpr char kBinaryTensorDataExtension[] = "binary_tensor_data";

class KServeRestFrontend : public frontend::RestFrontend {
 public:
  // Not owned: `service` (and `metrics` and `admin`, which may be null)
  // must outlive this frontend and every request it accepted. Calls naming a
  // model are counted in `metrics` (the repository and statistics calls are
  // not).
  explicit KServeRestFrontend(InferenceService& service,
                              const metrics::FrontDoorMetrics* metrics = nullptr,
                              RepositoryAdmin* admin = nullptr)
      : service_(service), metrics_(metrics), admin_(admin) {}

  frontend::RouteResult Route(const transport::HttpRequest& request) const override;

 private:
  InferenceService& service_;
  const metrics::FrontDoorMetrics* const metrics_;
  RepositoryAdmin* const admin_;
};

}  // namespace tessera::kserve_rest
