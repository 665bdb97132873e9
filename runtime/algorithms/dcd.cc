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
  terms_.clear();
  for (size_t p = 0; p < r.size(); ++p) {
    if (!mixed(p)) continue;  // a dead neighbour (its weight moved to this peer's own)
    terms_.push_back({weight(p), r[p].id == self() ? x_.data() : replicas_[p].data()});
  }
  MixBlocks(terms_, [&](size_t b, size_t n, const float* acc) {
    for (size_t k = 0; k < n; ++k) diff_[b + k] = (acc[k] - lr * grad[b + k]) - x_[b + k];
  });
  HEARSAY_RETURN_IF_ERROR(EncodeOwn(round, diff_, out));
  HEARSAY_RETURN_IF_ERROR(DecodeInto(round, self(), *out));
  own_payload_bytes_ = out->size();
  for (size_t k = 0; k < dim(); ++k) x_[k] += scratch_[k];
  return Status::Ok();
}

Status Dcd::DoAbsorb(int64_t round, size_t pos, int from, float weight,
                     std::span<const uint8_t> payload) {
  if (pos == self_pos()) {
    // Applied in DoBegin; the own payload never crossed a network, so its size is all there is
    // to check (it catches a caller passing the wrong buffer).
    if (payload.size() != own_payload_bytes_) {
      return Corruption("round " + std::to_string(round) + ", payload from peer " +
                        std::to_string(from) + " (itself): " + std::to_string(payload.size()) +
                        " bytes, but Begin produced " + std::to_string(own_payload_bytes_));
    }
    return Status::Ok();
  }
  float* rj = replicas_[pos].data();
  return DecodeApply(round, from, payload, [rj](size_t lo, std::span<const float> q) {
    float* r = rj + lo;
    for (size_t k = 0; k < q.size(); ++k) r[k] += q[k];
  });
}

Result<std::vector<float>> Dcd::PublicCopy(int j) const {
  if (j == self()) return x_;
  const int pos = StaticPos(j);
  if (pos < 0)
    return NotFound("dcd peer " + std::to_string(self()) + ": no replica of peer " +
                    std::to_string(j));
  return replicas_[pos];
}

}  // namespace hearsay
