// LogisticRegression: binary logistic regression (labels 0/1) with L2 penalty (Eigen, CPU).
//
// Parameters (flat, d + 1 floats): weights w (d), then the bias b.
// Loss = mean_i [log(1 + exp(z_i)) - y_i z_i] with z_i = w.x_i + b, plus (l2/2) ||w||^2.
// Init: w ~ N(0, 0.01^2) from the seed (stream kStreamInit), b = 0.
// Thread-safety: immutable; const methods are thread-safe.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "runtime/model/model.h"

namespace hearsay {

class LogisticRegression final : public Model {
 public:
  LogisticRegression(int64_t num_features, double l2);

  size_t num_params() const override { return static_cast<size_t>(d_ + 1); }
  std::string Describe() const override;
  void Init(uint64_t seed, std::span<float> params) const override;
  double LossAndGradient(std::span<const float> params, const Batch& batch,
                         std::span<float> grad) const override;
  double Loss(std::span<const float> params, const Batch& batch) const override;
  double Accuracy(std::span<const float> params, const Batch& batch) const override;

 private:
  double Evaluate(std::span<const float> params, const Batch& batch, std::span<float> grad) const;

  int64_t d_;
  double l2_;
};

}  // namespace hearsay
