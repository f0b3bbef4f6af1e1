// FakeRepositoryAdmin: a scriptable RepositoryAdmin for frontend tests.
// Answers from the public fields below and records every call.
//
// Thread-safety: every method may be called from any thread; set the fields
// before the calls.
#pragma once

#include <algorithm>
#include <mutex>
#include <string>
#include <vector>

#include "core/repository_admin.h"
#include "core/types.h"

namespace tessera::testing {

class FakeRepositoryAdmin : public RepositoryAdmin {
 public:
  std::vector<RepositoryIndexEntry> index;  // RepositoryIndex filters by state when ready_only
  std::vector<ModelStatistics> stats;       // filtered by name and version; no match: kNotFound
  Status load_result;
  Status unload_result;

  // "index", "index ready", "load <m>", "unload <m>", "stats <m> <v>", in order.
  std::vector<std::string> calls() const {
    std::lock_guard lock(mu_);
    return calls_;
  }

  std::vector<RepositoryIndexEntry> RepositoryIndex(bool ready_only) const override {
    Record(ready_only ? "index ready" : "index");
    std::vector<RepositoryIndexEntry> out;
    for (const auto& e : index) {
      if (!ready_only || e.state == ModelReadiness::kReady) out.push_back(e);
    }
    return out;
  }
  void LoadModel(const std::string& name, Done done) override {
    Record("load " + name);
    done(load_result);
  }
  void UnloadModel(const std::string& name, Done done) override {
    Record("unload " + name);
    done(unload_result);
  }
  Result<std::vector<ModelStatistics>> GetModelStatistics(const std::string& name,
                                                          int64_t version) const override {
    Record("stats " + name + " " + std::to_string(version));
    if (name.empty()) return stats;
    std::vector<ModelStatistics> out;
    for (const auto& s : stats) {
      if (s.name == name && (version == kDefaultVersion || s.version == version)) out.push_back(s);
    }
    if (out.empty()) return NotFound("Model with requested name is not found");
    return out;
  }

 private:
  void Record(std::string call) const {
    std::lock_guard lock(mu_);
    calls_.push_back(std::move(call));
  }

  mutable std::mutex mu_;
  mutable std::vector<std::string> calls_;
};

}  // namespace tessera::testing
