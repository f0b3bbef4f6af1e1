#include "repository/version_policy.h"

#include <algorithm>
#include <string>

namespace tessera {

std::vector<int64_t> SelectVersions(const VersionPolicy& policy, std::vector<int64_t> on_disk) {
  std::sort(on_disk.begin(), on_disk.end());
  on_disk.erase(std::unique(on_disk.begin(), on_disk.end()), on_disk.end());

  switch (policy.kind) {
    case VersionPolicy::Kind::kAll:
      return on_disk;
    case VersionPolicy::Kind::kLatest: {
      if (policy.num_versions < 1) return {};
      size_t keep = std::min(on_disk.size(), static_cast<size_t>(policy.num_versions));
      return std::vector<int64_t>(on_disk.end() - static_cast<std::ptrdiff_t>(keep), on_disk.end());
    }
    case VersionPolicy::Kind::kSpecific: {
      std::vector<int64_t> selected;
      for (int64_t v : on_disk) {
        if (std::find(policy.versions.begin(), policy.versions.end(), v) != policy.versions.end()) {
          selected.push_back(v);
        }
      }
      return selected;
    }
  }
  return {};
}

std::string VersionPolicyToJson(const VersionPolicy& policy) {
  switch (policy.kind) {
    case VersionPolicy::Kind::kAll:
      return R"({"all":{}})";
    case VersionPolicy::Kind::kLatest:
      return R"({"latest":{"num_versions":)" + std::to_string(policy.num_versions) + "}}";
    case VersionPolicy::Kind::kSpecific: {
      std::string out = R"({"specific":{"versions":[)";
      for (size_t i = 0; i < policy.versions.size(); ++i) {
        if (i > 0) out += ',';
        out += std::to_string(policy.versions[i]);
      }
      return out + "]}}";
    }
  }
  return "{}";
}

}  // namespace tessera
