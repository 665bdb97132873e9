// Statistical properties over many keys: unbiasedness (mean within 4 standard errors,
// elementwise) and each codec's variance bound (docs/compressors.md).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>

#include "tests/compressors/codec_specs.h"
#include "tests/compressors/test_util.h"

namespace hearsay {
namespace {

using testing::Key;
using testing::MustMake;
using testing::SeededVector;

struct Moments {
  std::vector<double> mean, var, second;  // per element; var is the sample variance
};

Moments Sample(const std::string& spec, const std::vector<float>& x, int n) {
  Moments m;
  const size_t d = x.size();
  m.mean.assign(d, 0);
  m.var.assign(d, 0);
  m.second.assign(d, 0);
  std::vector<double> sum(d, 0), sq(d, 0);
  auto c = MustMake(spec);
  std::vector<float> y(d);
  for (int s = 0; s < n; ++s) {
    ByteBuffer buf;
    const RngKey key = Key(1000 + s, 7, 3);
    EXPECT_TRUE(c->Encode(x, key, &buf).ok());
    EXPECT_TRUE(c->Decode(buf, key, y).ok());
    for (size_t i = 0; i < d; ++i) {
      sum[i] += y[i];
      sq[i] += static_cast<double>(y[i]) * y[i];
    }
  }
  for (size_t i = 0; i < d; ++i) {
    m.mean[i] = sum[i] / n;
    m.second[i] = sq[i] / n;
    m.var[i] = std::max(0.0, (sq[i] - n * m.mean[i] * m.mean[i]) / (n - 1));
  }
  return m;
}

class UnbiasedCodec : public ::testing::TestWithParam<std::string> {};

TEST_P(UnbiasedCodec, MeanOverManyKeysIsWithinFourStandardErrors) {
  auto c = MustMake(GetParam());
  ASSERT_NE(c, nullptr);
  EXPECT_TRUE(c->Unbiased());
  constexpr int kSamples = 2000;
  const auto x = SeededVector(96, 21);
  const Moments m = Sample(GetParam(), x, kSamples);
  for (size_t i = 0; i < x.size(); ++i) {
    const double se = std::sqrt(m.var[i] / kSamples);
    const double tol = 4 * se + 1e-6 * std::abs(x[i]) + 1e-12;
    EXPECT_NEAR(m.mean[i], x[i], tol) << GetParam() << " element " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Codecs, UnbiasedCodec, ::testing::ValuesIn(testing::UnbiasedCodecSpecs()),
                         testing::SpecTestName);

// Per-block quantiser variance: each element is rounded between two levels `step` apart, so
// Var <= step^2 / 4 (attained when |x| sits halfway between levels).
std::vector<double> QsgdVarianceBound(const std::vector<float>& x, int bits, size_t block,
                                      bool l2) {
  std::vector<double> bound(x.size());
  const double levels = (1 << bits) - 1;
  for (size_t lo = 0; lo < x.size(); lo += block) {
    const size_t hi = std::min(x.size(), lo + block);
    double s = 0;
    for (size_t i = lo; i < hi; ++i) {
      s = l2 ? s + double(x[i]) * x[i] : std::max(s, double(std::abs(x[i])));
    }
    if (l2) s = std::sqrt(s);
    for (size_t i = lo; i < hi; ++i) bound[i] = (s / levels) * (s / levels) / 4;
  }
  return bound;
}

TEST(QsgdVariance, StaysWithinQuarterStepSquaredPerElement) {
  struct Case {
    std::string spec;
    int bits;
    size_t block;
    bool l2;
  };
  for (const Case& c : {Case{"qsgd:2", 2, 256, false}, Case{"qsgd:4:64", 4, 64, false},
                        Case{"qsgd:2:64:norm=l2", 2, 64, true}, Case{"terngrad", 1, 256, false}}) {
    const auto x = SeededVector(200, 31);
    const Moments m = Sample(c.spec, x, 1500);
    const auto bound = QsgdVarianceBound(x, c.bits, c.block, c.l2);
    double total = 0, total_bound = 0;
    for (size_t i = 0; i < x.size(); ++i) {
      EXPECT_LE(m.var[i], 1.2 * bound[i] + 1e-12) << c.spec << " element " << i;
      total += m.var[i];
      total_bound += bound[i];
    }
    EXPECT_LE(total, total_bound) << c.spec;
    EXPECT_GT(total, 0.05 * total_bound) << c.spec << ": suspiciously little noise";
  }
}

TEST(QsgdVariance, TwoNormScaleIsNoisierThanMaxScale) {
  const auto x = SeededVector(256, 41);
  const Moments max_scale = Sample("qsgd:2", x, 400);
  const Moments l2_scale = Sample("qsgd:2:norm=l2", x, 400);
  double vmax = 0, vl2 = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    vmax += max_scale.var[i];
    vl2 += l2_scale.var[i];
  }
  EXPECT_GT(vl2, 2 * vmax);
}

}  // namespace
}  // namespace hearsay
