// FakeBackend: a Backend for unit tests of the serving layer. It accepts a
// version directory holding `model.fake`, whose text configures the model:
//   "offset=<float>"  y = x + offset (default 0)
//   "sleep_ms=<int>"  each Run sleeps first
//   "fail"            Load fails with "fake load failure"
// Lines combine. Signature: input "x" FP32 (-1,2) -> output "y" FP32 (-1,2).
#pragma once

#include <atomic>
#include <memory>

#include "backend/backend.h"
#include "repository/file_system.h"

namespace tessera {

class FakeBackend : public Backend {
 public:
  // `fs` must outlive the backend.
  explicit FakeBackend(const FileSystem& fs) : fs_(fs) {}
  std::string_view name() const override { return "fake"; }
  bool Accepts(const std::vector<std::string>& file_names) const override;
  Result<std::unique_ptr<LoadedModel>> Load(const LoadOptions& options) override;

  int loads() const { return loads_; }

 private:
  const FileSystem& fs_;
  std::atomic<int> loads_{0};
};

}  // namespace tessera
