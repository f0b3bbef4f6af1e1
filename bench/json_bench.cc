// json_bench: throughput of the TF Serving REST JSON codec against plain
// RapidJSON on the same bytes, measured in the same run.
//
//   decode: a 1x224x224x3 FP32 predict body (row "instances" and named
//           column "inputs"), numbers written as Python's json.dumps writes
//           numpy float32 values (shortest double repr, ~2.9 MB);
//   encode: a 1x1000 FP32 output (row "predictions" and column "outputs").
//
// Each case prints MB/s of the body for our codec, for RapidJSON's DOM parse
// and for RapidJSON's SAX reader into a handler that does nothing, and our
// throughput as a ratio of both. Encode rows also show RapidJSON's Writer
// producing a comparable body (Double() per value). Times are the best of
// rounds that run every contender in turn.
//
// Usage: json_bench [--short | --profile]
//   --short:   a few seconds in total, for CI
//   --profile: only our three decoders, each called in a loop for ~3 s of
//              CPU time and nothing else measured, for `perf record`; prints
//              the best thread CPU time per call as MB/s
#include <rapidjson/document.h>
#include <rapidjson/reader.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <malloc.h>
#include <time.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

#ifdef TESSERA_HAVE_SIMDJSON
#include <simdjson.h>
#endif

#include "frontend/kserve_rest/codec.h"
#include "frontend/tfs_rest/predict_decoder.h"
#include "frontend/tfs_rest/predict_encoder.h"
#include "interleaved.h"

namespace {

using tessera::DataType;
using tessera::NamedTensor;
using tessera::Tensor;
using tessera::TensorInfo;
using tessera::tfs_rest::DecodePredictRequest;
using tessera::tfs_rest::EncodePredictResponse;
using tessera::tfs_rest::PredictFormat;

struct Options {
  bool profile = false;
  double seconds_per_case = 1.5;
  int min_iterations = 10;
};

// Best (lowest) seconds per call of each of `fns`, run in turns for about
// `options.seconds_per_case`: the best round is the one least disturbed by
// other processes (this is meant for a shared 2-core machine).
std::vector<double> BestSeconds(const Options& options,
                                const std::vector<std::function<size_t()>>& fns) {
  std::vector<double> best;
  for (auto& s : tessera::bench::InterleavedSeconds(fns, options.min_iterations,
                                                    options.seconds_per_case)) {
    best.push_back(tessera::bench::Best(std::move(s)));
  }
  return best;
}

// Python's json.dumps(np.float32 array .tolist()): the shortest repr of the
// float32 value widened to double, e.g. 0.1f -> 0.10000000149011612.
std::string PythonRepr(float v) {
  char buf[32];
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof buf, "%.*g", precision, static_cast<double>(v));
    if (std::strtod(buf, nullptr) == static_cast<double>(v)) break;
  }
  std::string s = buf;
  if (s.find_first_of(".en") == std::string::npos) s += ".0";
  return s;
}

std::string NestedImage(const std::vector<float>& values) {
  std::string out = "[[";
  size_t i = 0;
  for (int h = 0; h < 224; ++h) {
    out += h ? ",[" : "[";
    for (int w = 0; w < 224; ++w) {
      out += w ? ",[" : "[";
      for (int c = 0; c < 3; ++c) {
        if (c) out += ',';
        out += PythonRepr(values[i++]);
      }
      out += ']';
    }
    out += ']';
  }
  out += "]]";
  return out;
}

struct NullHandler : rapidjson::BaseReaderHandler<rapidjson::UTF8<>, NullHandler> {};

size_t ParseDom(const std::string& body) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseNanAndInfFlag>(body.c_str());
  if (doc.HasParseError()) std::abort();
  return doc.MemberCount();
}

size_t ParseSaxNull(const std::string& body) {
  rapidjson::Reader reader;
  rapidjson::StringStream stream(body.c_str());
  NullHandler handler;
  if (reader.Parse<rapidjson::kParseNanAndInfFlag>(stream, handler).IsError()) std::abort();
  return stream.Tell();
}

#ifdef TESSERA_HAVE_SIMDJSON
// A reference reader, not a decoder: simdjson's On Demand API walking the
// whole body (copied into its padded buffer, as a server would have to) and
// converting every number into a float vector. kExact: from the number's
// text with std::from_chars<float> (one rounding); else get_double() then a
// cast (two roundings: not exact for FP32, the fastest simdjson gets).
template <bool kExact>
void SimdWalk(simdjson::ondemand::value value, std::vector<float>& out, int depth) {
  if (depth > 64) std::abort();
  switch (value.type().value()) {
    case simdjson::ondemand::json_type::array:
      for (auto element : value.get_array()) SimdWalk<kExact>(element.value(), out, depth + 1);
      break;
    case simdjson::ondemand::json_type::object:
      for (auto field : value.get_object()) SimdWalk<kExact>(field.value().value(), out, depth + 1);
      break;
    case simdjson::ondemand::json_type::number:
      if constexpr (kExact) {
        std::string_view text = value.raw_json_token();
        while (!text.empty() && (text.back() == ' ' || text.back() == '\n')) text.remove_suffix(1);
        float f;
        std::from_chars(text.data(), text.data() + text.size(), f);
        out.push_back(f);
      } else {
        out.push_back(static_cast<float>(value.get_double().value()));
      }
      break;
    case simdjson::ondemand::json_type::string:
      (void)value.get_string().value();
      break;
    default: std::abort();
  }
}

template <bool kExact>
size_t SimdjsonFloats(const std::string& body) {
  static simdjson::ondemand::parser parser;
  static std::vector<float> out;
  simdjson::padded_string padded(body);
  auto doc = parser.iterate(padded);
  out.clear();
  SimdWalk<kExact>(doc.get_value().value(), out, 1);
  return out.size();
}
#endif

double MBps(size_t bytes, double seconds) { return static_cast<double>(bytes) / seconds / 1e6; }

// "model name" and the SIMD flags of /proc/cpuinfo, and /proc/loadavg.
void PrintMachine(const char* when) {
  std::string model = "?", flags;
  if (FILE* f = std::fopen("/proc/cpuinfo", "r")) {
    char line[8192];
    while (std::fgets(line, sizeof line, f)) {
      std::string l = line;
      if (model == "?" && l.rfind("model name", 0) == 0) model = l.substr(l.find(':') + 2);
      if (flags.empty() && l.rfind("flags", 0) == 0) {
        for (const char* flag : {" sse4_2", " avx", " avx2", " fma", " bmi2", " avx512f", " avx512bw"}) {
          if (l.find(std::string(flag) + " ") != std::string::npos) flags += flag;
        }
      }
    }
    std::fclose(f);
  }
  if (!model.empty() && model.back() == '\n') model.pop_back();
  char load[128] = "?";
  if (FILE* f = std::fopen("/proc/loadavg", "r")) {
    if (!std::fgets(load, sizeof load, f)) std::strcpy(load, "?");
    std::fclose(f);
  }
  if (std::strchr(load, '\n')) *std::strchr(load, '\n') = '\0';
  std::printf("%s: cpu %s, flags%s; load average %s%s\n", when, model.c_str(), flags.c_str(), load,
              std::atof(load) > 1.0 ? " (busy machine: figures are lower bounds)" : "");
}

void PrintHeader() {
  std::printf("%-34s %9s %10s %10s %10s %10s %10s %10s %10s %10s\n", "case", "body KB", "ours MB/s",
              "DOM MB/s", "SAX MB/s", "ours/DOM", "ours/SAX", "simd MB/s", "simdX MB/s",
              "M floats/s");
}

// `simd`, `simd_exact`, `floats` print "-" when 0; `floats`: values per call.
void PrintRow(const char* name, size_t bytes, double ours, double dom, double sax,
              double simd = 0, double simd_exact = 0, size_t floats = 0) {
  std::printf("%-34s %9.1f %10.0f %10.0f %10.0f %10.2f %10.2f", name, bytes / 1e3,
              MBps(bytes, ours), MBps(bytes, dom), MBps(bytes, sax), dom / ours, sax / ours);
  for (double t : {simd, simd_exact}) {
    if (t > 0) {
      std::printf(" %10.0f", MBps(bytes, t));
    } else {
      std::printf(" %10s", "-");
    }
  }
  if (floats > 0) {
    std::printf(" %10.1f", static_cast<double>(floats) / ours / 1e6);
  } else {
    std::printf(" %10s", "-");
  }
  std::printf("\n");
}

// `decode(body)`: the decoded FP32 tensor's bytes.
void BenchDecode(const Options& options, const char* name, const std::string& body,
                 const std::function<std::string_view(const std::string&)>& decode,
                 const std::vector<float>& expected) {
  std::string_view check = decode(body);
  if (check.size() != expected.size() * sizeof(float) ||
      std::memcmp(check.data(), expected.data(), check.size()) != 0) {
    std::fprintf(stderr, "%s: decoded tensor does not match the values written\n", name);
    std::exit(1);
  }
  if (options.profile) {
    // Best CPU time of this thread per call: time spent descheduled on a
    // busy machine does not count.
    auto cpu_seconds = [] {
      timespec ts;
      clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
      return static_cast<double>(ts.tv_sec) + ts.tv_nsec / 1e9;
    };
    double best = 1e9, start = cpu_seconds();
    while (cpu_seconds() - start < 3.0) {
      double t0 = cpu_seconds();
      tessera::bench::g_sink = tessera::bench::g_sink + decode(body).size();
      best = std::min(best, cpu_seconds() - t0);
    }
    std::printf("%-34s %9.1f %10.0f (CPU time)\n", name, body.size() / 1e3, MBps(body.size(), best));
    return;
  }
  std::vector<std::function<size_t()>> fns = {
      [&] { return decode(body).size(); },
      [&] { return ParseDom(body); },
      [&] { return ParseSaxNull(body); },
  };
#ifdef TESSERA_HAVE_SIMDJSON
  if (SimdjsonFloats<true>(body) < expected.size()) std::exit(1);  // KServe: + the shape
  fns.push_back([&] { return SimdjsonFloats<false>(body); });
  fns.push_back([&] { return SimdjsonFloats<true>(body); });
#endif
  auto t = BestSeconds(options, fns);
  t.resize(5, 0.0);
  PrintRow(name, body.size(), t[0], t[1], t[2], t[3], t[4]);
}

// `encode()`: a body holding `floats` values.
void BenchEncode(const Options& options, const char* name,
                 const std::function<std::string()>& encode, size_t floats) {
  std::string body = encode();
  auto t = BestSeconds(options, {
                                    [&] { return encode().size(); },
                                    [&] { return ParseDom(body); },
                                    [&] { return ParseSaxNull(body); },
                                });
  PrintRow(name, body.size(), t[0], t[1], t[2], 0, 0, floats);
}

}  // namespace

int main(int argc, char** argv) {
  // Keep freed memory in the process: otherwise glibc hands large blocks back
  // to the kernel after each call and the next call pays page faults, which
  // hits whichever contender allocates after another one freed.
  mallopt(M_MMAP_THRESHOLD, 256 << 20);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  Options options;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--short") == 0) {
      options.seconds_per_case = 0.2;
      options.min_iterations = 3;
    } else if (std::strcmp(argv[i], "--profile") == 0) {
      options.profile = true;
    } else {
      std::fprintf(stderr, "usage: %s [--short | --profile]\n", argv[0]);
      return 2;
    }
  }

  std::mt19937 rng(42);
  std::uniform_real_distribution<float> dist(-2.5f, 2.5f);
  std::vector<float> image(224 * 224 * 3);
  for (float& v : image) v = dist(rng);
  std::string nested = NestedImage(image);
  std::string row = R"({"instances": )" + nested + "}";
  std::string column = R"({"inputs": {"image": )" + nested + "}}";
  std::vector<TensorInfo> inputs = {{"image", DataType::kFp32, {-1, 224, 224, 3}}};

  std::vector<float> logits(1000);
  for (float& v : logits) v = dist(rng) * 4;
  std::string bytes(logits.size() * sizeof(float), '\0');
  std::memcpy(bytes.data(), logits.data(), bytes.size());
  std::vector<NamedTensor> outputs = {
      {"logits", Tensor::FromBytes(DataType::kFp32, {1, 1000}, std::move(bytes))}};

  std::string kserve = R"({"inputs": [{"name": "image", "shape": [1, 224, 224, 3], )"
                       R"("datatype": "FP32", "data": )" + nested + "}]}";

  std::printf("json_bench%s: best of interleaved rounds; ours/DOM, ours/SAX = ours MB/s over theirs\n",
              options.min_iterations == 3 ? " --short" : "");
  PrintMachine("before");
  PrintHeader();
  auto tfs = [&inputs](const std::string& body) -> std::string_view {
    static tessera::tfs_rest::DecodedPredict kept;
    auto d = DecodePredictRequest(body, inputs);
    if (!d.ok()) std::abort();
    kept = std::move(*d);
    const Tensor& t = kept.inputs[0].tensor;
    return {reinterpret_cast<const char*>(t.data()), t.byte_size()};
  };
  auto kserve_decode = [](const std::string& body) -> std::string_view {
    static tessera::kserve_rest::DecodedInfer kept;
    auto d = tessera::kserve_rest::DecodeInferRequest(body, nullptr);
    if (!d.ok()) std::abort();
    kept = std::move(*d);
    const Tensor& t = kept.request.inputs[0].tensor;
    return {reinterpret_cast<const char*>(t.data()), t.byte_size()};
  };
  BenchDecode(options, "decode TFS row 1x224x224x3 FP32", row, tfs, image);
  BenchDecode(options, "decode TFS column 1x224x224x3 FP32", column, tfs, image);
  BenchDecode(options, "decode KServe 1x224x224x3 FP32", kserve, kserve_decode, image);
  if (options.profile) return 0;
  auto tfs_encode = [&](PredictFormat format) {
    return [&outputs, format] { return *EncodePredictResponse(outputs, format); };
  };
  tessera::InferResponse response;
  response.model_name = "m";
  response.outputs = outputs;
  BenchEncode(options, "encode TFS row 1x1000 FP32", tfs_encode(PredictFormat::kRow), logits.size());
  BenchEncode(options, "encode TFS column 1x1000 FP32", tfs_encode(PredictFormat::kColumn),
              logits.size());
  BenchEncode(options, "encode KServe 1x1000 FP32", [&] {
    return tessera::kserve_rest::EncodeInferResponse(response, {})->body;
  }, logits.size());
  PrintMachine("after");
  return 0;
}
