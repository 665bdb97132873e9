// Inner and outer optimizers (ALGORITHMS.md "Local steps and outer optimizers";
// docs/algorithms.md).
//
// Inner optimizer: one local step x <- InnerOpt(x, g). Every rule here can be written as
//   x <- x - lr * d,   d = Direction(x, g)   (which also advances the optimizer's state)
// so the gossip algorithms, which mix and subtract `lr * grad` in their own order, take d in place
// of g: with `sgd` d is g itself (no arithmetic: bit-identical to plain SGD).
//   sgd:       d = g
//   momentum:  v <- m v + g;        d = v                              (heavy ball)
//   nesterov:  v <- m v + g;        d = g + m v
//   adamw:     m1 <- b1 m1 + (1-b1) g;  m2 <- b2 m2 + (1-b2) g^2;  k <- k + 1
//              d = (m1 / (1 - b1^k)) / (sqrt(m2 / (1 - b2^k)) + eps) + wd x   (decoupled decay)
// State is per peer and never sent. Arithmetic in float, in this order, element by element.
//
// Outer optimizer, on the pseudo-gradient Delta = s - x of H local steps (s: the model at the
// start of the communication round), giving the update u that takes lr * g's place:
//   sgd:       u = lr Delta                       (lr 1: plain local SGD, u = Delta exactly)
//   nesterov:  v <- m v + Delta;  u = lr (Delta + m v)
// Thread-safety: none; one peer owns each optimizer.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "common/state_io.h"
#include "common/status.h"

namespace hearsay {

struct OptimizerConfig {
  std::string kind = "sgd";   // sgd | momentum | nesterov | adamw
  double momentum = 0.9;      // momentum, nesterov
  double beta1 = 0.9;         // adamw
  double beta2 = 0.999;       // adamw
  double eps = 1e-8;          // adamw
  double weight_decay = 0.0;  // adamw (decoupled)
  // Errors name the key and its valid range.
  Status Validate() const;
};

struct OuterOptimizerConfig {
  std::string kind = "sgd";  // sgd | nesterov
  double lr = 1.0;           // > 0
  double momentum = 0.9;     // nesterov, in [0, 1)
  Status Validate() const;
  bool identity() const { return kind == "sgd" && lr == 1.0; }
};

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  // Writes the step direction into d (size of x) and advances the state.
  virtual void Direction(std::span<const float> x, std::span<const float> g,
                         std::span<float> d) = 0;
  // x <- x - lr * Direction(x, g); `scratch` has x's size.
  void Step(std::span<float> x, std::span<const float> g, float lr, std::span<float> scratch);
  virtual bool is_sgd() const { return false; }
  // The optimizer's state (checkpoints): what SaveState wrote, LoadState reads back.
  virtual void SaveState(StateWriter& w) const = 0;
  virtual Status LoadState(StateReader& r) = 0;
};

// Errors: those of Validate.
Result<std::unique_ptr<Optimizer>> MakeOptimizer(const OptimizerConfig& config, size_t dim);

class OuterOptimizer {
 public:
  OuterOptimizer(const OuterOptimizerConfig& config, size_t dim);
  // u from Delta (both of the model's size).
  void Update(std::span<const float> delta, std::span<float> u);
  void SaveState(StateWriter& w) const;
  Status LoadState(StateReader& r);

 private:
  OuterOptimizerConfig config_;
  std::vector<float> v_;
};

}  // namespace hearsay
