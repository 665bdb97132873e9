#include "runtime/data/sampler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <vector>

namespace hearsay {
namespace {

Dataset Numbered(int64_t n) {
  Dataset data;
  data.num_features = 2;
  data.num_classes = 2;
  for (int64_t i = 0; i < n; ++i) {
    data.features.push_back(static_cast<float>(i));
    data.features.push_back(static_cast<float>(-i));
    data.labels.push_back(static_cast<int32_t>(i % 2));
  }
  return data;
}

std::vector<float> Rows(const Batch& b) {
  std::vector<float> r;
  for (int64_t i = 0; i < b.rows; ++i) {
    r.push_back(b.features[i * b.cols]);
    EXPECT_EQ(b.features[i * b.cols + 1], -b.features[i * b.cols]);  // whole rows gathered
    EXPECT_EQ(b.labels[i], static_cast<int32_t>(b.features[i * b.cols]) % 2);
  }
  return r;
}

TEST(MinibatchSampler, BatchOfARoundDoesNotDependOnCallHistory) {
  const Dataset data = Numbered(50);
  std::vector<int64_t> idx(30);
  std::iota(idx.begin(), idx.end(), 10);
  MinibatchSampler fresh(data, idx, 7, 5, 2);
  MinibatchSampler used(data, idx, 7, 5, 2);
  for (int64_t t = 1; t <= 20; ++t) used.Next(t);
  used.Next(3);
  EXPECT_EQ(Rows(fresh.Next(9)), Rows(used.Next(9)));
  EXPECT_EQ(Rows(fresh.Next(2)), Rows(used.Next(2)));
}

TEST(MinibatchSampler, EachEpochVisitsThePartitionOnceInANewOrder) {
  const Dataset data = Numbered(40);
  std::vector<int64_t> idx = {3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 39};
  MinibatchSampler s(data, idx, 4, 1, 0);
  std::vector<float> epoch1, epoch2;
  for (int64_t t = 1; t <= 3; ++t) {
    auto r = Rows(s.Next(t));
    epoch1.insert(epoch1.end(), r.begin(), r.end());
  }
  for (int64_t t = 4; t <= 6; ++t) {
    auto r = Rows(s.Next(t));
    epoch2.insert(epoch2.end(), r.begin(), r.end());
  }
  EXPECT_NE(epoch1, epoch2);
  std::sort(epoch1.begin(), epoch1.end());
  std::sort(epoch2.begin(), epoch2.end());
  const std::vector<float> expected(idx.begin(), idx.end());
  EXPECT_EQ(epoch1, expected);
  EXPECT_EQ(epoch2, expected);
}

TEST(MinibatchSampler, PeersAndSeedsDrawDifferentBatches) {
  const Dataset data = Numbered(100);
  std::vector<int64_t> idx(100);
  std::iota(idx.begin(), idx.end(), 0);
  MinibatchSampler a(data, idx, 10, 1, 0), b(data, idx, 10, 1, 1), c(data, idx, 10, 2, 0);
  const auto ra = Rows(a.Next(1));
  EXPECT_NE(ra, Rows(b.Next(1)));
  EXPECT_NE(ra, Rows(c.Next(1)));
}

TEST(MinibatchSampler, OversizedBatchMeansFullBatch) {
  const Dataset data = Numbered(10);
  MinibatchSampler s(data, {4, 2, 8}, 100, 1, 0);
  EXPECT_EQ(s.batch_size(), 3);
  EXPECT_EQ(Rows(s.Next(5)), (std::vector<float>{4, 2, 8}));
}

}  // namespace
}  // namespace hearsay
