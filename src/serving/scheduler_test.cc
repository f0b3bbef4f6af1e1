#include "serving/scheduler.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <map>

namespace tessera {
namespace {

using namespace std::chrono_literals;

// Requests whose input "x" is FP32 (rows, width); each request is known by
// its id. Records the ids of every batch the scheduler hands out and answers
// each request with OK (or with the status it ran with).
class SchedulerTest : public ::testing::Test {
 protected:
  ~SchedulerTest() override {
    Release();
    scheduler_.reset();
  }

  void Start(int workers, size_t max_queue, std::optional<DynamicBatchingConfig> batching) {
    SchedulerOptions options{"m", workers, max_queue, std::move(batching)};
    scheduler_ = std::make_unique<Scheduler>(options, [this](std::vector<PendingRequest>& batch) {
      std::vector<std::string> ids;
      for (const auto& p : batch) ids.push_back(p.request->id);
      {
        std::lock_guard lock(mu_);
        batches_.push_back(ids);
      }
      if (ids.front() == "block") gate_.wait();
      for (auto& p : batch) p.done(InferResponse{});
    });
  }

  // Queues request `id`; its result lands in results_[id].
  void Send(const std::string& id, int64_t rows = 1, int64_t width = 2) {
    auto& request = requests_[id];
    request.id = id;
    PendingRequest p;
    p.request = &request;
    p.inputs = {{"x", Tensor::Allocate(DataType::kFp32, {rows, width})}};
    p.done = [this, id](Result<InferResponse> r) {
      std::lock_guard lock(mu_);
      results_[id] = r.status();
      if (r.ok()) ++answered_;
      answered_cv_.notify_all();
    };
    scheduler_->Enqueue(std::move(p));
  }

  // Sends "block" and waits until a worker is busy running it.
  void BlockOneWorker() {
    Send("block");
    while (Batches().empty()) std::this_thread::sleep_for(1ms);
  }

  void Release() {
    if (!released_.exchange(true)) release_.set_value();
  }

  // Waits until `n` requests have a result, whatever it is.
  bool WaitResults(size_t n) {
    std::unique_lock lock(mu_);
    return answered_cv_.wait_for(lock, 5s, [&] { return results_.size() >= n; });
  }

  // Deadlines are read from the request while it is queued. The tests move
  // them while every worker is blocked (no worker reads them then; the gate
  // orders these writes before the workers' reads), which stands in for
  // time passing while the request waits.
  void SetDeadline(const std::string& id, SchedulerClock::time_point deadline) {
    requests_[id].deadline = deadline;
  }

  bool WaitAnswered(int n) {
    std::unique_lock lock(mu_);
    return answered_cv_.wait_for(lock, 5s, [&] { return answered_ >= n; });
  }

  Status ResultOf(const std::string& id) {
    std::lock_guard lock(mu_);
    return results_[id];
  }

  std::vector<std::vector<std::string>> Batches() {
    std::lock_guard lock(mu_);
    return batches_;
  }

  using Ids = std::vector<std::string>;
  std::promise<void> release_;
  std::shared_future<void> gate_ = release_.get_future().share();
  std::atomic<bool> released_{false};
  std::map<std::string, InferRequest> requests_;
  std::mutex mu_;
  std::condition_variable answered_cv_;
  int answered_ = 0;
  std::map<std::string, Status> results_;
  std::vector<std::vector<std::string>> batches_;
  std::unique_ptr<Scheduler> scheduler_;
};

DynamicBatchingConfig Batching(int64_t max, int64_t delay_us = 0, std::vector<int64_t> preferred = {}) {
  return DynamicBatchingConfig{max, delay_us, std::move(preferred)};
}

TEST_F(SchedulerTest, WithoutBatchingRunsOneRequestAtATimeInOrder) {
  Start(1, 100, std::nullopt);
  BlockOneWorker();
  for (const char* id : {"a", "b", "c"}) Send(id);
  Release();
  ASSERT_TRUE(WaitAnswered(4));
  EXPECT_EQ(Batches(), (std::vector<Ids>{{"block"}, {"a"}, {"b"}, {"c"}}));
}

TEST_F(SchedulerTest, ShutdownRunsEveryQueuedRequestThenRefuses) {
  Start(3, 100, std::nullopt);
  for (int i = 0; i < 50; ++i) Send("r" + std::to_string(i));
  scheduler_->Shutdown();
  EXPECT_EQ(answered_, 50);
  Send("late");
  EXPECT_EQ(ResultOf("late"), Unavailable("Model m is being unloaded"));
}

TEST_F(SchedulerTest, FullQueueIsResourceExhausted) {
  Start(1, 2, std::nullopt);
  BlockOneWorker();  // the worker is busy; the queue is empty
  Send("a");
  Send("b");
  Send("c");
  EXPECT_EQ(ResultOf("c"), ResourceExhausted("Request queue of m is full (2 requests waiting)"));
  EXPECT_EQ(scheduler_->queued(), 2u);
  Release();
  ASSERT_TRUE(WaitAnswered(3));
  EXPECT_TRUE(ResultOf("a").ok());
  EXPECT_TRUE(ResultOf("b").ok());
}

TEST_F(SchedulerTest, FullQueueIsResourceExhaustedWithBatchingToo) {
  Start(1, 1, Batching(8));
  BlockOneWorker();
  Send("a");
  Send("b");
  EXPECT_EQ(ResultOf("b").code(), StatusCode::kResourceExhausted);
}

TEST_F(SchedulerTest, BatchesWaitingRequestsInArrivalOrderUpToMaxRows) {
  Start(1, 100, Batching(4));
  BlockOneWorker();
  for (const char* id : {"a", "b", "c", "d", "e", "f"}) Send(id);
  Release();
  ASSERT_TRUE(WaitAnswered(7));
  EXPECT_EQ(Batches(), (std::vector<Ids>{{"block"}, {"a", "b", "c", "d"}, {"e", "f"}}));
}

TEST_F(SchedulerTest, MaxBatchSizeCountsRowsNotRequests) {
  Start(1, 100, Batching(4));
  BlockOneWorker();
  Send("a", 3);
  Send("b", 2);  // does not fit next to a: the batch is full
  Send("c", 1);
  Send("big", 9);  // more rows than max_batch_size: runs alone
  Release();
  ASSERT_TRUE(WaitAnswered(5));
  EXPECT_EQ(Batches(), (std::vector<Ids>{{"block"}, {"a"}, {"b", "c"}, {"big"}}));
}

TEST_F(SchedulerTest, MixedRowShapesAreNotMerged) {
  Start(1, 100, Batching(8));
  BlockOneWorker();
  Send("w2a", 1, 2);
  Send("w3a", 1, 3);
  Send("w2b", 1, 2);
  Send("w3b", 1, 3);
  Release();
  ASSERT_TRUE(WaitAnswered(5));
  EXPECT_EQ(Batches(), (std::vector<Ids>{{"block"}, {"w2a", "w2b"}, {"w3a", "w3b"}}));
}

TEST_F(SchedulerTest, MaxQueueDelayFlushesAPartialBatch) {
  Start(1, 100, Batching(8, 1'000'000));  // long enough that b surely arrives in time
  auto start = SchedulerClock::now();
  Send("a");
  Send("b");
  ASSERT_TRUE(WaitAnswered(2));
  auto waited = SchedulerClock::now() - start;
  EXPECT_EQ(Batches(), (std::vector<Ids>{{"a", "b"}}));
  EXPECT_GE(waited, 990ms);  // the batch waited for more rows before running
}

TEST_F(SchedulerTest, AFullBatchDoesNotWaitForTheDelay) {
  Start(1, 100, Batching(2, 60'000'000));  // a minute
  Send("a");
  Send("b");
  ASSERT_TRUE(WaitAnswered(2));
  EXPECT_EQ(Batches(), (std::vector<Ids>{{"a", "b"}}));
}

TEST_F(SchedulerTest, PreferredSizeRunsAtOnceAndTheRestWaits) {
  Start(1, 100, Batching(8, 2'000'000, {2}));
  BlockOneWorker();
  for (const char* id : {"a", "b", "c"}) Send(id);
  Release();
  ASSERT_TRUE(WaitAnswered(3));  // block + a + b, long before c's 2 s delay ends
  EXPECT_EQ(Batches(), (std::vector<Ids>{{"block"}, {"a", "b"}}));
  ASSERT_TRUE(WaitAnswered(4));  // c alone once its delay ended
  EXPECT_EQ(Batches().back(), (Ids{"c"}));
}

TEST_F(SchedulerTest, ARequestThatCannotBeBatchedRunsAloneWithoutWaiting) {
  Start(1, 100, Batching(8, 60'000'000));
  Send("scalar", 0);  // zero rows: runs alone, no delay
  ASSERT_TRUE(WaitAnswered(1));
  EXPECT_EQ(Batches(), (std::vector<Ids>{{"scalar"}}));
}

TEST_F(SchedulerTest, ShutdownFlushesWaitingBatches) {
  Start(1, 100, Batching(8, 60'000'000));
  Send("a");
  Send("b");
  scheduler_->Shutdown();
  EXPECT_EQ(answered_, 2);
  EXPECT_EQ(Batches(), (std::vector<Ids>{{"a", "b"}}));
}

// --- deadlines and cancellation ---------------------------------------------

const Status kExpiredInQueue(StatusCode::kDeadlineExceeded, "Deadline exceeded while queued for model m");
const Status kCancelledInQueue(StatusCode::kCancelled, "Request cancelled while queued for model m");

TEST_F(SchedulerTest, ARequestPastItsDeadlineIsRefusedBeforeQueueing) {
  Start(1, 100, std::nullopt);
  BlockOneWorker();
  SetDeadline("late", SchedulerClock::now() - 1s);
  Send("late");
  EXPECT_EQ(ResultOf("late"),
            Status(StatusCode::kDeadlineExceeded,
                   "Deadline exceeded before the request was queued for model m"));
  EXPECT_EQ(scheduler_->queued(), 0u);
  Release();
  ASSERT_TRUE(WaitAnswered(1));
  scheduler_->Shutdown();
  EXPECT_EQ(Batches(), (std::vector<Ids>{{"block"}}));
}

TEST_F(SchedulerTest, ARequestWhoseDeadlinePassesWhileQueuedNeverRuns) {
  Start(1, 100, std::nullopt);
  BlockOneWorker();
  SetDeadline("a", SchedulerClock::now() + 1h);
  SetDeadline("b", SchedulerClock::now() + 1h);
  Send("a");
  Send("b");
  Send("c");  // no deadline
  EXPECT_EQ(scheduler_->queued(), 3u);
  SetDeadline("a", SchedulerClock::now() - 1ms);  // a's deadline passes; b's does not
  Release();
  ASSERT_TRUE(WaitResults(4));
  scheduler_->Shutdown();
  EXPECT_EQ(ResultOf("a"), kExpiredInQueue);
  EXPECT_TRUE(ResultOf("b").ok());
  EXPECT_TRUE(ResultOf("c").ok());
  EXPECT_EQ(Batches(), (std::vector<Ids>{{"block"}, {"b"}, {"c"}}));
}

TEST_F(SchedulerTest, ACancelledRequestIsDroppedFromTheQueue) {
  Start(1, 100, std::nullopt);
  std::atomic<bool> gone{false};
  requests_["a"].cancelled = [&gone] { return gone.load(); };
  BlockOneWorker();
  Send("a");
  Send("b");
  gone = true;  // the client of a goes away while it waits
  Release();
  ASSERT_TRUE(WaitResults(3));
  scheduler_->Shutdown();
  EXPECT_EQ(ResultOf("a"), kCancelledInQueue);
  EXPECT_TRUE(ResultOf("b").ok());
  EXPECT_EQ(Batches(), (std::vector<Ids>{{"block"}, {"b"}}));
}

TEST_F(SchedulerTest, AFullQueueOfExpiredRequestsMakesRoomForANewOne) {
  Start(1, 2, std::nullopt);
  BlockOneWorker();
  SetDeadline("a", SchedulerClock::now() + 1h);
  SetDeadline("b", SchedulerClock::now() + 1h);
  Send("a");
  Send("b");
  SetDeadline("a", SchedulerClock::now() - 1ms);
  SetDeadline("b", SchedulerClock::now() - 1ms);
  Send("c");  // the queue is full of dead requests: they go, c is queued
  EXPECT_EQ(ResultOf("a"), kExpiredInQueue);  // answered on this thread, at once
  EXPECT_EQ(ResultOf("b"), kExpiredInQueue);
  EXPECT_EQ(scheduler_->queued(), 1u);
  Release();
  ASSERT_TRUE(WaitResults(4));
  scheduler_->Shutdown();
  EXPECT_TRUE(ResultOf("c").ok());
  EXPECT_EQ(Batches(), (std::vector<Ids>{{"block"}, {"c"}}));
}

TEST_F(SchedulerTest, AFullQueueOfLiveRequestsStillRefuses) {
  Start(1, 1, std::nullopt);
  BlockOneWorker();
  SetDeadline("a", SchedulerClock::now() + 1h);
  Send("a");
  Send("b");
  EXPECT_EQ(ResultOf("b").code(), StatusCode::kResourceExhausted);
}

TEST_F(SchedulerTest, AnExpiredRequestIsLeftOutOfItsBatch) {
  Start(1, 100, Batching(4));
  BlockOneWorker();
  SetDeadline("b", SchedulerClock::now() + 1h);
  std::atomic<bool> gone{false};
  requests_["d"].cancelled = [&gone] { return gone.load(); };
  for (const char* id : {"a", "b", "c", "d", "e"}) Send(id);
  SetDeadline("b", SchedulerClock::now() - 1ms);
  gone = true;
  Release();
  ASSERT_TRUE(WaitResults(6));
  scheduler_->Shutdown();
  EXPECT_EQ(ResultOf("b"), kExpiredInQueue);
  EXPECT_EQ(ResultOf("d"), kCancelledInQueue);
  EXPECT_EQ(Batches(), (std::vector<Ids>{{"block"}, {"a", "c", "e"}}));
}

TEST_F(SchedulerTest, ARequestThatCouldNotFinishBeforeItsDeadlineIsNotStarted) {
  Start(1, 100, std::nullopt);
  BlockOneWorker();
  SetDeadline("a", SchedulerClock::now() + 1h);
  Send("a");
  Send("b");
  std::this_thread::sleep_for(300ms);  // the one run so far takes longer than this
  // Not passed yet when the worker looks, but a run as long as the last one
  // would end after it.
  SetDeadline("a", SchedulerClock::now() + 200ms);
  Release();
  ASSERT_TRUE(WaitResults(3));
  scheduler_->Shutdown();
  EXPECT_EQ(ResultOf("a"), kExpiredInQueue);
  EXPECT_TRUE(ResultOf("b").ok());
  EXPECT_EQ(Batches(), (std::vector<Ids>{{"block"}, {"b"}}));
}

TEST_F(SchedulerTest, ARequestWithABudgetShorterThanTheUsualRunStillRuns) {
  Start(1, 100, std::nullopt);
  BlockOneWorker();
  std::this_thread::sleep_for(600ms);  // the usual run is now longer than 600 ms
  Release();
  ASSERT_TRUE(WaitAnswered(1));
  // The worker is free: waiting did not make it late, so it is not dropped.
  SetDeadline("short", SchedulerClock::now() + 500ms);
  Send("short");
  ASSERT_TRUE(WaitResults(2));
  EXPECT_TRUE(ResultOf("short").ok()) << ResultOf("short").ToString();
}

TEST_F(SchedulerTest, ShutdownAnswersExpiredRequestsWithoutRunningThem) {
  Start(1, 100, std::nullopt);
  BlockOneWorker();
  SetDeadline("a", SchedulerClock::now() + 1h);
  Send("a");
  SetDeadline("a", SchedulerClock::now() - 1ms);
  Release();
  scheduler_->Shutdown();
  EXPECT_EQ(ResultOf("a"), kExpiredInQueue);
  EXPECT_EQ(Batches(), (std::vector<Ids>{{"block"}}));
}

}  // namespace
}  // namespace tessera
