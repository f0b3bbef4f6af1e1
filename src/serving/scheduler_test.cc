#include "serving/scheduler.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <map>
#include <mutex>
#include <thread>

namespace tessera {
namespace {

using namespace std::chrono_literals;

// Requests whose input "x" is FP32 (rows, width); each request is known by
// its id. Records the ids of every batch the scheduler hands out and answers
// each request with OK (or with the status it ran with).
class SchedulerTest : public ::testing::Test {
 protected:
  using Ids = std::vector<std::string>;

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

  // Sets the deadline of request `id` before it is sent (the scheduler's
  // threads read it while it is queued).
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

  // Ids of the requests answered so far.
  Ids Answered() {
    std::lock_guard lock(mu_);
    Ids ids;
    for (const auto& [id, status] : results_) ids.push_back(id);
    return ids;
  }

  std::vector<std::vector<std::string>> Batches() {
    std::lock_guard lock(mu_);
    return batches_;
  }

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

TEST_F(SchedulerTest, AQueuedRequestIsAnsweredAtItsDeadlineWhileEveryWorkerIsBusy) {
  Start(1, 100, std::nullopt);
  BlockOneWorker();
  SetDeadline("a", SchedulerClock::now() + 50ms);
  SetDeadline("b", SchedulerClock::now() + 1h);
  Send("a");
  Send("b");
  Send("c");  // no deadline
  ASSERT_TRUE(WaitResults(1));  // the worker is still blocked: only the gate frees it
  EXPECT_EQ(ResultOf("a"), kExpiredInQueue);
  EXPECT_EQ(Answered(), (Ids{"a"}));  // b (deadline far ahead) and c (none) still wait
  EXPECT_EQ(scheduler_->queued(), 2u);
  EXPECT_EQ(Batches(), (std::vector<Ids>{{"block"}}));
  Release();
  ASSERT_TRUE(WaitResults(4));
  scheduler_->Shutdown();
  EXPECT_TRUE(ResultOf("b").ok());
  EXPECT_TRUE(ResultOf("c").ok());
  EXPECT_EQ(Batches(), (std::vector<Ids>{{"block"}, {"b"}, {"c"}}));
}

TEST_F(SchedulerTest, AnEarlierDeadlineQueuedLaterIsAnsweredFirst) {
  Start(1, 100, std::nullopt);
  BlockOneWorker();
  SetDeadline("far", SchedulerClock::now() + 1h);  // the expiry thread sleeps for it first
  SetDeadline("near", SchedulerClock::now() + 50ms);
  Send("far");
  Send("near");
  ASSERT_TRUE(WaitResults(1));
  EXPECT_EQ(Answered(), (Ids{"near"}));
  EXPECT_EQ(ResultOf("near"), kExpiredInQueue);
  EXPECT_EQ(Batches(), (std::vector<Ids>{{"block"}}));
  Release();
  ASSERT_TRUE(WaitResults(3));
  scheduler_->Shutdown();
  EXPECT_TRUE(ResultOf("far").ok());
  EXPECT_EQ(Batches(), (std::vector<Ids>{{"block"}, {"far"}}));
}

TEST_F(SchedulerTest, RequestsWithoutDeadlinesAreOnlyAnsweredByTheirRun) {
  Start(1, 100, std::nullopt);
  BlockOneWorker();
  std::atomic<bool> gone{false};
  requests_["checked"].cancelled = [&gone] { return gone.load(); };  // polled, never true
  Send("plain");
  Send("checked");
  std::this_thread::sleep_for(3 * Scheduler::kCancelPoll);  // several polls pass
  EXPECT_EQ(Answered(), Ids{});
  EXPECT_EQ(scheduler_->queued(), 2u);
  Release();
  ASSERT_TRUE(WaitAnswered(3));
  scheduler_->Shutdown();
  EXPECT_EQ(Batches(), (std::vector<Ids>{{"block"}, {"plain"}, {"checked"}}));
}

TEST_F(SchedulerTest, ACancelledRequestIsAnsweredWhileEveryWorkerIsBusy) {
  Start(1, 100, std::nullopt);
  std::atomic<bool> gone{false};
  requests_["a"].cancelled = [&gone] { return gone.load(); };
  BlockOneWorker();
  Send("a");
  Send("b");
  gone = true;  // the client of a goes away while it waits
  ASSERT_TRUE(WaitResults(1));  // found by a poll: the worker is still blocked
  EXPECT_EQ(ResultOf("a"), kCancelledInQueue);
  EXPECT_EQ(Answered(), (Ids{"a"}));
  EXPECT_EQ(Batches(), (std::vector<Ids>{{"block"}}));
  Release();
  ASSERT_TRUE(WaitResults(3));
  scheduler_->Shutdown();
  EXPECT_TRUE(ResultOf("b").ok());
  EXPECT_EQ(Batches(), (std::vector<Ids>{{"block"}, {"b"}}));
}

TEST_F(SchedulerTest, AFullQueueOfDeadRequestsMakesRoomForANewOne) {
  Start(1, 2, std::nullopt);
  std::atomic<bool> gone{false};
  requests_["a"].cancelled = [&gone] { return gone.load(); };
  requests_["b"].cancelled = [&gone] { return gone.load(); };
  BlockOneWorker();
  Send("a");
  Send("b");
  gone = true;
  Send("c");  // the queue is full of dead requests (the next poll is ~100 ms away): c is queued
  ASSERT_TRUE(WaitResults(2));
  EXPECT_EQ(ResultOf("a"), kCancelledInQueue);
  EXPECT_EQ(ResultOf("b"), kCancelledInQueue);
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

TEST_F(SchedulerTest, DroppedRequestsAreLeftOutOfTheirBatch) {
  Start(1, 100, Batching(4));
  BlockOneWorker();
  SetDeadline("b", SchedulerClock::now() + 50ms);
  std::atomic<bool> gone{false};
  requests_["d"].cancelled = [&gone] { return gone.load(); };
  for (const char* id : {"a", "b", "c", "d", "e"}) Send(id);
  ASSERT_TRUE(WaitResults(1));  // b expired while the worker is blocked
  EXPECT_EQ(ResultOf("b"), kExpiredInQueue);
  gone = true;  // d is dropped by the worker's sweep (or a poll) before gathering
  Release();
  ASSERT_TRUE(WaitResults(6));
  scheduler_->Shutdown();
  EXPECT_EQ(ResultOf("d"), kCancelledInQueue);
  EXPECT_EQ(Batches(), (std::vector<Ids>{{"block"}, {"a", "c", "e"}}));
}

TEST_F(SchedulerTest, ARequestThatCouldNotFinishBeforeItsDeadlineIsNotStarted) {
  Start(1, 100, std::nullopt);
  BlockOneWorker();
  SetDeadline("a", SchedulerClock::now() + 600ms);
  Send("a");
  Send("b");
  std::this_thread::sleep_for(300ms);  // the blocked run takes longer than this
  // When the worker looks, a's deadline is not passed (unless the machine
  // stalled, which drops it all the same), but a run as long as the last
  // one would end after it.
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

TEST_F(SchedulerTest, ShutdownRunsQueuedRequestsAndStillAnswersDeadlinesWhileItDrains) {
  Start(1, 100, std::nullopt);
  BlockOneWorker();
  SetDeadline("a", SchedulerClock::now() + 50ms);
  SetDeadline("b", SchedulerClock::now() + 1h);
  Send("a");
  Send("b");
  Send("c");
  auto shutdown = std::async(std::launch::async, [this] { scheduler_->Shutdown(); });
  ASSERT_TRUE(WaitResults(1));  // Shutdown waits for the blocked worker meanwhile
  EXPECT_EQ(Answered(), (Ids{"a"}));
  EXPECT_EQ(ResultOf("a"), kExpiredInQueue);
  Release();
  shutdown.get();
  EXPECT_EQ(answered_, 3);  // block, b, c ran
  EXPECT_EQ(Batches(), (std::vector<Ids>{{"block"}, {"b"}, {"c"}}));
  Send("late");
  EXPECT_EQ(ResultOf("late"), Unavailable("Model m is being unloaded"));
}

TEST_F(SchedulerTest, ShutdownWithQueuedDeadlinesDoesNotWaitForThem) {
  Start(2, 100, std::nullopt);
  for (int i = 0; i < 20; ++i) {
    SetDeadline("r" + std::to_string(i), SchedulerClock::now() + 1h);
    Send("r" + std::to_string(i));
  }
  scheduler_->Shutdown();  // returns once the queue is run, not after an hour
  EXPECT_EQ(answered_, 20);
  EXPECT_EQ(scheduler_->queued(), 0u);
}

// Inline runs: a scheduler whose `run` records the thread of each run and
// blocks while the request's id is "block" until released.
class InlineRunTest : public ::testing::Test {
 protected:
  ~InlineRunTest() override {
    Release();
    scheduler_.reset();
  }

  void Start(int workers, std::chrono::microseconds inline_max,
             std::optional<DynamicBatchingConfig> batching = std::nullopt) {
    SchedulerOptions options{"m", workers, 100, std::move(batching), inline_max};
    scheduler_ = std::make_unique<Scheduler>(options, [this](std::vector<PendingRequest>& batch) {
      for (auto& p : batch) {
        {
          std::lock_guard lock(mu_);
          ran_on_[p.request->id] = std::this_thread::get_id();
        }
        if (p.request->id == "block") gate_.wait();
        if (p.request->id == "slow") std::this_thread::sleep_for(2ms);
        p.done(InferResponse{});
      }
    });
  }

  // Sends `id` from the calling thread; true when it was answered before
  // Enqueue returned.
  bool Send(const std::string& id) {
    auto& request = requests_[id];
    request.id = id;
    auto answered = std::make_shared<std::promise<void>>();
    futures_[id] = answered->get_future().share();
    PendingRequest p;
    p.request = &request;
    p.inputs = {{"x", Tensor::Allocate(DataType::kFp32, {1, 2})}};
    p.done = [answered](Result<InferResponse>) { answered->set_value(); };
    scheduler_->Enqueue(std::move(p));
    return futures_[id].wait_for(0s) == std::future_status::ready;
  }

  bool Wait(const std::string& id) { return futures_.at(id).wait_for(5s) == std::future_status::ready; }

  // Sends `id` and waits until its run has been measured (the worker
  // records the run after `done`).
  void SendAndMeasure(const std::string& id) {
    requests_[id];
    Send(id);
    ASSERT_TRUE(Wait(id));
    while (scheduler_->usual_run().count() == 0) std::this_thread::sleep_for(1ms);
  }

  std::thread::id RanOn(const std::string& id) {
    std::lock_guard lock(mu_);
    return ran_on_.at(id);
  }

  void WaitRunning(const std::string& id) {
    for (;;) {
      {
        std::lock_guard lock(mu_);
        if (ran_on_.count(id)) return;
      }
      std::this_thread::sleep_for(1ms);
    }
  }

  void Release() {
    if (!released_.exchange(true)) release_.set_value();
  }

  std::unique_ptr<Scheduler> scheduler_;
  std::map<std::string, InferRequest> requests_;  // node-based: addresses stay valid
  std::map<std::string, std::shared_future<void>> futures_;
  std::mutex mu_;
  std::map<std::string, std::thread::id> ran_on_;
  std::promise<void> release_;
  std::shared_future<void> gate_ = release_.get_future().share();
  std::atomic<bool> released_{false};
};

TEST_F(InlineRunTest, CheapRunsRunOnTheCallingThreadOnceTheirLengthIsKnown) {
  Start(1, 1s);
  requests_["first"];
  requests_["second"];
  SendAndMeasure("first");  // no run measured yet: on the worker
  EXPECT_NE(RanOn("first"), std::this_thread::get_id());
  EXPECT_TRUE(Send("second"));  // answered before Enqueue returned
  EXPECT_EQ(RanOn("second"), std::this_thread::get_id());
}

TEST_F(InlineRunTest, OffWhenDisabledWithBatchingOrForLongRuns) {
  for (int mode = 0; mode < 3; ++mode) {
    SCOPED_TRACE(mode);
    requests_.clear();
    futures_.clear();
    if (mode == 0) Start(1, 0us);
    if (mode == 1) Start(1, 1s, DynamicBatchingConfig{});
    if (mode == 2) Start(1, 1us);
    requests_["slow"];
    requests_["next"];
    SendAndMeasure("slow");
    Send("next");
    ASSERT_TRUE(Wait("next"));
    EXPECT_NE(RanOn("next"), std::this_thread::get_id());
    scheduler_.reset();
  }
}

TEST_F(InlineRunTest, InlineRunsTakeWorkerSlots) {
  Start(1, 1s);
  for (const char* id : {"first", "block", "queued"}) requests_[id];
  SendAndMeasure("first");
  // "block" runs inline on another thread and holds the only slot.
  std::thread caller([this] { Send("block"); });
  WaitRunning("block");
  EXPECT_FALSE(Send("queued"));  // the slot is taken: queued, not run inline
  EXPECT_EQ(futures_.at("queued").wait_for(50ms), std::future_status::timeout);
  EXPECT_EQ(scheduler_->queued(), 1u);  // the idle worker does not take it either
  Release();
  caller.join();
  ASSERT_TRUE(Wait("queued"));
  EXPECT_NE(RanOn("queued"), std::this_thread::get_id());
  EXPECT_NE(RanOn("queued"), RanOn("block"));
}

TEST_F(InlineRunTest, InlineRunsOverlapWhileASlotIsFree) {
  Start(2, 1s);
  for (const char* id : {"first", "block", "second"}) requests_[id];
  SendAndMeasure("first");
  // "block" holds one of the two slots, inline on another thread; the
  // other slot is free and nothing is queued, so "second" runs inline too.
  std::thread caller([this] { Send("block"); });
  WaitRunning("block");
  EXPECT_TRUE(Send("second"));
  EXPECT_EQ(RanOn("second"), std::this_thread::get_id());
  Release();
  caller.join();
}

TEST_F(InlineRunTest, ShutdownWaitsForInlineRuns) {
  Start(1, 1s);
  requests_["first"];
  requests_["block"];
  SendAndMeasure("first");
  std::thread caller([this] { Send("block"); });
  WaitRunning("block");
  auto shutdown = std::async(std::launch::async, [this] { scheduler_->Shutdown(); });
  EXPECT_EQ(shutdown.wait_for(50ms), std::future_status::timeout);
  Release();
  shutdown.get();
  caller.join();
  EXPECT_TRUE(Wait("block"));
}

}  // namespace
}  // namespace tessera
