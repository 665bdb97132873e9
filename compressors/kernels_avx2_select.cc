// AVX2 kernels of top-k selection and the range checks: the largest magnitude and the candidates
// at or above a threshold (kernels_avx2.cc has the rest; same contract as kernels.h).
#include "compressors/kernels_avx2_util.h"
#include "compressors/kernels_impl.h"

namespace hearsay::kernels::avx2 {

HEARSAY_AVX2 uint32_t MaxAbsBits(const float* x, size_t n) {
  __m256i m0 = _mm256_setzero_si256(), m1 = m0;
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    m0 = _mm256_max_epu32(m0, AbsBits(Load8(x + i)));
    m1 = _mm256_max_epu32(m1, AbsBits(Load8(x + i + 8)));
  }
  return MaxLane(_mm256_max_epu32(m0, m1), portable::MaxAbsBits(x + i, n - i));
}

namespace {

// top-k candidates: appends element i + j of src for each bit j of `hits` (rare for small k: a
// branch per hit, none per miss) while fewer than `cap` are stored; counts them all.
HEARSAY_AVX2 inline void StoreHits(uint32_t hits, size_t i, uint32_t index, const float* src,
                                   size_t cap, uint32_t* idx, float* vals, size_t* count) {
  while (hits != 0) {
    const uint32_t j = static_cast<uint32_t>(__builtin_ctz(hits));
    hits &= hits - 1;
    if (*count < cap) {
      idx[*count] = index + static_cast<uint32_t>(i) + j;
      vals[*count] = src[i + j];
    }
    ++*count;
  }
}

}  // namespace

HEARSAY_AVX2 size_t AddCollectAtLeast(const float* x, float* e, size_t n, uint32_t index,
                                      uint32_t threshold, size_t cap, uint32_t* idx, float* vals,
                                      uint32_t* max_bits) {
  const __m256i below = _mm256_set1_epi32(static_cast<int>(threshold) - 1);
  __m256i mx = _mm256_setzero_si256();
  size_t count = 0, i = 0;
  // 16 values per iteration: two independent add/store/compare chains, one branch for both.
  for (; i + 16 <= n; i += 16) {
    const __m256 p0 = _mm256_add_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(e + i));
    const __m256 p1 = _mm256_add_ps(_mm256_loadu_ps(x + i + 8), _mm256_loadu_ps(e + i + 8));
    _mm256_storeu_ps(e + i, p0);
    _mm256_storeu_ps(e + i + 8, p1);
    const __m256i a0 = AbsBits(_mm256_castps_si256(p0));
    const __m256i a1 = AbsBits(_mm256_castps_si256(p1));
    mx = _mm256_max_epu32(mx, _mm256_max_epu32(a0, a1));
    uint32_t hits = static_cast<uint32_t>(
                        _mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpgt_epi32(a0, below)))) |
                    static_cast<uint32_t>(
                        _mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpgt_epi32(a1, below))))
                        << 8;
    StoreHits(hits, i, index, e, cap, idx, vals, &count);
  }
  uint32_t m = 0;
  const size_t stored = count < cap ? count : cap;
  count += portable::AddCollectAtLeast(x + i, e + i, n - i, index + static_cast<uint32_t>(i),
                                       threshold, cap - stored, idx + stored, vals + stored, &m);
  *max_bits = MaxLane(mx, m);
  return count;
}

HEARSAY_AVX2 size_t CollectAtLeast(const float* x, size_t n, uint32_t index, uint32_t threshold,
                                   size_t cap, uint32_t* idx, float* vals, uint32_t* max_bits) {
  // Magnitude bits are below 2^31, so a signed compare with threshold - 1 is `>= threshold`
  // (threshold 0 compares with -1: everything qualifies).
  const __m256i below = _mm256_set1_epi32(static_cast<int>(threshold) - 1);
  __m256i mx = _mm256_setzero_si256();
  size_t count = 0, i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256i a = AbsBits(Load8(x + i));
    mx = _mm256_max_epu32(mx, a);
    uint32_t hits = static_cast<uint32_t>(
        _mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpgt_epi32(a, below))));
    StoreHits(hits, i, index, x, cap, idx, vals, &count);
  }
  uint32_t m = 0;
  const size_t stored = count < cap ? count : cap;
  count += portable::CollectAtLeast(x + i, n - i, index + static_cast<uint32_t>(i), threshold,
                                    cap - stored, idx + stored, vals + stored, &m);
  *max_bits = MaxLane(mx, m);
  return count;
}

}  // namespace hearsay::kernels::avx2
