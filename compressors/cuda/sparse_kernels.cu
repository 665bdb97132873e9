// Kernels of sparse_kernels.h. Top-k uses CUB's radix sort, which is stable: sorting the
// magnitude bits in descending order keeps equal magnitudes in ascending index order, so the
// first k entries are exactly TopKIndices' set (largest |x|, ties to the lower index). The set is
// then sorted ascending. This moves about 8 x 4 bytes per element over the passes; a histogram
// select like the CPU's would be faster (docs/cuda.md).
#include <cuda_runtime.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <cub/device/device_radix_sort.cuh>

#include "common/cuda/cuda_check.h"
#include "common/cuda/launch.cuh"
#include "compressors/codec_math.h"
#include "compressors/cuda/sparse_kernels.h"

namespace hearsay::cuda {
namespace {

__global__ void SparseHeaderKernel(uint8_t* dst, uint8_t tag, uint8_t param, uint32_t d,
                                   uint32_t k) {
  dst[0] = tag;
  dst[1] = param;
  dst[2] = 0;
  dst[3] = 0;
  for (int i = 0; i < 4; ++i) {
    dst[4 + i] = static_cast<uint8_t>(d >> (8 * i));
    dst[8 + i] = static_cast<uint8_t>(k >> (8 * i));
  }
}

__global__ void RandKKernel(DitherKey dk, uint64_t d, uint64_t k, uint32_t* idx) {
  HEARSAY_GRID_LOOP(j, k) {
    const uint64_t lo = j * d / k, hi = (j + 1) * d / k;
    const uint64_t pick = (static_cast<uint64_t>(DitherWord(dk, j)) * (hi - lo)) >> 32;
    idx[j] = static_cast<uint32_t>(lo + pick);
  }
}

__global__ void MagnitudeKeysKernel(const float* x, size_t d, uint32_t* keys, uint32_t* ids,
                                    unsigned long long* bad, unsigned long long bad_value) {
  bool nonfinite = false;
  HEARSAY_GRID_LOOP(i, d) {
    const uint32_t a = FloatBits(x[i]) & 0x7FFFFFFFu;
    nonfinite |= a >= 0x7F800000u;
    keys[i] = a;
    ids[i] = static_cast<uint32_t>(i);
  }
  if (nonfinite) atomicMin(bad, bad_value);
}

__global__ void GatherKernel(const float* x, const uint32_t* idx, uint64_t d, uint64_t k,
                             bool unbiased, float* vals) {
  HEARSAY_GRID_LOOP(j, k) {
    const float v = x[idx[j]];
    const uint32_t u = FloatBits(v);
    if ((u & 0x7FFFFFFFu) > 0x7F800000u) {
      vals[j] = BitsFloat(u | 0x00400000u);  // x86: NaN * s returns the NaN operand, quieted
    } else {
      const float s = unbiased ? static_cast<float>((j + 1) * d / k - j * d / k) : 1.0f;
      vals[j] = v * s;
    }
  }
}

__global__ void ScatterKernel(const uint32_t* idx, const float* vals, size_t k, float* y) {
  HEARSAY_GRID_LOOP(j, k) { y[idx[j]] = vals[j]; }
}

__global__ void TakeErrorKernel(unsigned long long* word, const unsigned long long* other) {
  if (*word == ~0ull) *word = *other;
}

size_t Align256(size_t b) { return (b + 255) / 256 * 256; }

}  // namespace

Status LaunchSparseHeader(uint8_t* dst, uint8_t tag, uint8_t param, uint32_t d, uint32_t k,
                          void* stream) {
  SparseHeaderKernel<<<1, 1, 0, AsStream(stream)>>>(dst, tag, param, d, k);
  return LaunchStatus("SparseHeaderKernel");
}

Status LaunchRandKIndices(uint32_t k0, uint32_t k1, size_t d, size_t k, uint32_t* idx,
                          void* stream) {
  if (k == 0) return Status::Ok();
  RandKKernel<<<GridBlocks(k), kThreads, 0, AsStream(stream)>>>(DitherKey{k0, k1}, d, k, idx);
  return LaunchStatus("RandKKernel");
}

Status LaunchTopKIndices(const float* x, size_t d, size_t k, uint32_t* idx, uint64_t* bad,
                         uint64_t bad_value, void* stream) {
  if (d > static_cast<size_t>(INT_MAX)) {
    return InvalidArgument("topk on the GPU: vector of " + std::to_string(d) +
                           " elements is longer than 2^31 - 1");
  }
  if (d == 0) return Status::Ok();
  const int n = static_cast<int>(d);
  size_t sort_bytes = 0, keep_bytes = 0;
  cub::DoubleBuffer<uint32_t> query_keys, query_ids;  // size queries only (no pointers read)
  HEARSAY_CUDA_RETURN_IF_ERROR(
      cub::DeviceRadixSort::SortPairsDescending(nullptr, sort_bytes, query_keys, query_ids, n, 0,
                                                31, AsStream(stream)),
      "topk: sort size query");
  HEARSAY_CUDA_RETURN_IF_ERROR(
      cub::DeviceRadixSort::SortKeys(nullptr, keep_bytes, query_keys, static_cast<int>(k), 0, 32,
                                     AsStream(stream)),
      "topk: index sort size query");
  const size_t vec = Align256(4 * d);
  const size_t temp = std::max(sort_bytes, keep_bytes);
  void* scratch = nullptr;
  HEARSAY_CUDA_RETURN_IF_ERROR(cudaMallocAsync(&scratch, 4 * vec + temp, AsStream(stream)),
                               "topk: scratch allocation");
  auto* base = static_cast<uint8_t*>(scratch);
  auto* keys0 = reinterpret_cast<uint32_t*>(base);
  auto* keys1 = reinterpret_cast<uint32_t*>(base + vec);
  auto* ids0 = reinterpret_cast<uint32_t*>(base + 2 * vec);
  auto* ids1 = reinterpret_cast<uint32_t*>(base + 3 * vec);
  void* temp_p = base + 4 * vec;
  // The work between allocation and release; the scratch is released whatever it returns.
  const Status st = [&]() -> Status {
    MagnitudeKeysKernel<<<GridBlocks(d), kThreads, 0, AsStream(stream)>>>(
        x, d, keys0, ids0, reinterpret_cast<unsigned long long*>(bad), bad_value);
    HEARSAY_RETURN_IF_ERROR(LaunchStatus("MagnitudeKeysKernel"));
    cub::DoubleBuffer<uint32_t> keys(keys0, keys1), ids(ids0, ids1);
    size_t b = temp;
    HEARSAY_CUDA_RETURN_IF_ERROR(
        cub::DeviceRadixSort::SortPairsDescending(temp_p, b, keys, ids, n, 0, 31, AsStream(stream)),
        "topk: magnitude sort");
    if (k == 0) return Status::Ok();
    // The first k ids are the kept set; sort them ascending, using the free key buffer.
    cub::DoubleBuffer<uint32_t> kept(ids.Current(), keys.Current());
    b = temp;
    HEARSAY_CUDA_RETURN_IF_ERROR(cub::DeviceRadixSort::SortKeys(
                                     temp_p, b, kept, static_cast<int>(k), 0, 32, AsStream(stream)),
                                 "topk: index sort");
    return CudaStatus(
        cudaMemcpyAsync(idx, kept.Current(), 4 * k, cudaMemcpyDeviceToDevice, AsStream(stream)),
        "topk: copy of the indices");
  }();
  const Status freed =
      CudaStatus(cudaFreeAsync(scratch, AsStream(stream)), "topk: scratch release");
  return st.ok() ? freed : st;
}

Status LaunchSparseGather(const float* x, const uint32_t* idx, size_t d, size_t k, bool unbiased,
                          float* vals, void* stream) {
  if (k == 0) return Status::Ok();
  GatherKernel<<<GridBlocks(k), kThreads, 0, AsStream(stream)>>>(x, idx, d, k, unbiased, vals);
  return LaunchStatus("GatherKernel");
}

Status LaunchSparseScatter(const uint32_t* idx, const float* vals, size_t k, float* y,
                           void* stream) {
  if (k == 0) return Status::Ok();
  ScatterKernel<<<GridBlocks(k), kThreads, 0, AsStream(stream)>>>(idx, vals, k, y);
  return LaunchStatus("ScatterKernel");
}

Status LaunchTakeErrorIfNone(uint64_t* word, const uint64_t* other, void* stream) {
  TakeErrorKernel<<<1, 1, 0, AsStream(stream)>>>(
      reinterpret_cast<unsigned long long*>(word),
      reinterpret_cast<const unsigned long long*>(other));
  return LaunchStatus("TakeErrorKernel");
}

}  // namespace hearsay::cuda
