// batching_scheduler_bench: what the serving layer costs per request, in
// process, without sockets. A trivial model (y = x + 1 on a 1x16 FP32
// input, a few hundred nanoseconds) is run by `callers` threads, each with one
// request in flight, for a fixed time:
//   direct    the callers call LoadedModel::Run themselves (the baseline)
//   servable  through Servable::Infer: validation, the scheduler's queue, a
//             worker, the completion callback (nireq = min(callers, cores))
//   batched   the same with dynamic batching (max 16 rows, no delay)
// and prints requests/s and the process CPU time per request. The serving
// layer's CPU cost per request is the difference to `direct`; with one
// request in flight per caller the wall-clock rate is bound by two thread
// hand-offs (caller -> worker -> caller) per request.
//
// Usage: batching_scheduler_bench [--short] [--callers N]
#include <time.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "serving/servable.h"

namespace tessera {
namespace {

using Clock = std::chrono::steady_clock;

class AddOne : public LoadedModel {
 public:
  AddOne() {
    signature_.inputs = {{"x", DataType::kFp32, {-1, 16}}};
    signature_.outputs = {{"y", DataType::kFp32, {-1, 16}}};
  }
  const ModelSignature& signature() const override { return signature_; }
  std::string platform() const override { return "bench"; }
  Result<std::vector<NamedTensor>> Run(const std::vector<NamedTensor>& inputs) override {
    const Tensor& x = inputs[0].tensor;
    Tensor y = Tensor::Allocate(DataType::kFp32, x.shape());
    auto* out = reinterpret_cast<float*>(y.mutable_data());
    for (int64_t i = 0; i < x.element_count(); ++i) out[i] = x.data_as<float>()[i] + 1;
    return std::vector<NamedTensor>{{"y", std::move(y)}};
  }

 private:
  ModelSignature signature_;
};

// One caller's request and a one-slot mailbox for its answer.
struct Caller {
  float x[16] = {};
  InferRequest request;
  std::mutex mu;
  std::condition_variable cv;
  bool answered = false;
  bool ok = true;
};

double ProcessCpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

struct Figures {
  double rps = 0;
  double cpu_us_per_request = 0;
};

// Runs `call` on every caller thread until `seconds` pass.
template <typename Call>
Figures Measure(int callers, double seconds, Call call) {
  std::atomic<int64_t> total{0};
  std::vector<std::thread> threads;
  auto end = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  auto start = Clock::now();
  double cpu_start = ProcessCpuSeconds();
  for (int c = 0; c < callers; ++c) {
    threads.emplace_back([&, c] {
      Caller caller;
      caller.request.model_name = "bench";
      caller.request.inputs.push_back(
          {"x", Tensor::Borrow(DataType::kFp32, {1, 16}, caller.x, sizeof(caller.x))});
      int64_t n = 0;
      while (Clock::now() < end) {
        call(caller);
        ++n;
      }
      total += n;
    });
  }
  for (auto& t : threads) t.join();
  double cpu = ProcessCpuSeconds() - cpu_start;
  double wall = std::chrono::duration<double>(Clock::now() - start).count();
  return Figures{total / wall, cpu * 1e6 / static_cast<double>(total)};
}

void CallServable(Servable& servable, Caller& caller) {
  caller.answered = false;
  servable.Infer(caller.request, [&caller](Result<InferResponse> r) {
    std::lock_guard lock(caller.mu);
    caller.ok = r.ok();
    caller.answered = true;
    caller.cv.notify_one();
  });
  std::unique_lock lock(caller.mu);
  caller.cv.wait(lock, [&] { return caller.answered; });
  if (!caller.ok) std::abort();
}

Figures MeasureServable(int callers, double seconds, std::optional<DynamicBatchingConfig> batching) {
  int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  Servable servable("bench", 1, std::make_unique<AddOne>(),
                    ServableOptions{std::min(callers, cores), 4096, batching});
  return Measure(callers, seconds, [&](Caller& c) { CallServable(servable, c); });
}

}  // namespace
}  // namespace tessera

int main(int argc, char** argv) {
  using namespace tessera;
  double seconds = 2;
  int callers = 2;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--short") == 0) seconds = 0.3;
    if (std::strcmp(argv[i], "--callers") == 0 && i + 1 < argc) callers = std::atoi(argv[++i]);
  }
  if (callers < 1) return 1;
  AddOne model;
  Figures direct = Measure(callers, seconds, [&](Caller& c) {
    if (!model.Run(c.request.inputs).ok()) std::abort();
  });
  Figures plain = MeasureServable(callers, seconds, std::nullopt);
  Figures batched = MeasureServable(callers, seconds, DynamicBatchingConfig{16, 0, {}});
  std::printf("batching_scheduler_bench: %d callers, 1x16 FP32 add-one model, %.1f s per case\n", callers,
              seconds);
  std::printf("%-10s %12s %14s %18s\n", "case", "req/s", "CPU us/req", "serving CPU us/req");
  std::printf("%-10s %12.0f %14.2f %18s\n", "direct", direct.rps, direct.cpu_us_per_request, "-");
  for (auto [name, f] : {std::pair{"servable", plain}, std::pair{"batched", batched}}) {
    std::printf("%-10s %12.0f %14.2f %18.2f\n", name, f.rps, f.cpu_us_per_request,
                f.cpu_us_per_request - direct.cpu_us_per_request);
  }
  return 0;
}
