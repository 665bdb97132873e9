// Factories of the concrete codecs, used by MakeCompressor (make_compressor.cc) and by tests.
//
// Users build codecs from spec strings with MakeCompressor; these factories take already
// validated parameters (MakeCompressor checks ranges and reports errors for users). The wire
// format of each codec is specified in docs/compressors.md.
// Thread-safety: factories are pure; see compressor.h for the codecs themselves.
#pragma once

#include <memory>

#include "compressors/compressor.h"

namespace hearsay {

inline constexpr int kDefaultBlock = 256;  // elements per scale block (qsgd, sign, minmax8, ...)
inline constexpr int kMaxBlock = 1 << 20;

// identity: raw fp32. fp16 / bf16: round-to-nearest-even (biased).
std::unique_ptr<Compressor> MakeIdentityCodec();
std::unique_ptr<Compressor> MakeFp16Codec();
std::unique_ptr<Compressor> MakeBf16Codec();

struct QsgdOptions {
  int bits = 8;               // magnitude bits b in 1..8 (levels 0..2^b - 1), plus a sign bit
  int block = kDefaultBlock;  // elements per scale; multiple of 8 in 8..2^20
  bool l2 = false;            // scale = block 2-norm (classic QSGD) instead of max |x|
  bool terngrad = false;      // spelled "terngrad" (b = 1, max scale): TernGrad's ternary code
};
std::unique_ptr<Compressor> MakeQsgdCodec(const QsgdOptions& options);

// minmax8: per block min and max, 8-bit deterministic rounding (biased).
std::unique_ptr<Compressor> MakeMinMax8Codec(int block);

// natural: sign + 8-bit exponent, unbiased. natural8: sign + 7-bit exponent window below the
// vector's top exponent. natdither: natural dithering with `levels` levels per block 2-norm.
std::unique_ptr<Compressor> MakeNaturalCodec();
std::unique_ptr<Compressor> MakeNatural8Codec();
std::unique_ptr<Compressor> MakeNatDitherCodec(int levels, int block);

// sign: sign bits + per-block mean |x| (biased).
std::unique_ptr<Compressor> MakeSignCodec(int block);

// fp16 encoder paths, for the test that checks F16C and portable code give the same bits.
void HalfEncodeForTest(const float* x, size_t n, uint8_t* dst, bool portable);

}  // namespace hearsay
