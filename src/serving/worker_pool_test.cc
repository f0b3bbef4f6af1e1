#include "serving/worker_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>

namespace tessera {
namespace {

TEST(WorkerPoolTest, RunsEveryTaskBeforeShutdownReturns) {
  std::atomic<int> done{0};
  WorkerPool pool("m", 3, 100);
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(pool.Submit([&] { ++done; }).ok());
  pool.Shutdown();
  EXPECT_EQ(done.load(), 50);
  EXPECT_EQ(pool.Submit([] {}).code(), StatusCode::kUnavailable);
}

TEST(WorkerPoolTest, FullQueueIsResourceExhausted) {
  std::promise<void> release;
  auto gate = release.get_future().share();
  WorkerPool pool("m", 1, 2);
  std::promise<void> started;
  ASSERT_TRUE(pool.Submit([&] { started.set_value(); gate.wait(); }).ok());
  started.get_future().wait();  // the worker is busy; the queue is empty
  EXPECT_TRUE(pool.Submit([gate] {}).ok());
  EXPECT_TRUE(pool.Submit([gate] {}).ok());
  Status full = pool.Submit([] {});
  EXPECT_EQ(full.code(), StatusCode::kResourceExhausted);
  EXPECT_NE(full.message().find("queue of m is full"), std::string::npos);
  release.set_value();
}

TEST(WorkerPoolTest, ThreadStartHookRunsOncePerWorker) {
  std::atomic<int> started{0};
  { WorkerPool pool("m", 4, 1, [&] { ++started; }); }
  EXPECT_EQ(started.load(), 4);
}

}  // namespace
}  // namespace tessera
