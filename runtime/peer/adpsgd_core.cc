#include "runtime/peer/adpsgd_core.h"

#include <algorithm>
#include <cmath>

#include "common/logging.h"
#include "common/random.h"
#include "common/state_io.h"

namespace hearsay {

Status AdpsgdCore::SetupProtocol(std::span<const float> x0) {
  const RunConfig& run = options_.run;
  const Topology& graph = *options_.topology->graph;
  const int id = options_.id;
  if (graph.time_varying()) {
    return Unimplemented("adpsgd averages along the edges of a static graph; " +
                         options_.topology->source + " changes every round");
  }
  std::vector<int> ins = graph.InNeighbors(id, 1), outs = graph.OutNeighbors(id, 1);
  std::erase(ins, id);
  std::erase(outs, id);
  if (ins != outs) {
    return InvalidArgument("adpsgd needs an undirected graph; peer " + std::to_string(id) + " of " +
                           options_.topology->source + " has different in- and out-neighbours");
  }
  if (ins.empty()) {
    return InvalidArgument("adpsgd: peer " + std::to_string(id) + " has no neighbour");
  }
  neighbors_ = std::move(ins);
  HEARSAY_ASSIGN_OR_RETURN(codec_, MakeCompressor(run.compressor));
  x_.assign(x0.begin(), x0.end());
  x_read_ = x_;
  if (options_.replay != nullptr) {
    // Each request of the recorded run ends in the log as its reply or as an average given up
    // (kDone), both naming the partner and the step.
    for (const auto& [round, events] : *options_.replay) {
      for (const MessageId& e : events) {
        if (e.kind == MessageKind::kAvgReply || e.kind == MessageKind::kDone) {
          replay_partner_[e.round] = e.from;
        }
      }
    }
  }
  if (options_.rejoin) {
    if (options_.replay != nullptr) return InvalidArgument("a replay does not rejoin");
    phase_ = Phase::kJoining;
  }
  scratch_.resize(x_.size());
  delta_.resize(x_.size());
  return Status::Ok();
}

RngKey AdpsgdCore::Key(int peer, int64_t round, uint32_t tensor) const {
  RngKey key;
  key.seed = options_.run.seed;
  key.peer = static_cast<uint32_t>(peer);
  key.round = static_cast<uint32_t>(round);
  key.tensor = tensor;
  return key;
}

int64_t AdpsgdCore::last_step() const {
  if (options_.replay != nullptr) {
    // The log's last record is the finishing phase, one past the last step.
    return options_.replay->empty() ? 0 : options_.replay->rbegin()->first - 1;
  }
  return options_.run.rounds;
}

template <typename Fn>
Status AdpsgdCore::DecodeApply(const ByteBuffer& bytes, const RngKey& key, Fn&& fn) {
  DecodedChunksFn<std::decay_t<Fn>> sink(fn);
  return codec_->DecodeChunks(bytes, key, x_.size(), &scratch_, sink);
}

void AdpsgdCore::OnMessage(double now, Message msg) {
  const int from = msg.from;
  if (msg.kind == MessageKind::kJoinState) {
    if (phase_ != Phase::kJoining ||
        !std::binary_search(neighbors_.begin(), neighbors_.end(), from)) {
      return;  // late, or not asked for: ignored
    }
    StateReader r(msg.payload);
    std::pair<int64_t, std::vector<float>> js{0, std::vector<float>(x_.size())};
    Status s = r.I64(&js.first, "steps");
    if (s.ok()) s = r.Floats(&js.second, "model");
    if (s.ok() && js.first < 0) s = Corruption("steps " + std::to_string(js.first));
    if (!s.ok()) {
      SetFailed(from, "sent a bad JOIN_STATE: " + s.message());
      return;
    }
    join_states_[from] = std::move(js);
    return;
  }
  if (phase_ == Phase::kJoining && msg.kind == MessageKind::kJoin) {
    // Joining at the same time: neither holds anything of the other; both go on without the edge
    // (waiting for each other's answer would deadlock).
    SetFailed(from, "is joining at the same time as this peer");
    return;
  }
  if (phase_ == Phase::kJoining && msg.kind == MessageKind::kAvgReply) {
    return;  // a reply to this peer's predecessor (a restart): its average is gone
  }
  if (msg.kind != MessageKind::kAvgRequest && msg.kind != MessageKind::kAvgReply &&
      msg.kind != MessageKind::kJoin) {
    HEARSAY_LOG_WARN("peer {}: adpsgd drops a message of kind {} from peer {}", options_.id,
                     static_cast<int>(msg.kind), from);
    return;
  }
  if (!std::binary_search(neighbors_.begin(), neighbors_.end(), from)) {
    HEARSAY_LOG_WARN("peer {}: adpsgd drops a message from peer {}, not a neighbour", options_.id,
                     from);
    return;
  }
  // An honest neighbour has at most one request in flight, plus its reply to ours.
  if (inbox_.size() > 2 * neighbors_.size() + 2) {
    SetFailed(from, "protocol violation: more averaging messages than neighbours can have sent");
    return;
  }
  inbox_.push_back(std::move(msg));
  (void)now;
}

Status AdpsgdCore::SendRequest(int64_t t, CoreSink& sink) {
  int j = -1;
  if (options_.replay != nullptr) {
    // The recorded run's partner of step t: the one whose reply (or given-up average) the log
    // holds; none if that step sent no request (no live neighbour).
    const auto it = replay_partner_.find(t);
    if (it == replay_partner_.end()) return Status::Ok();
    j = it->second;
  } else {
    // Drawn among the live neighbours that have not finished (a counter-based draw; with every
    // neighbour live, the same partner as a draw among all of them).
    live_.clear();
    for (int n : neighbors_) {
      if (alive(n) && done_round(n) < 0) live_.push_back(n);
    }
    if (live_.empty()) return Status::Ok();  // no average this step
    const uint32_t draw = WordAt(RngKey{options_.run.seed, static_cast<uint32_t>(options_.id),
                                        static_cast<uint32_t>(t), kStreamPartner, 0},
                                 0);
    j = live_[draw % live_.size()];
  }
  Message m;
  m.kind = MessageKind::kAvgRequest;
  m.from = options_.id;
  m.to = j;
  m.round = t;
  HEARSAY_RETURN_IF_ERROR(codec_->Encode(x_, Key(options_.id, t, 1), &m.payload));
  payload_sent_ += m.payload.size();
  partner_ = j;
  partner_round_ = t;
  return SendTo(sink, std::move(m));
}

Status AdpsgdCore::Serve(const Message& m, CoreSink& sink) {
  const int j = m.from;
  Status got =
      DecodeApply(m.payload, Key(j, m.round, 1), [this](size_t lo, std::span<const float> v) {
        for (size_t k = 0; k < v.size(); ++k) delta_[lo + k] = (x_[lo + k] - v[k]) * 0.5f;
      });
  if (!got.ok()) {
    SetFailed(j, "sent an undecodable average request: " + got.message());
    return Status::Ok();
  }
  Message reply;
  reply.kind = MessageKind::kAvgReply;
  reply.from = options_.id;
  reply.to = j;
  reply.round = m.round;
  const RngKey key = Key(options_.id, m.round, 2 + static_cast<uint32_t>(j));
  HEARSAY_RETURN_IF_ERROR(codec_->Encode(delta_, key, &reply.payload));
  // Apply the decoded bytes, exactly what the requester will add (invariant 2).
  HEARSAY_RETURN_IF_ERROR(
      DecodeApply(reply.payload, key, [this](size_t lo, std::span<const float> v) {
        for (size_t k = 0; k < v.size(); ++k) x_[lo + k] -= v[k];
      }));
  payload_sent_ += reply.payload.size();
  applied_.push_back(MessageId{j, m.round, MessageKind::kAvgRequest});
  staleness_.emplace_back(j, std::abs(round_ - m.round));
  return SendTo(sink, std::move(reply));
}

// A neighbour (re)joins: it gets this peer's model and step count at once, and is a partner
// again. An average in flight with it was with its predecessor, which is gone: given up.
Status AdpsgdCore::ServeJoin(const Message& m, CoreSink& sink) {
  const int j = m.from;
  if (partner_ == j) {
    applied_.push_back(MessageId{partner_, partner_round_, MessageKind::kDone});
    partner_ = -1;
    partner_round_ = -1;
  }
  std::erase_if(given_up_, [&](const std::pair<int, int64_t>& g) { return g.first == j; });
  Readmit(now_, j, "rejoining");
  Message reply;
  reply.kind = MessageKind::kJoinState;
  reply.from = options_.id;
  reply.to = j;
  reply.round = last_round_;
  StateWriter w(&reply.payload);
  w.I64(last_round_);
  w.Floats(x_);
  HEARSAY_LOG_WARN("peer {}: peer {} is joining; sent it this peer's model (step {})", options_.id,
                   j, last_round_);
  return SendTo(sink, std::move(reply));
}

CoreStep AdpsgdCore::JoinStep(double now, CoreSink& sink) {
  const int id = options_.id;
  if (!joins_sent_) {
    joins_sent_ = true;
    join_began_ = now;
    if (Status s = SendJoins(sink); !s.ok()) return Fail(now, sink, std::move(s));
  }
  // Every live neighbour that has not finished answers (a dead one is silent for dead_after).
  if (auto wait = AwaitJoinStates(now, sink, join_began_ + options_.run.round_timeout_s,
                                  [&](int j) { return join_states_.count(j) > 0; })) {
    return *wait;
  }
  if (join_states_.empty()) {
    return Fail(now, sink,
                Unavailable("peer " + std::to_string(id) +
                            ": no live neighbour answered its JOIN; nothing to join"));
  }
  // The neighbour furthest along; ties: the lowest id (map order).
  auto best = join_states_.begin();
  for (auto it = join_states_.begin(); it != join_states_.end(); ++it) {
    if (it->second.first > best->second.first) best = it;
  }
  x_ = std::move(best->second.second);
  last_round_ = best->second.first;
  round_ = last_round_ + 1;
  joined_at_ = round_;
  HEARSAY_LOG_WARN("peer {}: joined at step {} with peer {}'s model", id, round_, best->first);
  // A neighbour that did not answer holds nothing of this peer: it is not a partner until it
  // (re)joins itself.
  for (int j : neighbors_) {
    if (!join_states_.count(j)) SetFailed(j, "did not answer this peer's JOIN");
  }
  join_states_.clear();
  phase_ = Phase::kStart;
  return Step(now, sink);
}

Status AdpsgdCore::ApplyReply(const Message& m) {
  const int j = m.from;
  // A reply to an average this peer gave up (its partner was silent -- paused, partitioned --
  // not dead): the partner applied its half, so applying this half now keeps the sum of the
  // models conserved; the average is just late.
  const bool late = given_up_.count({j, m.round}) > 0;
  if (!late && m.round < joined_at_) return Status::Ok();  // to this peer's predecessor
  if (!late && (j != partner_ || m.round != partner_round_)) {
    SetFailed(j, "protocol violation: a reply to no request of this peer (round " +
                     std::to_string(m.round) + ")");
    return Status::Ok();
  }
  const RngKey key = Key(j, m.round, 2 + static_cast<uint32_t>(options_.id));
  Status got = DecodeApply(m.payload, key, [this](size_t lo, std::span<const float> v) {
    for (size_t k = 0; k < v.size(); ++k) x_[lo + k] += v[k];
  });
  if (!got.ok()) {
    SetFailed(j, "sent an undecodable average reply: " + got.message());
    return Status::Ok();
  }
  applied_.push_back(MessageId{j, m.round, MessageKind::kAvgReply});
  staleness_.emplace_back(j, std::max<int64_t>(0, round_ - m.round));
  if (late) {
    given_up_.erase({j, m.round});
    HEARSAY_LOG_WARN("peer {}: applied peer {}'s late reply to the average of step {}", options_.id,
                     j, m.round);
    return Status::Ok();
  }
  partner_ = -1;
  partner_round_ = -1;
  return Status::Ok();
}

Status AdpsgdCore::ProcessInbox(double now, CoreSink& sink, int64_t record_round, bool* waiting) {
  *waiting = false;
  auto process = [&](const Message& m) {
    if (m.kind == MessageKind::kJoin) return ServeJoin(m, sink);
    return m.kind == MessageKind::kAvgRequest ? Serve(m, sink) : ApplyReply(m);
  };
  if (options_.replay != nullptr) {
    const auto rec = options_.replay->find(record_round);
    if (rec == options_.replay->end()) {
      return NotFound("replay log of peer " + std::to_string(options_.id) +
                      " has no record of round " + std::to_string(record_round));
    }
    // applied_ holds this record's events done so far: continue after them.
    while (applied_.size() < rec->second.size()) {
      const MessageId& want = rec->second[applied_.size()];
      if (want.kind == MessageKind::kDone) {  // an average given up in the recorded run
        if (partner_ >= 0) given_up_.insert({partner_, partner_round_});
        partner_ = -1;
        partner_round_ = -1;
        applied_.push_back(want);
        continue;
      }
      auto it = std::find_if(inbox_.begin(), inbox_.end(), [&](const Message& m) {
        return m.from == want.from && m.round == want.round && m.kind == want.kind;
      });
      if (it == inbox_.end()) {
        *waiting = true;
        return Status::Ok();
      }
      const Message m = std::move(*it);
      inbox_.erase(it);
      const size_t before = applied_.size();
      HEARSAY_RETURN_IF_ERROR(process(m));
      if (applied_.size() == before) {
        return Internal("replay of peer " + std::to_string(options_.id) + ": peer " +
                        std::to_string(want.from) + "'s message did not replay as recorded");
      }
    }
    return Status::Ok();
  }
  while (!inbox_.empty()) {
    const Message m = std::move(inbox_.front());
    inbox_.pop_front();
    HEARSAY_RETURN_IF_ERROR(process(m));
  }
  // A partner that finished before answering never saw the request (links are FIFO, and its
  // reply would have come before its DONE); one that failed may or may not have applied it.
  if (partner_ >= 0 && (done_round(partner_) >= 0 || !failed(partner_).empty())) {
    // Logged at the 1st, 10th, 100th, ... give-up per partner: a dead partner is drawn again
    // and again.
    const uint64_t n = ++gave_up_[partner_];
    if (!failed(partner_).empty() && ((n & (n - 1)) == 0 || n % 1000 == 0)) {
      HEARSAY_LOG_WARN(
          "peer {}: gave up the average with peer {}, which failed: {} ({} averages "
          "with it given up so far)",
          options_.id, partner_, failed(partner_), n);
    }
    applied_.push_back(MessageId{partner_, partner_round_, MessageKind::kDone});
    // A partner that finished never saw the request; one that failed for good never answers;
    // one that was only silent may still answer (ApplyReply takes that late reply).
    if (done_round(partner_) < 0) given_up_.insert({partner_, partner_round_});
    partner_ = -1;
    partner_round_ = -1;
  }
  (void)now;
  return Status::Ok();
}

void AdpsgdCore::Compute() { ComputeLocalWork(x_read_, job_round_); }

Status AdpsgdCore::Service(double now, CoreSink& sink) {
  if (options_.replay != nullptr || finished() || phase_ == Phase::kJoining) return Status::Ok();
  bool waiting = false;
  return ProcessInbox(now, sink, round_, &waiting);
}

CoreStep AdpsgdCore::Step(double now, CoreSink& sink) {
  const RunConfig& run = options_.run;
  const int id = options_.id;
  while (true) {
    switch (phase_) {
      case Phase::kJoining:
        return JoinStep(now, sink);
      case Phase::kStart:
        phase_ = Phase::kComputing;
        x_read_ = x_;
        return StartJob(now, round_, false);
      case Phase::kComputing: {
        bool waiting = false;
        if (Status s = ProcessInbox(now, sink, round_, &waiting); !s.ok()) {
          return Fail(now, sink, std::move(s));
        }
        if (waiting) return Wait(now, kNoWake);  // replay: a recorded event is not here yet
        if (partner_ >= 0 && options_.replay == nullptr && run.adpsgd_wait_reply) {
          // adpsgd_wait: reply -- one average per step: the step's gradient waits for the reply
          // to the previous step's request (the two overlapped; requests are served meanwhile).
          // Otherwise the step goes on; the reply is applied whenever it comes, and the next
          // request goes out at the first step end after it.
          if (reply_wait_began_ < 0) reply_wait_began_ = now;
          const double deadline = reply_wait_began_ + run.round_timeout_s;
          if (now >= deadline) {
            return Fail(now, sink,
                        DeadlineExceeded("peer " + std::to_string(id) + ": waited " +
                                         std::to_string(run.round_timeout_s) + " s in step " +
                                         std::to_string(round_) + " for peer " +
                                         std::to_string(partner_) + "'s reply"));
          }
          return Wait(now, deadline);
        }
        reply_wait_began_ = -1;
        if (Status s = CheckLoss(round_); !s.ok()) return Fail(now, sink, std::move(s));
        const float lr = work_lr(round_);
        for (size_t k = 0; k < x_.size(); ++k) x_[k] -= lr * grad_[k];
        RoundRecord rec = MakeRecord(now, round_, grad_loss_);
        for (const auto& [j, s] : staleness_) {
          max_staleness_ = std::max(max_staleness_, s);
          staleness_sum_ += static_cast<double>(s);
          ++staleness_count_;
        }
        rec.staleness = staleness_;
        rec.max_staleness = max_staleness_;
        rec.mean_staleness = staleness_count_ ? staleness_sum_ / staleness_count_ : 0.0;
        Status s = options_.replay ? Status::Ok() : sink.OnApplied(round_, applied_);
        if (s.ok()) s = sink.OnRound(rec);
        const bool last = round_ >= last_step() || bounded_by_duration(now);
        if (s.ok()) s = MaybeSnapshotRound(now, sink, round_, last);
        last_round_ = round_;
        applied_.clear();
        staleness_.clear();
        if (s.ok() && partner_ < 0) s = SendRequest(round_, sink);
        if (!s.ok()) return Fail(now, sink, std::move(s));
        if (last) {
          phase_ = Phase::kFinishing;
          finishing_since_ = now;
          continue;
        }
        ++round_;
        x_read_ = x_;
        return StartJob(now, round_, false);
      }
      case Phase::kFinishing: {
        bool waiting = false;
        if (Status s = ProcessInbox(now, sink, last_round_ + 1, &waiting); !s.ok()) {
          return Fail(now, sink, std::move(s));
        }
        if (options_.replay == nullptr && partner_ >= 0) {
          const double deadline = finishing_since_ + run.round_timeout_s;
          if (now >= deadline) {
            return Fail(
                now, sink,
                DeadlineExceeded("peer " + std::to_string(id) + ": waited " +
                                 std::to_string(run.round_timeout_s) + " s for peer " +
                                 std::to_string(partner_) + "'s reply to its last average"));
          }
          return Wait(now, deadline);
        }
        if (waiting) return Wait(now, kNoWake);
        if (!options_.replay) {
          if (Status s = sink.OnApplied(last_round_ + 1, applied_); !s.ok()) {
            return Fail(now, sink, std::move(s));
          }
        }
        return Finish(now, sink);
      }
    }
  }
}

}  // namespace hearsay
