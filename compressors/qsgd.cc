// qsgd:b[:block][:norm=l2] and terngrad[:block]: stochastic uniform quantisation with a sign bit
// and one fp32 scale per block (layout in docs/compressors.md "qsgd").
//
// Per block the encoder (1) finds the scale (max |x|, or the 2-norm), (2) maps each |x| to a
// level with QsgdLevel and the element's dither uniform, writing the level straight into its
// packed plane and the sign into the sign plane in the same pass (kernels.h). Blocks are
// multiples of 8 elements, so each block starts on a byte in both planes. The block is read from
// memory once: the scale pass leaves it in cache for the quantisation pass. The decoder reads the
// packed levels directly too: no byte-per-level intermediate on either side.
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

// Tiny scales would make max_level / scale overflow; such blocks are pre-scaled by 2^100
// (exact: a power of two) before quantisation.
constexpr float kTinyScale = 0x1p-100f;
constexpr float kPrescale = 0x1p100f;

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
    HEARSAY_RETURN_IF_ERROR(CheckEncodable(*this, d));
    const size_t start = out->size();
    AppendHeader(out, tag(), param(), d);
    const size_t nb = DivUp(d, static_cast<size_t>(o_.block));
    Grow(out, PayloadBytes(d) - kHeaderBytes);
    uint8_t* scales = out->data() + start + kHeaderBytes;
    uint8_t* signs = scales + 4 * nb;
    uint8_t* planes = signs + DivUp(d, 8);
    const DitherKey dk = MakeDitherKey(key);
    kernels::BlockSumStream norms(x.data(), d, static_cast<size_t>(o_.block), /*squares=*/true);
    for (size_t b = 0; b < nb; ++b) {
      const size_t lo = b * o_.block;
      const size_t n = std::min<size_t>(o_.block, d - lo);
      float s = 0;
      HEARSAY_RETURN_IF_ERROR(
          BlockScale(o_.l2 ? norms.Get(b) : 0.0, x.data() + lo, n, lo, out, start, &s));
      std::memcpy(scales + 4 * b, &s, 4);
      Quantize(x.data() + lo, n, lo, dk, s, planes, signs);
    }
    return Status::Ok();
  }

  // ef(qsgd): the same floats as the generic path, in chunks (feedback_chunks.h) of 64 blocks,
  // the batch of Encode's block-norm stream, so the 2-norms are summed exactly as Encode sums
  // them.
  Status EncodeWithFeedback(std::span<const float> x, std::span<float> residual, const RngKey& key,
                            ByteBuffer* out, FeedbackScratch* scratch) override {
    const size_t d = x.size();
    HEARSAY_RETURN_IF_ERROR(CheckEncodable(*this, d));
    const size_t start = out->size();
    AppendHeader(out, tag(), param(), d);
    const size_t block = static_cast<size_t>(o_.block);
    const size_t nb = DivUp(d, block);
    Grow(out, PayloadBytes(d) - kHeaderBytes);
    uint8_t* scales = out->data() + start + kHeaderBytes;
    uint8_t* signs = scales + 4 * nb;
    uint8_t* planes = signs + DivUp(d, 8);
    const DitherKey dk = MakeDitherKey(key);
    auto encode = [&](const float* p, size_t lo0, size_t len) -> Status {
      kernels::BlockSumStream norms(p, len, block, /*squares=*/true);
      for (size_t lo = lo0; lo < lo0 + len; lo += block) {
        const size_t b = lo / block;
        const size_t n = std::min(block, d - lo);
        const float* pb = p + (lo - lo0);
        float s = 0;
        HEARSAY_RETURN_IF_ERROR(
            BlockScale(o_.l2 ? norms.Get(b - lo0 / block) : 0.0, pb, n, lo, out, start, &s));
        std::memcpy(scales + 4 * b, &s, 4);
        Quantize(pb, n, lo, dk, s, planes, signs);
      }
      return Status::Ok();
    };
    auto decode = [&](size_t lo, size_t len, float* q) {
      kernels::QsgdDecodeBlocks(scales + 4 * (lo / block), planes + lo * o_.bits / 8,
                                signs + lo / 8, len, block, o_.bits, max_level_, q,
                                /*stream=*/false);
    };
    constexpr size_t kChunkBlocks = 64;
    return ChunkedFeedback(x, residual, kChunkBlocks * block, scratch, encode, decode);
  }

  Status Decode(std::span<const uint8_t> bytes, const RngKey& key,
                std::span<float> out) const override {
    const size_t d = out.size();
    HEARSAY_ASSIGN_OR_RETURN(const Sections sec, Read(bytes, d));
    const bool stream = d * sizeof(float) >= kernels::kStreamBytes;
    kernels::QsgdDecodeBlocks(sec.scales.data(), sec.planes.data(), sec.signs.data(), d,
                              static_cast<size_t>(o_.block), o_.bits, max_level_, out.data(),
                              stream);
    if (stream) kernels::StoreFence();
    return Status::Ok();
  }

  // Whole blocks, about kDecodeChunk elements, at a time (the same kernel, hence the same
  // floats, as Decode).
  Status DecodeChunks(std::span<const uint8_t> bytes, const RngKey& key, size_t d,
                      std::vector<float>* scratch, DecodedChunks& sink) const override {
    HEARSAY_ASSIGN_OR_RETURN(const Sections sec, Read(bytes, d));
    const auto block = static_cast<size_t>(o_.block);
    const size_t chunk = std::max<size_t>(1, kDecodeChunk / block) * block;
    DecodeInChunks(d, chunk, scratch, sink, [&](size_t lo, size_t n, float* q) {
      kernels::QsgdDecodeBlocks(sec.scales.data() + 4 * (lo / block),
                                sec.planes.data() + lo * o_.bits / 8, sec.signs.data() + lo / 8, n,
                                block, o_.bits, max_level_, q, /*stream=*/false);
    });
    return Status::Ok();
  }

 private:
  struct Sections {
    std::span<const uint8_t> scales, signs, planes;
  };
  // The sections of an encoding of d elements, every check of Decode made (sizes, header, no
  // trailing bytes, every block scale finite and >= 0).
  Result<Sections> Read(std::span<const uint8_t> bytes, size_t d) const {
    ByteReader r(bytes);
    HEARSAY_RETURN_IF_ERROR(ReadHeader(&r, *this, tag(), param(), d));
    const size_t nb = DivUp(d, static_cast<size_t>(o_.block));
    Sections sec;
    HEARSAY_RETURN_IF_ERROR(ReadSection(&r, *this, "block scales", 4 * nb, &sec.scales));
    HEARSAY_RETURN_IF_ERROR(ReadSection(&r, *this, "sign bits", DivUp(d, 8), &sec.signs));
    HEARSAY_RETURN_IF_ERROR(ReadSection(&r, *this, "levels", DivUp(d * o_.bits, 8), &sec.planes));
    HEARSAY_RETURN_IF_ERROR(ExpectEnd(r, *this));
    for (size_t b = 0; b < nb; ++b) {
      float s = 0;
      std::memcpy(&s, sec.scales.data() + 4 * b, 4);
      if (!(s >= 0.0f) || !std::isfinite(s)) {
        return Corruption(Spec() + ": block " + std::to_string(b) +
                          " has an invalid scale (negative, NaN or infinite)");
      }
    }
    return sec;
  }
  CodecTag tag() const { return o_.terngrad ? CodecTag::kTernGrad : CodecTag::kQsgd; }
  uint8_t param() const { return static_cast<uint8_t>(o_.bits | (o_.l2 ? 0x80 : 0)); }
  size_t PayloadBytes(size_t d) const {
    return kHeaderBytes + 4 * DivUp(d, static_cast<size_t>(o_.block)) + DivUp(d, 8) +
           DivUp(d * o_.bits, 8);
  }
  // The scale of the block of n elements at xb (offset lo): its 2-norm from `sum_squares`, or
  // max |x|. A NaN or infinity (or a 2-norm that overflows float32) undoes the partial append.
  Status BlockScale(double sum_squares, const float* xb, size_t n, size_t lo, ByteBuffer* out,
                    size_t start, float* scale) const {
    if (o_.l2) {
      if (!std::isfinite(sum_squares)) return NonFinite(lo, out, start);
      *scale = static_cast<float>(std::sqrt(sum_squares));
      // Finite elements can still have a 2-norm above FLT_MAX (e.g. a few values near 3e38):
      // an infinite scale would be written, which Decode rightly rejects. Refuse it here.
      if (!std::isfinite(*scale)) {
        out->resize(start);
        return InvalidArgument(Spec() + ": the 2-norm of the block starting at " +
                               std::to_string(lo) +
                               " overflows float32 (values too large to quantise)");
      }
      return Status::Ok();
    }
    const uint32_t m = kernels::MaxAbsBits(xb, n);
    if (m >= 0x7F800000u) return NonFinite(lo, out, start);
    *scale = BitsFloat(m);
    return Status::Ok();
  }
  // Writes the levels and signs of the block of n elements at xb (offset lo) with scale s.
  void Quantize(const float* xb, size_t n, size_t lo, const DitherKey& dk, float s, uint8_t* planes,
                uint8_t* signs) const {
    const float prescale = s < kTinyScale ? kPrescale : 1.0f;
    const float inv_step = s > 0 ? static_cast<float>(max_level_) / (s * prescale) : 0.0f;
    if (o_.bits == 8) {  // 8-bit levels are their own plane
      kernels::QsgdQuantize(xb, n, static_cast<uint32_t>(lo), dk, prescale, inv_step, max_level_,
                            planes + lo, signs + lo / 8);
    } else {
      kernels::QsgdQuantizePacked(xb, n, static_cast<uint32_t>(lo), dk, prescale, inv_step,
                                  max_level_, o_.bits, planes + lo * o_.bits / 8, signs + lo / 8);
    }
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
