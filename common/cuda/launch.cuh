// Kernel launch helpers shared by every .cu file of the CUDA backend (compressors/cuda,
// runtime/cuda, runtime/model/cuda): the block size, the grid size for a number of work items,
// the grid-stride loop, and the cast of the opaque stream handle that the plain-C++ launcher
// headers carry (a `void*` holding a cudaStream_t, so they need no CUDA header).
//
// Device code only (include from .cu files). Thread-safety: pure functions and constants.
#pragma once

#include <cuda_runtime.h>

#include <algorithm>
#include <cstddef>

namespace hearsay::cuda {

// Threads per block of every grid-stride kernel; block-wide reductions size their shared
// memory by it.
inline constexpr int kThreads = 256;

// Grids are capped so that huge vectors loop (grid-stride) instead of launching millions of
// blocks; 2^20 blocks of 256 threads cover 2^28 items per sweep.
inline constexpr size_t kMaxGridBlocks = size_t{1} << 20;

// The cudaStream_t behind a launcher's `void* stream` (nullptr = the legacy default stream).
inline cudaStream_t AsStream(void* stream) { return static_cast<cudaStream_t>(stream); }

// Blocks for `items` work items, one per thread: at least 1 (a launch with 0 blocks is a
// configuration error, and kernels guard their own bounds) and at most `max_blocks`.
inline unsigned GridBlocks(size_t items, size_t max_blocks = kMaxGridBlocks) {
  const size_t b = (items + kThreads - 1) / kThreads;
  return static_cast<unsigned>(std::max<size_t>(1, std::min(b, max_blocks)));
}

}  // namespace hearsay::cuda

// for (size_t i = first item of this thread; i < n; i += threads in the grid).
#define HEARSAY_GRID_LOOP(i, n)                                                          \
  for (size_t i = blockIdx.x * size_t{::hearsay::cuda::kThreads} + threadIdx.x; i < (n); \
       i += size_t{gridDim.x} * ::hearsay::cuda::kThreads)
