// Mlp: multi-layer perceptron, ReLU hidden layers and a softmax output, L2 penalty (Eigen, CPU).
//
// Layer sizes s_0 = d, s_1..s_L = hidden, s_{L+1} = k. Parameters (flat): for each layer l in
// order, W_l row-major (s_{l+1} x s_l) then b_l (s_{l+1}). Loss = mean cross-entropy +
// (l2/2) sum_l ||W_l||^2. With no hidden layer it is exactly softmax regression.
// Init: He normal, W_l ~ N(0, 2 / s_l), b = 0, from the seed (stream kStreamInit, tensor = l).
// Thread-safety: immutable; const methods are thread-safe (scratch is per call).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "runtime/model/model.h"

namespace hearsay {

class Mlp final : public Model {
 public:
  Mlp(int64_t num_features, std::vector<int> hidden, int32_t num_classes, double l2);

  size_t num_params() const override { return num_params_; }
  std::string Describe() const override;
  void Init(uint64_t seed, std::span<float> params) const override;
  double LossAndGradient(std::span<const float> params, const Batch& batch,
                         std::span<float> grad) const override;
  double Loss(std::span<const float> params, const Batch& batch) const override;
  double Accuracy(std::span<const float> params, const Batch& batch) const override;

 private:
  double Evaluate(std::span<const float> params, const Batch& batch, std::span<float> grad) const;

  std::vector<int64_t> sizes_;   // s_0 .. s_{L+1}
  std::vector<size_t> offsets_;  // start of W_l in the flat vector
  size_t num_params_ = 0;
  double l2_;
};

}  // namespace hearsay
