#include "runtime/algorithms/dpsgd.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <utility>

namespace hearsay {

DPsgd::DPsgd(const AlgorithmConfig& config, std::shared_ptr<const Topology> topology, int self,
             std::span<const float> x0)
    : GossipAlgorithm(config, topology, self, x0, nullptr), grad_(x0.size()) {
  // Payloads are raw fp32, read in place or copied straight into latest_: nothing is decoded.
  std::vector<float>().swap(scratch_);
  if (config.async) {
    // Every neighbour's latest model starts at x0 (invariant 1), so a neighbour that has sent
    // nothing yet mixes as x0: one copy of it stands for them all (Latest).
    x0_.assign(x0.begin(), x0.end());
    latest_.resize(topology->Row(self, 1).size());
    held_.resize(latest_.size());
  } else {
    acc_.resize(x0.size());
  }
}

Status DPsgd::DoBegin(int64_t round, std::span<const float> grad, float lr, ByteBuffer* out) {
  HEARSAY_RETURN_IF_ERROR(EncodeOwn(round, x_, out));
  have_grad_ = !grad.empty();
  if (have_grad_) std::copy(grad.begin(), grad.end(), grad_.begin());
  acc_empty_ = true;  // synchronous: the first Absorb writes acc_ (no zero-fill here)
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
  HEARSAY_RETURN_IF_ERROR(CheckRawPayload(round, from, payload));
  if (async()) {
    // The own payload is x_i^t itself, which End reads from x_ (checked, not copied). A
    // neighbour's is copied into its latest model (AbsorbBuffer keeps the buffer instead).
    if (pos == self_pos()) return Status::Ok();
    latest_[pos].resize(dim());
    if (!payload.empty()) std::memcpy(latest_[pos].data(), payload.data(), payload.size());
    ByteBuffer().swap(held_[pos]);  // superseded
    return Status::Ok();
  }
  // acc += W_ij x_j, reading the raw fp32 where it lies (no decoded copy). The round's first term
  // is written as 0.0f + W_ij x_j: the bits of a zero-filled sum plus that term, without the fill.
  const uint8_t* p = payload.data();
  float* acc = acc_.data();
  auto xj = [p](size_t k) {
    float v;
    std::memcpy(&v, p + k * sizeof(float), sizeof(float));  // little-endian fp32, unaligned
    return v;
  };
  if (acc_empty_) {
    for (size_t k = 0; k < dim(); ++k) acc[k] = 0.0f + weight * xj(k);
  } else {
    for (size_t k = 0; k < dim(); ++k) acc[k] += weight * xj(k);
  }
  acc_empty_ = false;
  return Status::Ok();
}

Status DPsgd::DoAbsorbBuffer(int64_t round, size_t pos, int from, float weight,
                             ByteBuffer* payload) {
  // The buffer's storage comes from operator new, aligned for float; checked all the same.
  if (!async() || pos == self_pos() ||
      reinterpret_cast<uintptr_t>(payload->data()) % alignof(float) != 0) {
    return DoAbsorb(round, pos, from, weight, *payload);
  }
  HEARSAY_RETURN_IF_ERROR(CheckRawPayload(round, from, *payload));
  held_[pos].swap(*payload);  // the caller reuses the buffer held before (or an empty one)
  std::vector<float>().swap(latest_[pos]);
  return Status::Ok();
}

const float* DPsgd::Latest(size_t p) const {
  // Raw little-endian fp32 of exactly d values (CheckRawPayload), read in place.
  if (!held_[p].empty()) return reinterpret_cast<const float*>(held_[p].data());
  return latest_[p].empty() ? x0_.data() : latest_[p].data();
}

std::vector<std::vector<float>*> DPsgd::StateVectors() {
  std::vector<std::vector<float>*> v;
  for (size_t p = 0; p < latest_.size(); ++p) {
    if (latest_[p].empty()) {
      const float* copy = Latest(p);
      latest_[p].assign(copy, copy + dim());
      ByteBuffer().swap(held_[p]);
    }
    v.push_back(&latest_[p]);
  }
  return v;
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
      terms_.push_back({weight(p), p == self_pos() ? x_.data() : Latest(p)});
    }
    // x_ is one of the terms: MixBlocks has read its block when the body overwrites it.
    MixBlocks(terms_, [&](size_t b, size_t n, const float* acc) {
      for (size_t k = 0; k < n; ++k) x_[b + k] = acc[k] - lr_ * grad_[b + k];
    });
  } else {
    if (acc_empty_) std::fill(acc_.begin(), acc_.end(), 0.0f);  // a round that absorbed nothing
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
  const float* copy = Latest(static_cast<size_t>(pos));
  return std::vector<float>(copy, copy + dim());
}

}  // namespace hearsay
