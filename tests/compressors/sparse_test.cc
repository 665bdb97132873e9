// top-k exactness, rand-k index reconstruction, then(C1, C2), fp16 path agreement.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

#include "compressors/codec_math.h"
#include "compressors/codecs.h"
#include "compressors/sparse.h"
#include "tests/compressors/test_util.h"

namespace hearsay {
namespace {

using testing::Key;
using testing::MustMake;
using testing::SeededVector;

TEST(TopK, KeepsExactlyTheKLargestMagnitudes) {
  for (size_t d : {size_t{10}, size_t{1000}, size_t{5000}}) {
    auto x = SeededVector(d, 3 + d);
    for (size_t i = 0; i < d; i += 50) x[i] = 1.0f;  // ties
    const size_t k = SparseK(0.07, d);
    auto idx = TopKIndices(x, k);
    ASSERT_TRUE(idx.ok());
    ASSERT_EQ(idx->size(), k);
    EXPECT_TRUE(std::is_sorted(idx->begin(), idx->end()));
    // Reference: stable sort by magnitude, descending, lower index first on ties.
    std::vector<uint32_t> order(d);
    for (size_t i = 0; i < d; ++i) order[i] = static_cast<uint32_t>(i);
    std::stable_sort(order.begin(), order.end(),
                     [&](uint32_t a, uint32_t b) { return std::abs(x[a]) > std::abs(x[b]); });
    std::vector<uint32_t> want(order.begin(), order.begin() + k);
    std::sort(want.begin(), want.end());
    EXPECT_EQ(*idx, want) << "d=" << d;
  }
}

TEST(TopK, DecodeRestoresKeptValuesExactlyAndZeroesTheRest) {
  const auto x = SeededVector(400, 12);
  auto c = MustMake("topk:0.05");
  ByteBuffer buf;
  ASSERT_TRUE(c->Encode(x, Key(1), &buf).ok());
  std::vector<float> y(400, 9.0f);
  ASSERT_TRUE(c->Decode(buf, Key(1), y).ok());
  auto idx = TopKIndices(x, 20);
  std::set<uint32_t> kept(idx->begin(), idx->end());
  for (size_t i = 0; i < x.size(); ++i) EXPECT_EQ(y[i], kept.count(i) ? x[i] : 0.0f) << i;
}

TEST(TopK, RejectsNaN) {
  auto x = SeededVector(50, 1);
  x[3] = std::nanf("");
  ByteBuffer buf;
  EXPECT_EQ(MustMake("topk:0.1")->Encode(x, Key(1), &buf).code(), StatusCode::kInvalidArgument);
}

// Issue 8: randk accepted non-finite input where the other lossy codecs refuse it (a diverged
// run then travelled on with a few lucky finite values).
TEST(RandK, RefusesNonFiniteInputEvenWhereNoIndexFalls) {
  for (const char* spec : {"randk:0.01", "randk_unbiased:0.01", "then(randk:0.01, qsgd:8)"}) {
    for (float bad : {std::nanf(""), std::numeric_limits<float>::infinity()}) {
      auto x = SeededVector(1000, 5);
      x[997] = bad;
      ByteBuffer buf = {42};
      const Status s = MustMake(spec)->Encode(x, Key(1), &buf);
      EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << spec;
      EXPECT_NE(s.message().find("NaN or infinite"), std::string::npos) << s.message();
      EXPECT_EQ(buf, ByteBuffer{42}) << "a refused encode must not leave bytes behind";
    }
  }
}

TEST(RandK, UnbiasedScaleOverflowIsRefused) {
  std::vector<float> x(1000, 3.0e38f);  // finite, but times d/k = 100 overflows
  ByteBuffer buf;
  const Status s = MustMake("randk_unbiased:0.01")->Encode(x, Key(1), &buf);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("overflows float32"), std::string::npos) << s.message();
}

TEST(RandK, ReceiverReconstructsTheSendersIndicesFromTheKey) {
  const auto x = SeededVector(1000, 4);
  auto sender = MustMake("randk:0.1");
  auto receiver = MustMake("randk:0.1");
  ByteBuffer buf;
  ASSERT_TRUE(sender->Encode(x, Key(8, 3, 1), &buf).ok());
  std::vector<float> y(1000);
  ASSERT_TRUE(receiver->Decode(buf, Key(8, 3, 1), y).ok());
  const auto idx = RandKIndices(Key(8, 3, 1), 1000, 100);
  std::set<uint32_t> kept(idx.begin(), idx.end());
  EXPECT_EQ(kept.size(), 100u);
  for (size_t i = 0; i < 1000; ++i) EXPECT_EQ(y[i], kept.count(i) ? x[i] : 0.0f) << i;
  // Only values travel: header + k + 4 bytes per kept value.
  EXPECT_EQ(buf.size(), 8u + 4u + 400u);
  // Another key picks another set.
  EXPECT_NE(RandKIndices(Key(8, 4, 1), 1000, 100), idx);
}

TEST(RandK, EveryIndexIsPickedAtTheRateOfItsStratum) {
  const size_t d = 30, k = 7;
  std::vector<int> hits(d, 0);
  const int trials = 7000;
  for (int t = 0; t < trials; ++t) {
    for (uint32_t i : RandKIndices(Key(t), d, k)) hits[i]++;
  }
  for (size_t j = 0; j < k; ++j) {
    const size_t lo = j * d / k, hi = (j + 1) * d / k;
    const double p = 1.0 / static_cast<double>(hi - lo);
    for (size_t i = lo; i < hi; ++i) {
      const double se = std::sqrt(p * (1 - p) / trials);
      EXPECT_NEAR(hits[i] / double(trials), p, 4 * se) << i;
    }
  }
}

TEST(Then, EncodesTheKeptValuesWithTheSecondCodec) {
  const auto x = SeededVector(1000, 5);
  auto plain = MustMake("topk:0.1");
  auto nat = MustMake("then(topk:0.1,natural)");
  ByteBuffer a, b;
  ASSERT_TRUE(plain->Encode(x, Key(2), &a).ok());
  ASSERT_TRUE(nat->Encode(x, Key(2), &b).ok());
  EXPECT_LT(b.size(), a.size());
  std::vector<float> ya(1000), yb(1000);
  ASSERT_TRUE(plain->Decode(a, Key(2), ya).ok());
  ASSERT_TRUE(nat->Decode(b, Key(2), yb).ok());
  for (size_t i = 0; i < 1000; ++i) {
    if (ya[i] == 0) {
      EXPECT_EQ(yb[i], 0.0f);
    } else {  // natural rounds to a neighbouring power of two
      EXPECT_LE(std::abs(yb[i]), 2 * std::abs(ya[i]));
      EXPECT_GE(std::abs(yb[i]), 0.5f * std::abs(ya[i]));
    }
  }
}

TEST(Fp16, F16cAndPortablePathsGiveTheSameBits) {
  auto x = SeededVector(1003, 6, 100.0f);
  x[0] = 1e9f;
  x[1] = -1e-7f;
  x[2] = 0x1p-25f;
  x[3] = std::numeric_limits<float>::infinity();
  x[4] = 65519.0f;
  x[5] = 65520.0f;
  x[6] = std::nanf("");
  std::vector<uint8_t> fast(2 * x.size()), slow(2 * x.size());
  HalfEncodeForTest(x.data(), x.size(), fast.data(), false);
  HalfEncodeForTest(x.data(), x.size(), slow.data(), true);
  EXPECT_EQ(fast, slow);
}

}  // namespace
}  // namespace hearsay
