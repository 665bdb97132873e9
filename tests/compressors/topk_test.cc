// TopKSelector (compressors/topk.h) against a sort-based reference on inputs built to defeat the
// sampled threshold: ties everywhere, sorted data, values hidden between the sampled positions.
// The result must be exactly the documented set whatever path (threshold or radix fallback) ran.
#include "compressors/topk.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <numeric>
#include <string>
#include <vector>

#include "common/random.h"
#include "compressors/codec_math.h"
#include "compressors/kernels.h"
#include "tests/compressors/test_util.h"

namespace hearsay {
namespace {

// Largest magnitude bits first, ties to the lower index; the first k, ascending.
std::vector<uint32_t> Reference(const std::vector<float>& x, size_t k) {
  std::vector<uint32_t> order(x.size());
  std::iota(order.begin(), order.end(), 0u);
  auto mag = [&](uint32_t i) { return FloatBits(x[i]) & 0x7FFFFFFFu; };
  std::stable_sort(order.begin(), order.end(),
                   [&](uint32_t a, uint32_t b) { return mag(a) > mag(b); });
  order.resize(k);
  std::sort(order.begin(), order.end());
  return order;
}

void ExpectReference(const std::vector<float>& x, size_t k, const std::string& what) {
  TopKSelector sel;
  std::vector<uint32_t> idx;
  std::vector<float> vals;
  ASSERT_TRUE(sel.Select(x, k, &idx, &vals).ok()) << what;
  const auto want = Reference(x, k);
  ASSERT_EQ(idx.size(), k) << what;
  ASSERT_TRUE(idx == want) << what << ": k=" << k << " d=" << x.size();
  for (size_t j = 0; j < k; ++j) {
    ASSERT_EQ(FloatBits(vals[j]), FloatBits(x[idx[j]])) << what << " value " << j;
  }
  // The same selector again (scratch reused) gives the same answer.
  std::vector<uint32_t> again;
  ASSERT_TRUE(sel.Select(x, k, &again, &vals).ok());
  EXPECT_TRUE(again == idx) << what;
}

struct Input {
  std::string name;
  std::vector<float> x;
};

std::vector<Input> Inputs(size_t d) {
  std::vector<Input> in;
  in.push_back({"gaussian", testing::SeededVector(d, 5)});
  std::vector<float> v(d);
  for (size_t i = 0; i < d; ++i) v[i] = static_cast<float>(i % 7) - 3.0f;  // 7 values, ties
  in.push_back({"seven_values", v});
  in.push_back({"all_equal", std::vector<float>(d, -0.5f)});
  std::vector<float> zeros(d, 0.0f);
  for (size_t i = 0; i < d; i += 3) zeros[i] = -0.0f;  // -0 and +0 tie
  in.push_back({"signed_zeros", zeros});
  for (size_t i = 0; i < d; ++i) v[i] = static_cast<float>(i);  // ascending
  in.push_back({"ascending", v});
  std::reverse(v.begin(), v.end());
  in.push_back({"descending", v});
  // Large values only between the positions a fixed-stride sample of 16384 reads: the sample
  // sees nothing but small values and sets the threshold too low or too high.
  std::vector<float> hidden(d, 1e-3f);
  for (size_t i = 0; i < d; ++i) {
    if (i % (d / 16384 == 0 ? 1 : d / 16384) != 0) hidden[i] = 1.0f + static_cast<float>(i % 5);
  }
  in.push_back({"hidden_from_sample", hidden});
  std::vector<float> sampled(d, 1e-3f);
  for (size_t s = 0; s < 16384; ++s) sampled[s * d / 16384] = 100.0f;  // only the sample is big
  in.push_back({"only_sample_large", sampled});
  return in;
}

TEST(TopKSelector, MatchesTheSortedReferenceOnHostileInputs) {
  for (size_t d : {size_t{1}, size_t{9}, size_t{1000}, size_t{65536}, size_t{200003}}) {
    for (const Input& in : Inputs(d)) {
      for (double ratio : {0.0001, 0.01, 0.1, 0.5, 1.0}) {
        const size_t k = std::max<size_t>(1, static_cast<size_t>(ratio * static_cast<double>(d)));
        ExpectReference(in.x, std::min(k, d), in.name);
      }
    }
  }
}

TEST(TopKSelector, PortableAndAvx2ScansAgree) {
  const auto x = testing::SeededVector(300007, 9);
  TopKSelector sel;
  std::vector<uint32_t> fast, slow;
  std::vector<float> vals;
  ASSERT_TRUE(sel.Select(x, 3001, &fast, &vals).ok());
  {
    kernels::ScopedPortableKernels portable;
    ASSERT_TRUE(sel.Select(x, 3001, &slow, &vals).ok());
  }
  EXPECT_TRUE(fast == slow);
}

TEST(TopKSelector, RejectsNaNAndInfinityAnywhere) {
  for (size_t d : {size_t{100}, size_t{100000}}) {
    for (float bad : {std::nanf(""), INFINITY, -INFINITY}) {
      auto x = testing::SeededVector(d, 3);
      x[d / 2 + 1] = bad;  // not a sampled position
      TopKSelector sel;
      std::vector<uint32_t> idx;
      std::vector<float> vals;
      Status s = sel.Select(x, d / 100 + 1, &idx, &vals);
      EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
      EXPECT_EQ(s.message(), "topk: input has a NaN or infinite value");
    }
  }
}

TEST(Kernels, CollectAtLeastMatchesPortableAndHonoursTheCap) {
  const auto x = testing::SeededVector(4103, 11);
  for (uint32_t threshold : {0u, FloatBits(1.0f), FloatBits(2.5f), 0x7F800000u}) {
    for (size_t cap : {size_t{0}, size_t{5}, size_t{5000}}) {
      std::vector<uint32_t> i1(cap + 1, 7), i2(cap + 1, 7);
      std::vector<float> v1(cap + 1, 7.0f), v2(cap + 1, 7.0f);
      uint32_t m1 = 0, m2 = 0;
      const size_t c1 = kernels::CollectAtLeast(x.data() + 1, x.size() - 1, 1, threshold, cap,
                                                i1.data(), v1.data(), &m1);
      size_t c2;
      {
        kernels::ScopedPortableKernels portable;
        c2 = kernels::CollectAtLeast(x.data() + 1, x.size() - 1, 1, threshold, cap, i2.data(),
                                     v2.data(), &m2);
      }
      EXPECT_EQ(c1, c2);
      EXPECT_EQ(m1, m2);
      EXPECT_EQ(m1, kernels::MaxAbsBits(x.data() + 1, x.size() - 1));
      EXPECT_TRUE(i1 == i2);
      EXPECT_EQ(0, std::memcmp(v1.data(), v2.data(), v1.size() * sizeof(float)));
      EXPECT_EQ(i1[cap], 7u) << "wrote past the cap";
      size_t want = 0;
      for (size_t i = 1; i < x.size(); ++i) want += (FloatBits(x[i]) & 0x7FFFFFFFu) >= threshold;
      EXPECT_EQ(c1, want);
    }
  }
}

}  // namespace
}  // namespace hearsay
