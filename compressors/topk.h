// Exact top-k selection without sorting, for the topk sparsifier (sparse.h).
//
// The set is defined by the tie rule documented in docs/compressors.md: compare magnitudes as the
// bits of |x| (so -0 and +0 are equal, and the order is |x|'s), keep the k largest, and among
// equal magnitudes at the boundary keep the lower indices. Output indices are ascending.
//
// How (docs/compressors.md "topk"): a threshold t is read off a fixed-stride sample of the
// magnitudes, set a few standard deviations below the sample's estimate of the k-th largest, so
// that at least k elements reach it; one streaming pass collects every element with magnitude >= t
// (index and value, in index order) and checks for NaN/infinity; the exact k-th largest magnitude
// among those candidates is found with a selection (nth_element, linear time), and one pass over
// the candidates keeps what is above it plus the first equal ones. If the sample misled -- fewer
// than k candidates, or far more than expected -- a 65536-bin radix select over all of x gives the
// same set. Either way the result does not depend on the sample, only the time does.
//
// Thread-safety: a TopKSelector keeps scratch buffers between calls (one per encoder); distinct
// instances are independent.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "common/status.h"

namespace hearsay {

class TopKSelector {
 public:
  // The k indices of x to keep (ascending) in *idx and their values x[idx[j]] in *vals (both
  // resized to k). InvalidArgument "topk: input has a NaN or infinite value" if x has one.
  // With `accumulate` (x's size): selects over p = x + accumulate instead, formed in place
  // (accumulate[i] = x[i] + accumulate[i] for every i, also on error) in the same streaming pass
  // as the selection -- ef(topk)'s residual update (sparse.cc).
  Status Select(std::span<const float> x, size_t k, std::vector<uint32_t>* idx,
                std::vector<float>* vals, std::span<float> accumulate = {});

 private:
  // The radix select used when the sample's threshold does not hold.
  void SelectByHistogram(std::span<const float> x, size_t k, std::vector<uint32_t>* idx,
                         std::vector<float>* vals);

  std::vector<uint32_t> sample_;     // sampled magnitudes
  std::vector<uint32_t> cand_idx_;   // candidates: index ...
  std::vector<float> cand_val_;      // ... and value, in index order
  std::vector<uint32_t> cand_keys_;  // their magnitudes, reordered by the selection
  std::vector<uint32_t> hist_;       // radix-select histogram (fallback)
};

}  // namespace hearsay
