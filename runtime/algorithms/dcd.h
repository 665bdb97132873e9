// Dcd: DCD-PSGD, difference compression (Tang et al. 2018), as in ALGORITHMS.md.
//
// State: x_i and exact replicas r_j of every j in N[i]; r_i is x_i itself (one vector).
//   Begin(t, g):   half = sum_j W_ij r_j - lr * g;  payload = C(half - x_i);
//                  x_i += decode(payload)   (r_i = x_i: the sender applies the decoded bytes,
//                                            invariant 2)
//   Absorb(t, j):  r_j += decode(q_j)   (j = i: nothing left to do)
// The own update is applied in Begin rather than at the own Absorb so that params() is x_i^{t+1}
// while round t's payloads travel (the peer computes the next gradient meanwhile); replicas are
// independent vectors, so the order of these additions does not change any bit.
// Requires an unbiased codec (MakeAlgorithm refuses biased ones unless allow_biased) and a static
// topology (replicas are per in-neighbour). Memory: (deg + 2) vectors of d floats.
// Thread-safety: none; one peer's compute thread owns it.
#pragma once

#include <vector>

#include "runtime/algorithms/gossip_base.h"

namespace hearsay {

class Dcd final : public GossipAlgorithm {
 public:
  Dcd(const AlgorithmConfig& config, std::shared_ptr<const Topology> topology, int self,
      std::span<const float> x0, std::unique_ptr<Compressor> compressor);
  std::string name() const override { return "dcd"; }
  Result<std::vector<float>> PublicCopy(int j) const override;

 protected:
  Status DoBegin(int64_t round, std::span<const float> grad, float lr, ByteBuffer* out) override;
  Status DoAbsorb(int64_t round, size_t pos, int from, float weight,
                  std::span<const uint8_t> payload) override;
  std::vector<std::vector<float>*> StateVectors() override {
    std::vector<std::vector<float>*> v;
    for (auto& c : replicas_) v.push_back(&c);
    return v;
  }

 private:
  std::vector<std::vector<float>> replicas_;  // by position in Row(self); self's slot unused
  std::vector<float> diff_;                   // half - x_i
  size_t own_payload_bytes_ = 0;              // size of the open round's own payload
};

}  // namespace hearsay
