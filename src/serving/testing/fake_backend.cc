#include "serving/testing/fake_backend.h"

#include <chrono>
#include <sstream>
#include <thread>

namespace tessera {
namespace {

struct FakeModelSpec {
  float offset = 0;
  int sleep_ms = 0;
  bool fail_negative = false;
  Shape shape = {-1, 2};
};

class FakeModel : public LoadedModel {
 public:
  FakeModel(FakeModelSpec spec, std::shared_ptr<FakeRunLog> runs)
      : spec_(std::move(spec)), runs_(std::move(runs)) {
    signature_.inputs = {{"x", DataType::kFp32, spec_.shape}};
    signature_.outputs = {{"y", DataType::kFp32, spec_.shape}};
  }
  const ModelSignature& signature() const override { return signature_; }
  std::string platform() const override { return "fake"; }
  Result<std::vector<NamedTensor>> Run(const std::vector<NamedTensor>& inputs) override {
    const Tensor& x = inputs.at(0).tensor;
    runs_->Add(x.shape().empty() ? 0 : x.shape()[0]);
    if (spec_.sleep_ms) std::this_thread::sleep_for(std::chrono::milliseconds(spec_.sleep_ms));
    Tensor y = Tensor::Allocate(DataType::kFp32, x.shape());
    auto* out = reinterpret_cast<float*>(y.mutable_data());
    for (int64_t i = 0; i < x.element_count(); ++i) {
      float v = x.data_as<float>()[i];
      if (spec_.fail_negative && v < 0) return Internal("fake engine failure: negative input");
      out[i] = v + spec_.offset;
    }
    return std::vector<NamedTensor>{{"y", y}};
  }

 private:
  ModelSignature signature_;
  FakeModelSpec spec_;
  std::shared_ptr<FakeRunLog> runs_;
};

}  // namespace

void FakeRunLog::Add(int64_t rows) {
  std::lock_guard lock(mu_);
  rows_.push_back(rows);
}

std::vector<int64_t> FakeRunLog::rows() const {
  std::lock_guard lock(mu_);
  return rows_;
}

void FakeRunLog::Clear() {
  std::lock_guard lock(mu_);
  rows_.clear();
}

bool FakeBackend::Accepts(const std::vector<std::string>& file_names) const {
  for (const auto& f : file_names) {
    if (f == "model.fake") return true;
  }
  return false;
}

Result<std::unique_ptr<LoadedModel>> FakeBackend::Load(const LoadOptions& options) {
  ++loads_;
  last_threads_ = options.intra_op_threads;
  TESSERA_ASSIGN_OR_RETURN(std::string text, fs_.ReadFile(JoinPath(options.version_dir, "model.fake")));
  std::istringstream lines(text);
  std::string line;
  FakeModelSpec spec;
  while (std::getline(lines, line)) {
    if (line == "fail") return Internal("fake load failure");
    if (line == "fail_negative") spec.fail_negative = true;
    if (line == "any_width") spec.shape = {-1, -1};
    if (line == "fixed_batch") spec.shape = {1, 2};
    if (line.rfind("offset=", 0) == 0) spec.offset = std::stof(line.substr(7));
    if (line.rfind("sleep_ms=", 0) == 0) spec.sleep_ms = std::stoi(line.substr(9));
  }
  return std::unique_ptr<LoadedModel>(std::make_unique<FakeModel>(spec, runs_));
}

}  // namespace tessera
