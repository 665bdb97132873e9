// Choco: CHOCO-SGD (Koloskova et al. 2019) in the memory-efficient form of ALGORITHMS.md.
//
// State: x_i, the public copy xh_i, m_i = sum_j W_ij xh_j (all start at x0), and -- so that a
// dead neighbour can be dropped (fault tolerance) -- a copy xh_j of each neighbour's public copy:
// (deg + 3) vectors. m_i is still accumulated incrementally, exactly as in the memory-efficient
// form, so the copies do not change any result; dropping j moves W_ij to W_ii:
// m_i += W_ij (xh_i - xh_j).
//   Begin(t, g):   x_i <- x_i - lr * g;  x_i <- x_i + gamma_c * (m_i - xh_i);
//                  payload = C(x_i - xh_i)
//   Absorb(t, j):  m_i += W_ij * decode(q_j);  if j == i: xh_i += decode(q_i)
// Allows biased codecs (top-k, sign). With a symmetric W the average of the x_i is preserved up
// to float rounding whatever the compression error. Requires a static topology (m_i is a sum with
// fixed weights).
// Thread-safety: none; one peer's compute thread owns it.
#pragma once

#include <vector>

#include "runtime/algorithms/gossip_base.h"

namespace hearsay {

class Choco final : public GossipAlgorithm {
 public:
  Choco(const AlgorithmConfig& config, std::shared_ptr<const Topology> topology, int self,
        std::span<const float> x0, std::unique_ptr<Compressor> compressor);
  std::string name() const override { return "choco"; }
  Result<std::vector<float>> PublicCopy(int j) const override;
  Status SetPublicCopy(int j, std::span<const float> copy) override;

 protected:
  Status DoBegin(int64_t round, std::span<const float> grad, float lr, ByteBuffer* out) override;
  Status DoAbsorb(int64_t round, size_t pos, int from, float weight,
                  std::span<const uint8_t> payload) override;
  void OnReweight(size_t pos, double dw) override;
  std::vector<std::vector<float>*> StateVectors() override {
    std::vector<std::vector<float>*> v;
    for (auto& c : copies_) v.push_back(&c);
    v.push_back(&xh_);
    v.push_back(&m_);
    return v;
  }

 private:
  std::vector<std::vector<float>> copies_;  // xh_j by row position (self's slot unused)
  std::vector<float> xh_;                   // own public copy
  std::vector<float> m_;                    // sum_j W_ij xh_j
  std::vector<float> x_new_;                // scratch: the model after the local and gossip steps
  std::vector<float> diff_;                 // scratch: x_new - xh
};

}  // namespace hearsay
