#include "runtime/algorithms/choco.h"

#include <utility>

namespace hearsay {

Choco::Choco(const AlgorithmConfig& config, std::shared_ptr<const Topology> topology, int self,
             std::span<const float> x0, std::unique_ptr<Compressor> compressor)
    : GossipAlgorithm(config, std::move(topology), self, x0, std::move(compressor)),
      xh_(x0.begin(), x0.end()),
      m_(x0.begin(), x0.end()),
      x_new_(x0.size()),
      diff_(x0.size()) {
  if (!topology_->time_varying()) {
    const std::vector<Neighbor>& row = topology_->Row(self, 1);
    copies_.resize(row.size());
    for (size_t p = 0; p < row.size(); ++p) {
      if (row[p].id != self) copies_[p].assign(x0.begin(), x0.end());
    }
  }
}

void Choco::OnReweight(size_t pos, double dw) {
  const auto w = static_cast<float>(dw);
  const std::vector<float>& xj = copies_[pos];
  for (size_t k = 0; k < dim(); ++k) m_[k] += w * (xj[k] - xh_[k]);
}

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
  // m_ += W_ij q (when j is mixed with), and q added to the copy of j: each chunk of q read
  // twice from cache.
  float* m = mixed(pos) ? m_.data() : nullptr;
  float* copy = pos == self_pos() ? xh_.data() : !copies_.empty() ? copies_[pos].data() : nullptr;
  return DecodeApply(round, from, payload, [=](size_t lo, std::span<const float> q) {
    if (m != nullptr) {
      for (size_t k = 0; k < q.size(); ++k) m[lo + k] += weight * q[k];
    }
    if (copy != nullptr) {
      for (size_t k = 0; k < q.size(); ++k) copy[lo + k] += q[k];
    }
  });
}

Status Choco::SetPublicCopy(int j, std::span<const float> copy) {
  if (copy.size() != dim()) return GossipAlgorithm::SetPublicCopy(j, copy);  // the error
  const int pos = StaticPos(j);
  if (pos < 0) return GossipAlgorithm::SetPublicCopy(j, copy);
  if (j == self()) {
    // A restarted peer: its model and public copy become the copy its neighbours hold, and m_
    // is summed afresh from the copies (in row order).
    xh_.assign(copy.begin(), copy.end());
    x_.assign(copy.begin(), copy.end());
    std::fill(m_.begin(), m_.end(), 0.0f);
    const size_t row_size = topology_->Row(self(), 1).size();
    for (size_t p = 0; p < row_size; ++p) {
      const std::vector<float>& c = static_cast<int>(p) == pos ? xh_ : copies_[p];
      const float w = weight(p);
      for (size_t k = 0; k < dim(); ++k) m_[k] += w * c[k];
    }
    return Status::Ok();
  }
  std::vector<float>& c = copies_[pos];
  if (mixed(pos)) {
    const float w = weight(pos);
    for (size_t k = 0; k < dim(); ++k) m_[k] += w * (copy[k] - c[k]);
  }
  c.assign(copy.begin(), copy.end());
  return Status::Ok();
}

Result<std::vector<float>> Choco::PublicCopy(int j) const {
  if (j == self()) return xh_;
  const int pos = copies_.empty() ? -1 : StaticPos(j);
  if (pos < 0) {
    return NotFound("choco peer " + std::to_string(self()) + ": no copy of peer " +
                    std::to_string(j));
  }
  return copies_[pos];
}

}  // namespace hearsay
