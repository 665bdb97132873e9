// CUDA models against the Eigen models: loss, gradient and accuracy within float tolerance
// (reductions run in a different order: relative 1e-4 on the loss, 1e-4 * max|g| + 1e-6 on the
// gradient).
#include "runtime/model/cuda/cuda_model.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

#include "tests/cuda/cuda_test_util.h"

namespace hearsay::cuda {
namespace {

void Compare(const std::string& kind, int64_t d, int32_t k, int64_t n,
             std::vector<int> hidden = {}) {
  ModelConfig cfg;
  cfg.kind = kind;
  cfg.l2 = 1e-3;
  cfg.hidden = std::move(hidden);
  auto cpu = MakeModel(cfg, d, k);
  ASSERT_TRUE(cpu.ok());
  auto gpu = MakeCudaModel(cfg, d, k, nullptr);
  ASSERT_TRUE(gpu.ok()) << gpu.status().ToString();
  EXPECT_EQ((*gpu)->Describe(), (*cpu)->Describe());
  std::vector<float> params((*cpu)->num_params());
  (*cpu)->Init(5, params);
  for (size_t i = 0; i < params.size(); ++i) params[i] += 0.05f * std::sin(float(i));
  const std::vector<float> features = testing::SeededInput(static_cast<size_t>(n * d), 3);
  std::vector<int32_t> labels(n);
  for (int64_t i = 0; i < n; ++i) labels[i] = static_cast<int32_t>((i * 7 + i / 3) % k);
  const Batch batch{features.data(), labels.data(), n, d};
  std::vector<float> g(params.size());
  const double loss = (*cpu)->LossAndGradient(params, batch, g);
  const double acc = (*cpu)->Accuracy(params, batch);

  CudaBatch db;
  ASSERT_TRUE(db.Upload(batch, nullptr).ok());
  DeviceBuffer<float> dp = testing::Upload(params);
  auto dg = DeviceBuffer<float>::Create(params.size());
  ASSERT_TRUE(dg.ok());
  auto gl = (*gpu)->LossAndGradient(dp.data(), db.view(), dg->data());
  ASSERT_TRUE(gl.ok()) << gl.status().ToString();
  EXPECT_NEAR(*gl, loss, 1e-4 * std::max(1.0, std::fabs(loss)));
  const std::vector<float> gg = testing::Download(dg->data(), params.size());
  float gmax = 0;
  for (float v : g) gmax = std::max(gmax, std::fabs(v));
  for (size_t i = 0; i < g.size(); ++i) {
    ASSERT_NEAR(gg[i], g[i], 1e-4f * gmax + 1e-6f) << kind << " gradient element " << i;
  }
  auto ga = (*gpu)->Accuracy(dp.data(), db.view());
  ASSERT_TRUE(ga.ok());
  EXPECT_NEAR(*ga, acc, 1.0 / static_cast<double>(n) + 1e-12);  // a tie may flip one example
}

TEST(CudaModel, LogisticMatchesEigen) {
  HEARSAY_REQUIRE_GPU();
  Compare("logistic", 37, 2, 513);
}

TEST(CudaModel, SoftmaxMatchesEigen) {
  HEARSAY_REQUIRE_GPU();
  Compare("softmax", 61, 7, 300);
}

// Same tolerances as the regressions: the products run through cuBLAS (fp32, no TF32) in another
// summation order than Eigen, across two hidden ReLU layers.
TEST(CudaModel, MlpMatchesEigen) {
  HEARSAY_REQUIRE_GPU();
  Compare("mlp", 29, 5, 200, {16, 8});
}

TEST(CudaModel, MlpWithoutHiddenLayersMatchesEigen) {
  HEARSAY_REQUIRE_GPU();
  Compare("mlp", 61, 7, 300);
}

TEST(CudaModel, MlpWideLayerMatchesEigen) {
  HEARSAY_REQUIRE_GPU();
  Compare("mlp", 300, 10, 64, {512});
}

// Host-only: configuration errors are MakeModel's, before any device work.
TEST(CudaModel, MlpConfigErrorsAreTheCpuErrors) {
  ModelConfig cfg;
  cfg.kind = "mlp";
  cfg.hidden = {8, 0};
  auto gpu = MakeCudaModel(cfg, 4, 3, nullptr);
  auto cpu = MakeModel(cfg, 4, 3);
  ASSERT_FALSE(gpu.ok());
  ASSERT_FALSE(cpu.ok());
  EXPECT_EQ(gpu.status().ToString(), cpu.status().ToString());
}

}  // namespace
}  // namespace hearsay::cuda
