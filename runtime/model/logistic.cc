#include "runtime/model/logistic.h"

#include <Eigen/Dense>
#include <cassert>
#include <cmath>
#include <cstdio>
#include <vector>

#include "runtime/data/random_draws.h"
#include "runtime/model/linear_kernels.h"

namespace hearsay {
namespace {
using RowMatrixF = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
}  // namespace

LogisticRegression::LogisticRegression(int64_t num_features, double l2)
    : d_(num_features), l2_(l2) {}

std::string LogisticRegression::Describe() const {
  char buf[96];
  std::snprintf(buf, sizeof buf, "logistic(d=%lld,l2=%g)", static_cast<long long>(d_), l2_);
  return buf;
}

void LogisticRegression::Init(uint64_t seed, std::span<float> params) const {
  assert(params.size() == num_params());
  const RngKey key{seed, 0, 0, kStreamInit, 0};
  for (int64_t i = 0; i < d_; ++i) {
    params[static_cast<size_t>(i)] = static_cast<float>(0.01 * GaussianAt(key, i));
  }
  params[static_cast<size_t>(d_)] = 0.0f;
}

double LogisticRegression::Evaluate(std::span<const float> params, const Batch& batch,
                                    std::span<float> grad) const {
  assert(params.size() == num_params());
  assert(batch.rows == 0 || batch.cols == d_);
  const int64_t n = batch.rows;
  Eigen::Map<const Eigen::VectorXf> w(params.data(), d_);
  const float b = params[static_cast<size_t>(d_)];
  const bool want_grad = !grad.empty();
  double loss = 0;
  std::vector<float> z(static_cast<size_t>(n));  // becomes dL/dz in place when want_grad
  if (n > 0) {
    RowWeightDots(batch, params.data(), d_, 1, z.data());  // read in place: linear_kernels.h
    for (int64_t i = 0; i < n; ++i) {
      const int32_t y = batch.labels[i];
      assert(y == 0 || y == 1);
      const double zi = static_cast<double>(z[static_cast<size_t>(i)] + b);
      // log(1 + e^z) computed stably.
      loss += std::max(zi, 0.0) + std::log1p(std::exp(-std::fabs(zi))) - y * zi;
      if (want_grad) {
        const double sig =
            zi >= 0 ? 1.0 / (1.0 + std::exp(-zi)) : std::exp(zi) / (1.0 + std::exp(zi));
        z[static_cast<size_t>(i)] = static_cast<float>((sig - y) / static_cast<double>(n));
      }
    }
    loss /= static_cast<double>(n);
  }
  if (want_grad) {
    assert(grad.size() == num_params());
    WeightGradient(batch, z.data(), d_, 1, static_cast<float>(l2_), params.data(), grad.data());
    float gb = 0;
    for (float v : z) gb += v;
    grad[static_cast<size_t>(d_)] = gb;
  }
  return loss + 0.5 * l2_ * static_cast<double>(w.squaredNorm());
}

double LogisticRegression::LossAndGradient(std::span<const float> params, const Batch& batch,
                                           std::span<float> grad) const {
  return Evaluate(params, batch, grad);
}

double LogisticRegression::Loss(std::span<const float> params, const Batch& batch) const {
  return Evaluate(params, batch, {});
}

double LogisticRegression::Accuracy(std::span<const float> params, const Batch& batch) const {
  if (batch.rows == 0) return 0;
  std::vector<float> z(static_cast<size_t>(batch.rows));
  RowWeightDots(batch, params.data(), d_, 1, z.data());
  const float b = params[static_cast<size_t>(d_)];
  int64_t correct = 0;
  for (int64_t i = 0; i < batch.rows; ++i) {
    correct += ((z[static_cast<size_t>(i)] + b > 0) == (batch.labels[i] == 1)) ? 1 : 0;
  }
  return static_cast<double>(correct) / static_cast<double>(batch.rows);
}

}  // namespace hearsay
