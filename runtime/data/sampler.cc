#include "runtime/data/sampler.h"

#include <algorithm>
#include <numeric>
#include <utility>

#include "runtime/data/random_draws.h"

namespace hearsay {
namespace {
constexpr uint32_t kTensorSampler = 32;
}  // namespace

MinibatchSampler::MinibatchSampler(const Dataset& data, std::vector<int64_t> indices,
                                   int64_t batch_size, uint64_t seed, int peer)
    : data_(&data), indices_(std::move(indices)), seed_(seed), peer_(peer) {
  const auto n = static_cast<int64_t>(indices_.size());
  batch_size_ = (batch_size < 1 || batch_size >= n) ? n : batch_size;
  rows_.resize(static_cast<size_t>(batch_size_));
  labels_.resize(static_cast<size_t>(batch_size_));
}

const std::vector<int64_t>& MinibatchSampler::EpochOrder(int64_t epoch) {
  for (int s = 0; s < 2; ++s) {
    if (cached_epoch_[s] == epoch) return cached_order_[s];
  }
  const int s = next_slot_;
  next_slot_ = 1 - next_slot_;
  std::vector<int64_t>& order = cached_order_[s];
  order.resize(indices_.size());
  std::iota(order.begin(), order.end(), int64_t{0});
  // Fisher-Yates with counter-based draws: step k uses draw k of the epoch's stream.
  const RngKey key{seed_, static_cast<uint32_t>(peer_), static_cast<uint32_t>(epoch), kStreamData,
                   kTensorSampler};
  for (size_t k = order.size(); k > 1; --k) {
    const auto j = static_cast<size_t>(UniformIntAt(key, k, k));
    std::swap(order[k - 1], order[j]);
  }
  cached_epoch_[s] = epoch;
  return order;
}

Batch MinibatchSampler::Next(int64_t round) {
  const auto n = static_cast<int64_t>(indices_.size());
  const int64_t d = data_->num_features;
  if (round < 1) round = 1;
  for (int64_t k = 0; k < batch_size_; ++k) {
    int64_t local = k;  // full batch: every row in partition order
    if (batch_size_ < n) {
      const int64_t pos = (round - 1) * batch_size_ + k;
      local = EpochOrder(pos / n)[static_cast<size_t>(pos % n)];
    }
    const int64_t row = indices_[static_cast<size_t>(local)];
    rows_[static_cast<size_t>(k)] = row;
    labels_[static_cast<size_t>(k)] = data_->labels[static_cast<size_t>(row)];
  }
  // The rows are a random pick of this peer's shard, cold when many peers share the machine (the
  // simulator's thousands): ask for all their cache lines now, so that the misses overlap instead
  // of stalling the gradient row by row. Only for batches that fit in a core's L2 cache (larger
  // ones would evict their first rows before the gradient reads them).
  const float* base = data_->features.data();
  const bool prefetch = batch_size_ * d * static_cast<int64_t>(sizeof(float)) <= (256 << 10);
  for (int64_t k = 0; prefetch && k < batch_size_ && d > 0; ++k) {
    const char* row = reinterpret_cast<const char*>(base + rows_[static_cast<size_t>(k)] * d);
    const size_t bytes = static_cast<size_t>(d) * sizeof(float);
    for (size_t off = 0; off < bytes; off += 64) __builtin_prefetch(row + off);
    __builtin_prefetch(row + bytes - 1);
  }
  // A view of the dataset's own rows: copying them (batch x d floats per round) cost more than a
  // tenth of a small model's gradient.
  return Batch{base, labels_.data(), batch_size_, d, rows_.data()};
}

}  // namespace hearsay
