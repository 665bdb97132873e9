// Internal to compressors/kernels_avx2*.cc: the AVX2 target attribute and the small helpers the
// AVX2 kernel files share.
#pragma once

#include <immintrin.h>

#include <cstdint>

#define HEARSAY_AVX2 __attribute__((target("avx2")))

namespace hearsay::kernels::avx2 {

HEARSAY_AVX2 inline __m256i AbsBits(__m256i bits) {
  return _mm256_and_si256(bits, _mm256_set1_epi32(0x7FFFFFFF));
}

HEARSAY_AVX2 inline __m256i Load8(const float* x) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x));
}

// The largest of m and the 8 lanes of mx.
HEARSAY_AVX2 inline uint32_t MaxLane(__m256i mx, uint32_t m) {
  alignas(32) uint32_t lanes[8];
  _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), mx);
  for (uint32_t v : lanes) m = v > m ? v : m;
  return m;
}

}  // namespace hearsay::kernels::avx2
