#include "runtime/data/partition.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <utility>

#include "runtime/data/random_draws.h"

namespace hearsay {
namespace {

constexpr uint32_t kTensorSplit = 16;
constexpr uint32_t kTensorPartition = 17;
constexpr uint32_t kTensorDirichlet = 18;

// Indices 0..n-1 ordered by a random 64-bit key per index (ties broken by index): a uniformly
// random permutation that depends only on (seed, tensor).
std::vector<int64_t> RandomOrder(int64_t n, uint64_t seed, uint32_t tensor) {
  const RngKey key{seed, 0, 0, kStreamData, tensor};
  std::vector<std::pair<uint64_t, int64_t>> keyed(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) keyed[static_cast<size_t>(i)] = {Bits64At(key, i), i};
  std::sort(keyed.begin(), keyed.end());
  std::vector<int64_t> order(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i)
    order[static_cast<size_t>(i)] = keyed[static_cast<size_t>(i)].second;
  return order;
}

// log of a Gamma(shape, 1) variate, a pure function of (key, shape). Marsaglia and Tsang (2000)
// for shape >= 1; below 1, Gamma(a) = Gamma(a + 1) * U^(1/a) (their boost), kept in logs so that
// tiny shapes (alpha = 0.001) do not underflow to 0 for every peer at once. Attempt k uses
// Philox blocks 2k (normal) and 2k + 1 (uniform); the boost's uniform is block 2^40.
double LogGamma(const RngKey& key, double shape) {
  const double a = shape < 1 ? shape + 1 : shape;
  const double d = a - 1.0 / 3.0;
  const double c = 1.0 / std::sqrt(9.0 * d);
  double log_g = std::log(d);  // the mode, should every attempt be rejected (p < 1e-300)
  for (uint64_t k = 0; k < 256; ++k) {
    const double x = GaussianAt(key, 2 * k);
    const double t = 1.0 + c * x;
    if (t <= 0) continue;
    const double v = t * t * t;
    const double u = UniformDoubleAt(key, 2 * k + 1);
    if (u > 0 && std::log(u) < 0.5 * x * x + d - d * v + d * std::log(v)) {
      log_g = std::log(d * v);
      break;
    }
  }
  if (shape < 1) {
    const double u = UniformDoubleAt(key, uint64_t{1} << 40);
    log_g += std::log(u > 0 ? u : 1e-300) / shape;
  }
  return log_g;
}

// Per class, the Dirichlet split of its examples (documented in partition.h).
std::vector<std::vector<int64_t>> DirichletParts(const Dataset& data, int num_peers, uint64_t seed,
                                                 double alpha) {
  alpha = std::clamp(std::isnan(alpha) ? 0.5 : alpha, 1e-12, kMaxDirichletAlpha);
  const int64_t n = data.size();
  int32_t classes = data.num_classes;
  for (int32_t y : data.labels) classes = std::max(classes, y + 1);
  // Examples of each class, in random order.
  std::vector<std::vector<int64_t>> by_class(static_cast<size_t>(classes));
  for (int64_t i : RandomOrder(n, seed, kTensorPartition)) {
    by_class[static_cast<size_t>(data.labels[static_cast<size_t>(i)])].push_back(i);
  }
  // bucket[p][c]: the examples of class c that peer p holds, in placement order.
  std::vector<std::vector<std::vector<int64_t>>> bucket(
      static_cast<size_t>(num_peers), std::vector<std::vector<int64_t>>(by_class.size()));
  std::vector<double> log_g(static_cast<size_t>(num_peers));
  for (size_t c = 0; c < by_class.size(); ++c) {
    const auto& rows = by_class[c];
    if (rows.empty()) continue;
    double top = -std::numeric_limits<double>::infinity();
    for (int p = 0; p < num_peers; ++p) {
      const RngKey key{seed, static_cast<uint32_t>(p), static_cast<uint32_t>(c), kStreamData,
                       kTensorDirichlet};
      log_g[static_cast<size_t>(p)] = LogGamma(key, alpha);
      top = std::max(top, log_g[static_cast<size_t>(p)]);
    }
    // Normalised in logs (log-sum-exp): the largest share is computed without underflow.
    double sum = 0;
    for (double lg : log_g) sum += std::exp(lg - top);
    double cumulative = 0;
    size_t begin = 0;
    const double count = static_cast<double>(rows.size());
    for (int p = 0; p < num_peers; ++p) {
      cumulative += std::exp(log_g[static_cast<size_t>(p)] - top) / sum;
      const size_t end =
          p + 1 == num_peers
              ? rows.size()
              : std::min(rows.size(),
                         static_cast<size_t>(std::llround(count * std::min(cumulative, 1.0))));
      for (size_t k = begin; k < std::max(begin, end); ++k) {
        bucket[static_cast<size_t>(p)][c].push_back(rows[k]);
      }
      begin = std::max(begin, end);
    }
  }
  auto total = [&](int p) {
    size_t t = 0;
    for (const auto& b : bucket[static_cast<size_t>(p)]) t += b.size();
    return t;
  };
  // Every peer non-empty: an empty peer takes one example from the largest peer (partition.h).
  for (int p = 0; p < num_peers; ++p) {
    if (total(p) > 0) continue;
    int donor = 0;
    for (int q = 1; q < num_peers; ++q) {
      if (total(q) > total(donor)) donor = q;
    }
    if (total(donor) < 2) break;  // fewer examples than peers: nothing to share
    auto& from = bucket[static_cast<size_t>(donor)];
    size_t cls = 0;
    for (size_t c = 1; c < from.size(); ++c) {
      if (from[c].size() > from[cls].size()) cls = c;
    }
    bucket[static_cast<size_t>(p)][cls].push_back(from[cls].back());
    from[cls].pop_back();
  }
  std::vector<std::vector<int64_t>> parts(static_cast<size_t>(num_peers));
  for (int p = 0; p < num_peers; ++p) {
    auto& part = parts[static_cast<size_t>(p)];
    for (const auto& b : bucket[static_cast<size_t>(p)])
      part.insert(part.end(), b.begin(), b.end());
    std::sort(part.begin(), part.end());
  }
  return parts;
}

}  // namespace

const char* PartitionName(PartitionMode mode) {
  switch (mode) {
    case PartitionMode::kLabelSorted:
      return "label_sorted";
    case PartitionMode::kDirichlet:
      return "dirichlet";
    case PartitionMode::kIid:
      break;
  }
  return "iid";
}

Dataset Gather(const Dataset& data, const std::vector<int64_t>& rows) {
  Dataset out;
  out.num_features = data.num_features;
  out.num_classes = data.num_classes;
  const size_t d = static_cast<size_t>(data.num_features);
  out.features.resize(rows.size() * d);
  out.labels.resize(rows.size());
  for (size_t r = 0; r < rows.size(); ++r) {
    const size_t src = static_cast<size_t>(rows[r]);
    std::copy_n(&data.features[src * d], d, &out.features[r * d]);
    out.labels[r] = data.labels[src];
  }
  return out;
}

TrainTestRows SplitTrainTestRows(int64_t n, double test_fraction, uint64_t seed) {
  const double frac = std::clamp(std::isnan(test_fraction) ? 0.0 : test_fraction, 0.0, 1.0);
  const auto num_test = static_cast<int64_t>(std::llround(frac * static_cast<double>(n)));
  std::vector<int64_t> order = RandomOrder(n, seed, kTensorSplit);
  TrainTestRows rows;
  rows.test.assign(order.begin(), order.begin() + num_test);
  rows.train.assign(order.begin() + num_test, order.end());
  std::sort(rows.test.begin(), rows.test.end());
  std::sort(rows.train.begin(), rows.train.end());
  return rows;
}

TrainTest SplitTrainTest(const Dataset& data, double test_fraction, uint64_t seed) {
  const TrainTestRows rows = SplitTrainTestRows(data.size(), test_fraction, seed);
  return TrainTest{Gather(data, rows.train), Gather(data, rows.test)};
}

std::vector<std::vector<int64_t>> PartitionIndices(const Dataset& data, int num_peers,
                                                   PartitionMode mode, uint64_t seed,
                                                   double alpha) {
  if (num_peers < 1) return {};
  if (mode == PartitionMode::kDirichlet) return DirichletParts(data, num_peers, seed, alpha);
  const int64_t n = data.size();
  std::vector<int64_t> order = RandomOrder(n, seed, kTensorPartition);
  if (mode == PartitionMode::kLabelSorted) {
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
      return data.labels[static_cast<size_t>(a)] < data.labels[static_cast<size_t>(b)];
    });
  }
  std::vector<std::vector<int64_t>> parts(static_cast<size_t>(num_peers));
  int64_t begin = 0;
  for (int p = 0; p < num_peers; ++p) {
    // The first n % num_peers peers get one extra example.
    const int64_t count = n / num_peers + (p < n % num_peers ? 1 : 0);
    parts[static_cast<size_t>(p)].assign(order.begin() + begin, order.begin() + begin + count);
    begin += count;
  }
  return parts;
}

}  // namespace hearsay
