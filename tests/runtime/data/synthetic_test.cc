#include "runtime/data/synthetic.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace hearsay {
namespace {

TEST(MakeSynthetic, IsReproducibleFromTheSeed) {
  SyntheticConfig c;
  c.samples = 500;
  auto a = MakeSynthetic(c);
  auto b = MakeSynthetic(c);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->features, b->features);
  EXPECT_EQ(a->labels, b->labels);
  c.seed = 2;
  auto other = MakeSynthetic(c);
  EXPECT_NE(a->features, other->features);
  EXPECT_EQ(a->size(), 500);
  EXPECT_EQ(a->num_features, 32);
  EXPECT_EQ(a->num_classes, 4);
}

TEST(MakeSynthetic, NoiseFlipsThatFractionOfLabelsAndNoFeatures) {
  SyntheticConfig c;
  c.noise = 0;
  auto clean = MakeSynthetic(c).value();
  c.noise = 0.1;
  auto noisy = MakeSynthetic(c).value();
  EXPECT_EQ(clean.features, noisy.features);
  int64_t flipped = 0;
  std::vector<int64_t> per_class(4, 0);
  for (int64_t i = 0; i < clean.size(); ++i) {
    flipped += clean.labels[i] != noisy.labels[i];
    ++per_class[clean.labels[i]];
  }
  // 4000 draws at p = 0.1: 400 +- 19 (1 sd); the bounds are > 3.5 sd wide.
  EXPECT_GT(flipped, 330);
  EXPECT_LT(flipped, 470);
  for (int64_t count : per_class) EXPECT_GT(count, 850);  // balanced classes (1000 expected)
}

TEST(MakeSynthetic, ClassesAreSeparatedBySeparation) {
  // Nearest-centroid accuracy with the empirical centroids: high when separated, chance when not.
  auto accuracy = [](double separation) {
    SyntheticConfig c;
    c.noise = 0;
    c.separation = separation;
    const Dataset data = MakeSynthetic(c).value();
    const int64_t d = data.num_features;
    std::vector<double> mu(4 * d, 0.0);
    std::vector<int64_t> count(4, 0);
    for (int64_t i = 0; i < data.size(); ++i) {
      ++count[data.labels[i]];
      for (int64_t f = 0; f < d; ++f) mu[data.labels[i] * d + f] += data.features[i * d + f];
    }
    for (int cls = 0; cls < 4; ++cls) {
      for (int64_t f = 0; f < d; ++f) mu[cls * d + f] /= static_cast<double>(count[cls]);
    }
    int64_t right = 0;
    for (int64_t i = 0; i < data.size(); ++i) {
      int best = 0;
      double best_dist = 1e300;
      for (int cls = 0; cls < 4; ++cls) {
        double dist = 0;
        for (int64_t f = 0; f < d; ++f) {
          dist += std::pow(data.features[i * d + f] - mu[cls * d + f], 2);
        }
        if (dist < best_dist) best_dist = dist, best = cls;
      }
      right += best == data.labels[i];
    }
    return static_cast<double>(right) / static_cast<double>(data.size());
  };
  EXPECT_GT(accuracy(6.0), 0.97);
  EXPECT_LT(accuracy(0.0), 0.40);
}

TEST(MakeSynthetic, RejectsOutOfRangeFields) {
  SyntheticConfig c;
  c.classes = 1;
  auto r = MakeSynthetic(c);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("classes"), std::string::npos);
  c = SyntheticConfig{};
  c.noise = 1.0;
  EXPECT_FALSE(MakeSynthetic(c).ok());
  c = SyntheticConfig{};
  c.samples = 0;
  EXPECT_FALSE(MakeSynthetic(c).ok());
  c = SyntheticConfig{};
  c.features = 0;
  EXPECT_FALSE(MakeSynthetic(c).ok());
  c = SyntheticConfig{};
  c.separation = -1;
  EXPECT_FALSE(MakeSynthetic(c).ok());
}

}  // namespace
}  // namespace hearsay
