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
    const float* row = b.Row(i);
    r.push_back(row[0]);
    EXPECT_EQ(row[1], -row[0]);                                // whole rows
    EXPECT_EQ(b.labels[i], static_cast<int32_t>(row[0]) % 2);  // the row's own label
  }
  return r;
}

// The batch is a view of the dataset's rows (no copy of the features), and Contiguous() gives
// the same rows as one matrix.
TEST(MinibatchSampler, BatchViewsTheDatasetRowsWithoutCopying) {
  const Dataset data = Numbered(50);
  std::vector<int64_t> idx(50);
  for (int64_t i = 0; i < 50; ++i) idx[static_cast<size_t>(i)] = i;
  MinibatchSampler s(data, idx, 7, 3, 1);
  const Batch b = s.Next(4);
  ASSERT_NE(b.row_index, nullptr);
  for (int64_t i = 0; i < b.rows; ++i) {
    const float* row = b.Row(i);
    EXPECT_GE(row, data.features.data());
    EXPECT_LT(row, data.features.data() + data.features.size());
  }
  std::vector<float> scratch;
  const Batch c = Contiguous(b, &scratch);
  EXPECT_EQ(c.row_index, nullptr);
  EXPECT_EQ(c.features, scratch.data());
  ASSERT_EQ(c.rows, b.rows);
  for (int64_t i = 0; i < b.rows; ++i) {
    EXPECT_EQ(c.Row(i)[0], b.Row(i)[0]);
    EXPECT_EQ(c.Row(i)[1], b.Row(i)[1]);
  }
  EXPECT_EQ(c.labels, b.labels);
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

// A round's batch is the next `batch` positions of the concatenated epoch permutations, also
// where it straddles two epochs (or more): the same rows, in the same order, as a sampler of
// batch 1 drawing those positions one round each.
TEST(MinibatchSampler, BatchesStraddlingEpochsWalkTheEpochPermutationsInOrder) {
  const Dataset data = Numbered(40);
  const std::vector<int64_t> idx = {3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 39};
  MinibatchSampler one(data, idx, 1, 4, 2);
  for (int64_t batch : {5, 7, 11}) {
    MinibatchSampler s(data, idx, batch, 4, 2);
    for (int64_t t = 1; t <= 13; ++t) {
      std::vector<float> expected;
      for (int64_t k = 0; k < batch; ++k)
        expected.push_back(Rows(one.Next((t - 1) * batch + k + 1))[0]);
      EXPECT_EQ(Rows(s.Next(t)), expected) << "batch " << batch << ", round " << t;
    }
  }
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
