#include "repository/file_system.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

namespace tessera {
namespace fs = std::filesystem;

Result<std::vector<std::string>> LocalFileSystem::ListDirectory(const std::string& path) const {
  std::error_code ec;
  fs::file_status st = fs::status(path, ec);
  if (ec || !fs::exists(st)) return NotFound("Directory not found: " + path);
  if (!fs::is_directory(st)) return FailedPrecondition("Not a directory: " + path);

  std::vector<std::string> names;
  fs::directory_iterator it(path, ec);
  if (ec) return Status(StatusCode::kPermissionDenied, "Cannot list directory " + path + ": " + ec.message());
  // Increment with an error_code: an entry vanishing mid-listing (the poller
  // races model uploads) must not throw.
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    if (ec) break;
    names.push_back(it->path().filename().string());
  }
  if (ec) return Unknown("Error while listing directory " + path + ": " + ec.message());
  std::sort(names.begin(), names.end());
  return names;
}

bool LocalFileSystem::IsDirectory(const std::string& path) const {
  std::error_code ec;
  return fs::is_directory(path, ec);
}

bool LocalFileSystem::Exists(const std::string& path) const {
  std::error_code ec;
  return fs::exists(path, ec);
}

Result<std::string> LocalFileSystem::ReadFile(const std::string& path) const {
  std::error_code ec;
  fs::file_status st = fs::status(path, ec);
  if (ec || !fs::exists(st)) return NotFound("File not found: " + path);
  if (fs::is_directory(st)) return FailedPrecondition("Is a directory, not a file: " + path);

  std::ifstream in(path, std::ios::binary);
  if (!in) return Status(StatusCode::kPermissionDenied, "Cannot open file: " + path);
  std::ostringstream contents;
  contents << in.rdbuf();
  if (in.bad()) return Unknown("Error while reading file: " + path);
  return contents.str();
}

std::string JoinPath(const std::string& a, const std::string& b) {
  if (a.empty()) return b;
  if (b.empty()) return a;
  size_t a_end = a.find_last_not_of('/');
  size_t b_begin = b.find_first_not_of('/');
  // `a` made only of slashes is the root: keep exactly one.
  std::string head = a_end == std::string::npos ? std::string() : a.substr(0, a_end + 1);
  std::string tail = b_begin == std::string::npos ? std::string() : b.substr(b_begin);
  return head + "/" + tail;
}

}  // namespace tessera
