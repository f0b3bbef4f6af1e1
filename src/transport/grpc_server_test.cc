#include "transport/grpc_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <grpcpp/grpcpp.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <future>
#include <thread>

#include "kserve/grpc_predict_v2.grpc.pb.h"

namespace tessera::transport {
namespace {

using namespace std::chrono_literals;
using inference::GRPCInferenceService;

// Just enough of a service to exercise the transport: ServerLive answers at
// once, ModelInfer answers after `hold` on a thread of its own (an RPC in
// flight) and reports the raw input size in `id`.
class TestService final : public GRPCInferenceService::CallbackService {
 public:
  std::chrono::milliseconds hold{0};
  std::atomic<int> infer_started{0};

  ~TestService() override {
    for (auto& t : threads_) t.join();
  }

  grpc::ServerUnaryReactor* ServerLive(grpc::CallbackServerContext* ctx,
                                       const inference::ServerLiveRequest*,
                                       inference::ServerLiveResponse* resp) override {
    resp->set_live(true);
    auto* reactor = ctx->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

  grpc::ServerUnaryReactor* ModelInfer(grpc::CallbackServerContext* ctx,
                                       const inference::ModelInferRequest* req,
                                       inference::ModelInferResponse* resp) override {
    auto* reactor = ctx->DefaultReactor();
    size_t bytes = 0;
    for (const auto& raw : req->raw_input_contents()) bytes += raw.size();
    resp->set_id(std::to_string(bytes));
    ++infer_started;
    std::lock_guard<std::mutex> lock(mu_);
    threads_.emplace_back([reactor, hold = hold] {
      std::this_thread::sleep_for(hold);
      reactor->Finish(grpc::Status::OK);
    });
    return reactor;
  }

 private:
  std::mutex mu_;
  std::vector<std::thread> threads_;
};

std::unique_ptr<GRPCInferenceService::Stub> Connect(int port) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(-1);
  // A private subchannel per stub, so each stub opens its own connection.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return GRPCInferenceService::NewStub(grpc::CreateCustomChannel(
      "127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials(), args));
}

grpc::Status CallLive(GRPCInferenceService::Stub& stub, bool* live) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + 10s);
  inference::ServerLiveResponse resp;
  grpc::Status s = stub.ServerLive(&ctx, inference::ServerLiveRequest(), &resp);
  *live = resp.live();
  return s;
}

GrpcServerOptions Local(int port = 0) {
  GrpcServerOptions o;
  o.address = "127.0.0.1";
  o.port = port;
  return o;
}

// A port nothing listens on right now.
int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

TEST(GrpcServerTest, ServesRegisteredServiceOnPickedPort) {
  TestService service;
  GrpcServer server(Local());
  server.AddService(&service);
  ASSERT_TRUE(server.Start().ok());
  ASSERT_GT(server.port(), 0);
  EXPECT_EQ(server.endpoint(), "127.0.0.1:" + std::to_string(server.port()));

  bool live = false;
  auto stub = Connect(server.port());
  EXPECT_TRUE(CallLive(*stub, &live).ok());
  EXPECT_TRUE(live);
}

TEST(GrpcServerTest, PortTakenByAnotherServerIsAClearError) {
  TestService service;
  GrpcServer first(Local());
  first.AddService(&service);
  ASSERT_TRUE(first.Start().ok());

  GrpcServer second(Local(first.port()));
  second.AddService(&service);
  Status s = second.Start();
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_NE(s.message().find("127.0.0.1:" + std::to_string(first.port())), std::string::npos)
      << s.message();
  EXPECT_NE(s.message().find("Address already in use"), std::string::npos) << s.message();
  EXPECT_EQ(second.port(), 0);
}

TEST(GrpcServerTest, PortTakenByPlainSocketIsAnError) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(listen(fd, 1), 0);
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  int port = ntohs(addr.sin_port);

  TestService service;
  GrpcServer server(Local(port));
  server.AddService(&service);
  Status s = server.Start();
  close(fd);
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_NE(s.message().find(":" + std::to_string(port)), std::string::npos) << s.message();
}

TEST(GrpcServerTest, UnbindableAddressIsAnError) {
  GrpcServerOptions o = Local(FreePort());
  o.address = "203.0.113.7";  // TEST-NET-3: not an address of this machine
  TestService service;
  GrpcServer server(o);
  server.AddService(&service);
  Status s = server.Start();
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_NE(s.message().find("203.0.113.7:"), std::string::npos) << s.message();
}

TEST(GrpcServerTest, RejectsBadOptions) {
  struct Case {
    GrpcServerOptions options;
    std::string fragment;
  };
  std::vector<Case> cases;
  cases.push_back({Local(-1), "0..65535"});
  cases.push_back({Local(65536), "0..65535"});
  GrpcServerOptions zero_size = Local();
  zero_size.max_message_bytes = 0;
  cases.push_back({zero_size, "max message size"});
  GrpcServerOptions no_servers = Local(FreePort());
  no_servers.num_servers = 0;
  cases.push_back({no_servers, "at least 1"});
  GrpcServerOptions picked_shared = Local(0);
  picked_shared.num_servers = 2;
  cases.push_back({picked_shared, "exactly one"});
  for (auto& c : cases) {
    GrpcServer server(c.options);
    Status s = server.Start();
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << c.fragment;
    EXPECT_NE(s.message().find(c.fragment), std::string::npos) << s.message();
  }
}

TEST(GrpcServerTest, StartTwiceFails) {
  TestService service;
  GrpcServer server(Local());
  server.AddService(&service);
  ASSERT_TRUE(server.Start().ok());
  EXPECT_EQ(server.Start().code(), StatusCode::kFailedPrecondition);
}

TEST(GrpcServerTest, StartWithoutServicesFails) {
  GrpcServer server(Local());
  Status s = server.Start();
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("no services"), std::string::npos) << s.message();
}

TEST(GrpcServerTest, ShutdownAndWaitBeforeStartReturn) {
  GrpcServer server(Local());
  server.Shutdown(std::chrono::system_clock::now());
  server.Wait();
  EXPECT_EQ(server.port(), 0);
}

TEST(GrpcServerTest, DefaultLimitAcceptsMessagesAboveGrpcDefault) {
  TestService service;
  GrpcServer server(Local());
  server.AddService(&service);
  ASSERT_TRUE(server.Start().ok());
  auto stub = Connect(server.port());

  inference::ModelInferRequest req;
  req.add_raw_input_contents(std::string(8 << 20, 'x'));  // gRPC's default cap is 4 MiB
  inference::ModelInferResponse resp;
  grpc::ClientContext ctx;
  grpc::Status s = stub->ModelInfer(&ctx, req, &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(resp.id(), std::to_string(8 << 20));
}

TEST(GrpcServerTest, ConfiguredLimitRejectsLargerMessages) {
  TestService service;
  GrpcServerOptions o = Local();
  o.max_message_bytes = 1024;
  GrpcServer server(o);
  server.AddService(&service);
  ASSERT_TRUE(server.Start().ok());
  auto stub = Connect(server.port());

  inference::ModelInferRequest req;
  req.add_raw_input_contents(std::string(4096, 'x'));
  inference::ModelInferResponse resp;
  grpc::ClientContext ctx;
  EXPECT_EQ(stub->ModelInfer(&ctx, req, &resp).error_code(), grpc::RESOURCE_EXHAUSTED);
}

TEST(GrpcServerTest, ShutdownLetsInFlightCallsFinishAndRefusesNewOnes) {
  TestService service;
  service.hold = 300ms;
  GrpcServer server(Local());
  server.AddService(&service);
  ASSERT_TRUE(server.Start().ok());
  auto stub = Connect(server.port());

  auto in_flight = std::async(std::launch::async, [&] {
    inference::ModelInferResponse resp;
    grpc::ClientContext ctx;
    return stub->ModelInfer(&ctx, inference::ModelInferRequest(), &resp);
  });
  while (service.infer_started.load() == 0) std::this_thread::sleep_for(1ms);

  auto started = std::chrono::steady_clock::now();
  server.Shutdown(std::chrono::system_clock::now() + 10s);
  // Shutdown returned only after the held call ended, well before the deadline.
  EXPECT_GE(std::chrono::steady_clock::now() - started, 200ms);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
  grpc::Status s = in_flight.get();
  EXPECT_TRUE(s.ok()) << s.error_message();

  bool live = true;
  EXPECT_EQ(CallLive(*Connect(server.port()), &live).error_code(), grpc::UNAVAILABLE);
  server.Wait();  // returns: already shut down
}

// True when a plain TCP connect to 127.0.0.1:`port` is refused.
bool ConnectionRefused(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  bool refused = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 && errno == ECONNREFUSED;
  close(fd);
  return refused;
}

TEST(GrpcServerTest, ShutdownRefusesNewConnectionsWhileCallsFinish) {
  TestService service;
  service.hold = 1500ms;
  GrpcServer server(Local());
  server.AddService(&service);
  ASSERT_TRUE(server.Start().ok());
  EXPECT_FALSE(ConnectionRefused(server.port()));
  auto stub = Connect(server.port());
  auto in_flight = std::async(std::launch::async, [&] {
    inference::ModelInferResponse resp;
    grpc::ClientContext ctx;
    return stub->ModelInfer(&ctx, inference::ModelInferRequest(), &resp);
  });
  while (service.infer_started.load() == 0) std::this_thread::sleep_for(1ms);

  auto stopping = std::async(std::launch::async, [&] { server.Shutdown(std::chrono::system_clock::now() + 30s); });
  // The port refuses connections (a proxy then tries another replica) while
  // the call in flight still runs to its end.
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!ConnectionRefused(server.port()) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(5ms);
  }
  EXPECT_TRUE(ConnectionRefused(server.port()));
  grpc::Status s = in_flight.get();
  EXPECT_TRUE(s.ok()) << s.error_message();
  stopping.get();
}

TEST(GrpcServerTest, SeveralInstancesShareOnePort) {
  TestService service;
  GrpcServerOptions o = Local(FreePort());
  o.num_servers = 3;
  GrpcServer server(o);
  server.AddService(&service);
  Status started = server.Start();
  ASSERT_TRUE(started.ok()) << started.ToString();
  EXPECT_EQ(server.port(), o.port);

  for (int i = 0; i < 8; ++i) {
    bool live = false;
    auto stub = Connect(server.port());
    EXPECT_TRUE(CallLive(*stub, &live).ok());
    EXPECT_TRUE(live);
  }
  // Sharing is among our own instances only: another server is refused.
  GrpcServer intruder(o);
  intruder.AddService(&service);
  EXPECT_EQ(intruder.Start().code(), StatusCode::kUnavailable);
}

TEST(GrpcServerTest, FormatsIpv6LiteralsWithBrackets) {
  EXPECT_EQ(FormatHostForGrpc("::1"), "[::1]");
  EXPECT_EQ(FormatHostForGrpc("[::]"), "[::]");
  EXPECT_EQ(FormatHostForGrpc("0.0.0.0"), "0.0.0.0");
  EXPECT_EQ(FormatHostForGrpc("localhost"), "localhost");
}

}  // namespace
}  // namespace tessera::transport
