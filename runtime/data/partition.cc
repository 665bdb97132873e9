#include "runtime/data/partition.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <utility>

#include "runtime/data/random_draws.h"

namespace hearsay {
namespace {

constexpr uint32_t kTensorSplit = 16;
constexpr uint32_t kTensorPartition = 17;

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

}  // namespace

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

TrainTest SplitTrainTest(const Dataset& data, double test_fraction, uint64_t seed) {
  const int64_t n = data.size();
  const double frac = std::clamp(std::isnan(test_fraction) ? 0.0 : test_fraction, 0.0, 1.0);
  const auto num_test = static_cast<int64_t>(std::llround(frac * static_cast<double>(n)));
  std::vector<int64_t> order = RandomOrder(n, seed, kTensorSplit);
  std::vector<int64_t> test(order.begin(), order.begin() + num_test);
  std::vector<int64_t> train(order.begin() + num_test, order.end());
  std::sort(test.begin(), test.end());
  std::sort(train.begin(), train.end());
  return TrainTest{Gather(data, train), Gather(data, test)};
}

std::vector<std::vector<int64_t>> PartitionIndices(const Dataset& data, int num_peers,
                                                   PartitionMode mode, uint64_t seed) {
  if (num_peers < 1) return {};
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
