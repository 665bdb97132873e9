// Device encoders and decoders of the codecs in compressors/ (wire formats in
// docs/compressors.md). Plain C++ launchers: pointers are device pointers, `stream` is a
// cudaStream_t (nullptr = default stream); launchers only enqueue work and return the launch
// Status. CudaCodec (cuda_codec.h) is the user-facing wrapper; these are its building blocks.
//
// Encoders write the same bytes as the CPU codecs for the same RngKey: the per-element
// arithmetic and the dither generator are codec_math.h's HEARSAY_HD functions, compiled without
// FMA contraction (-fmad=false), and block scales are computed in the CPU's order (max |x| is
// order-free; the l2 norm is summed sequentially in double, element 0 first, like the CPU).
//
// Decoders trust their input: the caller validates the host bytes first (CudaCodec::Validate
// runs the CPU decoder's checks) and then decodes a device copy. Each decoder applies its
// decoded value v to the destination with a DecodeApply step, which fuses the algorithms'
// receive updates (DCD, ECD, CHOCO, D-PSGD) with decoding.
// Thread-safety: launchers are thread-safe; buffers belong to the caller.
#pragma once

#include <cstddef>
#include <cstdint>

#include "common/status.h"

namespace hearsay::cuda {

// What a decoder does with the decoded value v of element k (same float/double operations as
// the CPU algorithms, in the same order).
struct DecodeApply {
  enum class Op {
    kStore,               // y = v                                (plain decode)
    kAdd,                 // y = y + v                            (DCD: r_j += decode(q_j))
    kAddWeighted,         // y = y + weight * v                   (CHOCO m_i, D-PSGD acc)
    kAddWeightedAndSelf,  // y = y + weight * v; self = self + v  (CHOCO, own message)
    kEcd,                 // y = float(a * double(y) + b * double(v))  (ECD estimates)
  };
  Op op = Op::kStore;
  float weight = 1.0f;
  double a = 0.0;
  double b = 0.0;
  float* self = nullptr;  // kAddWeightedAndSelf only: xh_i
};

// Writes the 8-byte common header (tag, param, 0, 0, d as uint32 LE) at dst.
Status LaunchWriteHeader(uint8_t* dst, uint8_t tag, uint8_t param, uint32_t d, void* stream);

// fp16 / bf16: n values of 2 bytes (little-endian) at out.
Status LaunchHalfEncode(const float* x, size_t n, bool bf16, uint8_t* out, void* stream);
Status LaunchHalfDecode(const uint8_t* in, size_t n, bool bf16, float* y, const DecodeApply& apply,
                        void* stream);
// identity / raw fp32: n little-endian floats at `in` (any byte alignment).
Status LaunchRawDecode(const uint8_t* in, size_t n, float* y, const DecodeApply& apply,
                       void* stream);

// qsgd / terngrad, in three sections of the payload (see qsgd.cc):
//   scales (4 * nb bytes, nb = ceil(n / block)), signs (ceil(n / 8)), planes (ceil(n * bits / 8)).
// LaunchQsgdScales writes each block's scale (float bits, 4-byte stores at any alignment) and
// records in *bad_block the smallest start index of a block holding a NaN or infinity (it first
// sets *bad_block to UINT64_MAX). LaunchQsgdQuantize then writes signs and planes; the dither
// key (k0, k1) is MakeDitherKey(key) from codec_math.h.
Status LaunchQsgdScales(const float* x, size_t n, int block, bool l2, uint8_t* scales,
                        uint64_t* bad_block, void* stream);
Status LaunchQsgdQuantize(const float* x, size_t n, int block, int bits, const uint8_t* scales,
                          uint32_t k0, uint32_t k1, uint8_t* signs, uint8_t* planes, void* stream);
Status LaunchQsgdDecode(const uint8_t* scales, const uint8_t* signs, const uint8_t* planes,
                        size_t n, int block, int bits, float* y, const DecodeApply& apply,
                        void* stream);

// Sign plane of x: bit j of byte g set when x[8g + j] has its sign bit set (PackSigns).
Status LaunchPackSigns(const float* x, size_t n, uint8_t* signs, void* stream);

// natural: signs (ceil(n / 8) bytes, LaunchPackSigns) and one biased exponent byte per element
// (NaturalExponent with DitherWord32(key, i)). Sets *too_large to 0 when some |x| > 2^127 or is
// non-finite (the CPU's rejection), after first setting it to UINT64_MAX.
Status LaunchNaturalEncode(const float* x, size_t n, uint32_t k0, uint32_t k1, uint8_t* signs,
                           uint8_t* exps, uint64_t* too_large, void* stream);
Status LaunchNaturalDecode(const uint8_t* signs, const uint8_t* exps, size_t n, float* y,
                           const DecodeApply& apply, void* stream);

// sign: per-block scale float(sum |double(x)| / n_block), summed one element after the other
// from the block's first element (SumAbs in block_codecs.cc), 4-byte little-endian at scales;
// *bad_block = smallest start of a block whose scale is not finite (UINT64_MAX if none).
// Signs are written by LaunchPackSigns.
Status LaunchSignScales(const float* x, size_t n, int block, uint8_t* scales, uint64_t* bad_block,
                        void* stream);
Status LaunchSignDecode(const uint8_t* scales, const uint8_t* signs, size_t n, int block, float* y,
                        const DecodeApply& apply, void* stream);

}  // namespace hearsay::cuda
