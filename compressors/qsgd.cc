// qsgd:b[:block][:norm=l2] and terngrad[:block]: stochastic uniform quantisation with a sign bit
// and one fp32 scale per block (layout in docs/compressors.md "qsgd").
//
// Per block the encoder (1) finds the scale (max |x|, or the 2-norm), (2) maps each |x| to a
// level with QsgdLevel and the element's dither uniform, (3) packs levels and signs in bit
// planes. Blocks are multiples of 8 elements, so each block starts on a byte in both planes.
#include <cmath>
#include <cstring>
#include <string>

#include "compressors/codec_math.h"
#include "compressors/codecs.h"
#include "compressors/wire.h"

namespace hearsay {
namespace {

constexpr size_t kChunk = 512;  // elements quantised per inner call (multiple of 8)

// Tiny scales would make max_level / scale overflow; such blocks are pre-scaled by 2^100
// (exact: a power of two) before quantisation.
constexpr float kTinyScale = 0x1p-100f;
constexpr float kPrescale = 0x1p100f;

__attribute__((target_clones("avx2", "default"))) uint32_t MaxAbsBits(const float* x, size_t n) {
  uint32_t m = 0;
  for (size_t i = 0; i < n; ++i) {
    uint32_t u;
    std::memcpy(&u, x + i, 4);
    u &= 0x7FFFFFFFu;
    m = u > m ? u : m;
  }
  return m;
}

__attribute__((target_clones("avx2", "default"))) double SumSquares(const float* x, size_t n) {
  double s = 0;
  for (size_t i = 0; i < n; ++i) s += static_cast<double>(x[i]) * x[i];
  return s;
}

__attribute__((target_clones("avx2", "default"))) void QuantizeChunk(const float* x, uint32_t n,
                                                                     uint32_t base, DitherKey dk,
                                                                     float prescale, float inv_step,
                                                                     int32_t max_level,
                                                                     uint8_t* levels) {
  for (uint32_t i = 0; i < n; ++i) {
    const float a = BitsFloat(FloatBits(x[i]) & 0x7FFFFFFFu) * prescale;
    const float u = WordUniform(DitherWord32(dk, base + i));
    levels[i] = static_cast<uint8_t>(QsgdLevel(a, inv_step, max_level, u));
  }
}

__attribute__((target_clones("avx2", "default"))) void DequantizeChunk(const uint8_t* levels,
                                                                       const uint8_t* signs,
                                                                       size_t n, float step,
                                                                       float* y) {
  // Groups of 8 share one sign byte; the constant inner trip count lets the loop vectorise.
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const uint32_t sb = signs[i >> 3];
    for (uint32_t j = 0; j < 8; ++j) y[i + j] = QsgdValue(levels[i + j], (sb >> j) & 1u, step);
  }
  for (; i < n; ++i) y[i] = QsgdValue(levels[i], (signs[i >> 3] >> (i & 7)) & 1u, step);
}

class QsgdCodec final : public Compressor {
 public:
  explicit QsgdCodec(const QsgdOptions& o) : o_(o), max_level_((1 << o.bits) - 1) {}

  std::string Spec() const override {
    std::string s = o_.terngrad ? "terngrad" : "qsgd:" + std::to_string(o_.bits);
    if (o_.block != kDefaultBlock) s += ":" + std::to_string(o_.block);
    if (o_.l2) s += ":norm=l2";
    return s;
  }
  bool Unbiased() const override { return true; }
  double BitsPerElement(size_t d) const override {
    if (d == 0) return 0.0;
    return 8.0 * static_cast<double>(PayloadBytes(d)) / static_cast<double>(d);
  }

  Status Encode(std::span<const float> x, const RngKey& key, ByteBuffer* out) override {
    const size_t d = x.size();
    HEARSAY_RETURN_IF_ERROR(CheckEncodable(Spec(), d));
    const size_t start = out->size();
    AppendHeader(out, tag(), param(), d);
    const size_t nb = DivUp(d, static_cast<size_t>(o_.block));
    Grow(out, PayloadBytes(d) - kHeaderBytes);
    uint8_t* scales = out->data() + start + kHeaderBytes;
    uint8_t* signs = scales + 4 * nb;
    uint8_t* planes = signs + DivUp(d, 8);
    const DitherKey dk = MakeDitherKey(key);
    uint8_t levels[kChunk];
    for (size_t b = 0; b < nb; ++b) {
      const size_t lo = b * o_.block;
      const size_t n = std::min<size_t>(o_.block, d - lo);
      float s;
      if (o_.l2) {
        const double ss = SumSquares(x.data() + lo, n);
        if (!std::isfinite(ss)) return NonFinite(lo, out, start);
        s = static_cast<float>(std::sqrt(ss));
      } else {
        const uint32_t m = MaxAbsBits(x.data() + lo, n);
        if (m >= 0x7F800000u) return NonFinite(lo, out, start);
        s = BitsFloat(m);
      }
      std::memcpy(scales + 4 * b, &s, 4);
      const float prescale = s < kTinyScale ? kPrescale : 1.0f;
      const float inv_step = s > 0 ? static_cast<float>(max_level_) / (s * prescale) : 0.0f;
      for (size_t c = 0; c < n; c += kChunk) {
        const size_t m = std::min(kChunk, n - c);
        QuantizeChunk(x.data() + lo + c, static_cast<uint32_t>(m), static_cast<uint32_t>(lo + c),
                      dk, prescale, inv_step, max_level_, levels);
        PackBits(levels, m, o_.bits, planes + (lo + c) * o_.bits / 8);
      }
    }
    PackSigns(x.data(), d, signs);
    return Status::Ok();
  }

  Status Decode(std::span<const uint8_t> bytes, const RngKey& key,
                std::span<float> out) const override {
    const size_t d = out.size();
    ByteReader r(bytes);
    HEARSAY_RETURN_IF_ERROR(ReadHeader(&r, Spec(), tag(), param(), d));
    const size_t nb = DivUp(d, static_cast<size_t>(o_.block));
    std::span<const uint8_t> scales, signs, planes;
    HEARSAY_RETURN_IF_ERROR(ReadSection(&r, Spec(), "block scales", 4 * nb, &scales));
    HEARSAY_RETURN_IF_ERROR(ReadSection(&r, Spec(), "sign bits", DivUp(d, 8), &signs));
    HEARSAY_RETURN_IF_ERROR(ReadSection(&r, Spec(), "levels", DivUp(d * o_.bits, 8), &planes));
    HEARSAY_RETURN_IF_ERROR(ExpectEnd(r, Spec()));
    uint8_t levels[kChunk];
    for (size_t b = 0; b < nb; ++b) {
      float s;
      std::memcpy(&s, scales.data() + 4 * b, 4);
      if (!(s >= 0.0f) || !std::isfinite(s)) {
        return Corruption(Spec() + ": block " + std::to_string(b) +
                          " has an invalid scale (negative, NaN or infinite)");
      }
      const float step = s / static_cast<float>(max_level_);
      const size_t lo = b * o_.block;
      const size_t n = std::min<size_t>(o_.block, d - lo);
      for (size_t c = 0; c < n; c += kChunk) {
        const size_t m = std::min(kChunk, n - c);
        const size_t at = lo + c;
        const uint8_t* lv = levels;
        if (o_.bits == 8) {
          lv = planes.data() + at;
        } else {
          UnpackBits(planes.data() + at * o_.bits / 8, m, o_.bits, levels);
        }
        DequantizeChunk(lv, signs.data() + at / 8, m, step, out.data() + at);
      }
    }
    return Status::Ok();
  }

 private:
  CodecTag tag() const { return o_.terngrad ? CodecTag::kTernGrad : CodecTag::kQsgd; }
  uint8_t param() const { return static_cast<uint8_t>(o_.bits | (o_.l2 ? 0x80 : 0)); }
  size_t PayloadBytes(size_t d) const {
    return kHeaderBytes + 4 * DivUp(d, static_cast<size_t>(o_.block)) + DivUp(d, 8) +
           DivUp(d * o_.bits, 8);
  }
  // Undoes the partial append and reports the block with a NaN or infinity.
  Status NonFinite(size_t block_start, ByteBuffer* out, size_t start) const {
    out->resize(start);
    return InvalidArgument(Spec() +
                           ": input has a NaN or infinite value in the block starting at " +
                           std::to_string(block_start));
  }

  QsgdOptions o_;
  int32_t max_level_;
};

}  // namespace

std::unique_ptr<Compressor> MakeQsgdCodec(const QsgdOptions& options) {
  return std::make_unique<QsgdCodec>(options);
}

}  // namespace hearsay
