// WorkerPool: a fixed set of threads draining a bounded FIFO of tasks.
//
// Thread-safety: Submit may be called from any thread. Shutdown (also run by
// the destructor) finishes every queued task, then joins the workers; it must
// not be called from a worker thread.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"

namespace tessera {

class WorkerPool {
 public:
  using Task = std::function<void()>;

  // `on_thread_start` runs once on each worker before it takes tasks.
  WorkerPool(std::string name, int num_workers, size_t max_queue,
             std::function<void()> on_thread_start = nullptr);
  ~WorkerPool();

  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Queues `task`. kResourceExhausted when the queue is full, kUnavailable
  // after Shutdown.
  Status Submit(Task task);

  void Shutdown();

  size_t queued() const;
  int num_workers() const { return static_cast<int>(threads_.size()); }

 private:
  void WorkerLoop();

  const std::string name_;
  const size_t max_queue_;
  std::function<void()> on_thread_start_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Task> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace tessera
