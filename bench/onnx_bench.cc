// onnx_bench: an architecture imported from ONNX (OnnxBackend) against the
// same architecture as a traced TorchScript archive (TorchScript backend),
// both loaded in this process the way the server loads them (frozen and
// optimised) and run in turns on the calling thread with the same intra-op
// thread count.
//
// Model files come from scripts/make_vision_models.py (see bench/README.md):
//   DIR/<arch>_torchscript/1/model.pt and DIR/<arch>_opset<N>/1/model.onnx.
//
// Prints, per architecture, ms per inference (median and best of the
// interleaved rounds) and ONNX/TorchScript time ratios, plus the largest
// output difference relative to the largest TorchScript output. Exits 1 when
// a model does not load or the outputs differ by more than 1e-4 relative;
// timings are never asserted.
//
// Usage: onnx_bench --models DIR [--arch A]... [--opset N] [--batch B]
//                   [--threads T] [--seconds S] [--short]
#include <malloc.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "backend/onnx/onnx_backend.h"
#include "backend/torch/torch_backend.h"
#include "interleaved.h"

namespace {

using tessera::Backend;
using tessera::LoadedModel;
using tessera::NamedTensor;
using tessera::Tensor;

constexpr double kMaxRelativeDifference = 1e-4;

struct Options {
  std::string models_dir;
  std::vector<std::string> archs;
  int opset = 17;
  int64_t batch = 1;
  int threads = 1;
  double seconds = 20;
  int min_rounds = 10;
};

[[noreturn]] void Fail(const std::string& message) {
  std::fprintf(stderr, "onnx_bench: %s\n", message.c_str());
  std::exit(1);
}

std::unique_ptr<LoadedModel> LoadModel(Backend& backend, const std::string& version_dir,
                                       int threads) {
  tessera::LoadOptions load;
  load.version_dir = version_dir;
  load.intra_op_threads = threads;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(version_dir, error)) {
    load.file_names.push_back(entry.path().filename().string());
  }
  if (error) Fail("cannot list " + version_dir + ": " + error.message());
  auto model = backend.Load(load);
  if (!model.ok()) Fail(model.status().ToString());
  return std::move(model).value();
}

// One random FP32 image batch named after `model`'s first input.
std::vector<NamedTensor> RandomImages(const LoadedModel& model, int64_t batch, int size) {
  tessera::Shape shape = {batch, 3, size, size};
  Tensor images = Tensor::Allocate(tessera::DataType::kFp32, shape);
  std::mt19937 rng(7);
  std::normal_distribution<float> normal;
  auto* data = reinterpret_cast<float*>(images.mutable_data());
  for (int64_t i = 0; i < images.element_count(); ++i) data[i] = normal(rng);
  return {{model.signature().inputs.at(0).name, std::move(images)}};
}

std::vector<NamedTensor> RunOrFail(LoadedModel& model, const std::vector<NamedTensor>& inputs) {
  auto outputs = model.Run(inputs);
  if (!outputs.ok()) Fail(outputs.status().ToString());
  return std::move(outputs).value();
}

// max |a - b| / max |b| over the first output of each.
double RelativeDifference(const NamedTensor& a, const NamedTensor& b) {
  if (a.tensor.shape() != b.tensor.shape()) Fail("outputs differ in shape");
  const float* x = a.tensor.data_as<float>();
  const float* y = b.tensor.data_as<float>();
  double diff = 0, scale = 0;
  for (int64_t i = 0; i < b.tensor.element_count(); ++i) {
    diff = std::max(diff, std::fabs(double(x[i]) - y[i]));
    scale = std::max(scale, std::fabs(double(y[i])));
  }
  return scale > 0 ? diff / scale : diff;
}

int ImageSize(const std::string& arch) { return arch == "inception_v3" ? 299 : 224; }

void BenchArch(const Options& options, Backend& torchscript, Backend& onnx,
               const std::string& arch) {
  const std::string base = options.models_dir + "/" + arch;
  auto ts_model = LoadModel(torchscript, base + "_torchscript/1", options.threads);
  auto onnx_model =
      LoadModel(onnx, base + "_opset" + std::to_string(options.opset) + "/1", options.threads);
  auto ts_inputs = RandomImages(*ts_model, options.batch, ImageSize(arch));
  std::vector<NamedTensor> onnx_inputs = {
      {onnx_model->signature().inputs.at(0).name, ts_inputs[0].tensor}};

  double difference = RelativeDifference(RunOrFail(*onnx_model, onnx_inputs)[0],
                                         RunOrFail(*ts_model, ts_inputs)[0]);
  // Two more untimed runs each: the profiling executor specialises the graph
  // on its first runs.
  for (int i = 0; i < 2; ++i) {
    RunOrFail(*ts_model, ts_inputs);
    RunOrFail(*onnx_model, onnx_inputs);
  }
  auto samples = tessera::bench::InterleavedSeconds(
      {[&] { return RunOrFail(*ts_model, ts_inputs)[0].tensor.byte_size(); },
       [&] { return RunOrFail(*onnx_model, onnx_inputs)[0].tensor.byte_size(); }},
      options.min_rounds, options.seconds);
  double ts_median = tessera::bench::Median(samples[0]) * 1e3;
  double onnx_median = tessera::bench::Median(samples[1]) * 1e3;
  double ts_best = tessera::bench::Best(samples[0]) * 1e3;
  double onnx_best = tessera::bench::Best(samples[1]) * 1e3;
  std::printf("%-20s %5d %6zu %10.2f %10.2f %8.3f %10.2f %10.2f %8.3f %10.1e\n", arch.c_str(),
              options.opset, samples[0].size(), ts_median, onnx_median, onnx_median / ts_median,
              ts_best, onnx_best, onnx_best / ts_best, difference);
  std::fflush(stdout);
  if (!(difference <= kMaxRelativeDifference)) {
    Fail(arch + ": ONNX and TorchScript outputs differ by " + std::to_string(difference) +
         " relative");
  }
}

[[noreturn]] void Usage(const char* argv0) {
  std::fprintf(stderr,
               "usage: %s --models DIR [--arch A]... [--opset N] [--batch B] [--threads T]\n"
               "          [--seconds S] [--short]\n",
               argv0);
  std::exit(2);
}

Options ParseOptions(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (flag == "--short") {
      options.seconds = 0;
      options.min_rounds = 2;
      continue;
    }
    if (i + 1 >= argc) Usage(argv[0]);
    const char* value = argv[++i];
    if (flag == "--models") {
      options.models_dir = value;
    } else if (flag == "--arch") {
      options.archs.push_back(value);
    } else if (flag == "--opset") {
      options.opset = std::atoi(value);
    } else if (flag == "--batch") {
      options.batch = std::atoll(value);
    } else if (flag == "--threads") {
      options.threads = std::atoi(value);
    } else if (flag == "--seconds") {
      options.seconds = std::atof(value);
    } else {
      Usage(argv[0]);
    }
  }
  if (options.models_dir.empty() || options.batch < 1 || options.threads < 1) Usage(argv[0]);
  if (options.archs.empty()) options.archs = {"resnet50", "mobilenet_v3_large"};
  return options;
}

}  // namespace

int main(int argc, char** argv) {
  // Keep freed memory in the process so neither model pays page faults for
  // memory the other just released.
  mallopt(M_MMAP_THRESHOLD, 256 << 20);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  Options options = ParseOptions(argc, argv);
  auto torchscript = tessera::MakeTorchScriptBackend();
  auto onnx = tessera::MakeOnnxBackend();
  std::printf("onnx_bench: batch %lld, %d intra-op thread(s), ms per inference over interleaved "
              "rounds; ratio = ONNX / TorchScript\n",
              static_cast<long long>(options.batch), options.threads);
  std::printf("%-20s %5s %6s %10s %10s %8s %10s %10s %8s %10s\n", "arch", "opset", "rounds",
              "ts med", "onnx med", "ratio", "ts best", "onnx best", "ratio", "rel diff");
  for (const auto& arch : options.archs) BenchArch(options, *torchscript, *onnx, arch);
  return 0;
}
