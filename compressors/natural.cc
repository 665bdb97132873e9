// Exponent codecs: natural (sign + 8-bit exponent), natural8 (sign + 7-bit exponent window) and
// natdither:s[:block] (natural dithering relative to the block 2-norm). Layouts and bounds are
// in docs/compressors.md.
#include <cmath>
#include <cstring>
#include <string>

#include "compressors/codec_math.h"
#include "compressors/codecs.h"
#include "compressors/feedback_chunks.h"
#include "compressors/kernels.h"
#include "compressors/wire.h"

namespace hearsay {
namespace {

constexpr uint32_t kMaxAbsBits = 0x7F000000u;  // 2^127: larger inputs cannot round up

Status TooLarge(const std::string& spec) {
  return InvalidArgument(spec + ": input has a NaN, an infinity or a value with |x| >= 2^127");
}

class NaturalCodec final : public Compressor {
 public:
  std::string Spec() const override { return "natural"; }
  bool Unbiased() const override { return true; }
  double BitsPerElement(size_t d) const override { return BitsPerElementOf(Bytes(d), d); }
  Status Encode(std::span<const float> x, const RngKey& key, ByteBuffer* out) override {
    const size_t d = x.size();
    HEARSAY_RETURN_IF_ERROR(CheckEncodable(*this, d));
    const size_t start = out->size();
    AppendHeader(out, CodecTag::kNatural, 0, d);
    uint8_t* signs = Grow(out, Bytes(d) - kHeaderBytes);
    // One pass: exponents, signs and the range check (the bytes are dropped if it fails).
    if (kernels::NaturalEncode(x.data(), d, 0, MakeDitherKey(key), signs, signs + DivUp(d, 8)) >
        kMaxAbsBits) {
      out->resize(start);
      return TooLarge(Spec());
    }
    return Status::Ok();
  }
  // ef(natural): element-wise with the element's index as the dither counter, so any chunk of a
  // multiple of 8 elements is the same bytes (feedback_chunks.h).
  Status EncodeWithFeedback(std::span<const float> x, std::span<float> residual, const RngKey& key,
                            ByteBuffer* out, FeedbackScratch* scratch) override {
    const size_t d = x.size();
    HEARSAY_RETURN_IF_ERROR(CheckEncodable(*this, d));
    const size_t start = out->size();
    AppendHeader(out, CodecTag::kNatural, 0, d);
    uint8_t* signs = Grow(out, Bytes(d) - kHeaderBytes);
    uint8_t* exps = signs + DivUp(d, 8);
    const DitherKey dk = MakeDitherKey(key);
    auto encode = [&](const float* p, size_t lo, size_t n) -> Status {
      if (kernels::NaturalEncode(p, n, static_cast<uint32_t>(lo), dk, signs + lo / 8, exps + lo) >
          kMaxAbsBits) {
        out->resize(start);
        return TooLarge(Spec());
      }
      return Status::Ok();
    };
    auto decode = [&](size_t lo, size_t n, float* q) {
      (void)kernels::NaturalDecode(exps + lo, signs + lo / 8, n, q, /*stream=*/false);
    };
    return ChunkedFeedback(x, residual, kFeedbackChunk, scratch, encode, decode);
  }
  Status Decode(std::span<const uint8_t> bytes, const RngKey& key,
                std::span<float> out) const override {
    const size_t d = out.size();
    ByteReader r(bytes);
    HEARSAY_RETURN_IF_ERROR(ReadHeader(&r, *this, CodecTag::kNatural, 0, d));
    std::span<const uint8_t> signs, exps;
    HEARSAY_RETURN_IF_ERROR(ReadSection(&r, *this, "sign bits", DivUp(d, 8), &signs));
    HEARSAY_RETURN_IF_ERROR(ReadSection(&r, *this, "exponents", d, &exps));
    HEARSAY_RETURN_IF_ERROR(ExpectEnd(r, *this));
    const bool stream = d * sizeof(float) >= kernels::kStreamBytes;
    const uint32_t max_e = kernels::NaturalDecode(exps.data(), signs.data(), d, out.data(), stream);
    if (stream) kernels::StoreFence();
    if (max_e == 255) {
      return Corruption(Spec() + ": exponent 255 (infinity) is not a valid natural code");
    }
    return Status::Ok();
  }

 private:
  static size_t Bytes(size_t d) { return kHeaderBytes + DivUp(d, 8) + d; }
};

// ---- natural8 ----

// Code byte: sign << 7 | c; c = 0 is zero, c in 1..127 is the biased exponent base + c - 1.
class Natural8Codec final : public Compressor {
 public:
  std::string Spec() const override { return "natural8"; }
  bool Unbiased() const override { return true; }
  double BitsPerElement(size_t d) const override {
    return d == 0 ? 0.0 : 8.0 * static_cast<double>(kHeaderBytes + 1 + d) / static_cast<double>(d);
  }
  Status Encode(std::span<const float> x, const RngKey& key, ByteBuffer* out) override {
    const size_t d = x.size();
    HEARSAY_RETURN_IF_ERROR(CheckEncodable(*this, d));
    const uint32_t max_bits = kernels::MaxAbsBits(x.data(), d);
    if (max_bits >= kMaxAbsBits) return TooLarge(Spec());
    const uint32_t top = max_bits >> 23;  // <= 253, so top + 1 fits the window
    const uint32_t base = top + 1 > 127 ? top + 1 - 126 : 1;
    AppendHeader(out, CodecTag::kNatural8, 0, d);
    uint8_t* p = Grow(out, 1 + d);
    p[0] = static_cast<uint8_t>(base);
    kernels::Natural8Encode(x.data(), d, 0, MakeDitherKey(key), base, p + 1);
    return Status::Ok();
  }
  Status Decode(std::span<const uint8_t> bytes, const RngKey& key,
                std::span<float> out) const override {
    const size_t d = out.size();
    ByteReader r(bytes);
    HEARSAY_RETURN_IF_ERROR(ReadHeader(&r, *this, CodecTag::kNatural8, 0, d));
    uint8_t base = 0;
    if (!r.ReadPod(&base)) return Corruption(Spec() + ": payload truncated before the base");
    if (base < 1 || base > 128) {
      return Corruption(Spec() + ": base exponent " + std::to_string(base) + " outside 1..128");
    }
    std::span<const uint8_t> codes;
    HEARSAY_RETURN_IF_ERROR(ReadSection(&r, *this, "codes", d, &codes));
    HEARSAY_RETURN_IF_ERROR(ExpectEnd(r, *this));
    const bool stream = d * sizeof(float) >= kernels::kStreamBytes;
    kernels::Natural8Decode(codes.data(), d, base, out.data(), stream);
    if (stream) kernels::StoreFence();
    return Status::Ok();
  }
};

// ---- natdither ----

constexpr float kTinyNorm = 0x1p-100f;
constexpr float kPrescale = 0x1p100f;

// Code byte: sign << 7 | j; j = 0 is zero, j in 1..s is the level 2^(j - s) of the block norm.
class NatDitherCodec final : public Compressor {
 public:
  NatDitherCodec(int levels, int block) : s_(levels), block_(block) {}
  std::string Spec() const override {
    return "natdither:" + std::to_string(s_) +
           (block_ != kDefaultBlock ? ":" + std::to_string(block_) : "");
  }
  bool Unbiased() const override { return true; }
  double BitsPerElement(size_t d) const override { return BitsPerElementOf(Bytes(d), d); }
  Status Encode(std::span<const float> x, const RngKey& key, ByteBuffer* out) override {
    const size_t d = x.size();
    HEARSAY_RETURN_IF_ERROR(CheckEncodable(*this, d));
    const size_t start = out->size();
    AppendHeader(out, CodecTag::kNatDither, static_cast<uint8_t>(s_), d);
    const size_t nb = DivUp(d, static_cast<size_t>(block_));
    Grow(out, Bytes(d) - kHeaderBytes);
    uint8_t* scales = out->data() + start + kHeaderBytes;
    return EncodeBlocks(x.data(), 0, d, MakeDitherKey(key), out, start, scales, scales + 4 * nb);
  }
  // ef(natdither): the generic path's floats in chunks of 64 blocks (feedback_chunks.h); a
  // block's 2-norm is summed in index order however the blocks are batched.
  Status EncodeWithFeedback(std::span<const float> x, std::span<float> residual, const RngKey& key,
                            ByteBuffer* out, FeedbackScratch* scratch) override {
    const size_t d = x.size();
    HEARSAY_RETURN_IF_ERROR(CheckEncodable(*this, d));
    const size_t start = out->size();
    AppendHeader(out, CodecTag::kNatDither, static_cast<uint8_t>(s_), d);
    const auto block = static_cast<size_t>(block_);
    Grow(out, Bytes(d) - kHeaderBytes);
    uint8_t* scales = out->data() + start + kHeaderBytes;
    uint8_t* codes = scales + 4 * DivUp(d, block);
    const DitherKey dk = MakeDitherKey(key);
    auto encode = [&](const float* p, size_t lo0, size_t len) -> Status {
      return EncodeBlocks(p, lo0, len, dk, out, start, scales, codes);
    };
    auto decode = [&](size_t lo0, size_t len, float* q) {
      for (size_t lo = lo0; lo < lo0 + len; lo += block) {
        float norm;
        std::memcpy(&norm, scales + 4 * (lo / block), 4);
        (void)kernels::NatDitherDecode(codes + lo, std::min(block, lo0 + len - lo), norm, s_,
                                       q + (lo - lo0), /*stream=*/false);
      }
    };
    constexpr size_t kChunkBlocks = 64;
    return ChunkedFeedback(x, residual, kChunkBlocks * block, scratch, encode, decode);
  }
  Status Decode(std::span<const uint8_t> bytes, const RngKey& key,
                std::span<float> out) const override {
    const size_t d = out.size();
    ByteReader r(bytes);
    HEARSAY_RETURN_IF_ERROR(
        ReadHeader(&r, *this, CodecTag::kNatDither, static_cast<uint8_t>(s_), d));
    const size_t nb = DivUp(d, static_cast<size_t>(block_));
    std::span<const uint8_t> scales, codes;
    HEARSAY_RETURN_IF_ERROR(ReadSection(&r, *this, "block norms", 4 * nb, &scales));
    HEARSAY_RETURN_IF_ERROR(ReadSection(&r, *this, "codes", d, &codes));
    HEARSAY_RETURN_IF_ERROR(ExpectEnd(r, *this));
    const bool stream = d * sizeof(float) >= kernels::kStreamBytes;
    Status status = Status::Ok();
    for (size_t b = 0; b < nb && status.ok(); ++b) {
      float norm;
      std::memcpy(&norm, scales.data() + 4 * b, 4);
      if (!(norm >= 0.0f) || !std::isfinite(norm)) {
        status = Corruption(Spec() + ": block " + std::to_string(b) + " has an invalid norm");
        break;
      }
      const size_t lo = b * block_;
      const size_t n = std::min<size_t>(block_, d - lo);
      if (kernels::NatDitherDecode(codes.data() + lo, n, norm, s_, out.data() + lo, stream) >
          static_cast<uint32_t>(s_)) {
        status = Corruption(Spec() + ": level index above " + std::to_string(s_) + " in block " +
                            std::to_string(b));
      }
    }
    if (stream) kernels::StoreFence();
    return status;
  }

 private:
  size_t Bytes(size_t d) const {
    return kHeaderBytes + 4 * DivUp(d, static_cast<size_t>(block_)) + d;
  }
  // The norms and codes of elements [lo0, lo0 + len) (whole blocks but for the vector's last),
  // given at x. A NaN or infinity undoes the append (to `start`).
  Status EncodeBlocks(const float* x, size_t lo0, size_t len, const DitherKey& dk, ByteBuffer* out,
                      size_t start, uint8_t* scales, uint8_t* codes) const {
    const auto block = static_cast<size_t>(block_);
    kernels::BlockSumStream sums(x, len, block, /*squares=*/true);
    for (size_t lo = lo0; lo < lo0 + len; lo += block) {
      const size_t n = std::min(block, lo0 + len - lo);
      const double ss = sums.Get((lo - lo0) / block);
      const float norm = static_cast<float>(std::sqrt(ss));
      if (!std::isfinite(norm)) {
        out->resize(start);
        return InvalidArgument(Spec() + ": input has a NaN or infinite value in the block at " +
                               std::to_string(lo));
      }
      std::memcpy(scales + 4 * (lo / block), &norm, 4);
      const float prescale = norm < kTinyNorm ? kPrescale : 1.0f;
      const float inv_norm = norm > 0 ? 1.0f / (norm * prescale) : 0.0f;
      kernels::NatDitherEncode(x + (lo - lo0), n, static_cast<uint32_t>(lo), dk, prescale, inv_norm,
                               s_, codes + lo);
    }
    return Status::Ok();
  }
  int32_t s_;
  int block_;
};

}  // namespace

std::unique_ptr<Compressor> MakeNaturalCodec() { return std::make_unique<NaturalCodec>(); }
std::unique_ptr<Compressor> MakeNatural8Codec() { return std::make_unique<Natural8Codec>(); }
std::unique_ptr<Compressor> MakeNatDitherCodec(int levels, int block) {
  return std::make_unique<NatDitherCodec>(levels, block);
}

}  // namespace hearsay
