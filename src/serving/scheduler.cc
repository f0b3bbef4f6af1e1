#include "serving/scheduler.h"

#include <algorithm>

#include "serving/batch_tensors.h"

namespace tessera {
namespace {

std::chrono::microseconds MaxDelay(const SchedulerOptions& options) {
  return std::chrono::microseconds(options.batching ? options.batching->max_queue_delay_microseconds : 0);
}

// Cuts `positions` to its longest prefix whose rows sum to one of
// `preferred`. False when no prefix does.
bool TrimToPreferred(const std::vector<int64_t>& preferred, const std::vector<int64_t>& rows_at,
                     std::vector<size_t>& positions, int64_t& rows) {
  int64_t sum = 0;
  size_t keep = 0;
  int64_t kept_rows = 0;
  for (size_t i = 0; i < positions.size(); ++i) {
    sum += rows_at[i];
    if (std::binary_search(preferred.begin(), preferred.end(), sum)) {
      keep = i + 1;
      kept_rows = sum;
    }
  }
  if (keep == 0) return false;
  positions.resize(keep);
  rows = kept_rows;
  return true;
}

}  // namespace

Scheduler::Scheduler(SchedulerOptions options, RunBatch run)
    : options_(std::move(options)),
      max_delay_(MaxDelay(options_)),
      run_(std::move(run)),
      max_running_(static_cast<size_t>(std::max(1, options_.num_workers))) {
  threads_.reserve(max_running_);
  for (size_t i = 0; i < max_running_; ++i) threads_.emplace_back([this] { WorkerLoop(); });
}

Scheduler::~Scheduler() { Shutdown(); }

void Scheduler::Enqueue(PendingRequest request) {
  const auto now = SchedulerClock::now();
  if (request.request->deadline && now >= *request.request->deadline) {
    return request.done(Status(StatusCode::kDeadlineExceeded,
                               "Deadline exceeded before the request was queued for model " +
                                   options_.name));
  }
  request.arrival = now;
  if (options_.batching) request.rows = BatchRows(request.inputs);
  if (TryRunInline(request)) return;
  Status refused;
  std::vector<PendingRequest> dropped;
  bool wake_worker = false;  // a slot is free: a worker can take it now
  bool wake_expiry = false;
  {
    std::lock_guard lock(mu_);
    if (!stopping_ && queue_.size() >= options_.max_queue) SweepLocked(now, dropped);
    if (stopping_) {
      refused = Unavailable("Model " + options_.name + " is being unloaded");
    } else if (queue_.size() >= options_.max_queue) {
      refused = ResourceExhausted("Request queue of " + options_.name + " is full (" +
                                  std::to_string(options_.max_queue) + " requests waiting)");
    } else {
      const auto look = NextLook(request, now);
      queue_.push_back(std::move(request));
      wake_worker = running_ < max_running_;
      if (look != SchedulerClock::time_point::max()) {
        if (!expiry_.joinable()) {
          expiry_ = std::thread([this] { ExpiryLoop(); });
        } else {
          wake_expiry = look < expiry_wake_;
        }
      }
    }
  }
  AnswerDropped(dropped);
  if (!refused.ok()) return request.done(std::move(refused));  // `request` was not moved
  // Otherwise whoever frees a slot takes the request or wakes a worker.
  if (wake_worker) cv_.notify_one();
  if (wake_expiry) expiry_cv_.notify_one();
}

bool Scheduler::TryRunInline(PendingRequest& request) {
  if (options_.inline_run_max.count() <= 0 || options_.batching) return false;
  const int64_t usual = run_nanos_.load(std::memory_order_relaxed);
  if (usual <= 0 || std::chrono::nanoseconds(usual) > options_.inline_run_max) return false;
  {
    std::lock_guard lock(mu_);
    // Only while nothing waits (a queued request is older and goes first)
    // and a slot is free. Under load every transport thread then runs
    // its own requests with no hand-off at all (measured: more throughput
    // than handing them to the workers, docs/performance.md).
    if (stopping_ || !queue_.empty() || running_ >= max_running_) return false;
    ++running_;
  }
  std::vector<PendingRequest> batch;
  batch.push_back(std::move(request));
  if (DropReason(batch.front(), SchedulerClock::now()) != StatusCode::kOk) {
    AnswerDropped(batch);
  } else {
    RunAndRecord(batch);
  }
  bool wake_one = false;
  bool wake_all = false;
  {
    std::lock_guard lock(mu_);
    --running_;
    // A worker may be waiting for this slot; Shutdown waits for running_ 0.
    wake_all = stopping_;
    wake_one = !queue_.empty();
  }
  if (wake_all) {
    cv_.notify_all();
  } else if (wake_one) {
    cv_.notify_one();
  }
  return true;
}

StatusCode Scheduler::DropReason(const PendingRequest& pending,
                                 SchedulerClock::time_point now) const {
  if (now >= DeadlineDropTime(pending)) return StatusCode::kDeadlineExceeded;
  const InferRequest& r = *pending.request;
  if (r.cancelled && r.cancelled()) return StatusCode::kCancelled;
  return StatusCode::kOk;
}

SchedulerClock::time_point Scheduler::DeadlineDropTime(const PendingRequest& pending) const {
  const InferRequest& r = *pending.request;
  if (!r.deadline) return SchedulerClock::time_point::max();
  // From when a run of the usual length would end after the deadline. Only
  // when the wait made it late: a request whose whole budget is shorter than
  // the usual run still runs until its deadline (so the average keeps
  // following the runs).
  const std::chrono::nanoseconds usual(run_nanos_.load(std::memory_order_relaxed));
  if (pending.arrival + usual < *r.deadline) return *r.deadline - usual;
  return *r.deadline;
}

SchedulerClock::time_point Scheduler::NextLook(const PendingRequest& pending,
                                               SchedulerClock::time_point now) const {
  const auto drop = DeadlineDropTime(pending);
  if (!pending.request->cancelled) return drop;
  return std::min(drop, now + kCancelPoll);
}

void Scheduler::ExpiryLoop() {
  std::vector<PendingRequest> dropped;
  std::unique_lock lock(mu_);
  for (;;) {
    const auto now = SchedulerClock::now();
    SweepLocked(now, dropped);
    if (!dropped.empty()) {
      // Enqueue need not wake this thread while it answers: it scans the
      // queue again before it sleeps.
      expiry_wake_ = SchedulerClock::time_point::min();
      lock.unlock();
      AnswerDropped(dropped);
      lock.lock();
      continue;
    }
    if (stopping_ && queue_.empty()) return;  // Shutdown notifies once the workers are done
    expiry_wake_ = SchedulerClock::time_point::max();
    for (const auto& pending : queue_) expiry_wake_ = std::min(expiry_wake_, NextLook(pending, now));
    if (expiry_wake_ == SchedulerClock::time_point::max()) {
      expiry_cv_.wait(lock);
    } else {
      expiry_cv_.wait_until(lock, expiry_wake_);
    }
  }
}

void Scheduler::RunAndRecord(std::vector<PendingRequest>& batch) {
  const auto started = SchedulerClock::now();
  run_(batch);
  RecordRun(SchedulerClock::now() - started);
}

void Scheduler::RecordRun(SchedulerClock::duration took) {
  const int64_t nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(took).count();
  const int64_t old = run_nanos_.load(std::memory_order_relaxed);
  // Weight 1/8: a few runs follow a change of load, one outlier fades fast.
  // Workers race here harmlessly: a lost update is one sample less.
  run_nanos_.store(old == 0 ? nanos : old + (nanos - old) / 8, std::memory_order_relaxed);
}

void Scheduler::SweepLocked(SchedulerClock::time_point now, std::vector<PendingRequest>& dropped) {
  size_t write = 0;
  for (size_t read = 0; read < queue_.size(); ++read) {
    if (DropReason(queue_[read], now) != StatusCode::kOk) {
      dropped.push_back(std::move(queue_[read]));
    } else {
      if (write != read) queue_[write] = std::move(queue_[read]);
      ++write;
    }
  }
  queue_.erase(queue_.begin() + static_cast<std::ptrdiff_t>(write), queue_.end());
}

void Scheduler::AnswerDropped(std::vector<PendingRequest>& dropped) const {
  // A request is cancelled when its client went away before its deadline
  // passed; every other dropped request was dropped for its deadline (also
  // one the run-time rule dropped, which a later look might no longer drop).
  const auto now = SchedulerClock::now();
  for (auto& pending : dropped) {
    const InferRequest& r = *pending.request;
    const bool passed = r.deadline && now >= *r.deadline;
    if (passed || !r.cancelled || !r.cancelled()) {
      pending.done(Status(StatusCode::kDeadlineExceeded,
                          "Deadline exceeded while queued for model " + options_.name));
    } else {
      pending.done(Status(StatusCode::kCancelled,
                          "Request cancelled while queued for model " + options_.name));
    }
  }
  dropped.clear();
}

void Scheduler::Shutdown() {
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
  {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [this] { return running_ == 0; });  // inline runs
  }
  // The workers emptied the queue; no Enqueue starts the expiry thread any
  // more, so expiry_ is read without the lock.
  expiry_cv_.notify_all();
  if (expiry_.joinable()) expiry_.join();
}

size_t Scheduler::queued() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

void Scheduler::WorkerLoop() {
  std::vector<PendingRequest> batch;
  std::vector<PendingRequest> dropped;
  bool ran = false;  // running_ still counts this worker's last run
  for (;;) {
    bool more = false;
    {
      std::unique_lock lock(mu_);
      if (ran) --running_;
      ran = false;
      for (;;) {
        if (!dropped.empty()) {  // answered before this worker waits or runs
          lock.unlock();
          AnswerDropped(dropped);
          lock.lock();
        }
        if (queue_.empty() || running_ >= max_running_) {
          if (stopping_ && queue_.empty()) return;
          cv_.wait(lock);
          continue;
        }
        const auto now = SchedulerClock::now();
        if (!options_.batching) {
          PendingRequest& front = queue_.front();
          (DropReason(front, now) == StatusCode::kOk ? batch : dropped).push_back(std::move(front));
          queue_.pop_front();
          if (batch.empty()) continue;
          break;
        }
        SweepLocked(now, dropped);
        if (queue_.empty()) continue;
        auto wake = SchedulerClock::time_point::max();
        if (auto ready = FindReady(now, &wake)) {
          Take(*ready, batch);
          break;
        }
        if (!dropped.empty()) continue;  // answer them before waiting
        cv_.wait_until(lock, wake);
      }
      ++running_;
      ran = true;
      more = !queue_.empty() && running_ < max_running_;
    }
    if (more) cv_.notify_one();  // another free worker may take what is left
    AnswerDropped(dropped);
    RunAndRecord(batch);
    batch.clear();
  }
}

std::optional<Scheduler::Batch> Scheduler::FindReady(SchedulerClock::time_point now,
                                                     SchedulerClock::time_point* wake) {
  std::vector<bool> taken(queue_.size(), false);
  for (size_t head = 0; head < queue_.size(); ++head) {
    if (taken[head]) continue;
    Batch batch;
    if (Gather(head, taken, now, batch)) return batch;
    *wake = std::min(*wake, queue_[head].arrival + max_delay_);
  }
  return std::nullopt;
}

bool Scheduler::Gather(size_t head, std::vector<bool>& taken, SchedulerClock::time_point now,
                       Batch& batch) const {
  const DynamicBatchingConfig& config = *options_.batching;
  const PendingRequest& first = queue_[head];
  batch.positions.push_back(head);
  taken[head] = true;
  if (!first.rows) return true;  // runs alone
  std::vector<int64_t> rows_at = {*first.rows};
  batch.rows = *first.rows;
  bool full = batch.rows >= config.max_batch_size;
  for (size_t i = head + 1; i < queue_.size() && !full; ++i) {
    const PendingRequest& next = queue_[i];
    if (taken[i] || !next.rows || !SameRowShape(first.inputs, next.inputs)) continue;
    if (batch.rows + *next.rows > config.max_batch_size) {
      full = true;
      break;
    }
    batch.positions.push_back(i);
    rows_at.push_back(*next.rows);
    taken[i] = true;
    batch.rows += *next.rows;
    full = batch.rows >= config.max_batch_size;
  }
  if (full || stopping_ || now >= first.arrival + max_delay_) return true;
  return TrimToPreferred(config.preferred_batch_sizes, rows_at, batch.positions, batch.rows);
}

void Scheduler::Take(const Batch& batch, std::vector<PendingRequest>& out) {
  const auto& positions = batch.positions;
  const size_t last = positions.back();
  size_t next = 0;   // index into positions
  size_t write = 0;  // where the next request that stays goes
  for (size_t read = 0; read <= last; ++read) {
    if (next < positions.size() && positions[next] == read) {
      out.push_back(std::move(queue_[read]));
      ++next;
    } else {
      if (write != read) queue_[write] = std::move(queue_[read]);
      ++write;
    }
  }
  queue_.erase(queue_.begin() + static_cast<std::ptrdiff_t>(write),
               queue_.begin() + static_cast<std::ptrdiff_t>(last + 1));
}

}  // namespace tessera
