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

  // Reads the configuration, starts the front doors, loads the models and
  // starts polling. On error nothing keeps running.
  Status Start();

  // Stops accepting requests, finishes those in flight, unloads models.
  void Shutdown();

  // Ports actually bound (useful when 0 was asked for in tests).
  int grpc_port() const;
  int rest_port() const;

 private:
  // Creates the metrics and the front doors' recorders when `config` enables
  // them. Errors: InvalidArgument (no REST port, unknown family name).
  Status StartMetrics(const MetricsConfig& config);
  void StartPipelines();

  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Runs the server until SIGINT or SIGTERM. Returns the process exit code.
// REQUIRES: called from main() before any other thread is started.
int RunServerUntilSignal(const ServerOptions& options);

}  // namespace tessera
