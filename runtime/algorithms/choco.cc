#include "runtime/algorithms/choco.h"

#include <utility>

namespace hearsay {

Choco::Choco(const AlgorithmConfig& config, std::shared_ptr<const Topology> topology, int self,
             std::span<const float> x0, std::unique_ptr<Compressor> compressor)
    : GossipAlgorithm(config, std::move(topology), self, x0, std::move(compressor)),
      xh_(x0.begin(), x0.end()),
      m_(x0.begin(), x0.end()),
      x_new_(x0.size()),
      diff_(x0.size()) {}

Status Choco::DoBegin(int64_t round, std::span<const float> grad, float lr, ByteBuffer* out) {
  const auto gamma = static_cast<float>(config_.consensus_step);
  for (size_t k = 0; k < dim(); ++k) {
    const float local = x_[k] - lr * grad[k];
    x_new_[k] = local + gamma * (m_[k] - xh_[k]);
    diff_[k] = x_new_[k] - xh_[k];
  }
  HEARSAY_RETURN_IF_ERROR(EncodeOwn(round, diff_, out));
  x_.swap(x_new_);
  return Status::Ok();
}

Status Choco::DoAbsorb(int64_t round, size_t pos, int from, float weight,
                       std::span<const uint8_t> payload) {
  HEARSAY_RETURN_IF_ERROR(DecodeInto(round, from, payload));
  for (size_t k = 0; k < dim(); ++k) m_[k] += weight * scratch_[k];
  if (pos == self_pos()) {
    for (size_t k = 0; k < dim(); ++k) xh_[k] += scratch_[k];
  }
  return Status::Ok();
}

Result<std::vector<float>> Choco::PublicCopy(int j) const {
  if (j == self()) return xh_;
  return Unimplemented("choco peer " + std::to_string(self()) +
                       " keeps only the weighted sum of its neighbours' public copies");
}

}  // namespace hearsay
