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

// Which examples of n SplitTrainTest puts in each set (ascending indices), without the data.
struct TrainTestRows {
  std::vector<int64_t> train;
  std::vector<int64_t> test;
};
TrainTestRows SplitTrainTestRows(int64_t n, double test_fraction, uint64_t seed);

enum class PartitionMode {
  kIid,          // a random permutation cut into num_peers near-equal chunks
  kLabelSorted,  // sorted by label (ties in random order), then cut: each peer sees few classes
  kDirichlet,    // per class, Dirichlet(alpha) proportions over peers: non-iid label skew
};

// "iid" | "label_sorted" | "dirichlet": the names experiment files use.
const char* PartitionName(PartitionMode mode);

// The Dirichlet concentration's valid range: (0, kMaxDirichletAlpha]. Above ~100 the shares are
// iid in all but name.
inline constexpr double kMaxDirichletAlpha = 1e6;

// Row indices of `data` for each of num_peers peers; every example belongs to exactly one peer.
// Returns an empty vector when num_peers < 1.
//
// iid and label_sorted: chunk sizes differ by at most one.
// dirichlet (the usual non-iid benchmark, Hsu et al. 2019): for each class c, proportions
// p_c ~ Dirichlet(alpha, ..., alpha) over the peers (drawn as normalised Gamma(alpha) variates,
// counter-based: keyed by seed, class and peer), and the examples of c, in random order, are cut
// at the cumulative proportions (peer k gets positions [round(n_c * P_{k-1}), round(n_c * P_k))).
// Small alpha gives each peer few classes; large alpha approaches iid. Peer sizes are not
// balanced. Every peer non-empty (when data.size() >= num_peers): after the draw, each empty
// peer, in id order, takes one example from the peer that then holds the most (lowest id among
// ties): the last-placed example of that peer's largest class (lowest class among ties). This
// moves at most num_peers - 1 examples and keeps the skew. alpha outside (0, kMaxDirichletAlpha]
// is clamped into it (callers validate it; the experiment parser does).
std::vector<std::vector<int64_t>> PartitionIndices(const Dataset& data, int num_peers,
                                                   PartitionMode mode, uint64_t seed,
                                                   double alpha = 0.5);

// Copies the listed rows of `data` into a new Dataset (same num_features and num_classes).
Dataset Gather(const Dataset& data, const std::vector<int64_t>& rows);

}  // namespace hearsay
