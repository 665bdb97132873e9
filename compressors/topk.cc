#include "compressors/topk.h"

#include <algorithm>
#include <cmath>
#include <functional>

#include "compressors/codec_math.h"
#include "compressors/kernels.h"

namespace hearsay {
namespace {

// Below this many elements the threshold is 0 (every element is a candidate): sampling would not
// save a pass, and the selection over d keys is cheap.
constexpr size_t kSampleFrom = 65536;
constexpr size_t kSampleSize = 16384;

constexpr int kBinShift = 15;  // radix select on the 16 high bits of |x|
constexpr size_t kBins = size_t{1} << 16;

uint32_t Magnitude(float v) { return FloatBits(v) & 0x7FFFFFFFu; }

Status NonFinite() { return InvalidArgument("topk: input has a NaN or infinite value"); }

}  // namespace

Status TopKSelector::Select(std::span<const float> x, size_t k, std::vector<uint32_t>* idx,
                            std::vector<float>* vals, std::span<float> accumulate) {
  const size_t d = x.size();
  const bool add = !accumulate.empty();
  // The value selected at i: x[i], or p[i] = x[i] + accumulate[i] (the same float sum the pass
  // below stores).
  const auto value = [&](size_t i) { return add ? x[i] + accumulate[i] : x[i]; };
  idx->resize(k);
  vals->resize(k);
  // 1. The threshold. With s = k S / d the expected number of sampled elements in the top k, the
  // sample's r-th largest with r = s + 3 sqrt(s) + 8 is, for data in any order, below the k-th
  // largest of x unless the sample is off by more than three standard deviations; the candidates
  // are then about (r / s) k elements.
  uint32_t threshold = 0;
  size_t cap = d;
  if (d >= kSampleFrom && k < d) {
    sample_.resize(kSampleSize);
    for (size_t s = 0; s < kSampleSize; ++s) sample_[s] = Magnitude(value(s * d / kSampleSize));
    const double expected = static_cast<double>(k) * kSampleSize / static_cast<double>(d);
    const size_t r = std::min<size_t>(
        kSampleSize, static_cast<size_t>(std::ceil(expected + 3.0 * std::sqrt(expected) + 8.0)));
    std::nth_element(sample_.begin(), sample_.begin() + (r - 1), sample_.end(),
                     std::greater<uint32_t>());
    threshold = sample_[r - 1];
    // Twice the expected candidates, so that a mildly unlucky sample still fits.
    cap = std::min(d, 2 * (r * d / kSampleSize) + 1024);
  }
  // 2. One pass: the candidates in index order, and the largest magnitude.
  cand_idx_.resize(cap);
  cand_val_.resize(cap);
  uint32_t max_bits = 0;
  const size_t count =
      add ? kernels::AddCollectAtLeast(x.data(), accumulate.data(), d, 0, threshold, cap,
                                       cand_idx_.data(), cand_val_.data(), &max_bits)
          : kernels::CollectAtLeast(x.data(), d, 0, threshold, cap, cand_idx_.data(),
                                    cand_val_.data(), &max_bits);
  if (max_bits >= 0x7F800000u) return NonFinite();
  if (k == 0) return Status::Ok();
  if (count < k || count > cap) {  // the sample misled: exact radix select over everything
    SelectByHistogram(add ? std::span<const float>(accumulate) : x, k, idx, vals);
    return Status::Ok();
  }
  if (count == k) {  // every candidate is kept (k = d, or an exact threshold)
    std::copy_n(cand_idx_.begin(), k, idx->begin());
    std::copy_n(cand_val_.begin(), k, vals->begin());
    return Status::Ok();
  }
  // 3. The k-th largest magnitude among the candidates (all of the top k are candidates, as
  // count >= k elements reach the threshold), then the candidates above it and, in index order,
  // as many equal to it as are still needed.
  cand_keys_.resize(count);
  for (size_t j = 0; j < count; ++j) cand_keys_[j] = Magnitude(cand_val_[j]);
  std::nth_element(cand_keys_.begin(), cand_keys_.begin() + (k - 1), cand_keys_.end(),
                   std::greater<uint32_t>());
  const uint32_t kth = cand_keys_[k - 1];
  size_t above = 0;
  for (size_t j = 0; j < k - 1; ++j) above += cand_keys_[j] > kth ? 1 : 0;
  size_t ties = k - above;  // equal magnitudes to keep, lowest indices first
  size_t out = 0;
  for (size_t j = 0; j < count && out < k; ++j) {
    const uint32_t m = Magnitude(cand_val_[j]);
    if (m > kth || (m == kth && ties > 0)) {
      if (m == kth) --ties;
      (*idx)[out] = cand_idx_[j];
      (*vals)[out] = cand_val_[j];
      ++out;
    }
  }
  return Status::Ok();
}

// Pass 1 builds a histogram of the 16 high bits of |x| (exponent and 8 mantissa bits), which fixes
// the bin of the k-th largest; pass 2 keeps everything above that bin and collects the bin's
// elements, among which an exact partial sort picks the rest (ties to the lower index).
void TopKSelector::SelectByHistogram(std::span<const float> x, size_t k, std::vector<uint32_t>* idx,
                                     std::vector<float>* vals) {
  hist_.assign(kBins, 0);
  for (float v : x) ++hist_[Magnitude(v) >> kBinShift];
  size_t above = 0;
  size_t bin = kBins - 1;
  while (above + hist_[bin] < k) above += hist_[bin--];
  const size_t need = k - above;  // taken from `bin`, 1..hist_[bin]
  const uint32_t threshold = static_cast<uint32_t>(bin);
  std::vector<uint32_t> kept, ties;
  kept.reserve(above);
  ties.reserve(hist_[bin]);
  for (size_t i = 0; i < x.size(); ++i) {
    const uint32_t b = Magnitude(x[i]) >> kBinShift;
    if (b > threshold) kept.push_back(static_cast<uint32_t>(i));
    if (b == threshold) ties.push_back(static_cast<uint32_t>(i));
  }
  auto larger = [&x](uint32_t a, uint32_t b) {
    const uint32_t fa = Magnitude(x[a]), fb = Magnitude(x[b]);
    return fa != fb ? fa > fb : a < b;
  };
  if (need < ties.size()) {
    std::nth_element(ties.begin(), ties.begin() + need, ties.end(), larger);
    ties.resize(need);
    std::sort(ties.begin(), ties.end());
  }
  std::merge(kept.begin(), kept.end(), ties.begin(), ties.end(), idx->begin());
  for (size_t j = 0; j < k; ++j) (*vals)[j] = x[(*idx)[j]];
}

}  // namespace hearsay
