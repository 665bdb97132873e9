#include "runtime/algorithms/gossip_base.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <utility>

namespace hearsay {

GossipAlgorithm::GossipAlgorithm(const AlgorithmConfig& config,
                                 std::shared_ptr<const Topology> topology, int self,
                                 std::span<const float> x0, std::unique_ptr<Compressor> compressor)
    : config_(config),
      topology_(std::move(topology)),
      compressor_(std::move(compressor)),
      x_(x0.begin(), x0.end()),
      scratch_(x0.size()),
      self_(self) {}

RngKey GossipAlgorithm::KeyFor(int peer, int64_t round) const {
  RngKey key;
  key.seed = config_.seed;
  key.peer = static_cast<uint32_t>(peer);
  key.round = static_cast<uint32_t>(round);
  key.tensor = 0;  // flat model; key.stream is set by the codec
  return key;
}

Status GossipAlgorithm::EncodeOwn(int64_t round, std::span<const float> x, ByteBuffer* out) {
  if (compressor_ == nullptr) {
    AppendBytes(out, x.data(), x.size() * sizeof(float));
    return Status::Ok();
  }
  return compressor_->Encode(x, KeyFor(self_, round), out);
}

Status GossipAlgorithm::DecodeInto(int64_t round, int from, std::span<const uint8_t> payload) {
  const std::string where =
      "round " + std::to_string(round) + ", payload from peer " + std::to_string(from);
  if (compressor_ == nullptr) {
    if (payload.size() != dim() * sizeof(float)) {
      return Corruption(where + ": " + std::to_string(payload.size()) + " bytes; expected " +
                        std::to_string(dim() * sizeof(float)) + " (" + std::to_string(dim()) +
                        " fp32 values)");
    }
    std::memcpy(scratch_.data(), payload.data(), payload.size());
    return Status::Ok();
  }
  Status s = compressor_->Decode(payload, KeyFor(from, round), scratch_);
  if (!s.ok()) return s.WithPrefix(where + " (" + compressor_->Spec() + ")");
  return Status::Ok();
}

Status GossipAlgorithm::Begin(int64_t round, std::span<const float> grad, float lr,
                              ByteBuffer* out) {
  if (in_round_) {
    return FailedPrecondition(name() + " peer " + std::to_string(self_) + ": Begin(" +
                              std::to_string(round) + ") while round " + std::to_string(round_) +
                              " is still open; call End first");
  }
  if (round <= round_) {
    return FailedPrecondition(name() + " peer " + std::to_string(self_) + ": Begin(" +
                              std::to_string(round) + ") after round " + std::to_string(round_) +
                              "; rounds are 1-based and increase");
  }
  if (grad.size() != dim()) {
    return InvalidArgument(name() + " peer " + std::to_string(self_) + ": gradient has " +
                           std::to_string(grad.size()) + " values; the model has " +
                           std::to_string(dim()));
  }
  if (!std::isfinite(lr) || lr < 0) {
    return InvalidArgument(name() + ": learning rate " + std::to_string(lr) +
                           " must be finite and >= 0");
  }
  const std::vector<Neighbor>& row = topology_->Row(self_, round);
  const auto it =
      std::find_if(row.begin(), row.end(), [&](const Neighbor& nb) { return nb.id == self_; });
  if (it == row.end()) {
    return Internal("topology row of peer " + std::to_string(self_) + " at round " +
                    std::to_string(round) + " does not contain the peer itself");
  }
  out->clear();
  HEARSAY_RETURN_IF_ERROR(DoBegin(round, grad, lr, out));
  row_ = &row;
  self_pos_ = static_cast<size_t>(it - row.begin());
  in_round_ = true;
  round_ = round;
  absorbed_ = 0;
  return Status::Ok();
}

Status GossipAlgorithm::Absorb(int64_t round, int from, std::span<const uint8_t> payload) {
  if (!in_round_ || round != round_) {
    return FailedPrecondition(name() + " peer " + std::to_string(self_) + ": payload of round " +
                              std::to_string(round) + " from peer " + std::to_string(from) +
                              (in_round_ ? " while round " + std::to_string(round_) + " is open"
                                         : " outside a round; call Begin first"));
  }
  const std::vector<Neighbor>& r = *row_;
  const auto it = std::lower_bound(r.begin(), r.end(), from,
                                   [](const Neighbor& nb, int id) { return nb.id < id; });
  if (it == r.end() || it->id != from) {
    return InvalidArgument(name() + " peer " + std::to_string(self_) + ": round " +
                           std::to_string(round) + " payload from peer " + std::to_string(from) +
                           ", which is not an in-neighbour");
  }
  const auto pos = static_cast<size_t>(it - r.begin());
  if (pos < absorbed_) {
    return FailedPrecondition(
        name() + " peer " + std::to_string(self_) + ": round " + std::to_string(round) +
        " payload from peer " + std::to_string(from) + " after peer " +
        std::to_string(r[absorbed_ - 1].id) +
        "; each neighbour once, in ascending peer id (ALGORITHMS.md invariant 4)");
  }
  if (pos > absorbed_) {
    return FailedPrecondition(name() + " peer " + std::to_string(self_) + ": round " +
                              std::to_string(round) + " payload from peer " + std::to_string(from) +
                              " before peer " + std::to_string(r[absorbed_].id) +
                              "; absorb in ascending peer id (ALGORITHMS.md invariant 4)");
  }
  HEARSAY_RETURN_IF_ERROR(DoAbsorb(round, pos, from, static_cast<float>(it->weight), payload));
  absorbed_ = pos + 1;
  return Status::Ok();
}

Status GossipAlgorithm::End(int64_t round) {
  if (!in_round_ || round != round_) {
    return FailedPrecondition(name() + " peer " + std::to_string(self_) + ": End(" +
                              std::to_string(round) + ") without a matching Begin");
  }
  if (absorbed_ != row_->size()) {
    return FailedPrecondition(name() + " peer " + std::to_string(self_) + ": End(" +
                              std::to_string(round) + ") before the payload of peer " +
                              std::to_string((*row_)[absorbed_].id) + " was absorbed");
  }
  HEARSAY_RETURN_IF_ERROR(DoEnd(round));
  in_round_ = false;
  return Status::Ok();
}

}  // namespace hearsay
