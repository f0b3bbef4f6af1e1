#include "repository/testing/in_memory_file_system.h"

#include <algorithm>
#include <filesystem>
#include <utility>

namespace tessera {
namespace {

std::string ParentOf(const std::string& normalized) {
  size_t slash = normalized.find_last_of('/');
  if (slash == std::string::npos) return "";
  if (slash == 0) return normalized.size() > 1 ? "/" : "";
  return normalized.substr(0, slash);
}

// True when `candidate` lies strictly below directory `dir`.
bool IsBelow(const std::string& candidate, const std::string& dir) {
  if (dir == "/") return candidate.size() > 1 && candidate[0] == '/';
  return candidate.size() > dir.size() && candidate.compare(0, dir.size(), dir) == 0 &&
         candidate[dir.size()] == '/';
}

}  // namespace

std::string InMemoryFileSystem::Normalize(const std::string& path) {
  if (path.empty()) return "";
  std::string out = std::filesystem::path(path).lexically_normal().string();
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

void InMemoryFileSystem::AddParentsLocked(const std::string& normalized) {
  for (std::string parent = ParentOf(normalized); !parent.empty() && parent != "/";
       parent = ParentOf(parent)) {
    auto it = nodes_.find(parent);
    if (it != nodes_.end() && it->second.is_directory) break;
    // A file standing where a directory must be is replaced, as `mkdir -p`
    // cannot do it but a test building a tree wants the tree it asked for.
    nodes_[parent] = Node{true, {}};
  }
}

bool InMemoryFileSystem::RemoveLocked(const std::string& normalized) {
  bool removed = false;
  if (normalized != "/") removed = nodes_.erase(normalized) > 0;
  for (auto it = nodes_.lower_bound(normalized); it != nodes_.end();) {
    if (IsBelow(it->first, normalized)) {
      it = nodes_.erase(it);
      removed = true;
    } else if (it->first.compare(0, normalized.size(), normalized) == 0) {
      ++it;  // a sibling sharing the prefix, e.g. "/a/1x" next to "/a/1"
    } else {
      break;
    }
  }
  return removed;
}

void InMemoryFileSystem::AddFile(const std::string& path, std::string contents) {
  std::string key = Normalize(path);
  if (key.empty() || key == "/") return;
  std::lock_guard lock(mu_);
  RemoveLocked(key);
  AddParentsLocked(key);
  nodes_[key] = Node{false, std::move(contents)};
}

void InMemoryFileSystem::AddDirectory(const std::string& path) {
  std::string key = Normalize(path);
  if (key.empty() || key == "/") return;
  std::lock_guard lock(mu_);
  auto it = nodes_.find(key);
  if (it != nodes_.end() && it->second.is_directory) return;
  AddParentsLocked(key);
  nodes_[key] = Node{true, {}};
}

bool InMemoryFileSystem::Remove(const std::string& path) {
  std::string key = Normalize(path);
  if (key.empty()) return false;
  std::lock_guard lock(mu_);
  return RemoveLocked(key);
}

namespace {

void SetError(std::map<std::string, Status>& errors, const std::string& key, Status status) {
  if (status.ok()) {
    errors.erase(key);
  } else {
    errors[key] = std::move(status);
  }
}

}  // namespace

void InMemoryFileSystem::SetReadError(const std::string& path, Status status) {
  std::string key = Normalize(path);
  std::lock_guard lock(mu_);
  SetError(read_errors_, key, std::move(status));
}

void InMemoryFileSystem::SetListError(const std::string& path, Status status) {
  std::string key = Normalize(path);
  std::lock_guard lock(mu_);
  SetError(list_errors_, key, std::move(status));
}

Result<std::vector<std::string>> InMemoryFileSystem::ListDirectory(const std::string& path) const {
  std::string key = Normalize(path);
  std::lock_guard lock(mu_);
  if (key != "/") {
    auto it = nodes_.find(key);
    if (it == nodes_.end()) return NotFound("Directory not found: " + path);
    if (!it->second.is_directory) return FailedPrecondition("Not a directory: " + path);
  }
  auto err = list_errors_.find(key);
  if (err != list_errors_.end()) return err->second;
  std::vector<std::string> names;
  for (auto it = nodes_.upper_bound(key); it != nodes_.end(); ++it) {
    if (!IsBelow(it->first, key)) {
      if (it->first.compare(0, key.size(), key) == 0) continue;  // prefix sibling
      break;
    }
    if (ParentOf(it->first) == key) {
      size_t slash = it->first.find_last_of('/');
      names.push_back(it->first.substr(slash + 1));
    }
  }
  // The map orders "/a/b" before "/a/b/c" before "/a/b0", so names come out
  // sorted already; the contract says sorted, so do not rely on it.
  std::sort(names.begin(), names.end());
  return names;
}

bool InMemoryFileSystem::IsDirectory(const std::string& path) const {
  std::string key = Normalize(path);
  if (key == "/") return true;
  std::lock_guard lock(mu_);
  auto it = nodes_.find(key);
  return it != nodes_.end() && it->second.is_directory;
}

bool InMemoryFileSystem::Exists(const std::string& path) const {
  std::string key = Normalize(path);
  if (key == "/") return true;
  std::lock_guard lock(mu_);
  return nodes_.count(key) > 0;
}

Result<std::string> InMemoryFileSystem::ReadFile(const std::string& path) const {
  std::string key = Normalize(path);
  std::lock_guard lock(mu_);
  auto it = nodes_.find(key);
  if (it == nodes_.end()) return NotFound("File not found: " + path);
  if (it->second.is_directory) return FailedPrecondition("Is a directory, not a file: " + path);
  auto err = read_errors_.find(key);
  if (err != read_errors_.end()) return err->second;
  return it->second.contents;
}

}  // namespace tessera
