#include "runtime/model/softmax.h"

#include <Eigen/Dense>
#include <algorithm>
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

// Logits and gradient go through linear_kernels.h: the batch is read in place (no gather copy)
// and neither operand is packed. Bits differ from the Eigen version this replaced (another
// summation order), within float rounding; every peer computes the same ones.
double SoftmaxRegression::Evaluate(std::span<const float> params, const Batch& batch,
                                   std::span<float> grad) const {
  assert(params.size() == num_params());
  assert(batch.rows == 0 || batch.cols == d_);
  const int64_t n = batch.rows;
  Eigen::Map<const RowMatrixF> w(params.data(), k_, d_);
  const float* b = params.data() + k_ * d_;
  const double penalty = 0.5 * l2_ * static_cast<double>(w.squaredNorm());
  const bool want_grad = !grad.empty();

  double loss = 0;
  std::vector<float> logits(static_cast<size_t>(n * k_));  // becomes dL/dlogits (want_grad)
  if (n > 0) {
    RowWeightDots(batch, params.data(), d_, k_, logits.data());
    for (int64_t i = 0; i < n; ++i) {
      const int32_t y = batch.labels[i];
      assert(y >= 0 && y < k_);
      float* row = logits.data() + i * k_;
      for (int32_t c = 0; c < k_; ++c) row[c] += b[c];
      const float m = *std::max_element(row, row + k_);
      double sum = 0;
      for (int32_t c = 0; c < k_; ++c) sum += std::exp(static_cast<double>(row[c] - m));
      loss += std::log(sum) + static_cast<double>(m) - static_cast<double>(row[y]);
      if (want_grad) {
        const double inv = 1.0 / (sum * static_cast<double>(n));
        for (int32_t c = 0; c < k_; ++c) {
          row[c] = static_cast<float>(std::exp(static_cast<double>(row[c] - m)) * inv);
        }
        row[y] -= static_cast<float>(1.0 / static_cast<double>(n));
      }
    }
    loss /= static_cast<double>(n);
  }
  if (want_grad) {
    assert(grad.size() == num_params());
    float* gb = grad.data() + k_ * d_;
    WeightGradient(batch, logits.data(), d_, k_, static_cast<float>(l2_), params.data(),
                   grad.data());
    for (int32_t c = 0; c < k_; ++c) {
      float s = 0.0f;
      for (int64_t i = 0; i < n; ++i) s += logits[static_cast<size_t>(i * k_ + c)];
      gb[c] = s;
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
  const float* b = params.data() + k_ * d_;
  std::vector<float> logits(static_cast<size_t>(batch.rows * k_));
  RowWeightDots(batch, params.data(), d_, k_, logits.data());
  int64_t correct = 0;
  for (int64_t i = 0; i < batch.rows; ++i) {
    const float* row = logits.data() + i * k_;
    int32_t best = 0;
    for (int32_t c = 1; c < k_; ++c) {
      if (row[c] + b[c] > row[best] + b[best]) best = c;  // first maximum, as maxCoeff
    }
    correct += (best == batch.labels[i]) ? 1 : 0;
  }
  return static_cast<double>(correct) / static_cast<double>(batch.rows);
}

}  // namespace hearsay
