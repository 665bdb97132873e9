// Ecd: ECD-PSGD, extrapolation compression (Tang et al. 2018), Lian's form, as in ALGORITHMS.md.
//
// State: x_i and estimates y_j of every j in N[i] (y_i, the estimate others hold of i, is a
// separate vector from x_i).
//   Begin(t, g):   x_new = sum_j W_ij y_j - lr * g;  z = (1 - t/2) x_i + (t/2) x_new;
//                  payload = C(z);  x_i <- x_new
//   Absorb(t, j):  y_j <- (1 - 2/t) y_j + (2/t) decode(q_j)
// The extrapolation and the estimate update are computed per element in double and rounded to
// float once (z has large cancelling terms for large t). Requires an unbiased codec and a static
// topology. Memory: (deg + 3) vectors of d floats.
// Thread-safety: none; one peer's compute thread owns it.
#pragma once

#include <vector>

#include "runtime/algorithms/gossip_base.h"

namespace hearsay {

class Ecd final : public GossipAlgorithm {
 public:
  Ecd(const AlgorithmConfig& config, std::shared_ptr<const Topology> topology, int self,
      std::span<const float> x0, std::unique_ptr<Compressor> compressor);
  std::string name() const override { return "ecd"; }
  Result<std::vector<float>> PublicCopy(int j) const override;

 protected:
  Status DoBegin(int64_t round, std::span<const float> grad, float lr, ByteBuffer* out) override;
  Status DoAbsorb(int64_t round, size_t pos, int from, float weight,
                  std::span<const uint8_t> payload) override;
  std::vector<std::vector<float>*> StateVectors() override {
    std::vector<std::vector<float>*> v;
    for (auto& c : estimates_) v.push_back(&c);
    return v;
  }

 private:
  std::vector<std::vector<float>> estimates_;  // y_j by position in Row(self), self included
  std::vector<float> x_new_;
  std::vector<float> z_;
};

}  // namespace hearsay
