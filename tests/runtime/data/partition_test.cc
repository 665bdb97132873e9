#include "runtime/data/partition.h"

#include <gtest/gtest.h>

#include <algorithm>
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

}  // namespace
}  // namespace hearsay
