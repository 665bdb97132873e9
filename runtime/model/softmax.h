// SoftmaxRegression: multinomial logistic regression with k classes and L2 penalty (Eigen, CPU).
//
// Parameters (flat, k*d + k floats): W row-major (k x d, row c = weights of class c), then the
// biases b (k). Loss = mean_i [logsumexp(W x_i + b) - (W x_i + b)_{y_i}] + (l2/2) ||W||^2.
// Init: W ~ N(0, 0.01^2) from the seed (stream kStreamInit), b = 0.
// Thread-safety: immutable; const methods are thread-safe.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "runtime/model/model.h"

namespace hearsay {

class SoftmaxRegression final : public Model {
 public:
  SoftmaxRegression(int64_t num_features, int32_t num_classes, double l2);

  size_t num_params() const override;
  std::string Describe() const override;
  void Init(uint64_t seed, std::span<float> params) const override;
  double LossAndGradient(std::span<const float> params, const Batch& batch,
                         std::span<float> grad) const override;
  double Loss(std::span<const float> params, const Batch& batch) const override;
  double Accuracy(std::span<const float> params, const Batch& batch) const override;

 private:
  // Shared body of Loss and LossAndGradient (grad may be empty: loss only).
  double Evaluate(std::span<const float> params, const Batch& batch, std::span<float> grad) const;

  int64_t d_;
  int32_t k_;
  double l2_;
};

}  // namespace hearsay
