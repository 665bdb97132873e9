// Rejoin of a restarted peer J (docs/faults.md "Restart and rejoin"), for the gossip algorithms
// on a static graph. J has lost its state; its neighbours hold exact copies of it (DCD's
// replicas, CHOCO's public copies, ECD's estimates; D-PSGD's latest model) and of themselves.
//
//   J -> every neighbour      JOIN
//   holder N, at its next round boundary (all it received of J is absorbed, its own public copy
//   is that of its last round e_N):
//     N -> J                  JOIN_STATE(e_N, J's last round in N's copy, N's copy of J, N's own
//                             public copy); from then on N sends J its gossip again (J is still
//                             not waited for nor mixed with)
//   J, once every live neighbour answered: adopts the copy of itself that is most up to date
//   (the largest last round; ties: the lowest holder id) as its model and public state, each
//   holder's own copy as its copy of that holder (exact: the holder's later payloads follow on
//   the same FIFO link), and starts at round T = max e_N + 1;
//     J -> every holder       SET_COPY(T, the adopted copy)
//   N: replaces its copy of J by the adopted one, expects J's round T next, re-admits J (mixed
//   again from its next round boundary), and answers
//     N -> J                  COPY_HASH(FNV-1a 64 of its copy of J)
//   J: every hash must equal the adopted copy's, or J fails ("copies differ"): after the state
//   transfer every holder's copy of J is byte-identical, verified.
//
// Payloads are StateWriter encodings (common/state_io.h).
#include <algorithm>
#include <cstring>

#include "common/logging.h"
#include "common/state_io.h"
#include "runtime/peer/gossip_core.h"

namespace hearsay {

uint64_t CopyHash(std::span<const float> v) {
  uint64_t h = 0xcbf29ce484222325ull;
  const auto* p = reinterpret_cast<const unsigned char*>(v.data());
  for (size_t k = 0; k < v.size() * sizeof(float); ++k) {
    h ^= p[k];
    h *= 0x100000001b3ull;
  }
  return h;
}

void GossipCore::OnRejoinMessage(double now, Message msg) {
  const int from = msg.from;
  const int pos = static_path_ ? RowPos(from) : -1;
  if (pos < 0 || !algorithm_) {
    HEARSAY_LOG_WARN(
        "peer {}: dropping a rejoin message from peer {} (rejoin needs a static graph "
        "on the CPU, between neighbours)",
        options_.id, from);
    return;
  }
  StateReader r(msg.payload);
  switch (msg.kind) {
    case MessageKind::kJoin:
      // Until its SET_COPY the joiner is not waited for nor mixed with, whatever this peer
      // thought of it (a silent peer heard again would otherwise be waited for: its gossip
      // comes only after the state transfer this peer's next round boundary starts).
      SetFailed(from, "rejoining after a restart");
      if (std::find(join_requests_.begin(), join_requests_.end(), from) == join_requests_.end()) {
        join_requests_.push_back(from);
      }
      return;
    case MessageKind::kJoinState: {
      if (phase_ != Phase::kJoining) return;
      JoinState js;
      js.copy_of_me.resize(algo_->params().size());
      js.holder_copy.resize(algo_->params().size());
      Status s = r.I64(&js.holder_round, "holder round");
      if (s.ok()) s = r.I64(&js.my_round, "own round");
      if (s.ok()) s = r.Floats(&js.copy_of_me, "copy of this peer");
      if (s.ok()) s = r.Floats(&js.holder_copy, "holder's copy");
      if (!s.ok()) {
        SetFailed(from, "sent a bad JOIN_STATE: " + s.message());
        return;
      }
      // The holder's gossip of its later rounds follows on this link: expect it from there on.
      last_received_[pos] = js.holder_round;
      was_dead_[pos] = 1;
      round_ = std::max(round_, js.holder_round);  // the holders' gossip is not "far ahead"
      join_states_[from] = std::move(js);
      return;
    }
    case MessageKind::kSetCopy: {
      int64_t next = 0;
      std::vector<float> copy(algo_->params().size());
      Status s = r.I64(&next, "next round");
      if (s.ok()) s = r.Floats(&copy, "adopted copy");
      if (s.ok() && next < 1) s = Corruption("next round " + std::to_string(next));
      if (s.ok()) s = algo_->SetPublicCopy(from, copy);
      if (s.ok()) s = algo_->SetLinkRound(from, next - 1);
      if (!s.ok()) {
        SetFailed(from, "sent a bad SET_COPY: " + s.message());
        return;
      }
      for (auto it = pending_.begin(); it != pending_.end();) {
        it = it->first.second == from ? pending_.erase(it) : std::next(it);
      }
      last_received_[pos] = last_absorbed_[pos] = next - 1;
      was_dead_[pos] = 1;
      SetSendingToDead(from, false);
      Readmit(now, from, "rejoined at round " + std::to_string(next));
      hash_replies_.emplace_back(from, CopyHash(copy));
      return;
    }
    case MessageKind::kCopyHash: {
      int64_t h = 0;
      if (phase_ != Phase::kJoinVerify || !r.I64(&h, "hash").ok()) return;
      copy_hashes_[from] = static_cast<uint64_t>(h);
      return;
    }
    default:
      return;
  }
}

Status GossipCore::ServeJoins(CoreSink& sink) {
  for (int j : join_requests_) {
    HEARSAY_ASSIGN_OR_RETURN(std::vector<float> copy_of_j, algo_->PublicCopy(j));
    HEARSAY_ASSIGN_OR_RETURN(std::vector<float> own, algo_->PublicCopy(options_.id));
    Message m;
    m.kind = MessageKind::kJoinState;
    m.from = options_.id;
    m.to = j;
    m.round = last_round_;
    m.payload.reserve(32 + 2 * sizeof(float) * own.size());
    StateWriter w(&m.payload);
    w.I64(last_round_);
    w.I64(last_absorbed_[RowPos(j)]);
    w.Floats(copy_of_j);
    w.Floats(own);
    // Everything this peer received of j is absorbed (its messages are caught up on at every
    // round end): the copy is exact as of j's last round in it.
    for (auto it = pending_.begin(); it != pending_.end();) {
      it = it->first.second == j ? pending_.erase(it) : std::next(it);
    }
    SetSendingToDead(j, true);
    HEARSAY_LOG_WARN("peer {}: peer {} is rejoining; sent it its copy (round {}) and this peer's",
                     options_.id, j, last_absorbed_[RowPos(j)]);
    HEARSAY_RETURN_IF_ERROR(SendTo(sink, std::move(m)));
  }
  join_requests_.clear();
  return Status::Ok();
}

Status GossipCore::SendCopyHashes(CoreSink& sink) {
  for (const auto& [j, h] : hash_replies_) {
    Message m;
    m.kind = MessageKind::kCopyHash;
    m.from = options_.id;
    m.to = j;
    m.payload.reserve(sizeof(int64_t));
    StateWriter w(&m.payload);
    w.I64(static_cast<int64_t>(h));
    HEARSAY_RETURN_IF_ERROR(SendTo(sink, std::move(m)));
  }
  hash_replies_.clear();
  return Status::Ok();
}

Status GossipCore::AdoptJoinState() {
  const int id = options_.id;
  // The most up-to-date copy of this peer; ties: the lowest holder id (map order).
  const JoinState* best = nullptr;
  int best_holder = -1;
  int64_t next = 1;
  for (const auto& [holder, js] : join_states_) {
    if (!best || js.my_round > best->my_round) {
      best = &js;
      best_holder = holder;
    }
    next = std::max(next, js.holder_round + 1);
  }
  HEARSAY_RETURN_IF_ERROR(algo_->SetPublicCopy(id, best->copy_of_me));
  const std::vector<Neighbor>& row = options_.topology->graph->Row(id, 1);
  std::vector<int64_t> last(row.size(), 0);
  for (size_t p = 0; p < row.size(); ++p) {
    if (row[p].id == id) {
      last[p] = next - 1;
      continue;
    }
    const auto it = join_states_.find(row[p].id);
    if (it == join_states_.end()) continue;  // a neighbour that did not answer (dead)
    HEARSAY_RETURN_IF_ERROR(algo_->SetPublicCopy(row[p].id, it->second.holder_copy));
    last[p] = it->second.holder_round;
    last_absorbed_[p] = it->second.holder_round;
  }
  HEARSAY_RETURN_IF_ERROR(algo_->RestoreRound(next - 1, std::move(last)));
  adopted_hash_ = CopyHash(best->copy_of_me);
  round_ = next;
  last_round_ = next - 1;
  HEARSAY_LOG_WARN("peer {}: rejoining at round {} with peer {}'s copy of it (its round {})", id,
                   next, best_holder, best->my_round);
  return Status::Ok();
}

CoreStep GossipCore::JoinStep(double now, CoreSink& sink) {
  const int id = options_.id;
  const double deadline = join_began_ + options_.run.round_timeout_s;
  if (phase_ == Phase::kJoining) {
    if (!joins_sent_) {
      joins_sent_ = true;
      join_began_ = now;
      if (Status s = SendJoins(sink); !s.ok()) return Fail(now, sink, std::move(s));
      return Wait(now, now + options_.run.round_timeout_s);
    }
    // Every neighbour answered, or is dead (silent for dead_after, its link gone) or finished.
    if (auto wait = AwaitJoinStates(now, sink, deadline,
                                    [&](int j) { return join_states_.count(j) > 0; })) {
      return *wait;
    }
    if (join_states_.empty()) {
      return Fail(now, sink,
                  Unavailable("peer " + std::to_string(id) +
                              ": no live neighbour answered its JOIN; nothing to rejoin"));
    }
    if (Status s = AdoptJoinState(); !s.ok()) return Fail(now, sink, std::move(s));
    // A neighbour that did not answer is dead for this peer until the end of the run (or until
    // it rejoins itself): it holds no consistent state of this peer, and if it answers late (it
    // was rejoining too, or slow beyond dead_after) its JOIN_STATE is ignored and it is not
    // taken back as a silent neighbour would be -- it never gets this peer's SET_COPY, so it
    // does not take this peer back either. Both go on without the edge; neither waits.
    for (int j : link_neighbors()) {
      if (!join_states_.count(j)) {
        SetFailed(j, "did not answer this peer's JOIN; going on without it", /*final=*/true);
      }
    }
    std::vector<float> adopted(algo_->PublicCopy(id).value());
    for (const auto& [holder, js] : join_states_) {
      Message m;
      m.kind = MessageKind::kSetCopy;
      m.from = id;
      m.to = holder;
      m.round = round_;
      m.payload.reserve(16 + sizeof(float) * adopted.size());
      StateWriter w(&m.payload);
      w.I64(round_);
      w.Floats(adopted);
      if (Status s = SendTo(sink, std::move(m)); !s.ok()) return Fail(now, sink, std::move(s));
    }
    phase_ = Phase::kJoinVerify;
  }
  for (const auto& [holder, js] : join_states_) {
    if (copy_hashes_.count(holder) || !alive(holder)) continue;
    if (now >= deadline) {
      return Fail(now, sink,
                  DeadlineExceeded("peer " + std::to_string(id) + ": no COPY_HASH from peer " +
                                   std::to_string(holder) + " within round_timeout"));
    }
    return Wait(now, deadline);
  }
  for (const auto& [holder, h] : copy_hashes_) {
    if (h != adopted_hash_) {
      return Fail(
          now, sink,
          Internal("peer " + std::to_string(id) + ": after the state transfer peer " +
                   std::to_string(holder) + "'s copy of this peer differs (hash " +
                   std::to_string(h) + ", expected " + std::to_string(adopted_hash_) + ")"));
    }
  }
  HEARSAY_LOG_WARN("peer {}: rejoined at round {}; {} holders' copies of it verified identical", id,
                   round_, copy_hashes_.size());
  join_states_.clear();
  phase_ = Phase::kStart;
  return Step(now, sink);
}

}  // namespace hearsay
