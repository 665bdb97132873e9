// Internal to compressors/kernels*.cc: the implementations behind kernels.h (portable, AVX2, and
// AVX-512 for a few encoders). Same signatures and contracts as the dispatching functions there.
#pragma once

#include "compressors/kernels.h"

namespace hearsay::kernels {

#define HEARSAY_KERNEL_DECLS                                                                       \
  uint32_t MaxAbsBits(const float* x, size_t n);                                                   \
  void PackSigns(const float* x, size_t n, uint8_t* signs);                                        \
  size_t CollectAtLeast(const float* x, size_t n, uint32_t index, uint32_t threshold, size_t cap,  \
                        uint32_t* idx, float* vals, uint32_t* max_bits);                           \
  size_t AddCollectAtLeast(const float* x, float* e, size_t n, uint32_t index, uint32_t threshold, \
                           size_t cap, uint32_t* idx, float* vals, uint32_t* max_bits);            \
  void BlockSums(const float* x, size_t nblocks, size_t block, bool squares, double* sums);        \
  void QsgdQuantize(const float* x, size_t n, uint32_t index, DitherKey dk, float prescale,        \
                    float inv_step, int32_t max_level, uint8_t* levels, uint8_t* signs);           \
  void QsgdDequantize(const uint8_t* levels, const uint8_t* signs, size_t n, float step, float* y, \
                      bool stream);                                                                \
  void QsgdQuantizePacked(const float* x, size_t n, uint32_t index, DitherKey dk, float prescale,  \
                          float inv_step, int32_t max_level, int bits, uint8_t* plane,             \
                          uint8_t* signs);                                                         \
  void QsgdDequantizePacked(const uint8_t* plane, const uint8_t* signs, size_t n, int bits,        \
                            float step, float* y, bool stream);                                    \
  void QsgdDecodeBlocks(const uint8_t* scales, const uint8_t* plane, const uint8_t* signs,         \
                        size_t n, size_t block, int bits, int32_t max_level, float* y,             \
                        bool stream);                                                              \
  void SignDecode(const uint8_t* signs, size_t n, float scale, float* y, bool stream);             \
  void SignDecodeBlocks(const uint8_t* scales, const uint8_t* signs, size_t n, size_t block,       \
                        float* y, bool stream);                                                    \
  uint32_t NaturalEncode(const float* x, size_t n, uint32_t index, DitherKey dk, uint8_t* signs,   \
                         uint8_t* exps);                                                           \
  uint32_t NaturalDecode(const uint8_t* exps, const uint8_t* signs, size_t n, float* y,            \
                         bool stream);                                                             \
  void Natural8Encode(const float* x, size_t n, uint32_t index, DitherKey dk, uint32_t base,       \
                      uint8_t* codes);                                                             \
  void Natural8Decode(const uint8_t* codes, size_t n, uint32_t base, float* y, bool stream);       \
  void NatDitherEncode(const float* x, size_t n, uint32_t index, DitherKey dk, float prescale,     \
                       float inv_norm, int32_t s, uint8_t* codes);                                 \
  uint32_t NatDitherDecode(const uint8_t* codes, size_t n, float norm, int32_t s, float* y,        \
                           bool stream);

namespace portable {
HEARSAY_KERNEL_DECLS
}  // namespace portable

namespace avx2 {
HEARSAY_KERNEL_DECLS
void StoreFence();
}  // namespace avx2

// AVX-512: only the encoders bound by the dither hash.
namespace avx512 {
void QsgdQuantize(const float* x, size_t n, uint32_t index, DitherKey dk, float prescale,
                  float inv_step, int32_t max_level, uint8_t* levels, uint8_t* signs);
void QsgdQuantizePacked(const float* x, size_t n, uint32_t index, DitherKey dk, float prescale,
                        float inv_step, int32_t max_level, int bits, uint8_t* plane,
                        uint8_t* signs);
}  // namespace avx512

#undef HEARSAY_KERNEL_DECLS

}  // namespace hearsay::kernels
