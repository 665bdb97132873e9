#include "runtime/data/synthetic.h"

#include <cmath>
#include <string>
#include <vector>

#include "runtime/data/random_draws.h"

namespace hearsay {
namespace {

// key.tensor separates the independent uses of the data stream.
constexpr uint32_t kTensorCentres = 0;
constexpr uint32_t kTensorLabels = 1;
constexpr uint32_t kTensorFeatures = 2;
constexpr uint32_t kTensorFlip = 3;
constexpr uint32_t kTensorFlipTo = 4;

RngKey DataKey(uint64_t seed, uint32_t tensor) { return RngKey{seed, 0, 0, kStreamData, tensor}; }

}  // namespace

Result<Dataset> MakeSynthetic(const SyntheticConfig& c) {
  if (c.samples < 1) {
    return InvalidArgument("synthetic data: samples = " + std::to_string(c.samples) +
                           "; must be at least 1");
  }
  if (c.features < 1) {
    return InvalidArgument("synthetic data: features = " + std::to_string(c.features) +
                           "; must be at least 1");
  }
  if (c.classes < 2) {
    return InvalidArgument("synthetic data: classes = " + std::to_string(c.classes) +
                           "; must be at least 2");
  }
  if (!(c.noise >= 0 && c.noise < 1)) {
    return InvalidArgument("synthetic data: noise = " + std::to_string(c.noise) +
                           "; must be a fraction of flipped labels in [0, 1)");
  }
  if (!(c.separation >= 0) || !std::isfinite(c.separation)) {
    return InvalidArgument("synthetic data: separation = " + std::to_string(c.separation) +
                           "; must be a finite number >= 0");
  }
  const int64_t d = c.features;
  const int32_t k = c.classes;

  std::vector<double> centres(static_cast<size_t>(k * d));
  const RngKey ck = DataKey(c.seed, kTensorCentres);
  for (int32_t cls = 0; cls < k; ++cls) {
    double norm2 = 0;
    double* mu = &centres[static_cast<size_t>(cls * d)];
    for (int64_t f = 0; f < d; ++f) {
      mu[f] = GaussianAt(ck, static_cast<uint64_t>(cls * d + f));
      norm2 += mu[f] * mu[f];
    }
    const double scale = norm2 > 0 ? c.separation / std::sqrt(norm2) : 0.0;
    for (int64_t f = 0; f < d; ++f) mu[f] *= scale;
  }

  Dataset data;
  data.num_features = d;
  data.num_classes = k;
  data.features.resize(static_cast<size_t>(c.samples * d));
  data.labels.resize(static_cast<size_t>(c.samples));
  const RngKey lk = DataKey(c.seed, kTensorLabels);
  const RngKey fk = DataKey(c.seed, kTensorFeatures);
  const RngKey flip = DataKey(c.seed, kTensorFlip);
  const RngKey flip_to = DataKey(c.seed, kTensorFlipTo);
  for (int64_t i = 0; i < c.samples; ++i) {
    const auto y = static_cast<int32_t>(UniformIntAt(lk, static_cast<uint64_t>(i), k));
    const double* mu = &centres[static_cast<size_t>(y * d)];
    float* x = &data.features[static_cast<size_t>(i * d)];
    for (int64_t f = 0; f < d; ++f) {
      x[f] = static_cast<float>(mu[f] + GaussianAt(fk, static_cast<uint64_t>(i * d + f)));
    }
    int32_t label = y;
    if (UniformDoubleAt(flip, static_cast<uint64_t>(i)) < c.noise) {
      // A uniformly drawn different class: shift by 1..k-1.
      label = static_cast<int32_t>(
          (y + 1 + static_cast<int32_t>(UniformIntAt(flip_to, static_cast<uint64_t>(i), k - 1))) %
          k);
    }
    data.labels[static_cast<size_t>(i)] = label;
  }
  return data;
}

}  // namespace hearsay
