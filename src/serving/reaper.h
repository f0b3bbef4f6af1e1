// Reaper: retires servables in the background. A retired servable is
// destroyed (its workers drained and joined) once no request holds it any
// more, then `on_released` runs. Keeps the poller and the request threads
// from ever waiting for in-flight requests, and keeps a worker thread from
// ever destroying its own pool.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "serving/servable.h"

namespace tessera {

class Reaper {
 public:
  Reaper();
  ~Reaper();  // waits for every retired servable to be released

  // Takes over `servable`. `on_released` (may be null) runs on the reaper's
  // thread after the servable is destroyed.
  void Retire(ModelHandle servable, std::function<void()> on_released);

  // Blocks until every servable retired so far has been released.
  void Drain();
  // Drain(), but gives up at `deadline`: true when everything was released.
  bool DrainUntil(std::chrono::steady_clock::time_point deadline);

 private:
  struct Entry {
    ModelHandle servable;
    std::function<void()> on_released;
  };
  void Loop();

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Entry> pending_;
  size_t releasing_ = 0;  // taken off pending_, not yet released
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace tessera
