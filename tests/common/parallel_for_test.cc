#include "common/parallel_for.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

namespace hearsay {
namespace {

// Every index is visited exactly once, in contiguous blocks, whatever the split.
TEST(ParallelFor, VisitsEveryIndexOnceInContiguousBlocks) {
  for (int64_t n : {0, 1, 7, 100, 10007}) {
    for (int64_t min_block : {1, 3, 64, 100000}) {
      for (int threads : {1, 2, 5, 0}) {
        std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
        std::atomic<int64_t> blocks{0};
        ParallelFor(
            n, min_block,
            [&](int64_t begin, int64_t end) {
              EXPECT_LT(begin, end);
              ++blocks;
              for (int64_t i = begin; i < end; ++i) ++hits[static_cast<size_t>(i)];
            },
            threads);
        for (int64_t i = 0; i < n; ++i) ASSERT_EQ(hits[static_cast<size_t>(i)].load(), 1) << i;
        if (n > 0 && n < 2 * min_block) {
          EXPECT_EQ(blocks.load(), 1) << n << " " << min_block;
        }
        if (threads > 0) {
          EXPECT_LE(blocks.load(), threads);
        }
      }
    }
  }
}

TEST(ParallelFor, RunsBlocksOnSeveralThreads) {
  std::mutex mu;
  std::set<std::thread::id> ids;
  ParallelFor(
      4, 1,
      [&](int64_t, int64_t) {
        std::lock_guard<std::mutex> lock(mu);
        ids.insert(std::this_thread::get_id());
      },
      4);
  EXPECT_EQ(ids.size(), 4u);
  EXPECT_EQ(ids.count(std::this_thread::get_id()), 1u) << "the caller takes a block";
}

// A block's exception reaches the caller after every block has run.
TEST(ParallelFor, RethrowsABlocksExceptionAfterAllBlocksEnded) {
  std::atomic<int64_t> done{0};
  EXPECT_THROW(ParallelFor(
                   1000, 10,
                   [&](int64_t begin, int64_t end) {
                     if (begin <= 500 && 500 < end) throw std::runtime_error("row 500");
                     done += end - begin;
                   },
                   4),
               std::runtime_error);
  EXPECT_EQ(done.load(), 750);  // the three other quarters
}

}  // namespace
}  // namespace hearsay
