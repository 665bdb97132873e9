// DPsgd: D-PSGD (Lian et al. 2017), the full-precision baseline of ALGORITHMS.md.
//
//   Begin(t, g):   payload = x_i^t as raw little-endian fp32 (4d bytes); remembers g.
//   Absorb(t, j):  acc += W_ij * x_j^t                       (ascending j, float arithmetic)
//   End(t):        x_i^{t+1} = acc - lr * g                  (g taken at the pre-mix model)
// The gradient may come late (late_gradient()): Begin(t, {}) sends x_i^t, SetGradient(t, g)
// before End. Synchronous runs work with time-varying topologies (no per-neighbour state).
// Asynchronous runs keep the latest model received from each neighbour (deg vectors of d floats)
// and mix those at End, in ascending j: with staleness 0 that is the same arithmetic as above.
// Given the payload's buffer (AbsorbBuffer), they keep that buffer as the copy instead of
// decoding one: the raw payload is x_j itself.
// Thread-safety: none; one peer's compute thread owns it.
#pragma once

#include <vector>

#include "runtime/algorithms/gossip_base.h"

namespace hearsay {

class DPsgd final : public GossipAlgorithm {
 public:
  DPsgd(const AlgorithmConfig& config, std::shared_ptr<const Topology> topology, int self,
        std::span<const float> x0);
  std::string name() const override { return "dpsgd"; }
  Result<std::vector<float>> PublicCopy(int j) const override;

 protected:
  Status DoBegin(int64_t round, std::span<const float> grad, float lr, ByteBuffer* out) override;
  Status DoAbsorb(int64_t round, size_t pos, int from, float weight,
                  std::span<const uint8_t> payload) override;
  // Async: keeps a neighbour's payload buffer as its latest model (no copy).
  Status DoAbsorbBuffer(int64_t round, size_t pos, int from, float weight,
                        ByteBuffer* payload) override;
  std::vector<std::vector<float>*> StateVectors() override;
  Status DoEnd(int64_t round) override;
  bool late_gradient() const override { return true; }
  Status SetGradient(int64_t round, std::span<const float> grad) override;

 private:
  std::vector<float> grad_;  // g of the open round
  bool have_grad_ = false;   // grad_ holds the open round's gradient
  std::vector<float> acc_;   // sync: sum_j W_ij x_j so far
  bool acc_empty_ = true;    // sync: no term added to acc_ this round yet
  // Async: the latest x_j of row position p, where it lies (held_[p], else latest_[p]).
  const float* Latest(size_t p) const;

  // Async: the latest x_j by row position (self unused), as a vector, or in held_[p]: the
  // payload buffer it came in (raw fp32, exactly d values), kept instead of copied; latest_[p] is
  // then empty. Both empty: x0_, for a neighbour not heard from yet. StateVectors fills every
  // latest_[p] (checkpoints and rejoin, rare); the next payloads are kept again.
  std::vector<std::vector<float>> latest_;
  std::vector<ByteBuffer> held_;
  std::vector<float> x0_;
  float lr_ = 0;
};

}  // namespace hearsay
