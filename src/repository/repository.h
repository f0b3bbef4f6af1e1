// Model repository layout: base_path/<version>/<model files>, where
// <version> is a positive decimal integer.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "repository/file_system.h"

namespace tessera {

// The version directories under `base_path`, ascending. An entry counts only
// when it is a directory whose name is a canonical positive decimal int64
// ("1", "42"; not "0", "-1", "+1", "01", "1a", " 1"). Every other entry is
// skipped and named in a TLOG_WARN, once per process per path (the poller
// lists every few seconds; repeating the warning would flood the log).
// Errors, each naming the path: NotFound "base path <p> does not exist";
// FailedPrecondition "base path <p> is not a directory"; the FileSystem's
// code with "base path <p> cannot be listed: <its message>" otherwise
// (permissions, I/O). Thread-safe.
Result<std::vector<int64_t>> ListVersions(const FileSystem& fs, const std::string& base_path);

// The version `name` stands for, or nullopt when it is not a canonical
// positive decimal int64 (the rule above).
std::optional<int64_t> ParseVersionDirectoryName(std::string_view name);

}  // namespace tessera
