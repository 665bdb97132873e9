// identity (fp32), fp16 and bf16: one value per element, no scales.
//
// fp16 uses the F16C instructions when the CPU has them (runtime check); the portable path is
// codec_math.h's FloatToHalfBits, and both give the same bits (tests compare them).
#include <cpuid.h>
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "compressors/codec_math.h"
#include "compressors/codecs.h"
#include "compressors/feedback_chunks.h"
#include "compressors/wire.h"

namespace hearsay {
namespace {

class IdentityCodec final : public Compressor {
 public:
  std::string Spec() const override { return "identity"; }
  bool Unbiased() const override { return true; }
  double BitsPerElement(size_t d) const override {
    return d == 0 ? 0.0 : 32.0 + 8.0 * kHeaderBytes / static_cast<double>(d);
  }
  Status Encode(std::span<const float> x, const RngKey& key, ByteBuffer* out) override {
    HEARSAY_RETURN_IF_ERROR(CheckEncodable(*this, x.size()));
    AppendHeader(out, CodecTag::kIdentity, 0, x.size());
    AppendBytes(out, x.data(), x.size_bytes());
    return Status::Ok();
  }
  Status Decode(std::span<const uint8_t> bytes, const RngKey& key,
                std::span<float> out) const override {
    HEARSAY_ASSIGN_OR_RETURN(const std::span<const uint8_t> values, Values(bytes, out.size()));
    if (!values.empty()) std::memcpy(out.data(), values.data(), values.size());
    return Status::Ok();
  }
  // The values are the payload's own bytes: handed over where they lie when they are aligned
  // for float (a payload buffer's storage is), else copied a chunk at a time.
  Status DecodeChunks(std::span<const uint8_t> bytes, const RngKey& key, size_t d,
                      std::vector<float>* scratch, DecodedChunks& sink) const override {
    HEARSAY_ASSIGN_OR_RETURN(const std::span<const uint8_t> values, Values(bytes, d));
    if (reinterpret_cast<uintptr_t>(values.data()) % alignof(float) == 0) {
      if (d > 0) sink.Take(0, {reinterpret_cast<const float*>(values.data()), d});
      return Status::Ok();
    }
    DecodeInChunks(d, kDecodeChunk, scratch, sink, [&](size_t lo, size_t n, float* q) {
      std::memcpy(q, values.data() + 4 * lo, 4 * n);
    });
    return Status::Ok();
  }

 private:
  // The values section of an encoding of d elements, every check of Decode made.
  Result<std::span<const uint8_t>> Values(std::span<const uint8_t> bytes, size_t d) const {
    ByteReader r(bytes);
    HEARSAY_RETURN_IF_ERROR(ReadHeader(&r, *this, CodecTag::kIdentity, 0, d));
    std::span<const uint8_t> values;
    HEARSAY_RETURN_IF_ERROR(ReadSection(&r, *this, "values", 4 * d, &values));
    HEARSAY_RETURN_IF_ERROR(ExpectEnd(r, *this));
    return values;
  }
};

// ---- fp16 ----

__attribute__((target("avx2,f16c"))) void HalfEncodeF16c(const float* x, size_t n, uint8_t* dst) {
  const __m256 hi = _mm256_set1_ps(65504.0f), lo = _mm256_set1_ps(-65504.0f);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    // max/min return their second operand when either is NaN, so NaN passes through.
    __m256 v = _mm256_min_ps(hi, _mm256_max_ps(lo, _mm256_loadu_ps(x + i)));
    __m128i h = _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + 2 * i), h);
  }
  for (; i < n; ++i) {
    const uint16_t h = FloatToHalfBits(x[i]);
    std::memcpy(dst + 2 * i, &h, 2);
  }
}

__attribute__((target("avx2,f16c"))) void HalfDecodeF16c(const uint8_t* src, size_t n, float* y) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + 2 * i));
    _mm256_storeu_ps(y + i, _mm256_cvtph_ps(h));
  }
  for (; i < n; ++i) {
    uint16_t h;
    std::memcpy(&h, src + 2 * i, 2);
    y[i] = HalfBitsToFloat(h);
  }
}

void HalfEncodePortable(const float* x, size_t n, uint8_t* dst) {
  for (size_t i = 0; i < n; ++i) {
    const uint16_t h = FloatToHalfBits(x[i]);
    std::memcpy(dst + 2 * i, &h, 2);
  }
}

void HalfDecodePortable(const uint8_t* src, size_t n, float* y) {
  for (size_t i = 0; i < n; ++i) {
    uint16_t h;
    std::memcpy(&h, src + 2 * i, 2);
    y[i] = HalfBitsToFloat(h);
  }
}

bool HasF16c() {
  // F16C from CPUID leaf 1 (clang's __builtin_cpu_supports does not know "f16c").
  static const bool has = [] {
    unsigned a = 0, b = 0, c = 0, d = 0;
    return __builtin_cpu_supports("avx2") && __get_cpuid(1, &a, &b, &c, &d) && (c & bit_F16C);
  }();
  return has;
}

__attribute__((target_clones("avx2", "default"))) void Bf16Encode(const float* x, size_t n,
                                                                  uint8_t* dst) {
  for (size_t i = 0; i < n; ++i) {
    const uint16_t b = FloatToBf16Bits(x[i]);
    std::memcpy(dst + 2 * i, &b, 2);
  }
}

__attribute__((target_clones("avx2", "default"))) void Bf16Decode(const uint8_t* src, size_t n,
                                                                  float* y) {
  for (size_t i = 0; i < n; ++i) {
    uint16_t b;
    std::memcpy(&b, src + 2 * i, 2);
    y[i] = Bf16BitsToFloat(b);
  }
}

class HalfCodec final : public Compressor {
 public:
  explicit HalfCodec(bool bf16) : bf16_(bf16) {}
  std::string Spec() const override { return bf16_ ? "bf16" : "fp16"; }
  bool Unbiased() const override { return false; }
  double BitsPerElement(size_t d) const override {
    return d == 0 ? 0.0 : 16.0 + 8.0 * kHeaderBytes / static_cast<double>(d);
  }
  Status Encode(std::span<const float> x, const RngKey& key, ByteBuffer* out) override {
    HEARSAY_RETURN_IF_ERROR(CheckEncodable(*this, x.size()));
    AppendHeader(out, tag(), 0, x.size());
    EncodeValues(x.data(), x.size(), Grow(out, 2 * x.size()));
    return Status::Ok();
  }
  // ef(fp16), ef(bf16): element-wise, so any chunk is the same bytes (feedback_chunks.h).
  Status EncodeWithFeedback(std::span<const float> x, std::span<float> residual, const RngKey& key,
                            ByteBuffer* out, FeedbackScratch* scratch) override {
    HEARSAY_RETURN_IF_ERROR(CheckEncodable(*this, x.size()));
    AppendHeader(out, tag(), 0, x.size());
    uint8_t* dst = Grow(out, 2 * x.size());
    auto encode = [&](const float* p, size_t lo, size_t n) {
      EncodeValues(p, n, dst + 2 * lo);
      return Status::Ok();
    };
    auto decode = [&](size_t lo, size_t n, float* q) { DecodeValues(dst + 2 * lo, n, q); };
    return ChunkedFeedback(x, residual, kFeedbackChunk, scratch, encode, decode);
  }
  Status Decode(std::span<const uint8_t> bytes, const RngKey& key,
                std::span<float> out) const override {
    HEARSAY_ASSIGN_OR_RETURN(const std::span<const uint8_t> values, Values(bytes, out.size()));
    DecodeValues(values.data(), out.size(), out.data());
    return Status::Ok();
  }
  Status DecodeChunks(std::span<const uint8_t> bytes, const RngKey& key, size_t d,
                      std::vector<float>* scratch, DecodedChunks& sink) const override {
    HEARSAY_ASSIGN_OR_RETURN(const std::span<const uint8_t> values, Values(bytes, d));
    DecodeInChunks(d, kDecodeChunk, scratch, sink, [&](size_t lo, size_t n, float* q) {
      DecodeValues(values.data() + 2 * lo, n, q);
    });
    return Status::Ok();
  }

 private:
  // The values section of an encoding of d elements, every check of Decode made.
  Result<std::span<const uint8_t>> Values(std::span<const uint8_t> bytes, size_t d) const {
    ByteReader r(bytes);
    HEARSAY_RETURN_IF_ERROR(ReadHeader(&r, *this, tag(), 0, d));
    std::span<const uint8_t> values;
    HEARSAY_RETURN_IF_ERROR(ReadSection(&r, *this, "values", 2 * d, &values));
    HEARSAY_RETURN_IF_ERROR(ExpectEnd(r, *this));
    return values;
  }
  CodecTag tag() const { return bf16_ ? CodecTag::kBf16 : CodecTag::kFp16; }
  void EncodeValues(const float* x, size_t n, uint8_t* dst) const {
    if (bf16_) {
      Bf16Encode(x, n, dst);
    } else if (HasF16c()) {
      HalfEncodeF16c(x, n, dst);
    } else {
      HalfEncodePortable(x, n, dst);
    }
  }
  void DecodeValues(const uint8_t* src, size_t n, float* y) const {
    if (bf16_) {
      Bf16Decode(src, n, y);
    } else if (HasF16c()) {
      HalfDecodeF16c(src, n, y);
    } else {
      HalfDecodePortable(src, n, y);
    }
  }
  bool bf16_;
};

}  // namespace

std::unique_ptr<Compressor> MakeIdentityCodec() { return std::make_unique<IdentityCodec>(); }
std::unique_ptr<Compressor> MakeFp16Codec() { return std::make_unique<HalfCodec>(false); }
std::unique_ptr<Compressor> MakeBf16Codec() { return std::make_unique<HalfCodec>(true); }

// Exposed for the test that checks the F16C and portable paths agree bit for bit.
void HalfEncodeForTest(const float* x, size_t n, uint8_t* dst, bool portable) {
  if (portable || !HasF16c()) {
    HalfEncodePortable(x, n, dst);
  } else {
    HalfEncodeF16c(x, n, dst);
  }
}

}  // namespace hearsay
