#include "core/types.h"

#include <algorithm>
#include <charconv>

namespace tessera {

const char* VersionStateName(VersionState state) {
  switch (state) {
    case VersionState::kStart: return "START";
    case VersionState::kLoading: return "LOADING";
    case VersionState::kAvailable: return "AVAILABLE";
    case VersionState::kUnloading: return "UNLOADING";
    case VersionState::kEnd: return "END";
  }
  return "UNKNOWN";
}

Result<int64_t> ParseModelVersion(std::string_view text, bool empty_is_default) {
  if (text.empty() && empty_is_default) return kDefaultVersion;
  int64_t version = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, version);
  if (text.empty() || ec != std::errc() || ptr != end || text[0] < '0' || text[0] > '9') {
    return InvalidArgument("Invalid model version '" + std::string(text) +
                           "': expected a non-negative integer (0 = the default version)");
  }
  return version;
}

Deadline EarlierDeadline(Deadline a, Deadline b) {
  if (!a) return b;
  if (!b) return a;
  return std::min(*a, *b);
}

Deadline DeadlineAfter(std::chrono::microseconds timeout, DeadlineClock::time_point now) {
  if (timeout <= std::chrono::microseconds::zero()) return std::nullopt;
  // A timeout beyond what the clock can hold is no deadline.
  const auto room = std::chrono::duration_cast<std::chrono::microseconds>(
      DeadlineClock::time_point::max() - now);
  if (timeout >= room) return std::nullopt;
  return now + timeout;
}

}  // namespace tessera
