// CudaCodec: the GPU twin of a Compressor (compressor.h) for vectors in device memory.
//
// Built from the same spec string as the CPU codec; encodes to the same bytes for the same
// RngKey and decodes with a fused DecodeApply step (codec_kernels.h). Supported today: identity,
// fp16, bf16, qsgd:b[:block][:norm=l2], terngrad[:block], natural, sign[:block], topk:r,
// randk:r, randk_unbiased:r and then(S, C) for one of those sparsifiers S and a codec C of this
// list other than a sparsifier. Other specs (natural8, natdither, minmax8, ef) give Unimplemented
// (the caller then falls back to the CPU codec on a host copy, or reports it).
//
// Split of work: validation of received bytes runs on the host, on the bytes as they came off
// the network (same checks and messages as the CPU Decode: Corruption), then the caller copies
// them to the device and runs DecodeAsync, which trusts them. Encoding runs entirely on the
// device; input errors (NaN/inf for qsgd) are written to a caller-owned device word and turned
// into a Status by EncodeResult after the stream has been synchronised.
//
// Ownership: holds no device memory; all buffers belong to the caller. The sparsifiers allocate
// their scratch stream-ordered (cudaMallocAsync / cudaFreeAsync) inside EncodeAsync/DecodeAsync.
// Thread-safety: const methods only; safe to use from several threads with distinct buffers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "common/random.h"
#include "common/status.h"
#include "compressors/cuda/codec_kernels.h"

namespace hearsay::cuda {

class CudaCodec {
 public:
  // Errors: the CPU spec errors of MakeCompressor; Unimplemented for codecs without a GPU twin.
  static Result<std::unique_ptr<CudaCodec>> Make(std::string_view spec);

  const std::string& Spec() const { return spec_; }  // canonical, as Compressor::Spec()
  bool Unbiased() const { return unbiased_; }
  // Exact encoded size of a vector of d elements (every supported codec has a fixed size).
  size_t EncodedBytes(size_t d) const;

  // Encodes the device vector x[0, d) into out[0, EncodedBytes(d)) on `stream`. `error_word` is
  // one device uint64 (any codec may use it); read it after the stream finished and pass it to
  // EncodeResult. Returns launch errors only.
  Status EncodeAsync(const float* x, size_t d, const RngKey& key, uint8_t* out,
                     uint64_t* error_word, void* stream) const;
  // InvalidArgument naming the first block with a NaN or infinity (as the CPU codec), or Ok.
  Status EncodeResult(uint64_t error_word) const;

  // The CPU decoder's checks on host bytes for a vector of d elements (header, section sizes,
  // trailing bytes, scale validity): Ok or Corruption with the CPU's message.
  Status Validate(std::span<const uint8_t> bytes, size_t d) const;
  // Decodes validated bytes already on the device (`bytes`, 4-byte aligned) into y[0, d).
  Status DecodeAsync(const uint8_t* bytes, size_t d, const RngKey& key, float* y,
                     const DecodeApply& apply, void* stream) const;

 private:
  enum class Kind { kIdentity, kFp16, kBf16, kQsgd, kNatural, kSign, kSparse };
  enum class Sparse { kTopK, kRandK, kRandKUnbiased };
  CudaCodec() = default;
  uint8_t tag() const;
  uint8_t param() const;
  size_t Kept(size_t d) const;  // k of the sparsifier (SparseK in sparse.h)
  Status EncodeSparse(const float* x, size_t d, const RngKey& key, uint8_t* out,
                      uint64_t* error_word, void* stream) const;
  Status ValidateSparse(std::span<const uint8_t> bytes, size_t d) const;
  Status DecodeSparse(const uint8_t* bytes, size_t d, const RngKey& key, float* y,
                      const DecodeApply& apply, void* stream) const;

  std::string spec_;
  Kind kind_ = Kind::kIdentity;
  bool unbiased_ = true;
  int bits_ = 8;
  int block_ = 256;
  bool l2_ = false;
  bool terngrad_ = false;
  Sparse sparse_ = Sparse::kTopK;
  double ratio_ = 1.0;
  std::unique_ptr<CudaCodec> values_;  // then(S, C): C; null: raw fp32 values
};

}  // namespace hearsay::cuda
