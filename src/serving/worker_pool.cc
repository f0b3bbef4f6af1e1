#include "serving/worker_pool.h"

namespace tessera {

WorkerPool::WorkerPool(std::string name, int num_workers, size_t max_queue,
                       std::function<void()> on_thread_start)
    : name_(std::move(name)), max_queue_(max_queue), on_thread_start_(std::move(on_thread_start)) {
  if (num_workers < 1) num_workers = 1;
  threads_.reserve(num_workers);
  for (int i = 0; i < num_workers; ++i) threads_.emplace_back([this] { WorkerLoop(); });
}

WorkerPool::~WorkerPool() { Shutdown(); }

Status WorkerPool::Submit(Task task) {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return Unavailable("Model " + name_ + " is being unloaded");
    if (queue_.size() >= max_queue_) {
      return ResourceExhausted("Request queue of " + name_ + " is full (" +
                               std::to_string(max_queue_) + " requests waiting)");
    }
    queue_.push_back(std::move(task));
  }
  cv_.notify_one();
  return Status::Ok();
}

void WorkerPool::Shutdown() {
  {
    std::lock_guard lock(mu_);
    if (stopping_ && threads_.empty()) return;
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

size_t WorkerPool::queued() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

void WorkerPool::WorkerLoop() {
  if (on_thread_start_) on_thread_start_();
  for (;;) {
    Task task;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping and drained
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    task();
  }
}

}  // namespace tessera
