#include "repository/repository.h"

#include <algorithm>
#include <charconv>
#include <mutex>
#include <set>

#include "common/logging.h"

namespace tessera {
namespace {

// Logs `message` the first time `key` is seen in this process.
void WarnOnce(const std::string& key, const std::string& message) {
  static std::mutex mu;
  static std::set<std::string> warned;
  {
    std::lock_guard lock(mu);
    if (!warned.insert(key).second) return;
  }
  TLOG_WARN("{}", message);
}

}  // namespace

std::optional<int64_t> ParseVersionDirectoryName(std::string_view name) {
  if (name.empty() || name.front() == '0') return std::nullopt;  // "0", "01"
  if (!std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;  // from_chars alone would accept "1a" as 1
  }
  int64_t value = 0;
  auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), value);
  if (ec != std::errc() || end != name.data() + name.size()) return std::nullopt;  // overflow
  return value;
}

Result<std::vector<int64_t>> ListVersions(const FileSystem& fs, const std::string& base_path) {
  if (!fs.Exists(base_path)) return NotFound("base path " + base_path + " does not exist");
  if (!fs.IsDirectory(base_path)) {
    return FailedPrecondition("base path " + base_path + " is not a directory");
  }
  auto listed = fs.ListDirectory(base_path);
  if (!listed.ok()) {
    // NotFound here is the directory vanishing since the check above.
    if (listed.status().code() == StatusCode::kNotFound) {
      return NotFound("base path " + base_path + " does not exist");
    }
    return Status(listed.status().code(),
                  "base path " + base_path + " cannot be listed: " + listed.status().message());
  }
  const std::vector<std::string>& entries = *listed;

  std::vector<int64_t> versions;
  for (const std::string& entry : entries) {
    std::string path = JoinPath(base_path, entry);
    std::optional<int64_t> version = ParseVersionDirectoryName(entry);
    if (!version) {
      WarnOnce(path, "Skipping '" + entry + "' in model base path " + base_path +
                         ": not a version directory (a positive integer name)");
      continue;
    }
    if (!fs.IsDirectory(path)) {
      WarnOnce(path, "Skipping '" + entry + "' in model base path " + base_path +
                         ": a version must be a directory, this is a file");
      continue;
    }
    versions.push_back(*version);
  }
  std::sort(versions.begin(), versions.end());
  return versions;
}

}  // namespace tessera
