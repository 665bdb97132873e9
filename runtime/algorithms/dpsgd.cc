#include "runtime/algorithms/dpsgd.h"

#include <algorithm>
#include <utility>

namespace hearsay {

DPsgd::DPsgd(const AlgorithmConfig& config, std::shared_ptr<const Topology> topology, int self,
             std::span<const float> x0)
    : GossipAlgorithm(config, topology, self, x0, nullptr), grad_(x0.size()) {
  if (config.async) {
    // Every neighbour's latest model starts at x0 (invariant 1), so a neighbour that has sent
    // nothing yet mixes as x0.
    latest_.assign(topology->Row(self, 1).size(), std::vector<float>(x0.begin(), x0.end()));
  } else {
    acc_.resize(x0.size());
  }
}

Status DPsgd::DoBegin(int64_t round, std::span<const float> grad, float lr, ByteBuffer* out) {
  HEARSAY_RETURN_IF_ERROR(EncodeOwn(round, x_, out));
  have_grad_ = !grad.empty();
  if (have_grad_) std::copy(grad.begin(), grad.end(), grad_.begin());
  if (!async()) std::fill(acc_.begin(), acc_.end(), 0.0f);
  lr_ = lr;
  return Status::Ok();
}

Status DPsgd::SetGradient(int64_t round, std::span<const float> grad) {
  if (!protocol().in_round() || protocol().round() != round) {
    return FailedPrecondition("dpsgd peer " + std::to_string(self()) + ": SetGradient(" +
                              std::to_string(round) + ") outside that round");
  }
  if (grad.size() != dim()) {
    return InvalidArgument("dpsgd peer " + std::to_string(self()) + ": gradient has " +
                           std::to_string(grad.size()) + " values; the model has " +
                           std::to_string(dim()));
  }
  std::copy(grad.begin(), grad.end(), grad_.begin());
  have_grad_ = true;
  return Status::Ok();
}

Status DPsgd::DoAbsorb(int64_t round, size_t pos, int from, float weight,
                       std::span<const uint8_t> payload) {
  // Asynchronous: the own payload is x_i^t itself, which End reads from x_ (checked, not copied).
  if (async() && pos == self_pos()) return CheckRawPayload(round, from, payload);
  HEARSAY_RETURN_IF_ERROR(DecodeInto(round, from, payload));
  if (async()) {
    latest_[pos].swap(scratch_);
    return Status::Ok();
  }
  for (size_t k = 0; k < dim(); ++k) acc_[k] += weight * scratch_[k];
  return Status::Ok();
}

Status DPsgd::DoEnd(int64_t round) {
  if (!have_grad_) {
    return FailedPrecondition("dpsgd peer " + std::to_string(self()) + ": End(" +
                              std::to_string(round) + ") before the round's gradient was given");
  }
  if (async()) {
    // Mix the latest copies in ascending j, exactly as the synchronous Absorb loop accumulates.
    const std::vector<Neighbor>& r = row();
    terms_.clear();
    for (size_t p = 0; p < r.size(); ++p) {
      if (!mixed(p)) continue;  // a dead neighbour (its weight moved to this peer's own)
      terms_.push_back({weight(p), p == self_pos() ? x_.data() : latest_[p].data()});
    }
    // x_ is one of the terms: MixBlocks has read its block when the body overwrites it.
    MixBlocks(terms_, [&](size_t b, size_t n, const float* acc) {
      for (size_t k = 0; k < n; ++k) x_[b + k] = acc[k] - lr_ * grad_[b + k];
    });
  } else {
    for (size_t k = 0; k < dim(); ++k) x_[k] = acc_[k] - lr_ * grad_[k];
  }
  have_grad_ = false;
  return Status::Ok();
}

Result<std::vector<float>> DPsgd::PublicCopy(int j) const {
  if (j == self()) return x_;
  const int pos = async() ? StaticPos(j) : -1;
  if (pos < 0) {
    return Unimplemented("dpsgd peer " + std::to_string(self()) + " keeps no copy of peer " +
                         std::to_string(j) +
                         " (only asynchronous runs keep the latest model of each neighbour)");
  }
  return latest_[pos];
}

}  // namespace hearsay
