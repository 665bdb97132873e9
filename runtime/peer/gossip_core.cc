#include "runtime/peer/gossip_core.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "common/logging.h"

namespace hearsay {
namespace {

std::string JoinIds(const std::vector<int>& ids) {
  std::string s;
  for (int id : ids) s += (s.empty() ? "" : ", ") + std::to_string(id);
  return s;
}

std::string FormatSeconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.3g", s);
  return buf;
}

}  // namespace

Status GossipCore::SetupProtocol(std::span<const float> x0) {
  const RunConfig& run = options_.run;
  const int id = options_.id;
  AlgorithmConfig ac;
  ac.name = AlgorithmName(run.algorithm);
  ac.consensus_step = run.consensus_step;
  ac.seed = run.seed;
  ac.allow_biased = run.allow_biased;
  const Topology& topo = *options_.topology->graph;
  // Static graphs on the CPU run the asynchronous protocol machinery always, sync mode being
  // staleness 0 (bit-identical to the classic synchronous loop): that is what lets a peer drop a
  // dead neighbour, re-admit it and catch up on its late messages. Time-varying graphs (D-PSGD
  // only) and device trainers keep the classic synchronous protocol.
  static_path_ = !topo.time_varying() && run.device.kind == DeviceKind::kCpu;
  tau_ = async() ? run.staleness : 0;
  ac.async = static_path_;
  HEARSAY_ASSIGN_OR_RETURN(
      std::unique_ptr<Compressor> codec,
      MakeCompressor(run.algorithm == AlgorithmKind::kDpsgd ? "identity" : run.compressor));
  const Topology& graph = *options_.topology->graph;
  if (run.device.kind == DeviceKind::kCpu) {
    HEARSAY_ASSIGN_OR_RETURN(algorithm_,
                             MakeAlgorithm(ac, options_.topology->graph, id, x0, std::move(codec)));
    algo_ = algorithm_.get();
  } else {
    if (async()) {
      return Unimplemented("mode: async runs on the CPU algorithms; device '" +
                           run.device.ToString() + "' supports mode: sync only");
    }
    DeviceTrainerArgs args;
    args.device = run.device.ToString();
    args.algorithm = ac;
    args.topology = options_.topology->graph;
    args.self = id;
    args.x0 = x0;
    args.compressor = std::move(codec);
    args.model = run.model;
    if (!workload_) return Unimplemented("an external model runs on the CPU (device: cpu)");
    args.num_features = workload_->train.num_features;
    args.num_classes = workload_->train.num_classes;
    HEARSAY_ASSIGN_OR_RETURN(trainer_, MakeDeviceTrainer(std::move(args)));
    algo_ = &trainer_->algorithm();
  }
  if (!graph.time_varying()) {
    const size_t deg = graph.Row(id, 1).size();
    last_received_.assign(deg, 0);
    last_absorbed_.assign(deg, 0);
    was_dead_.assign(deg, 0);
    dropped_.assign(deg, 0);
  }
  if (options_.replay != nullptr && !async()) {
    return InvalidArgument(
        "replay needs an asynchronous run (a synchronous run is reproduced "
        "by running it again)");
  }
  if (options_.rejoin) {
    if (!static_path_) {
      return Unimplemented("rejoin needs a static graph and device: cpu");
    }
    phase_ = Phase::kJoining;
  }
  return Status::Ok();
}

std::span<const float> GossipCore::params() const {
  if (!algo_) return {};
  return std::as_const(*algo_).params();
}

int GossipCore::RowPos(int peer) const {
  const std::vector<Neighbor>& row = options_.topology->graph->Row(options_.id, 1);
  const auto it = std::lower_bound(row.begin(), row.end(), peer,
                                   [](const Neighbor& nb, int id) { return nb.id < id; });
  if (it == row.end() || it->id != peer) return -1;
  return static_cast<int>(it - row.begin());
}

bool GossipCore::last_round_reached() const {
  if (options_.replay != nullptr) {
    return options_.replay->empty() || round_ >= options_.replay->rbegin()->first;
  }
  return round_ >= options_.run.rounds;
}

void GossipCore::OnMessage(double now, Message msg) {
  const int from = msg.from;
  if (msg.kind == MessageKind::kJoin || msg.kind == MessageKind::kJoinState ||
      msg.kind == MessageKind::kSetCopy || msg.kind == MessageKind::kCopyHash) {
    OnRejoinMessage(now, std::move(msg));
    return;
  }
  if (msg.kind != MessageKind::kGossip) {
    HEARSAY_LOG_WARN("peer {}: dropping a message of unknown kind {} from peer {}", options_.id,
                     static_cast<int>(msg.kind), from);
    return;
  }
  if (static_path_) {
    const int pos = RowPos(from);
    if (pos < 0) {
      HEARSAY_LOG_WARN("peer {}: dropping a round-{} message from peer {}: not an in-neighbour",
                       options_.id, msg.round, from);
      return;
    }
    if (msg.round != last_received_[pos] + 1) {
      // Logged at the 1st, 10th, 100th, ... drop per neighbour: a neighbour that goes on sending
      // to a peer that no longer takes its messages (a rejoin that did not include it) would
      // otherwise write a line per round.
      const uint64_t n = ++dropped_[pos];
      if ((n & (n - 1)) == 0 || n % 1000 == 0) {
        HEARSAY_LOG_WARN(
            "peer {}: dropping a round-{} message from peer {}: expected its round {} ({} "
            "dropped from it so far)",
            options_.id, msg.round, from, last_received_[pos] + 1, n);
      }
      return;
    }
    // A neighbour that waits for this peer never runs more than staleness + 1 rounds ahead of
    // it. One that is further ahead went on without this peer: it was dead for this peer (a
    // partition, a pause), or this peer was dead for it (it was slow to start, a one-way cut).
    // Either way it trained meanwhile, and its messages are caught up on as they come, in
    // order (was_dead_), so its copy stays exact. With bounded staleness a neighbour further
    // ahead than kMaxRoundsAhead is a protocol violation: buffering more would let one neighbour
    // grow this peer's memory without bound (unbounded staleness accepts that by design).
    const int64_t tau = tau_;
    if (tau != kUnboundedStaleness && msg.round > round_ + kMaxRoundsAhead) {
      SetFailed(from, "protocol violation: sent round " + std::to_string(msg.round) +
                          " while this peer is in round " + std::to_string(round_) +
                          " (more than " + std::to_string(kMaxRoundsAhead) + " rounds ahead)");
      return;
    }
    if (tau != kUnboundedStaleness && !was_dead_[pos] && msg.round > round_ + tau + 1) {
      // A replay runs every peer as fast as its log allows, so this is no news there (and the
      // recorded run said it already, where it happened).
      if (options_.replay == nullptr) {
        HEARSAY_LOG_WARN(
            "peer {}: peer {} is in round {}, this peer in round {}: it went on without this "
            "peer; catching up on its messages",
            options_.id, from, msg.round, round_);
      }
      was_dead_[pos] = 1;
    }
    last_received_[pos] = msg.round;
  } else {
    if (msg.round <= last_round_) {
      HEARSAY_LOG_WARN("peer {}: dropping a stale round-{} message from peer {} (now in round {})",
                       options_.id, msg.round, from, round_);
      return;
    }
    // In a synchronous run a neighbour is at most one round ahead on a static graph; on a
    // time-varying one it can get further ahead while this peer is not on its dependency path,
    // but not by more than the schedule lets information travel around (n periods).
    const Topology& graph = *options_.topology->graph;
    const int64_t ahead = graph.time_varying() ? 1 + graph.period() * graph.size() : 1;
    if (msg.round > round_ + ahead) {
      SetFailed(from, "protocol violation: sent round " + std::to_string(msg.round) +
                          " while this peer is in round " + std::to_string(round_));
      return;
    }
    const std::vector<int>& expected =
        options_.topology->graph->InNeighbors(options_.id, msg.round);
    if (!std::binary_search(expected.begin(), expected.end(), from)) {
      HEARSAY_LOG_WARN(
          "peer {}: dropping a round-{} message from peer {}: not an in-neighbour "
          "in that round",
          options_.id, msg.round, from);
      return;
    }
  }
  auto [it, fresh] = pending_.try_emplace({msg.round, from}, Pending{std::move(msg.payload), {}});
  if (!fresh) {
    HEARSAY_LOG_WARN("peer {}: dropping a duplicate round-{} message from peer {}", options_.id,
                     msg.round, from);
  }
  (void)now;
}

CoreStep GossipCore::Run(double now, Job job, int64_t job_round, Phase after, bool overlapped) {
  job_ = job;
  after_ = after;
  job_status_ = Status::Ok();
  phase_ = Phase::kComputing;
  return StartJob(now, job_round, overlapped);
}

void GossipCore::Compute() {
  if (phase_ != Phase::kComputing) return;
  if (job_ == Job::kGradient) {
    ComputeLocalWork(algo_->params(), job_round_);
    return;
  }
  out_.clear();
  const Batch batch = sampler_->Next(job_round_);
  Result<double> r =
      trainer_->Begin(job_round_, batch, static_cast<float>(options_.run.lr.At(job_round_)), &out_);
  job_status_ = r.status();
  if (r.ok()) {
    grad_loss_ = *r;
    grad_round_ = job_round_;
  }
}

Status GossipCore::JobDone(double now) {
  HEARSAY_RETURN_IF_ERROR(job_status_.WithPrefix("peer " + std::to_string(options_.id) + " round " +
                                                 std::to_string(job_round_)));
  HEARSAY_RETURN_IF_ERROR(CheckLoss(job_round_));
  if (job_ == Job::kGradient && after_ == Phase::kWait && algo_->late_gradient()) {
    HEARSAY_RETURN_IF_ERROR(algo_->SetGradient(round_, grad_));
    round_loss_ = grad_loss_;
  }
  phase_ = after_;
  (void)now;
  return Status::Ok();
}

Status GossipCore::BeginRound(double now, CoreSink& sink) {
  const float lr = work_lr(round_);
  if (trainer_) {
    // The device job ran the gradient and Begin in Compute(); out_ holds the payload.
    round_loss_ = grad_loss_;
  } else if (algo_->late_gradient()) {
    round_loss_ = std::numeric_limits<double>::quiet_NaN();  // set when the gradient is in
    HEARSAY_RETURN_IF_ERROR(algo_->Begin(round_, {}, lr, &out_));
  } else {
    if (grad_round_ != round_) {
      return Internal("peer " + std::to_string(options_.id) + ": round " + std::to_string(round_) +
                      " began with the gradient of round " + std::to_string(grad_round_));
    }
    round_loss_ = grad_loss_;
    HEARSAY_RETURN_IF_ERROR(algo_->Begin(round_, grad_, lr, &out_));
  }
  const std::vector<int>& outs = options_.topology->graph->OutNeighbors(options_.id, round_);
  // Where the network writes one buffer on every link (TCP), the payload itself goes to every
  // out-neighbour and stays this peer's own pending payload, read-only, with no copy; elsewhere
  // each message gets a copy of its own, from the spare buffers the received payloads leave. The
  // spares kept are twice what a round takes (the copies and the next out_); the others go back
  // to the network's pool (KeepSpare), which reads the next payloads into them.
  const bool shared = sink.SharesPayloads();
  spare_limit_ = 2 * (shared ? 0 : outs.size()) + 2;
  Pending own;
  if (shared) {
    own.shared = sink.SharePayload(std::move(out_));
  } else {
    own.owned = std::move(out_);
  }
  for (int j : outs) {
    Message m;
    m.kind = MessageKind::kGossip;
    m.from = options_.id;
    m.to = j;
    m.round = round_;
    if (shared) {
      m.shared_payload = own.shared;
    } else {
      m.payload = TakeSpare();
      m.payload.assign(own.owned.begin(), own.owned.end());
    }
    payload_sent_ += own.bytes().size();
    HEARSAY_RETURN_IF_ERROR(SendTo(sink, std::move(m)));
  }
  pending_[{round_, options_.id}] = std::move(own);
  out_ = TakeSpare();
  round_wait_began_ = now;
  return Status::Ok();
}

void GossipCore::OnNeighborDown(double now, int peer) {
  if (!static_path_) return;  // the classic sync protocol fails the run instead
  const int pos = RowPos(peer);
  if (pos < 0) return;  // not an in-neighbour (an out-only link)
  was_dead_[pos] = 1;
  liveness_changes_.emplace_back(peer, false);
}

void GossipCore::OnNeighborUp(double now, int peer) {
  if (!static_path_) return;
  const int pos = RowPos(peer);
  if (pos < 0) return;
  liveness_changes_.emplace_back(peer, true);
}

bool GossipCore::ReadyToEnd(std::vector<int>* missing_out, bool* neighbour_gone) const {
  const int id = options_.id;
  *neighbour_gone = false;
  std::vector<int>& missing = *missing_out;
  missing.clear();
  if (options_.replay != nullptr) {
    const auto it = options_.replay->find(round_);
    if (it == options_.replay->end()) return true;  // EndRound reports the gap
    for (const MessageId& m : it->second) {
      // Liveness entries (a neighbour dropped from or re-admitted to the mix) are applied by
      // EndRound; no message carries them.
      if (m.kind == MessageKind::kFailed || m.kind == MessageKind::kHeartbeat) continue;
      if (!pending_.count({m.round, m.from}) &&
          std::find(missing.begin(), missing.end(), m.from) == missing.end()) {
        missing.push_back(m.from);
      }
    }
  } else if (!static_path_) {
    for (int j : options_.topology->graph->InNeighbors(id, round_)) {
      if (j == id || pending_.count({round_, j})) continue;
      missing.push_back(j);
      if (!failed(j).empty() || (done_round(j) >= 0 && done_round(j) < round_)) {
        *neighbour_gone = true;
      }
    }
  } else {
    const int64_t tau = tau_;
    const std::vector<Neighbor>& row = options_.topology->graph->Row(id, 1);
    int live = 0;
    for (size_t p = 0; p < row.size(); ++p) {
      const int j = row[p].id;
      if (j == id || !alive(j)) continue;  // a dead neighbour is not waited for
      ++live;
      if (done_round(j) >= 0) continue;  // finished: its last state stays in the mix
      if (tau == kUnboundedStaleness) continue;
      if (last_received_[p] < round_ - tau) missing.push_back(j);
    }
    // Quorum: with fewer live neighbours than min_neighbors, wait (bounded by round_timeout)
    // rather than train alone.
    if (live < options_.run.min_neighbors && missing.empty()) {
      for (size_t p = 0; p < row.size(); ++p) {
        if (row[p].id != id && !alive(row[p].id)) missing.push_back(row[p].id);
      }
    }
  }
  return missing.empty();
}

ByteBuffer GossipCore::TakeSpare() {
  if (spare_.empty()) return ByteBuffer();
  ByteBuffer b = std::move(spare_.back());
  spare_.pop_back();
  b.clear();  // keeps the capacity
  return b;
}

void GossipCore::KeepSpare(Pending&& payload, CoreSink& sink) {
  ByteBuffer buffer = std::move(payload.owned);
  if (payload.shared || buffer.capacity() == 0) return;
  if (spare_.size() < spare_limit_) {
    spare_.push_back(std::move(buffer));
  } else {
    sink.Recycle(std::move(buffer));
  }
}

Status GossipCore::EndRound(double now, CoreSink& sink) {
  const int id = options_.id;
  const RunConfig& run = options_.run;
  applied_.clear();
  // Absorbs and erases *it; *it is then the next entry.
  auto absorb = [&](decltype(pending_)::iterator& it) -> Status {
    const int64_t r = it->first.first;
    const int from = it->first.second;
    // A received payload's buffer may stay with the algorithm (async D-PSGD keeps it as the
    // neighbour's model); KeepSpare then takes the buffer it let go of.
    Pending& p = it->second;
    Status s =
        p.shared ? algo_->Absorb(r, from, p.bytes()) : algo_->AbsorbBuffer(r, from, &p.owned);
    if (!s.ok()) {
      return s.WithPrefix("peer " + std::to_string(id) + " round " + std::to_string(round_) +
                          ": message from peer " + std::to_string(from));
    }
    if (!last_absorbed_.empty()) {
      const int pos = RowPos(from);
      if (pos >= 0) last_absorbed_[pos] = r;
    }
    applied_.push_back(MessageId{from, r});
    KeepSpare(std::move(it->second), sink);
    it = pending_.erase(it);
    return Status::Ok();
  };
  if (options_.replay != nullptr) {
    const auto rec = options_.replay->find(round_);
    if (rec == options_.replay->end()) {
      return NotFound("replay log of peer " + std::to_string(id) + " has no record of round " +
                      std::to_string(round_));
    }
    for (const MessageId& m : rec->second) {
      if (m.kind == MessageKind::kFailed || m.kind == MessageKind::kHeartbeat) {
        HEARSAY_RETURN_IF_ERROR(algo_->SetNeighborLive(m.from, m.kind == MessageKind::kHeartbeat));
        applied_.push_back(m);
        continue;
      }
      auto it = pending_.find({m.round, m.from});
      if (it == pending_.end()) {
        return Internal("replay of peer " + std::to_string(id) + " round " +
                        std::to_string(round_) + ": message of peer " + std::to_string(m.from) +
                        " round " + std::to_string(m.round) + " is not here");
      }
      HEARSAY_RETURN_IF_ERROR(absorb(it));
    }
  } else {
    int64_t limit = round_;
    if (static_path_) {
      limit = tau_ == kUnboundedStaleness ? std::numeric_limits<int64_t>::max() : round_ + tau_;
    }
    // In (round, sender) order; a neighbour that came back after a death is caught up on all
    // its messages, whatever their round (its copy must take every update, in order).
    for (auto it = pending_.begin(); it != pending_.end();) {
      const int pos = static_path_ ? RowPos(it->first.second) : -1;
      const bool catch_up = pos >= 0 && was_dead_[pos];
      if (it->first.first > limit && !catch_up) {
        ++it;
        continue;
      }
      HEARSAY_RETURN_IF_ERROR(absorb(it));
    }
    // Liveness changes take effect here, at a fixed point of the round (after the absorbs,
    // before End), so that a replay applies them where the recorded run did.
    for (const auto& [j, live] : liveness_changes_) {
      HEARSAY_RETURN_IF_ERROR(algo_->SetNeighborLive(j, live));
      applied_.push_back(
          MessageId{j, round_, live ? MessageKind::kHeartbeat : MessageKind::kFailed});
    }
    liveness_changes_.clear();
  }
  HEARSAY_RETURN_IF_ERROR(algo_->End(round_).WithPrefix("peer " + std::to_string(id)));
  last_round_ = round_;

  RoundRecord rec = MakeRecord(now, round_, round_loss_);
  if (static_path_) {
    const std::vector<Neighbor>& row = options_.topology->graph->Row(id, 1);
    for (size_t p = 0; p < row.size(); ++p) {
      if (row[p].id == id) continue;
      const int64_t s = std::max<int64_t>(0, round_ - last_absorbed_[p]);
      rec.staleness.emplace_back(row[p].id, s);
      max_staleness_ = std::max(max_staleness_, s);
      staleness_sum_ += static_cast<double>(s);
      ++staleness_count_;
    }
    if (options_.replay == nullptr && RecordsReplayLog(run)) {
      HEARSAY_RETURN_IF_ERROR(sink.OnApplied(round_, applied_));
    }
  }
  rec.max_staleness = max_staleness_;
  rec.mean_staleness = staleness_count_ ? staleness_sum_ / staleness_count_ : 0.0;
  HEARSAY_RETURN_IF_ERROR(sink.OnRound(rec));
  return MaybeSnapshotRound(now, sink, round_, last_round_reached());
}

// Checkpoints are taken between rounds of a synchronous run: every message of the rounds up to
// the checkpoint has been absorbed, and the messages of later rounds are sent again by the
// resumed neighbours, so the buffered ones are not part of the state.
Status GossipCore::CheckpointSupport() const {
  if (!algorithm_) {
    return Unimplemented("device '" + options_.run.device.ToString() +
                         "' does not write checkpoints");
  }
  if (async() || options_.replay != nullptr) return Unimplemented("checkpoints need mode: sync");
  return Status::Ok();
}

Status GossipCore::SaveProtocolState(StateWriter& w) const {
  HEARSAY_RETURN_IF_ERROR(CheckpointSupport());
  HEARSAY_RETURN_IF_ERROR(algo_->SaveState(w));
  w.I64(max_staleness_);
  w.F64(staleness_sum_);
  w.I64(staleness_count_);
  return Status::Ok();
}

Status GossipCore::LoadProtocolState(StateReader& r) {
  HEARSAY_RETURN_IF_ERROR(CheckpointSupport());
  HEARSAY_RETURN_IF_ERROR(algo_->LoadState(r));
  HEARSAY_RETURN_IF_ERROR(r.I64(&max_staleness_, "max staleness"));
  HEARSAY_RETURN_IF_ERROR(r.F64(&staleness_sum_, "staleness sum"));
  HEARSAY_RETURN_IF_ERROR(r.I64(&staleness_count_, "staleness count"));
  std::fill(last_received_.begin(), last_received_.end(), last_round_);
  std::fill(last_absorbed_.begin(), last_absorbed_.end(), last_round_);
  // The next step is Begin(round_): its gradient is in hand (computed during the checkpoint's
  // round), or D-PSGD computes it after Begin.
  if (!algo_->late_gradient() && grad_round_ != round_) {
    return Corruption("the gradient in hand is of round " + std::to_string(grad_round_) +
                      ", not of round " + std::to_string(round_));
  }
  phase_ = Phase::kBegin;
  return Status::Ok();
}

CoreStep GossipCore::Step(double now, CoreSink& sink) {
  const int id = options_.id;
  const RunConfig& run = options_.run;
  if (phase_ == Phase::kComputing) {
    if (job_running())
      return Fail(now, sink,
                  Internal("peer " + std::to_string(id) + ": Advance while its job runs"));
    if (Status s = JobDone(now); !s.ok()) return Fail(now, sink, std::move(s));
  }
  if (Status s = SendCopyHashes(sink); !s.ok()) return Fail(now, sink, std::move(s));
  while (true) {
    switch (phase_) {
      case Phase::kJoining:
      case Phase::kJoinVerify:
        return JoinStep(now, sink);
      case Phase::kStart:
        phase_ = Phase::kBegin;
        if (!trainer_ && !algo_->late_gradient()) {
          return Run(now, Job::kGradient, round_, Phase::kBegin, false);
        }
        continue;
      case Phase::kBegin: {
        if (trainer_ && grad_round_ != round_) {
          return Run(now, Job::kDeviceBegin, round_, Phase::kBegin, false);
        }
        if (Status s = BeginRound(now, sink); !s.ok()) return Fail(now, sink, std::move(s));
        phase_ = Phase::kWait;
        if (!trainer_) {
          // Overlap: compute while this round's payloads travel.
          if (algo_->late_gradient()) return Run(now, Job::kGradient, round_, Phase::kWait, true);
          if (!last_round_reached()) {
            return Run(now, Job::kGradient, round_ + 1, Phase::kWait, true);
          }
        }
        continue;
      }
      case Phase::kWait: {
        std::vector<int> missing;
        bool gone = false;
        if (ReadyToEnd(&missing, &gone)) {
          if (Status s = EndRound(now, sink); !s.ok()) return Fail(now, sink, std::move(s));
          if (last_round_reached() || bounded_by_duration(now)) return Finish(now, sink);
          if (Status s = MaybeCheckpoint(sink); !s.ok()) return Fail(now, sink, std::move(s));
          if (Status s = ServeJoins(sink); !s.ok()) return Fail(now, sink, std::move(s));
          ++round_;
          phase_ = Phase::kBegin;
          continue;
        }
        if (bounded_by_duration(now)) {
          // Time is up. An async peer ends its last round with what has arrived (its own
          // payload is always here), so the round it began is recorded and replayable; a sync
          // peer stops where it is.
          if (async()) {
            if (Status s = EndRound(now, sink); !s.ok()) return Fail(now, sink, std::move(s));
          }
          return Finish(now, sink);
        }
        if (gone) {
          for (int j : missing) {
            if (!failed(j).empty()) {
              return Fail(
                  now, sink,
                  Unavailable("peer " + std::to_string(id) + " round " + std::to_string(round_) +
                              ": peer " + std::to_string(j) + " failed: " + failed(j)));
            }
          }
          if (run.duration_s > 0) return Finish(now, sink);  // a neighbour's time ran out
          return Fail(now, sink,
                      FailedPrecondition("peer " + std::to_string(id) + ": round " +
                                         std::to_string(round_) + " needs a message from peer " +
                                         JoinIds(missing) + ", which has already finished"));
        }
        const double deadline = round_wait_began_ + run.round_timeout_s;
        if (now >= deadline) {
          return Fail(
              now, sink,
              DeadlineExceeded("peer " + std::to_string(id) + ": waited " +
                               FormatSeconds(run.round_timeout_s) + " s in round " +
                               std::to_string(round_) + " for peers [" + JoinIds(missing) + "]"));
        }
        return Wait(now, deadline);
      }
      case Phase::kComputing:
        return Fail(now, sink, Internal("peer " + std::to_string(id) + ": unexpected state"));
    }
  }
}

}  // namespace hearsay
