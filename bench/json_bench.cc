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
// Usage: json_bench [--short]   (--short: a few seconds in total, for CI)
#include <rapidjson/document.h>
#include <rapidjson/reader.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <malloc.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

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

double MBps(size_t bytes, double seconds) { return static_cast<double>(bytes) / seconds / 1e6; }

void PrintHeader() {
  std::printf("%-34s %9s %10s %10s %10s %10s %10s %10s\n", "case", "body KB", "ours MB/s",
              "DOM MB/s", "SAX MB/s", "ours/DOM", "ours/SAX", "Writer MB/s");
}

void PrintRow(const char* name, size_t bytes, double ours, double dom, double sax,
              double writer = 0) {
  std::printf("%-34s %9.1f %10.0f %10.0f %10.0f %10.2f %10.2f", name, bytes / 1e3,
              MBps(bytes, ours), MBps(bytes, dom), MBps(bytes, sax), dom / ours, sax / ours);
  if (writer > 0) std::printf(" %10.0f", MBps(bytes, writer));
  std::printf("\n");
}

void BenchDecode(const Options& options, const char* name, const std::string& body,
                 const std::vector<TensorInfo>& inputs, const std::vector<float>& expected) {
  auto check = DecodePredictRequest(body, inputs);
  if (!check.ok() || check->inputs.size() != 1 ||
      check->inputs[0].tensor.byte_size() != expected.size() * sizeof(float) ||
      std::memcmp(check->inputs[0].tensor.data(), expected.data(),
                  expected.size() * sizeof(float)) != 0) {
    std::fprintf(stderr, "%s: decoded tensor does not match the values written\n", name);
    std::exit(1);
  }
  auto t = BestSeconds(options, {
                                      [&] {
                                        auto d = DecodePredictRequest(body, inputs);
                                        return d->inputs[0].tensor.byte_size();
                                      },
                                      [&] { return ParseDom(body); },
                                      [&] { return ParseSaxNull(body); },
                                  });
  PrintRow(name, body.size(), t[0], t[1], t[2]);
}

// RapidJSON's Writer producing the same structure, for reference.
std::string WriterEncode(const std::vector<float>& values, PredictFormat format) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  w.StartObject();
  w.Key(format == PredictFormat::kRow ? "predictions" : "outputs");
  w.StartArray();
  w.StartArray();
  for (float v : values) w.Double(v);
  w.EndArray();
  w.EndArray();
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

void BenchEncode(const Options& options, const char* name, const std::vector<NamedTensor>& outputs,
                 const std::vector<float>& values, PredictFormat format) {
  auto body = EncodePredictResponse(outputs, format);
  if (!body.ok()) {
    std::fprintf(stderr, "%s: %s\n", name, body.status().message().c_str());
    std::exit(1);
  }
  auto t = BestSeconds(options, {
                                      [&] { return EncodePredictResponse(outputs, format)->size(); },
                                      [&] { return ParseDom(*body); },
                                      [&] { return ParseSaxNull(*body); },
                                      [&] { return WriterEncode(values, format).size(); },
                                  });
  PrintRow(name, body->size(), t[0], t[1], t[2], t[3]);
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
    } else {
      std::fprintf(stderr, "usage: %s [--short]\n", argv[0]);
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

  std::printf("json_bench%s: best of interleaved rounds; ours/DOM, ours/SAX = ours MB/s over theirs\n",
              options.min_iterations == 3 ? " --short" : "");
  PrintHeader();
  BenchDecode(options, "decode row 1x224x224x3 FP32", row, inputs, image);
  BenchDecode(options, "decode column 1x224x224x3 FP32", column, inputs, image);
  BenchEncode(options, "encode row 1x1000 FP32", outputs, logits, PredictFormat::kRow);
  BenchEncode(options, "encode column 1x1000 FP32", outputs, logits, PredictFormat::kColumn);
  return 0;
}
