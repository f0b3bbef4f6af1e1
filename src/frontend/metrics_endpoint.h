// MetricsEndpoint: GET /metrics on the REST port, the Prometheus text
// exposition of a ServingMetrics (see docs/metrics.md). Added to the router
// only when metrics are enabled, so with metrics off /metrics is a 404 like
// any unknown URL. Other methods on /metrics answer 405 (Allow: GET).
//
// Thread-safety: Route() and its handler may run concurrently.
#pragma once

#include "frontend/rest_frontend.h"
#include "metrics/serving_metrics.h"

namespace tessera::frontend {

class MetricsEndpoint final : public RestFrontend {
 public:
  // Not owned: `metrics` must outlive this endpoint.
  explicit MetricsEndpoint(const metrics::ServingMetrics& metrics) : metrics_(metrics) {}

  RouteResult Route(const transport::HttpRequest& request) const override;

 private:
  const metrics::ServingMetrics& metrics_;
};

}  // namespace tessera::frontend
