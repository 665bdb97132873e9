// Per-round compute of a peer with the 1M-parameter softmax model: the round's minibatch
// (MinibatchSampler::Next) plus loss and gradient (Model::LossAndGradient), as the peer loop does.
//
// Baseline in the same run: the code this replaced -- the batch rows gathered into a contiguous
// matrix, then Eigen products (logits = X W^T, gradient = l2 W + G^T X), copied here verbatim from
// runtime/model/softmax.cc before the change. The two alternate round by round; the table prints
// both per-round CPU times (median of --reps rounds after a warm-up), their ratio, and the largest
// difference between the two gradients (relative to the largest gradient entry): bits differ,
// values agree within rounding.
//
//   model_bench [--features 100000] [--classes 10] [--batch 32] [--rows 256] [--reps 200]
#include <time.h>
#include <Eigen/Dense>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <numeric>
#include <string>
#include <vector>

#include "runtime/data/random_draws.h"
#include "runtime/data/sampler.h"
#include "runtime/model/model.h"

namespace {

using hearsay::Batch;
using RowMatrixF = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// The previous SoftmaxRegression::LossAndGradient (Eigen GEMMs on a contiguous batch).
double EigenSoftmax(const float* params, const Batch& batch, int64_t d, int32_t k, double l2,
                    float* grad) {
  const int64_t n = batch.rows;
  Eigen::Map<const RowMatrixF> w(params, k, d);
  Eigen::Map<const Eigen::VectorXf> b(params + k * d, k);
  const double penalty = 0.5 * l2 * static_cast<double>(w.squaredNorm());
  double loss = 0;
  Eigen::Map<const RowMatrixF> x(batch.features, n, d);
  RowMatrixF logits = x * w.transpose();
  logits.rowwise() += b.transpose();
  for (int64_t i = 0; i < n; ++i) {
    const int32_t y = batch.labels[i];
    auto row = logits.row(i);
    const float m = row.maxCoeff();
    double sum = 0;
    for (int32_t c = 0; c < k; ++c) sum += std::exp(static_cast<double>(row(c) - m));
    loss += std::log(sum) + static_cast<double>(m) - static_cast<double>(row(y));
    const double inv = 1.0 / (sum * static_cast<double>(n));
    for (int32_t c = 0; c < k; ++c) {
      row(c) = static_cast<float>(std::exp(static_cast<double>(row(c) - m)) * inv);
    }
    row(y) -= static_cast<float>(1.0 / static_cast<double>(n));
  }
  loss /= static_cast<double>(n);
  Eigen::Map<RowMatrixF> gw(grad, k, d);
  Eigen::Map<Eigen::VectorXf> gb(grad + k * d, k);
  gw = static_cast<float>(l2) * w;
  gw.noalias() += logits.transpose() * x;
  gb = logits.colwise().sum().transpose();
  return loss + penalty;
}

// CPU time of this thread, in milliseconds.
double CpuMs() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) * 1e-6;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

long Flag(int argc, char** argv, const char* name, long def) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], name) == 0) return std::atol(argv[i + 1]);
  }
  return def;
}

}  // namespace

int main(int argc, char** argv) {
  const int64_t d = Flag(argc, argv, "--features", 100000);
  const int32_t k = static_cast<int32_t>(Flag(argc, argv, "--classes", 10));
  const int64_t batch = Flag(argc, argv, "--batch", 32);
  const int64_t rows = Flag(argc, argv, "--rows", 256);
  const int reps = static_cast<int>(Flag(argc, argv, "--reps", 200));
  const double l2 = 1e-4;

  hearsay::Dataset data;
  data.num_features = d;
  data.num_classes = k;
  data.features.resize(static_cast<size_t>(rows * d));
  const hearsay::RngKey key{1, 0, 0, hearsay::kStreamData, 7};
  for (size_t i = 0; i < data.features.size(); ++i) {
    data.features[i] = hearsay::UniformAt(key, i) - 0.5f;
  }
  for (int64_t i = 0; i < rows; ++i) data.labels.push_back(static_cast<int32_t>(i % k));
  std::vector<int64_t> shard(static_cast<size_t>(rows));
  std::iota(shard.begin(), shard.end(), int64_t{0});

  hearsay::ModelConfig config;
  config.l2 = l2;
  auto model = std::move(hearsay::MakeModel(config, d, k)).value();
  std::vector<float> params(model->num_params()), grad(params.size()), ref(params.size());
  model->Init(3, params);
  std::printf("softmax: %lld features x %d classes = %zu parameters, batch %lld, %d rounds\n",
              static_cast<long long>(d), k, params.size(), static_cast<long long>(batch), reps);

  // Baseline (gather copy + Eigen, as before) and the new path alternate round by round, so that
  // load from other processes on the machine falls on both alike; times are the thread's CPU time.
  std::vector<float> gathered;
  hearsay::MinibatchSampler base_sampler(data, shard, batch, 42, 0);
  hearsay::MinibatchSampler sampler(data, shard, batch, 42, 0);
  std::vector<double> before, after;
  for (int t = 0; t <= reps; ++t) {
    double t0 = CpuMs();
    const Batch b0 = hearsay::Contiguous(base_sampler.Next(t + 1), &gathered);
    EigenSoftmax(params.data(), b0, d, k, l2, ref.data());
    double t1 = CpuMs();
    const Batch b1 = sampler.Next(t + 1);
    model->LossAndGradient(params, b1, grad);
    double t2 = CpuMs();
    if (t > 0) {  // round 0 warms caches and allocations
      before.push_back(t1 - t0);
      after.push_back(t2 - t1);
    }
  }
  // Both computed the gradient of round reps + 1 last: compare them.
  double max_diff = 0, max_g = 0;
  for (size_t i = 0; i < grad.size(); ++i) {
    max_diff = std::max(max_diff, static_cast<double>(std::fabs(grad[i] - ref[i])));
    max_g = std::max(max_g, static_cast<double>(std::fabs(ref[i])));
  }
  const double mb = Median(before), ma = Median(after);
  std::printf("%-44s %10s\n", "per-round compute (median CPU time)", "ms");
  std::printf("%-44s %10.3f\n", "before: gather copy + Eigen GEMM (baseline)", mb);
  std::printf("%-44s %10.3f\n", "after: gather view + linear_kernels", ma);
  std::printf("speed-up %.2fx; gradient max |after - before| = %.3g (%.2g of max |g|)\n", mb / ma,
              max_diff, max_g > 0 ? max_diff / max_g : 0.0);
  return 0;
}
