// GrpcServer: binds one address:port and serves any number of gRPC services.
// It knows nothing about models; frontends hand it their services.
//
// Threads: services should use gRPC's callback API. With it, gRPC 1.51 runs
// every reaction on its own process-wide threads (the callback executor, sized
// by gRPC from the core count); no public API sets their number, so there is
// no "worker thread count" knob here. `num_servers` (the OVMS --grpc_workers
// flag) keeps OVMS's meaning instead: that many gRPC server instances share
// the port, each with its own call queues; over plaintext the acceptor hands
// them connections in turn, over TLS they share the port through
// SO_REUSEPORT and the kernel spreads connections across them.
//
// Connections: over plaintext the listening socket is this class's own; an
// acceptor thread hands each accepted connection to a server instance
// (round-robin). That lets Shutdown stop taking connections first (new ones
// are refused: a proxy in front passes the call to another replica) while
// connections already accepted still start their calls for kSettleTime, and
// only then stop the servers. Over TLS gRPC binds the port itself (its
// credentials have no way to take an accepted socket) and Shutdown stops
// connections and calls at once.
//
// Thread-safety: AddService before Start, from one thread. Shutdown may be
// called from any thread, also while another thread is in Wait().
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"
#include "transport/tls.h"

namespace grpc {
class Server;
class Service;
}  // namespace grpc

namespace tessera::transport {

// How long connections accepted before Shutdown stopped taking new ones
// still have to start their calls (plaintext only; see the file comment).
inline constexpr std::chrono::milliseconds kSettleTime{200};

// Default limit on one message, received or sent: 1 GiB. gRPC's own default
// (4 MiB received) is far below a batch of images.
inline constexpr int kDefaultMaxMessageBytes = 1 << 30;

struct GrpcServerOptions {
  // Host name or IP address to bind; IPv6 may be bracketed ("[::]").
  std::string address = "0.0.0.0";
  // 0 picks a free port (then num_servers must be 1); see GrpcServer::port().
  int port = 0;
  // Largest message received and largest message sent, in bytes (> 0).
  int max_message_bytes = kDefaultMaxMessageBytes;
  // Number of server instances sharing the port (>= 1); see the file comment.
  int num_servers = 1;
  // Empty: plaintext. Otherwise TLS with these files (grpc::SslServerCredentials);
  // with a client CA, calls need a client certificate signed by it.
  TlsFiles tls;
};

class GrpcServer {
 public:
  explicit GrpcServer(GrpcServerOptions options);
  // Shuts down immediately (in-flight calls are cancelled) if still running.
  ~GrpcServer();

  GrpcServer(const GrpcServer&) = delete;
  GrpcServer& operator=(const GrpcServer&) = delete;

  // Registers a service with every server instance. Not owned: `service`
  // must outlive this GrpcServer. REQUIRES: called before Start().
  void AddService(grpc::Service* service);

  // Binds and starts serving. Errors: kInvalidArgument (bad options, TLS
  // files that fail CheckTlsFiles),
  // kUnavailable naming address and port when the port is taken or the
  // address cannot be bound, kFailedPrecondition when already started or
  // when no service was added.
  Status Start();

  // Stops accepting connections (plaintext: new ones are refused; those
  // accepted go on for up to kSettleTime, not past `deadline`), then stops
  // accepting calls, lets in-flight calls run until `deadline` and cancels
  // the rest. Returns when all calls have ended. Idempotent; a no-op before
  // Start().
  void Shutdown(std::chrono::system_clock::time_point deadline);

  // Blocks until Shutdown() has completed. Returns at once if never started.
  void Wait();

  // The bound port (the picked one when options.port was 0); 0 before Start.
  int port() const { return bound_port_; }
  // "address:port" as bound, e.g. "127.0.0.1:8001".
  std::string endpoint() const;

 private:
  GrpcServerOptions options_;
  std::vector<grpc::Service*> services_;
  // Undoes a Start that failed half-way: stops the servers, closes the socket.
  void AbandonStart();
  // Plaintext: accepts on listen_fd_ until a byte arrives on wake_fds_[0].
  void AcceptLoop();
  void AcceptPending();
  void StopAccepting();

  std::vector<std::unique_ptr<grpc::Server>> servers_;
  int listen_fd_ = -1;            // plaintext only
  int wake_fds_[2] = {-1, -1};    // pipe stopping the acceptor
  std::thread acceptor_;
  size_t next_server_ = 0;        // used by the acceptor thread only
  int bound_port_ = 0;
  std::mutex shutdown_mu_;
  bool shut_down_ = false;
};

// The address in the form gRPC and error messages use: IPv6 literals are
// bracketed, anything else is returned unchanged. Exposed for tests.
std::string FormatHostForGrpc(const std::string& address);

}  // namespace tessera::transport
