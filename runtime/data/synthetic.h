// Synthetic classification data, reproducible from a seed.
//
// Generative model (documented so that results can be compared across versions):
//   - class centres: mu_c = separation * u_c, where u_c is a Gaussian random vector in R^d
//     normalised to unit length (a random point on the sphere), c = 0..classes-1;
//   - example i: label y_i uniform in {0..classes-1}, features x_i = mu_{y_i} + N(0, I_d);
//   - label noise: with probability `noise` the stored label is replaced by a uniformly drawn
//     *different* class (so `noise` is the fraction of flipped labels, and no feature changes).
// All draws come from common/random.h keyed by (seed, stream kStreamData), so the same config
// gives the same bytes on every host.
// Thread-safety: pure function.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "common/status.h"
#include "runtime/data/dataset.h"

namespace hearsay {

struct SyntheticConfig {
  int64_t samples = 4000;   // number of examples (>= 1)
  int64_t features = 32;    // dimension d (>= 1)
  int32_t classes = 4;      // number of classes (>= 2)
  double noise = 0.1;       // fraction of flipped labels, in [0, 1)
  double separation = 2.0;  // distance of every class centre from the origin (>= 0)
  uint64_t seed = 1;        // generation seed
};

// Errors: any field out of range (the message names the field and its valid range).
Result<Dataset> MakeSynthetic(const SyntheticConfig& config);

// The stored labels of all `samples` examples, as MakeSynthetic gives them, without generating a
// feature (one draw or two per example instead of `features`).
Result<std::vector<int32_t>> SyntheticLabels(const SyntheticConfig& config);

// Examples `rows` of the full set (indices in [0, samples), any order, repeats allowed), in that
// order: the same bytes as Gather(MakeSynthetic(config), rows) (runtime/data/partition.h), at
// the cost of those rows only. What a peer process uses to build its own shard.
// Errors: as MakeSynthetic; a row outside [0, samples).
Result<Dataset> MakeSyntheticRows(const SyntheticConfig& config, std::span<const int64_t> rows);

}  // namespace hearsay
