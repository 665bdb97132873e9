#include "common/parallel_for.h"

#include <algorithm>
#include <exception>
#include <system_error>
#include <thread>
#include <vector>

namespace hearsay {

void ParallelFor(int64_t n, int64_t min_block, const std::function<void(int64_t, int64_t)>& body,
                 int max_threads) {
  if (n <= 0) return;
  min_block = std::max<int64_t>(1, min_block);
  int64_t threads = max_threads > 0 ? max_threads : std::thread::hardware_concurrency();
  threads = std::clamp<int64_t>(std::min(threads, n / min_block), 1, n);
  if (threads == 1) {
    body(0, n);
    return;
  }
  std::vector<std::exception_ptr> errors(static_cast<size_t>(threads));
  const auto run = [&](int64_t t) {
    try {
      body(n * t / threads, n * (t + 1) / threads);
    } catch (...) {
      errors[static_cast<size_t>(t)] = std::current_exception();
    }
  };
  std::vector<std::thread> workers;
  std::vector<int64_t> inline_blocks;
  workers.reserve(static_cast<size_t>(threads - 1));
  for (int64_t t = 1; t < threads; ++t) {
    try {
      workers.emplace_back(run, t);
    } catch (const std::system_error&) {
      inline_blocks.push_back(t);  // no thread to be had: this one runs here
    }
  }
  run(0);
  for (int64_t t : inline_blocks) run(t);
  for (std::thread& w : workers) w.join();
  for (const std::exception_ptr& e : errors) {
    if (e) std::rethrow_exception(e);
  }
}

}  // namespace hearsay
