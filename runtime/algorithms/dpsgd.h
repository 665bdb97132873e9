// DPsgd: D-PSGD (Lian et al. 2017), the full-precision baseline of ALGORITHMS.md.
//
//   Begin(t, g):   payload = x_i^t as raw little-endian fp32 (4d bytes); remembers g.
//   Absorb(t, j):  acc += W_ij * x_j^t                       (ascending j, float arithmetic)
//   End(t):        x_i^{t+1} = acc - lr * g                  (g taken at the pre-mix model)
// Works with time-varying topologies (no per-neighbour state).
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

 protected:
  Status DoBegin(int64_t round, std::span<const float> grad, float lr, ByteBuffer* out) override;
  Status DoAbsorb(int64_t round, size_t pos, int from, float weight,
                  std::span<const uint8_t> payload) override;
  Status DoEnd(int64_t round) override;

 private:
  std::vector<float> grad_;  // g of the open round
  std::vector<float> acc_;   // sum_j W_ij x_j so far
  float lr_ = 0;
};

}  // namespace hearsay
