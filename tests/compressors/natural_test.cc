// natural / natural8 / natdither specifics: outputs are signed powers of two (times the norm),
// the 9/8 second-moment bound and where it is attained.
#include <gtest/gtest.h>

#include <cmath>

#include "compressors/codec_math.h"
#include "tests/compressors/test_util.h"

namespace hearsay {
namespace {

using testing::Key;
using testing::MustMake;

double SecondMomentRatio(const std::string& spec, float t, int samples) {
  auto c = MustMake(spec);
  std::vector<float> x(64, t), y(64);
  double sum = 0;
  for (int s = 0; s < samples; ++s) {
    ByteBuffer buf;
    EXPECT_TRUE(c->Encode(x, Key(s, 2), &buf).ok());
    EXPECT_TRUE(c->Decode(buf, Key(s, 2), y).ok());
    for (float v : y) sum += double(v) * v;
  }
  return sum / (64.0 * samples) / (double(t) * t);
}

TEST(Natural, SecondMomentIsAtMostNineEighthsAndAttainedAtFourThirds) {
  // E[C(t)^2] / t^2 = (3 * 2^a * |t| - 2 * 4^a) / t^2 on [2^a, 2^(a+1)): max 9/8 at 4/3 * 2^a.
  const double at_peak = SecondMomentRatio("natural", 4.0f / 3.0f * 8.0f, 400);
  EXPECT_NEAR(at_peak, 9.0 / 8.0, 0.01);
  for (float t : {1.0f, 1.1f, 1.5f, 1.9f, -0.3f, 7e-3f, 1e-20f}) {
    const double r = SecondMomentRatio("natural", t, 200);
    EXPECT_LE(r, 9.0 / 8.0 * 1.01) << t;
    const double exact = (3.0 * std::exp2(std::floor(std::log2(std::abs(t)))) * std::abs(t) -
                          2.0 * std::exp2(2 * std::floor(std::log2(std::abs(t))))) /
                         (double(t) * t);
    EXPECT_NEAR(r, exact, 0.01) << t;
  }
}

TEST(Natural, DecodesToSignedPowersOfTwoBracketingTheInput) {
  auto c = MustMake("natural");
  std::vector<float> x = {0.0f, -0.0f, 3.0f, -5.5f, 1e-40f, 1.0f, 1e30f};
  std::vector<float> y(x.size());
  ByteBuffer buf;
  ASSERT_TRUE(c->Encode(x, Key(1), &buf).ok());
  ASSERT_TRUE(c->Decode(buf, Key(1), y).ok());
  EXPECT_EQ(y[0], 0.0f);
  EXPECT_EQ(y[1], 0.0f);
  EXPECT_TRUE(y[2] == 2.0f || y[2] == 4.0f) << y[2];
  EXPECT_TRUE(y[3] == -4.0f || y[3] == -8.0f) << y[3];
  EXPECT_TRUE(y[4] == 0.0f || y[4] == 0x1p-126f) << y[4];
  EXPECT_EQ(y[5], 1.0f);
  EXPECT_EQ(std::ilogb(y[6]) - std::ilogb(1e30f) <= 1, true);
}

TEST(Natural, RefusesValuesThatCannotRoundUp) {
  auto c = MustMake("natural");
  std::vector<float> x = {1.0f, 3e38f};
  ByteBuffer buf;
  EXPECT_EQ(c->Encode(x, Key(1), &buf).code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(buf.empty());
}

TEST(Natural8, KeepsNaturalStatisticsInsideItsWindow) {
  EXPECT_NEAR(SecondMomentRatio("natural8", 4.0f / 3.0f, 400), 9.0 / 8.0, 0.01);
}

TEST(Natural8, RoundsValuesBelowTheWindowToZeroOrItsBottom) {
  auto c = MustMake("natural8");
  // Top exponent 2^20 puts the window's bottom at 2^(21 - 126) = 2^-105.
  std::vector<float> x(4096, 0x1p-107f), y(4096);
  x[0] = 0x1p20f;
  ByteBuffer buf;
  ASSERT_TRUE(c->Encode(x, Key(3), &buf).ok());
  ASSERT_TRUE(c->Decode(buf, Key(3), y).ok());
  int up = 0;
  for (size_t i = 1; i < y.size(); ++i) {
    ASSERT_TRUE(y[i] == 0.0f || y[i] == 0x1p-105f) << i << " " << y[i];
    up += y[i] != 0.0f;
  }
  EXPECT_NEAR(up / 4095.0, 0.25, 0.03);  // t / bottom = 2^-2
}

TEST(NatDither, DecodesToPowersOfTwoOfTheBlockNorm) {
  auto c = MustMake("natdither:4:8");
  std::vector<float> x = {3, 4, 0, 0, 0, 0, 0, 0.01f}, y(8);
  const float norm = std::sqrt(9.0f + 16.0f + 0.0001f);
  ByteBuffer buf;
  ASSERT_TRUE(c->Encode(x, Key(2), &buf).ok());
  ASSERT_TRUE(c->Decode(buf, Key(2), y).ok());
  for (float v : y) {
    if (v == 0) continue;
    const float rel = std::abs(v) / norm;
    const int e = std::ilogb(rel);
    EXPECT_TRUE(e >= -3 && e <= 0) << v;
    EXPECT_FLOAT_EQ(rel, std::ldexp(1.0f, e));
  }
}

TEST(CodecMath, QsgdLevelRoundsToNeighboursWithTheRightProbability) {
  EXPECT_EQ(QsgdLevel(2.25f, 1.0f, 255, 0.0f), 2u);
  EXPECT_EQ(QsgdLevel(2.25f, 1.0f, 255, 0.74f), 2u);
  EXPECT_EQ(QsgdLevel(2.25f, 1.0f, 255, 0.76f), 3u);
  EXPECT_EQ(QsgdLevel(300.0f, 1.0f, 255, 0.9f), 255u);
}

TEST(CodecMath, NaturalExponentRoundsUpWithProbabilityOfTheMantissa) {
  const uint32_t three = FloatBits(3.0f);  // exponent 128, mantissa 1/2
  // Rounds up iff (word >> 9) < 0x400000, i.e. for the lower half of the words.
  EXPECT_EQ(NaturalExponent(three, 0x80000000u), 128u);
  EXPECT_EQ(NaturalExponent(three, 0xFFFFFFFFu), 128u);
  EXPECT_EQ(NaturalExponent(three, 0x7FFFFFFFu), 129u);
  EXPECT_EQ(NaturalExponent(three, 0u), 129u);
  EXPECT_EQ(NaturalExponent(FloatBits(2.0f), 0), 128u);  // exact powers never move
}

TEST(CodecMath, HalfConversionMatchesReferenceValues) {
  EXPECT_EQ(FloatToHalfBits(1.0f), 0x3C00);
  EXPECT_EQ(FloatToHalfBits(-2.0f), 0xC000);
  EXPECT_EQ(FloatToHalfBits(65504.0f), 0x7BFF);
  EXPECT_EQ(FloatToHalfBits(1e9f), 0x7BFF);  // saturates
  EXPECT_EQ(FloatToHalfBits(0x1p-24f), 0x0001);
  EXPECT_EQ(FloatToHalfBits(1.0f + 0x1p-11f), 0x3C00);  // tie rounds to even
  EXPECT_EQ(FloatToHalfBits(1.0f + 3 * 0x1p-11f), 0x3C02);
  EXPECT_EQ(HalfBitsToFloat(0x0001), 0x1p-24f);
  EXPECT_EQ(HalfBitsToFloat(0x3555), 0.333251953125f);
  EXPECT_EQ(FloatToBf16Bits(1.0f + 0x1p-8f), 0x3F80);  // tie to even
  EXPECT_EQ(FloatToBf16Bits(1.0f + 3 * 0x1p-8f), 0x3F82);
  EXPECT_EQ(Bf16BitsToFloat(0x3F80), 1.0f);
}

}  // namespace
}  // namespace hearsay
