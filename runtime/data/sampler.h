// MinibatchSampler: a peer's minibatches over its partition, counter-based.
//
// The batch of round t is a pure function of (seed, peer, t): the partition is visited epoch by
// epoch without replacement, epoch e in the order of a random permutation keyed by
// (seed, peer, e); round t (1-based) takes positions (t-1)*B .. t*B-1 of that endless sequence.
// So Next(t) returns the same rows whatever was asked before (restarts, replays, skipped rounds).
// A batch_size < 1 or >= the partition size means full batch (all rows, every round).
//
// The returned Batch is a gather view (Batch::row_index) into `data`: the features are not copied,
// only the row numbers and the labels of the batch are written.
//
// Ownership: keeps a reference to `data` (which must outlive the sampler) and owns the row numbers
// and labels that the returned Batch points into; the Batch stays valid until the next Next().
// Thread-safety: none (Next mutates scratch); copies are independent.
#pragma once

#include <cstdint>
#include <vector>

#include "runtime/data/dataset.h"

namespace hearsay {

class MinibatchSampler {
 public:
  MinibatchSampler(const Dataset& data, std::vector<int64_t> indices, int64_t batch_size,
                   uint64_t seed, int peer);

  // Batch of round `round` (1-based; rounds below 1 are treated as 1).
  Batch Next(int64_t round);

  int64_t batch_size() const { return batch_size_; }
  const std::vector<int64_t>& indices() const { return indices_; }

 private:
  // Permutation of epoch e (cached: the current and the previous one).
  const std::vector<int64_t>& EpochOrder(int64_t epoch);

  const Dataset* data_;
  std::vector<int64_t> indices_;
  int64_t batch_size_;
  uint64_t seed_;
  int peer_;
  int64_t cached_epoch_[2] = {-1, -1};
  std::vector<int64_t> cached_order_[2];
  int next_slot_ = 0;
  std::vector<int64_t> rows_;
  std::vector<int32_t> labels_;
};

}  // namespace hearsay
