// engine_worker: one model in one engine of this process, run on command, for
// bench/engine_compare.py (which runs several workers in turns and times them
// alike; see bench/README.md).
//
// Engines:
//   tessera   the server's backend for the file: TorchScript (.pt) or ONNX
//             (.onnx), loaded as the server loads it (frozen, optimised,
//             MKLDNN activations guarded), run through LoadedModel::Run with
//             --threads intra-op threads;
//   libtorch  the same TorchScript file through libtorch alone:
//             torch::jit::freeze + optimize_for_inference, nothing repaired
//             (wrong on padded MKLDNN layouts, see mkldnn_repair.h), forward()
//             under InferenceMode with Tessera's thread settings
//             (torch_runtime.h): what the repair costs, all else equal.
//
// Usage: engine_worker --engine tessera|libtorch --model FILE --threads T
//                      --input RAW --shape 1,3,224,224
// RAW holds the input's FP32 values (native byte order), the same file for
// every worker. Like the tessera binary, it first applies Tessera's OpenMP
// wait policy (openmp_wait_policy.h: PASSIVE unless the environment chose). Loads, runs 3 untimed inferences, prints "ready", then reads
// commands on stdin, one per line, and answers each with one line:
//   run N        N inferences back to back -> "ok <seconds> <seconds> ..."
//   dump PATH    writes the first output's FP32 values to PATH -> "ok"
//   quit (or end of input) exits 0. Errors print "error <message>" and exit 1.
#include <ATen/Parallel.h>
#include <c10/core/InferenceMode.h>
#include <torch/script.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "backend/onnx/onnx_backend.h"
#include "backend/torch/openmp_wait_policy.h"
#include "backend/torch/torch_backend.h"
#include "backend/torch/torch_runtime.h"
#include "common/logging.h"

namespace {

struct Args {
  std::string engine, model, input;
  std::vector<int64_t> shape;
  int threads = 1;
};

[[noreturn]] void Fail(const std::string& message) {
  std::printf("error %s\n", message.c_str());
  std::fflush(stdout);
  std::exit(1);
}

Args ParseArgs(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--engine") a.engine = value;
    else if (flag == "--model") a.model = value;
    else if (flag == "--threads") a.threads = std::atoi(value.c_str());
    else if (flag == "--input") a.input = value;
    else if (flag == "--shape") {
      std::stringstream dims(value);
      for (std::string d; std::getline(dims, d, ',');) a.shape.push_back(std::atoll(d.c_str()));
    } else Fail("unknown flag " + flag);
  }
  if ((a.engine != "tessera" && a.engine != "libtorch") || a.model.empty() || a.input.empty() ||
      a.shape.empty() || a.threads < 1) {
    Fail("usage: engine_worker --engine tessera|libtorch --model FILE --threads T --input RAW "
         "--shape D,D,...");
  }
  return a;
}

tessera::Tensor ReadInput(const Args& a) {
  tessera::Tensor t = tessera::Tensor::Allocate(tessera::DataType::kFp32, a.shape);
  std::ifstream in(a.input, std::ios::binary);
  in.read(reinterpret_cast<char*>(t.mutable_data()), static_cast<std::streamsize>(t.byte_size()));
  if (!in || in.peek() != EOF) Fail(a.input + " does not hold exactly the input's values");
  return t;
}

// Runs one inference; returns the first output's FP32 values (only when
// `keep` is set; otherwise an empty vector).
using Runner = std::function<std::vector<float>(bool keep)>;

Runner TesseraRunner(const Args& a, const tessera::Tensor& input) {
  std::filesystem::path file = std::filesystem::absolute(a.model);
  std::unique_ptr<tessera::Backend> backend = file.extension() == ".onnx"
                                                  ? tessera::MakeOnnxBackend()
                                                  : tessera::MakeTorchScriptBackend();
  tessera::LoadOptions load;
  load.version_dir = file.parent_path().string();
  load.file_names = {file.filename().string()};
  load.intra_op_threads = a.threads;
  auto loaded = backend->Load(load);
  if (!loaded.ok()) Fail(loaded.status().ToString());
  std::shared_ptr<tessera::LoadedModel> model = std::move(loaded).value();
  std::vector<tessera::NamedTensor> inputs = {{model->signature().inputs.at(0).name, input}};
  return [model, inputs](bool keep) {
    auto outputs = model->Run(inputs);
    if (!outputs.ok()) Fail(outputs.status().ToString());
    if (!keep) return std::vector<float>();
    const tessera::Tensor& out = (*outputs)[0].tensor;
    return std::vector<float>(out.data_as<float>(), out.data_as<float>() + out.element_count());
  };
}

Runner LibtorchRunner(const Args& a, const tessera::Tensor& input) {
  // Threads and inputs as Tessera's runtime sets them, so that the repair is
  // the only difference.
  tessera::SetInterOpThreadsOnce();
  auto module = std::make_shared<torch::jit::Module>();
  try {
    torch::jit::Module loaded = torch::jit::load(a.model);
    loaded.eval();
    torch::jit::Module frozen = torch::jit::freeze(loaded);
    *module = torch::jit::optimize_for_inference(frozen);
  } catch (const std::exception& e) {
    Fail(e.what());
  }
  auto forward = std::make_shared<torch::jit::Method>(module->get_method("forward"));
  at::Tensor x = torch::from_blob(const_cast<uint8_t*>(input.data()), a.shape, at::kFloat);
  return [module, forward, x, input, threads = a.threads](bool keep) {
    tessera::UseIntraOpThreads(threads);
    c10::InferenceMode inference_mode;
    at::Tensor out = (*forward)({x}).toTensor();
    if (out.is_mkldnn()) out = out.to_dense();
    out = out.contiguous();
    if (!keep) return std::vector<float>();
    return std::vector<float>(out.data_ptr<float>(), out.data_ptr<float>() + out.numel());
  };
}

}  // namespace

int main(int argc, char** argv) {
  tessera::UseTesseraOpenMpWaitPolicy(argv);  // as the server does
  Args args = ParseArgs(argc, argv);
  if (!tessera::ConfigureLogging("WARNING", "").ok()) Fail("cannot configure logging");  // stdout is ours
  tessera::Tensor input = ReadInput(args);
  Runner run = args.engine == "tessera" ? TesseraRunner(args, input) : LibtorchRunner(args, input);
  for (int i = 0; i < 3; ++i) run(false);  // thread pools, profiling executor
  std::printf("ready\n");
  std::fflush(stdout);
  using Clock = std::chrono::steady_clock;
  for (std::string line; std::getline(std::cin, line);) {
    std::istringstream command(line);
    std::string verb, operand;
    command >> verb >> operand;
    if (verb == "quit") break;
    if (verb == "run") {
      std::string reply = "ok";
      for (int i = 0, n = std::atoi(operand.c_str()); i < n; ++i) {
        auto t0 = Clock::now();
        run(false);
        reply += " " + std::to_string(std::chrono::duration<double>(Clock::now() - t0).count());
      }
      std::printf("%s\n", reply.c_str());
    } else if (verb == "dump") {
      std::vector<float> values = run(true);
      std::ofstream out(operand, std::ios::binary);
      out.write(reinterpret_cast<const char*>(values.data()),
                static_cast<std::streamsize>(values.size() * sizeof(float)));
      if (!out) Fail("cannot write " + operand);
      std::printf("ok\n");
    } else {
      Fail("unknown command: " + line);
    }
    std::fflush(stdout);
  }
  return 0;
}
