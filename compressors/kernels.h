// Hot loops of the codecs, in implementations that produce identical bytes: a portable one
// (plain C++, auto-vectorised for the x86-64-v2 baseline), an AVX2 one (intrinsics, compiled
// with __attribute__((target("avx2"))) and chosen at run time with __builtin_cpu_supports), and
// AVX-512 versions of the qsgd quantisers, whose cost is the per-element dither hash.
//
// Each kernel here is a pure function of its arguments and of codec_math.h's per-element
// arithmetic; the AVX2 versions do the same IEEE operations in the same order per element (no
// FMA, no reassociation), so the wire bytes do not depend on the path. Tests run every codec on
// both paths (ScopedPortableKernels) and compare the bytes, and golden hashes pin the formats.
//
// Conventions: n elements starting at element index `index` of the vector (the dither word's
// counter); sign planes get DivUp(n, 8) bytes (bit j set when element j is negative), so n must
// be a multiple of 8 except for the last call of a vector. Decoders given `stream` = true may
// use non-temporal stores (for outputs far larger than the caches); call StoreFence() after.
//
// Thread-safety: pure functions; ScopedKernelLevel changes a process-wide switch and is for
// single-threaded tests only.
#pragma once

#include <cstddef>
#include <cstdint>

#include "compressors/codec_math.h"

namespace hearsay::kernels {

// Outputs of at least this many bytes are written with non-temporal stores by the decoders.
// Measured on the AMD EPYC (Zen 4) bench machine, plain stores beat non-temporal ones for every
// decoder at 64M elements (256 MiB out, 1.1-1.7x memcpy against 0.98-1.05x; docs/compressors.md),
// so only outputs beyond 1 GiB stream.
inline constexpr size_t kStreamBytes = size_t{1} << 30;

enum class KernelLevel : int { kPortable = 0, kAvx2 = 1, kAvx512 = 2 };

// The best level this CPU supports, and the one in use (the best, unless a test capped it).
KernelLevel BestKernelLevel();
KernelLevel ActiveKernelLevel();
// True when the AVX2 kernels are in use (CPU support, and not forced off by a test).
inline bool UseAvx2() { return ActiveKernelLevel() >= KernelLevel::kAvx2; }

// Caps the level in use while alive (tests that compare the paths).
class ScopedKernelLevel {
 public:
  explicit ScopedKernelLevel(KernelLevel cap);
  ~ScopedKernelLevel();
  ScopedKernelLevel(const ScopedKernelLevel&) = delete;
  ScopedKernelLevel& operator=(const ScopedKernelLevel&) = delete;

 private:
  int previous_;
};

// Forces the portable kernels while alive.
class ScopedPortableKernels : public ScopedKernelLevel {
 public:
  ScopedPortableKernels() : ScopedKernelLevel(KernelLevel::kPortable) {}
};

// Orders non-temporal stores before later stores (sfence); a no-op on the portable path.
void StoreFence();

// max over i of the bits of |x[i]| (0 for n = 0). NaN and infinity give >= 0x7F800000.
uint32_t MaxAbsBits(const float* x, size_t n);

// Sign plane of n values.
void PackSigns(const float* x, size_t n, uint8_t* signs);

// top-k candidates: for i < n in order, every x[i] whose magnitude bits are >= threshold is
// stored as (index + i, x[i]) while fewer than `cap` are stored. Returns how many qualify (which
// may exceed cap) and sets *max_bits to MaxAbsBits(x, n).
size_t CollectAtLeast(const float* x, size_t n, uint32_t index, uint32_t threshold, size_t cap,
                      uint32_t* idx, float* vals, uint32_t* max_bits);
// CollectAtLeast over p = x + e, formed in place: e[i] = x[i] + e[i] for every i < n (ef(topk)'s
// residual update and selection in one pass over x and e).
size_t AddCollectAtLeast(const float* x, float* e, size_t n, uint32_t index, uint32_t threshold,
                         size_t cap, uint32_t* idx, float* vals, uint32_t* max_bits);

// Per block b < nblocks of `block` elements starting at x + b * block: the sum of |x| (or of
// x^2 when `squares`) in double, added in index order, as the scalar loop
// `for (i) s += double(x[i]) * x[i]` would (the AVX2 path sums several blocks side by side, one
// per lane, so each sum keeps its sequential rounding).
void BlockSums(const float* x, size_t nblocks, size_t block, bool squares, double* sums);

// qsgd: level = QsgdLevel(|x| * prescale, inv_step, max_level, u_i) as a byte, and the signs.
void QsgdQuantize(const float* x, size_t n, uint32_t index, DitherKey dk, float prescale,
                  float inv_step, int32_t max_level, uint8_t* levels, uint8_t* signs);
// qsgd: y = QsgdValue(level, sign, step).
void QsgdDequantize(const uint8_t* levels, const uint8_t* signs, size_t n, float step, float* y,
                    bool stream);

// qsgd with levels of bits <= 4: QsgdQuantize, but the levels go straight into their packed
// plane (wire.h's layout; `plane` is the byte of element 0, so n must be a multiple of 8 except
// for the last call of a vector) instead of a byte per level.
void QsgdQuantizePacked(const float* x, size_t n, uint32_t index, DitherKey dk, float prescale,
                        float inv_step, int32_t max_level, int bits, uint8_t* plane,
                        uint8_t* signs);
// qsgd with levels of bits <= 4: QsgdDequantize reading the packed plane directly.
void QsgdDequantizePacked(const uint8_t* plane, const uint8_t* signs, size_t n, int bits,
                          float step, float* y, bool stream);

// qsgd decode of a whole vector: n elements in blocks of `block` (a multiple of 8; the last block
// may be shorter), block b with step = scale_b / max_level where scale_b is the b-th little-endian
// float of `scales`, levels of `bits` (1..8) in `plane`. One call instead of one per block.
void QsgdDecodeBlocks(const uint8_t* scales, const uint8_t* plane, const uint8_t* signs, size_t n,
                      size_t block, int bits, int32_t max_level, float* y, bool stream);

// sign: y = +-scale by the sign plane.
void SignDecode(const uint8_t* signs, size_t n, float scale, float* y, bool stream);
// sign decode of a whole vector in blocks of `block`, block b with the b-th float of `scales`.
void SignDecodeBlocks(const uint8_t* scales, const uint8_t* signs, size_t n, size_t block, float* y,
                      bool stream);

// natural: exponents NaturalExponent(|x|, word_i) and the signs; returns MaxAbsBits(x, n) so the
// caller can refuse values that cannot round up (the output is then garbage).
uint32_t NaturalEncode(const float* x, size_t n, uint32_t index, DitherKey dk, uint8_t* signs,
                       uint8_t* exps);
// natural: y = NaturalValue(sign, e); returns the largest exponent seen.
uint32_t NaturalDecode(const uint8_t* exps, const uint8_t* signs, size_t n, float* y, bool stream);

// natural8: codes sign << 7 | c for the window starting at biased exponent `base`.
void Natural8Encode(const float* x, size_t n, uint32_t index, DitherKey dk, uint32_t base,
                    uint8_t* codes);
void Natural8Decode(const uint8_t* codes, size_t n, uint32_t base, float* y, bool stream);

// natdither:s: codes sign << 7 | j relative to a block norm; decode returns the largest j.
void NatDitherEncode(const float* x, size_t n, uint32_t index, DitherKey dk, float prescale,
                     float inv_norm, int32_t s, uint8_t* codes);
uint32_t NatDitherDecode(const uint8_t* codes, size_t n, float norm, int32_t s, float* y,
                         bool stream);

// BlockSums over a vector cut into blocks of `block` elements (the last one may be shorter),
// kBatch blocks per call so that the AVX2 path can sum blocks side by side. Get(b) must be called
// with b = 0, 1, 2, ... in order; the batch just summed is still in cache for the caller's next
// pass over it.
class BlockSumStream {
 public:
  BlockSumStream(const float* x, size_t d, size_t block, bool squares)
      : x_(x), d_(d), block_(block), squares_(squares) {}

  double Get(size_t b) {
    if (b >= first_ + count_) {
      first_ = b;
      const size_t full = d_ / block_;
      if (b < full) {
        count_ = full - b < kBatch ? full - b : kBatch;
        BlockSums(x_ + b * block_, count_, block_, squares_, sums_);
      } else {  // the short last block
        count_ = 1;
        BlockSums(x_ + b * block_, 1, d_ - b * block_, squares_, sums_);
      }
    }
    return sums_[b - first_];
  }

 private:
  static constexpr size_t kBatch = 64;
  const float* x_;
  size_t d_, block_;
  bool squares_;
  size_t first_ = 0, count_ = 0;
  double sums_[kBatch];
};

}  // namespace hearsay::kernels
