// Update kernels against the CPU loops of runtime/algorithms/*.cc: identical values.
#include "runtime/cuda/update_kernels.h"

#include <gtest/gtest.h>

#include <vector>

#include "tests/cuda/cuda_test_util.h"

namespace hearsay::cuda {
namespace {

using testing::Download;
using testing::SameBits;
using testing::SeededInput;
using testing::Upload;

constexpr size_t kN = 100003;

TEST(UpdateKernels, SgdAndMomentum) {
  HEARSAY_REQUIRE_GPU();
  std::vector<float> x = SeededInput(kN, 1), g = SeededInput(kN, 2), v = SeededInput(kN, 3);
  DeviceBuffer<float> dx = Upload(x), dg = Upload(g), dv = Upload(v), dx2 = Upload(x);
  ASSERT_TRUE(LaunchSgdUpdate(dx.data(), dg.data(), 0.05f, kN, nullptr).ok());
  ASSERT_TRUE(
      LaunchMomentumUpdate(dx2.data(), dv.data(), dg.data(), 0.05f, 0.9f, kN, nullptr).ok());
  std::vector<float> sgd = x, mom = x;
  for (size_t k = 0; k < kN; ++k) {
    sgd[k] = sgd[k] - 0.05f * g[k];
    v[k] = 0.9f * v[k] + g[k];
    mom[k] = mom[k] - 0.05f * v[k];
  }
  EXPECT_TRUE(SameBits(Download(dx.data(), kN), sgd));
  EXPECT_TRUE(SameBits(Download(dx2.data(), kN), mom));
  EXPECT_TRUE(SameBits(Download(dv.data(), kN), v));
}

// 20 sources: more than one fused launch (kMaxMixSources = 16), same running sum.
TEST(UpdateKernels, WeightedMixFixedOrder) {
  HEARSAY_REQUIRE_GPU();
  for (int count : {1, 3, 16, 20}) {
    std::vector<std::vector<float>> src;
    std::vector<DeviceBuffer<float>> dsrc;
    std::vector<const float*> ptrs;
    std::vector<float> w;
    for (int p = 0; p < count; ++p) {
      src.push_back(SeededInput(kN, 10 + p));
      dsrc.push_back(Upload(src.back()));
      ptrs.push_back(dsrc.back().data());
      w.push_back(1.0f / static_cast<float>(count + p));
    }
    std::vector<float> want(kN, 0.0f);
    for (int p = 0; p < count; ++p) {
      for (size_t k = 0; k < kN; ++k) want[k] += w[p] * src[p][k];
    }
    auto out = DeviceBuffer<float>::Create(kN);
    ASSERT_TRUE(out.ok());
    ASSERT_TRUE(LaunchWeightedMix(out->data(), ptrs, w, kN, nullptr).ok());
    EXPECT_TRUE(SameBits(Download(out->data(), kN), want)) << count << " sources";
  }
}

TEST(UpdateKernels, AlgorithmStepsMatchCpu) {
  HEARSAY_REQUIRE_GPU();
  const std::vector<float> x = SeededInput(kN, 1), g = SeededInput(kN, 2);
  const std::vector<float> r0 = SeededInput(kN, 3), r2 = SeededInput(kN, 4);
  const std::vector<float> m = SeededInput(kN, 5), xh = SeededInput(kN, 6);
  const std::vector<float> w = {1.0f / 3.0f, 1.0f / 3.0f, 1.0f / 3.0f};
  const float lr = 0.1f, gamma = 0.4f;
  DeviceBuffer<float> dx = Upload(x), dg = Upload(g), dr0 = Upload(r0), dr2 = Upload(r2),
                      dm = Upload(m), dxh = Upload(xh);
  const std::vector<const float*> src = {dr0.data(), dx.data(), dr2.data()};
  auto a = DeviceBuffer<float>::Create(kN), b = DeviceBuffer<float>::Create(kN);
  ASSERT_TRUE(a.ok() && b.ok());

  // DCD (dcd.cc DoBegin)
  std::vector<float> diff(kN, 0.0f);
  const std::vector<const std::vector<float>*> rows = {&r0, &x, &r2};
  for (size_t p = 0; p < 3; ++p) {
    for (size_t k = 0; k < kN; ++k) diff[k] += w[p] * (*rows[p])[k];
  }
  for (size_t k = 0; k < kN; ++k) diff[k] = (diff[k] - lr * g[k]) - x[k];
  ASSERT_TRUE(LaunchDcdBegin(a->data(), src, w, dg.data(), lr, dx.data(), kN, nullptr).ok());
  EXPECT_TRUE(SameBits(Download(a->data(), kN), diff));

  // ECD (ecd.cc DoBegin), round 5
  std::vector<float> xn(kN, 0.0f), z(kN);
  for (size_t p = 0; p < 3; ++p) {
    for (size_t k = 0; k < kN; ++k) xn[k] += w[p] * (*rows[p])[k];
  }
  for (size_t k = 0; k < kN; ++k) xn[k] -= lr * g[k];
  const double half_t = 2.5;
  for (size_t k = 0; k < kN; ++k) {
    z[k] = static_cast<float>((1.0 - half_t) * static_cast<double>(x[k]) +
                              half_t * static_cast<double>(xn[k]));
  }
  ASSERT_TRUE(
      LaunchEcdBegin(a->data(), b->data(), src, w, dg.data(), lr, dx.data(), half_t, kN, nullptr)
          .ok());
  EXPECT_TRUE(SameBits(Download(a->data(), kN), xn));
  EXPECT_TRUE(SameBits(Download(b->data(), kN), z));

  // CHOCO (choco.cc DoBegin)
  std::vector<float> cx(kN), cd(kN);
  for (size_t k = 0; k < kN; ++k) {
    const float local = x[k] - lr * g[k];
    cx[k] = local + gamma * (m[k] - xh[k]);
    cd[k] = cx[k] - xh[k];
  }
  ASSERT_TRUE(LaunchChocoBegin(a->data(), b->data(), dx.data(), dg.data(), lr, gamma, dm.data(),
                               dxh.data(), kN, nullptr)
                  .ok());
  EXPECT_TRUE(SameBits(Download(a->data(), kN), cx));
  EXPECT_TRUE(SameBits(Download(b->data(), kN), cd));

  // D-PSGD (dpsgd.cc DoEnd)
  std::vector<float> dp(kN);
  for (size_t k = 0; k < kN; ++k) dp[k] = m[k] - lr * g[k];
  ASSERT_TRUE(LaunchDpsgdEnd(a->data(), dm.data(), dg.data(), lr, kN, nullptr).ok());
  EXPECT_TRUE(SameBits(Download(a->data(), kN), dp));
}

TEST(UpdateKernels, MismatchedWeightsAreRejected) {
  const std::vector<const float*> src = {nullptr, nullptr};
  const std::vector<float> w = {0.5f};
  const Status s = LaunchWeightedMix(nullptr, src, w, 10, nullptr);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace hearsay::cuda
