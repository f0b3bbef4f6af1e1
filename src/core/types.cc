#include "core/types.h"

#include <algorithm>

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
