// Deterministic block codecs: sign[:block] (sign bits + per-block mean |x|) and minmax8[:block]
// (per-block min/max, 8-bit codes rounded to nearest). Both are biased; layouts in
// docs/compressors.md.
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

bool ValidScale(float s) { return s >= 0.0f && std::isfinite(s); }

class SignCodec final : public Compressor {
 public:
  explicit SignCodec(int block) : block_(block) {}
  std::string Spec() const override { return BlockSpec("sign", block_, kDefaultBlock); }
  bool Unbiased() const override { return false; }
  double BitsPerElement(size_t d) const override { return BitsPerElementOf(Bytes(d), d); }
  Status Encode(std::span<const float> x, const RngKey& key, ByteBuffer* out) override {
    const size_t d = x.size();
    HEARSAY_RETURN_IF_ERROR(CheckEncodable(*this, d));
    const size_t start = out->size();
    AppendHeader(out, CodecTag::kSign, 0, d);
    const size_t nb = DivUp(d, static_cast<size_t>(block_));
    Grow(out, Bytes(d) - kHeaderBytes);
    uint8_t* scales = out->data() + start + kHeaderBytes;
    uint8_t* signs = scales + 4 * nb;
    return EncodeBlocks(x.data(), 0, d, out, start, scales, signs);
  }
  // ef(sign): the generic path's floats in chunks of 64 blocks (feedback_chunks.h); a block's
  // mean |p| is summed in index order however the blocks are batched (kernels::BlockSums).
  Status EncodeWithFeedback(std::span<const float> x, std::span<float> residual, const RngKey& key,
                            ByteBuffer* out, FeedbackScratch* scratch) override {
    const size_t d = x.size();
    HEARSAY_RETURN_IF_ERROR(CheckEncodable(*this, d));
    const size_t start = out->size();
    AppendHeader(out, CodecTag::kSign, 0, d);
    const auto block = static_cast<size_t>(block_);
    const size_t nb = DivUp(d, block);
    Grow(out, Bytes(d) - kHeaderBytes);
    uint8_t* scales = out->data() + start + kHeaderBytes;
    uint8_t* signs = scales + 4 * nb;
    auto encode = [&](const float* p, size_t lo0, size_t len) -> Status {
      return EncodeBlocks(p, lo0, len, out, start, scales, signs);
    };
    auto decode = [&](size_t lo, size_t len, float* q) {
      kernels::SignDecodeBlocks(scales + 4 * (lo / block), signs + lo / 8, len, block, q,
                                /*stream=*/false);
    };
    constexpr size_t kChunkBlocks = 64;
    return ChunkedFeedback(x, residual, kChunkBlocks * block, scratch, encode, decode);
  }
  Status Decode(std::span<const uint8_t> bytes, const RngKey& key,
                std::span<float> out) const override {
    const size_t d = out.size();
    ByteReader r(bytes);
    HEARSAY_RETURN_IF_ERROR(ReadHeader(&r, *this, CodecTag::kSign, 0, d));
    const size_t nb = DivUp(d, static_cast<size_t>(block_));
    std::span<const uint8_t> scales, signs;
    HEARSAY_RETURN_IF_ERROR(ReadSection(&r, *this, "block scales", 4 * nb, &scales));
    HEARSAY_RETURN_IF_ERROR(ReadSection(&r, *this, "sign bits", DivUp(d, 8), &signs));
    HEARSAY_RETURN_IF_ERROR(ExpectEnd(r, *this));
    for (size_t b = 0; b < nb; ++b) {
      float s;
      std::memcpy(&s, scales.data() + 4 * b, 4);
      if (!ValidScale(s)) {
        return Corruption(Spec() + ": block " + std::to_string(b) + " has an invalid scale");
      }
    }
    const bool stream = d * sizeof(float) >= kernels::kStreamBytes;
    kernels::SignDecodeBlocks(scales.data(), signs.data(), d, static_cast<size_t>(block_),
                              out.data(), stream);
    if (stream) kernels::StoreFence();
    return Status::Ok();
  }

 private:
  size_t Bytes(size_t d) const {
    return kHeaderBytes + 4 * DivUp(d, static_cast<size_t>(block_)) + DivUp(d, 8);
  }
  // The scales and signs of elements [lo0, lo0 + len) (whole blocks but for the vector's last),
  // given at x. A NaN or infinity undoes the append (to `start`).
  Status EncodeBlocks(const float* x, size_t lo0, size_t len, ByteBuffer* out, size_t start,
                      uint8_t* scales, uint8_t* signs) const {
    const auto block = static_cast<size_t>(block_);
    kernels::BlockSumStream sums(x, len, block, /*squares=*/false);
    for (size_t lo = lo0; lo < lo0 + len; lo += block) {
      const size_t n = std::min(block, lo0 + len - lo);
      const float s = static_cast<float>(sums.Get((lo - lo0) / block) / static_cast<double>(n));
      if (!std::isfinite(s)) {
        out->resize(start);
        return InvalidArgument(Spec() + ": input has a NaN or infinite value in the block at " +
                               std::to_string(lo));
      }
      std::memcpy(scales + 4 * (lo / block), &s, 4);
      kernels::PackSigns(x + (lo - lo0), n, signs + lo / 8);  // the block is still in cache
    }
    return Status::Ok();
  }
  int block_;
};

// ---- minmax8 ----

__attribute__((target_clones("avx2", "default"))) void MinMax(const float* x, size_t n, float* lo,
                                                              float* hi, uint32_t* bad) {
  float a = x[0], b = x[0];
  uint32_t nonfinite = 0;
  for (size_t i = 0; i < n; ++i) {
    a = x[i] < a ? x[i] : a;
    b = x[i] > b ? x[i] : b;
    nonfinite |= (FloatBits(x[i]) & 0x7F800000u) == 0x7F800000u ? 1u : 0u;
  }
  *lo = a;
  *hi = b;
  *bad = nonfinite;
}

__attribute__((target_clones("avx2", "default"))) void MinMaxEncodeLoop(const float* x, size_t n,
                                                                        float lo, float inv,
                                                                        uint8_t* codes) {
  for (size_t i = 0; i < n; ++i) {
    float q = (x[i] - lo) * inv + 0.5f;
    q = q < 255.0f ? q : 255.0f;
    q = q > 0.0f ? q : 0.0f;
    codes[i] = static_cast<uint8_t>(static_cast<int32_t>(q));
  }
}

__attribute__((target_clones("avx2", "default"))) void MinMaxDecodeLoop(const uint8_t* codes,
                                                                        size_t n, float lo,
                                                                        float step, float* y) {
  for (size_t i = 0; i < n; ++i) y[i] = lo + static_cast<float>(codes[i]) * step;
}

class MinMax8Codec final : public Compressor {
 public:
  explicit MinMax8Codec(int block) : block_(block) {}
  std::string Spec() const override { return BlockSpec("minmax8", block_, kDefaultBlock); }
  bool Unbiased() const override { return false; }
  double BitsPerElement(size_t d) const override { return BitsPerElementOf(Bytes(d), d); }
  Status Encode(std::span<const float> x, const RngKey& key, ByteBuffer* out) override {
    const size_t d = x.size();
    HEARSAY_RETURN_IF_ERROR(CheckEncodable(*this, d));
    const size_t start = out->size();
    AppendHeader(out, CodecTag::kMinMax8, 0, d);
    const size_t nb = DivUp(d, static_cast<size_t>(block_));
    Grow(out, Bytes(d) - kHeaderBytes);
    uint8_t* ranges = out->data() + start + kHeaderBytes;
    return EncodeBlocks(x.data(), 0, d, out, start, ranges, ranges + 8 * nb);
  }
  // ef(minmax8): the generic path's floats in chunks of 64 blocks (feedback_chunks.h).
  Status EncodeWithFeedback(std::span<const float> x, std::span<float> residual, const RngKey& key,
                            ByteBuffer* out, FeedbackScratch* scratch) override {
    const size_t d = x.size();
    HEARSAY_RETURN_IF_ERROR(CheckEncodable(*this, d));
    const size_t start = out->size();
    AppendHeader(out, CodecTag::kMinMax8, 0, d);
    const auto block = static_cast<size_t>(block_);
    Grow(out, Bytes(d) - kHeaderBytes);
    uint8_t* ranges = out->data() + start + kHeaderBytes;
    uint8_t* codes = ranges + 8 * DivUp(d, block);
    auto encode = [&](const float* p, size_t lo0, size_t len) -> Status {
      return EncodeBlocks(p, lo0, len, out, start, ranges, codes);
    };
    auto decode = [&](size_t lo0, size_t len, float* q) {
      DecodeBlocks(ranges, codes, lo0, len, q);
    };
    constexpr size_t kChunkBlocks = 64;
    return ChunkedFeedback(x, residual, kChunkBlocks * block, scratch, encode, decode);
  }
  Status Decode(std::span<const uint8_t> bytes, const RngKey& key,
                std::span<float> out) const override {
    const size_t d = out.size();
    ByteReader r(bytes);
    HEARSAY_RETURN_IF_ERROR(ReadHeader(&r, *this, CodecTag::kMinMax8, 0, d));
    const size_t nb = DivUp(d, static_cast<size_t>(block_));
    std::span<const uint8_t> ranges, codes;
    HEARSAY_RETURN_IF_ERROR(ReadSection(&r, *this, "block ranges", 8 * nb, &ranges));
    HEARSAY_RETURN_IF_ERROR(ReadSection(&r, *this, "codes", d, &codes));
    HEARSAY_RETURN_IF_ERROR(ExpectEnd(r, *this));
    for (size_t b = 0; b < nb; ++b) {
      float mn, mx;
      std::memcpy(&mn, ranges.data() + 8 * b, 4);
      std::memcpy(&mx, ranges.data() + 8 * b + 4, 4);
      if (!(mn <= mx) || !std::isfinite(mx - mn)) {
        return Corruption(Spec() + ": block " + std::to_string(b) + " has an invalid range");
      }
    }
    DecodeBlocks(ranges.data(), codes.data(), 0, d, out.data());
    return Status::Ok();
  }

 private:
  size_t Bytes(size_t d) const {
    return kHeaderBytes + 8 * DivUp(d, static_cast<size_t>(block_)) + d;
  }
  // The ranges and codes of elements [lo0, lo0 + len) (whole blocks but for the vector's last),
  // given at x. A NaN, an infinity or a range beyond float undoes the append (to `start`).
  Status EncodeBlocks(const float* x, size_t lo0, size_t len, ByteBuffer* out, size_t start,
                      uint8_t* ranges, uint8_t* codes) const {
    const auto block = static_cast<size_t>(block_);
    for (size_t lo = lo0; lo < lo0 + len; lo += block) {
      const size_t b = lo / block;
      const size_t n = std::min(block, lo0 + len - lo);
      const float* xb = x + (lo - lo0);
      float mn, mx;
      uint32_t bad;
      MinMax(xb, n, &mn, &mx, &bad);
      const float range = mx - mn;
      if (bad != 0 || !std::isfinite(range)) {
        out->resize(start);
        return InvalidArgument(Spec() +
                               ": input has a NaN or infinite value, or a range beyond "
                               "float, in the block at " +
                               std::to_string(lo));
      }
      std::memcpy(ranges + 8 * b, &mn, 4);
      std::memcpy(ranges + 8 * b + 4, &mx, 4);
      const float inv = range > 0 ? 255.0f / range : 0.0f;
      MinMaxEncodeLoop(xb, n, mn, std::isfinite(inv) ? inv : 0.0f, codes + lo);
    }
    return Status::Ok();
  }
  // Elements [lo0, lo0 + len) into y[0, len), from checked ranges.
  void DecodeBlocks(const uint8_t* ranges, const uint8_t* codes, size_t lo0, size_t len,
                    float* y) const {
    const auto block = static_cast<size_t>(block_);
    for (size_t lo = lo0; lo < lo0 + len; lo += block) {
      const size_t b = lo / block;
      float mn, mx;
      std::memcpy(&mn, ranges + 8 * b, 4);
      std::memcpy(&mx, ranges + 8 * b + 4, 4);
      MinMaxDecodeLoop(codes + lo, std::min(block, lo0 + len - lo), mn, (mx - mn) / 255.0f,
                       y + (lo - lo0));
    }
  }
  int block_;
};

}  // namespace

std::unique_ptr<Compressor> MakeSignCodec(int block) { return std::make_unique<SignCodec>(block); }
std::unique_ptr<Compressor> MakeMinMax8Codec(int block) {
  return std::make_unique<MinMax8Codec>(block);
}

}  // namespace hearsay
