// TfsRestFrontend: the TensorFlow Serving REST front door (/v1/...).
//
//   GET  /v1/models/{m}[/versions/{v}]                model status (all
//                                                     versions, END ones too,
//                                                     when none is named)
//   GET  /v1/models/{m}[/versions/{v}]/metadata       model metadata
//   POST /v1/models/{m}[/versions/{v}]:predict        row or column predict
//   POST /v1/models/{m}[/versions/{v}]:classify|regress  404, not supported
//   POST /v1/config/reload                            ModelAdmin::ReloadConfig,
//                                                     201 changed / 200 not
//   GET  /v1/config                                   every model's status
//
// URLs match case-insensitively. Version 0 means the default version.
// `/labels/{l}` in place of `/versions/{v}` answers 400 (labels are not
// supported). Without a ModelAdmin the /v1/config calls answer 501. Errors
// are {"error": "<message>"} with TF Serving's status->HTTP table
// (status_map.h). Bodies and formats: predict_decoder.h, predict_encoder.h,
// model_json.h; docs/tfs_rest.md.
//
// Threads: Route() is const and thread-safe. Predict decodes on the calling
// (HTTP) thread, runs asynchronously and encodes the reply on the thread
// that completes the inference. A config reload loads models, so it runs on
// the frontend's own thread, one at a time; the destructor waits for the one
// in progress.
#pragma once

#include <memory>

#include "core/inference_service.h"
#include "core/model_admin.h"
#include "frontend/rest_frontend.h"
#include "metrics/serving_metrics.h"

namespace tessera::tfs_rest {

class TfsRestFrontend final : public frontend::RestFrontend {
 public:
  // `service`, `admin` and `metrics` (both may be null) must outlive the
  // frontend and every request it accepted. Calls naming a model are
  // counted in `metrics`.
  TfsRestFrontend(InferenceService& service, ModelAdmin* admin,
                  const metrics::FrontDoorMetrics* metrics = nullptr);
  ~TfsRestFrontend() override;

  TfsRestFrontend(const TfsRestFrontend&) = delete;
  TfsRestFrontend& operator=(const TfsRestFrontend&) = delete;

  frontend::RouteResult Route(const transport::HttpRequest& request) const override;

 private:
  class ReloadWorker;

  void HandleStatus(const std::string& name, int64_t version, transport::HttpRespond respond) const;
  void HandleMetadata(const std::string& name, int64_t version,
                      transport::HttpRespond respond) const;
  void HandlePredict(const std::string& name, int64_t version,
                     const transport::HttpRequest& request, transport::HttpRespond respond) const;
  void HandleReload(transport::HttpRespond respond) const;
  void HandleConfig(transport::HttpRespond respond) const;
  void Reload(const transport::HttpRespond& respond) const;

  InferenceService& service_;
  ModelAdmin* const admin_;
  const metrics::FrontDoorMetrics* const metrics_;
  std::unique_ptr<ReloadWorker> reload_worker_;  // set when admin_ is
};

// The TF Serving REST frontend, for HttpRouter::Add. `admin` may be null.
std::unique_ptr<frontend::RestFrontend> MakeTfsRestFrontend(
    InferenceService& service, ModelAdmin* admin,
    const metrics::FrontDoorMetrics* metrics = nullptr);

}  // namespace tessera::tfs_rest
