#include "runtime/model/optimizer.h"

#include <cmath>

namespace hearsay {
namespace {

bool Finite(double v) { return std::isfinite(v); }

class Sgd final : public Optimizer {
 public:
  void Direction(std::span<const float>, std::span<const float> g, std::span<float> d) override {
    std::copy(g.begin(), g.end(), d.begin());
  }
  bool is_sgd() const override { return true; }
  void SaveState(StateWriter&) const override {}
  Status LoadState(StateReader&) override { return Status::Ok(); }
};

class Momentum final : public Optimizer {
 public:
  Momentum(float m, bool nesterov, size_t dim) : m_(m), nesterov_(nesterov), v_(dim, 0.0f) {}
  void Direction(std::span<const float>, std::span<const float> g, std::span<float> d) override {
    for (size_t k = 0; k < v_.size(); ++k) {
      v_[k] = m_ * v_[k] + g[k];
      d[k] = nesterov_ ? g[k] + m_ * v_[k] : v_[k];
    }
  }
  void SaveState(StateWriter& w) const override { w.Floats(v_); }
  Status LoadState(StateReader& r) override { return r.Floats(&v_, "momentum buffer"); }

 private:
  float m_;
  bool nesterov_;
  std::vector<float> v_;
};

class AdamW final : public Optimizer {
 public:
  AdamW(const OptimizerConfig& c, size_t dim)
      : b1_(static_cast<float>(c.beta1)),
        b2_(static_cast<float>(c.beta2)),
        eps_(static_cast<float>(c.eps)),
        wd_(static_cast<float>(c.weight_decay)),
        m1_(dim, 0.0f),
        m2_(dim, 0.0f) {}
  void Direction(std::span<const float> x, std::span<const float> g, std::span<float> d) override {
    ++k_;
    // Bias corrections in double, rounded once (they approach 1 from below).
    const auto c1 = static_cast<float>(1.0 - std::pow(static_cast<double>(b1_), k_));
    const auto c2 = static_cast<float>(1.0 - std::pow(static_cast<double>(b2_), k_));
    for (size_t k = 0; k < m1_.size(); ++k) {
      m1_[k] = b1_ * m1_[k] + (1.0f - b1_) * g[k];
      m2_[k] = b2_ * m2_[k] + (1.0f - b2_) * g[k] * g[k];
      const float mhat = m1_[k] / c1;
      const float vhat = m2_[k] / c2;
      d[k] = mhat / (std::sqrt(vhat) + eps_) + wd_ * x[k];
    }
  }
  void SaveState(StateWriter& w) const override {
    w.I64(k_);
    w.Floats(m1_);
    w.Floats(m2_);
  }
  Status LoadState(StateReader& r) override {
    HEARSAY_RETURN_IF_ERROR(r.I64(&k_, "adamw step count"));
    HEARSAY_RETURN_IF_ERROR(r.Floats(&m1_, "adamw first moment"));
    return r.Floats(&m2_, "adamw second moment");
  }

 private:
  float b1_, b2_, eps_, wd_;
  std::vector<float> m1_, m2_;
  int64_t k_ = 0;
};

}  // namespace

Status OptimizerConfig::Validate() const {
  if (kind != "sgd" && kind != "momentum" && kind != "nesterov" && kind != "adamw") {
    return InvalidArgument("optimizer '" + kind +
                           "' is unknown (valid: sgd, momentum, nesterov, adamw)");
  }
  if (!Finite(momentum) || momentum < 0 || momentum >= 1) {
    return InvalidArgument("momentum = " + std::to_string(momentum) + "; must be in [0, 1)");
  }
  if (!Finite(beta1) || beta1 < 0 || beta1 >= 1) {
    return InvalidArgument("beta1 = " + std::to_string(beta1) + "; must be in [0, 1)");
  }
  if (!Finite(beta2) || beta2 < 0 || beta2 >= 1) {
    return InvalidArgument("beta2 = " + std::to_string(beta2) + "; must be in [0, 1)");
  }
  if (!Finite(eps) || eps <= 0) {
    return InvalidArgument("eps = " + std::to_string(eps) + "; must be finite and > 0");
  }
  if (!Finite(weight_decay) || weight_decay < 0) {
    return InvalidArgument("weight_decay = " + std::to_string(weight_decay) +
                           "; must be finite and >= 0");
  }
  return Status::Ok();
}

Status OuterOptimizerConfig::Validate() const {
  if (kind != "sgd" && kind != "nesterov") {
    return InvalidArgument("outer_optimizer kind '" + kind + "' is unknown (valid: sgd, nesterov)");
  }
  if (!Finite(lr) || lr <= 0) {
    return InvalidArgument("outer_optimizer lr = " + std::to_string(lr) +
                           "; must be finite and > 0");
  }
  if (!Finite(momentum) || momentum < 0 || momentum >= 1) {
    return InvalidArgument("outer_optimizer momentum = " + std::to_string(momentum) +
                           "; must be in [0, 1)");
  }
  return Status::Ok();
}

void Optimizer::Step(std::span<float> x, std::span<const float> g, float lr,
                     std::span<float> scratch) {
  Direction(x, g, scratch);
  for (size_t k = 0; k < x.size(); ++k) x[k] -= lr * scratch[k];
}

Result<std::unique_ptr<Optimizer>> MakeOptimizer(const OptimizerConfig& c, size_t dim) {
  HEARSAY_RETURN_IF_ERROR(c.Validate());
  if (c.kind == "sgd") return std::unique_ptr<Optimizer>(new Sgd());
  if (c.kind == "adamw") return std::unique_ptr<Optimizer>(new AdamW(c, dim));
  return std::unique_ptr<Optimizer>(
      new Momentum(static_cast<float>(c.momentum), c.kind == "nesterov", dim));
}

OuterOptimizer::OuterOptimizer(const OuterOptimizerConfig& config, size_t dim)
    : config_(config), v_(config.kind == "nesterov" ? dim : 0, 0.0f) {}

void OuterOptimizer::Update(std::span<const float> delta, std::span<float> u) {
  const auto lr = static_cast<float>(config_.lr);
  if (config_.kind == "sgd") {
    for (size_t k = 0; k < delta.size(); ++k) u[k] = lr * delta[k];
    return;
  }
  const auto m = static_cast<float>(config_.momentum);
  for (size_t k = 0; k < delta.size(); ++k) {
    v_[k] = m * v_[k] + delta[k];
    u[k] = lr * (delta[k] + m * v_[k]);
  }
}

void OuterOptimizer::SaveState(StateWriter& w) const { w.Floats(v_); }

Status OuterOptimizer::LoadState(StateReader& r) {
  return r.Floats(&v_, "outer optimizer momentum");
}

}  // namespace hearsay
