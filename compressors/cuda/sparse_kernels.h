// Device building blocks of the sparsifiers topk, randk, randk_unbiased and then(C1, C2)
// (compressors/sparse.h is the CPU oracle; layouts in docs/compressors.md). Plain C++ launchers:
// pointers are device pointers, `stream` is a cudaStream_t (nullptr = default stream); launchers
// only enqueue work (scratch is allocated and freed stream-ordered, cudaMallocAsync) and return
// the launch Status.
//
// Index sets are exactly the CPU's: top-k keeps the k largest |x| (compared as magnitude bits),
// ties to the lower index, ascending; rand-k derives index j from the counter hash keyed by
// (key, kStreamCodecIndex) at counter j, as RandKIndices.
// Thread-safety: launchers are thread-safe; buffers belong to the caller.
#pragma once

#include <cstddef>
#include <cstdint>

#include "common/status.h"

namespace hearsay::cuda {

// Writes the 12 bytes common header (tag, param, 0, 0, d) + k (uint32 LE) at dst.
Status LaunchSparseHeader(uint8_t* dst, uint8_t tag, uint8_t param, uint32_t d, uint32_t k,
                          void* stream);

// idx[j] = lo_j + (DitherWord((k0, k1), j) * (hi_j - lo_j)) >> 32, lo_j = j d / k,
// hi_j = (j + 1) d / k, for j < k (idx: k uint32, 4-byte aligned).
Status LaunchRandKIndices(uint32_t k0, uint32_t k1, size_t d, size_t k, uint32_t* idx,
                          void* stream);

// The top-k index set of x[0, d) into idx[0, k), ascending (d < 2^31). Sets *bad to `bad_value`
// (atomic min) when x holds a NaN or infinity; does not reset it. Stable radix sort of the
// magnitude bits (descending), then an ascending sort of the first k indices.
Status LaunchTopKIndices(const float* x, size_t d, size_t k, uint32_t* idx, uint64_t* bad,
                         uint64_t bad_value, void* stream);

// vals[j] = x[idx[j]] * scale_j, scale_j = 1 (topk, randk) or the size of stratum j
// (randk_unbiased: (j + 1) d / k - j d / k). NaNs come out as the CPU's float multiply gives them
// (quiet bit set, payload kept). vals: k floats, 4-byte aligned.
Status LaunchSparseGather(const float* x, const uint32_t* idx, size_t d, size_t k, bool unbiased,
                          float* vals, void* stream);

// y[idx[j]] = vals[j] for j < k (y must already hold zeros elsewhere).
Status LaunchSparseScatter(const uint32_t* idx, const float* vals, size_t k, float* y,
                           void* stream);

// *word = *other when *word == UINT64_MAX (combines a sparsifier's and its value codec's errors).
Status LaunchTakeErrorIfNone(uint64_t* word, const uint64_t* other, void* stream);

}  // namespace hearsay::cuda
