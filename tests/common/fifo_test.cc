#include "common/fifo.h"

#include <deque>
#include <memory>

#include <gtest/gtest.h>

namespace hearsay {
namespace {

// Against std::deque through pushes and pops that cross the compaction point many times, with
// the queue never drained (so compaction, not the clear on empty, keeps it bounded).
TEST(Fifo, KeepsOrderThroughCompactionAndMatchesADeque) {
  Fifo<int> fifo;
  std::deque<int> ref;
  int next = 0;
  for (int step = 0; step < 5000; ++step) {
    const int pushes = 1 + (step * 7) % 5;  // 1..5
    for (int k = 0; k < pushes; ++k) {
      fifo.push_back(next);
      ref.push_back(next);
      ++next;
    }
    const int pops = (step * 3) % 6;  // 0..5, on average fewer than pushed early, more later
    for (int k = 0; k < pops && ref.size() > 1; ++k) {
      ASSERT_EQ(fifo.front(), ref.front()) << "step " << step;
      fifo.pop_front();
      ref.pop_front();
    }
    ASSERT_EQ(fifo.size(), ref.size());
    ASSERT_FALSE(fifo.empty());
  }
  while (!ref.empty()) {
    ASSERT_EQ(fifo.front(), ref.front());
    fifo.pop_front();
    ref.pop_front();
  }
  EXPECT_TRUE(fifo.empty());
  EXPECT_EQ(fifo.size(), 0u);
  fifo.push_back(42);  // usable again after draining
  EXPECT_EQ(fifo.front(), 42);
}

TEST(Fifo, HoldsMoveOnlyValues) {
  Fifo<std::unique_ptr<int>> fifo;
  for (int i = 0; i < 40; ++i) fifo.push_back(std::make_unique<int>(i));
  for (int i = 0; i < 40; ++i) {
    ASSERT_EQ(*fifo.front(), i);
    fifo.pop_front();
  }
  EXPECT_TRUE(fifo.empty());
}

}  // namespace
}  // namespace hearsay
