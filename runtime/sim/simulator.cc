#include "runtime/sim/simulator.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <utility>

#include "common/clock.h"
#include "runtime/data/sampler.h"
#include "runtime/emulator/link_model.h"
#include "runtime/peer/run_files.h"
#include "runtime/sim/simulation.h"
#include "runtime/transport/frame.h"

namespace hearsay {
namespace sim_internal {

Status SimSink::Send(Message msg) { return sim_->SendFrom(peer_, std::move(msg)); }

Status SimSink::OnRound(const RoundRecord& r) {
  auto& slot = sim_->peers_[peer_];
  SimResult& res = sim_->result_;
  ++res.peer_rounds;
  sim_->MaybeFireRoundFaults(peer_, r.round);
  if (sim_->evaluator_) sim_->evaluator_->Rejoined(peer_, r.round);
  for (const auto& [j, behind] : r.staleness) {
    res.max_staleness = std::max(res.max_staleness, behind);
    sim_->staleness_sum_ += static_cast<double>(behind);
    ++sim_->staleness_count_;
  }
  if (sim_->o_.observer) sim_->o_.observer->OnRoundEnd(r.wall_s, *slot.core, r);
  if (!slot.files) return Status::Ok();
  return slot.files->WriteRound(r, slot.bytes_sent, slot.bytes_received);
}

Status SimSink::OnSnapshot(const SnapshotKey& key, std::span<const float> x, double now) {
  auto& slot = sim_->peers_[peer_];
  if (key.kind == SnapshotKey::Kind::kFinal) {
    sim_->result_.final_models[peer_].assign(x.begin(), x.end());
    sim_->result_.final_rounds[peer_] = key.index;
    if (slot.files) HEARSAY_RETURN_IF_ERROR(slot.files->WriteSnapshot(key, x));
    return Status::Ok();
  }
  if (sim_->evaluator_) sim_->evaluator_->Add(key, peer_, x, now, slot.bytes_sent);
  return Status::Ok();
}

Status SimSink::OnApplied(int64_t round, std::span<const MessageId> applied) {
  auto& slot = sim_->peers_[peer_];
  if (sim_->o_.observer) sim_->o_.observer->OnApplied(peer_, round, applied);
  return slot.files ? slot.files->WriteApplied(round, applied) : Status::Ok();
}

Status Simulation::SendFrom(int peer, Message msg) {
  msg.from = peer;
  const int n = static_cast<int>(peers_.size());
  if (msg.to < 0 || msg.to >= n || msg.to == peer) {
    return InvalidArgument("peer " + std::to_string(peer) + ": cannot send to peer " +
                           std::to_string(msg.to));
  }
  const uint64_t wire = FrameWireBytes(msg);
  OwnPayload(msg);  // delivered as it is
  peers_[peer].bytes_sent += wire;
  if (o_.observer) o_.observer->OnSend(now_, msg, wire);
  ++result_.messages;
  const int to = msg.to;
  const int64_t round = msg.round;
  const uint64_t slot = Store(std::move(msg));
  Node& node = nodes_[peer];
  if (!node.link) {
    Push(now_, EventClass::kDelivery, to, slot);  // no emulation (or replay): instantaneous
    return Status::Ok();
  }
  node.link->Submit(now_, to, wire, round, slot);
  // The node's next link step is scheduled once the event that sends ends (FlushLinkSteps): a
  // peer sending to 12 neighbours asks its link model once, not 12 times.
  if (!node.dirty) {
    node.dirty = true;
    dirty_.push_back(peer);
  }
  return Status::Ok();
}

void Simulation::ScheduleLinkStep(int node) {
  Node& nd = nodes_[node];
  const double next = nd.link->NextEventTime();
  if (next >= kNever) return;
  if (nd.step_at <= next) return;  // an earlier (or the same) step is queued; it reschedules
  nd.step_at = next;
  Push(std::max(next, now_), EventClass::kLinkStep, node);
}

void Simulation::LinkStep(int node, double now) {
  Node& nd = nodes_[node];
  if (now < nd.step_at) return;  // stale: a later step replaced it... or an earlier one ran
  nd.step_at = kNever;
  for (const Delivery& d : nd.link->AdvanceTo(now)) {
    const uint64_t slot = d.tag;
    double at = d.arrival_s;
    Node& dst = nodes_[d.to];
    if (dst.ingress) {
      const Message& m = in_flight_[slot];
      const LinkParams p = o_.topology->LinkAt(node, d.to, d.arrival_s, m.round);
      double path = p.bandwidth_bps;
      const double egress = o_.topology->nodes.at(node).egress_bps;
      if (egress > 0 && (path <= 0 || egress < path)) path = egress;
      at = dst.ingress->Deliver(d.arrival_s, FrameWireBytes(m), path);
    }
    Push(std::max(at, now), EventClass::kDelivery, d.to, slot);
  }
  ScheduleLinkStep(node);
}

void Simulation::Deliver(int to, uint64_t slot, double now) {
  PeerSlot& p = peers_[to];
  if (p.paused_until > now && p.state != PeerState::kDone) {
    p.held.push_back(slot);  // read when the pause ends, as a stopped process would
    return;
  }
  Message msg = Take(slot);
  p.bytes_received += FrameWireBytes(msg);
  if (o_.observer) o_.observer->OnDeliver(now, msg);
  if (p.state == PeerState::kDone) return;
  p.core->Deliver(now, std::move(msg));
  if (p.core->ServesDuringCompute()) {
    Status s = p.core->Service(now, *p.sink);
    if (!s.ok() && failure_.ok()) failure_ = s;
  }
  if (p.state == PeerState::kWaiting && !p.wake_queued) {
    p.wake_queued = true;
    Push(now, EventClass::kWake, to, ++p.timer_gen);
  }
}

Status Simulation::Wake(int peer, double now) {
  PeerSlot& p = peers_[peer];
  p.wake_queued = false;
  const CoreStep step = p.core->Advance(now, *p.sink);
  switch (step.kind) {
    case CoreStep::Kind::kCompute: {
      p.core->Compute();
      p.state = PeerState::kComputing;
      Push(now + compute_time_s_ * p.slowdown * static_cast<double>(step.work), EventClass::kWake,
           peer, ++p.timer_gen);
      return Status::Ok();
    }
    case CoreStep::Kind::kWait:
      p.state = PeerState::kWaiting;
      ++p.timer_gen;
      if (step.wake_at < kNoWake) ArmTimer(peer, std::max(step.wake_at, now));
      return Status::Ok();
    case CoreStep::Kind::kFinished:
      p.state = PeerState::kDone;
      --live_;
      result_.virtual_seconds = std::max(result_.virtual_seconds, now);
      return Status::Ok();
    case CoreStep::Kind::kFailed:
      p.state = PeerState::kDone;
      --live_;
      result_.virtual_seconds = std::max(result_.virtual_seconds, now);
      return step.status;
  }
  return Status::Ok();
}

void Simulation::ArmTimer(int peer, double at) {
  PeerSlot& p = peers_[peer];
  p.timer_at = at;
  p.timer_for = p.timer_gen;
  std::vector<double>& queued = p.timers_queued;
  if (queued.empty() || at < queued.front()) {
    queued.insert(queued.begin(), at);
    Push(at, EventClass::kWake, peer, kTimerRef);
  }
}

bool Simulation::TimerDue(int peer, double now) {
  PeerSlot& p = peers_[peer];
  // Events pop in time order, so this one is the earliest of the peer's queued timer events.
  p.timers_queued.erase(p.timers_queued.begin());
  if (p.state != PeerState::kWaiting || p.timer_for != p.timer_gen) return false;  // stale
  if (p.timer_at <= now) return true;
  ArmTimer(peer, p.timer_at);  // early: the wait's timer is later (its wait came after this one)
  return false;
}

Result<SimResult> Simulation::Run() {
  const TimePoint real_start = Now();
  const int n = o_.topology->size();
  if (n > kMaxPeers) {
    return InvalidArgument("the simulator runs at most " + std::to_string(kMaxPeers) +
                           " peers, not " + std::to_string(n));
  }
  if (o_.run.device.kind != DeviceKind::kCpu) {
    return InvalidArgument("run '" + o_.run.name + "': device " + o_.run.device.ToString() +
                           ": the simulator runs every peer on the CPU (device: cpu)");
  }
  workload_ = o_.workload;
  if (!workload_) {
    HEARSAY_ASSIGN_OR_RETURN(Workload w, BuildWorkload(o_.run, n));
    workload_ = std::make_shared<Workload>(std::move(w));
  }
  compute_time_s_ = o_.compute_time_s > 0       ? o_.compute_time_s
                    : o_.run.compute_time_s > 0 ? o_.run.compute_time_s
                                                : MeasureComputeTime(o_.run, *workload_);
  if (o_.replay && static_cast<int>(o_.replay->size()) != n) {
    return InvalidArgument("replay needs one log per peer: got " +
                           std::to_string(o_.replay->size()) + " for " + std::to_string(n) +
                           " peers");
  }
  result_.compute_time_s = compute_time_s_;
  result_.final_models.resize(n);
  result_.final_rounds.assign(n, 0);
  if (o_.keep_snapshots) evaluator_ = std::make_unique<SimEvaluator>(*workload_, n);
  peers_.resize(n);
  nodes_.resize(n);
  const bool emulate = o_.run.emulate && o_.replay == nullptr;
  not_joined_.assign(n, 0);
  for (int i = 0; i < n && !o_.replay; ++i) not_joined_[i] = JoinsLate(o_.run, i) ? 1 : 0;
  live_ = 0;
  for (int i = 0; i < n; ++i) {
    PeerCoreOptions co;
    co.id = i;
    co.run = o_.run;
    co.topology = o_.topology;
    co.workload = workload_;
    if (o_.replay) co.replay = &(*o_.replay)[i];
    HEARSAY_ASSIGN_OR_RETURN(peers_[i].core, PeerCore::Make(std::move(co)));
    peers_[i].sink = std::make_unique<SimSink>(this, i);
    peers_[i].slowdown = peers_[i].core->slowdown();
    if (!o_.out_dir.empty()) {
      HEARSAY_ASSIGN_OR_RETURN(
          peers_[i].files,
          RunFiles::Open(o_.out_dir, i, RecordsReplayLog(o_.run) && !o_.replay, 0));
    }
    if (emulate) {
      nodes_[i].link =
          std::make_unique<LinkModel>(LinkModelConfig::FromSpec(o_.topology, i, o_.run.seed));
      if (o_.topology->nodes[i].ingress_bps > 0) {
        nodes_[i].ingress = std::make_unique<IngressModel>(o_.topology->nodes[i].ingress_bps);
      }
    }
    if (not_joined_[i]) {
      // Not started: its `join:` fault starts it; evaluations do not wait for it until then.
      peers_[i].state = PeerState::kDone;
      if (evaluator_) evaluator_->Killed(i);
      continue;
    }
    Push(0, EventClass::kWake, i, 0);
    ++live_;
  }
  fault_fired_.assign(o_.run.faults.size(), 0);
  for (size_t k = 0; k < o_.run.faults.size(); ++k) {
    const FaultSpec& f = o_.run.faults[k];
    const bool process = f.kind == FaultSpec::Kind::kKill || f.kind == FaultSpec::Kind::kPause ||
                         f.kind == FaultSpec::Kind::kRestart || f.kind == FaultSpec::Kind::kJoin;
    if (process && f.at_s >= 0 && !o_.replay) Push(f.at_s, EventClass::kFault, f.peers[0], k);
  }
  uint64_t checked = 0;
  while (!queue_.empty() && live_ > 0) {
    const Event e = queue_.Pop();
    now_ = e.time();
    ++result_.events;
    if ((++checked & 0xfff) == 0 && o_.stop && o_.stop->load()) {
      return Cancelled("simulation interrupted at virtual time " + std::to_string(now_) + " s");
    }
    const int peer = e.peer();
    switch (e.cls()) {
      case EventClass::kDelivery:
        Deliver(peer, e.ref, now_);
        break;
      case EventClass::kLinkStep:
        LinkStep(peer, now_);
        break;
      case EventClass::kWake: {
        PeerSlot& p = peers_[peer];
        if (e.ref == kTimerRef) {
          if (!TimerDue(peer, now_)) break;
        } else if (p.state == PeerState::kDone || e.ref != p.timer_gen) {
          break;  // stale
        }
        if (p.paused_until > now_) {  // stopped: runs on when the pause ends
          p.wake_dropped = true;
          p.wake_queued = false;
          break;
        }
        Status s = Wake(peer, now_);
        if (!s.ok() && failure_.ok()) failure_ = s;
        break;
      }
      case EventClass::kFault:
        Fault(peer, e.ref, now_);
        break;
    }
    FlushLinkSteps();
  }
  for (auto& p : peers_) {
    if (p.files) HEARSAY_RETURN_IF_ERROR(p.files->Flush());
  }
  if (!failure_.ok()) {
    // Report the root cause, not a neighbour's echo of it.
    return failure_;
  }
  if (live_ > 0) {
    std::string stuck;
    for (int i = 0; i < n && stuck.size() < 200; ++i) {
      if (peers_[i].state != PeerState::kDone) {
        stuck += (stuck.empty() ? "" : ", ") + std::to_string(i) + " (round " +
                 std::to_string(peers_[i].core->round()) + ")";
      }
    }
    return Internal("simulation stalled at virtual time " + std::to_string(now_) + " s: peers " +
                    stuck + " wait for messages that can never arrive");
  }
  for (int i = 0; i < n; ++i) {
    if (not_joined_[i]) result_.never_joined.push_back(i);
    result_.bytes_sent.push_back(peers_[i].bytes_sent);
    result_.bytes_received.push_back(peers_[i].bytes_received);
  }
  if (evaluator_) result_.evals = evaluator_->Take();
  result_.mean_staleness = staleness_count_ ? staleness_sum_ / staleness_count_ : 0.0;
  result_.peak_queued_events = queue_.peak();
  result_.real_seconds = SecondsSince(real_start);
  return std::move(result_);
}

}  // namespace sim_internal

double MeasureComputeTime(const RunConfig& run, const Workload& workload, int repeats) {
  MinibatchSampler sampler(workload.train, workload.shards.at(0), run.batch_size, run.seed, 0);
  const Model& model = *workload.model;
  std::vector<float> x(model.num_params()), grad(model.num_params());
  model.Init(run.seed, x);
  std::vector<double> times;
  for (int k = 0; k <= repeats; ++k) {
    const Batch batch = sampler.Next(k + 1);
    const TimePoint t0 = Now();
    (void)model.LossAndGradient(x, batch, grad);
    if (k > 0) times.push_back(SecondsSince(t0));  // the first run warms caches up
  }
  std::nth_element(times.begin(), times.begin() + times.size() / 2, times.end());
  return std::max(times[times.size() / 2], 1e-9);
}

Result<SimResult> Simulate(const SimOptions& options) {
  sim_internal::Simulation sim(options);
  return sim.Run();
}

}  // namespace hearsay
