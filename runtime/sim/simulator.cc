#include "runtime/sim/simulator.h"

#include <algorithm>
#include <bit>
#include <chrono>
#include <map>
#include <queue>
#include <set>
#include <utility>

#include "common/clock.h"
#include "runtime/data/sampler.h"
#include "runtime/emulator/link_model.h"
#include "runtime/peer/run_files.h"
#include "runtime/sim/sim_evaluator.h"
#include "runtime/transport/frame.h"

namespace hearsay {
namespace {

// Event classes, in their order at equal virtual times (see simulator.h).
enum class EventClass : uint8_t { kDelivery = 0, kLinkStep = 1, kWake = 2, kFault = 3 };

// An event's place in the order is one 128-bit number: the bits of its (non-negative) time,
// whose order as an unsigned integer is that of the doubles, then (class, peer, sequence)
// packed into 64 bits. One comparison without branches instead of four: the queue's sift-downs
// were a tenth of a 4096-peer run.
constexpr int kPeerBits = 22;  // peers < 2^22 (topologies have at most 2^20 nodes)
constexpr int kSeqBits = 62 - kPeerBits;
constexpr uint64_t kMaxSeq = (uint64_t{1} << kSeqBits) - 1;

struct Event {
  uint64_t time_bits = 0;
  uint64_t key = 0;  // class (2 bits), peer (kPeerBits), sequence (kSeqBits)
  uint64_t ref = 0;  // kDelivery: message slot; kWake: timer generation; kFault: fault index
                     // (kResumeFault + peer: the end of a pause)
  double time() const { return std::bit_cast<double>(time_bits); }
  EventClass cls() const { return static_cast<EventClass>(key >> 62); }
  // kDelivery: receiver; kLinkStep: sending node; kWake, kFault: the peer
  int peer() const {
    return static_cast<int>((key >> kSeqBits) & ((uint64_t{1} << kPeerBits) - 1));
  }
};

constexpr uint64_t kResumeFault = uint64_t{1} << 40;
// The ref of a timer event (a waiting peer's wake_at, see Simulation::ArmTimer).
constexpr uint64_t kTimerRef = uint64_t{1} << 63;

struct Later {
  bool operator()(const Event& a, const Event& b) const {
    using U128 = unsigned __int128;
    return ((U128{a.time_bits} << 64) | a.key) > ((U128{b.time_bits} << 64) | b.key);
  }
};

class Simulation;

// The sink of one simulated peer: frames go into the link model, records into files/memory.
class SimSink final : public CoreSink {
 public:
  SimSink(Simulation* sim, int peer) : sim_(sim), peer_(peer) {}
  Status Send(Message msg) override;
  Status OnRound(const RoundRecord& r) override;
  Status OnSnapshot(const SnapshotKey& key, std::span<const float> x, double now) override;
  Status OnApplied(int64_t round, std::span<const MessageId> applied) override;

 private:
  Simulation* sim_;
  int peer_;
};

class Simulation {
 public:
  explicit Simulation(const SimOptions& o) : o_(o) {}

  Result<SimResult> Run();

 private:
  friend class SimSink;
  enum class PeerState : uint8_t { kIdle, kComputing, kWaiting, kDone };
  struct PeerSlot {
    std::unique_ptr<PeerCore> core;
    std::unique_ptr<RunFiles> files;
    std::unique_ptr<SimSink> sink;
    PeerState state = PeerState::kIdle;
    uint64_t timer_gen = 0;    // a wake event of an older generation is stale
    bool wake_queued = false;  // a delivery already queued a wake at the current time
    // The timer of the current wait (PeerCore's wake_at: heartbeats, the round timeout), valid
    // while timer_gen == timer_for; and the times of this peer's timer events in the queue,
    // ascending (usually one: see ArmTimer).
    double timer_at = kNever;
    uint64_t timer_for = 0;
    std::vector<double> timers_queued;
    double slowdown = 1;
    uint64_t bytes_sent = 0, bytes_received = 0;
    // The fault schedule (kill, pause): a paused peer is not woken and holds what arrives.
    double paused_until = -1;
    bool wake_dropped = false;   // a due wake-up fell into the pause
    std::vector<uint64_t> held;  // message slots that arrived during the pause, in order
  };
  struct Node {
    std::unique_ptr<LinkModel> link;
    std::unique_ptr<IngressModel> ingress;
    double step_at = kNever;  // time of the queued kLinkStep, kNever when none
    bool dirty = false;       // submitted to during this event: its link step is rescheduled
  };

  void Push(double time, EventClass cls, int peer, uint64_t ref = 0) {
    // + 0.0 turns -0.0 into +0.0, whose bits order as the doubles' values (times are >= 0).
    // Past 2^40 events (12 days at a million a second) ties of equal (time, class, peer) fall to
    // the heap's own order, which is still deterministic.
    const uint64_t seq = std::min(seq_++, kMaxSeq);
    queue_.push(Event{
        std::bit_cast<uint64_t>(time + 0.0),
        (static_cast<uint64_t>(cls) << 62) | (static_cast<uint64_t>(peer) << kSeqBits) | seq, ref});
  }
  // A waiting peer's timer. Every wait has one (the next heartbeat, 0.5 s away by default), and
  // pushing an event per wait left a stale one per round in the queue until its time: 25 per
  // peer on a 20 ms ring, most of a 4096-peer run's queue. Instead a peer has a timer event
  // queued at or before its timer, and a new one is pushed only for an earlier time; an event
  // that pops before the timer is due re-arms it. The timer still fires at exactly its time,
  // with the same (time, class, peer) as before, so the event order is unchanged.
  void ArmTimer(int peer, double at);
  // A timer event popped: whether it is the current wait's timer, due now (else it re-arms).
  bool TimerDue(int peer, double now);
  Status SendFrom(int peer, Message msg);
  void ScheduleLinkStep(int node);
  // After each event: reschedules the link steps of the nodes that sent during it (in the order
  // they first sent, so the queue's creation order stays a function of the event order).
  void FlushLinkSteps() {
    for (int node : dirty_) {
      nodes_[node].dirty = false;
      ScheduleLinkStep(node);
    }
    dirty_.clear();
  }
  std::vector<int> dirty_;
  void LinkStep(int node, double now);
  void Deliver(int to, uint64_t slot, double now);
  Status Wake(int peer, double now);
  // The fault schedule's kill and pause (network faults are link events of the topology).
  void Fault(int peer, uint64_t ref, double now);
  void Kill(int peer, double now);
  void Restart(int peer, double now);
  void Join(int peer, double now);
  // Starts `peer` with a fresh core that joins the running run (a restart or a late joiner).
  bool StartJoining(int peer, double now);
  std::vector<char> not_joined_;  // per peer: a late joiner that has not joined yet
  void MaybeFireRoundFaults(int peer, int64_t round);
  std::vector<char> fault_fired_;  // per entry of run.faults

  const SimOptions& o_;
  std::shared_ptr<const Workload> workload_;
  double compute_time_s_ = 0;
  double now_ = 0;
  uint64_t seq_ = 0;
  std::priority_queue<Event, std::vector<Event>, Later> queue_;
  std::vector<PeerSlot> peers_;
  std::vector<Node> nodes_;
  // Messages in flight, by slot: a slot is reused once its message is delivered or dropped
  // (slots are references only; event order never depends on them). A message in the link
  // model carries its slot as the model's tag.
  uint64_t Store(Message msg) {
    if (free_slots_.empty()) {
      in_flight_.push_back(std::move(msg));
      return in_flight_.size() - 1;
    }
    const uint64_t slot = free_slots_.back();
    free_slots_.pop_back();
    in_flight_[slot] = std::move(msg);
    return slot;
  }
  Message Take(uint64_t slot) {
    Message m = std::move(in_flight_[slot]);
    in_flight_[slot] = Message();
    free_slots_.push_back(slot);
    return m;
  }
  std::vector<Message> in_flight_;
  std::vector<uint64_t> free_slots_;
  std::unique_ptr<SimEvaluator> evaluator_;
  SimResult result_;
  double staleness_sum_ = 0;
  int64_t staleness_count_ = 0;
  Status failure_;
  int live_ = 0;
};

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

void Simulation::MaybeFireRoundFaults(int peer, int64_t round) {
  if (o_.replay) return;  // a replay reproduces the recorded run's messages, not its faults
  const std::vector<FaultSpec>& faults = o_.run.faults;
  for (size_t k = 0; k < faults.size(); ++k) {
    const FaultSpec& f = faults[k];
    if (fault_fired_[k] || f.at_round <= 0 || f.peers.empty()) continue;
    // kill and pause: at the peer's own round; restart and join (the peer is not running): at
    // anybody's.
    if (f.kind == FaultSpec::Kind::kRestart || f.kind == FaultSpec::Kind::kJoin) {
      if (round < f.at_round) continue;
      fault_fired_[k] = 1;
      Push(now_, EventClass::kFault, f.peers[0], k);
      continue;
    }
    if (f.peers[0] != peer) continue;
    if (f.kind != FaultSpec::Kind::kKill && f.kind != FaultSpec::Kind::kPause) continue;
    if (round < f.at_round) continue;
    fault_fired_[k] = 1;
    Push(now_, EventClass::kFault, peer, k);  // after this round's own events at this time
  }
}

void Simulation::Fault(int peer, uint64_t ref, double now) {
  PeerSlot& p = peers_[peer];
  if (ref >= kResumeFault) {  // a pause ends
    p.paused_until = -1;
    std::vector<uint64_t> held = std::move(p.held);
    p.held.clear();
    for (uint64_t slot : held) Deliver(peer, slot, now);
    if (p.wake_dropped && p.state != PeerState::kDone) {
      p.wake_dropped = false;
      Push(now, EventClass::kWake, peer, ++p.timer_gen);
    }
    return;
  }
  const FaultSpec& f = o_.run.faults[ref];
  fault_fired_[ref] = 1;
  if (f.kind == FaultSpec::Kind::kRestart) {
    Restart(peer, now);
    return;
  }
  if (f.kind == FaultSpec::Kind::kJoin) {
    Join(peer, now);
    return;
  }
  if (p.state == PeerState::kDone) return;  // already finished
  if (f.kind == FaultSpec::Kind::kKill) {
    Kill(peer, now);
  } else if (f.kind == FaultSpec::Kind::kPause && p.paused_until < 0) {
    p.paused_until = now + f.for_s;
    Push(p.paused_until, EventClass::kFault, peer, kResumeFault + static_cast<uint64_t>(peer));
  }
}

// A killed peer stops where it is, says no goodbye, and its links close: each neighbour gets the
// link-down event a transport reports for a crashed peer.
void Simulation::Kill(int peer, double now) {
  PeerSlot& p = peers_[peer];
  p.state = PeerState::kDone;
  p.paused_until = -1;
  for (uint64_t slot : p.held) (void)Take(slot);
  p.held.clear();
  --live_;
  result_.killed.push_back(peer);
  if (evaluator_) evaluator_->Killed(peer);
  const std::string why = "peer " + std::to_string(peer) + " was killed";
  for (int j : CommNeighbors(o_.run, *o_.topology->graph, peer)) {
    Message m;
    m.kind = MessageKind::kLinkDown;
    m.from = peer;
    m.to = j;
    m.payload.assign(why.begin(), why.end());
    const uint64_t slot = Store(std::move(m));
    Push(now, EventClass::kDelivery, j, slot);
  }
}

// A killed peer starts again with a fresh core that rejoins the run (state transfer from its
// neighbours: runtime/peer/gossip_rejoin.cc). A peer that is not dead is left alone.
void Simulation::Restart(int peer, double now) {
  PeerSlot& p = peers_[peer];
  auto was_killed = std::find(result_.killed.begin(), result_.killed.end(), peer);
  if (p.state != PeerState::kDone || was_killed == result_.killed.end()) return;
  if (!StartJoining(peer, now)) return;
  result_.killed.erase(std::find(result_.killed.begin(), result_.killed.end(), peer));
  ++result_.restarts;
}

// A late joiner (`join:`) starts now and joins the running run the way a restarted peer does.
void Simulation::Join(int peer, double now) {
  if (!not_joined_[peer]) return;
  if (StartJoining(peer, now)) not_joined_[peer] = 0;
}

bool Simulation::StartJoining(int peer, double now) {
  PeerSlot& p = peers_[peer];
  PeerCoreOptions co;
  co.id = peer;
  co.run = o_.run;
  co.topology = o_.topology;
  co.workload = workload_;
  co.rejoin = true;
  Result<std::unique_ptr<PeerCore>> core = PeerCore::Make(std::move(co));
  if (!core.ok()) {
    if (failure_.ok())
      failure_ = core.status().WithPrefix("restart of peer " + std::to_string(peer));
    return false;
  }
  p.core = std::move(core).value();
  p.state = PeerState::kIdle;
  p.paused_until = -1;
  p.wake_dropped = false;
  if (p.files) {
    // The metrics so far stay; the restarted peer appends from its rejoin round.
    Status s = p.files->Flush();
    Result<std::unique_ptr<RunFiles>> files =
        RunFiles::Open(o_.out_dir, peer, RecordsReplayLog(o_.run), 0, kUnlimitedRounds);
    if (s.ok()) s = files.status();
    if (!s.ok()) {
      if (failure_.ok()) failure_ = s;
      return false;
    }
    p.files = std::move(files).value();
  }
  ++live_;
  Push(now, EventClass::kWake, peer, ++p.timer_gen);
  return true;
}

Result<SimResult> Simulation::Run() {
  const TimePoint real_start = Now();
  const int n = o_.topology->size();
  if (n > (1 << kPeerBits)) {
    return InvalidArgument("the simulator runs at most " + std::to_string(1 << kPeerBits) +
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
    result_.peak_queued_events = std::max<uint64_t>(result_.peak_queued_events, queue_.size());
    const Event e = queue_.top();
    queue_.pop();
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
  result_.real_seconds = SecondsSince(real_start);
  return std::move(result_);
}

}  // namespace

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
  Simulation sim(options);
  return sim.Run();
}

}  // namespace hearsay
