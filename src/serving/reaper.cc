#include "serving/reaper.h"

#include <chrono>

namespace tessera {
namespace {
constexpr auto kPollInterval = std::chrono::milliseconds(5);
}  // namespace

Reaper::Reaper() : thread_([this] { Loop(); }) {}

Reaper::~Reaper() {
  Drain();
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void Reaper::Retire(ModelHandle servable, std::function<void()> on_released) {
  {
    std::lock_guard lock(mu_);
    pending_.push_back({std::move(servable), std::move(on_released)});
  }
  cv_.notify_all();
}

void Reaper::Drain() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [this] { return pending_.empty() && releasing_ == 0; });
}

bool Reaper::DrainUntil(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(mu_);
  return cv_.wait_until(lock, deadline, [this] { return pending_.empty() && releasing_ == 0; });
}

void Reaper::Loop() {
  std::unique_lock lock(mu_);
  for (;;) {
    // Nothing pending: sleep until something is retired. Something pending:
    // look again after kPollInterval, releasing the lock meanwhile (a
    // predicate that is already true would return at once, holding it:
    // the thread would spin and starve Retire and Drain callers).
    if (pending_.empty() && !stopping_) {
      cv_.wait(lock, [this] { return stopping_ || !pending_.empty(); });
    } else if (!pending_.empty()) {
      cv_.wait_for(lock, kPollInterval);
    }
    if (stopping_ && pending_.empty()) return;
    std::vector<Entry> released;
    for (auto it = pending_.begin(); it != pending_.end();) {
      // Only the reaper holds it: no request can reach it any more.
      if (it->servable.use_count() == 1) {
        released.push_back(std::move(*it));
        it = pending_.erase(it);
      } else {
        ++it;
      }
    }
    if (released.empty()) continue;
    releasing_ = released.size();
    lock.unlock();
    for (auto& entry : released) {
      entry.servable->Shutdown();
      entry.servable.reset();
      if (entry.on_released) entry.on_released();
    }
    lock.lock();
    releasing_ = 0;
    cv_.notify_all();
  }
}

}  // namespace tessera
