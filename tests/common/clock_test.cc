// Saturating deadline arithmetic (common/clock.h).
#include "common/clock.h"

#include <gtest/gtest.h>

#include <cmath>
#include <condition_variable>
#include <limits>
#include <mutex>

namespace hearsay {
namespace {

// Issue 8: `round_timeout: 1.0e10` passed validation and failed in round 1 with a wrong message:
// Now() + 1e10 s overflowed the clock's 64-bit nanoseconds into the past.
TEST(Clock, HugeTimeoutsSaturateInsteadOfWrappingIntoThePast) {
  const TimePoint now = Now();
  for (double s : {1.0e10, 1.0e300, std::numeric_limits<double>::infinity(),
                   std::numeric_limits<double>::max()}) {
    const TimePoint d = DeadlineIn(s);
    EXPECT_GT(d, now + std::chrono::hours(24 * 365)) << s;
  }
  EXPECT_EQ(DeadlineIn(std::numeric_limits<double>::infinity()), TimePoint::max());
  EXPECT_EQ(SaturatingAdd(TimePoint::max() - std::chrono::seconds(1), 10.0), TimePoint::max());
}

TEST(Clock, NanAndNegativeTimeoutsAreAlreadyExpired) {
  const TimePoint before = Now();
  const TimePoint nan_deadline = DeadlineIn(std::nan(""));
  const TimePoint negative_deadline = DeadlineIn(-5);
  const TimePoint after = Now();
  EXPECT_GE(nan_deadline, before);
  EXPECT_LE(nan_deadline, after);
  EXPECT_GE(negative_deadline, before);
  EXPECT_LE(negative_deadline, after);
  EXPECT_EQ(SaturatingAdd(before, -1.0), before);
}

TEST(Clock, OrdinaryTimeoutsAreExact) {
  const TimePoint t{};
  EXPECT_EQ(SaturatingAdd(t, 1.5), t + std::chrono::milliseconds(1500));
  EXPECT_EQ(SaturatingAdd(t, 0.0), t);
}

TEST(Clock, WaitingUntilASaturatedDeadlineWorks) {
  std::mutex mu;
  std::condition_variable cv;
  bool ready = true;
  std::unique_lock<std::mutex> lock(mu);
  EXPECT_TRUE(cv.wait_until(lock, DeadlineIn(1.0e10), [&] { return ready; }));
}

}  // namespace
}  // namespace hearsay
