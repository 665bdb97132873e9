// Portable kernels: plain C++ loops over codec_math.h's per-element functions, written so that
// GCC vectorises them for the x86-64-v2 baseline. They define the bytes; kernels_avx2.cc must
// match them exactly.
#include <cstring>

#include "compressors/kernels_impl.h"
#include "compressors/wire.h"

namespace hearsay::kernels::portable {
namespace {

// Sign byte of up to 8 values.
uint8_t SignByte(const float* x, size_t n) {
  uint32_t b = 0;
  for (size_t j = 0; j < n; ++j) b |= (FloatBits(x[j]) >> 31) << j;
  return static_cast<uint8_t>(b);
}

uint32_t SignBit(const uint8_t* signs, size_t i) { return (signs[i >> 3] >> (i & 7)) & 1u; }

}  // namespace

uint32_t MaxAbsBits(const float* x, size_t n) {
  uint32_t m = 0;
  for (size_t i = 0; i < n; ++i) {
    const uint32_t u = FloatBits(x[i]) & 0x7FFFFFFFu;
    m = u > m ? u : m;
  }
  return m;
}

void PackSigns(const float* x, size_t n, uint8_t* signs) {
  const size_t full = n / 8;
  for (size_t g = 0; g < full; ++g) signs[g] = SignByte(x + 8 * g, 8);
  if (n % 8 != 0) signs[full] = SignByte(x + 8 * full, n % 8);
}

size_t CollectAtLeast(const float* x, size_t n, uint32_t index, uint32_t threshold, size_t cap,
                      uint32_t* idx, float* vals, uint32_t* max_bits) {
  size_t count = 0;
  uint32_t m = 0;
  for (size_t i = 0; i < n; ++i) {
    const uint32_t a = FloatBits(x[i]) & 0x7FFFFFFFu;
    m = a > m ? a : m;
    if (a >= threshold) {
      if (count < cap) {
        idx[count] = index + static_cast<uint32_t>(i);
        vals[count] = x[i];
      }
      ++count;
    }
  }
  *max_bits = m;
  return count;
}

size_t AddCollectAtLeast(const float* x, float* e, size_t n, uint32_t index, uint32_t threshold,
                         size_t cap, uint32_t* idx, float* vals, uint32_t* max_bits) {
  size_t count = 0;
  uint32_t m = 0;
  for (size_t i = 0; i < n; ++i) {
    const float p = x[i] + e[i];
    e[i] = p;
    const uint32_t a = FloatBits(p) & 0x7FFFFFFFu;
    m = a > m ? a : m;
    if (a >= threshold) {
      if (count < cap) {
        idx[count] = index + static_cast<uint32_t>(i);
        vals[count] = p;
      }
      ++count;
    }
  }
  *max_bits = m;
  return count;
}

void BlockSums(const float* x, size_t nblocks, size_t block, bool squares, double* sums) {
  for (size_t b = 0; b < nblocks; ++b) {
    const float* p = x + b * block;
    double s = 0;
    if (squares) {
      for (size_t i = 0; i < block; ++i) s += static_cast<double>(p[i]) * p[i];
    } else {
      for (size_t i = 0; i < block; ++i) {
        s += static_cast<double>(BitsFloat(FloatBits(p[i]) & 0x7FFFFFFFu));
      }
    }
    sums[b] = s;
  }
}

void QsgdQuantize(const float* x, size_t n, uint32_t index, DitherKey dk, float prescale,
                  float inv_step, int32_t max_level, uint8_t* levels, uint8_t* signs) {
  for (size_t i = 0; i < n; ++i) {
    const float a = BitsFloat(FloatBits(x[i]) & 0x7FFFFFFFu) * prescale;
    const float u = WordUniform(DitherWord32(dk, index + static_cast<uint32_t>(i)));
    levels[i] = static_cast<uint8_t>(QsgdLevel(a, inv_step, max_level, u));
  }
  PackSigns(x, n, signs);
}

void QsgdDequantize(const uint8_t* levels, const uint8_t* signs, size_t n, float step, float* y,
                    bool /*stream*/) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {  // one sign byte per 8 values: a constant trip count vectorises
    const uint32_t sb = signs[i >> 3];
    for (uint32_t j = 0; j < 8; ++j) y[i + j] = QsgdValue(levels[i + j], (sb >> j) & 1u, step);
  }
  for (; i < n; ++i) y[i] = QsgdValue(levels[i], SignBit(signs, i), step);
}

// The packed forms go through a small byte buffer and wire.h's PackBits/UnpackBits, 512 levels
// (a multiple of 8) at a time.
void QsgdQuantizePacked(const float* x, size_t n, uint32_t index, DitherKey dk, float prescale,
                        float inv_step, int32_t max_level, int bits, uint8_t* plane,
                        uint8_t* signs) {
  constexpr size_t kChunk = 512;
  uint8_t levels[kChunk];
  for (size_t c = 0; c < n; c += kChunk) {
    const size_t m = n - c < kChunk ? n - c : kChunk;
    QsgdQuantize(x + c, m, index + static_cast<uint32_t>(c), dk, prescale, inv_step, max_level,
                 levels, signs + c / 8);
    PackBits(levels, m, bits, plane + c * bits / 8);
  }
}

void QsgdDequantizePacked(const uint8_t* plane, const uint8_t* signs, size_t n, int bits,
                          float step, float* y, bool stream) {
  constexpr size_t kChunk = 512;
  uint8_t levels[kChunk];
  for (size_t c = 0; c < n; c += kChunk) {
    const size_t m = n - c < kChunk ? n - c : kChunk;
    UnpackBits(plane + c * bits / 8, m, bits, levels);
    QsgdDequantize(levels, signs + c / 8, m, step, y + c, stream);
  }
}

void SignDecode(const uint8_t* signs, size_t n, float scale, float* y, bool /*stream*/) {
  const uint32_t s = FloatBits(scale);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const uint32_t sb = signs[i >> 3];
    for (uint32_t j = 0; j < 8; ++j) y[i + j] = BitsFloat(s | (((sb >> j) & 1u) << 31));
  }
  for (; i < n; ++i) y[i] = BitsFloat(s | (SignBit(signs, i) << 31));
}

void QsgdDecodeBlocks(const uint8_t* scales, const uint8_t* plane, const uint8_t* signs, size_t n,
                      size_t block, int bits, int32_t max_level, float* y, bool stream) {
  for (size_t lo = 0, b = 0; lo < n; lo += block, ++b) {
    float s;
    std::memcpy(&s, scales + 4 * b, 4);
    const float step = s / static_cast<float>(max_level);
    const size_t m = n - lo < block ? n - lo : block;
    if (bits == 8) {
      QsgdDequantize(plane + lo, signs + lo / 8, m, step, y + lo, stream);
    } else {
      QsgdDequantizePacked(plane + lo * bits / 8, signs + lo / 8, m, bits, step, y + lo, stream);
    }
  }
}

void SignDecodeBlocks(const uint8_t* scales, const uint8_t* signs, size_t n, size_t block, float* y,
                      bool stream) {
  for (size_t lo = 0, b = 0; lo < n; lo += block, ++b) {
    float s;
    std::memcpy(&s, scales + 4 * b, 4);
    SignDecode(signs + lo / 8, n - lo < block ? n - lo : block, s, y + lo, stream);
  }
}

uint32_t NaturalEncode(const float* x, size_t n, uint32_t index, DitherKey dk, uint8_t* signs,
                       uint8_t* exps) {
  uint32_t m = 0;
  for (size_t i = 0; i < n; ++i) {
    const uint32_t a = FloatBits(x[i]) & 0x7FFFFFFFu;
    m = a > m ? a : m;
    exps[i] = static_cast<uint8_t>(
        NaturalExponent(a, DitherWord32(dk, index + static_cast<uint32_t>(i))));
  }
  PackSigns(x, n, signs);
  return m;
}

uint32_t NaturalDecode(const uint8_t* exps, const uint8_t* signs, size_t n, float* y,
                       bool /*stream*/) {
  uint32_t m = 0;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const uint32_t sb = signs[i >> 3];
    for (uint32_t j = 0; j < 8; ++j) {
      const uint32_t e = exps[i + j];
      m = e > m ? e : m;
      y[i + j] = NaturalValue((sb >> j) & 1u, e);
    }
  }
  for (; i < n; ++i) {
    const uint32_t e = exps[i];
    m = e > m ? e : m;
    y[i] = NaturalValue(SignBit(signs, i), e);
  }
  return m;
}

void Natural8Encode(const float* x, size_t n, uint32_t index, DitherKey dk, uint32_t base,
                    uint8_t* codes) {
  const float below_scale = BitsFloat((254u - base) << 23);  // 2^(127 - base)
  for (size_t i = 0; i < n; ++i) {
    const uint32_t bits = FloatBits(x[i]);
    const uint32_t a = bits & 0x7FFFFFFFu;
    const uint32_t w = DitherWord32(dk, index + static_cast<uint32_t>(i));
    const uint32_t e = a >> 23;
    // In the window: natural rounding. Below it: 0 or 2^(base-127) with P = |x| / 2^(base-127).
    const uint32_t in_window = NaturalExponent(a, w) - base + 1;
    const uint32_t below = WordUniform(w) < BitsFloat(a) * below_scale ? 1u : 0u;
    const uint32_t c = e >= base ? in_window : below;
    codes[i] = static_cast<uint8_t>(((bits >> 31) << 7) | c);
  }
}

void Natural8Decode(const uint8_t* codes, size_t n, uint32_t base, float* y, bool /*stream*/) {
  for (size_t i = 0; i < n; ++i) {
    const uint32_t c = codes[i] & 0x7Fu;
    const uint32_t e = c == 0 ? 0u : base + c - 1;
    y[i] = NaturalValue(codes[i] >> 7, e);
  }
}

void NatDitherEncode(const float* x, size_t n, uint32_t index, DitherKey dk, float prescale,
                     float inv_norm, int32_t s, uint8_t* codes) {
  const float delta = BitsFloat(static_cast<uint32_t>(128 - s) << 23);      // 2^(1-s)
  const float inv_delta = BitsFloat(static_cast<uint32_t>(126 + s) << 23);  // 2^(s-1)
  for (size_t i = 0; i < n; ++i) {
    const uint32_t bits = FloatBits(x[i]);
    float r = BitsFloat(bits & 0x7FFFFFFFu) * prescale * inv_norm;
    r = r < 1.0f ? r : 1.0f;
    const uint32_t w = DitherWord32(dk, index + static_cast<uint32_t>(i));
    const uint32_t low = WordUniform(w) < r * inv_delta ? 1u : 0u;
    const uint32_t high = NaturalExponent(FloatBits(r), w) - 127u + static_cast<uint32_t>(s);
    const uint32_t j = r < delta ? low : high;
    codes[i] = static_cast<uint8_t>(((bits >> 31) << 7) | j);
  }
}

uint32_t NatDitherDecode(const uint8_t* codes, size_t n, float norm, int32_t s, float* y,
                         bool /*stream*/) {
  uint32_t max_j = 0;
  for (size_t i = 0; i < n; ++i) {
    const uint32_t j = codes[i] & 0x7Fu;
    max_j = j > max_j ? j : max_j;
    // 2^(j - s) as a float exponent; j = 0 gives exponent field 0, a zero factor.
    const uint32_t e = j == 0 ? 0u : static_cast<uint32_t>(127 + static_cast<int32_t>(j) - s);
    const float v = BitsFloat(e << 23) * norm;
    y[i] = BitsFloat(FloatBits(v) | (static_cast<uint32_t>(codes[i] >> 7) << 31));
  }
  return max_j;
}

}  // namespace hearsay::kernels::portable
