// Sparsifiers and then(C1, C2). Top-k selection is a two-pass radix select on the 16 high bits
// of |x| (exponent and 8 mantissa bits): pass 1 builds a 65536-bin histogram, which fixes the
// threshold bin; pass 2 keeps everything above it and collects the threshold bin's elements,
// among which an exact partial sort picks the rest. Both passes stream the input once.
#include "compressors/sparse.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#include "compressors/codec_math.h"
#include "compressors/kernels.h"
#include "compressors/wire.h"

namespace hearsay {
namespace {

constexpr int kBinShift = 15;
constexpr size_t kBins = size_t{1} << 16;

__attribute__((target_clones("avx2", "default"))) uint32_t Histogram(const float* x, size_t n,
                                                                     uint32_t* hist) {
  uint32_t m = 0;
  for (size_t i = 0; i < n; ++i) {
    const uint32_t a = FloatBits(x[i]) & 0x7FFFFFFFu;
    m = a > m ? a : m;
    ++hist[a >> kBinShift];
  }
  return m;
}

}  // namespace

size_t SparseK(double ratio, size_t d) {
  if (d == 0) return 0;
  const double t = std::ceil(ratio * static_cast<double>(d) - 1e-9);
  const size_t k = t < 1.0 ? 1 : static_cast<size_t>(t);
  return std::min(k, d);
}

std::vector<uint32_t> RandKIndices(const RngKey& key, size_t d, size_t k) {
  std::vector<uint32_t> idx(k);
  const DitherKey dk = MakeDitherKey(key, kStreamCodecIndex);
  for (size_t j = 0; j < k; ++j) {
    const uint64_t lo = j * d / k, hi = (j + 1) * d / k;
    const uint64_t pick = (static_cast<uint64_t>(DitherWord(dk, j)) * (hi - lo)) >> 32;
    idx[j] = static_cast<uint32_t>(lo + pick);
  }
  return idx;
}

Result<std::vector<uint32_t>> TopKIndices(std::span<const float> x, size_t k) {
  std::vector<uint32_t> hist(kBins, 0);
  const uint32_t max_bits = Histogram(x.data(), x.size(), hist.data());
  if (max_bits >= 0x7F800000u) return InvalidArgument("topk: input has a NaN or infinite value");
  std::vector<uint32_t> kept;
  if (k == 0) return kept;
  size_t above = 0;
  size_t bin = kBins - 1;
  while (above + hist[bin] < k) above += hist[bin--];
  const size_t need = k - above;  // taken from `bin`, 1..hist[bin]
  kept.reserve(k);
  std::vector<uint32_t> ties;
  ties.reserve(hist[bin]);
  const uint32_t threshold = static_cast<uint32_t>(bin);
  for (size_t i = 0; i < x.size(); ++i) {
    const uint32_t b = (FloatBits(x[i]) & 0x7FFFFFFFu) >> kBinShift;
    if (b > threshold) kept.push_back(static_cast<uint32_t>(i));
    if (b == threshold) ties.push_back(static_cast<uint32_t>(i));
  }
  auto larger = [&x](uint32_t a, uint32_t b) {
    const uint32_t fa = FloatBits(x[a]) & 0x7FFFFFFFu, fb = FloatBits(x[b]) & 0x7FFFFFFFu;
    return fa != fb ? fa > fb : a < b;
  };
  if (need < ties.size()) {
    std::nth_element(ties.begin(), ties.begin() + need, ties.end(), larger);
    ties.resize(need);
    std::sort(ties.begin(), ties.end());
  }
  const size_t mid = kept.size();
  kept.insert(kept.end(), ties.begin(), ties.end());
  std::inplace_merge(kept.begin(), kept.begin() + mid, kept.end());
  return kept;
}

namespace {

class SparseCodec final : public Compressor {
 public:
  SparseCodec(SparseKind kind, double ratio, std::unique_ptr<Compressor> values)
      : kind_(kind), ratio_(ratio), values_(std::move(values)) {}

  std::string Spec() const override {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.9g", ratio_);
    const char* name = kind_ == SparseKind::kTopK    ? "topk:"
                       : kind_ == SparseKind::kRandK ? "randk:"
                                                     : "randk_unbiased:";
    std::string s = name + std::string(buf);
    return values_ ? "then(" + s + "," + values_->Spec() + ")" : s;
  }
  bool Unbiased() const override {
    return kind_ == SparseKind::kRandKUnbiased && (!values_ || values_->Unbiased());
  }
  double BitsPerElement(size_t d) const override {
    if (d == 0) return 0.0;
    const size_t k = SparseK(ratio_, d);
    double bits = 8.0 * (kHeaderBytes + 4 + (kind_ == SparseKind::kTopK ? 4 * k : 0));
    bits += values_ ? values_->BitsPerElement(k) * static_cast<double>(k) : 32.0 * k;
    return bits / static_cast<double>(d);
  }

  Status Encode(std::span<const float> x, const RngKey& key, ByteBuffer* out) override {
    const size_t d = x.size();
    HEARSAY_RETURN_IF_ERROR(CheckEncodable(Spec(), d));
    const size_t k = SparseK(ratio_, d);
    std::vector<uint32_t> idx;
    if (kind_ == SparseKind::kTopK) {
      auto r = TopKIndices(x, k);
      if (!r.ok()) return r.status().WithPrefix(Spec());
      idx = std::move(r).value();
    } else {
      // Like every other lossy codec, refuse non-finite input, even where no index falls: a
      // diverged model must fail loudly here, not travel on as a few lucky finite values.
      if (kernels::MaxAbsBits(x.data(), d) >= 0x7F800000u) {
        return InvalidArgument(Spec() + ": input has a NaN or infinite value");
      }
      idx = RandKIndices(key, d, k);
    }
    vals_.resize(k);
    for (size_t j = 0; j < k; ++j) {
      vals_[j] = x[idx[j]] * Scale(d, k, j);
      if (!std::isfinite(vals_[j])) {  // randk_unbiased's d/k scale can overflow float32
        return InvalidArgument(Spec() + ": value " + std::to_string(x[idx[j]]) + " at index " +
                               std::to_string(idx[j]) + " overflows float32 when scaled by " +
                               std::to_string(Scale(d, k, j)));
      }
    }
    const size_t start = out->size();
    AppendHeader(out, tag(), values_ ? 1 : 0, d);
    AppendPod<uint32_t>(out, static_cast<uint32_t>(k));
    if (kind_ == SparseKind::kTopK) AppendBytes(out, idx.data(), 4 * k);
    if (!values_) {
      AppendBytes(out, vals_.data(), 4 * k);
      return Status::Ok();
    }
    Status s = values_->Encode(vals_, key, out);
    if (!s.ok()) out->resize(start);
    return s;
  }

  Status Decode(std::span<const uint8_t> bytes, const RngKey& key,
                std::span<float> out) const override {
    const size_t d = out.size();
    ByteReader r(bytes);
    HEARSAY_RETURN_IF_ERROR(ReadHeader(&r, Spec(), tag(), values_ ? 1 : 0, d));
    uint32_t k = 0;
    if (!r.ReadPod(&k)) return Corruption(Spec() + ": payload truncated before k");
    if (k != SparseK(ratio_, d)) {
      return Corruption(Spec() + ": payload keeps " + std::to_string(k) + " values, expected " +
                        std::to_string(SparseK(ratio_, d)));
    }
    std::vector<uint32_t> idx(k);
    if (kind_ == SparseKind::kTopK) {
      std::span<const uint8_t> raw;
      HEARSAY_RETURN_IF_ERROR(ReadSection(&r, Spec(), "indices", 4 * size_t{k}, &raw));
      if (k != 0) std::memcpy(idx.data(), raw.data(), raw.size());
      for (size_t j = 0; j < k; ++j) {
        if (idx[j] >= d || (j > 0 && idx[j] <= idx[j - 1])) {
          return Corruption(Spec() + ": index " + std::to_string(idx[j]) + " at position " +
                            std::to_string(j) + " is out of range or not ascending");
        }
      }
    } else {
      idx = RandKIndices(key, d, k);
    }
    std::vector<float> vals(k);
    std::span<const uint8_t> rest;
    HEARSAY_RETURN_IF_ERROR(ReadSection(&r, Spec(), "values", r.remaining(), &rest));
    if (values_) {
      HEARSAY_RETURN_IF_ERROR(values_->Decode(rest, key, vals).WithPrefix(Spec()));
    } else {
      if (rest.size() != 4 * size_t{k}) {
        return Corruption(Spec() + ": expected " + std::to_string(4 * size_t{k}) +
                          " bytes of values, got " + std::to_string(rest.size()));
      }
      if (k != 0) std::memcpy(vals.data(), rest.data(), rest.size());
    }
    std::fill(out.begin(), out.end(), 0.0f);
    for (size_t j = 0; j < k; ++j) out[idx[j]] = vals[j];
    return Status::Ok();
  }

 private:
  CodecTag tag() const {
    return kind_ == SparseKind::kTopK    ? CodecTag::kTopK
           : kind_ == SparseKind::kRandK ? CodecTag::kRandK
                                         : CodecTag::kRandKUnbiased;
  }
  // randk_unbiased scales the j-th kept value by its stratum's size.
  float Scale(size_t d, size_t k, size_t j) const {
    if (kind_ != SparseKind::kRandKUnbiased) return 1.0f;
    return static_cast<float>((j + 1) * d / k - j * d / k);
  }

  SparseKind kind_;
  double ratio_;
  std::unique_ptr<Compressor> values_;
  std::vector<float> vals_;  // encode scratch
};

}  // namespace

std::unique_ptr<Compressor> MakeSparseCodec(SparseKind kind, double ratio,
                                            std::unique_ptr<Compressor> values) {
  return std::make_unique<SparseCodec>(kind, ratio, std::move(values));
}

}  // namespace hearsay
