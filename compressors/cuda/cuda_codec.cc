// CudaCodec: spec parsing, payload layout and host-side validation; the kernels are in
// codec_kernels.cu and sparse_kernels.cu. Layouts and checks follow float_codecs.cc, qsgd.cc,
// natural.cc, block_codecs.cc and sparse.cc line by line.
#include "compressors/cuda/cuda_codec.h"

#include <cuda_runtime_api.h>

#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "common/cuda/cuda_check.h"
#include "compressors/codec_math.h"
#include "compressors/codecs.h"
#include "compressors/cuda/sparse_kernels.h"
#include "compressors/sparse.h"
#include "compressors/spec.h"
#include "compressors/wire.h"

namespace hearsay::cuda {
namespace {
constexpr uint64_t kNoError = std::numeric_limits<uint64_t>::max();
// Error word of a top-k sparsifier with NaN/inf input; above every value codec's error word
// (block starts < 2^32, natural's 0), so the sparsifier's error wins, as on the CPU.
constexpr uint64_t kTopKBad = uint64_t{1} << 63;

cudaStream_t S(void* stream) { return static_cast<cudaStream_t>(stream); }

// A stream-ordered device allocation released (stream-ordered) when it goes out of scope.
class StreamScratch {
 public:
  explicit StreamScratch(void* stream) : stream_(S(stream)) {}
  ~StreamScratch() {
    if (p_ != nullptr) (void)cudaFreeAsync(p_, stream_);
  }
  StreamScratch(const StreamScratch&) = delete;
  StreamScratch& operator=(const StreamScratch&) = delete;
  Status Allocate(size_t bytes, const std::string& what) {
    return CudaStatus(cudaMallocAsync(&p_, bytes < 256 ? 256 : bytes, stream_), what);
  }
  uint8_t* data() const { return static_cast<uint8_t*>(p_); }

 private:
  cudaStream_t stream_;
  void* p_ = nullptr;
};

size_t Align256(size_t b) { return (b + 255) / 256 * 256; }

bool IsSparsifier(const std::string& name) {
  return name == "topk" || name == "randk" || name == "randk_unbiased";
}
}  // namespace

Result<std::unique_ptr<CudaCodec>> CudaCodec::Make(std::string_view spec) {
  // The CPU factory validates the spec and gives the canonical form and the codec's properties.
  HEARSAY_ASSIGN_OR_RETURN(std::unique_ptr<Compressor> cpu, MakeCompressor(spec));
  HEARSAY_ASSIGN_OR_RETURN(SpecNode node, ParseSpec(cpu->Spec()));
  std::unique_ptr<CudaCodec> c(new CudaCodec());
  c->spec_ = cpu->Spec();
  c->unbiased_ = cpu->Unbiased();
  if (node.name == "identity") {
    c->kind_ = Kind::kIdentity;
  } else if (node.name == "fp16") {
    c->kind_ = Kind::kFp16;
  } else if (node.name == "bf16") {
    c->kind_ = Kind::kBf16;
  } else if (node.name == "qsgd" || node.name == "terngrad") {
    c->kind_ = Kind::kQsgd;
    c->terngrad_ = node.name == "terngrad";
    c->bits_ = c->terngrad_ ? 1 : std::stoi(node.args.at(0));
    for (size_t i = c->terngrad_ ? 0 : 1; i < node.args.size(); ++i) {
      if (node.args[i] == "norm=l2") {
        c->l2_ = true;
      } else if (node.args[i] != "norm=max") {
        c->block_ = std::stoi(node.args[i]);
      }
    }
  } else if (node.name == "natural") {
    c->kind_ = Kind::kNatural;
  } else if (node.name == "sign") {
    c->kind_ = Kind::kSign;
    if (!node.args.empty()) c->block_ = std::stoi(node.args[0]);
  } else if (IsSparsifier(node.name) || node.name == "then") {
    // The ratio is read from the spec as given (like make_compressor.cc), not from the
    // canonical "%.9g" form, so that k is the CPU codec's k for every ratio.
    HEARSAY_ASSIGN_OR_RETURN(SpecNode given, ParseSpec(spec));
    const SpecNode& s = given.name == "then" ? given.children.at(0) : given;
    const std::string& r = s.args.at(0);
    std::from_chars(r.data(), r.data() + r.size(), c->ratio_);
    c->kind_ = Kind::kSparse;
    c->sparse_ = s.name == "topk"    ? Sparse::kTopK
                 : s.name == "randk" ? Sparse::kRandK
                                     : Sparse::kRandKUnbiased;
    if (given.name == "then") {
      if (IsSparsifier(given.children.at(1).name)) {
        return Unimplemented("codec '" + c->spec_ +
                             "': then() with a sparsifier as the value codec has no CUDA "
                             "implementation");
      }
      HEARSAY_ASSIGN_OR_RETURN(c->values_, Make(given.children.at(1).text));
    }
  } else {
    return Unimplemented("codec '" + c->spec_ +
                         "' has no CUDA implementation yet (GPU codecs: identity, fp16, bf16, "
                         "qsgd, terngrad, natural, sign, topk, randk, randk_unbiased, then)");
  }
  return c;
}

uint8_t CudaCodec::tag() const {
  switch (kind_) {
    case Kind::kIdentity:
      return static_cast<uint8_t>(CodecTag::kIdentity);
    case Kind::kFp16:
      return static_cast<uint8_t>(CodecTag::kFp16);
    case Kind::kBf16:
      return static_cast<uint8_t>(CodecTag::kBf16);
    case Kind::kQsgd:
      return static_cast<uint8_t>(terngrad_ ? CodecTag::kTernGrad : CodecTag::kQsgd);
    case Kind::kNatural:
      return static_cast<uint8_t>(CodecTag::kNatural);
    case Kind::kSign:
      return static_cast<uint8_t>(CodecTag::kSign);
    case Kind::kSparse:
      return static_cast<uint8_t>(sparse_ == Sparse::kTopK    ? CodecTag::kTopK
                                  : sparse_ == Sparse::kRandK ? CodecTag::kRandK
                                                              : CodecTag::kRandKUnbiased);
  }
  return 0;
}

uint8_t CudaCodec::param() const {
  if (kind_ == Kind::kSparse) return values_ ? 1 : 0;
  return kind_ == Kind::kQsgd ? static_cast<uint8_t>(bits_ | (l2_ ? 0x80 : 0)) : 0;
}

size_t CudaCodec::Kept(size_t d) const { return hearsay::SparseK(ratio_, d); }

size_t CudaCodec::EncodedBytes(size_t d) const {
  switch (kind_) {
    case Kind::kIdentity:
      return kHeaderBytes + 4 * d;
    case Kind::kFp16:
    case Kind::kBf16:
      return kHeaderBytes + 2 * d;
    case Kind::kQsgd:
      return kHeaderBytes + 4 * DivUp(d, static_cast<size_t>(block_)) + DivUp(d, 8) +
             DivUp(d * bits_, 8);
    case Kind::kNatural:
      return kHeaderBytes + DivUp(d, 8) + d;
    case Kind::kSign:
      return kHeaderBytes + 4 * DivUp(d, static_cast<size_t>(block_)) + DivUp(d, 8);
    case Kind::kSparse: {
      const size_t k = Kept(d);
      return kHeaderBytes + 4 + (sparse_ == Sparse::kTopK ? 4 * k : 0) +
             (values_ ? values_->EncodedBytes(k) : 4 * k);
    }
  }
  return 0;
}

Status CudaCodec::EncodeAsync(const float* x, size_t d, const RngKey& key, uint8_t* out,
                              uint64_t* error_word, void* stream) const {
  HEARSAY_RETURN_IF_ERROR(CheckEncodable(spec_, d));
  if (kind_ == Kind::kSparse) return EncodeSparse(x, d, key, out, error_word, stream);
  HEARSAY_RETURN_IF_ERROR(LaunchWriteHeader(out, tag(), param(), static_cast<uint32_t>(d), stream));
  uint8_t* body = out + kHeaderBytes;
  switch (kind_) {
    case Kind::kIdentity:
      HEARSAY_CUDA_RETURN_IF_ERROR(
          cudaMemsetAsync(error_word, 0xFF, sizeof(uint64_t), static_cast<cudaStream_t>(stream)),
          spec_ + ": reset of the error word");
      if (d == 0) return Status::Ok();
      return CudaStatus(cudaMemcpyAsync(body, x, 4 * d, cudaMemcpyDeviceToDevice,
                                        static_cast<cudaStream_t>(stream)),
                        spec_ + ": copy of the values");
    case Kind::kFp16:
    case Kind::kBf16:
      HEARSAY_CUDA_RETURN_IF_ERROR(
          cudaMemsetAsync(error_word, 0xFF, sizeof(uint64_t), static_cast<cudaStream_t>(stream)),
          spec_ + ": reset of the error word");
      return LaunchHalfEncode(x, d, kind_ == Kind::kBf16, body, stream);
    case Kind::kQsgd: {
      const size_t nb = DivUp(d, static_cast<size_t>(block_));
      uint8_t* scales = body;
      uint8_t* signs = scales + 4 * nb;
      uint8_t* planes = signs + DivUp(d, 8);
      HEARSAY_RETURN_IF_ERROR(LaunchQsgdScales(x, d, block_, l2_, scales, error_word, stream));
      const DitherKey dk = MakeDitherKey(key);
      return LaunchQsgdQuantize(x, d, block_, bits_, scales, dk.k0, dk.k1, signs, planes, stream);
    }
    case Kind::kNatural: {
      const DitherKey dk = MakeDitherKey(key);
      return LaunchNaturalEncode(x, d, dk.k0, dk.k1, body, body + DivUp(d, 8), error_word, stream);
    }
    case Kind::kSign: {
      const size_t nb = DivUp(d, static_cast<size_t>(block_));
      HEARSAY_RETURN_IF_ERROR(LaunchSignScales(x, d, block_, body, error_word, stream));
      return LaunchPackSigns(x, d, body + 4 * nb, stream);
    }
    case Kind::kSparse:
      break;
  }
  return Internal("unreachable");
}

Status CudaCodec::EncodeSparse(const float* x, size_t d, const RngKey& key, uint8_t* out,
                               uint64_t* error_word, void* stream) const {
  const size_t k = Kept(d);
  HEARSAY_CUDA_RETURN_IF_ERROR(cudaMemsetAsync(error_word, 0xFF, sizeof(uint64_t), S(stream)),
                               spec_ + ": reset of the error word");
  HEARSAY_RETURN_IF_ERROR(LaunchSparseHeader(out, tag(), param(), static_cast<uint32_t>(d),
                                             static_cast<uint32_t>(k), stream));
  // Scratch: the k indices (rand-k only; top-k writes them into the payload), the k kept values
  // (then() only; otherwise they go straight into the payload) and the value codec's error word.
  StreamScratch scratch(stream);
  HEARSAY_RETURN_IF_ERROR(scratch.Allocate(2 * Align256(4 * k) + 256, spec_ + ": scratch"));
  uint8_t* body = out + kHeaderBytes + 4;
  uint32_t* idx = reinterpret_cast<uint32_t*>(scratch.data());
  if (sparse_ == Sparse::kTopK) {
    if (reinterpret_cast<uintptr_t>(out) % 4 != 0) {
      return InvalidArgument(spec_ + ": output not 4-byte aligned");
    }
    idx = reinterpret_cast<uint32_t*>(body);
    HEARSAY_RETURN_IF_ERROR(
        LaunchTopKIndices(x, d, k, idx, error_word, kTopKBad, stream).WithPrefix(spec_));
    body += 4 * k;
  } else {
    const DitherKey dk = MakeDitherKey(key, kStreamCodecIndex);
    HEARSAY_RETURN_IF_ERROR(LaunchRandKIndices(dk.k0, dk.k1, d, k, idx, stream));
  }
  const bool unbiased = sparse_ == Sparse::kRandKUnbiased;
  if (!values_) {
    if (reinterpret_cast<uintptr_t>(body) % 4 != 0) {
      return InvalidArgument(spec_ + ": output not 4-byte aligned");
    }
    return LaunchSparseGather(x, idx, d, k, unbiased, reinterpret_cast<float*>(body), stream);
  }
  auto* vals = reinterpret_cast<float*>(scratch.data() + Align256(4 * k));
  auto* inner_error = reinterpret_cast<uint64_t*>(scratch.data() + 2 * Align256(4 * k));
  HEARSAY_RETURN_IF_ERROR(LaunchSparseGather(x, idx, d, k, unbiased, vals, stream));
  HEARSAY_RETURN_IF_ERROR(values_->EncodeAsync(vals, k, key, body, inner_error, stream));
  return LaunchTakeErrorIfNone(error_word, inner_error, stream);
}

Status CudaCodec::EncodeResult(uint64_t error_word) const {
  if (error_word == kNoError) return Status::Ok();
  switch (kind_) {
    case Kind::kNatural:  // natural.cc TooLarge
      return InvalidArgument(spec_ + ": input has a NaN, an infinity or a value with |x| >= 2^127");
    case Kind::kSign:
      return InvalidArgument(spec_ + ": input has a NaN or infinite value in the block at " +
                             std::to_string(error_word));
    case Kind::kSparse:  // sparse.cc: TopKIndices' error with the spec prefix, else C's error
      if (error_word == kTopKBad) {
        return InvalidArgument("topk: input has a NaN or infinite value").WithPrefix(spec_);
      }
      return values_ ? values_->EncodeResult(error_word) : Status::Ok();
    default:
      return InvalidArgument(spec_ +
                             ": input has a NaN or infinite value in the block starting at " +
                             std::to_string(error_word));
  }
}

Status CudaCodec::Validate(std::span<const uint8_t> bytes, size_t d) const {
  if (kind_ == Kind::kSparse) return ValidateSparse(bytes, d);
  ByteReader r(bytes);
  HEARSAY_RETURN_IF_ERROR(ReadHeader(&r, spec_, static_cast<CodecTag>(tag()), param(), d));
  std::span<const uint8_t> section;
  switch (kind_) {
    case Kind::kIdentity:
      HEARSAY_RETURN_IF_ERROR(ReadSection(&r, spec_, "values", 4 * d, &section));
      return ExpectEnd(r, spec_);
    case Kind::kFp16:
    case Kind::kBf16:
      HEARSAY_RETURN_IF_ERROR(ReadSection(&r, spec_, "values", 2 * d, &section));
      return ExpectEnd(r, spec_);
    case Kind::kQsgd: {
      const size_t nb = DivUp(d, static_cast<size_t>(block_));
      std::span<const uint8_t> scales, signs, planes;
      HEARSAY_RETURN_IF_ERROR(ReadSection(&r, spec_, "block scales", 4 * nb, &scales));
      HEARSAY_RETURN_IF_ERROR(ReadSection(&r, spec_, "sign bits", DivUp(d, 8), &signs));
      HEARSAY_RETURN_IF_ERROR(ReadSection(&r, spec_, "levels", DivUp(d * bits_, 8), &planes));
      HEARSAY_RETURN_IF_ERROR(ExpectEnd(r, spec_));
      for (size_t b = 0; b < nb; ++b) {
        float s;
        std::memcpy(&s, scales.data() + 4 * b, 4);
        if (!(s >= 0.0f) || !std::isfinite(s)) {
          return Corruption(spec_ + ": block " + std::to_string(b) +
                            " has an invalid scale (negative, NaN or infinite)");
        }
      }
      return Status::Ok();
    }
    case Kind::kNatural: {
      std::span<const uint8_t> signs, exps;
      HEARSAY_RETURN_IF_ERROR(ReadSection(&r, spec_, "sign bits", DivUp(d, 8), &signs));
      HEARSAY_RETURN_IF_ERROR(ReadSection(&r, spec_, "exponents", d, &exps));
      HEARSAY_RETURN_IF_ERROR(ExpectEnd(r, spec_));
      for (uint8_t e : exps) {
        if (e == 255) {
          return Corruption(spec_ + ": exponent 255 (infinity) is not a valid natural code");
        }
      }
      return Status::Ok();
    }
    case Kind::kSign: {
      const size_t nb = DivUp(d, static_cast<size_t>(block_));
      std::span<const uint8_t> scales, signs;
      HEARSAY_RETURN_IF_ERROR(ReadSection(&r, spec_, "block scales", 4 * nb, &scales));
      HEARSAY_RETURN_IF_ERROR(ReadSection(&r, spec_, "sign bits", DivUp(d, 8), &signs));
      HEARSAY_RETURN_IF_ERROR(ExpectEnd(r, spec_));
      for (size_t b = 0; b < nb; ++b) {
        float s;
        std::memcpy(&s, scales.data() + 4 * b, 4);
        if (!(s >= 0.0f && std::isfinite(s))) {
          return Corruption(spec_ + ": block " + std::to_string(b) + " has an invalid scale");
        }
      }
      return Status::Ok();
    }
    case Kind::kSparse:
      break;
  }
  return Internal("unreachable");
}

// sparse.cc Decode's checks, in its order.
Status CudaCodec::ValidateSparse(std::span<const uint8_t> bytes, size_t d) const {
  ByteReader r(bytes);
  HEARSAY_RETURN_IF_ERROR(ReadHeader(&r, spec_, static_cast<CodecTag>(tag()), param(), d));
  uint32_t k = 0;
  if (!r.ReadPod(&k)) return Corruption(spec_ + ": payload truncated before k");
  if (k != Kept(d)) {
    return Corruption(spec_ + ": payload keeps " + std::to_string(k) + " values, expected " +
                      std::to_string(Kept(d)));
  }
  if (sparse_ == Sparse::kTopK) {
    std::span<const uint8_t> raw;
    HEARSAY_RETURN_IF_ERROR(ReadSection(&r, spec_, "indices", 4 * size_t{k}, &raw));
    std::vector<uint32_t> idx(k);
    if (k != 0) std::memcpy(idx.data(), raw.data(), raw.size());
    for (size_t j = 0; j < k; ++j) {
      if (idx[j] >= d || (j > 0 && idx[j] <= idx[j - 1])) {
        return Corruption(spec_ + ": index " + std::to_string(idx[j]) + " at position " +
                          std::to_string(j) + " is out of range or not ascending");
      }
    }
  }
  std::span<const uint8_t> rest;
  HEARSAY_RETURN_IF_ERROR(ReadSection(&r, spec_, "values", r.remaining(), &rest));
  if (values_) return values_->Validate(rest, k).WithPrefix(spec_);
  if (rest.size() != 4 * size_t{k}) {
    return Corruption(spec_ + ": expected " + std::to_string(4 * size_t{k}) +
                      " bytes of values, got " + std::to_string(rest.size()));
  }
  return Status::Ok();
}

Status CudaCodec::DecodeAsync(const uint8_t* bytes, size_t d, const RngKey& key, float* y,
                              const DecodeApply& apply, void* stream) const {
  const uint8_t* body = bytes + kHeaderBytes;
  switch (kind_) {
    case Kind::kIdentity:
      return LaunchRawDecode(body, d, y, apply, stream);
    case Kind::kFp16:
    case Kind::kBf16:
      return LaunchHalfDecode(body, d, kind_ == Kind::kBf16, y, apply, stream);
    case Kind::kQsgd: {
      const size_t nb = DivUp(d, static_cast<size_t>(block_));
      const uint8_t* scales = body;
      const uint8_t* signs = scales + 4 * nb;
      const uint8_t* planes = signs + DivUp(d, 8);
      return LaunchQsgdDecode(scales, signs, planes, d, block_, bits_, y, apply, stream);
    }
    case Kind::kNatural:
      return LaunchNaturalDecode(body, body + DivUp(d, 8), d, y, apply, stream);
    case Kind::kSign:
      return LaunchSignDecode(body, body + 4 * DivUp(d, static_cast<size_t>(block_)), d, block_, y,
                              apply, stream);
    case Kind::kSparse:
      return DecodeSparse(bytes, d, key, y, apply, stream);
  }
  return Internal("unreachable");
}

// The CPU decodes into a dense vector (zeros except at the kept indices) and the algorithms then
// apply it element by element; every element's update runs (y + 0 turns -0 into +0, ECD rescales
// every y), so unless the update is a plain store the dense vector is built in scratch first.
Status CudaCodec::DecodeSparse(const uint8_t* bytes, size_t d, const RngKey& key, float* y,
                               const DecodeApply& apply, void* stream) const {
  const size_t k = Kept(d);
  const bool store = apply.op == DecodeApply::Op::kStore;
  StreamScratch scratch(stream);
  HEARSAY_RETURN_IF_ERROR(
      scratch.Allocate(2 * Align256(4 * k) + (store ? 0 : 4 * d), spec_ + ": decode scratch"));
  const uint8_t* body = bytes + kHeaderBytes + 4;
  const uint32_t* idx = reinterpret_cast<const uint32_t*>(body);
  if (sparse_ == Sparse::kTopK) {
    body += 4 * k;
  } else {
    auto* ridx = reinterpret_cast<uint32_t*>(scratch.data());
    const DitherKey dk = MakeDitherKey(key, kStreamCodecIndex);
    HEARSAY_RETURN_IF_ERROR(LaunchRandKIndices(dk.k0, dk.k1, d, k, ridx, stream));
    idx = ridx;
  }
  const float* vals = reinterpret_cast<const float*>(body);
  if (values_) {
    auto* v = reinterpret_cast<float*>(scratch.data() + Align256(4 * k));
    HEARSAY_RETURN_IF_ERROR(values_->DecodeAsync(body, k, key, v, DecodeApply{}, stream));
    vals = v;
  }
  float* dense = store ? y : reinterpret_cast<float*>(scratch.data() + 2 * Align256(4 * k));
  if (d > 0) {
    HEARSAY_CUDA_RETURN_IF_ERROR(cudaMemsetAsync(dense, 0, 4 * d, S(stream)),
                                 spec_ + ": zeroing of the output");
  }
  HEARSAY_RETURN_IF_ERROR(LaunchSparseScatter(idx, vals, k, dense, stream));
  if (store) return Status::Ok();
  return LaunchRawDecode(reinterpret_cast<const uint8_t*>(dense), d, y, apply, stream);
}

}  // namespace hearsay::cuda
