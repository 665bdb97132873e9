// AVX-512 kernels for the encoders whose cost is the per-element dither hash (two MurmurHash3
// finalisers, four 32-bit multiplies per element): qsgd's quantisation, into bytes or packed
// planes. Twice the lanes of the AVX2 path halve the instruction count of the hash. Per element
// they do the same IEEE operations in the same order as kernels_portable.cc (no FMA), so the bytes
// are identical; ragged tails are handed to the portable code. Requires AVX-512F (and AVX2 for the
// plane packing), checked at run time by kernels.cc.
// GCC 12 reports false -Wmaybe-uninitialized positives inside its own AVX-512 intrinsics
// (_mm512_undefined_*; GCC bug 105593).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

#include <cstring>

#include "compressors/kernels_impl.h"

#define HEARSAY_AVX512 __attribute__((target("avx512f,avx2")))

namespace hearsay::kernels::avx512 {
namespace {

HEARSAY_AVX512 inline __m512i Fmix(__m512i h) {
  h = _mm512_xor_si512(h, _mm512_srli_epi32(h, 16));
  h = _mm512_mullo_epi32(h, _mm512_set1_epi32(static_cast<int>(0x85EBCA6Bu)));
  h = _mm512_xor_si512(h, _mm512_srli_epi32(h, 13));
  h = _mm512_mullo_epi32(h, _mm512_set1_epi32(static_cast<int>(0xC2B2AE35u)));
  return _mm512_xor_si512(h, _mm512_srli_epi32(h, 16));
}

// The levels of 16 elements (QsgdLevel of |x| * prescale) and their sign bits.
struct Quantizer {
  __m512i k0, k1, maxl, idx;
  __m512 pre, inv;

  HEARSAY_AVX512 Quantizer(uint32_t index, DitherKey dk, float prescale, float inv_step,
                           int32_t max_level)
      : k0(_mm512_set1_epi32(static_cast<int>(dk.k0))),
        k1(_mm512_set1_epi32(static_cast<int>(dk.k1))),
        maxl(_mm512_set1_epi32(max_level)),
        idx(_mm512_add_epi32(
            _mm512_set1_epi32(static_cast<int>(index)),
            _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15))),
        pre(_mm512_set1_ps(prescale)),
        inv(_mm512_set1_ps(inv_step)) {}

  HEARSAY_AVX512 __m512i Next(const float* x, uint32_t* sign_bits) {
    const __m512i bits = _mm512_loadu_si512(x);
    *sign_bits = _mm512_cmplt_epi32_mask(bits, _mm512_setzero_si512());
    const __m512 a = _mm512_mul_ps(
        _mm512_castsi512_ps(_mm512_and_si512(bits, _mm512_set1_epi32(0x7FFFFFFF))), pre);
    const __m512i w = Fmix(_mm512_xor_si512(Fmix(_mm512_xor_si512(idx, k0)), k1));
    const __m512 u = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_srli_epi32(w, 8)),
                                   _mm512_set1_ps(1.0f / 16777216.0f));  // WordUniform, exact
    idx = _mm512_add_epi32(idx, _mm512_set1_epi32(16));
    const __m512 t = _mm512_mul_ps(a, inv);
    // Levels are <= max_level <= 255; a conversion out of range gives INT_MIN, whose low byte
    // is 0 -- what the AVX2 path's saturating pack gives.
    return _mm512_min_epi32(_mm512_cvttps_epi32(_mm512_add_ps(t, u)), maxl);
  }
};

// 32 level bytes (each below 2^kBits, kBits <= 4) packed LSB first into 4 * kBits plane bytes:
// pairs, then quads, then groups of 8 are merged by multiply-adds and one shift, and the kBits
// bytes of each group are gathered.
template <int kBits>
HEARSAY_AVX512 inline void PackLevelBytes(__m256i v, uint8_t* dst) {
  const __m256i p =
      _mm256_maddubs_epi16(v, _mm256_set1_epi16(static_cast<short>(1 | (1 << (kBits + 8)))));
  const __m256i q = _mm256_madd_epi16(p, _mm256_set1_epi32(1 | (1 << (2 * kBits + 16))));
  const __m256i r = _mm256_or_si256(_mm256_and_si256(q, _mm256_set1_epi64x(0xFFFFFFFFll)),
                                    _mm256_srli_epi64(q, 32 - 4 * kBits));
  const __m256i keep = _mm256_setr_epi8(
      0, kBits > 1 ? 1 : -1, kBits > 2 ? 2 : -1, kBits > 3 ? 3 : -1, 8, kBits > 1 ? 9 : -1,
      kBits > 2 ? 10 : -1, kBits > 3 ? 11 : -1, -1, -1, -1, -1, -1, -1, -1, -1, 0,
      kBits > 1 ? 1 : -1, kBits > 2 ? 2 : -1, kBits > 3 ? 3 : -1, 8, kBits > 1 ? 9 : -1,
      kBits > 2 ? 10 : -1, kBits > 3 ? 11 : -1, -1, -1, -1, -1, -1, -1, -1, -1);
  // The selected bytes are group 2m's kBits bytes at 0 and group 2m+1's at 4; close the gap.
  const __m256i s = _mm256_shuffle_epi8(r, keep);
  const uint64_t lo = static_cast<uint64_t>(_mm_cvtsi128_si64(_mm256_castsi256_si128(s)));
  const uint64_t hi = static_cast<uint64_t>(_mm_cvtsi128_si64(_mm256_extracti128_si256(s, 1)));
  const uint64_t a = (lo & ((uint64_t{1} << (8 * kBits)) - 1)) | ((lo >> 32) << (8 * kBits));
  const uint64_t b = (hi & ((uint64_t{1} << (8 * kBits)) - 1)) | ((hi >> 32) << (8 * kBits));
  std::memcpy(dst, &a, 2 * kBits);
  std::memcpy(dst + 2 * kBits, &b, 2 * kBits);
}

template <int kBits>
HEARSAY_AVX512 void QsgdQuantizePackedT(const float* x, size_t n, uint32_t index, DitherKey dk,
                                        float prescale, float inv_step, int32_t max_level,
                                        uint8_t* plane, uint8_t* signs) {
  Quantizer qz(index, dk, prescale, inv_step, max_level);
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    uint32_t s0, s1;
    const __m512i l0 = qz.Next(x + i, &s0), l1 = qz.Next(x + i + 16, &s1);
    const __m256i bytes = _mm256_set_m128i(_mm512_cvtepi32_epi8(l1), _mm512_cvtepi32_epi8(l0));
    PackLevelBytes<kBits>(bytes, plane + i / 8 * kBits);
    const uint32_t sb = s0 | s1 << 16;
    std::memcpy(signs + i / 8, &sb, 4);
  }
  portable::QsgdQuantizePacked(x + i, n - i, index + static_cast<uint32_t>(i), dk, prescale,
                               inv_step, max_level, kBits, plane + i / 8 * kBits, signs + i / 8);
}

}  // namespace

HEARSAY_AVX512 void QsgdQuantize(const float* x, size_t n, uint32_t index, DitherKey dk,
                                 float prescale, float inv_step, int32_t max_level, uint8_t* levels,
                                 uint8_t* signs) {
  Quantizer qz(index, dk, prescale, inv_step, max_level);
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    uint32_t s0, s1;
    const __m512i l0 = qz.Next(x + i, &s0), l1 = qz.Next(x + i + 16, &s1);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(levels + i), _mm512_cvtepi32_epi8(l0));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(levels + i + 16), _mm512_cvtepi32_epi8(l1));
    const uint32_t sb = s0 | s1 << 16;
    std::memcpy(signs + i / 8, &sb, 4);
  }
  portable::QsgdQuantize(x + i, n - i, index + static_cast<uint32_t>(i), dk, prescale, inv_step,
                         max_level, levels + i, signs + i / 8);
}

HEARSAY_AVX512 void QsgdQuantizePacked(const float* x, size_t n, uint32_t index, DitherKey dk,
                                       float prescale, float inv_step, int32_t max_level, int bits,
                                       uint8_t* plane, uint8_t* signs) {
  switch (bits) {
    case 1:
      return QsgdQuantizePackedT<1>(x, n, index, dk, prescale, inv_step, max_level, plane, signs);
    case 2:
      return QsgdQuantizePackedT<2>(x, n, index, dk, prescale, inv_step, max_level, plane, signs);
    case 3:
      return QsgdQuantizePackedT<3>(x, n, index, dk, prescale, inv_step, max_level, plane, signs);
    case 4:
      return QsgdQuantizePackedT<4>(x, n, index, dk, prescale, inv_step, max_level, plane, signs);
    default:
      return portable::QsgdQuantizePacked(x, n, index, dk, prescale, inv_step, max_level, bits,
                                          plane, signs);
  }
}

}  // namespace hearsay::kernels::avx512
