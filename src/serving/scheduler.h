// Scheduler: the queue and the workers of one model version.
//
// `num_workers` threads take requests from one bounded FIFO queue and hand
// them to `run`. Without batching every run gets one request, oldest first.
// With dynamic batching a free worker gathers the oldest request and the
// requests after it whose inputs have the same row shape (BatchRows /
// SameRowShape) into one run, in arrival order, up to max_batch_size rows.
// A batch runs as soon as one of these holds:
//   * it is full: max_batch_size rows, or the next matching request does not
//     fit;
//   * preferred_batch_sizes is set and a prefix of it sums to a preferred
//     size (the largest such prefix runs; the rest waits);
//   * its oldest request has waited max_queue_delay_microseconds;
//   * its request cannot be batched (it runs alone), or the scheduler is
//     shutting down.
// Requests of other row shapes are not merged; they form their own batches
// and do not wait behind the oldest one's delay. Workers only gather while
// they are free, so under load batches grow by themselves.
//
// Deadlines and cancellation (InferRequest::deadline / cancelled): a
// request already past its deadline is refused by Enqueue. A queued request
// that is cancelled, past its deadline, or that waited so long that a run of
// the usual length (a moving average of this scheduler's run times) would
// end after its deadline, is dropped, answered at once and never handed to
// `run`. (A request whose whole budget is shorter than the usual run is not
// dropped for that reason, so runs go on and the average stays current.)
// Dropping happens at the request's drop time (its deadline, or earlier by
// the usual run as of the last look when the rule above applies) even while every
// worker is busy: an expiry thread, started with the first queued request
// that has a deadline or a cancel check, sleeps on its own condition
// variable until the earliest drop time of the queue (recomputed by one scan
// of the queue whenever it wakes; Enqueue wakes it when a new request drops
// earlier), then removes what must be dropped. `cancelled` is a poll: while
// a queued request has a cancel check, the expiry thread also looks every
// kCancelPoll. Workers drop too, before they run or gather (with batching,
// every dropped request is removed before a batch is gathered, so a batch
// never holds one), and so does Enqueue when the queue is full, before it
// refuses the new request. Whoever removes a request from the queue answers
// it, on its own thread, outside the lock.
//
// Inline runs (options.inline_run_max > 0, without batching): a request
// that arrives while nothing is queued and a run slot is free (fewer than
// num_workers runs in progress) is run by Enqueue itself, on the calling
// thread, when the usual run (the moving average above, known after the
// first run on a worker) is at most inline_run_max. That saves two thread
// hand-offs (to a worker and back) per request, which dominate for models
// that run in microseconds; the cost is that the caller (a transport thread)
// is busy for the run. Inline runs count against num_workers like worker
// runs, so at most num_workers runs are ever in progress; `done` is then
// called before Enqueue returns.
//
// Thread-safety: Enqueue may be called from any thread. Shutdown (also run
// by the destructor) runs every queued request (the expiry thread still
// drops the ones whose drop time comes while the workers drain the queue),
// then joins the workers and the expiry thread and waits for inline runs in
// progress; it must not be called from
// `run` or from a `done` that the scheduler calls (a worker's or the expiry
// thread's).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/types.h"
#include "repository/model_config.h"

namespace tessera {

using SchedulerClock = std::chrono::steady_clock;

// One validated request waiting for a worker.
struct PendingRequest {
  const InferRequest* request = nullptr;  // outlives the call of `done`
  std::vector<NamedTensor> inputs;        // validated, in signature order
  std::vector<size_t> outputs;            // indices into the signature's outputs
  InferCallback done;
  // Set by Enqueue.
  SchedulerClock::time_point arrival;
  std::optional<int64_t> rows;  // BatchRows(inputs) when batching, else nullopt
};

struct SchedulerOptions {
  std::string name;        // in error messages
  int num_workers = 1;     // at least 1
  size_t max_queue = 4096; // requests waiting (not running)
  std::optional<DynamicBatchingConfig> batching;  // unset: one request per run
  // Longest usual run that Enqueue runs on its caller's thread; 0: never
  // (see the file comment). Ignored with batching.
  std::chrono::microseconds inline_run_max{0};
};

class Scheduler {
 public:
  // Runs one batch (one request without batching) on a worker thread. It
  // must call `done` of every request exactly once. The vector is reused.
  using RunBatch = std::function<void(std::vector<PendingRequest>& batch)>;

  Scheduler(SchedulerOptions options, RunBatch run);
  ~Scheduler();

  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Queues `request` (or runs it at once, see inline runs above). When the queue already holds max_queue requests its
  // `done` is called at once, on the calling thread, with kResourceExhausted
  // ("Request queue of <name> is full (<N> requests waiting)"); after
  // Shutdown with kUnavailable ("Model <name> is being unloaded"); past its
  // deadline with kDeadlineExceeded ("Deadline exceeded before the request
  // was queued for model <name>").
  void Enqueue(PendingRequest request);

  void Shutdown();

  size_t queued() const;

  // The moving average of run times (0 before the first run ends).
  std::chrono::nanoseconds usual_run() const {
    return std::chrono::nanoseconds(run_nanos_.load(std::memory_order_relaxed));
  }

  // How often the expiry thread polls `cancelled` of queued requests.
  static constexpr std::chrono::milliseconds kCancelPoll{100};
  int num_workers() const { return static_cast<int>(threads_.size()); }

 private:
  // Queue positions of one batch, ascending, and its rows.
  struct Batch {
    std::vector<size_t> positions;
    int64_t rows = 0;
  };

  void WorkerLoop();
  // Runs `request` on the calling thread when the inline rule allows it
  // (then returns true); false: `request` is untouched and must be queued.
  bool TryRunInline(PendingRequest& request);
  // kOk, or why `pending` must be dropped instead of run.
  StatusCode DropReason(const PendingRequest& pending, SchedulerClock::time_point now) const;
  // When DropReason first drops `pending` for its deadline, with the usual
  // run as it is now; max() without a deadline.
  SchedulerClock::time_point DeadlineDropTime(const PendingRequest& pending) const;
  // When the expiry thread must next look at `pending`: its deadline's drop
  // time, or the next cancel poll after `now` when it has a cancel check;
  // max() when never.
  SchedulerClock::time_point NextLook(const PendingRequest& pending, SchedulerClock::time_point now) const;
  // The expiry thread: drops queued requests at their drop time.
  void ExpiryLoop();
  // Runs `batch` (outside mu_) and folds how long it took into run_nanos_.
  void RunAndRecord(std::vector<PendingRequest>& batch);
  // Folds one run's duration into run_nanos_.
  void RecordRun(SchedulerClock::duration took);
  // REQUIRES: mu_ held. Moves every queued request that must be dropped
  // into `dropped`, keeping the others in order.
  void SweepLocked(SchedulerClock::time_point now, std::vector<PendingRequest>& dropped);
  // Answers each dropped request with its reason. REQUIRES: mu_ not held.
  void AnswerDropped(std::vector<PendingRequest>& dropped) const;
  // REQUIRES: mu_ held, queue_ not empty. The oldest batch that may run now;
  // otherwise nullopt and `*wake` is when the first waiting batch's delay ends.
  std::optional<Batch> FindReady(SchedulerClock::time_point now, SchedulerClock::time_point* wake);
  // REQUIRES: mu_ held. Grows the batch headed by queue_[head] over requests
  // not yet `taken`; returns whether it may run now.
  bool Gather(size_t head, std::vector<bool>& taken, SchedulerClock::time_point now, Batch& batch) const;
  // REQUIRES: mu_ held. Moves the batch's requests out of queue_ into `out`.
  void Take(const Batch& batch, std::vector<PendingRequest>& out);

  const SchedulerOptions options_;
  const std::chrono::microseconds max_delay_;
  // Moving average of how long one call of `run_` takes (0 before the
  // first): a queued request is not started when it could not finish
  // before its deadline.
  std::atomic<int64_t> run_nanos_{0};
  RunBatch run_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<PendingRequest> queue_;
  bool stopping_ = false;
  // Runs in progress, on workers and inline; at most threads_.size().
  // Workers wait while it is at that bound (inline runs take slots).
  size_t running_ = 0;
  const size_t max_running_;  // num_workers, at least 1
  std::vector<std::thread> threads_;
  // The expiry thread waits on its own condition variable, so Enqueue's
  // notify_one of cv_ always reaches a worker. Started by Enqueue (under
  // mu_, never after stopping_), joined by Shutdown.
  std::condition_variable expiry_cv_;
  std::thread expiry_;
  // When the expiry thread next wakes by itself (max: only when notified).
  SchedulerClock::time_point expiry_wake_ = SchedulerClock::time_point::max();
};

}  // namespace tessera
