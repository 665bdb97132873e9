#include "runtime/model/softmax.h"

#include <Eigen/Dense>
#include <cassert>
#include <cmath>
#include <cstdio>

#include "runtime/data/random_draws.h"

namespace hearsay {
namespace {
using RowMatrixF = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
}  // namespace

SoftmaxRegression::SoftmaxRegression(int64_t num_features, int32_t num_classes, double l2)
    : d_(num_features), k_(num_classes), l2_(l2) {}

size_t SoftmaxRegression::num_params() const { return static_cast<size_t>(k_ * d_ + k_); }

std::string SoftmaxRegression::Describe() const {
  char buf[96];
  std::snprintf(buf, sizeof buf, "softmax(d=%lld,k=%d,l2=%g)", static_cast<long long>(d_), k_, l2_);
  return buf;
}

void SoftmaxRegression::Init(uint64_t seed, std::span<float> params) const {
  assert(params.size() == num_params());
  const RngKey key{seed, 0, 0, kStreamInit, 0};
  const size_t nw = static_cast<size_t>(k_ * d_);
  for (size_t i = 0; i < nw; ++i) params[i] = static_cast<float>(0.01 * GaussianAt(key, i));
  for (size_t i = nw; i < params.size(); ++i) params[i] = 0.0f;
}

double SoftmaxRegression::Evaluate(std::span<const float> params, const Batch& batch,
                                   std::span<float> grad) const {
  assert(params.size() == num_params());
  assert(batch.rows == 0 || batch.cols == d_);
  const int64_t n = batch.rows;
  Eigen::Map<const RowMatrixF> w(params.data(), k_, d_);
  Eigen::Map<const Eigen::VectorXf> b(params.data() + k_ * d_, k_);
  const double penalty = 0.5 * l2_ * static_cast<double>(w.squaredNorm());
  const bool want_grad = !grad.empty();

  double loss = 0;
  RowMatrixF logits;  // n x k, becomes dL/dlogits in place when want_grad
  if (n > 0) {
    Eigen::Map<const RowMatrixF> x(batch.features, n, d_);
    logits.noalias() = x * w.transpose();
    logits.rowwise() += b.transpose();
    for (int64_t i = 0; i < n; ++i) {
      const int32_t y = batch.labels[i];
      assert(y >= 0 && y < k_);
      auto row = logits.row(i);
      const float m = row.maxCoeff();
      double sum = 0;
      for (int32_t c = 0; c < k_; ++c) sum += std::exp(static_cast<double>(row(c) - m));
      loss += std::log(sum) + static_cast<double>(m) - static_cast<double>(row(y));
      if (want_grad) {
        const double inv = 1.0 / (sum * static_cast<double>(n));
        for (int32_t c = 0; c < k_; ++c) {
          row(c) = static_cast<float>(std::exp(static_cast<double>(row(c) - m)) * inv);
        }
        row(y) -= static_cast<float>(1.0 / static_cast<double>(n));
      }
    }
    loss /= static_cast<double>(n);
  }
  if (want_grad) {
    assert(grad.size() == num_params());
    Eigen::Map<RowMatrixF> gw(grad.data(), k_, d_);
    Eigen::Map<Eigen::VectorXf> gb(grad.data() + k_ * d_, k_);
    gw = static_cast<float>(l2_) * w;
    if (n > 0) {
      Eigen::Map<const RowMatrixF> x(batch.features, n, d_);
      gw.noalias() += logits.transpose() * x;
      gb = logits.colwise().sum().transpose();
    } else {
      gb.setZero();
    }
  }
  return loss + penalty;
}

double SoftmaxRegression::LossAndGradient(std::span<const float> params, const Batch& batch,
                                          std::span<float> grad) const {
  return Evaluate(params, batch, grad);
}

double SoftmaxRegression::Loss(std::span<const float> params, const Batch& batch) const {
  return Evaluate(params, batch, {});
}

double SoftmaxRegression::Accuracy(std::span<const float> params, const Batch& batch) const {
  if (batch.rows == 0) return 0;
  Eigen::Map<const RowMatrixF> w(params.data(), k_, d_);
  Eigen::Map<const Eigen::VectorXf> b(params.data() + k_ * d_, k_);
  Eigen::Map<const RowMatrixF> x(batch.features, batch.rows, d_);
  RowMatrixF logits = x * w.transpose();
  logits.rowwise() += b.transpose();
  int64_t correct = 0;
  for (int64_t i = 0; i < batch.rows; ++i) {
    Eigen::Index best = 0;
    logits.row(i).maxCoeff(&best);
    correct += (best == batch.labels[i]) ? 1 : 0;
  }
  return static_cast<double>(correct) / static_cast<double>(batch.rows);
}

}  // namespace hearsay
