// JobThread: jobs run one at a time on one thread that is kept between them; Wait returns once
// the job has returned; a throwing job is contained; the destructor waits for the job in flight.
#include "common/job_thread.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <set>
#include <stdexcept>
#include <thread>

namespace hearsay {
namespace {

TEST(JobThread, RunsEveryJobOnOneThreadKeptBetweenJobs) {
  JobThread jt;
  std::set<std::thread::id> ids;
  int sum = 0;
  for (int i = 1; i <= 100; ++i) {
    jt.Start([&, i] {
      ids.insert(std::this_thread::get_id());
      sum += i;
    });
    jt.Wait();
  }
  EXPECT_EQ(sum, 5050);
  ASSERT_EQ(ids.size(), 1u);
  EXPECT_NE(*ids.begin(), std::this_thread::get_id());
}

TEST(JobThread, WaitReturnsOnlyOnceTheJobHasReturned) {
  JobThread jt;
  std::atomic<bool> release{false}, finished{false};
  jt.Start([&] {
    while (!release.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    finished = true;
  });
  EXPECT_TRUE(jt.busy());
  std::thread releaser([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    release = true;
  });
  jt.Wait();
  EXPECT_TRUE(finished.load());
  EXPECT_FALSE(jt.busy());
  releaser.join();
  jt.Wait();  // nothing in flight: at once
}

TEST(JobThread, AThrowingJobIsContainedAndTheThreadLivesOn) {
  JobThread jt;
  jt.Start([] { throw std::runtime_error("boom"); });
  jt.Wait();
  bool ran = false;
  jt.Start([&] { ran = true; });
  jt.Wait();
  EXPECT_TRUE(ran);
}

TEST(JobThread, TheDestructorWaitsForTheJobInFlight) {
  std::atomic<bool> finished{false};
  {
    JobThread jt;
    jt.Start([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      finished = true;
    });
  }
  EXPECT_TRUE(finished.load());
  JobThread unused;  // never started: nothing to end
}

}  // namespace
}  // namespace hearsay
