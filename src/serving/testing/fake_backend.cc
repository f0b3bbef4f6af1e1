#include "serving/testing/fake_backend.h"

#include <chrono>
#include <sstream>
#include <thread>

namespace tessera {
namespace {

class FakeModel : public LoadedModel {
 public:
  FakeModel(float offset, int sleep_ms) : offset_(offset), sleep_ms_(sleep_ms) {
    signature_.inputs = {{"x", DataType::kFp32, {-1, 2}}};
    signature_.outputs = {{"y", DataType::kFp32, {-1, 2}}};
  }
  const ModelSignature& signature() const override { return signature_; }
  std::string platform() const override { return "fake"; }
  Result<std::vector<NamedTensor>> Run(const std::vector<NamedTensor>& inputs) override {
    if (sleep_ms_) std::this_thread::sleep_for(std::chrono::milliseconds(sleep_ms_));
    const Tensor& x = inputs.at(0).tensor;
    Tensor y = Tensor::Allocate(DataType::kFp32, x.shape());
    auto* out = reinterpret_cast<float*>(y.mutable_data());
    for (int64_t i = 0; i < x.element_count(); ++i) out[i] = x.data_as<float>()[i] + offset_;
    return std::vector<NamedTensor>{{"y", y}};
  }

 private:
  ModelSignature signature_;
  float offset_;
  int sleep_ms_;
};

}  // namespace

bool FakeBackend::Accepts(const std::vector<std::string>& file_names) const {
  for (const auto& f : file_names) {
    if (f == "model.fake") return true;
  }
  return false;
}

Result<std::unique_ptr<LoadedModel>> FakeBackend::Load(const LoadOptions& options) {
  ++loads_;
  TESSERA_ASSIGN_OR_RETURN(std::string text, fs_.ReadFile(JoinPath(options.version_dir, "model.fake")));
  std::istringstream lines(text);
  std::string line;
  float offset = 0;
  int sleep_ms = 0;
  while (std::getline(lines, line)) {
    if (line == "fail") return Internal("fake load failure");
    if (line.rfind("offset=", 0) == 0) offset = std::stof(line.substr(7));
    if (line.rfind("sleep_ms=", 0) == 0) sleep_ms = std::stoi(line.substr(9));
  }
  return std::unique_ptr<LoadedModel>(std::make_unique<FakeModel>(offset, sleep_ms));
}

}  // namespace tessera
