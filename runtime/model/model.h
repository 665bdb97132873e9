// Model: a flat float parameter vector with loss and gradient on a minibatch (DESIGN.md).
//
// Models are stateless apart from their shape: parameters live in the caller's span, so one Model
// serves every replica. CPU (Eigen) and CUDA implementations of the same model agree within
// tolerance. Batches must carry labels in 0..k-1 and num_features columns (the data loaders
// guarantee it; checked by assert in debug builds). An empty batch gives the L2 term alone.
// Thread-safety: const methods are thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

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

// Which model to build (the `model:` section of an experiment file).
struct ModelConfig {
  std::string kind = "softmax";  // logistic | softmax | mlp
  double l2 = 1e-4;              // L2 penalty (l2/2)*||weights||^2 (biases are not penalised)
  std::vector<int> hidden;       // mlp only: hidden layer widths, e.g. {64, 64}
};

// Builds the model for `num_features` inputs and `num_classes` classes (labels 0..k-1).
// Errors: unknown kind, logistic with more than 2 classes, l2 < 0, non-positive sizes, hidden
// layers for a kind other than mlp.
Result<std::unique_ptr<Model>> MakeModel(const ModelConfig& config, int64_t num_features,
                                         int32_t num_classes);

}  // namespace hearsay
