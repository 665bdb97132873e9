#include "runtime/data/synthetic.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
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

// The bytes are part of the documented generative model (results compare across versions): a
// checksum of one data set, recorded from the first implementation, before generation went row by
// row.
TEST(MakeSynthetic, BytesAreThoseOfTheFirstImplementation) {
  SyntheticConfig c;
  c.samples = 301;
  c.features = 17;
  c.classes = 5;
  c.noise = 0.2;
  c.separation = 1.5;
  c.seed = 99;
  auto d = MakeSynthetic(c);
  ASSERT_TRUE(d.ok()) << d.status().message();
  uint64_t h = 1469598103934665603ull;  // FNV-1a over the features' and then the labels' bytes
  const auto mix = [&](const void* p, size_t n) {
    for (size_t i = 0; i < n; ++i) {
      h ^= static_cast<const unsigned char*>(p)[i];
      h *= 1099511628211ull;
    }
  };
  mix(d->features.data(), d->features.size() * sizeof(float));
  mix(d->labels.data(), d->labels.size() * sizeof(int32_t));
  EXPECT_EQ(h, 0x374105310b0cea9full);
}

TEST(MakeSyntheticRows, GivesTheFullSetsRowsInTheOrderAsked) {
  SyntheticConfig c;
  c.samples = 200;
  c.features = 9;
  c.classes = 3;
  c.noise = 0.3;
  const Dataset all = MakeSynthetic(c).value();
  auto labels = SyntheticLabels(c);
  ASSERT_TRUE(labels.ok());
  EXPECT_EQ(*labels, all.labels);
  const std::vector<int64_t> rows = {199, 0, 57, 57, 3, 120, 0};  // any order, repeats
  auto some = MakeSyntheticRows(c, rows);
  ASSERT_TRUE(some.ok()) << some.status().message();
  EXPECT_EQ(some->num_features, 9);
  EXPECT_EQ(some->num_classes, 3);
  ASSERT_EQ(some->size(), static_cast<int64_t>(rows.size()));
  for (size_t r = 0; r < rows.size(); ++r) {
    const auto i = static_cast<size_t>(rows[r]);
    EXPECT_EQ(some->labels[r], all.labels[i]) << "row " << rows[r];
    EXPECT_TRUE(
        std::equal(&some->features[r * 9], &some->features[r * 9] + 9, &all.features[i * 9]))
        << "row " << rows[r];
  }
  EXPECT_EQ(MakeSyntheticRows(c, {}).value().size(), 0);
  for (int64_t bad : {int64_t{-1}, int64_t{200}}) {
    auto r = MakeSyntheticRows(c, std::vector<int64_t>{5, bad});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().message(),
              "synthetic data: example " + std::to_string(bad) + " asked for; there are 200");
  }
  c.classes = 1;
  EXPECT_FALSE(SyntheticLabels(c).ok());
  EXPECT_FALSE(MakeSyntheticRows(c, rows).ok());
}

}  // namespace
}  // namespace hearsay
