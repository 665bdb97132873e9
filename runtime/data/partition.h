// Splitting a dataset: train/test split and per-peer partitions.
//
// Both are pure functions of their arguments and seed (shuffles use common/random.h with stream
// kStreamData), so every peer computes the same split and partition independently.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <vector>

#include "runtime/data/dataset.h"

namespace hearsay {

struct TrainTest {
  Dataset train;
  Dataset test;
};

// Moves a random round(test_fraction * n) examples (test_fraction clamped to [0, 1]) to `test`;
// both keep the original relative order of their examples and the source's num_classes.
TrainTest SplitTrainTest(const Dataset& data, double test_fraction, uint64_t seed);

enum class PartitionMode {
  kIid,          // a random permutation cut into num_peers near-equal chunks
  kLabelSorted,  // sorted by label (ties in random order), then cut: each peer sees few classes
};

// Row indices of `data` for each of num_peers peers; chunk sizes differ by at most one and every
// example belongs to exactly one peer. Returns an empty vector when num_peers < 1.
std::vector<std::vector<int64_t>> PartitionIndices(const Dataset& data, int num_peers,
                                                   PartitionMode mode, uint64_t seed);

// Copies the listed rows of `data` into a new Dataset (same num_features and num_classes).
Dataset Gather(const Dataset& data, const std::vector<int64_t>& rows);

}  // namespace hearsay
