// Sparsifiers and then(C1, C2). Top-k selection is TopKSelector's (topk.h): a sampled threshold,
// one streaming pass for the candidates and a linear-time selection among them, exact.
// Encoders and decoders keep no per-call allocations: indices and values live in member scratch
// (encode) or are read straight from the payload and rand-k's formula (decode).
#include "compressors/sparse.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#include "compressors/codec_math.h"
#include "compressors/kernels.h"
#include "compressors/topk.h"
#include "compressors/wire.h"

namespace hearsay {
namespace {

// The rand-k strata [floor(j d / k), floor((j + 1) d / k)) for j = 0, 1, ... in order, without
// a division per stratum (two 64-bit divisions per kept element used to dominate rand-k): the
// quotient and remainder of j d / k advance by those of d / k.
class RandKStrata {
 public:
  RandKStrata(size_t d, size_t k)
      : k_(k), step_q_(k == 0 ? 0 : d / k), step_r_(k == 0 ? 0 : d % k) {}
  // Stratum j (the next one): its first index and its size.
  void Next(uint64_t* lo, uint64_t* size) {
    *lo = q_;
    q_ += step_q_;
    r_ += step_r_;
    if (r_ >= k_) {
      r_ -= k_;
      ++q_;
    }
    *size = q_ - *lo;
  }

 private:
  uint64_t k_, step_q_, step_r_;
  uint64_t q_ = 0, r_ = 0;
};

// The element picked in stratum j (RandKIndices): one draw of the index stream.
uint32_t RandKPick(DitherKey dk, size_t j, uint64_t lo, uint64_t size) {
  return static_cast<uint32_t>(lo + ((static_cast<uint64_t>(DitherWord(dk, j)) * size) >> 32));
}

uint32_t LoadU32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
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
  RandKStrata strata(d, k);
  for (size_t j = 0; j < k; ++j) {
    uint64_t lo, size;
    strata.Next(&lo, &size);
    idx[j] = RandKPick(dk, j, lo, size);
  }
  return idx;
}

Result<std::vector<uint32_t>> TopKIndices(std::span<const float> x, size_t k) {
  TopKSelector selector;
  std::vector<uint32_t> idx;
  std::vector<float> vals;
  HEARSAY_RETURN_IF_ERROR(selector.Select(x, k, &idx, &vals));
  return idx;
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
    return EncodeOver(x, {}, key, out);
  }

  // Encodes x, or with `accumulate` p = x + accumulate formed in place (error feedback): topk
  // forms it in its selection pass, randk before its gather.
  Status EncodeOver(std::span<const float> x, std::span<float> accumulate, const RngKey& key,
                    ByteBuffer* out) {
    const size_t d = x.size();
    HEARSAY_RETURN_IF_ERROR(CheckEncodable(*this, d));
    const size_t k = SparseK(ratio_, d);
    if (kind_ == SparseKind::kTopK) {
      Status s = selector_.Select(x, k, &idx_, &vals_, accumulate);
      if (!s.ok()) return s.WithPrefix(Spec());
    } else {
      if (!accumulate.empty()) {
        for (size_t i = 0; i < d; ++i) accumulate[i] = x[i] + accumulate[i];
        x = accumulate;
      }
      // Like every other lossy codec, refuse non-finite input, even where no index falls: a
      // diverged model must fail loudly here, not travel on as a few lucky finite values.
      if (kernels::MaxAbsBits(x.data(), d) >= 0x7F800000u) {
        return InvalidArgument(Spec() + ": input has a NaN or infinite value");
      }
      idx_.resize(k);
      vals_.resize(k);
      scale_.resize(k);
      const DitherKey dk = MakeDitherKey(key, kStreamCodecIndex);
      RandKStrata strata(d, k);
      for (size_t j = 0; j < k; ++j) {
        uint64_t lo, size;
        strata.Next(&lo, &size);
        idx_[j] = RandKPick(dk, j, lo, size);
        // randk_unbiased scales the j-th kept value by its stratum's size.
        scale_[j] = kind_ == SparseKind::kRandKUnbiased ? static_cast<float>(size) : 1.0f;
      }
      // The gather in its own short loop: its cache misses overlap many at a time.
      for (size_t j = 0; j < k; ++j) vals_[j] = x[idx_[j]] * scale_[j];
      for (size_t j = 0; j < k; ++j) {
        if (!std::isfinite(vals_[j])) {  // randk_unbiased's d/k scale can overflow float32
          return InvalidArgument(Spec() + ": value " + std::to_string(x[idx_[j]]) + " at index " +
                                 std::to_string(idx_[j]) + " overflows float32 when scaled by " +
                                 std::to_string(scale_[j]));
        }
      }
    }
    const size_t start = out->size();
    AppendHeader(out, tag(), values_ ? 1 : 0, d);
    AppendPod<uint32_t>(out, static_cast<uint32_t>(k));
    if (kind_ == SparseKind::kTopK) AppendBytes(out, idx_.data(), 4 * k);
    if (!values_) {
      AppendBytes(out, vals_.data(), 4 * k);
      return Status::Ok();
    }
    Status s = values_->Encode(vals_, key, out);
    if (!s.ok()) out->resize(start);
    return s;
  }

  // ef(S) and ef(then(S, C)): decode(encode(p)) is zero except at the k kept indices, so p is
  // formed in the residual itself (for topk in the selection's own pass over x) and only those k
  // elements change afterwards -- no dense decoded vector, no second pass over d elements.
  Status EncodeWithFeedback(std::span<const float> x, std::span<float> residual, const RngKey& key,
                            ByteBuffer* out, FeedbackScratch* scratch) override {
    const size_t start = out->size();
    HEARSAY_RETURN_IF_ERROR(EncodeOver(x, residual, key, out));
    const size_t k = idx_.size();
    std::span<const float> q(vals_);  // raw values decode to exactly what was sent
    if (values_) {
      const size_t at = start + kHeaderBytes + 4 + (kind_ == SparseKind::kTopK ? 4 * k : 0);
      scratch->decoded.resize(k);
      Status s = values_->Decode(std::span<const uint8_t>(*out).subspan(at), key,
                                 std::span<float>(scratch->decoded));
      if (!s.ok()) {
        out->resize(start);
        return Internal(Spec() + ": could not decode its own encoding: " + s.message());
      }
      q = scratch->decoded;
    }
    for (size_t j = 0; j < k; ++j) residual[idx_[j]] = residual[idx_[j]] - q[j];
    return Status::Ok();
  }

  Status Decode(std::span<const uint8_t> bytes, const RngKey& key,
                std::span<float> out) const override {
    const size_t d = out.size();
    ByteReader r(bytes);
    HEARSAY_RETURN_IF_ERROR(ReadHeader(&r, *this, tag(), values_ ? 1 : 0, d));
    uint32_t k = 0;
    if (!r.ReadPod(&k)) return Corruption(Spec() + ": payload truncated before k");
    if (k != SparseK(ratio_, d)) {
      return Corruption(Spec() + ": payload keeps " + std::to_string(k) + " values, expected " +
                        std::to_string(SparseK(ratio_, d)));
    }
    std::span<const uint8_t> raw_idx;
    if (kind_ == SparseKind::kTopK) {
      HEARSAY_RETURN_IF_ERROR(ReadSection(&r, *this, "indices", 4 * size_t{k}, &raw_idx));
      uint32_t prev = 0;
      for (size_t j = 0; j < k; ++j) {
        const uint32_t i = LoadU32(raw_idx.data() + 4 * j);
        if (i >= d || (j > 0 && i <= prev)) {
          return Corruption(Spec() + ": index " + std::to_string(i) + " at position " +
                            std::to_string(j) + " is out of range or not ascending");
        }
        prev = i;
      }
    }
    std::span<const uint8_t> rest;
    HEARSAY_RETURN_IF_ERROR(ReadSection(&r, *this, "values", r.remaining(), &rest));
    std::vector<float> decoded;  // then(S, C): the k values C decodes
    if (values_) {
      decoded.resize(k);
      HEARSAY_RETURN_IF_ERROR(values_->Decode(rest, key, decoded).WithPrefix(Spec()));
    } else if (rest.size() != 4 * size_t{k}) {
      return Corruption(Spec() + ": expected " + std::to_string(4 * size_t{k}) +
                        " bytes of values, got " + std::to_string(rest.size()));
    }
    // Indices first (rand-k's from the key), then the scatter in a short loop with prefetches:
    // its stores miss the cache and overlap best when nothing else is in flight.
    std::vector<uint32_t> randk_idx;
    const uint8_t* idx_bytes = raw_idx.data();
    if (kind_ != SparseKind::kTopK) {
      randk_idx.resize(k);
      const DitherKey dk = MakeDitherKey(key, kStreamCodecIndex);
      RandKStrata strata(d, k);
      for (size_t j = 0; j < k; ++j) {
        uint64_t lo, size;
        strata.Next(&lo, &size);
        randk_idx[j] = RandKPick(dk, j, lo, size);
      }
      idx_bytes = reinterpret_cast<const uint8_t*>(randk_idx.data());
    }
    std::fill(out.begin(), out.end(), 0.0f);
    const uint8_t* vals = values_ ? reinterpret_cast<const uint8_t*>(decoded.data()) : rest.data();
    constexpr size_t kAhead = 16;
    for (size_t j = 0; j < k; ++j) {
      if (j + kAhead < k) __builtin_prefetch(&out[LoadU32(idx_bytes + 4 * (j + kAhead))], 1);
      std::memcpy(&out[LoadU32(idx_bytes + 4 * j)], vals + 4 * j, 4);
    }
    return Status::Ok();
  }

 private:
  CodecTag tag() const {
    return kind_ == SparseKind::kTopK    ? CodecTag::kTopK
           : kind_ == SparseKind::kRandK ? CodecTag::kRandK
                                         : CodecTag::kRandKUnbiased;
  }
  SparseKind kind_;
  double ratio_;
  std::unique_ptr<Compressor> values_;
  // Encode scratch, reused: the kept indices and values of the last encoding.
  TopKSelector selector_;
  std::vector<uint32_t> idx_;
  std::vector<float> vals_;
  std::vector<float> scale_;  // rand-k: per kept value
};

}  // namespace

std::unique_ptr<Compressor> MakeSparseCodec(SparseKind kind, double ratio,
                                            std::unique_ptr<Compressor> values) {
  return std::make_unique<SparseCodec>(kind, ratio, std::move(values));
}

}  // namespace hearsay
