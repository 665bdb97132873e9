// CudaCodec: spec parsing, payload layout and host-side validation; the kernels are in
// codec_kernels.cu. Layouts and checks follow float_codecs.cc and qsgd.cc line by line.
#include "compressors/cuda/cuda_codec.h"

#include <cuda_runtime_api.h>

#include <cmath>
#include <cstring>
#include <limits>

#include "compressors/codec_math.h"
#include "compressors/codecs.h"
#include "compressors/cuda/cuda_check.h"
#include "compressors/spec.h"
#include "compressors/wire.h"

namespace hearsay::cuda {
namespace {
constexpr uint64_t kNoError = std::numeric_limits<uint64_t>::max();
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
  } else {
    return Unimplemented("codec '" + c->spec_ +
                         "' has no CUDA implementation yet (GPU codecs: identity, fp16, bf16, "
                         "qsgd, terngrad)");
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
  }
  return 0;
}

uint8_t CudaCodec::param() const {
  return kind_ == Kind::kQsgd ? static_cast<uint8_t>(bits_ | (l2_ ? 0x80 : 0)) : 0;
}

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
  }
  return 0;
}

Status CudaCodec::EncodeAsync(const float* x, size_t d, const RngKey& key, uint8_t* out,
                              uint64_t* error_word, void* stream) const {
  HEARSAY_RETURN_IF_ERROR(CheckEncodable(spec_, d));
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
  }
  return Internal("unreachable");
}

Status CudaCodec::EncodeResult(uint64_t error_word) const {
  if (error_word == kNoError) return Status::Ok();
  return InvalidArgument(spec_ + ": input has a NaN or infinite value in the block starting at " +
                         std::to_string(error_word));
}

Status CudaCodec::Validate(std::span<const uint8_t> bytes, size_t d) const {
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
  }
  return Internal("unreachable");
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
  }
  return Internal("unreachable");
}

}  // namespace hearsay::cuda
