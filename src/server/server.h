// Server: wires the layers together for one process — file system,
// backends, model manager, inference service, front doors and the
// repository poller — and owns them all.
#pragma once

#include <memory>

#include "common/status.h"
#include "repository/model_config.h"
#include "server/options.h"

namespace tessera {

class Server {
 public:
  explicit Server(ServerOptions options);
  ~Server();

  // Reads the configuration, starts the REST server, loads the models,
  // turns ready, starts the gRPC server and starts polling. On error nothing
  // keeps running. While the models load, REST answers health and metrics
  // (live, not ready) and refuses inference with 503; gRPC is not listening.
  Status Start();

  // The drain before a Shutdown: readiness turns false on every front door
  // (gRPC ServerReady, REST /v2/health/ready), every request is still
  // served, and REST responses close their connection (Connection: close)
  // so keep-alive clients reconnect elsewhere. Model readiness is unchanged.
  void BeginDrain();

  // Stops accepting requests, finishes those in flight, unloads models.
  void Shutdown();

  // Ports actually bound (useful when 0 was asked for in tests).
  int grpc_port() const;
  int rest_port() const;

 private:
  // Creates the metrics and the front doors' recorders when `config` enables
  // them. Errors: InvalidArgument (no REST port, unknown family name).
  Status StartMetrics(const MetricsConfig& config);
  // Starts the gRPC front doors when --port is set.
  Status StartGrpc();
  void StartPipelines();

  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Runs the server until a signal. Returns the process exit code.
//   SIGTERM  drains for options.drain_seconds (BeginDrain), then Shutdown;
//            a second SIGTERM, or a SIGINT, during the drain ends it early.
//   SIGINT   Shutdown at once (no drain): an interactive Ctrl-C.
// Shutdown itself stops accepting, lets in-flight calls finish (up to 30 s)
// and unloads the models; the exit code is then 0.
// REQUIRES: called from main() before any other thread is started.
int RunServerUntilSignal(const ServerOptions& options);

}  // namespace tessera
