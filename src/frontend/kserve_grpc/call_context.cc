#include "frontend/kserve_grpc/call_context.h"

#include <atomic>
#include <chrono>

namespace tessera::kserve_grpc {

Deadline CallDeadline(const grpc::ServerContextBase& ctx) {
  const auto deadline = ctx.deadline();  // system_clock; max() when none
  if (deadline == std::chrono::system_clock::time_point::max()) return std::nullopt;
  const auto left = std::chrono::duration_cast<std::chrono::microseconds>(
      deadline - std::chrono::system_clock::now());
  const auto now = DeadlineClock::now();
  if (left <= std::chrono::microseconds::zero()) return now;  // already passed
  return DeadlineAfter(left, now);
}

std::function<bool()> CallCancelled(const grpc::ServerContextBase& ctx) {
  return [&ctx] { return ctx.IsCancelled(); };
}

std::function<bool()> FlagCancelled(std::shared_ptr<const std::atomic<bool>> flag) {
  return [flag = std::move(flag)] { return flag->load(std::memory_order_relaxed); };
}

}  // namespace tessera::kserve_grpc
