// TaskPool: a fixed set of threads running tasks in order of submission.
// With one thread, tasks run one at a time, in order: for slow administrative
// work (loading a model) that must not run on a transport thread.
//
// Thread-safety: Submit may be called from any thread. Stop (and the
// destructor) runs every task queued so far, then joins the threads; a task
// submitted after Stop runs on the submitting thread, so work finishing
// during shutdown still completes. Stop may be called from a task (that
// thread is then detached instead of joined).
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace tessera {

class TaskPool {
 public:
  explicit TaskPool(int threads) {
    for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { Loop(); });
  }
  ~TaskPool() { Stop(); }
  TaskPool(const TaskPool&) = delete;
  TaskPool& operator=(const TaskPool&) = delete;

  void Submit(std::function<void()> task) {
    {
      std::lock_guard lock(mu_);
      if (!stopping_) {
        tasks_.push_back(std::move(task));
        cv_.notify_one();
        return;
      }
    }
    task();
  }

  void Stop() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    for (auto& thread : threads_) {
      if (thread.joinable() && thread.get_id() != std::this_thread::get_id()) thread.join();
      if (thread.joinable()) thread.detach();
    }
    threads_.clear();
  }

 private:
  void Loop() {
    std::unique_lock lock(mu_);
    while (true) {
      cv_.wait(lock, [this] { return stopping_ || !tasks_.empty(); });
      if (tasks_.empty()) return;  // stopping, and every task has run
      auto task = std::move(tasks_.front());
      tasks_.pop_front();
      lock.unlock();
      task();
      lock.lock();
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace tessera
