// Kernels of codec_kernels.h. Compiled with -fmad=false: codec_math.h's per-element functions
// must round exactly like the host build (-ffp-contract=off).
//
// qsgd works in two passes: one warp per scale block computes the block's scale in the CPU's
// order, then one thread per group of 8 elements quantises, packs its `bits` plane bytes and its
// sign byte (blocks are multiples of 8, so a group never straddles two blocks or two bytes).
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>

#include "common/cuda/cuda_check.h"
#include "common/cuda/launch.cuh"
#include "compressors/codec_math.h"
#include "compressors/cuda/codec_kernels.h"

namespace hearsay::cuda {
namespace {

constexpr float kTinyScale = 0x1p-100f;  // as qsgd.cc
constexpr float kPrescale = 0x1p100f;

__device__ __forceinline__ void Apply(const DecodeApply& a, float* y, size_t k, float v) {
  switch (a.op) {
    case DecodeApply::Op::kStore:
      y[k] = v;
      break;
    case DecodeApply::Op::kAdd:
      y[k] = y[k] + v;
      break;
    case DecodeApply::Op::kAddWeighted:
      y[k] = y[k] + a.weight * v;
      break;
    case DecodeApply::Op::kAddWeightedAndSelf:
      y[k] = y[k] + a.weight * v;
      a.self[k] = a.self[k] + v;
      break;
    case DecodeApply::Op::kEcd:
      y[k] = static_cast<float>(a.a * static_cast<double>(y[k]) + a.b * static_cast<double>(v));
      break;
  }
}

__device__ __forceinline__ float LoadFloatBytes(const uint8_t* p) {
  const uint32_t u =
      uint32_t{p[0]} | (uint32_t{p[1]} << 8) | (uint32_t{p[2]} << 16) | (uint32_t{p[3]} << 24);
  return BitsFloat(u);
}

__global__ void HeaderKernel(uint8_t* dst, uint8_t tag, uint8_t param, uint32_t d) {
  dst[0] = tag;
  dst[1] = param;
  dst[2] = 0;
  dst[3] = 0;
  for (int i = 0; i < 4; ++i) dst[4 + i] = static_cast<uint8_t>(d >> (8 * i));
}

template <bool kBf16>
__global__ void HalfEncodeKernel(const float* x, size_t n, uint16_t* out) {
  HEARSAY_GRID_LOOP(k, n) { out[k] = kBf16 ? FloatToBf16Bits(x[k]) : FloatToHalfBits(x[k]); }
}

template <bool kBf16>
__global__ void HalfDecodeKernel(const uint16_t* in, size_t n, float* y, DecodeApply a) {
  HEARSAY_GRID_LOOP(k, n) {
    Apply(a, y, k, kBf16 ? Bf16BitsToFloat(in[k]) : HalfBitsToFloat(in[k]));
  }
}

__global__ void RawDecodeKernel(const float* in, size_t n, float* y, DecodeApply a) {
  HEARSAY_GRID_LOOP(k, n) { Apply(a, y, k, in[k]); }
}

// One warp per scale block. max |x| is an integer max of the magnitude bits (order-free); the
// 2-norm adds the exact double squares one by one from element 0, as SumSquares in qsgd.cc.
__global__ void QsgdScalesKernel(const float* x, size_t n, size_t block, bool l2, uint8_t* scales,
                                 unsigned long long* bad_block) {
  const unsigned lane = threadIdx.x & 31u;
  const size_t warps = size_t{gridDim.x} * (kThreads / 32);
  const size_t nb = (n + block - 1) / block;
  for (size_t b = (blockIdx.x * size_t{kThreads} + threadIdx.x) / 32; b < nb; b += warps) {
    const size_t lo = b * block;
    const size_t cnt = min(block, n - lo);
    float s;
    bool bad;
    if (!l2) {
      uint32_t m = 0;
      for (size_t i = lane; i < cnt; i += 32) {
        const uint32_t u = FloatBits(x[lo + i]) & 0x7FFFFFFFu;
        m = u > m ? u : m;
      }
      m = __reduce_max_sync(0xFFFFFFFFu, m);
      bad = m >= 0x7F800000u;
      s = BitsFloat(m);
    } else {
      double ss = 0;
      for (size_t c = 0; c < cnt; c += 32) {
        double p = 0;
        if (c + lane < cnt) {
          const double v = static_cast<double>(x[lo + c + lane]);
          p = v * v;
        }
        const int lim = static_cast<int>(min(size_t{32}, cnt - c));
        for (int j = 0; j < lim; ++j) ss += __shfl_sync(0xFFFFFFFFu, p, j);
      }
      bad = !isfinite(ss);
      s = static_cast<float>(sqrt(ss));
    }
    if (lane == 0) {
      const uint32_t u = FloatBits(s);
      for (int i = 0; i < 4; ++i) scales[4 * b + i] = static_cast<uint8_t>(u >> (8 * i));
      if (bad) atomicMin(bad_block, static_cast<unsigned long long>(lo));
    }
  }
}

__device__ __forceinline__ void QsgdStep(const uint8_t* scales, size_t b, int32_t max_level,
                                         float* prescale, float* inv_step) {
  const float s = LoadFloatBytes(scales + 4 * b);
  *prescale = s < kTinyScale ? kPrescale : 1.0f;
  *inv_step = s > 0 ? static_cast<float>(max_level) / (s * *prescale) : 0.0f;
}

__global__ void QsgdQuantizeKernel(const float* x, size_t n, size_t block, int bits,
                                   const uint8_t* scales, DitherKey dk, uint8_t* signs,
                                   uint8_t* planes) {
  const size_t groups = (n + 7) / 8;
  const int32_t max_level = (1 << bits) - 1;
  HEARSAY_GRID_LOOP(g, groups) {
    const size_t lo = g * 8;
    const int cnt = static_cast<int>(min(size_t{8}, n - lo));
    float prescale, inv_step;
    QsgdStep(scales, lo / block, max_level, &prescale, &inv_step);
    uint64_t acc = 0;
    uint32_t sign = 0;
    for (int j = 0; j < cnt; ++j) {
      const uint32_t u = FloatBits(x[lo + j]);
      sign |= (u >> 31) << j;
      const float a = BitsFloat(u & 0x7FFFFFFFu) * prescale;
      const uint32_t level = QsgdLevel(a, inv_step, max_level, DitherUniform(dk, lo + j));
      acc |= static_cast<uint64_t>(level) << (j * bits);
    }
    signs[g] = static_cast<uint8_t>(sign);
    const int nbytes = (cnt * bits + 7) / 8;
    for (int i = 0; i < nbytes; ++i) planes[g * bits + i] = static_cast<uint8_t>(acc >> (8 * i));
  }
}

__global__ void QsgdDecodeKernel(const uint8_t* scales, const uint8_t* signs, const uint8_t* planes,
                                 size_t n, size_t block, int bits, float* y, DecodeApply a) {
  const size_t groups = (n + 7) / 8;
  const int32_t max_level = (1 << bits) - 1;
  const uint64_t mask = (uint64_t{1} << bits) - 1;
  HEARSAY_GRID_LOOP(g, groups) {
    const size_t lo = g * 8;
    const int cnt = static_cast<int>(min(size_t{8}, n - lo));
    const float step = LoadFloatBytes(scales + 4 * (lo / block)) / static_cast<float>(max_level);
    const int nbytes = (cnt * bits + 7) / 8;
    uint64_t acc = 0;
    for (int i = 0; i < nbytes; ++i) acc |= static_cast<uint64_t>(planes[g * bits + i]) << (8 * i);
    const uint32_t sb = signs[g];
    for (int j = 0; j < cnt; ++j) {
      const auto level = static_cast<uint32_t>((acc >> (j * bits)) & mask);
      Apply(a, y, lo + j, QsgdValue(level, (sb >> j) & 1u, step));
    }
  }
}

__global__ void PackSignsKernel(const float* x, size_t n, uint8_t* signs) {
  HEARSAY_GRID_LOOP(g, (n + 7) / 8) {
    const size_t lo = g * 8;
    const int cnt = static_cast<int>(min(size_t{8}, n - lo));
    uint32_t b = 0;
    for (int j = 0; j < cnt; ++j) b |= (FloatBits(x[lo + j]) >> 31) << j;
    signs[g] = static_cast<uint8_t>(b);
  }
}

// natural.cc: MaxAbsBitsOf(x) > 2^127 (as bits) rejects the input; exponents per element.
__global__ void NaturalEncodeKernel(const float* x, size_t n, DitherKey dk, uint8_t* signs,
                                    uint8_t* exps, unsigned long long* too_large) {
  bool bad = false;
  HEARSAY_GRID_LOOP(g, (n + 7) / 8) {
    const size_t lo = g * 8;
    const int cnt = static_cast<int>(min(size_t{8}, n - lo));
    uint32_t b = 0;
    for (int j = 0; j < cnt; ++j) {
      const uint32_t u = FloatBits(x[lo + j]);
      const uint32_t a = u & 0x7FFFFFFFu;
      bad |= a > 0x7F000000u;
      b |= (u >> 31) << j;
      exps[lo + j] =
          static_cast<uint8_t>(NaturalExponent(a, DitherWord32(dk, static_cast<uint32_t>(lo + j))));
    }
    signs[g] = static_cast<uint8_t>(b);
  }
  if (bad) atomicMin(too_large, 0ull);
}

__global__ void NaturalDecodeKernel(const uint8_t* signs, const uint8_t* exps, size_t n, float* y,
                                    DecodeApply a) {
  HEARSAY_GRID_LOOP(k, n) {
    Apply(a, y, k, NaturalValue((signs[k >> 3] >> (k & 7)) & 1u, exps[k]));
  }
}

// One warp per block; the |x| are added in double one by one from the block's first element,
// in every lane (values broadcast in order), exactly like SumAbs.
__global__ void SignScalesKernel(const float* x, size_t n, size_t block, uint8_t* scales,
                                 unsigned long long* bad_block) {
  const unsigned lane = threadIdx.x & 31u;
  const size_t warps = size_t{gridDim.x} * (kThreads / 32);
  const size_t nb = (n + block - 1) / block;
  for (size_t b = (blockIdx.x * size_t{kThreads} + threadIdx.x) / 32; b < nb; b += warps) {
    const size_t lo = b * block;
    const size_t cnt = min(block, n - lo);
    double sum = 0;
    for (size_t c = 0; c < cnt; c += 32) {
      const double p = c + lane < cnt ? fabs(static_cast<double>(x[lo + c + lane])) : 0.0;
      const int lim = static_cast<int>(min(size_t{32}, cnt - c));
      for (int j = 0; j < lim; ++j) sum += __shfl_sync(0xFFFFFFFFu, p, j);
    }
    const float s = static_cast<float>(sum / static_cast<double>(cnt));
    if (lane == 0) {
      const uint32_t u = FloatBits(s);
      for (int i = 0; i < 4; ++i) scales[4 * b + i] = static_cast<uint8_t>(u >> (8 * i));
      if (!isfinite(s)) atomicMin(bad_block, static_cast<unsigned long long>(lo));
    }
  }
}

__global__ void SignDecodeKernel(const uint8_t* scales, const uint8_t* signs, size_t n,
                                 size_t block, float* y, DecodeApply a) {
  HEARSAY_GRID_LOOP(k, n) {
    const uint32_t s = FloatBits(LoadFloatBytes(scales + 4 * (k / block)));
    Apply(a, y, k, BitsFloat(s | (static_cast<uint32_t>((signs[k >> 3] >> (k & 7)) & 1u) << 31)));
  }
}

bool Aligned(const void* p, size_t a) { return reinterpret_cast<uintptr_t>(p) % a == 0; }

Status CheckBlockBits(const char* what, int block, int bits) {
  if (block < 8 || block % 8 != 0 || bits < 1 || bits > 8) {
    return InvalidArgument(std::string(what) + ": block " + std::to_string(block) + " / bits " +
                           std::to_string(bits) + " out of range (block multiple of 8, bits 1..8)");
  }
  return Status::Ok();
}

}  // namespace

Status LaunchWriteHeader(uint8_t* dst, uint8_t tag, uint8_t param, uint32_t d, void* stream) {
  HeaderKernel<<<1, 1, 0, AsStream(stream)>>>(dst, tag, param, d);
  return LaunchStatus("HeaderKernel");
}

Status LaunchHalfEncode(const float* x, size_t n, bool bf16, uint8_t* out, void* stream) {
  if (n == 0) return Status::Ok();
  if (!Aligned(out, 2)) return InvalidArgument("half encode: output not 2-byte aligned");
  auto* o = reinterpret_cast<uint16_t*>(out);
  if (bf16) {
    HalfEncodeKernel<true><<<GridBlocks(n), kThreads, 0, AsStream(stream)>>>(x, n, o);
  } else {
    HalfEncodeKernel<false><<<GridBlocks(n), kThreads, 0, AsStream(stream)>>>(x, n, o);
  }
  return LaunchStatus("HalfEncodeKernel");
}

Status LaunchHalfDecode(const uint8_t* in, size_t n, bool bf16, float* y, const DecodeApply& apply,
                        void* stream) {
  if (n == 0) return Status::Ok();
  if (!Aligned(in, 2)) return InvalidArgument("half decode: input not 2-byte aligned");
  const auto* i = reinterpret_cast<const uint16_t*>(in);
  if (bf16) {
    HalfDecodeKernel<true><<<GridBlocks(n), kThreads, 0, AsStream(stream)>>>(i, n, y, apply);
  } else {
    HalfDecodeKernel<false><<<GridBlocks(n), kThreads, 0, AsStream(stream)>>>(i, n, y, apply);
  }
  return LaunchStatus("HalfDecodeKernel");
}

Status LaunchRawDecode(const uint8_t* in, size_t n, float* y, const DecodeApply& apply,
                       void* stream) {
  if (n == 0) return Status::Ok();
  if (!Aligned(in, 4)) return InvalidArgument("fp32 decode: input not 4-byte aligned");
  RawDecodeKernel<<<GridBlocks(n), kThreads, 0, AsStream(stream)>>>(
      reinterpret_cast<const float*>(in), n, y, apply);
  return LaunchStatus("RawDecodeKernel");
}

Status LaunchQsgdScales(const float* x, size_t n, int block, bool l2, uint8_t* scales,
                        uint64_t* bad_block, void* stream) {
  HEARSAY_RETURN_IF_ERROR(CheckBlockBits("qsgd scales", block, 8));
  HEARSAY_CUDA_RETURN_IF_ERROR(cudaMemsetAsync(bad_block, 0xFF, sizeof(uint64_t), AsStream(stream)),
                               "qsgd scales: reset of the error word");
  if (n == 0) return Status::Ok();
  const size_t nb = (n + block - 1) / block;
  QsgdScalesKernel<<<GridBlocks(nb * 32), kThreads, 0, AsStream(stream)>>>(
      x, n, static_cast<size_t>(block), l2, scales,
      reinterpret_cast<unsigned long long*>(bad_block));
  return LaunchStatus("QsgdScalesKernel");
}

Status LaunchQsgdQuantize(const float* x, size_t n, int block, int bits, const uint8_t* scales,
                          uint32_t k0, uint32_t k1, uint8_t* signs, uint8_t* planes, void* stream) {
  HEARSAY_RETURN_IF_ERROR(CheckBlockBits("qsgd quantize", block, bits));
  if (n == 0) return Status::Ok();
  QsgdQuantizeKernel<<<GridBlocks((n + 7) / 8), kThreads, 0, AsStream(stream)>>>(
      x, n, static_cast<size_t>(block), bits, scales, DitherKey{k0, k1}, signs, planes);
  return LaunchStatus("QsgdQuantizeKernel");
}

Status LaunchQsgdDecode(const uint8_t* scales, const uint8_t* signs, const uint8_t* planes,
                        size_t n, int block, int bits, float* y, const DecodeApply& apply,
                        void* stream) {
  HEARSAY_RETURN_IF_ERROR(CheckBlockBits("qsgd decode", block, bits));
  if (n == 0) return Status::Ok();
  QsgdDecodeKernel<<<GridBlocks((n + 7) / 8), kThreads, 0, AsStream(stream)>>>(
      scales, signs, planes, n, static_cast<size_t>(block), bits, y, apply);
  return LaunchStatus("QsgdDecodeKernel");
}

Status LaunchPackSigns(const float* x, size_t n, uint8_t* signs, void* stream) {
  if (n == 0) return Status::Ok();
  PackSignsKernel<<<GridBlocks((n + 7) / 8), kThreads, 0, AsStream(stream)>>>(x, n, signs);
  return LaunchStatus("PackSignsKernel");
}

Status LaunchNaturalEncode(const float* x, size_t n, uint32_t k0, uint32_t k1, uint8_t* signs,
                           uint8_t* exps, uint64_t* too_large, void* stream) {
  HEARSAY_CUDA_RETURN_IF_ERROR(cudaMemsetAsync(too_large, 0xFF, sizeof(uint64_t), AsStream(stream)),
                               "natural encode: reset of the error word");
  if (n == 0) return Status::Ok();
  NaturalEncodeKernel<<<GridBlocks((n + 7) / 8), kThreads, 0, AsStream(stream)>>>(
      x, n, DitherKey{k0, k1}, signs, exps, reinterpret_cast<unsigned long long*>(too_large));
  return LaunchStatus("NaturalEncodeKernel");
}

Status LaunchNaturalDecode(const uint8_t* signs, const uint8_t* exps, size_t n, float* y,
                           const DecodeApply& apply, void* stream) {
  if (n == 0) return Status::Ok();
  NaturalDecodeKernel<<<GridBlocks(n), kThreads, 0, AsStream(stream)>>>(signs, exps, n, y, apply);
  return LaunchStatus("NaturalDecodeKernel");
}

Status LaunchSignScales(const float* x, size_t n, int block, uint8_t* scales, uint64_t* bad_block,
                        void* stream) {
  HEARSAY_RETURN_IF_ERROR(CheckBlockBits("sign scales", block, 1));
  HEARSAY_CUDA_RETURN_IF_ERROR(cudaMemsetAsync(bad_block, 0xFF, sizeof(uint64_t), AsStream(stream)),
                               "sign scales: reset of the error word");
  if (n == 0) return Status::Ok();
  const size_t nb = (n + block - 1) / block;
  SignScalesKernel<<<GridBlocks(nb * 32), kThreads, 0, AsStream(stream)>>>(
      x, n, static_cast<size_t>(block), scales, reinterpret_cast<unsigned long long*>(bad_block));
  return LaunchStatus("SignScalesKernel");
}

Status LaunchSignDecode(const uint8_t* scales, const uint8_t* signs, size_t n, int block, float* y,
                        const DecodeApply& apply, void* stream) {
  HEARSAY_RETURN_IF_ERROR(CheckBlockBits("sign decode", block, 1));
  if (n == 0) return Status::Ok();
  SignDecodeKernel<<<GridBlocks(n), kThreads, 0, AsStream(stream)>>>(
      scales, signs, n, static_cast<size_t>(block), y, apply);
  return LaunchStatus("SignDecodeKernel");
}

}  // namespace hearsay::cuda
