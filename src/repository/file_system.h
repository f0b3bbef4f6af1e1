// FileSystem: the few file operations the repository layer needs, behind an
// interface so the manager and poller are tested on an in-memory tree.
// Thread-safety: implementations are safe for concurrent calls.
#pragma once

#include <string>
#include <vector>

#include "common/result.h"

namespace tessera {

class FileSystem {
 public:
  virtual ~FileSystem() = default;
  // Names (not paths) of the entries of directory `path`, sorted.
  virtual Result<std::vector<std::string>> ListDirectory(const std::string& path) const = 0;
  virtual bool IsDirectory(const std::string& path) const = 0;
  virtual bool Exists(const std::string& path) const = 0;
  // Whole file contents.
  virtual Result<std::string> ReadFile(const std::string& path) const = 0;
};

// The process's real file system.
class LocalFileSystem : public FileSystem {
 public:
  Result<std::vector<std::string>> ListDirectory(const std::string& path) const override;
  bool IsDirectory(const std::string& path) const override;
  bool Exists(const std::string& path) const override;
  Result<std::string> ReadFile(const std::string& path) const override;
};

// Joins two path pieces with exactly one '/'.
std::string JoinPath(const std::string& a, const std::string& b);

}  // namespace tessera
