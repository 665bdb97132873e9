// The simulator's fault schedule (runtime/sim/simulation.h): kill and pause at a time or after a
// peer's round, restart of a killed peer and late joiners, who rejoin the running run by a state
// transfer from their neighbours. Network faults (partitions, links down) are link events of the
// topology and live in the link model.
#include <algorithm>
#include <string>
#include <utility>

#include "runtime/sim/simulation.h"

namespace hearsay::sim_internal {

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

}  // namespace hearsay::sim_internal
