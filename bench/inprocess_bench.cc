// inprocess_bench: the in-process baseline of the benchmark. Loads one model
// version through the same backend the server uses (frozen, optimised
// TorchScript) and runs it on `workers` threads, each with `threads`
// intra-op threads (the server's nireq workers and INFERENCE_NUM_THREADS),
// back to back for `seconds`, on zero-filled inputs (dynamic dims = 1).
// No sockets, no codecs, no queue: what the engine alone can do on these
// threads.
//
// Usage: inprocess_bench --model_dir DIR/1 [--workers N] [--threads T] [--seconds S]
// Prints one line: "inferences_per_s <x> p50_us <a> p90_us <b> p99_us <c>".
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <latch>
#include <string>
#include <thread>
#include <vector>

#include "backend/torch/torch_backend.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Args {
  std::string model_dir;
  int workers = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  int threads = 1;
  double seconds = 5;
};

bool ParseArgs(int argc, char** argv, Args& a) {
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    const char* value = argv[i + 1];
    if (flag == "--model_dir") a.model_dir = value;
    else if (flag == "--workers") a.workers = std::atoi(value);
    else if (flag == "--threads") a.threads = std::atoi(value);
    else if (flag == "--seconds") a.seconds = std::atof(value);
    else return false;
  }
  return !a.model_dir.empty() && a.workers >= 1 && a.threads >= 1 && a.seconds > 0;
}

std::vector<tessera::NamedTensor> ZeroInputs(const tessera::ModelSignature& signature) {
  std::vector<tessera::NamedTensor> inputs;
  for (const auto& info : signature.inputs) {
    tessera::Shape shape = info.shape;
    for (auto& dim : shape) dim = dim < 0 ? 1 : dim;
    inputs.push_back({info.name, tessera::Tensor::Allocate(info.dtype, shape)});
  }
  return inputs;
}

double Percentile(std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  size_t index = std::min(sorted.size() - 1, static_cast<size_t>(p * sorted.size()));
  return sorted[index];
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  if (!ParseArgs(argc, argv, args)) {
    std::fprintf(stderr,
                 "usage: inprocess_bench --model_dir DIR [--workers N] [--threads T] [--seconds S]\n");
    return 2;
  }
  tessera::LoadOptions options;
  options.version_dir = std::filesystem::absolute(args.model_dir).string();
  for (const auto& entry : std::filesystem::directory_iterator(options.version_dir)) {
    options.file_names.push_back(entry.path().filename().string());
  }
  options.intra_op_threads = args.threads;
  auto model = tessera::MakeTorchScriptBackend()->Load(options);
  if (!model.ok()) {
    std::fprintf(stderr, "%s\n", model.status().message().c_str());
    return 1;
  }
  tessera::LoadedModel& loaded = **model;
  const auto inputs = ZeroInputs(loaded.signature());

  std::atomic<bool> failed{false};
  std::vector<std::vector<double>> latencies(args.workers);
  std::latch warmed(args.workers), go(1);
  Clock::time_point stop;  // written before `go` opens
  std::vector<std::thread> pool;
  for (int w = 0; w < args.workers; ++w) {
    pool.emplace_back([&, w] {
      if (!loaded.Run(inputs).ok()) failed = true;  // warm-up (thread pools), not timed
      warmed.count_down();
      go.wait();
      while (Clock::now() < stop && !failed) {
        auto t0 = Clock::now();
        if (!loaded.Run(inputs).ok()) failed = true;
        latencies[w].push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
      }
    });
  }
  warmed.wait();
  const auto start = Clock::now();
  stop = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(args.seconds));
  go.count_down();
  for (auto& t : pool) t.join();
  if (failed) {
    std::fprintf(stderr, "inference failed\n");
    return 1;
  }
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  std::vector<double> all;
  for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  std::printf("inferences_per_s %.1f p50_us %.0f p90_us %.0f p99_us %.0f\n", all.size() / elapsed,
              Percentile(all, 0.5), Percentile(all, 0.9), Percentile(all, 0.99));
  return 0;
}
