// Internal to the simulator (runtime/sim/simulator.h): the Simulation behind Simulate -- the
// event loop, peers and link models (simulator.cc) and the fault schedule's kill, pause, restart
// and join (sim_faults.cc) -- and the CoreSink of each simulated peer.
// Thread-safety: none; one Simulate call owns one Simulation on its thread.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "common/status.h"
#include "runtime/emulator/link_model.h"
#include "runtime/peer/peer_core.h"
#include "runtime/peer/run_files.h"
#include "runtime/sim/event_queue.h"
#include "runtime/sim/sim_evaluator.h"
#include "runtime/sim/simulator.h"

namespace hearsay::sim_internal {

// The ref of a fault event that ends a pause: kResumeFault + peer (others: the fault's index).
inline constexpr uint64_t kResumeFault = uint64_t{1} << 40;
// The ref of a timer event (a waiting peer's wake_at, see Simulation::ArmTimer).
inline constexpr uint64_t kTimerRef = uint64_t{1} << 63;

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
    queue_.Push(time, cls, peer, ref);
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
  EventQueue queue_;
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

}  // namespace hearsay::sim_internal
