// FakeBackend: a Backend for unit tests of the serving layer. It accepts a
// version directory holding `model.fake`, whose text configures the model:
//   "offset=<float>"  y = x + offset (default 0)
//   "sleep_ms=<int>"  each Run sleeps first
//   "fail"            Load fails with "fake load failure"
//   "fail_negative"   Run fails (kInternal) when any input value is < 0
//   "any_width"       input and output shapes are (-1,-1) instead of (-1,2)
//   "fixed_batch"     input and output shapes are (1,2)
// Lines combine. Signature: input "x" FP32 (-1,2) -> output "y" FP32 (-1,2).
// Every Run records the first dim of its input (see run_rows()).
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <vector>

#include "backend/backend.h"
#include "repository/file_system.h"

namespace tessera {

// The rows (first dim of x) of every Run of every model of one backend.
class FakeRunLog {
 public:
  void Add(int64_t rows);
  std::vector<int64_t> rows() const;
  void Clear();

 private:
  mutable std::mutex mu_;
  std::vector<int64_t> rows_;
};

class FakeBackend : public Backend {
 public:
  // `fs` must outlive the backend.
  explicit FakeBackend(const FileSystem& fs) : fs_(fs), runs_(std::make_shared<FakeRunLog>()) {}
  std::string_view name() const override { return "fake"; }
  bool Accepts(const std::vector<std::string>& file_names) const override;
  Result<std::unique_ptr<LoadedModel>> Load(const LoadOptions& options) override;

  int loads() const { return loads_; }
  // The intra-op thread count of the last load.
  int last_intra_op_threads() const { return last_threads_; }
  FakeRunLog& runs() { return *runs_; }

 private:
  const FileSystem& fs_;
  std::atomic<int> loads_{0};
  std::atomic<int> last_threads_{0};
  std::shared_ptr<FakeRunLog> runs_;
};

}  // namespace tessera
