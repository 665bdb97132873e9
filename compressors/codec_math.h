// Per-element codec arithmetic shared by the CPU codecs and a future CUDA backend.
//
// Every function here is HEARSAY_HD and pure: given the same inputs it returns the same bits on
// the host and on the device, which is what lets a GPU encoder produce byte-identical payloads
// (ALGORITHMS.md invariant 2). Device code must compile these without FMA contraction
// (nvcc -fmad=false, or __fmul_rn/__fadd_rn), as the host build does (-std=c++20 implies
// -ffp-contract=off with GCC).
//
// Dither generator. Stochastic rounding needs one uniform per element. Philox4x32-10 per element
// would cost more than the rest of the encoder, so codecs use a keyed counter hash:
//   DitherKey   = words 0..1 of PhiloxBlock(key with stream = kStreamCodec, block 2^64 - 1)
//   DitherWord  = Fmix32(Fmix32(lo32(i) ^ k0) ^ k1 ^ hi32(i) * 0x85EBCA6B)
// where i is the element's index in the whole vector. It is a pure function of (RngKey, i), so
// results do not depend on chunking, threads or device. For a fixed key and hi32(i) it is a
// bijection of lo32(i) (no two elements of a vector share a word). Block 2^64 - 1 of the codec
// stream is reserved for this derivation. Documented in docs/compressors.md.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <cstring>

#include "common/hostdevice.h"
#include "common/random.h"

namespace hearsay {

HEARSAY_HD uint32_t FloatBits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof(u));
  return u;
}
HEARSAY_HD float BitsFloat(uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof(f));
  return f;
}

// ---- dither generator ----------------------------------------------------------------------

struct DitherKey {
  uint32_t k0 = 0;
  uint32_t k1 = 0;
};

// Derives the dither key of `key` for stream `stream` (kStreamCodec unless stated otherwise).
HEARSAY_HD DitherKey MakeDitherKey(RngKey key, uint32_t stream = kStreamCodec) {
  key.stream = stream;
  const Philox4 b = PhiloxBlock(key, ~uint64_t{0});
  return DitherKey{b.v[0], b.v[1]};
}

// MurmurHash3's 32-bit finaliser (a bijection with full avalanche).
HEARSAY_HD uint32_t Fmix32(uint32_t h) {
  h ^= h >> 16;
  h *= 0x85EBCA6Bu;
  h ^= h >> 13;
  h *= 0xC2B2AE35u;
  h ^= h >> 16;
  return h;
}

HEARSAY_HD uint32_t DitherWord(DitherKey k, uint64_t i) {
  const uint32_t lo = static_cast<uint32_t>(i);
  const uint32_t hi = static_cast<uint32_t>(i >> 32);
  return Fmix32(Fmix32(lo ^ k.k0) ^ k.k1 ^ (hi * 0x85EBCA6Bu));
}

// DitherWord for indices below 2^32 (every index of one payload: d < 2^32), in 32-bit
// arithmetic so that the loops vectorise. Equal to DitherWord(k, i).
HEARSAY_HD uint32_t DitherWord32(DitherKey k, uint32_t i) {
  return Fmix32(Fmix32(i ^ k.k0) ^ k.k1);
}

// Uniform in [0, 1) with 24 random bits (exact in float).
HEARSAY_HD float WordUniform(uint32_t w) {
  return static_cast<float>(static_cast<int32_t>(w >> 8)) * (1.0f / 16777216.0f);
}
HEARSAY_HD float DitherUniform(DitherKey k, uint64_t i) { return WordUniform(DitherWord(k, i)); }

// ---- qsgd / terngrad -----------------------------------------------------------------------

// Stochastic level of |x| on the grid 0, 1, ..., max_level (in units of scale / max_level):
// t = |x| * inv_step; returns floor(t + u), clamped to max_level. P(round up) = frac(t), so
// E[level] = t (unbiased). inv_step = max_level / scale, computed once per block.
HEARSAY_HD uint32_t QsgdLevel(float abs_x, float inv_step, int32_t max_level, float u) {
  const float t = abs_x * inv_step;
  int32_t l = static_cast<int32_t>(t + u);
  l = l < max_level ? l : max_level;
  return static_cast<uint32_t>(l);
}

// Decoded value of a level: level * step with the sign applied (step = scale / max_level).
HEARSAY_HD float QsgdValue(uint32_t level, uint32_t negative, float step) {
  const float v = static_cast<float>(static_cast<int32_t>(level)) * step;
  return BitsFloat(FloatBits(v) | (negative << 31));
}

// ---- natural compression ---------------------------------------------------------------------

// Biased float exponent (0..255) after stochastic rounding of |x| to a power of two.
// |x| in [2^a, 2^(a+1)) rounds up with probability (|x| - 2^a) / 2^a = mantissa / 2^23, which is
// tested exactly as (word >> 9) < mantissa. Subnormals (exponent 0) round to 0 or 2^-126 with
// the same rule, so 0 encodes zero. The caller rejects results of 255 (overflow / non-finite).
HEARSAY_HD uint32_t NaturalExponent(uint32_t abs_bits, uint32_t word) {
  const uint32_t e = abs_bits >> 23;
  const uint32_t m = abs_bits & 0x7FFFFFu;
  return e + ((word >> 9) < m ? 1u : 0u);
}

// Value of a natural code: sign bit and biased exponent (0 = zero).
HEARSAY_HD float NaturalValue(uint32_t negative, uint32_t exponent) {
  return BitsFloat((negative << 31) | (exponent << 23));
}

// ---- fp16 / bf16 ----------------------------------------------------------------------------

// IEEE binary16 with round-to-nearest-even. Saturating: finite values and infinities beyond the
// fp16 range become +-65504; NaN becomes a quiet NaN (sign | 0x7E00 | top mantissa bits), the
// same bits x86 F16C produces for a NaN input.
HEARSAY_HD uint16_t FloatToHalfBits(float f) {
  const uint32_t x = FloatBits(f);
  const uint32_t sign = (x >> 16) & 0x8000u;
  const uint32_t a = x & 0x7FFFFFFFu;
  uint32_t o;
  if (a > 0x7F800000u) {
    o = 0x7E00u | ((a >> 13) & 0x3FFu);
  } else if (a >= 0x477FF000u) {  // >= 65520 rounds past the largest half: saturate
    o = 0x7BFFu;
  } else if (a < 0x38800000u) {  // below 2^-14: subnormal half, rounded by a float addition
    const float magic = BitsFloat(((127u - 15u) + (23u - 10u) + 1u) << 23);
    o = FloatBits(BitsFloat(a) + magic) - FloatBits(magic);
  } else {
    const uint32_t odd = (a >> 13) & 1u;
    o = (a + (static_cast<uint32_t>(15 - 127) << 23) + 0xFFFu + odd) >> 13;
  }
  return static_cast<uint16_t>(o | sign);
}

HEARSAY_HD float HalfBitsToFloat(uint16_t h) {
  const uint32_t sign = (static_cast<uint32_t>(h) & 0x8000u) << 16;
  const uint32_t e = (h >> 10) & 0x1Fu;
  const uint32_t m = h & 0x3FFu;
  uint32_t o;
  if (e == 0x1Fu) {
    o = 0x7F800000u | (m << 13);
  } else if (e == 0) {  // zero or subnormal: m * 2^-24, exact in float
    return BitsFloat(FloatBits(static_cast<float>(static_cast<int32_t>(m)) * (1.0f / 16777216.0f)) |
                     sign);
  } else {
    o = ((e + 112u) << 23) | (m << 13);
  }
  return BitsFloat(o | sign);
}

// bfloat16 (top 16 bits of fp32) with round-to-nearest-even; NaN stays a quiet NaN; values that
// round past the largest bf16 become infinity (IEEE behaviour).
HEARSAY_HD uint16_t FloatToBf16Bits(float f) {
  const uint32_t x = FloatBits(f);
  if ((x & 0x7FFFFFFFu) > 0x7F800000u) return static_cast<uint16_t>((x >> 16) | 0x40u);
  return static_cast<uint16_t>((x + 0x7FFFu + ((x >> 16) & 1u)) >> 16);
}

HEARSAY_HD float Bf16BitsToFloat(uint16_t b) { return BitsFloat(static_cast<uint32_t>(b) << 16); }

}  // namespace hearsay
