// onnx_conformance: runs the ONNX backend test data (Debian libonnx-testdata)
// through the importer and reports per-suite pass counts.
//
// For every test directory SUITE/NAME under --data (suites node,
// pytorch-converted, pytorch-operator, simple by default): read model.onnx,
// import it exactly as the server does (frozen and optimised), run every
// test_data_set_* (input_N.pb -> output_N.pb TensorProtos) and compare:
// same dtype and shape, equal integers/booleans, floats within
// |actual - expected| <= atol + rtol * |expected| (rtol 1e-3, atol 1e-7, the
// ONNX backend test defaults; NaN matches NaN). Tests listed in the
// --rules file are excluded or get other tolerances, each with a reason.
//
// Prints each suite's pass count and the failing tests grouped by reason.
// With --baseline FILE ("<suite> <passed>" lines) exits 1 when a suite
// passes fewer tests than its baseline; --write-baseline FILE writes the
// counts of this run. --list-ops prints the supported operators.
#include <fnmatch.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <c10/core/InferenceMode.h>

#include "backend/onnx/onnx_emitter.h"
#include "backend/onnx/onnx_importer.h"
#include "backend/onnx/onnx_model.h"
#include "backend/torch/torch_runtime.h"

namespace tessera::onnx_import {
namespace {

namespace fs = std::filesystem;

struct Rule {
  std::string pattern;  // SUITE/GLOB
  std::string reason;
  bool exclude = false;
  double rtol = 1e-3, atol = 1e-7;
};

struct Options {
  std::string data = "/usr/share/libonnx-testdata/data";
  std::vector<std::string> suites = {"node", "pytorch-converted", "pytorch-operator", "simple"};
  std::string rules, baseline, write_baseline, filter;
  bool verbose = false;
};

struct SuiteResult {
  int total = 0, excluded = 0, passed = 0;
  std::map<std::string, std::vector<std::string>> failures;  // reason -> tests
};

std::string Trim(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  size_t i = 0;
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  return s.substr(i);
}

// "exclude SUITE/GLOB reason..." or "tolerance SUITE/GLOB RTOL ATOL reason...".
Result<std::vector<Rule>> ReadRules(const std::string& path) {
  std::vector<Rule> rules;
  if (path.empty()) return rules;
  std::ifstream in(path);
  if (!in) return InvalidArgument("Cannot open " + path);
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    line = Trim(line);
    if (line.empty() || line[0] == '#') continue;
    std::istringstream words(line);
    std::string kind;
    Rule rule;
    words >> kind >> rule.pattern;
    if (kind == "tolerance") {
      words >> rule.rtol >> rule.atol;
    } else if (kind == "exclude") {
      rule.exclude = true;
    } else {
      return InvalidArgument(path + ":" + std::to_string(number) + ": unknown rule '" + kind + "'");
    }
    std::getline(words, rule.reason);
    rule.reason = Trim(rule.reason);
    if (!words.eof() && words.fail()) {
      return InvalidArgument(path + ":" + std::to_string(number) + ": malformed rule");
    }
    rules.push_back(rule);
  }
  return rules;
}

const Rule* FindRule(const std::vector<Rule>& rules, const std::string& id) {
  for (const auto& r : rules) {
    if (fnmatch(r.pattern.c_str(), id.c_str(), 0) == 0) return &r;
  }
  return nullptr;
}

Result<at::Tensor> ReadTensor(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  onnx::TensorProto proto;
  if (!in || !proto.ParseFromString(bytes.str())) {
    return InvalidArgument("cannot parse " + path.filename().string());
  }
  return TensorFromProto(proto);
}

// Files PREFIX_0.pb, PREFIX_1.pb, ... in index order.
std::vector<fs::path> Numbered(const fs::path& dir, const std::string& prefix) {
  std::vector<fs::path> files;
  for (int i = 0;; ++i) {
    fs::path p = dir / (prefix + "_" + std::to_string(i) + ".pb");
    if (!fs::exists(p)) break;
    files.push_back(p);
  }
  return files;
}

bool verbose_mismatch = false;

// Empty when equal, else why not.
std::string Compare(const at::Tensor& actual, const at::Tensor& expected, const Rule& tol) {
  if (actual.scalar_type() != expected.scalar_type()) {
    return std::string("dtype ") + c10::toString(actual.scalar_type()) + " instead of " +
           c10::toString(expected.scalar_type());
  }
  if (actual.sizes() != expected.sizes()) return "shape mismatch";
  if (!expected.is_floating_point()) {
    return at::equal(actual, expected) ? "" : "value mismatch";
  }
  at::Tensor a = actual.to(at::kDouble), e = expected.to(at::kDouble);
  at::Tensor both_nan = a.isnan() & e.isnan();
  at::Tensor same_inf = (a == e);
  at::Tensor close = (a - e).abs() <= tol.atol + tol.rtol * e.abs();
  at::Tensor ok = both_nan | same_inf | close;
  if (ok.all().item<bool>()) return "";
  if (verbose_mismatch) {
    std::cerr << "max |actual - expected| = " << (a - e).abs().nan_to_num(0).max().item<double>()
              << ", max |expected| = " << e.abs().nan_to_num(0).max().item<double>() << "\n";
  }
  return "value mismatch";
}

// A short failure reason shared by similar failures (no node names).
std::string ReasonKey(const std::string& stage, const std::string& message) {
  auto op = message.find("ONNX operator '");
  if (op != std::string::npos) {
    size_t start = op + 15, end = message.find('\'', start);
    std::string name = message.substr(start, end - start);
    auto colon = message.find(": ", end);
    std::string what = colon == std::string::npos ? "" : message.substr(colon + 2);
    if (message.find("Unsupported ONNX operator") != std::string::npos) {
      return "unsupported operator " + name;
    }
    return stage + ": " + name + ": " + what;
  }
  std::string first = message.substr(0, message.find('\n'));
  auto model = first.find("model.onnx: ");
  if (model != std::string::npos) first = first.substr(model + 12);
  return stage + ": " + first.substr(0, 160);
}

// Empty on success, else the failure reason.
std::string RunTest(const fs::path& dir, const Rule& tol, bool verbose) {
  Result<onnx::ModelProto> model = ReadOnnxModel((dir / "model.onnx").string());
  if (!model.ok()) return ReasonKey("read", model.status().message());
  Result<ImportedModule> imported = Internal("not imported");
  Status status = CallTorch(StatusCode::kInternal, "import", [&] {
    imported = ImportOnnx(*model, {(dir / "model.onnx").string(), true});
  });
  if (!status.ok()) return ReasonKey("import", status.message());
  if (!imported.ok()) return ReasonKey("import", imported.status().message());
  if (verbose) std::cerr << imported->source << "\n";
  std::vector<fs::path> sets;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.is_directory() && entry.path().filename().string().rfind("test_data_set_", 0) == 0) {
      sets.push_back(entry.path());
    }
  }
  std::sort(sets.begin(), sets.end());
  if (sets.empty()) return "no test data";
  for (const auto& set : sets) {
    std::vector<c10::IValue> inputs;
    for (const auto& p : Numbered(set, "input")) {
      Result<at::Tensor> t = ReadTensor(p);
      if (!t.ok()) return ReasonKey("input", t.status().message());
      inputs.push_back(*t);
    }
    std::vector<at::Tensor> outputs;
    status = CallTorch(StatusCode::kInternal, "run", [&] {
      c10::InferenceMode guard;
      c10::IValue result = imported->module.forward(inputs);
      for (const auto& v : result.toTupleRef().elements()) outputs.push_back(v.toTensor());
    });
    if (!status.ok()) return ReasonKey("run", status.message());
    auto expected = Numbered(set, "output");
    if (expected.size() != outputs.size()) return "output count";
    for (size_t i = 0; i < expected.size(); ++i) {
      Result<at::Tensor> e = ReadTensor(expected[i]);
      if (!e.ok()) return ReasonKey("output", e.status().message());
      at::Tensor a = outputs[i].is_mkldnn() ? outputs[i].to_dense() : outputs[i];
      std::string diff = Compare(a, *e, tol);
      if (!diff.empty()) return diff;
    }
  }
  return "";
}

SuiteResult RunSuite(const Options& options, const std::string& suite,
                     const std::vector<Rule>& rules) {
  SuiteResult result;
  fs::path root = fs::path(options.data) / suite;
  std::vector<fs::path> dirs;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(root, ec)) {
    if (entry.is_directory() && fs::exists(entry.path() / "model.onnx")) dirs.push_back(entry.path());
  }
  std::sort(dirs.begin(), dirs.end());
  for (const auto& dir : dirs) {
    std::string id = suite + "/" + dir.filename().string();
    if (!options.filter.empty() && id.find(options.filter) == std::string::npos) continue;
    ++result.total;
    const Rule* rule = FindRule(rules, id);
    if (rule && rule->exclude) {
      ++result.excluded;
      continue;
    }
    Rule tol = rule ? *rule : Rule{};
    std::string reason = RunTest(dir, tol, options.verbose);
    if (reason.empty()) {
      ++result.passed;
    } else {
      result.failures[reason].push_back(dir.filename().string());
    }
  }
  return result;
}

std::map<std::string, int> ReadBaseline(const std::string& path) {
  std::map<std::string, int> counts;
  std::ifstream in(path);
  std::string suite;
  int passed;
  while (in >> suite) {
    if (suite[0] == '#') {
      std::getline(in, suite);
      continue;
    }
    if (in >> passed) counts[suite] = passed;
  }
  return counts;
}

int Main(int argc, char** argv) {
  Options options;
  std::vector<std::string> suites;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (arg == "--data") options.data = value();
    else if (arg == "--suite") suites.push_back(value());
    else if (arg == "--rules") options.rules = value();
    else if (arg == "--baseline") options.baseline = value();
    else if (arg == "--write-baseline") options.write_baseline = value();
    else if (arg == "--filter") options.filter = value();
    else if (arg == "--verbose") options.verbose = verbose_mismatch = true;
    else if (arg == "--list-ops") {
      for (const auto& [name, fn] : Ops().ops) std::cout << name << "\n";
      return 0;
    }
    else {
      std::cerr << "usage: onnx_conformance [--data DIR] [--suite NAME]... [--rules FILE]\n"
                   "         [--baseline FILE] [--write-baseline FILE] [--filter TEXT] [--verbose]\n"
                   "       onnx_conformance --list-ops\n";
      return 2;
    }
  }
  if (!suites.empty()) options.suites = suites;
  auto rules = ReadRules(options.rules);
  if (!rules.ok()) {
    std::cerr << rules.status().message() << "\n";
    return 2;
  }
  UseIntraOpThreads(1);
  auto start = std::chrono::steady_clock::now();
  std::map<std::string, SuiteResult> results;
  for (const auto& suite : options.suites) results[suite] = RunSuite(options, suite, *rules);
  for (const auto& [suite, r] : results) {
    if (r.failures.empty()) continue;
    std::cout << "\n== " << suite << ": failing tests by reason\n";
    for (const auto& [reason, tests] : r.failures) {
      std::cout << "  " << reason << " (" << tests.size() << "):";
      for (const auto& t : tests) std::cout << " " << t;
      std::cout << "\n";
    }
  }
  std::cout << "\nsuite                  passed / run (excluded, total)\n";
  for (const auto& [suite, r] : results) {
    int run = r.total - r.excluded;
    std::printf("%-22s %4d / %4d  %5.1f%%  (%d excluded, %d total)\n", suite.c_str(), r.passed,
                run, run ? 100.0 * r.passed / run : 0.0, r.excluded, r.total);
  }
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("time: %.1f s\n", seconds);
  if (!options.write_baseline.empty()) {
    std::ofstream out(options.write_baseline);
    out << "# ONNX conformance baseline: tests passed per suite (onnx_conformance).\n";
    for (const auto& [suite, r] : results) out << suite << " " << r.passed << "\n";
  }
  int rc = 0;
  if (!options.baseline.empty()) {
    for (const auto& [suite, floor] : ReadBaseline(options.baseline)) {
      auto it = results.find(suite);
      if (it == results.end()) continue;
      if (it->second.passed < floor) {
        std::cout << "REGRESSION: " << suite << " passes " << it->second.passed
                  << " tests, baseline " << floor << "\n";
        rc = 1;
      }
    }
  }
  return rc;
}

}  // namespace
}  // namespace tessera::onnx_import

int main(int argc, char** argv) { return tessera::onnx_import::Main(argc, argv); }
