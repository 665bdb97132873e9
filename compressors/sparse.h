// Sparsifiers: topk:ratio, randk:ratio, randk_unbiased:ratio, and then(C1, C2) which encodes the
// kept values of a sparsifier C1 with any codec C2 (e.g. then(topk:0.01, natural)).
//
// k = ceil(ratio * d) clamped to [1, d] (0 for an empty vector). top-k sends k ascending uint32
// indices; rand-k sends no indices: sender and receivers derive the same k indices from the
// shared RngKey (stream kStreamCodecIndex) with RandKIndices. Layouts: docs/compressors.md.
//
// Thread-safety: Encode uses per-instance scratch (one instance per sender); Decode is const.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "compressors/compressor.h"

namespace hearsay {

enum class SparseKind { kTopK, kRandK, kRandKUnbiased };

// Number of kept elements for a ratio in (0, 1] and a vector of d elements.
size_t SparseK(double ratio, size_t d);

// The rand-k index set: stratified sampling, one uniform index in each of the k strata
// [floor(j d / k), floor((j + 1) d / k)), j = 0..k-1, drawn with the counter hash keyed by
// (key, stream kStreamCodecIndex) at counter j. Ascending; every index is kept with probability
// 1 / (its stratum's size), and randk_unbiased scales by that size (d / k when k divides d).
std::vector<uint32_t> RandKIndices(const RngKey& key, size_t d, size_t k);

// The k indices top-k keeps: largest |x|, ties broken by the lower index; ascending.
// Returns InvalidArgument for NaN or infinite input.
Result<std::vector<uint32_t>> TopKIndices(std::span<const float> x, size_t k);

// values == nullptr: kept values travel as raw fp32. Otherwise they are encoded by `values`
// (the then(C1, C2) combinator).
std::unique_ptr<Compressor> MakeSparseCodec(SparseKind kind, double ratio,
                                            std::unique_ptr<Compressor> values);

}  // namespace hearsay
