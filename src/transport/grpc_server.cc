#include "transport/grpc_server.h"

#include <fcntl.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_posix.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <absl/synchronization/mutex.h>
#include <cerrno>
#include <cstring>
#include <memory>
#include <thread>

#include "common/logging.h"
#include "common/result.h"

namespace tessera::transport {
namespace {

// Debian builds Abseil without NDEBUG, which leaves absl::Mutex's lock-order
// (deadlock) detection on: every lock gRPC takes then updates a global lock
// graph (~5% of the server's CPU on small requests, docs/performance.md). It
// is a debugging aid; gRPC's locking does not depend on it.
void TurnOffAbseilDeadlockDetection() {
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
}

std::string StripBrackets(const std::string& host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    return host.substr(1, host.size() - 2);
  }
  return host;
}

// The passive TCP addresses `host:port` resolves to (freed with
// freeaddrinfo), and "host:port" as messages name it.
// Errors: kUnavailable "Cannot resolve gRPC bind address ...".
struct BindAddresses {
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> list{nullptr, &freeaddrinfo};
  std::string where;
};

Result<BindAddresses> ResolveBindAddress(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  BindAddresses out;
  out.where = FormatHostForGrpc(host) + ":" + std::to_string(port);
  const std::string bare = StripBrackets(host);
  int rc = getaddrinfo(bare.empty() ? nullptr : bare.c_str(), std::to_string(port).c_str(),
                       &hints, &found);
  if (rc != 0) {
    return Unavailable("Cannot resolve gRPC bind address " + out.where + ": " + gai_strerror(rc));
  }
  out.list.reset(found);
  return out;
}

// Tries to bind every address `host:port` resolves to with a plain socket.
// gRPC reports a failed bind only as "no port", and with SO_REUSEPORT (needed
// for num_servers > 1) it would even share a port another server holds; this
// probe turns both cases into an error that says what went wrong.
Status ProbeBind(const std::string& host, int port) {
  TESSERA_ASSIGN_OR_RETURN(BindAddresses resolved, ResolveBindAddress(host, port));
  const std::string& where = resolved.where;
  addrinfo* found = resolved.list.get();
  Status status;
  for (addrinfo* ai = found; ai != nullptr && status.ok(); ai = ai->ai_next) {
    int fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
    if (fd < 0) continue;  // address family not supported here; gRPC skips it too
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
      status = Unavailable("Cannot bind gRPC server to " + where + ": " + std::strerror(errno));
    }
    close(fd);
  }
  return status;
}

// A listening socket on the first address `host:port` resolves to.
// Errors: kUnavailable naming address and port.
Result<int> Listen(const std::string& host, int port) {
  TESSERA_ASSIGN_OR_RETURN(BindAddresses resolved, ResolveBindAddress(host, port));
  const std::string& where = resolved.where;
  addrinfo* found = resolved.list.get();
  int fd = socket(found->ai_family, found->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, found->ai_protocol);
  int one = 1;
  bool ok = fd >= 0 && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == 0 &&
            bind(fd, found->ai_addr, found->ai_addrlen) == 0 && listen(fd, SOMAXCONN) == 0;
  const int error = errno;
  if (!ok) {
    if (fd >= 0) close(fd);
    return Unavailable("Cannot bind gRPC server to " + where + ": " + std::strerror(error));
  }
  return fd;
}

int LocalPort(int fd) {
  sockaddr_storage address{};
  socklen_t length = sizeof(address);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) return 0;
  if (address.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6*>(&address)->sin6_port);
  return ntohs(reinterpret_cast<sockaddr_in*>(&address)->sin_port);
}

Status ValidateOptions(const GrpcServerOptions& o) {
  if (o.port < 0 || o.port > 65535) {
    return InvalidArgument("gRPC port must be in 0..65535, got " + std::to_string(o.port));
  }
  if (o.max_message_bytes <= 0) {
    return InvalidArgument("gRPC max message size must be positive, got " +
                           std::to_string(o.max_message_bytes));
  }
  if (o.num_servers < 1) {
    return InvalidArgument("Number of gRPC servers (grpc_workers) must be at least 1, got " +
                           std::to_string(o.num_servers));
  }
  if (o.port == 0 && o.num_servers != 1) {
    return InvalidArgument("A picked (0) gRPC port needs exactly one gRPC server");
  }
  return Status::Ok();
}

// Plaintext, or TLS with the (checked) files of `tls`.
Result<std::shared_ptr<grpc::ServerCredentials>> Credentials(const TlsFiles& tls) {
  if (!tls.enabled()) return grpc::InsecureServerCredentials();
  TESSERA_RETURN_IF_ERROR(CheckTlsFiles(tls));
  TESSERA_ASSIGN_OR_RETURN(std::string cert, ReadTlsFile(tls.cert_file));
  TESSERA_ASSIGN_OR_RETURN(std::string key, ReadTlsFile(tls.key_file));
  const bool mutual = !tls.client_ca_file.empty();
  grpc::SslServerCredentialsOptions options(
      mutual ? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY
             : GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  if (mutual) {
    TESSERA_ASSIGN_OR_RETURN(options.pem_root_certs, ReadTlsFile(tls.client_ca_file));
  }
  options.pem_key_cert_pairs.push_back({std::move(key), std::move(cert)});
  return grpc::SslServerCredentials(options);
}

}  // namespace

std::string FormatHostForGrpc(const std::string& address) {
  bool is_v6_literal = address.find(':') != std::string::npos && address[0] != '[';
  return is_v6_literal ? "[" + address + "]" : address;
}

GrpcServer::GrpcServer(GrpcServerOptions options) : options_(std::move(options)) {}

GrpcServer::~GrpcServer() {
  Shutdown(std::chrono::system_clock::now());
  Wait();
}

void GrpcServer::AddService(grpc::Service* service) { services_.push_back(service); }

std::string GrpcServer::endpoint() const {
  return FormatHostForGrpc(options_.address) + ":" + std::to_string(bound_port_);
}

Status GrpcServer::Start() {
  TurnOffAbseilDeadlockDetection();
  if (!servers_.empty()) return FailedPrecondition("gRPC server already started");
  TESSERA_RETURN_IF_ERROR(ValidateOptions(options_));
  // gRPC refuses to build a server without services; say so rather than
  // reporting a failed bind.
  if (services_.empty()) return FailedPrecondition("gRPC server has no services to serve");
  const std::string host = FormatHostForGrpc(options_.address);
  const std::string where = host + ":" + std::to_string(options_.port);
  TESSERA_ASSIGN_OR_RETURN(std::shared_ptr<grpc::ServerCredentials> credentials,
                           Credentials(options_.tls));
  const bool own_listener = !options_.tls.enabled();
  if (own_listener) {
    TESSERA_ASSIGN_OR_RETURN(listen_fd_, Listen(options_.address, options_.port));
  } else if (options_.port != 0) {
    TESSERA_RETURN_IF_ERROR(ProbeBind(options_.address, options_.port));
  }

  const bool share_port = options_.num_servers > 1;
  for (int i = 0; i < options_.num_servers; ++i) {
    grpc::ServerBuilder builder;
    int selected_port = own_listener ? LocalPort(listen_fd_) : 0;
    if (!own_listener) builder.AddListeningPort(where, credentials, &selected_port);
    builder.SetMaxReceiveMessageSize(options_.max_message_bytes);
    builder.SetMaxSendMessageSize(options_.max_message_bytes);
    // Off for a single instance so a port another process holds is an error.
    builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, share_port ? 1 : 0);
    for (grpc::Service* service : services_) builder.RegisterService(service);
    std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
    if (server == nullptr || selected_port == 0) {
      AbandonStart();
      return Unavailable("Cannot bind gRPC server to " + where +
                         ": the port is in use or the address is not available");
    }
    bound_port_ = selected_port;
    servers_.push_back(std::move(server));
  }
  if (own_listener) {
    if (pipe2(wake_fds_, O_CLOEXEC) != 0) {
      const std::string reason = std::strerror(errno);
      AbandonStart();
      return Internal("Cannot start the gRPC acceptor: " + reason);
    }
    acceptor_ = std::thread([this] { AcceptLoop(); });
  }
  TLOG_INFO("gRPC server listening on {} ({} instance{}{})", endpoint(), servers_.size(),
            servers_.size() == 1 ? "" : "s",
            !options_.tls.enabled()                 ? ""
            : options_.tls.client_ca_file.empty() ? ", TLS"
                                                  : ", mutual TLS");
  return Status::Ok();
}

void GrpcServer::AbandonStart() {
  for (auto& started : servers_) started->Shutdown(std::chrono::system_clock::now());
  servers_.clear();
  if (listen_fd_ >= 0) close(listen_fd_);
  listen_fd_ = -1;
}

void GrpcServer::AcceptLoop() {
  pollfd watched[2] = {{listen_fd_, POLLIN, 0}, {wake_fds_[0], POLLIN, 0}};
  for (;;) {
    if (poll(watched, 2, -1) < 0) {
      if (errno == EINTR) continue;
      TLOG_ERROR("gRPC acceptor: poll failed: {}", std::strerror(errno));
      break;
    }
    if (watched[1].revents != 0) break;
    AcceptPending();
  }
  // Connections the kernel completed before the socket closes would be
  // reset by the close: serve them too.
  AcceptPending();
  close(listen_fd_);
  listen_fd_ = -1;
}

void GrpcServer::AcceptPending() {
  for (;;) {
    int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EMFILE || errno == ENFILE) {
        // Out of descriptors: the connection stays queued; retry in a while.
        TLOG_WARN("gRPC accept failed: {}", std::strerror(errno));
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    grpc::AddInsecureChannelFromFd(servers_[next_server_++ % servers_.size()].get(), fd);
  }
}

void GrpcServer::StopAccepting() {
  if (!acceptor_.joinable()) return;
  const char byte = 0;
  while (write(wake_fds_[1], &byte, 1) < 0 && errno == EINTR) {
  }
  acceptor_.join();
  close(wake_fds_[0]);
  close(wake_fds_[1]);
  wake_fds_[0] = wake_fds_[1] = -1;
}

void GrpcServer::Shutdown(std::chrono::system_clock::time_point deadline) {
  std::lock_guard<std::mutex> lock(shutdown_mu_);
  if (shut_down_ || servers_.empty()) return;
  shut_down_ = true;
  if (acceptor_.joinable()) {
    StopAccepting();
    std::this_thread::sleep_until(std::min(deadline, std::chrono::system_clock::now() + kSettleTime));
  }
  // In parallel: a sequential loop would keep later instances accepting new
  // calls while earlier ones drain.
  std::vector<std::thread> stoppers;
  for (auto& server : servers_) {
    stoppers.emplace_back([&server, deadline] { server->Shutdown(deadline); });
  }
  for (auto& t : stoppers) t.join();
  TLOG_INFO("gRPC server on {} stopped", endpoint());
}

void GrpcServer::Wait() {
  for (auto& server : servers_) server->Wait();
}

}  // namespace tessera::transport
