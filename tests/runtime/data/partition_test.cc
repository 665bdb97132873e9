#include "runtime/data/partition.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>
#include <vector>

namespace hearsay {
namespace {

// Row i has the single feature i and label i % classes: rows are traceable after a shuffle.
Dataset Numbered(int64_t n, int32_t classes) {
  Dataset data;
  data.num_features = 1;
  data.num_classes = classes;
  for (int64_t i = 0; i < n; ++i) {
    data.features.push_back(static_cast<float>(i));
    data.labels.push_back(static_cast<int32_t>(i % classes));
  }
  return data;
}

TEST(SplitTrainTest, SplitsIntoDisjointCoveringRandomSets) {
  const Dataset data = Numbered(1000, 4);
  TrainTest tt = SplitTrainTest(data, 0.2, 3);
  EXPECT_EQ(tt.test.size(), 200);
  EXPECT_EQ(tt.train.size(), 800);
  EXPECT_EQ(tt.test.num_classes, 4);
  std::set<float> all(tt.train.features.begin(), tt.train.features.end());
  all.insert(tt.test.features.begin(), tt.test.features.end());
  EXPECT_EQ(all.size(), 1000u);
  // Random, not the last 200 rows; and labels travel with their rows.
  EXPECT_LT(tt.test.features.front(), 700.0f);
  for (int64_t i = 0; i < tt.test.size(); ++i) {
    EXPECT_EQ(tt.test.labels[i], static_cast<int32_t>(tt.test.features[i]) % 4);
  }
  EXPECT_EQ(SplitTrainTest(data, 0.2, 3).test.features, tt.test.features);
  EXPECT_NE(SplitTrainTest(data, 0.2, 4).test.features, tt.test.features);
}

TEST(PartitionIndices, IidGivesEveryRowToExactlyOnePeerInNearEqualShares) {
  const Dataset data = Numbered(103, 4);
  auto parts = PartitionIndices(data, 8, PartitionMode::kIid, 1);
  ASSERT_EQ(parts.size(), 8u);
  std::vector<int64_t> all;
  for (const auto& p : parts) {
    EXPECT_TRUE(p.size() == 12u || p.size() == 13u);
    all.insert(all.end(), p.begin(), p.end());
  }
  std::sort(all.begin(), all.end());
  for (int64_t i = 0; i < 103; ++i) EXPECT_EQ(all[i], i);
  EXPECT_EQ(PartitionIndices(data, 8, PartitionMode::kIid, 1), parts);
  // A random partition mixes classes.
  std::set<int32_t> labels;
  for (int64_t i : parts[0]) labels.insert(data.labels[i]);
  EXPECT_GE(labels.size(), 3u);
  EXPECT_TRUE(PartitionIndices(data, 0, PartitionMode::kIid, 1).empty());
}

TEST(PartitionIndices, LabelSortedGivesEachPeerFewClasses) {
  const Dataset data = Numbered(800, 4);
  auto parts = PartitionIndices(data, 8, PartitionMode::kLabelSorted, 1);
  for (int p = 0; p < 8; ++p) {
    std::set<int32_t> labels;
    for (int64_t i : parts[p]) labels.insert(data.labels[i]);
    EXPECT_EQ(labels.size(), 1u) << "peer " << p;  // 200 rows per class, 100 per peer
    EXPECT_EQ(*labels.begin(), p / 2);
  }
}

// Mean over peers of the total-variation distance between the peer's label distribution and the
// whole set's: 0 for identical mixes, near 1 when each peer holds one class of many.
double MeanLabelSkew(const Dataset& data, const std::vector<std::vector<int64_t>>& parts) {
  const auto classes = static_cast<size_t>(data.num_classes);
  std::vector<double> global(classes, 0);
  for (int32_t y : data.labels) global[static_cast<size_t>(y)] += 1.0 / data.size();
  double sum = 0;
  for (const auto& part : parts) {
    std::vector<double> local(classes, 0);
    for (int64_t i : part) local[static_cast<size_t>(data.labels[i])] += 1.0 / part.size();
    double tv = 0;
    for (size_t c = 0; c < classes; ++c) tv += 0.5 * std::fabs(local[c] - global[c]);
    sum += tv;
  }
  return sum / static_cast<double>(parts.size());
}

TEST(PartitionIndices, DirichletCoversEveryRowOnceAndIsReproduciblePerSeed) {
  const Dataset data = Numbered(1000, 10);
  auto parts = PartitionIndices(data, 16, PartitionMode::kDirichlet, 5, 0.3);
  ASSERT_EQ(parts.size(), 16u);
  std::vector<int64_t> all;
  for (const auto& p : parts) {
    EXPECT_FALSE(p.empty());
    EXPECT_TRUE(std::is_sorted(p.begin(), p.end()));
    all.insert(all.end(), p.begin(), p.end());
  }
  std::sort(all.begin(), all.end());
  ASSERT_EQ(all.size(), 1000u);
  for (int64_t i = 0; i < 1000; ++i) EXPECT_EQ(all[i], i);
  EXPECT_EQ(PartitionIndices(data, 16, PartitionMode::kDirichlet, 5, 0.3), parts);
  EXPECT_NE(PartitionIndices(data, 16, PartitionMode::kDirichlet, 6, 0.3), parts);
  EXPECT_NE(PartitionIndices(data, 16, PartitionMode::kDirichlet, 5, 0.31), parts);
  EXPECT_STREQ(PartitionName(PartitionMode::kDirichlet), "dirichlet");
}

TEST(PartitionIndices, DirichletKeepsEveryPeerNonEmptyEvenWhenTheDrawStarvesThem) {
  // alpha = 0.001 puts each class on (almost) one peer: 10 classes cannot cover 40 peers, so the
  // rule of partition.h must top the others up with one example each.
  const Dataset data = Numbered(200, 10);
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    auto parts = PartitionIndices(data, 40, PartitionMode::kDirichlet, seed, 0.001);
    size_t total = 0;
    int singletons = 0;
    for (const auto& p : parts) {
      EXPECT_FALSE(p.empty()) << "seed " << seed;
      total += p.size();
      singletons += p.size() == 1;
    }
    EXPECT_EQ(total, 200u);
    EXPECT_GE(singletons, 20) << "the draw itself left most peers empty";
  }
  // As many peers as examples: one each.
  auto parts = PartitionIndices(Numbered(12, 3), 12, PartitionMode::kDirichlet, 1, 0.01);
  for (const auto& p : parts) EXPECT_EQ(p.size(), 1u);
}

TEST(PartitionIndices, DirichletSkewGrowsAsAlphaFalls) {
  const Dataset data = Numbered(5000, 10);
  std::vector<double> skew;
  for (double alpha : {1000.0, 10.0, 1.0, 0.1, 0.01}) {
    double mean = 0;
    for (uint64_t seed = 1; seed <= 4; ++seed) {
      mean +=
          MeanLabelSkew(data, PartitionIndices(data, 10, PartitionMode::kDirichlet, seed, alpha)) /
          4;
    }
    skew.push_back(mean);
    std::printf("dirichlet alpha %g: mean label skew (TV) %.3f\n", alpha, mean);
  }
  for (size_t k = 1; k < skew.size(); ++k) {
    EXPECT_GT(skew[k], skew[k - 1] + 0.05) << "alpha step " << k;
  }
  EXPECT_LT(skew.front(), 0.05);  // alpha = 1000: iid within sampling noise
  EXPECT_GT(skew.back(), 0.75);   // alpha = 0.01: a peer holds one or two classes
  // iid and label_sorted bracket it.
  EXPECT_LT(MeanLabelSkew(data, PartitionIndices(data, 10, PartitionMode::kIid, 1)), 0.05);
  EXPECT_GT(MeanLabelSkew(data, PartitionIndices(data, 10, PartitionMode::kLabelSorted, 1)), 0.85);
}

}  // namespace
}  // namespace hearsay
