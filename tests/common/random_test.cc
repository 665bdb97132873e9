#include "common/random.h"

#include <gtest/gtest.h>

#include <cmath>

namespace hearsay {
namespace {

TEST(Philox, MatchesPublishedKnownAnswer) {
  // Random123 known-answer test for philox4x32-10 with counter = key = 0.
  Philox4 r = Philox4x32(0, 0, 0, 0, 0, 0);
  EXPECT_EQ(r.v[0], 0x6627e8d5u);
  EXPECT_EQ(r.v[1], 0xe169c58du);
  EXPECT_EQ(r.v[2], 0xbc57ac4cu);
  EXPECT_EQ(r.v[3], 0x9b00dbd8u);
  // counter = key = all ones.
  r = Philox4x32(~0u, ~0u, ~0u, ~0u, ~0u, ~0u);
  EXPECT_EQ(r.v[0], 0x408f276du);
  EXPECT_EQ(r.v[1], 0x41c83b0eu);
  EXPECT_EQ(r.v[2], 0xa20bc7c6u);
  EXPECT_EQ(r.v[3], 0x6d5451fdu);
}

TEST(UniformAt, DependsOnEveryKeyFieldAndIsUniform) {
  RngKey k{7, 1, 2, kStreamCodec, 0};
  const float base = UniformAt(k, 5);
  EXPECT_EQ(base, UniformAt(k, 5));
  RngKey other = k;
  other.peer = 2;
  EXPECT_NE(base, UniformAt(other, 5));
  other = k;
  other.round = 3;
  EXPECT_NE(base, UniformAt(other, 5));
  other = k;
  other.stream = kStreamData;
  EXPECT_NE(base, UniformAt(other, 5));
  other = k;
  other.seed = 8;
  EXPECT_NE(base, UniformAt(other, 5));

  const int n = 200000;
  double sum = 0, sum2 = 0;
  for (int i = 0; i < n; ++i) {
    float u = UniformAt(k, i);
    ASSERT_GE(u, 0.0f);
    ASSERT_LT(u, 1.0f);
    sum += u;
    sum2 += u * u;
  }
  const double mean = sum / n, var = sum2 / n - mean * mean;
  EXPECT_NEAR(mean, 0.5, 4 * std::sqrt(1.0 / 12 / n));
  EXPECT_NEAR(var, 1.0 / 12, 0.002);
}

}  // namespace
}  // namespace hearsay
