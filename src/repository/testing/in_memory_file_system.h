// InMemoryFileSystem: a FileSystem held in memory, so the repository poller,
// the model manager and the config loader are tested without touching disk.
//
// Paths are normalised lexically ("/a//b/../c/" is "/a/c"); the root "/"
// always exists. Adding an entry creates its missing parent directories, the
// way `mkdir -p` would. Thread-safety: every method may be called
// concurrently (one mutex), so a test can mutate the tree while a poller
// thread reads it.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "repository/file_system.h"

namespace tessera {

class InMemoryFileSystem : public FileSystem {
 public:
  InMemoryFileSystem() = default;
  InMemoryFileSystem(const InMemoryFileSystem&) = delete;
  InMemoryFileSystem& operator=(const InMemoryFileSystem&) = delete;

  // Creates or replaces the file at `path`. A directory already at `path` is
  // replaced too (with everything under it).
  void AddFile(const std::string& path, std::string contents);
  // Creates the directory `path` (no-op when it exists; replaces a file).
  void AddDirectory(const std::string& path);
  // Removes `path` and everything under it. Returns false when nothing was
  // there. Removing "/" empties the tree.
  bool Remove(const std::string& path);

  // Makes ReadFile(path) fail with `status` (e.g. permission denied) while the
  // entry still exists; an OK status clears it.
  void SetReadError(const std::string& path, Status status);
  // Likewise for ListDirectory(path) (an unreadable directory).
  void SetListError(const std::string& path, Status status);

  Result<std::vector<std::string>> ListDirectory(const std::string& path) const override;
  bool IsDirectory(const std::string& path) const override;
  bool Exists(const std::string& path) const override;
  Result<std::string> ReadFile(const std::string& path) const override;

  // The normalised form used as the key for `path`.
  static std::string Normalize(const std::string& path);

 private:
  struct Node {
    bool is_directory = false;
    std::string contents;
  };

  // REQUIRES: mu_ held. Creates missing ancestors of `normalized`.
  void AddParentsLocked(const std::string& normalized);
  // REQUIRES: mu_ held. Erases `normalized` and its descendants.
  bool RemoveLocked(const std::string& normalized);

  mutable std::mutex mu_;
  std::map<std::string, Node> nodes_;  // key: normalised path; "/" implicit
  std::map<std::string, Status> read_errors_;
  std::map<std::string, Status> list_errors_;
};

}  // namespace tessera
