#include "runtime/model/mlp.h"

#include <Eigen/Dense>
#include <cassert>
#include <cmath>
#include <cstdio>
#include <utility>

#include "runtime/data/random_draws.h"

namespace hearsay {
namespace {
using RowMatrixF = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
}  // namespace

Mlp::Mlp(int64_t num_features, std::vector<int> hidden, int32_t num_classes, double l2) : l2_(l2) {
  sizes_.push_back(num_features);
  for (int h : hidden) sizes_.push_back(h);
  sizes_.push_back(num_classes);
  for (size_t l = 0; l + 1 < sizes_.size(); ++l) {
    offsets_.push_back(num_params_);
    num_params_ += static_cast<size_t>(sizes_[l + 1] * sizes_[l] + sizes_[l + 1]);
  }
}

std::string Mlp::Describe() const {
  std::string s = "mlp(d=" + std::to_string(sizes_.front()) + ",hidden=[";
  for (size_t l = 1; l + 1 < sizes_.size(); ++l) {
    s += (l > 1 ? "," : "") + std::to_string(sizes_[l]);
  }
  char l2[32];
  std::snprintf(l2, sizeof l2, "%g", l2_);
  return s + "],k=" + std::to_string(sizes_.back()) + ",l2=" + l2 + ")";
}

void Mlp::Init(uint64_t seed, std::span<float> params) const {
  assert(params.size() == num_params_);
  for (size_t l = 0; l + 1 < sizes_.size(); ++l) {
    const RngKey key{seed, 0, 0, kStreamInit, static_cast<uint32_t>(l)};
    const double stddev = std::sqrt(2.0 / static_cast<double>(sizes_[l]));
    const size_t nw = static_cast<size_t>(sizes_[l + 1] * sizes_[l]);
    float* w = params.data() + offsets_[l];
    for (size_t i = 0; i < nw; ++i) w[i] = static_cast<float>(stddev * GaussianAt(key, i));
    for (int64_t i = 0; i < sizes_[l + 1]; ++i) w[nw + static_cast<size_t>(i)] = 0.0f;
  }
}

double Mlp::Evaluate(std::span<const float> params, const Batch& batch,
                     std::span<float> grad) const {
  assert(params.size() == num_params_);
  const size_t layers = sizes_.size() - 1;
  const int64_t n = batch.rows;
  const int64_t k = sizes_.back();
  const bool want_grad = !grad.empty();
  auto weights = [&](size_t l) {
    return Eigen::Map<const RowMatrixF>(params.data() + offsets_[l], sizes_[l + 1], sizes_[l]);
  };
  auto bias = [&](size_t l) {
    return Eigen::Map<const Eigen::VectorXf>(
        params.data() + offsets_[l] + static_cast<size_t>(sizes_[l + 1] * sizes_[l]),
        sizes_[l + 1]);
  };
  double penalty = 0;
  for (size_t l = 0; l < layers; ++l) penalty += static_cast<double>(weights(l).squaredNorm());
  penalty *= 0.5 * l2_;

  double loss = 0;
  // acts[l] = input of layer l (acts[0] is the batch); the last one holds the logits.
  std::vector<RowMatrixF> acts(layers + 1);
  if (n > 0) {
    acts[0].resize(n, sizes_[0]);  // the batch's rows (a gather view or contiguous)
    for (int64_t i = 0; i < n; ++i) {
      acts[0].row(i) = Eigen::Map<const Eigen::RowVectorXf>(batch.Row(i), sizes_[0]);
    }
    for (size_t l = 0; l < layers; ++l) {
      acts[l + 1].noalias() = acts[l] * weights(l).transpose();
      acts[l + 1].rowwise() += bias(l).transpose();
      if (l + 1 < layers) acts[l + 1] = acts[l + 1].cwiseMax(0.0f);
    }
    RowMatrixF& logits = acts[layers];
    for (int64_t i = 0; i < n; ++i) {
      const int32_t y = batch.labels[i];
      assert(y >= 0 && y < k);
      auto row = logits.row(i);
      const float m = row.maxCoeff();
      double sum = 0;
      for (int64_t c = 0; c < k; ++c) sum += std::exp(static_cast<double>(row(c) - m));
      loss += std::log(sum) + static_cast<double>(m) - static_cast<double>(row(y));
      if (want_grad) {  // logits become dL/dlogits
        const double inv = 1.0 / (sum * static_cast<double>(n));
        for (int64_t c = 0; c < k; ++c) {
          row(c) = static_cast<float>(std::exp(static_cast<double>(row(c) - m)) * inv);
        }
        row(y) -= static_cast<float>(1.0 / static_cast<double>(n));
      }
    }
    loss /= static_cast<double>(n);
  }
  if (want_grad) {
    assert(grad.size() == num_params_);
    RowMatrixF delta;  // dL/d(pre-activation) of layer l+1
    if (n > 0) delta = std::move(acts[layers]);
    for (size_t l = layers; l-- > 0;) {
      Eigen::Map<RowMatrixF> gw(grad.data() + offsets_[l], sizes_[l + 1], sizes_[l]);
      Eigen::Map<Eigen::VectorXf> gb(
          grad.data() + offsets_[l] + static_cast<size_t>(sizes_[l + 1] * sizes_[l]),
          sizes_[l + 1]);
      gw = static_cast<float>(l2_) * weights(l);
      if (n == 0) {
        gb.setZero();
        continue;
      }
      gw.noalias() += delta.transpose() * acts[l];
      gb = delta.colwise().sum().transpose();
      if (l > 0) {
        RowMatrixF prev = delta * weights(l);
        // ReLU derivative: acts[l] > 0 exactly where the pre-activation was positive.
        delta = (acts[l].array() > 0.0f).select(prev, 0.0f);
      }
    }
  }
  return loss + penalty;
}

double Mlp::LossAndGradient(std::span<const float> params, const Batch& batch,
                            std::span<float> grad) const {
  return Evaluate(params, batch, grad);
}

double Mlp::Loss(std::span<const float> params, const Batch& batch) const {
  return Evaluate(params, batch, {});
}

double Mlp::Accuracy(std::span<const float> params, const Batch& batch) const {
  if (batch.rows == 0) return 0;
  const size_t layers = sizes_.size() - 1;
  RowMatrixF a(batch.rows, sizes_[0]);
  for (int64_t i = 0; i < batch.rows; ++i) {
    a.row(i) = Eigen::Map<const Eigen::RowVectorXf>(batch.Row(i), sizes_[0]);
  }
  for (size_t l = 0; l < layers; ++l) {
    Eigen::Map<const RowMatrixF> w(params.data() + offsets_[l], sizes_[l + 1], sizes_[l]);
    Eigen::Map<const Eigen::VectorXf> b(
        params.data() + offsets_[l] + static_cast<size_t>(sizes_[l + 1] * sizes_[l]),
        sizes_[l + 1]);
    RowMatrixF z = a * w.transpose();
    z.rowwise() += b.transpose();
    a = l + 1 < layers ? RowMatrixF(z.cwiseMax(0.0f)) : z;
  }
  int64_t correct = 0;
  for (int64_t i = 0; i < batch.rows; ++i) {
    Eigen::Index best = 0;
    a.row(i).maxCoeff(&best);
    correct += (best == batch.labels[i]) ? 1 : 0;
  }
  return static_cast<double>(correct) / static_cast<double>(batch.rows);
}

}  // namespace hearsay
