// The command line: OVMS's flags, parsed and validated into ServerOptions.
//
// Two modes, exactly one per run:
//   config mode        --config_path FILE|DIR (DIR means DIR/config.json);
//   single-model mode  --model_name NAME --model_path PATH [--batch_size ...
//                      --shape ... --layout ... --model_version_policy JSON
//                      --nireq N --target_device DEV --plugin_config JSON
//                      --max_queue_size N --dynamic_batching JSON].
//
// Differences from OVMS, on purpose:
//   * --port defaults to 9000 (OVMS: 0, gRPC off), so a bare
//     `tessera --model_name m --model_path /p` serves something. Pass
//     --port 0 to turn gRPC off.
//   * --log_level is case-insensitive and stored upper-case.
//   * --file_system_poll_wait_seconds below 0 is taken as 0 (no polling), as
//     OVMS documents, rather than rejected.
//   * OVMS flags Tessera has no use for (--cache_dir, --stateful, ...) are
//     rejected as unknown, with a note saying so, instead of being ignored.
//
// Thread-safety: plain functions over values.
#pragma once

#include <string>
#include <vector>

#include "common/result.h"
#include "repository/model_config.h"

namespace tessera {

struct ServerOptions {
  // --- Server ---
  int port = 9000;                 // gRPC port; 0 = no gRPC server
  int rest_port = 0;               // REST port; 0 = no REST server
  std::string grpc_bind_address = "0.0.0.0";
  std::string rest_bind_address = "0.0.0.0";
  int grpc_workers = 1;            // gRPC server instances, 1..cores
  int rest_workers = 0;            // REST threads; the parser fills in the core count when unset
  std::string log_level = "INFO";  // TRACE, DEBUG, INFO, WARNING, ERROR
  std::string log_path;            // "" = stderr
  int file_system_poll_wait_seconds = 1;  // 0 = no polling
  bool metrics_enable = false;     // GET /metrics on the REST port
  std::vector<std::string> metrics_list;  // empty = default metrics
  // --rest_request_timeout_ms: deadline of REST inference requests that
  // have not started running; 0 = none.
  int rest_request_timeout_ms = 0;
  // --drain_seconds: on SIGTERM, how long the server keeps serving while
  // reporting not ready before it stops accepting (0 = stop at once); see
  // RunServerUntilSignal. 15 s of drain leave 15 s of Kubernetes' default
  // 30 s termination grace for the requests in flight.
  int drain_seconds = 15;
  // --inline_run_max_us: a model version whose usual run takes at most this
  // many microseconds runs on the transport thread that received the
  // request when the version is idle (no hand-off to a worker and back);
  // 0 = always on a worker. See README "Threads and scheduling".
  int inline_run_max_us = 100;

  // --- Encoded images ---
  // Largest width x height an encoded image may declare (checked before it
  // is decoded); 1..2^30 (OpenCV's own cap). = image::kDefaultMaxImagePixels.
  int max_image_pixels = 16777216;
  // --- REST limits and TLS (both servers); see README "REST server" and docs/tls.md ---
  int rest_header_timeout_seconds = 60;  // request line + headers must arrive in this time
  int rest_body_timeout_seconds = 60;    // the body must arrive in this time after the headers
  int rest_max_connections = 1024;       // open REST connections; more are answered 503
  // Largest REST body, as received and once decompressed; larger: 413.
  // = transport::kDefaultMaxBodyBytes.
  int rest_max_body_bytes = 1 << 30;
  std::string grpc_tls_cert, grpc_tls_key, grpc_tls_client_ca;  // PEM files; "" = plaintext
  std::string rest_tls_cert, rest_tls_key, rest_tls_client_ca;  // PEM files; "" = plaintext

  // --- Config mode ---
  std::string config_path;  // set => config mode

  // --- Single-model mode (raw flag text; "" = not given) ---
  std::string model_name;
  std::string model_path;
  std::string batch_size;            // see ParseBatchSize (repository/config_parser.h)
  std::string shape;                 // plain string or JSON object input -> string
  std::string layout;                // plain string or JSON object input -> string
  std::string model_version_policy;  // JSON, e.g. {"latest":{"num_versions":2}}
  int nireq = 0;                     // 0 = serving layer's default
  std::string target_device = "CPU";
  std::string plugin_config;         // JSON object, e.g. {"NUM_STREAMS":"1"}
  int max_queue_size = 0;            // 0 = serving layer's default
  std::string dynamic_batching;      // JSON, see ParseDynamicBatchingJson; "" = off

  bool config_mode() const { return !config_path.empty(); }
};

struct ParsedCommandLine {
  enum class Action {
    kServe,    // `options` holds the validated options
    kHelp,     // --help: print `text` to stdout, exit 0
    kVersion,  // --version: print `text` to stdout, exit 0
  };
  Action action = Action::kServe;
  std::string text;  // for kHelp / kVersion: ready to print, ends with '\n'
  ServerOptions options;
};

// Parses and validates argv (argv[0] is the program name). --help and
// --version win over everything else once the flags themselves parse. On a
// bad command line returns InvalidArgument with one line naming the flag,
// e.g. "--port must be between 0 and 65535 (got 70000)" or "Unknown flag:
// --prot". Never throws.
Result<ParsedCommandLine> ParseCommandLine(int argc, const char* const* argv);

// The ServerConfig of single-model mode: one model built from the
// single-model flags, plus the metrics flags. Model path resolved to an
// absolute, normalised path against the current directory.
// REQUIRES: !options.config_mode() (else FailedPrecondition).
// Errors: InvalidArgument naming the flag whose value is malformed.
Result<ServerConfig> SingleModelConfig(const ServerOptions& options);

}  // namespace tessera
