// bare_grpc_server: the gRPC baseline of the benchmark. The KServe v2
// ModelInfer service on the same gRPC library (callback API, the same
// message size limits) answering every call with one fixed reply, with no
// model, no decoding and no queue: the most a gRPC server on this library
// can do per core. Like Tessera, it turns off Abseil's mutex deadlock
// detection, which Debian's Abseil build leaves on (src/transport/grpc_server.cc).
//
// Usage: bare_grpc_server --port P --reply FILE
//   FILE holds a serialized inference.ModelInferResponse (run_all.py saves
//   the real server's reply to the benchmark request). Serves until SIGINT or
//   SIGTERM; prints "listening on <port>" once ready.
#include <absl/synchronization/mutex.h>
#include <grpcpp/grpcpp.h>

#include <cstdio>
#include <string>

#include "bare_server_util.h"
#include "kserve/grpc_predict_v2.grpc.pb.h"

namespace {

class FixedReplyService final : public inference::GRPCInferenceService::CallbackService {
 public:
  explicit FixedReplyService(inference::ModelInferResponse reply) : reply_(std::move(reply)) {}

  grpc::ServerUnaryReactor* ModelInfer(grpc::CallbackServerContext* ctx,
                                       const inference::ModelInferRequest*,
                                       inference::ModelInferResponse* response) override {
    *response = reply_;
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

 private:
  const inference::ModelInferResponse reply_;
};

}  // namespace

int main(int argc, char** argv) {
  const char* port = bare::Flag(argc, argv, "--port");
  const char* reply_path = bare::Flag(argc, argv, "--reply");
  if (port == nullptr || reply_path == nullptr) {
    std::fprintf(stderr, "usage: bare_grpc_server --port P --reply FILE\n");
    return 2;
  }
  inference::ModelInferResponse reply;
  if (!reply.ParseFromString(bare::ReadFile(reply_path))) {
    std::fprintf(stderr, "cannot parse %s as a ModelInferResponse\n", reply_path);
    return 1;
  }
  const sigset_t signals = bare::BlockStopSignals();

  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  FixedReplyService service(std::move(reply));
  grpc::ServerBuilder builder;
  int bound = 0;
  builder.AddListeningPort(std::string("127.0.0.1:") + port, grpc::InsecureServerCredentials(),
                           &bound);
  builder.SetMaxReceiveMessageSize(1 << 30);
  builder.SetMaxSendMessageSize(1 << 30);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || bound == 0) {
    std::fprintf(stderr, "cannot listen on port %s\n", port);
    return 1;
  }
  bare::ServeUntilSignal(signals, bound);
  server->Shutdown();
  return 0;
}
