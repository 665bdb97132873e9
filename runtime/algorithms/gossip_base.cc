#include "runtime/algorithms/gossip_base.h"

#include <algorithm>
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
      protocol_(self, config.async) {
  if (!topology_->time_varying()) {
    for (const Neighbor& nb : topology_->Row(self, 1)) weights_.push_back(nb.weight);
    live_.assign(weights_.size(), 1);
  }
}

Status GossipAlgorithm::SetNeighborLive(int j, bool live) {
  if (weights_.empty()) {
    return Unimplemented(name() + ": neighbours can be dropped on static topologies only");
  }
  const int pos = StaticPos(j);
  if (pos < 0 || j == self()) {
    return InvalidArgument(name() + " peer " + std::to_string(self()) + ": peer " +
                           std::to_string(j) + " is not a neighbour");
  }
  if (static_cast<bool>(live_[pos]) == live) return Status::Ok();
  const std::vector<Neighbor>& row = topology_->Row(self(), 1);
  const double dw = live ? row[pos].weight : -row[pos].weight;
  OnReweight(static_cast<size_t>(pos), dw);
  live_[pos] = live ? 1 : 0;
  // Recomputed from the topology's weights in row order, so the same set of live neighbours
  // always gives the same bits (whatever the history of drops and re-admissions).
  double self_w = 0;
  for (size_t p = 0; p < row.size(); ++p) {
    if (row[p].id == self()) continue;
    weights_[p] = live_[p] ? row[p].weight : 0.0;
    if (!live_[p]) self_w += row[p].weight;
  }
  const auto me = static_cast<size_t>(StaticPos(self()));
  weights_[me] = row[me].weight + self_w;
  return Status::Ok();
}

int GossipAlgorithm::StaticPos(int peer) const {
  const std::vector<Neighbor>& r = topology_->Row(self(), 1);
  const auto it = std::lower_bound(r.begin(), r.end(), peer,
                                   [](const Neighbor& nb, int id) { return nb.id < id; });
  return it != r.end() && it->id == peer ? static_cast<int>(it - r.begin()) : -1;
}

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
  return compressor_->Encode(x, KeyFor(self(), round), out);
}

namespace {

// Built only for an error: every payload passes where it is used.
std::string PayloadWhere(int64_t round, int from) {
  return "round " + std::to_string(round) + ", payload from peer " + std::to_string(from);
}

}  // namespace

Status GossipAlgorithm::CheckRawPayload(int64_t round, int from,
                                        std::span<const uint8_t> payload) const {
  if (payload.size() == dim() * sizeof(float)) return Status::Ok();
  return Corruption(PayloadWhere(round, from) + ": " + std::to_string(payload.size()) +
                    " bytes; expected " + std::to_string(dim() * sizeof(float)) + " (" +
                    std::to_string(dim()) + " fp32 values)");
}

Status GossipAlgorithm::DecodeInto(int64_t round, int from, std::span<const uint8_t> payload) {
  if (scratch_.size() != dim()) scratch_.resize(dim());  // D-PSGD lets it go; decoding needs it
  if (compressor_ == nullptr) {
    HEARSAY_RETURN_IF_ERROR(CheckRawPayload(round, from, payload));
    std::memcpy(scratch_.data(), payload.data(), payload.size());
    return Status::Ok();
  }
  Status s = compressor_->Decode(payload, KeyFor(from, round), scratch_);
  if (!s.ok()) {
    return s.WithPrefix(PayloadWhere(round, from) + " (" + compressor_->Spec() + ")");
  }
  return Status::Ok();
}

Status GossipAlgorithm::DecodeChunksTo(int64_t round, int from, std::span<const uint8_t> payload,
                                       DecodedChunks& sink) {
  if (compressor_ == nullptr) {
    HEARSAY_RETURN_IF_ERROR(DecodeInto(round, from, payload));
    sink.Take(0, scratch_);
    return Status::Ok();
  }
  Status s = compressor_->DecodeChunks(payload, KeyFor(from, round), dim(), &scratch_, sink);
  if (!s.ok()) {
    return s.WithPrefix(PayloadWhere(round, from) + " (" + compressor_->Spec() + ")");
  }
  return Status::Ok();
}

Status GossipAlgorithm::Begin(int64_t round, std::span<const float> grad, float lr,
                              ByteBuffer* out) {
  HEARSAY_RETURN_IF_ERROR(protocol_.CheckBegin(name(), round));
  if (grad.size() != dim() && !(grad.empty() && late_gradient())) {
    return InvalidArgument(name() + " peer " + std::to_string(self()) + ": gradient has " +
                           std::to_string(grad.size()) + " values; the model has " +
                           std::to_string(dim()));
  }
  HEARSAY_RETURN_IF_ERROR(CheckLearningRate(name(), lr));
  HEARSAY_ASSIGN_OR_RETURN(const RoundProtocol::RoundRow row,
                           protocol_.LookUpRow(*topology_, round));
  out->clear();
  HEARSAY_RETURN_IF_ERROR(DoBegin(round, grad, lr, out));
  protocol_.Open(round, row);
  return Status::Ok();
}

template <typename Rule>
Status GossipAlgorithm::AbsorbWith(int64_t round, int from, Rule&& rule) {
  HEARSAY_ASSIGN_OR_RETURN(const size_t pos, protocol_.CheckAbsorb(name(), round, from));
  const float weight = weights_.empty() ? static_cast<float>(row()[pos].weight) : this->weight(pos);
  HEARSAY_RETURN_IF_ERROR(rule(pos, weight));
  protocol_.Absorbed(pos, round);
  return Status::Ok();
}

Status GossipAlgorithm::Absorb(int64_t round, int from, std::span<const uint8_t> payload) {
  return AbsorbWith(round, from, [&](size_t pos, float weight) {
    return DoAbsorb(round, pos, from, weight, payload);
  });
}

Status GossipAlgorithm::AbsorbBuffer(int64_t round, int from, ByteBuffer* payload) {
  return AbsorbWith(round, from, [&](size_t pos, float weight) {
    return DoAbsorbBuffer(round, pos, from, weight, payload);
  });
}

Status GossipAlgorithm::End(int64_t round) {
  HEARSAY_RETURN_IF_ERROR(protocol_.CheckEnd(name(), round));
  HEARSAY_RETURN_IF_ERROR(DoEnd(round));
  protocol_.Close();
  return Status::Ok();
}

// The copies a holder keeps are StateVectors by row position (self's slot unused, or its own
// estimate for ECD); the algorithms with more to adjust override (CHOCO).
Status GossipAlgorithm::SetPublicCopy(int j, std::span<const float> copy) {
  if (copy.size() != dim()) {
    return InvalidArgument(name() + ": a copy of " + std::to_string(copy.size()) +
                           " values for a model of " + std::to_string(dim()));
  }
  const int pos = StaticPos(j);
  if (pos < 0) return InvalidArgument(name() + ": peer " + std::to_string(j) + " is no neighbour");
  std::vector<std::vector<float>*> vectors = StateVectors();
  if (static_cast<size_t>(pos) < vectors.size() && !vectors[pos]->empty()) {
    vectors[pos]->assign(copy.begin(), copy.end());
  }
  if (j == self()) x_.assign(copy.begin(), copy.end());
  return Status::Ok();
}

Status GossipAlgorithm::SaveState(StateWriter& w) const {
  if (protocol_.in_round()) {
    return FailedPrecondition(name() + ": a checkpoint needs a round boundary (round " +
                              std::to_string(protocol_.round()) + " is open)");
  }
  w.I64(protocol_.round());
  w.Ints(protocol_.last_absorbed());
  w.Floats(x_);
  w.Doubles(weights_);
  w.Chars(live_);
  if (compressor_) compressor_->SaveState(w);
  // StateVectors is not const (LoadState fills the same vectors); saving only reads them.
  for (const std::vector<float>* v : const_cast<GossipAlgorithm*>(this)->StateVectors()) {
    w.Floats(*v);
  }
  return Status::Ok();
}

Status GossipAlgorithm::LoadState(StateReader& r) {
  int64_t round = 0;
  HEARSAY_RETURN_IF_ERROR(r.I64(&round, "round"));
  // The absorbed rounds: one per row position, or none (synchronous rows keep none).
  std::vector<int64_t> last;
  HEARSAY_RETURN_IF_ERROR(r.AnyInts(&last, "absorbed rounds"));
  HEARSAY_RETURN_IF_ERROR(protocol_.Restore(*topology_, round, std::move(last)));
  HEARSAY_RETURN_IF_ERROR(r.Floats(&x_, "model"));
  HEARSAY_RETURN_IF_ERROR(r.Doubles(&weights_, "mixing weights"));
  HEARSAY_RETURN_IF_ERROR(r.Chars(&live_, "live neighbours"));
  if (compressor_) HEARSAY_RETURN_IF_ERROR(compressor_->LoadState(r));
  for (std::vector<float>* v : StateVectors()) {
    HEARSAY_RETURN_IF_ERROR(r.Floats(v, "per-neighbour copy"));
  }
  return Status::Ok();
}

}  // namespace hearsay
