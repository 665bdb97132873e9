// Exponent codecs: natural (sign + 8-bit exponent), natural8 (sign + 7-bit exponent window) and
// natdither:s[:block] (natural dithering relative to the block 2-norm). Layouts and bounds are
// in docs/compressors.md.
#include <cmath>
#include <cstring>
#include <string>

#include "compressors/codec_math.h"
#include "compressors/codecs.h"
#include "compressors/wire.h"

namespace hearsay {
namespace {

constexpr uint32_t kMaxAbsBits = 0x7F000000u;  // 2^127: larger inputs cannot round up

__attribute__((target_clones("avx2", "default"))) uint32_t MaxAbsBitsOf(const float* x, size_t n) {
  uint32_t m = 0;
  for (size_t i = 0; i < n; ++i) {
    const uint32_t u = FloatBits(x[i]) & 0x7FFFFFFFu;
    m = u > m ? u : m;
  }
  return m;
}

__attribute__((target_clones("avx2", "default"))) void NaturalEncodeLoop(const float* x, size_t n,
                                                                         DitherKey dk,
                                                                         uint8_t* exps) {
  for (size_t i = 0; i < n; ++i) {
    const uint32_t a = FloatBits(x[i]) & 0x7FFFFFFFu;
    exps[i] = static_cast<uint8_t>(NaturalExponent(a, DitherWord32(dk, static_cast<uint32_t>(i))));
  }
}

__attribute__((target_clones("avx2", "default"))) uint32_t NaturalDecodeLoop(const uint8_t* exps,
                                                                             const uint8_t* signs,
                                                                             size_t n, float* y) {
  uint32_t m = 0;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {  // one sign byte per 8 values
    const uint32_t sb = signs[i >> 3];
    for (uint32_t j = 0; j < 8; ++j) {
      const uint32_t e = exps[i + j];
      m = e > m ? e : m;
      y[i + j] = NaturalValue((sb >> j) & 1u, e);
    }
  }
  for (; i < n; ++i) {
    const uint32_t e = exps[i];
    m = e > m ? e : m;
    y[i] = NaturalValue((signs[i >> 3] >> (i & 7)) & 1u, e);
  }
  return m;
}

Status TooLarge(const std::string& spec) {
  return InvalidArgument(spec + ": input has a NaN, an infinity or a value with |x| >= 2^127");
}

class NaturalCodec final : public Compressor {
 public:
  std::string Spec() const override { return "natural"; }
  bool Unbiased() const override { return true; }
  double BitsPerElement(size_t d) const override {
    return d == 0 ? 0.0 : 8.0 * static_cast<double>(Bytes(d)) / static_cast<double>(d);
  }
  Status Encode(std::span<const float> x, const RngKey& key, ByteBuffer* out) override {
    const size_t d = x.size();
    HEARSAY_RETURN_IF_ERROR(CheckEncodable(Spec(), d));
    if (MaxAbsBitsOf(x.data(), d) > kMaxAbsBits) return TooLarge(Spec());
    AppendHeader(out, CodecTag::kNatural, 0, d);
    uint8_t* signs = Grow(out, Bytes(d) - kHeaderBytes);
    PackSigns(x.data(), d, signs);
    NaturalEncodeLoop(x.data(), d, MakeDitherKey(key), signs + DivUp(d, 8));
    return Status::Ok();
  }
  Status Decode(std::span<const uint8_t> bytes, const RngKey& key,
                std::span<float> out) const override {
    const size_t d = out.size();
    ByteReader r(bytes);
    HEARSAY_RETURN_IF_ERROR(ReadHeader(&r, Spec(), CodecTag::kNatural, 0, d));
    std::span<const uint8_t> signs, exps;
    HEARSAY_RETURN_IF_ERROR(ReadSection(&r, Spec(), "sign bits", DivUp(d, 8), &signs));
    HEARSAY_RETURN_IF_ERROR(ReadSection(&r, Spec(), "exponents", d, &exps));
    HEARSAY_RETURN_IF_ERROR(ExpectEnd(r, Spec()));
    if (NaturalDecodeLoop(exps.data(), signs.data(), d, out.data()) == 255) {
      return Corruption(Spec() + ": exponent 255 (infinity) is not a valid natural code");
    }
    return Status::Ok();
  }

 private:
  static size_t Bytes(size_t d) { return kHeaderBytes + DivUp(d, 8) + d; }
};

// ---- natural8 ----

// Code byte: sign << 7 | c; c = 0 is zero, c in 1..127 is the biased exponent base + c - 1.
__attribute__((target_clones("avx2", "default"))) void Natural8EncodeLoop(const float* x, size_t n,
                                                                          DitherKey dk,
                                                                          uint32_t base,
                                                                          uint8_t* codes) {
  const float below_scale = BitsFloat((254u - base) << 23);  // 2^(127 - base)
  for (size_t i = 0; i < n; ++i) {
    const uint32_t bits = FloatBits(x[i]);
    const uint32_t a = bits & 0x7FFFFFFFu;
    const uint32_t w = DitherWord32(dk, static_cast<uint32_t>(i));
    const uint32_t e = a >> 23;
    // In the window: natural rounding. Below it: 0 or 2^(base-127) with probability t/2^(base-127).
    const uint32_t in_window = NaturalExponent(a, w) - base + 1;
    const float p = BitsFloat(a) * below_scale;
    const uint32_t below =
        static_cast<float>(static_cast<int32_t>(w >> 8)) * (1.0f / 16777216.0f) < p ? 1u : 0u;
    const uint32_t c = e >= base ? in_window : below;
    codes[i] = static_cast<uint8_t>(((bits >> 31) << 7) | c);
  }
}

__attribute__((target_clones("avx2", "default"))) void Natural8DecodeLoop(const uint8_t* codes,
                                                                          size_t n, uint32_t base,
                                                                          float* y) {
  for (size_t i = 0; i < n; ++i) {
    const uint32_t c = codes[i] & 0x7Fu;
    const uint32_t e = c == 0 ? 0u : base + c - 1;
    y[i] = NaturalValue(codes[i] >> 7, e);
  }
}

class Natural8Codec final : public Compressor {
 public:
  std::string Spec() const override { return "natural8"; }
  bool Unbiased() const override { return true; }
  double BitsPerElement(size_t d) const override {
    return d == 0 ? 0.0 : 8.0 * static_cast<double>(kHeaderBytes + 1 + d) / static_cast<double>(d);
  }
  Status Encode(std::span<const float> x, const RngKey& key, ByteBuffer* out) override {
    const size_t d = x.size();
    HEARSAY_RETURN_IF_ERROR(CheckEncodable(Spec(), d));
    const uint32_t max_bits = MaxAbsBitsOf(x.data(), d);
    if (max_bits >= kMaxAbsBits) return TooLarge(Spec());
    const uint32_t top = max_bits >> 23;  // <= 253, so top + 1 fits the window
    const uint32_t base = top + 1 > 127 ? top + 1 - 126 : 1;
    AppendHeader(out, CodecTag::kNatural8, 0, d);
    uint8_t* p = Grow(out, 1 + d);
    p[0] = static_cast<uint8_t>(base);
    Natural8EncodeLoop(x.data(), d, MakeDitherKey(key), base, p + 1);
    return Status::Ok();
  }
  Status Decode(std::span<const uint8_t> bytes, const RngKey& key,
                std::span<float> out) const override {
    const size_t d = out.size();
    ByteReader r(bytes);
    HEARSAY_RETURN_IF_ERROR(ReadHeader(&r, Spec(), CodecTag::kNatural8, 0, d));
    uint8_t base = 0;
    if (!r.ReadPod(&base)) return Corruption(Spec() + ": payload truncated before the base");
    if (base < 1 || base > 128) {
      return Corruption(Spec() + ": base exponent " + std::to_string(base) + " outside 1..128");
    }
    std::span<const uint8_t> codes;
    HEARSAY_RETURN_IF_ERROR(ReadSection(&r, Spec(), "codes", d, &codes));
    HEARSAY_RETURN_IF_ERROR(ExpectEnd(r, Spec()));
    Natural8DecodeLoop(codes.data(), d, base, out.data());
    return Status::Ok();
  }
};

// ---- natdither ----

constexpr float kTinyNorm = 0x1p-100f;
constexpr float kPrescale = 0x1p100f;

// Code byte: sign << 7 | j; j = 0 is zero, j in 1..s is the level 2^(j - s) of the block norm.
__attribute__((target_clones("avx2", "default"))) void NatDitherEncodeLoop(
    const float* x, size_t n, uint64_t base_index, DitherKey dk, float prescale, float inv_norm,
    int32_t s, uint8_t* codes) {
  const float delta = BitsFloat(static_cast<uint32_t>(128 - s) << 23);      // 2^(1-s)
  const float inv_delta = BitsFloat(static_cast<uint32_t>(126 + s) << 23);  // 2^(s-1)
  for (size_t i = 0; i < n; ++i) {
    const uint32_t bits = FloatBits(x[i]);
    float r = BitsFloat(bits & 0x7FFFFFFFu) * prescale * inv_norm;
    r = r < 1.0f ? r : 1.0f;
    const uint32_t w = DitherWord32(dk, static_cast<uint32_t>(base_index + i));
    const float u = static_cast<float>(static_cast<int32_t>(w >> 8)) * (1.0f / 16777216.0f);
    const uint32_t low = u < r * inv_delta ? 1u : 0u;
    const uint32_t high = NaturalExponent(FloatBits(r), w) - 127u + static_cast<uint32_t>(s);
    const uint32_t j = r < delta ? low : high;
    codes[i] = static_cast<uint8_t>(((bits >> 31) << 7) | j);
  }
}

__attribute__((target_clones("avx2", "default"))) uint32_t NatDitherDecodeLoop(const uint8_t* codes,
                                                                               size_t n, float norm,
                                                                               int32_t s,
                                                                               float* y) {
  uint32_t max_j = 0;
  for (size_t i = 0; i < n; ++i) {
    const uint32_t j = codes[i] & 0x7Fu;
    max_j = j > max_j ? j : max_j;
    // 2^(j - s) as a float exponent; j = 0 gives exponent field 0 -> multiply by 0 below.
    const uint32_t e = j == 0 ? 0u : static_cast<uint32_t>(127 + static_cast<int32_t>(j) - s);
    const float v = BitsFloat(e << 23) * norm;
    y[i] = BitsFloat(FloatBits(v) | (static_cast<uint32_t>(codes[i] >> 7) << 31));
  }
  return max_j;
}

class NatDitherCodec final : public Compressor {
 public:
  NatDitherCodec(int levels, int block) : s_(levels), block_(block) {}
  std::string Spec() const override {
    return "natdither:" + std::to_string(s_) +
           (block_ != kDefaultBlock ? ":" + std::to_string(block_) : "");
  }
  bool Unbiased() const override { return true; }
  double BitsPerElement(size_t d) const override {
    return d == 0 ? 0.0 : 8.0 * static_cast<double>(Bytes(d)) / static_cast<double>(d);
  }
  Status Encode(std::span<const float> x, const RngKey& key, ByteBuffer* out) override {
    const size_t d = x.size();
    HEARSAY_RETURN_IF_ERROR(CheckEncodable(Spec(), d));
    const size_t start = out->size();
    AppendHeader(out, CodecTag::kNatDither, static_cast<uint8_t>(s_), d);
    const size_t nb = DivUp(d, static_cast<size_t>(block_));
    Grow(out, Bytes(d) - kHeaderBytes);
    uint8_t* scales = out->data() + start + kHeaderBytes;
    uint8_t* codes = scales + 4 * nb;
    const DitherKey dk = MakeDitherKey(key);
    for (size_t b = 0; b < nb; ++b) {
      const size_t lo = b * block_;
      const size_t n = std::min<size_t>(block_, d - lo);
      double ss = 0;
      for (size_t i = lo; i < lo + n; ++i) ss += static_cast<double>(x[i]) * x[i];
      const float norm = static_cast<float>(std::sqrt(ss));
      if (!std::isfinite(norm)) {
        out->resize(start);
        return InvalidArgument(Spec() + ": input has a NaN or infinite value in the block at " +
                               std::to_string(lo));
      }
      std::memcpy(scales + 4 * b, &norm, 4);
      const float prescale = norm < kTinyNorm ? kPrescale : 1.0f;
      const float inv_norm = norm > 0 ? 1.0f / (norm * prescale) : 0.0f;
      NatDitherEncodeLoop(x.data() + lo, n, lo, dk, prescale, inv_norm, s_, codes + lo);
    }
    return Status::Ok();
  }
  Status Decode(std::span<const uint8_t> bytes, const RngKey& key,
                std::span<float> out) const override {
    const size_t d = out.size();
    ByteReader r(bytes);
    HEARSAY_RETURN_IF_ERROR(
        ReadHeader(&r, Spec(), CodecTag::kNatDither, static_cast<uint8_t>(s_), d));
    const size_t nb = DivUp(d, static_cast<size_t>(block_));
    std::span<const uint8_t> scales, codes;
    HEARSAY_RETURN_IF_ERROR(ReadSection(&r, Spec(), "block norms", 4 * nb, &scales));
    HEARSAY_RETURN_IF_ERROR(ReadSection(&r, Spec(), "codes", d, &codes));
    HEARSAY_RETURN_IF_ERROR(ExpectEnd(r, Spec()));
    for (size_t b = 0; b < nb; ++b) {
      float norm;
      std::memcpy(&norm, scales.data() + 4 * b, 4);
      if (!(norm >= 0.0f) || !std::isfinite(norm)) {
        return Corruption(Spec() + ": block " + std::to_string(b) + " has an invalid norm");
      }
      const size_t lo = b * block_;
      const size_t n = std::min<size_t>(block_, d - lo);
      if (NatDitherDecodeLoop(codes.data() + lo, n, norm, s_, out.data() + lo) >
          static_cast<uint32_t>(s_)) {
        return Corruption(Spec() + ": level index above " + std::to_string(s_) + " in block " +
                          std::to_string(b));
      }
    }
    return Status::Ok();
  }

 private:
  size_t Bytes(size_t d) const {
    return kHeaderBytes + 4 * DivUp(d, static_cast<size_t>(block_)) + d;
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
