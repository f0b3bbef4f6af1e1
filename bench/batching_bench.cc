// batching_bench: a closed-loop KServe v2 gRPC load generator. `concurrency`
// callers each keep one ModelInfer call in flight (a new call as soon as the
// last one answers) for `seconds`, then it prints one line of figures:
//
//   label=<label> requests=<n> errors=<n> seconds=<s> rps=<req/s> p50_us=<> p90_us=<> p99_us=<>
//   deadline_exceeded=<n> exhausted=<n>
//
// `requests`, `rps` and the percentiles count successful calls only; with
// --deadline_ms every call carries that gRPC deadline, so a successful call
// was answered within it (rps is then the goodput). `errors` counts every
// failed call, `deadline_exceeded` and `exhausted` (RESOURCE_EXHAUSTED) the
// two overload answers among them. With --backoff_ms a caller answered
// RESOURCE_EXHAUSTED waits that long before its next call, as a client
// retrying a full server would (0: at once).
//
// Usage: batching_bench --target HOST:PORT --model NAME --shape 1,256
//                       [--concurrency 16] [--seconds 5] [--label TEXT] [--deadline_ms 0]
//                       [--backoff_ms 0]
// The input is one FP32 tensor "x" of that shape (random values, sent as
// raw_input_contents). Exit status 1 when no call succeeded or an argument is
// malformed. bench/batching_compare.py drives it; see bench/README.md.
#include <grpcpp/alarm.h>
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "kserve/grpc_predict_v2.grpc.pb.h"

namespace {

using Clock = std::chrono::steady_clock;
namespace kserve = inference;

struct Options {
  std::string target;
  std::string model;
  std::vector<int64_t> shape;
  int concurrency = 16;
  double seconds = 5;
  std::string label = "run";
  int deadline_ms = 0;  // 0 = calls without a deadline
  int backoff_ms = 0;   // wait after RESOURCE_EXHAUSTED
};

// One caller: a request reused for every call, and its latencies.
struct Caller {
  kserve::ModelInferRequest request;
  kserve::ModelInferResponse response;
  std::unique_ptr<grpc::ClientContext> context;
  grpc::Alarm backoff;  // delays the next call after RESOURCE_EXHAUSTED
  Clock::time_point sent;
  std::vector<double> latencies_us;
  int64_t errors = 0;
  int64_t deadline_exceeded = 0;
  int64_t exhausted = 0;
  std::string first_error;
};

class Load {
 public:
  Load(const Options& options, std::shared_ptr<grpc::Channel> channel)
      : options_(options), stub_(kserve::GRPCInferenceService::NewStub(channel)) {}

  void Run() {
    end_ = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                              std::chrono::duration<double>(options_.seconds));
    callers_.resize(options_.concurrency);
    active_ = options_.concurrency;
    for (auto& caller : callers_) {
      caller.request = MakeRequest();
      Send(caller);
    }
    std::unique_lock lock(mu_);
    done_cv_.wait(lock, [this] { return active_ == 0; });
  }

  const std::vector<Caller>& callers() const { return callers_; }

 private:
  kserve::ModelInferRequest MakeRequest() {
    kserve::ModelInferRequest request;
    request.set_model_name(options_.model);
    auto* input = request.add_inputs();
    input->set_name("x");
    input->set_datatype("FP32");
    int64_t count = 1;
    for (int64_t d : options_.shape) {
      input->add_shape(d);
      count *= d;
    }
    std::vector<float> values(count);
    std::normal_distribution<float> normal;
    for (auto& v : values) v = normal(rng_);
    request.add_raw_input_contents(std::string(reinterpret_cast<const char*>(values.data()),
                                               values.size() * sizeof(float)));
    return request;
  }

  void Send(Caller& caller) {
    caller.context = std::make_unique<grpc::ClientContext>();
    if (options_.deadline_ms > 0) {
      caller.context->set_deadline(std::chrono::system_clock::now() +
                                   std::chrono::milliseconds(options_.deadline_ms));
    }
    caller.sent = Clock::now();
    stub_->async()->ModelInfer(caller.context.get(), &caller.request, &caller.response,
                               [this, &caller](grpc::Status status) { Answered(caller, status); });
  }

  void Answered(Caller& caller, const grpc::Status& status) {
    auto now = Clock::now();
    if (status.ok()) {
      caller.latencies_us.push_back(std::chrono::duration<double, std::micro>(now - caller.sent).count());
    } else {
      if (status.error_code() == grpc::DEADLINE_EXCEEDED) ++caller.deadline_exceeded;
      if (status.error_code() == grpc::RESOURCE_EXHAUSTED) ++caller.exhausted;
      if (caller.errors++ == 0) caller.first_error = status.error_message();
    }
    if (now < end_) {
      if (status.error_code() != grpc::RESOURCE_EXHAUSTED || options_.backoff_ms <= 0) {
        return Send(caller);
      }
      caller.backoff.Set(std::chrono::system_clock::now() + std::chrono::milliseconds(options_.backoff_ms),
                         [this, &caller](bool) { Send(caller); });
      return;
    }
    std::lock_guard lock(mu_);
    if (--active_ == 0) done_cv_.notify_all();
  }

  const Options& options_;
  std::unique_ptr<kserve::GRPCInferenceService::Stub> stub_;
  std::mt19937 rng_{42};
  Clock::time_point end_;
  std::vector<Caller> callers_;
  std::mutex mu_;
  std::condition_variable done_cv_;
  int active_ = 0;
};

bool ParseShape(const std::string& text, std::vector<int64_t>* shape) {
  std::stringstream in(text);
  std::string part;
  while (std::getline(in, part, ',')) {
    char* end = nullptr;
    long long d = std::strtoll(part.c_str(), &end, 10);
    if (part.empty() || *end != '\0' || d < 1) return false;
    shape->push_back(d);
  }
  return !shape->empty();
}

bool ParseArgs(int argc, char** argv, Options* options) {
  std::map<std::string, std::string> args;
  for (int i = 1; i + 1 < argc; i += 2) args[argv[i]] = argv[i + 1];
  if (argc % 2 != 1 || !args.count("--target") || !args.count("--model") || !args.count("--shape")) {
    return false;
  }
  options->target = args["--target"];
  options->model = args["--model"];
  if (!ParseShape(args["--shape"], &options->shape)) return false;
  if (args.count("--concurrency")) options->concurrency = std::atoi(args["--concurrency"].c_str());
  if (args.count("--seconds")) options->seconds = std::atof(args["--seconds"].c_str());
  if (args.count("--label")) options->label = args["--label"];
  if (args.count("--deadline_ms")) options->deadline_ms = std::atoi(args["--deadline_ms"].c_str());
  if (args.count("--backoff_ms")) options->backoff_ms = std::atoi(args["--backoff_ms"].c_str());
  return options->concurrency >= 1 && options->seconds > 0;
}

double Percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  size_t index = std::min(sorted.size() - 1, static_cast<size_t>(p * (sorted.size() - 1) + 0.5));
  return sorted[index];
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  if (!ParseArgs(argc, argv, &options)) {
    std::fprintf(stderr,
                 "usage: batching_bench --target HOST:PORT --model NAME --shape 1,256 "
                 "[--concurrency 16] [--seconds 5] [--label TEXT] [--deadline_ms 0] [--backoff_ms 0]\n");
    return 1;
  }
  grpc::ChannelArguments channel_args;
  channel_args.SetMaxReceiveMessageSize(-1);
  auto channel = grpc::CreateCustomChannel(options.target, grpc::InsecureChannelCredentials(), channel_args);
  Load load(options, channel);
  auto start = Clock::now();
  load.Run();
  double elapsed = std::chrono::duration<double>(Clock::now() - start).count();

  std::vector<double> latencies;
  int64_t errors = 0;
  int64_t deadline_exceeded = 0;
  int64_t exhausted = 0;
  std::string first_error;
  for (const auto& caller : load.callers()) {
    latencies.insert(latencies.end(), caller.latencies_us.begin(), caller.latencies_us.end());
    errors += caller.errors;
    deadline_exceeded += caller.deadline_exceeded;
    exhausted += caller.exhausted;
    if (first_error.empty()) first_error = caller.first_error;
  }
  std::sort(latencies.begin(), latencies.end());
  std::printf("label=%s requests=%zu errors=%lld seconds=%.3f rps=%.1f p50_us=%.0f p90_us=%.0f p99_us=%.0f "
              "deadline_exceeded=%lld exhausted=%lld\n",
              options.label.c_str(), latencies.size(), static_cast<long long>(errors), elapsed,
              latencies.size() / elapsed, Percentile(latencies, 0.50), Percentile(latencies, 0.90),
              Percentile(latencies, 0.99), static_cast<long long>(deadline_exceeded),
              static_cast<long long>(exhausted));
  if (!first_error.empty()) std::fprintf(stderr, "first error: %s\n", first_error.c_str());
  return latencies.empty() ? 1 : 0;
}
