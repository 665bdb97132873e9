// AVX2 kernels: the portable kernels (kernels_portable.cc) written with intrinsics, 8 elements
// per vector and 32 per packed store. Per element they do the same IEEE operations in the same
// order (multiplications and additions stay separate instructions: no FMA is enabled here), so
// the bytes are identical; ragged tails are handed to the portable code.
#include <immintrin.h>

#include <cstring>

#include "compressors/kernels_avx2_util.h"
#include "compressors/kernels_impl.h"

namespace hearsay::kernels::avx2 {
namespace {

HEARSAY_AVX2 inline __m256i Fmix(__m256i h) {
  h = _mm256_xor_si256(h, _mm256_srli_epi32(h, 16));
  h = _mm256_mullo_epi32(h, _mm256_set1_epi32(static_cast<int>(0x85EBCA6Bu)));
  h = _mm256_xor_si256(h, _mm256_srli_epi32(h, 13));
  h = _mm256_mullo_epi32(h, _mm256_set1_epi32(static_cast<int>(0xC2B2AE35u)));
  return _mm256_xor_si256(h, _mm256_srli_epi32(h, 16));
}

// DitherWord32 of the 8 indices in idx.
HEARSAY_AVX2 inline __m256i Words(__m256i idx, __m256i k0, __m256i k1) {
  return Fmix(_mm256_xor_si256(Fmix(_mm256_xor_si256(idx, k0)), k1));
}

// WordUniform: (w >> 8) * 2^-24, exact.
HEARSAY_AVX2 inline __m256 Uniform(__m256i w) {
  return _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_srli_epi32(w, 8)),
                       _mm256_set1_ps(1.0f / 16777216.0f));
}

// Indices index + i + 0..7.
HEARSAY_AVX2 inline __m256i Iota(uint32_t first) {
  return _mm256_add_epi32(_mm256_set1_epi32(static_cast<int>(first)),
                          _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

// NaturalExponent: (a >> 23) + ((w >> 9) < mantissa), both sides below 2^23.
HEARSAY_AVX2 inline __m256i NaturalExp(__m256i a, __m256i w) {
  const __m256i e = _mm256_srli_epi32(a, 23);
  const __m256i m = _mm256_and_si256(a, _mm256_set1_epi32(0x7FFFFF));
  return _mm256_sub_epi32(e, _mm256_cmpgt_epi32(m, _mm256_srli_epi32(w, 9)));
}

// 32 int32 values in 0..255 (four vectors of 8, in order) as 32 bytes.
HEARSAY_AVX2 inline __m256i PackBytes(__m256i v0, __m256i v1, __m256i v2, __m256i v3) {
  const __m256i w01 = _mm256_packus_epi32(v0, v1);
  const __m256i w23 = _mm256_packus_epi32(v2, v3);
  const __m256i b = _mm256_packus_epi16(w01, w23);
  return _mm256_permutevar8x32_epi32(b, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

// The sign masks (bit 31) of the 8 values of one sign byte.
HEARSAY_AVX2 inline __m256i SignMask(uint32_t sign_byte) {
  const __m256i s = _mm256_sllv_epi32(_mm256_set1_epi32(static_cast<int>(sign_byte)),
                                      _mm256_setr_epi32(31, 30, 29, 28, 27, 26, 25, 24));
  return _mm256_and_si256(s, _mm256_set1_epi32(static_cast<int>(0x80000000u)));
}

// 8 bytes widened to 8 int32.
HEARSAY_AVX2 inline __m256i Widen8(const uint8_t* p) {
  return _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
}

// How the decoders store: 0 plain, 1 two 16-byte streams, 2 one 32-byte stream. y + 8k has the
// alignment of y, so one choice serves the whole call.
int StoreMode(const float* y, bool stream) {
  if (!stream) return 0;
  const auto a = reinterpret_cast<uintptr_t>(y);
  return a % 32 == 0 ? 2 : a % 16 == 0 ? 1 : 0;
}

HEARSAY_AVX2 inline void Store(float* p, __m256i v, int mode) {
  const __m256 f = _mm256_castsi256_ps(v);
  if (mode == 2) {
    _mm256_stream_ps(p, f);
  } else if (mode == 1) {
    _mm_stream_ps(p, _mm256_castps256_ps128(f));
    _mm_stream_ps(p + 4, _mm256_extractf128_ps(f, 1));
  } else {
    _mm256_storeu_ps(p, f);
  }
}

}  // namespace

void StoreFence() { _mm_sfence(); }

HEARSAY_AVX2 void PackSigns(const float* x, size_t n, uint8_t* signs) {
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    const uint32_t b = static_cast<uint32_t>(_mm256_movemask_ps(_mm256_loadu_ps(x + i))) |
                       static_cast<uint32_t>(_mm256_movemask_ps(_mm256_loadu_ps(x + i + 8))) << 8 |
                       static_cast<uint32_t>(_mm256_movemask_ps(_mm256_loadu_ps(x + i + 16)))
                           << 16 |
                       static_cast<uint32_t>(_mm256_movemask_ps(_mm256_loadu_ps(x + i + 24))) << 24;
    std::memcpy(signs + i / 8, &b, 4);
  }
  portable::PackSigns(x + i, n - i, signs + i / 8);
}

namespace {

// Adds element i..i+3 of four blocks (rows r[0..3], `stride` floats apart) to acc, one block per
// lane, in index order.
HEARSAY_AVX2 inline __m256d AddFour(__m256d acc, const float* p, size_t stride, bool squares) {
  __m128 r0 = _mm_loadu_ps(p), r1 = _mm_loadu_ps(p + stride), r2 = _mm_loadu_ps(p + 2 * stride),
         r3 = _mm_loadu_ps(p + 3 * stride);
  _MM_TRANSPOSE4_PS(r0, r1, r2, r3);  // r_k = element k of blocks 0..3
  const __m256d abs_mask = _mm256_castsi256_pd(_mm256_set1_epi64x(0x7FFFFFFFFFFFFFFFll));
  const __m128 rows[4] = {r0, r1, r2, r3};
  for (const __m128 r : rows) {
    __m256d v = _mm256_cvtps_pd(r);
    v = squares ? _mm256_mul_pd(v, v) : _mm256_and_pd(v, abs_mask);
    acc = _mm256_add_pd(acc, v);
  }
  return acc;
}

}  // namespace

HEARSAY_AVX2 void BlockSums(const float* x, size_t nblocks, size_t block, bool squares,
                            double* sums) {
  size_t b = 0;
  if (block % 4 == 0) {
    // Eight blocks at a time: two independent chains of four lanes hide the add latency.
    for (; b + 8 <= nblocks; b += 8) {
      const float* p = x + b * block;
      __m256d a0 = _mm256_setzero_pd(), a1 = a0;
      for (size_t i = 0; i < block; i += 4) {
        a0 = AddFour(a0, p + i, block, squares);
        a1 = AddFour(a1, p + 4 * block + i, block, squares);
      }
      _mm256_storeu_pd(sums + b, a0);
      _mm256_storeu_pd(sums + b + 4, a1);
    }
    for (; b + 4 <= nblocks; b += 4) {
      const float* p = x + b * block;
      __m256d a0 = _mm256_setzero_pd();
      for (size_t i = 0; i < block; i += 4) a0 = AddFour(a0, p + i, block, squares);
      _mm256_storeu_pd(sums + b, a0);
    }
  }
  portable::BlockSums(x + b * block, nblocks - b, block, squares, sums + b);
}

HEARSAY_AVX2 void QsgdQuantize(const float* x, size_t n, uint32_t index, DitherKey dk,
                               float prescale, float inv_step, int32_t max_level, uint8_t* levels,
                               uint8_t* signs) {
  const __m256i k0 = _mm256_set1_epi32(static_cast<int>(dk.k0));
  const __m256i k1 = _mm256_set1_epi32(static_cast<int>(dk.k1));
  const __m256 pre = _mm256_set1_ps(prescale), inv = _mm256_set1_ps(inv_step);
  const __m256i maxl = _mm256_set1_epi32(max_level);
  __m256i idx = Iota(index);
  const __m256i eight = _mm256_set1_epi32(8);
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    __m256i l[4];
    uint32_t sb = 0;
    for (int k = 0; k < 4; ++k) {
      const __m256i bits = Load8(x + i + 8 * k);
      sb |= static_cast<uint32_t>(_mm256_movemask_ps(_mm256_castsi256_ps(bits))) << (8 * k);
      const __m256 a = _mm256_mul_ps(_mm256_castsi256_ps(AbsBits(bits)), pre);
      const __m256 u = Uniform(Words(idx, k0, k1));
      idx = _mm256_add_epi32(idx, eight);
      const __m256 t = _mm256_mul_ps(a, inv);
      l[k] = _mm256_min_epi32(_mm256_cvttps_epi32(_mm256_add_ps(t, u)), maxl);
    }
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(levels + i), PackBytes(l[0], l[1], l[2], l[3]));
    std::memcpy(signs + i / 8, &sb, 4);
  }
  portable::QsgdQuantize(x + i, n - i, index + static_cast<uint32_t>(i), dk, prescale, inv_step,
                         max_level, levels + i, signs + i / 8);
}

HEARSAY_AVX2 void QsgdDequantize(const uint8_t* levels, const uint8_t* signs, size_t n, float step,
                                 float* y, bool stream) {
  const int mode = StoreMode(y, stream);
  const __m256 st = _mm256_set1_ps(step);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 v = _mm256_mul_ps(_mm256_cvtepi32_ps(Widen8(levels + i)), st);
    Store(y + i, _mm256_or_si256(_mm256_castps_si256(v), SignMask(signs[i / 8])), mode);
  }
  portable::QsgdDequantize(levels + i, signs + i / 8, n - i, step, y + i, false);
}

namespace {

// Bit offsets of the 8 levels of one plane group: level j at bits [j * kBits, (j + 1) * kBits).
template <int kBits>
HEARSAY_AVX2 inline __m256i GroupShifts() {
  return _mm256_setr_epi32(0, kBits, 2 * kBits, 3 * kBits, 4 * kBits, 5 * kBits, 6 * kBits,
                           7 * kBits);
}

// Packs 32 levels (four vectors of 8, each below 2^kBits, kBits <= 4) into their 4 * kBits plane
// bytes. Shifted into place the levels of a group occupy disjoint bits, so adding is OR-ing:
// three horizontal adds and one add of the halves leave group k's 8 * kBits bits in word k.
template <int kBits>
HEARSAY_AVX2 inline void PackLevels(const __m256i l[4], uint8_t* dst) {
  const __m256i sh = GroupShifts<kBits>();
  const __m256i h = _mm256_hadd_epi32(
      _mm256_hadd_epi32(_mm256_sllv_epi32(l[0], sh), _mm256_sllv_epi32(l[1], sh)),
      _mm256_hadd_epi32(_mm256_sllv_epi32(l[2], sh), _mm256_sllv_epi32(l[3], sh)));
  __m128i w = _mm_add_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
  if constexpr (kBits < 4) {  // keep the low kBits bytes of each word, in order
    const __m128i keep =
        kBits == 1   ? _mm_setr_epi8(0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1)
        : kBits == 2 ? _mm_setr_epi8(0, 1, 4, 5, 8, 9, 12, 13, -1, -1, -1, -1, -1, -1, -1, -1)
                     : _mm_setr_epi8(0, 1, 2, 4, 5, 6, 8, 9, 10, 12, 13, 14, -1, -1, -1, -1);
    w = _mm_shuffle_epi8(w, keep);
  }
  alignas(16) uint8_t bytes[16];
  _mm_store_si128(reinterpret_cast<__m128i*>(bytes), w);
  std::memcpy(dst, bytes, 4 * kBits);
}

template <int kBits>
HEARSAY_AVX2 void QsgdQuantizePackedT(const float* x, size_t n, uint32_t index, DitherKey dk,
                                      float prescale, float inv_step, int32_t max_level,
                                      uint8_t* plane, uint8_t* signs) {
  const __m256i k0 = _mm256_set1_epi32(static_cast<int>(dk.k0));
  const __m256i k1 = _mm256_set1_epi32(static_cast<int>(dk.k1));
  const __m256 pre = _mm256_set1_ps(prescale), inv = _mm256_set1_ps(inv_step);
  const __m256i maxl = _mm256_set1_epi32(max_level);
  __m256i idx = Iota(index);
  const __m256i eight = _mm256_set1_epi32(8);
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    __m256i l[4];
    uint32_t sb = 0;
    for (int k = 0; k < 4; ++k) {  // the arithmetic of QsgdQuantize, operation for operation
      const __m256i bits = Load8(x + i + 8 * k);
      sb |= static_cast<uint32_t>(_mm256_movemask_ps(_mm256_castsi256_ps(bits))) << (8 * k);
      const __m256 a = _mm256_mul_ps(_mm256_castsi256_ps(AbsBits(bits)), pre);
      const __m256 u = Uniform(Words(idx, k0, k1));
      idx = _mm256_add_epi32(idx, eight);
      const __m256 t = _mm256_mul_ps(a, inv);
      l[k] = _mm256_min_epi32(_mm256_cvttps_epi32(_mm256_add_ps(t, u)), maxl);
    }
    PackLevels<kBits>(l, plane + i / 8 * kBits);
    std::memcpy(signs + i / 8, &sb, 4);
  }
  portable::QsgdQuantizePacked(x + i, n - i, index + static_cast<uint32_t>(i), dk, prescale,
                               inv_step, max_level, kBits, plane + i / 8 * kBits, signs + i / 8);
}

// Eight levels at a time: the group's kBits bytes broadcast, shifted per lane and masked.
template <int kBits>
HEARSAY_AVX2 void QsgdDequantizePackedT(const uint8_t* plane, const uint8_t* signs, size_t n,
                                        float step, float* y, int mode) {
  const __m256i sh = GroupShifts<kBits>();
  const __m256i mask = _mm256_set1_epi32((1 << kBits) - 1);
  const __m256 st = _mm256_set1_ps(step);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint32_t group = 0;
    std::memcpy(&group, plane + i / 8 * kBits, kBits);
    const __m256i lv =
        _mm256_and_si256(_mm256_srlv_epi32(_mm256_set1_epi32(static_cast<int>(group)), sh), mask);
    const __m256 v = _mm256_mul_ps(_mm256_cvtepi32_ps(lv), st);
    Store(y + i, _mm256_or_si256(_mm256_castps_si256(v), SignMask(signs[i / 8])), mode);
  }
  portable::QsgdDequantizePacked(plane + i / 8 * kBits, signs + i / 8, n - i, kBits, step, y + i,
                                 false);
}

// Eight 8-bit levels at a time (QsgdDequantize's loop, for the block loop below to inline).
HEARSAY_AVX2 inline void DequantizeBytes(const uint8_t* levels, const uint8_t* signs, size_t n,
                                         float step, float* y, int mode) {
  const __m256 st = _mm256_set1_ps(step);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 v = _mm256_mul_ps(_mm256_cvtepi32_ps(Widen8(levels + i)), st);
    Store(y + i, _mm256_or_si256(_mm256_castps_si256(v), SignMask(signs[i / 8])), mode);
  }
  portable::QsgdDequantize(levels + i, signs + i / 8, n - i, step, y + i, false);
}

template <int kBits>
HEARSAY_AVX2 void DecodeBlocksT(const uint8_t* scales, const uint8_t* plane, const uint8_t* signs,
                                size_t n, size_t block, int32_t max_level, float* y, int mode) {
  for (size_t lo = 0, b = 0; lo < n; lo += block, ++b) {
    float s;
    std::memcpy(&s, scales + 4 * b, 4);
    const float step = s / static_cast<float>(max_level);  // as the portable path
    const size_t m = n - lo < block ? n - lo : block;
    if constexpr (kBits == 8) {
      DequantizeBytes(plane + lo, signs + lo / 8, m, step, y + lo, mode);
    } else {
      QsgdDequantizePackedT<kBits>(plane + lo / 8 * kBits, signs + lo / 8, m, step, y + lo, mode);
    }
  }
}

}  // namespace

HEARSAY_AVX2 void QsgdQuantizePacked(const float* x, size_t n, uint32_t index, DitherKey dk,
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
    default:  // wider levels: the byte-per-level portable path
      return portable::QsgdQuantizePacked(x, n, index, dk, prescale, inv_step, max_level, bits,
                                          plane, signs);
  }
}

HEARSAY_AVX2 void QsgdDequantizePacked(const uint8_t* plane, const uint8_t* signs, size_t n,
                                       int bits, float step, float* y, bool stream) {
  const int mode = StoreMode(y, stream);
  switch (bits) {
    case 1:
      return QsgdDequantizePackedT<1>(plane, signs, n, step, y, mode);
    case 2:
      return QsgdDequantizePackedT<2>(plane, signs, n, step, y, mode);
    case 3:
      return QsgdDequantizePackedT<3>(plane, signs, n, step, y, mode);
    case 4:
      return QsgdDequantizePackedT<4>(plane, signs, n, step, y, mode);
    default:
      return portable::QsgdDequantizePacked(plane, signs, n, bits, step, y, stream);
  }
}

HEARSAY_AVX2 void QsgdDecodeBlocks(const uint8_t* scales, const uint8_t* plane,
                                   const uint8_t* signs, size_t n, size_t block, int bits,
                                   int32_t max_level, float* y, bool stream) {
  // y + lo keeps y's alignment (blocks are multiples of 8 floats), so one store mode serves all.
  const int mode = StoreMode(y, stream);
  switch (bits) {
    case 1:
      return DecodeBlocksT<1>(scales, plane, signs, n, block, max_level, y, mode);
    case 2:
      return DecodeBlocksT<2>(scales, plane, signs, n, block, max_level, y, mode);
    case 3:
      return DecodeBlocksT<3>(scales, plane, signs, n, block, max_level, y, mode);
    case 4:
      return DecodeBlocksT<4>(scales, plane, signs, n, block, max_level, y, mode);
    case 8:
      return DecodeBlocksT<8>(scales, plane, signs, n, block, max_level, y, mode);
    default:
      return portable::QsgdDecodeBlocks(scales, plane, signs, n, block, bits, max_level, y, stream);
  }
}

HEARSAY_AVX2 void SignDecodeBlocks(const uint8_t* scales, const uint8_t* signs, size_t n,
                                   size_t block, float* y, bool stream) {
  const int mode = StoreMode(y, stream);
  for (size_t lo = 0, b = 0; lo < n; lo += block, ++b) {
    uint32_t s;
    std::memcpy(&s, scales + 4 * b, 4);
    const __m256i sv = _mm256_set1_epi32(static_cast<int>(s));
    const size_t m = n - lo < block ? n - lo : block;
    size_t i = 0;
    for (; i + 8 <= m; i += 8) {
      Store(y + lo + i, _mm256_or_si256(sv, SignMask(signs[(lo + i) / 8])), mode);
    }
    portable::SignDecode(signs + (lo + i) / 8, m - i, BitsFloat(s), y + lo + i, false);
  }
}

HEARSAY_AVX2 void SignDecode(const uint8_t* signs, size_t n, float scale, float* y, bool stream) {
  const int mode = StoreMode(y, stream);
  const __m256i s = _mm256_set1_epi32(static_cast<int>(FloatBits(scale)));
  size_t i = 0;
  for (; i + 8 <= n; i += 8) Store(y + i, _mm256_or_si256(s, SignMask(signs[i / 8])), mode);
  portable::SignDecode(signs + i / 8, n - i, scale, y + i, false);
}

HEARSAY_AVX2 uint32_t NaturalEncode(const float* x, size_t n, uint32_t index, DitherKey dk,
                                    uint8_t* signs, uint8_t* exps) {
  const __m256i k0 = _mm256_set1_epi32(static_cast<int>(dk.k0));
  const __m256i k1 = _mm256_set1_epi32(static_cast<int>(dk.k1));
  __m256i idx = Iota(index);
  const __m256i eight = _mm256_set1_epi32(8);
  __m256i mx = _mm256_setzero_si256();
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    __m256i e[4];
    uint32_t sb = 0;
    for (int k = 0; k < 4; ++k) {
      const __m256i bits = Load8(x + i + 8 * k);
      sb |= static_cast<uint32_t>(_mm256_movemask_ps(_mm256_castsi256_ps(bits))) << (8 * k);
      const __m256i a = AbsBits(bits);
      mx = _mm256_max_epu32(mx, a);
      e[k] = NaturalExp(a, Words(idx, k0, k1));
      idx = _mm256_add_epi32(idx, eight);
    }
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(exps + i), PackBytes(e[0], e[1], e[2], e[3]));
    std::memcpy(signs + i / 8, &sb, 4);
  }
  return MaxLane(mx, portable::NaturalEncode(x + i, n - i, index + static_cast<uint32_t>(i), dk,
                                             signs + i / 8, exps + i));
}

HEARSAY_AVX2 uint32_t NaturalDecode(const uint8_t* exps, const uint8_t* signs, size_t n, float* y,
                                    bool stream) {
  const int mode = StoreMode(y, stream);
  __m256i mx = _mm256_setzero_si256();
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256i e = Widen8(exps + i);
    mx = _mm256_max_epu32(mx, e);
    Store(y + i, _mm256_or_si256(_mm256_slli_epi32(e, 23), SignMask(signs[i / 8])), mode);
  }
  return MaxLane(mx, portable::NaturalDecode(exps + i, signs + i / 8, n - i, y + i, false));
}

HEARSAY_AVX2 void Natural8Encode(const float* x, size_t n, uint32_t index, DitherKey dk,
                                 uint32_t base, uint8_t* codes) {
  const __m256i k0 = _mm256_set1_epi32(static_cast<int>(dk.k0));
  const __m256i k1 = _mm256_set1_epi32(static_cast<int>(dk.k1));
  const __m256 below_scale = _mm256_set1_ps(BitsFloat((254u - base) << 23));
  const __m256i base_m1 = _mm256_set1_epi32(static_cast<int>(base) - 1);
  const __m256i one = _mm256_set1_epi32(1);
  __m256i idx = Iota(index);
  const __m256i eight = _mm256_set1_epi32(8);
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    __m256i c[4];
    for (int k = 0; k < 4; ++k) {
      const __m256i bits = Load8(x + i + 8 * k);
      const __m256i a = AbsBits(bits);
      const __m256i w = Words(idx, k0, k1);
      idx = _mm256_add_epi32(idx, eight);
      const __m256i in_window = _mm256_sub_epi32(NaturalExp(a, w), base_m1);
      const __m256 p = _mm256_mul_ps(_mm256_castsi256_ps(a), below_scale);
      const __m256i below =
          _mm256_and_si256(_mm256_castps_si256(_mm256_cmp_ps(Uniform(w), p, _CMP_LT_OQ)), one);
      const __m256i in = _mm256_cmpgt_epi32(_mm256_srli_epi32(a, 23), base_m1);  // e >= base
      const __m256i code = _mm256_blendv_epi8(below, in_window, in);
      c[k] = _mm256_or_si256(code, _mm256_slli_epi32(_mm256_srli_epi32(bits, 31), 7));
    }
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(codes + i), PackBytes(c[0], c[1], c[2], c[3]));
  }
  portable::Natural8Encode(x + i, n - i, index + static_cast<uint32_t>(i), dk, base, codes + i);
}

HEARSAY_AVX2 void Natural8Decode(const uint8_t* codes, size_t n, uint32_t base, float* y,
                                 bool stream) {
  const int mode = StoreMode(y, stream);
  const __m256i base_m1 = _mm256_set1_epi32(static_cast<int>(base) - 1);
  const __m256i low7 = _mm256_set1_epi32(0x7F);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256i code = Widen8(codes + i);
    const __m256i c = _mm256_and_si256(code, low7);
    const __m256i zero = _mm256_cmpeq_epi32(c, _mm256_setzero_si256());
    const __m256i e = _mm256_andnot_si256(zero, _mm256_add_epi32(c, base_m1));
    const __m256i sign = _mm256_slli_epi32(_mm256_srli_epi32(code, 7), 31);
    Store(y + i, _mm256_or_si256(sign, _mm256_slli_epi32(e, 23)), mode);
  }
  portable::Natural8Decode(codes + i, n - i, base, y + i, false);
}

HEARSAY_AVX2 void NatDitherEncode(const float* x, size_t n, uint32_t index, DitherKey dk,
                                  float prescale, float inv_norm, int32_t s, uint8_t* codes) {
  const __m256i k0 = _mm256_set1_epi32(static_cast<int>(dk.k0));
  const __m256i k1 = _mm256_set1_epi32(static_cast<int>(dk.k1));
  const __m256 delta = _mm256_set1_ps(BitsFloat(static_cast<uint32_t>(128 - s) << 23));
  const __m256 inv_delta = _mm256_set1_ps(BitsFloat(static_cast<uint32_t>(126 + s) << 23));
  const __m256 pre = _mm256_set1_ps(prescale), inv = _mm256_set1_ps(inv_norm);
  const __m256 onef = _mm256_set1_ps(1.0f);
  const __m256i one = _mm256_set1_epi32(1);
  const __m256i shift = _mm256_set1_epi32(s - 127);
  __m256i idx = Iota(index);
  const __m256i eight = _mm256_set1_epi32(8);
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    __m256i c[4];
    for (int k = 0; k < 4; ++k) {
      const __m256i bits = Load8(x + i + 8 * k);
      __m256 r = _mm256_mul_ps(_mm256_mul_ps(_mm256_castsi256_ps(AbsBits(bits)), pre), inv);
      r = _mm256_min_ps(r, onef);  // r < 1 ? r : 1 (r is never NaN here)
      const __m256i w = Words(idx, k0, k1);
      idx = _mm256_add_epi32(idx, eight);
      const __m256i low = _mm256_and_si256(
          _mm256_castps_si256(_mm256_cmp_ps(Uniform(w), _mm256_mul_ps(r, inv_delta), _CMP_LT_OQ)),
          one);
      const __m256i high = _mm256_add_epi32(NaturalExp(_mm256_castps_si256(r), w), shift);
      const __m256i j =
          _mm256_blendv_epi8(high, low, _mm256_castps_si256(_mm256_cmp_ps(r, delta, _CMP_LT_OQ)));
      c[k] = _mm256_or_si256(j, _mm256_slli_epi32(_mm256_srli_epi32(bits, 31), 7));
    }
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(codes + i), PackBytes(c[0], c[1], c[2], c[3]));
  }
  portable::NatDitherEncode(x + i, n - i, index + static_cast<uint32_t>(i), dk, prescale, inv_norm,
                            s, codes + i);
}

HEARSAY_AVX2 uint32_t NatDitherDecode(const uint8_t* codes, size_t n, float norm, int32_t s,
                                      float* y, bool stream) {
  const int mode = StoreMode(y, stream);
  const __m256 nv = _mm256_set1_ps(norm);
  const __m256i low7 = _mm256_set1_epi32(0x7F);
  const __m256i shift = _mm256_set1_epi32(127 - s);
  __m256i mx = _mm256_setzero_si256();
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256i code = Widen8(codes + i);
    const __m256i j = _mm256_and_si256(code, low7);
    mx = _mm256_max_epu32(mx, j);
    const __m256i zero = _mm256_cmpeq_epi32(j, _mm256_setzero_si256());
    const __m256i e = _mm256_andnot_si256(zero, _mm256_add_epi32(j, shift));
    const __m256 v = _mm256_mul_ps(_mm256_castsi256_ps(_mm256_slli_epi32(e, 23)), nv);
    const __m256i sign = _mm256_slli_epi32(_mm256_srli_epi32(code, 7), 31);
    Store(y + i, _mm256_or_si256(_mm256_castps_si256(v), sign), mode);
  }
  return MaxLane(mx, portable::NatDitherDecode(codes + i, n - i, norm, s, y + i, false));
}

}  // namespace hearsay::kernels::avx2
