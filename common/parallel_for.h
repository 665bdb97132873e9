// ParallelFor: splits [0, n) into contiguous blocks and runs them on up to the machine's cores
// (the caller's thread takes one block), for bulk work whose items are independent and whose
// result does not depend on how they are split -- e.g. generating a synthetic data set, each
// value a pure function of its index. Returns when every block is done.
//
// Errors: an exception thrown by a block is rethrown on the caller's thread after all blocks
// have ended (the first one, by block order); other blocks still run to their end. When a thread
// cannot be started, its blocks run on the caller's thread instead.
// Thread-safety: `body` is called concurrently on disjoint ranges.
#pragma once

#include <cstdint>
#include <functional>

namespace hearsay {

// min_block: the fewest items worth a thread of their own (at least 1); fewer than 2 * min_block
// items run on the caller's thread alone. max_threads: 0 = the machine's hardware concurrency.
void ParallelFor(int64_t n, int64_t min_block, const std::function<void(int64_t, int64_t)>& body,
                 int max_threads = 0);

}  // namespace hearsay
