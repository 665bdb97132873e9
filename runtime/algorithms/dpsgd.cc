#include "runtime/algorithms/dpsgd.h"

#include <algorithm>
#include <utility>

namespace hearsay {

DPsgd::DPsgd(const AlgorithmConfig& config, std::shared_ptr<const Topology> topology, int self,
             std::span<const float> x0)
    : GossipAlgorithm(config, std::move(topology), self, x0, nullptr),
      grad_(x0.size()),
      acc_(x0.size()) {}

Status DPsgd::DoBegin(int64_t round, std::span<const float> grad, float lr, ByteBuffer* out) {
  HEARSAY_RETURN_IF_ERROR(EncodeOwn(round, x_, out));
  std::copy(grad.begin(), grad.end(), grad_.begin());
  std::fill(acc_.begin(), acc_.end(), 0.0f);
  lr_ = lr;
  return Status::Ok();
}

Status DPsgd::DoAbsorb(int64_t round, size_t pos, int from, float weight,
                       std::span<const uint8_t> payload) {
  HEARSAY_RETURN_IF_ERROR(DecodeInto(round, from, payload));
  for (size_t k = 0; k < dim(); ++k) acc_[k] += weight * scratch_[k];
  return Status::Ok();
}

Status DPsgd::DoEnd(int64_t round) {
  for (size_t k = 0; k < dim(); ++k) x_[k] = acc_[k] - lr_ * grad_[k];
  return Status::Ok();
}

}  // namespace hearsay
