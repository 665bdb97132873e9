#include "runtime/algorithms/ecd.h"

#include <utility>

namespace hearsay {

Ecd::Ecd(const AlgorithmConfig& config, std::shared_ptr<const Topology> topology, int self,
         std::span<const float> x0, std::unique_ptr<Compressor> compressor)
    : GossipAlgorithm(config, topology, self, x0, std::move(compressor)),
      x_new_(x0.size()),
      z_(x0.size()) {
  estimates_.assign(topology->Row(self, 1).size(), std::vector<float>(x0.begin(), x0.end()));
}

Status Ecd::DoBegin(int64_t round, std::span<const float> grad, float lr, ByteBuffer* out) {
  const std::vector<Neighbor>& r = topology_->Row(self(), round);
  terms_.clear();
  for (size_t p = 0; p < r.size(); ++p) {
    if (!mixed(p)) continue;  // a dead neighbour (its weight moved to this peer's own)
    terms_.push_back({weight(p), estimates_[p].data()});
  }
  const double half_t = 0.5 * static_cast<double>(round);
  MixBlocks(terms_, [&](size_t b, size_t n, const float* acc) {
    for (size_t k = 0; k < n; ++k) {
      const float x_new = acc[k] - lr * grad[b + k];
      x_new_[b + k] = x_new;
      z_[b + k] = static_cast<float>((1.0 - half_t) * static_cast<double>(x_[b + k]) +
                                     half_t * static_cast<double>(x_new));
    }
  });
  HEARSAY_RETURN_IF_ERROR(EncodeOwn(round, z_, out));
  x_.swap(x_new_);
  return Status::Ok();
}

Status Ecd::DoAbsorb(int64_t round, size_t pos, int from, float weight,
                     std::span<const uint8_t> payload) {
  const double b = 2.0 / static_cast<double>(round);
  const double a = 1.0 - b;
  float* yj = estimates_[pos].data();
  return DecodeApply(round, from, payload, [=](size_t lo, std::span<const float> q) {
    float* y = yj + lo;
    for (size_t k = 0; k < q.size(); ++k) {
      y[k] = static_cast<float>(a * static_cast<double>(y[k]) + b * static_cast<double>(q[k]));
    }
  });
}

Result<std::vector<float>> Ecd::PublicCopy(int j) const {
  const int pos = StaticPos(j);
  if (pos < 0)
    return NotFound("ecd peer " + std::to_string(self()) + ": no estimate of peer " +
                    std::to_string(j));
  return estimates_[pos];
}

}  // namespace hearsay
