#include "server/server.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <thread>

#include "backend/onnx/onnx_backend.h"
#include "backend/torch/torch_backend.h"
#include "common/logging.h"
#include "frontend/http_router.h"
#include "frontend/metrics_endpoint.h"
#include "frontend/kserve_grpc/kserve_service.h"
#include "frontend/kserve_rest/kserve_rest_frontend.h"
#include "frontend/tfs_grpc/model_service.h"
#include "frontend/tfs_grpc/prediction_service.h"
#include "frontend/tfs_rest/tfs_rest_frontend.h"
#include "repository/config_parser.h"
#include "server/pipeline_models.h"
#include "server/repository_poller.h"
#include "server/server_admin.h"
#include "serving/model_manager.h"
#include "serving/serving_service.h"
#include "transport/grpc_server.h"
#include "transport/http_server.h"

namespace tessera {
namespace {

constexpr auto kShutdownGrace = std::chrono::seconds(30);

struct InitialConfig {
  ServerConfig config;
  std::string hash;  // config mode only
};

Result<InitialConfig> ReadInitialConfig(const FileSystem& fs, const ServerOptions& options) {
  if (options.config_path.empty()) {
    TESSERA_ASSIGN_OR_RETURN(ServerConfig config, SingleModelConfig(options));
    return InitialConfig{std::move(config), ""};
  }
  TESSERA_ASSIGN_OR_RETURN(ConfigFileText file, ReadConfigFile(fs, options.config_path));
  auto config = ParseServerConfig(file.text, file.dir);
  if (!config.ok()) {
    return Status(config.status().code(),
                  "Invalid config file " + file.path + ": " + config.status().message());
  }
  return InitialConfig{std::move(*config), file.hash};
}

// Metrics settings: config.json's monitoring.metrics, with the command line
// (--metrics_enable, --metrics_list) on top; the list from the command line
// replaces the file's. Read once at start.
MetricsConfig EffectiveMetricsConfig(const ServerOptions& options, MetricsConfig config) {
  config.enable = config.enable || options.metrics_enable;
  if (!options.metrics_list.empty()) config.metrics_list = options.metrics_list;
  return config;
}

// The version a failed call is counted under (see metrics::VersionResolver):
// the version asked for when known; for the default, the highest AVAILABLE
// version, else the highest known one. A pipeline's is always 1.
std::optional<int64_t> ResolveVersion(InferenceService& service, const std::string& name,
                                      int64_t version) {
  auto statuses = service.GetModelStatus(name, version);
  if (!statuses.ok() || statuses->empty()) return std::nullopt;
  if (version != kDefaultVersion) return statuses->front().version;
  int64_t best = statuses->back().version;
  for (const auto& s : *statuses) {
    if (s.state == VersionState::kAvailable) best = s.version;
  }
  return best;
}

// The KServe extensions both KServe front doors serve, with Triton's names:
// one list for ServerMetadata over gRPC and REST.
std::vector<std::string> ServedExtensions() {
  return {kserve_rest::kBinaryTensorDataExtension, "model_repository", "statistics"};
}

// Waits up to `timeout` for one of the (blocked) `signals`; true if one came.
bool WaitForSignal(const sigset_t& signals, std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const auto left = deadline - std::chrono::steady_clock::now();
    if (left <= std::chrono::steady_clock::duration::zero()) return false;
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
    timespec wait{static_cast<time_t>(ns / 1000000000), static_cast<long>(ns % 1000000000)};
    if (sigtimedwait(&signals, nullptr, &wait) > 0) return true;
    if (errno != EINTR && errno != EAGAIN) return false;
  }
}

void LogModelStates(ModelManager& manager) {
  for (const auto& name : manager.ModelNames()) {
    auto statuses = manager.GetStatus(name, kDefaultVersion);
    if (!statuses.ok()) continue;
    if (statuses->empty()) TLOG_WARN("Model {} has no version to serve", name);
    for (const auto& s : *statuses) {
      TLOG_INFO("Model {} version {}: {}{}", name, s.version, VersionStateName(s.state),
                s.status.ok() ? "" : " (" + s.status.message() + ")");
    }
  }
}

}  // namespace

struct Server::Impl {
  explicit Impl(ServerOptions o) : options(std::move(o)) {
    backends.Add(MakeTorchScriptBackend());
    backends.Add(MakeOnnxBackend());
  }

  ServerOptions options;
  LocalFileSystem fs;
  BackendRegistry backends;
  // Metrics and statistics outlive everything that records into them
  // (declared first).
  std::unique_ptr<metrics::ServingMetrics> metrics;  // null: metrics off
  metrics::StatsRegistry stats;                      // always kept
  std::unique_ptr<metrics::FrontDoorMetrics> kserve_grpc_metrics, tfs_grpc_metrics,
      kserve_rest_metrics, tfs_rest_metrics;
  std::unique_ptr<frontend::MetricsEndpoint> metrics_endpoint;
  std::unique_ptr<ModelManager> manager;
  std::unique_ptr<ServingService> service;
  // Pipelines: the InferenceService the frontends call (models first).
  std::unique_ptr<ManagerPipelineModels> pipeline_models;
  std::unique_ptr<pipeline::PipelineService> pipelines;
  std::unique_ptr<kserve_grpc::KServeGrpcService> kserve;
  std::unique_ptr<tfs_grpc::TfsPredictionService> tfs_predict;
  std::unique_ptr<tfs_grpc::TfsModelService> tfs_model;
  std::unique_ptr<transport::GrpcServer> grpc;
  std::unique_ptr<kserve_rest::KServeRestFrontend> kserve_rest;
  std::unique_ptr<frontend::RestFrontend> tfs_rest;
  std::unique_ptr<frontend::HttpRouter> router;  // REST frontends are added to it
  std::unique_ptr<transport::HttpServer> http;
  std::unique_ptr<RepositoryPoller> poller;
  std::unique_ptr<ServerAdmin> admin;
};

Server::Server(ServerOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}

Server::~Server() { Shutdown(); }

int Server::grpc_port() const { return impl_->grpc ? impl_->grpc->port() : 0; }

int Server::rest_port() const { return impl_->http ? impl_->http->port() : 0; }

Status Server::StartMetrics(const MetricsConfig& config) {
  Impl& s = *impl_;
  if (!config.enable) return Status::Ok();
  if (s.options.rest_port == 0) {
    return InvalidArgument(
        "Metrics are enabled but --rest_port is not set (metrics are served on the REST port)");
  }
  TESSERA_ASSIGN_OR_RETURN(s.metrics, metrics::ServingMetrics::Create(config.metrics_list));
  auto front_door = [&s](metrics::Api api, metrics::Interface interface) {
    return std::make_unique<metrics::FrontDoorMetrics>(
        *s.metrics, api, interface, [&s](const std::string& name, int64_t version) {
          return s.pipelines ? ResolveVersion(*s.pipelines, name, version) : std::nullopt;
        });
  };
  s.kserve_grpc_metrics = front_door(metrics::Api::kKServe, metrics::Interface::kGrpc);
  s.tfs_grpc_metrics = front_door(metrics::Api::kTensorFlowServing, metrics::Interface::kGrpc);
  s.kserve_rest_metrics = front_door(metrics::Api::kKServe, metrics::Interface::kRest);
  s.tfs_rest_metrics = front_door(metrics::Api::kTensorFlowServing, metrics::Interface::kRest);
  s.metrics_endpoint = std::make_unique<frontend::MetricsEndpoint>(*s.metrics);
  return Status::Ok();
}

// Pipelines wrap the model service; they are rebuilt whenever the manager
// applies a config and revalidated whenever its models change.
void Server::StartPipelines() {
  Impl& s = *impl_;
  s.pipeline_models = std::make_unique<ManagerPipelineModels>(*s.manager);
  pipeline::PipelineServiceOptions options;
  options.max_image_pixels = s.options.max_image_pixels;
  if (s.metrics) {
    metrics::ServingMetrics* metrics = s.metrics.get();
    options.node_time_observer = [metrics](const std::string& pipeline, const std::string& node,
                                           std::chrono::microseconds elapsed) {
      metrics->RecordNodeTime(pipeline, node, static_cast<double>(elapsed.count()));
    };
  }
  options.stats = &s.stats;
  s.pipelines = std::make_unique<pipeline::PipelineService>(*s.service, *s.pipeline_models, options);
  pipeline::PipelineService* pipelines = s.pipelines.get();
  s.manager->SetChangeListener([pipelines](const ServerConfig& config, bool config_applied) {
    return config_applied ? pipelines->ApplyConfig(config) : pipelines->Revalidate();
  });
  s.admin->SetPipelines(pipelines);
}

Status Server::StartGrpc() {
  Impl& s = *impl_;
  if (s.options.port == 0) return Status::Ok();
  s.kserve = std::make_unique<kserve_grpc::KServeGrpcService>(
      *s.pipelines, kserve_grpc::kDefaultMaxInFlightPerStream, s.kserve_grpc_metrics.get(),
      s.admin.get());
  s.tfs_predict =
      std::make_unique<tfs_grpc::TfsPredictionService>(*s.pipelines, s.tfs_grpc_metrics.get());
  s.tfs_model = std::make_unique<tfs_grpc::TfsModelService>(*s.pipelines, s.admin.get(),
                                                            s.tfs_grpc_metrics.get());
  transport::GrpcServerOptions grpc_options;
  grpc_options.address = s.options.grpc_bind_address;
  grpc_options.port = s.options.port;
  grpc_options.num_servers = s.options.grpc_workers;
  grpc_options.tls = {s.options.grpc_tls_cert, s.options.grpc_tls_key, s.options.grpc_tls_client_ca};
  s.grpc = std::make_unique<transport::GrpcServer>(grpc_options);
  s.grpc->AddService(s.kserve.get());
  s.grpc->AddService(s.tfs_predict.get());
  s.grpc->AddService(s.tfs_model.get());
  TESSERA_RETURN_IF_ERROR(s.grpc->Start());
  TLOG_INFO("KServe v2 and TensorFlow Serving gRPC listening on {}", s.grpc->endpoint());
  return Status::Ok();
}

Status Server::Start() {
  Impl& s = *impl_;
  TESSERA_ASSIGN_OR_RETURN(InitialConfig initial, ReadInitialConfig(s.fs, s.options));

  TESSERA_RETURN_IF_ERROR(StartMetrics(EffectiveMetricsConfig(s.options, initial.config.metrics)));
  ManagerOptions manager_options;
  manager_options.metrics = s.metrics.get();
  manager_options.stats = &s.stats;
  manager_options.max_image_pixels = s.options.max_image_pixels;
  manager_options.inline_run_max = std::chrono::microseconds(s.options.inline_run_max_us);
  s.manager = std::make_unique<ModelManager>(s.fs, s.backends, manager_options);
  s.service = std::make_unique<ServingService>(*s.manager);
  s.service->SetExtensions(ServedExtensions());
  s.poller = std::make_unique<RepositoryPoller>(s.fs, *s.manager, s.options.config_path,
                                                initial.hash);
  s.admin = std::make_unique<ServerAdmin>(*s.manager, *s.poller, s.stats);
  StartPipelines();

  if (s.options.rest_port > 0) {
    s.kserve_rest = std::make_unique<kserve_rest::KServeRestFrontend>(
        *s.pipelines, s.kserve_rest_metrics.get(), s.admin.get());
    s.router = std::make_unique<frontend::HttpRouter>();
    s.router->Add(s.kserve_rest.get());
    s.tfs_rest =
        tfs_rest::MakeTfsRestFrontend(*s.pipelines, s.admin.get(), s.tfs_rest_metrics.get());
    s.router->Add(s.tfs_rest.get());
    if (s.metrics_endpoint) s.router->Add(s.metrics_endpoint.get());
    // Deadline of REST inference requests (--rest_request_timeout_ms).
    const std::chrono::milliseconds rest_timeout(s.options.rest_request_timeout_ms);
    s.kserve_rest->set_request_timeout(rest_timeout);
    s.tfs_rest->set_request_timeout(rest_timeout);
    transport::HttpServerOptions http_options;
    http_options.address = s.options.rest_bind_address;
    http_options.port = s.options.rest_port;
    http_options.num_threads = std::max(1, s.options.rest_workers);
    http_options.header_timeout = std::chrono::seconds(s.options.rest_header_timeout_seconds);
    http_options.body_timeout = std::chrono::seconds(s.options.rest_body_timeout_seconds);
    http_options.max_connections = static_cast<size_t>(s.options.rest_max_connections);
    http_options.max_body_bytes = static_cast<size_t>(s.options.rest_max_body_bytes);
    http_options.tls = {s.options.rest_tls_cert, s.options.rest_tls_key, s.options.rest_tls_client_ca};
    s.http = std::make_unique<transport::HttpServer>(http_options, s.router->AsHandler());
    TESSERA_RETURN_IF_ERROR(s.http->Start());
    TLOG_INFO("REST listening on {}{}", s.http->endpoint(),
              s.options.rest_tls_cert.empty()         ? ""
              : s.options.rest_tls_client_ca.empty() ? " (TLS)"
                                                     : " (mutual TLS)");
  }

  s.manager->ApplyConfig(initial.config);
  LogModelStates(*s.manager);
  // Ready before gRPC listens, so that no gRPC call can be answered "not
  // ready yet". gRPC listens only once the models are loaded: a load
  // balancer in front of replicas (grpc_pass) can only skip a replica that
  // refuses connections, as a gRPC error status is passed on to the client.
  s.service->SetReady();
  TESSERA_RETURN_IF_ERROR(StartGrpc());
  TLOG_INFO("Server ready");

  if (s.options.file_system_poll_wait_seconds > 0) {
    s.poller->Start(std::chrono::seconds(s.options.file_system_poll_wait_seconds));
  }
  return Status::Ok();
}

void Server::BeginDrain() {
  Impl& s = *impl_;
  if (s.service) s.service->BeginDrain();
  if (s.http) s.http->BeginDrain();
}

void Server::Shutdown() {
  Impl& s = *impl_;
  if (s.poller) s.poller->Stop();
  // Stop taking calls; those already accepted finish (within the grace).
  // Both front doors stop accepting at once and drain in parallel.
  std::thread http_stop;
  if (s.http) {
    http_stop = std::thread([&s] { s.http->Shutdown(std::chrono::steady_clock::now() + kShutdownGrace); });
  }
  if (s.grpc) s.grpc->Shutdown(std::chrono::system_clock::now() + kShutdownGrace);
  if (http_stop.joinable()) http_stop.join();
  if (s.service) s.service->StopAccepting();
  s.grpc.reset();
  s.http.reset();
  s.router.reset();
  s.kserve_rest.reset();
  s.tfs_rest.reset();  // before admin: waits for a reload in progress
  s.kserve.reset();
  s.tfs_predict.reset();
  s.tfs_model.reset();  // before admin: a queued reload may still use it
  s.admin.reset();
  s.poller.reset();
  s.pipelines.reset();  // runs queued custom nodes; before the models
  s.manager.reset();  // drains every model's workers
  s.service.reset();
}

int RunServerUntilSignal(const ServerOptions& options) {
  // Block the signals in every thread; this one waits for them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  Server server(options);
  Status started = server.Start();
  if (!started.ok()) {
    TLOG_ERROR("{}", started.message());
    return 1;
  }
  int signal_number = 0;
  sigwait(&signals, &signal_number);
  if (signal_number == SIGTERM && options.drain_seconds > 0) {
    TLOG_INFO("Received SIGTERM: draining for {} s (not ready, still serving); SIGTERM or SIGINT "
              "again stops at once",
              options.drain_seconds);
    server.BeginDrain();
    if (WaitForSignal(signals, std::chrono::seconds(options.drain_seconds))) {
      TLOG_INFO("Received another signal: drain ended early");
    }
  }
  TLOG_INFO("Received signal {}, shutting down", signal_number);
  server.Shutdown();
  TLOG_INFO("Shutdown complete");
  return 0;
}

}  // namespace tessera
