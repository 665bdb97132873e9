// Model: a flat float parameter vector with loss and gradient on a minibatch (DESIGN.md).
//
// Models are stateless apart from their shape: parameters live in the caller's span, so one Model
// serves every replica. CPU (Eigen) and CUDA implementations of the same model agree within
// tolerance. Thread-safety: const methods are thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "common/status.h"
#include "runtime/data/dataset.h"

namespace hearsay {

class Model {
 public:
  virtual ~Model() = default;

  virtual size_t num_params() const = 0;
  // "softmax(d=32,k=4,l2=1e-4)": shape and hyper-parameters; hashed into the handshake.
  virtual std::string Describe() const = 0;
  // Deterministic initial parameters from `seed` (same on every peer).
  virtual void Init(uint64_t seed, std::span<float> params) const = 0;
  // Mean loss over the batch (plus L2 term); writes its gradient into grad.
  virtual double LossAndGradient(std::span<const float> params, const Batch& batch,
                                 std::span<float> grad) const = 0;
  virtual double Loss(std::span<const float> params, const Batch& batch) const = 0;
  // Fraction of correctly classified examples.
  virtual double Accuracy(std::span<const float> params, const Batch& batch) const = 0;
};

}  // namespace hearsay
