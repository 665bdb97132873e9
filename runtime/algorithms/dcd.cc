#include "runtime/algorithms/dcd.h"

#include <utility>

namespace hearsay {

Dcd::Dcd(const AlgorithmConfig& config, std::shared_ptr<const Topology> topology, int self,
         std::span<const float> x0, std::unique_ptr<Compressor> compressor)
    : GossipAlgorithm(config, topology, self, x0, std::move(compressor)), diff_(x0.size()) {
  // All copies start at x0 (invariant 1).
  const std::vector<Neighbor>& row = topology->Row(self, 1);
  replicas_.resize(row.size());
  for (size_t p = 0; p < row.size(); ++p) {
    if (row[p].id != self) replicas_[p].assign(x0.begin(), x0.end());
  }
}

Status Dcd::DoBegin(int64_t round, std::span<const float> grad, float lr, ByteBuffer* out) {
  const std::vector<Neighbor>& r = topology_->Row(self(), round);
  std::fill(diff_.begin(), diff_.end(), 0.0f);
  for (size_t p = 0; p < r.size(); ++p) {
    const float w = static_cast<float>(r[p].weight);
    const std::vector<float>& rj = r[p].id == self() ? x_ : replicas_[p];
    for (size_t k = 0; k < dim(); ++k) diff_[k] += w * rj[k];
  }
  for (size_t k = 0; k < dim(); ++k) diff_[k] = (diff_[k] - lr * grad[k]) - x_[k];
  return EncodeOwn(round, diff_, out);
}

Status Dcd::DoAbsorb(int64_t round, size_t pos, int from, float weight,
                     std::span<const uint8_t> payload) {
  HEARSAY_RETURN_IF_ERROR(DecodeInto(round, from, payload));
  std::vector<float>& rj = Replica(pos);
  for (size_t k = 0; k < dim(); ++k) rj[k] += scratch_[k];
  return Status::Ok();
}

}  // namespace hearsay
