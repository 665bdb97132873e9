#include "runtime/algorithms/round_protocol.h"

#include <algorithm>
#include <cmath>

namespace hearsay {

Status CheckLearningRate(const std::string& name, float lr) {
  if (!std::isfinite(lr) || lr < 0) {
    return InvalidArgument(name + ": learning rate " + std::to_string(lr) +
                           " must be finite and >= 0");
  }
  return Status::Ok();
}

std::string RoundProtocol::Who(const std::string& name) const {
  return name + " peer " + std::to_string(self_);
}

Status RoundProtocol::CheckBegin(const std::string& name, int64_t round) const {
  if (in_round_) {
    return FailedPrecondition(Who(name) + ": Begin(" + std::to_string(round) + ") while round " +
                              std::to_string(round_) + " is still open; call End first");
  }
  if (round <= round_) {
    return FailedPrecondition(Who(name) + ": Begin(" + std::to_string(round) + ") after round " +
                              std::to_string(round_) + "; rounds are 1-based and increase");
  }
  return Status::Ok();
}

Result<RoundProtocol::RoundRow> RoundProtocol::LookUpRow(const Topology& topology,
                                                         int64_t round) const {
  const std::vector<Neighbor>& row = topology.Row(self_, round);
  const auto it =
      std::find_if(row.begin(), row.end(), [&](const Neighbor& nb) { return nb.id == self_; });
  if (it == row.end()) {
    return Internal("topology row of peer " + std::to_string(self_) + " at round " +
                    std::to_string(round) + " does not contain the peer itself");
  }
  return RoundRow{&row, static_cast<size_t>(it - row.begin())};
}

void RoundProtocol::Open(int64_t round, RoundRow row) {
  row_ = row;
  in_round_ = true;
  round_ = round;
  absorbed_ = 0;
  // Async runs need a static row (ValidateAlgorithmArgs), so positions keep their meaning.
  if (last_.size() != row.row->size()) last_.assign(row.row->size(), 0);
}

Status RoundProtocol::Restore(const Topology& topology, int64_t round, std::vector<int64_t> last) {
  if (round < 1) return Corruption("checkpoint: round " + std::to_string(round) + " is not >= 1");
  HEARSAY_ASSIGN_OR_RETURN(row_, LookUpRow(topology, round));
  if (!last.empty() && last.size() != row_.row->size()) {
    return Corruption("checkpoint: " + std::to_string(last.size()) +
                      " absorbed rounds for a row of " + std::to_string(row_.row->size()));
  }
  in_round_ = false;
  round_ = round;
  absorbed_ = 0;
  last_ = std::move(last);
  return Status::Ok();
}

void RoundProtocol::Absorbed(size_t pos, int64_t round) {
  absorbed_ = pos + 1;
  if (pos < last_.size()) last_[pos] = round;
}

Result<size_t> RoundProtocol::CheckAbsorb(const std::string& name, int64_t round, int from) const {
  if (async_) return CheckAbsorbAsync(name, round, from);
  if (!in_round_ || round != round_) {
    return FailedPrecondition(Who(name) + ": payload of round " + std::to_string(round) +
                              " from peer " + std::to_string(from) +
                              (in_round_ ? " while round " + std::to_string(round_) + " is open"
                                         : " outside a round; call Begin first"));
  }
  const std::vector<Neighbor>& r = *row_.row;
  // The row is sorted by id (topology.h), so the lookup is a binary search.
  const auto it = std::lower_bound(r.begin(), r.end(), from,
                                   [](const Neighbor& nb, int id) { return nb.id < id; });
  // Built only for an error: every absorbed payload passes here.
  const auto what = [&] {
    return Who(name) + ": round " + std::to_string(round) + " payload from peer " +
           std::to_string(from);
  };
  if (it == r.end() || it->id != from) {
    return InvalidArgument(what() + ", which is not an in-neighbour");
  }
  const auto pos = static_cast<size_t>(it - r.begin());
  if (pos < absorbed_) {
    return FailedPrecondition(
        what() + " after peer " + std::to_string(r[absorbed_ - 1].id) +
        "; each neighbour once, in ascending peer id (ALGORITHMS.md invariant 4)");
  }
  if (pos > absorbed_) {
    return FailedPrecondition(
        what() + " before peer " + std::to_string(r[absorbed_].id) +
        "; each neighbour once, in ascending peer id (ALGORITHMS.md invariant 4)");
  }
  return pos;
}

Result<size_t> RoundProtocol::CheckAbsorbAsync(const std::string& name, int64_t round,
                                               int from) const {
  if (!in_round_) {
    return FailedPrecondition(Who(name) + ": payload of round " + std::to_string(round) +
                              " from peer " + std::to_string(from) +
                              " outside a round; call Begin first");
  }
  const std::vector<Neighbor>& r = *row_.row;
  const auto it = std::lower_bound(r.begin(), r.end(), from,
                                   [](const Neighbor& nb, int id) { return nb.id < id; });
  const auto what = [&] {
    return Who(name) + ": round " + std::to_string(round) + " payload from peer " +
           std::to_string(from);
  };
  if (it == r.end() || it->id != from) {
    return InvalidArgument(what() + ", which is not an in-neighbour");
  }
  const auto pos = static_cast<size_t>(it - r.begin());
  // Per-link order with nothing lost: the next payload of a link is that of the round after the
  // last one absorbed. A gap would make this peer's copy of `from` differ from everyone else's.
  const int64_t expected = last_[pos] + 1;
  if (round != expected) {
    return FailedPrecondition(what() + "; expected its round " + std::to_string(expected) +
                              " next (each link's payloads are absorbed once, in round order)");
  }
  if (pos == row_.self_pos && round != round_) {
    return FailedPrecondition(what() + ": a peer absorbs its own payload in its own round " +
                              std::to_string(round_));
  }
  return pos;
}

Status RoundProtocol::CheckEnd(const std::string& name, int64_t round) const {
  if (!in_round_ || round != round_) {
    return FailedPrecondition(Who(name) + ": End(" + std::to_string(round) +
                              ") without a matching Begin");
  }
  if (async_) {
    if (last_[row_.self_pos] != round) {
      return FailedPrecondition(Who(name) + ": End(" + std::to_string(round) +
                                ") before the peer's own payload of that round was absorbed");
    }
    return Status::Ok();
  }
  if (absorbed_ != row_.row->size()) {
    return FailedPrecondition(Who(name) + ": End(" + std::to_string(round) +
                              ") before the payload of peer " +
                              std::to_string((*row_.row)[absorbed_].id) + " was absorbed");
  }
  return Status::Ok();
}

}  // namespace hearsay
