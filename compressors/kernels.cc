// Run-time dispatch between the portable, AVX2 and AVX-512 kernels. The CPU check runs once; the
// test override is an atomic read per call (calls are per block or per vector, so its cost is
// noise).
#include <atomic>

#include "compressors/feedback_chunks.h"
#include "compressors/kernels_impl.h"

namespace hearsay::kernels {
namespace {

std::atomic<int> level_cap{static_cast<int>(KernelLevel::kAvx512)};

bool UseAvx512() { return ActiveKernelLevel() >= KernelLevel::kAvx512; }

}  // namespace

KernelLevel BestKernelLevel() {
  static const KernelLevel best = [] {
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx2")) return KernelLevel::kPortable;
    return __builtin_cpu_supports("avx512f") ? KernelLevel::kAvx512 : KernelLevel::kAvx2;
  }();
  return best;
}

KernelLevel ActiveKernelLevel() {
  const int cap = level_cap.load(std::memory_order_relaxed);
  const int best = static_cast<int>(BestKernelLevel());
  return static_cast<KernelLevel>(cap < best ? cap : best);
}

ScopedKernelLevel::ScopedKernelLevel(KernelLevel cap)
    : previous_(level_cap.exchange(static_cast<int>(cap))) {}
ScopedKernelLevel::~ScopedKernelLevel() { level_cap.store(previous_); }

void StoreFence() {
  if (BestKernelLevel() >= KernelLevel::kAvx2) avx2::StoreFence();
}

uint32_t MaxAbsBits(const float* x, size_t n) {
  return UseAvx2() ? avx2::MaxAbsBits(x, n) : portable::MaxAbsBits(x, n);
}

void PackSigns(const float* x, size_t n, uint8_t* signs) {
  UseAvx2() ? avx2::PackSigns(x, n, signs) : portable::PackSigns(x, n, signs);
}

size_t CollectAtLeast(const float* x, size_t n, uint32_t index, uint32_t threshold, size_t cap,
                      uint32_t* idx, float* vals, uint32_t* max_bits) {
  return UseAvx2() ? avx2::CollectAtLeast(x, n, index, threshold, cap, idx, vals, max_bits)
                   : portable::CollectAtLeast(x, n, index, threshold, cap, idx, vals, max_bits);
}

size_t AddCollectAtLeast(const float* x, float* e, size_t n, uint32_t index, uint32_t threshold,
                         size_t cap, uint32_t* idx, float* vals, uint32_t* max_bits) {
  return UseAvx2()
             ? avx2::AddCollectAtLeast(x, e, n, index, threshold, cap, idx, vals, max_bits)
             : portable::AddCollectAtLeast(x, e, n, index, threshold, cap, idx, vals, max_bits);
}

void BlockSums(const float* x, size_t nblocks, size_t block, bool squares, double* sums) {
  UseAvx2() ? avx2::BlockSums(x, nblocks, block, squares, sums)
            : portable::BlockSums(x, nblocks, block, squares, sums);
}

void QsgdQuantize(const float* x, size_t n, uint32_t index, DitherKey dk, float prescale,
                  float inv_step, int32_t max_level, uint8_t* levels, uint8_t* signs) {
  if (UseAvx512()) {
    return avx512::QsgdQuantize(x, n, index, dk, prescale, inv_step, max_level, levels, signs);
  }
  UseAvx2() ? avx2::QsgdQuantize(x, n, index, dk, prescale, inv_step, max_level, levels, signs)
            : portable::QsgdQuantize(x, n, index, dk, prescale, inv_step, max_level, levels, signs);
}

void QsgdDequantize(const uint8_t* levels, const uint8_t* signs, size_t n, float step, float* y,
                    bool stream) {
  UseAvx2() ? avx2::QsgdDequantize(levels, signs, n, step, y, stream)
            : portable::QsgdDequantize(levels, signs, n, step, y, stream);
}

void QsgdQuantizePacked(const float* x, size_t n, uint32_t index, DitherKey dk, float prescale,
                        float inv_step, int32_t max_level, int bits, uint8_t* plane,
                        uint8_t* signs) {
  if (UseAvx512()) {
    return avx512::QsgdQuantizePacked(x, n, index, dk, prescale, inv_step, max_level, bits, plane,
                                      signs);
  }
  UseAvx2()
      ? avx2::QsgdQuantizePacked(x, n, index, dk, prescale, inv_step, max_level, bits, plane, signs)
      : portable::QsgdQuantizePacked(x, n, index, dk, prescale, inv_step, max_level, bits, plane,
                                     signs);
}

void QsgdDequantizePacked(const uint8_t* plane, const uint8_t* signs, size_t n, int bits,
                          float step, float* y, bool stream) {
  UseAvx2() ? avx2::QsgdDequantizePacked(plane, signs, n, bits, step, y, stream)
            : portable::QsgdDequantizePacked(plane, signs, n, bits, step, y, stream);
}

void QsgdDecodeBlocks(const uint8_t* scales, const uint8_t* plane, const uint8_t* signs, size_t n,
                      size_t block, int bits, int32_t max_level, float* y, bool stream) {
  UseAvx2()
      ? avx2::QsgdDecodeBlocks(scales, plane, signs, n, block, bits, max_level, y, stream)
      : portable::QsgdDecodeBlocks(scales, plane, signs, n, block, bits, max_level, y, stream);
}

void SignDecodeBlocks(const uint8_t* scales, const uint8_t* signs, size_t n, size_t block, float* y,
                      bool stream) {
  UseAvx2() ? avx2::SignDecodeBlocks(scales, signs, n, block, y, stream)
            : portable::SignDecodeBlocks(scales, signs, n, block, y, stream);
}

void SignDecode(const uint8_t* signs, size_t n, float scale, float* y, bool stream) {
  UseAvx2() ? avx2::SignDecode(signs, n, scale, y, stream)
            : portable::SignDecode(signs, n, scale, y, stream);
}

uint32_t NaturalEncode(const float* x, size_t n, uint32_t index, DitherKey dk, uint8_t* signs,
                       uint8_t* exps) {
  return UseAvx2() ? avx2::NaturalEncode(x, n, index, dk, signs, exps)
                   : portable::NaturalEncode(x, n, index, dk, signs, exps);
}

uint32_t NaturalDecode(const uint8_t* exps, const uint8_t* signs, size_t n, float* y, bool stream) {
  return UseAvx2() ? avx2::NaturalDecode(exps, signs, n, y, stream)
                   : portable::NaturalDecode(exps, signs, n, y, stream);
}

void Natural8Encode(const float* x, size_t n, uint32_t index, DitherKey dk, uint32_t base,
                    uint8_t* codes) {
  UseAvx2() ? avx2::Natural8Encode(x, n, index, dk, base, codes)
            : portable::Natural8Encode(x, n, index, dk, base, codes);
}

void Natural8Decode(const uint8_t* codes, size_t n, uint32_t base, float* y, bool stream) {
  UseAvx2() ? avx2::Natural8Decode(codes, n, base, y, stream)
            : portable::Natural8Decode(codes, n, base, y, stream);
}

void NatDitherEncode(const float* x, size_t n, uint32_t index, DitherKey dk, float prescale,
                     float inv_norm, int32_t s, uint8_t* codes) {
  UseAvx2() ? avx2::NatDitherEncode(x, n, index, dk, prescale, inv_norm, s, codes)
            : portable::NatDitherEncode(x, n, index, dk, prescale, inv_norm, s, codes);
}

uint32_t NatDitherDecode(const uint8_t* codes, size_t n, float norm, int32_t s, float* y,
                         bool stream) {
  return UseAvx2() ? avx2::NatDitherDecode(codes, n, norm, s, y, stream)
                   : portable::NatDitherDecode(codes, n, norm, s, y, stream);
}

}  // namespace hearsay::kernels

namespace hearsay::kernels {

// Element-wise IEEE additions: every vector width gives the same floats.
__attribute__((target_clones("avx512f", "avx2", "default"))) void AddFloats(const float* a,
                                                                            const float* b,
                                                                            float* out, size_t n) {
  for (size_t i = 0; i < n; ++i) out[i] = a[i] + b[i];
}

__attribute__((target_clones("avx512f", "avx2", "default"))) void SubFloats(const float* a,
                                                                            const float* b,
                                                                            float* out, size_t n) {
  for (size_t i = 0; i < n; ++i) out[i] = a[i] - b[i];
}

}  // namespace hearsay::kernels
