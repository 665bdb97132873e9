// PeerCore: one peer's whole training protocol as an event-driven state machine (DESIGN.md
// "One peer state machine, three drivers").
//
// The core owns the Algorithm (model, replicas, estimates, public copies), the minibatch sampler,
// the buffered messages, the staleness bookkeeping and the decision of what to do next. It never
// reads a clock, sleeps, touches a socket or a file: its inputs are events and its outputs are
// actions, so the same code runs under three drivers with identical results:
//   - the daemon and the in-process runner (runtime/peer/peer.h: real clock, a transport),
//   - the simulator (runtime/sim/: virtual clock, the link model decides arrival times),
//   - replay (runtime/sim/replay.h: the simulator fed by a recorded log).
//
// Driving it:
//   loop:
//     core.Deliver(now, msg)            for every message that arrived (any time, any order)
//     step = core.Advance(now, sink)    runs as far as it can; sends and records through `sink`
//     kCompute  -> core.Compute(), which is the local computation (a minibatch gradient, or the
//                  device trainer's round); the driver decides how long it takes (real time,
//                  times the node's slowdown, or the simulator's compute-time model), then
//                  calls Advance again
//     kWait     -> wait for a message, or until step.wake_at (a timer: deadline or snapshot)
//     kFinished / kFailed -> stop (the core has already said goodbye: DONE or FAILED frames)
// `now` is seconds since the run started, non-decreasing (virtual seconds in the simulator).
//
// Round t, for the gossip algorithms (ALGORITHMS.md):
//   [g_t at x_t]  Begin(t) -> send payload to out-neighbours
//   compute the next gradient while the payload travels (overlap; D-PSGD: this round's gradient,
//   handed in with SetGradient; the others: round t+1's, at the model Begin produced)
//   wait: sync  -> every in-neighbour's round-t payload is here;
//         async -> every live in-neighbour's latest arrived round is >= t - staleness
//   absorb the buffered payloads in (round, sender) order -- sync: round t; async: rounds
//   <= t + staleness (all of them when unbounded); replay: exactly the recorded set -- then End(t).
// So async with staleness 0 absorbs exactly what sync absorbs, in the same order: bit-identical.
// Per-link order is kept (consecutive rounds per link), so replicas and public copies stay exact.
//
// Thread-safety: none; one driver thread owns a core.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "common/byte_buffer.h"
#include "common/status.h"
#include "runtime/algorithms/algorithm.h"
#include "runtime/data/sampler.h"
#include "runtime/model/optimizer.h"
#include "runtime/peer/experiment.h"
#include "runtime/peer/workload.h"
#include "runtime/transport/transport.h"

namespace hearsay {

inline constexpr double kNoWake = 1e300;  // CoreStep::wake_at when there is no timer

// A message that one End absorbed: the replay log's unit.
struct MessageId {
  int32_t from = 0;
  int64_t round = 0;
  // kGossip; AD-PSGD: kAvgRequest (served), kAvgReply (applied), kDone (an average given up);
  // liveness: kFailed (from was dropped from the mix), kHeartbeat (from was re-admitted).
  MessageKind kind = MessageKind::kGossip;
  bool operator==(const MessageId&) const = default;
};

// Where a model snapshot is taken.
struct SnapshotKey {
  enum class Kind : uint8_t {
    kRound,  // after End(index), an evaluation round
    kTime,   // at index * eval_every_s seconds (async evaluation on a time grid)
    kFinal,  // the model the peer ends with (index = last round)
  };
  Kind kind = Kind::kRound;
  int64_t index = 0;
};

// One round's metrics line (times are cumulative since the start of the run).
struct RoundRecord {
  int peer = 0;
  int64_t round = 0;
  double wall_s = 0;  // `now` at End(round)
  double loss = 0;    // minibatch loss of round `round`'s gradient
  double lr = 0;
  uint64_t payload_bytes_sent = 0;
  double compute_s = 0;     // local computation
  double wait_s = 0;        // waiting for messages
  double overlap_s = 0;     // the part of compute_s that ran while a round's payloads travelled
  int64_t inner_steps = 0;  // local (inner) steps so far: round x local_steps
  // Staleness at this round's mix: (in-neighbour, rounds behind), and running aggregates.
  std::vector<std::pair<int, int64_t>> staleness;
  int64_t max_staleness = 0;
  double mean_staleness = 0;
};

// The core's outputs. The driver implements it (network, files, or memory).
class CoreSink {
 public:
  virtual ~CoreSink() = default;
  // Hands msg to the network for msg.to. An error fails the peer.
  virtual Status Send(Message msg) = 0;
  virtual Status OnRound(const RoundRecord& record) = 0;
  virtual Status OnSnapshot(const SnapshotKey& key, std::span<const float> x, double now) = 0;
  // Async runs: the messages End(round) absorbed, in order (the replay log).
  virtual Status OnApplied(int64_t round, std::span<const MessageId> applied) = 0;
  // Checkpoints (run.checkpoint_every): the peer's whole state after End(round), to be stored
  // (runtime/peer/checkpoint.h). The sink takes *state and may leave another buffer there for the
  // core to reuse (its capacity spares the next checkpoint fresh memory). The default drops it
  // (drivers without a run folder).
  virtual Status OnCheckpoint(int64_t round, ByteBuffer* state) { return Status::Ok(); }
  // Transport::SharesPayloads and SharePayload of the network behind Send (false: none shares).
  virtual bool SharesPayloads() const { return false; }
  virtual std::shared_ptr<const ByteBuffer> SharePayload(ByteBuffer b) {
    return std::make_shared<const ByteBuffer>(std::move(b));
  }
  // A received payload's buffer the core has no use for, back to the network's buffer pool
  // (Transport::Recycle; the default frees it).
  virtual void Recycle(ByteBuffer buffer) {}
};

struct CoreStep {
  enum class Kind : uint8_t { kCompute, kWait, kFinished, kFailed };
  Kind kind = Kind::kWait;
  int64_t work = 1;          // kCompute: local steps in the job (the simulator's time model)
  double wake_at = kNoWake;  // kWait: call Advance again at this time even if nothing arrives
  Status status;             // kFailed: why
};

// Replay: for each round, the messages End(round) must absorb (from the recorded log).
using ReplaySchedule = std::map<int64_t, std::vector<MessageId>>;

// The silence after which a neighbour is dead: run.dead_after_s, but never shorter than a few
// emulated round trips of the topology's default link plus a heartbeat (a slow emulated link is
// not a dead peer).
double EffectiveDeadAfter(const RunConfig& run, const TopologySpec& topology);

struct PeerCoreOptions {
  int id = 0;
  RunConfig run;
  std::shared_ptr<const TopologySpec> topology;
  std::shared_ptr<const Workload> workload;  // built from `run` when null
  const ReplaySchedule* replay = nullptr;    // replay mode: absorb exactly this (async runs)
  // External model (runtime/peer/embedded_peer.h): the model lives in the host program, which does
  // the local steps itself; x0 is its initial model (the same on every peer). The run's model and
  // data are then not built, and each compute job takes the host's model after its local steps
  // (SetExternalModel) as the round's local work: u = OuterOpt(s - x_host).
  bool external_model = false;
  // External model, gradient form: the host hands the gradient at the model the core gave it
  // (SetExternalModel's x is then g), and the round's local work is the daemon's plain SGD step
  // (g with the run's lr schedule), so a host computing the built-in model's gradient reproduces
  // the daemon's run bit for bit. Needs the identity outer optimizer.
  bool external_gradient = false;
  std::vector<float> x0;
  // Resume (docs/faults.md "Checkpoints"): the state a checkpoint holds (PeerCore::SaveState of
  // a core built from the same run); the core continues from the round after it.
  std::shared_ptr<const ByteBuffer> resume_state;
  // Rejoin (docs/faults.md "Restart and rejoin"): this core is a restarted peer joining a running
  // run; it takes its state from its neighbours before its first round (gossip algorithms).
  bool rejoin = false;
};

// The interface every driver uses, and the machinery every protocol shares: the workload and
// sampler, DONE / FAILED bookkeeping, time accounting (compute, wait, overlap), time-grid
// snapshots, goodbyes, failure. Implementations: GossipCore (dpsgd, dcd, ecd, choco; sync and
// async), AdpsgdCore (adpsgd), AllreduceCore (allreduce). Make picks one by run.algorithm.
class PeerCore {
 public:
  static Result<std::unique_ptr<PeerCore>> Make(PeerCoreOptions options);
  virtual ~PeerCore();

  // A message arrived at time `now`. Never fails: bad messages are dropped with a warning (or
  // recorded as that neighbour's failure, which the protocol acts on).
  void Deliver(double now, Message msg);
  CoreStep Advance(double now, CoreSink& sink);
  // Runs the compute job the last kCompute asked for.
  virtual void Compute() = 0;
  // Some protocols answer certain messages at once, even while a compute job runs (AD-PSGD
  // serves averaging requests: a computing peer must not stall its neighbours). When
  // ServesDuringCompute(), a driver may call Service() after any Deliver, also from another
  // thread than the one running Compute() -- never concurrently with Advance or Deliver; Compute
  // then reads only a snapshot taken when the job started.
  virtual bool ServesDuringCompute() const { return false; }
  // External model: the host's model after its local steps (external_gradient: the host's
  // gradient), for the job the last kCompute asked for (call Compute() after it). Errors: wrong
  // size, non-finite values, not external.
  Status SetExternalModel(std::span<const float> x, double loss);
  bool external_model() const { return options_.external_model; }
  // The round whose local work the last kCompute asked for (ahead of round() when the protocol
  // overlaps the next computation with this round's gossip).
  int64_t job_round() const { return job_round_; }
  virtual Status Service(double now, CoreSink& sink) { return Status::Ok(); }
  // The transport lost the link to `peer` (a crash, a reset): the neighbour is dead for this
  // peer, which goes on without it (docs/faults.md).
  void LinkBroken(double now, int peer, const std::string& why);
  // Ends the run from outside (a stop request): says FAILED to the neighbours with the reason and
  // returns kFailed; nothing more happens afterwards.
  CoreStep Abort(double now, CoreSink& sink, Status why) { return Fail(now, sink, std::move(why)); }

  // Checkpoints: the whole state after End(last_round()), between rounds -- model, per-neighbour
  // state, round, gradient in hand, optimizer state, counters. Written by the core itself every
  // run.checkpoint_every rounds through CoreSink::OnCheckpoint; read back through
  // PeerCoreOptions::resume_state. Unimplemented for protocols without checkpoints.
  Status SaveState(ByteBuffer* out) const;

  int id() const { return options_.id; }
  // The local model (host copy).
  virtual std::span<const float> params() const = 0;
  // The gossip Algorithm, where the protocol has one (null for adpsgd and allreduce).
  virtual const Algorithm* algorithm() const { return nullptr; }
  // The round (local step) in progress, 1-based, or the last one after the end.
  int64_t round() const { return round_; }
  int64_t last_round() const { return last_round_; }
  bool finished() const { return state_ != State::kRunning; }
  // The node's compute slowdown factor (topology node `slowdown`, >= 1).
  double slowdown() const;
  // The run's workload (not built for an external model: null then).
  const Workload* workload() const { return workload_.get(); }
  const RunConfig& run() const { return options_.run; }

 protected:
  explicit PeerCore(PeerCoreOptions options);
  // Builds the workload, the sampler and the bookkeeping, then calls SetupProtocol.
  Status Setup();
  virtual Status SetupProtocol(std::span<const float> x0) = 0;
  // A gossip / protocol message (DONE and FAILED are handled here).
  virtual void OnMessage(double now, Message msg) = 0;
  // Runs the protocol as far as it can at `now`; returns the next step. Finish/Fail end it.
  virtual CoreStep Step(double now, CoreSink& sink) = 0;
  // Extra wake-up time the protocol needs (kNoWake: none).
  virtual double ProtocolTimer() const { return kNoWake; }
  // Checkpoints: the protocol's part of SaveState, and its restore (the core's common part is
  // already restored: round_ is the round to run next, last_round_ the checkpoint's).
  virtual Status SaveProtocolState(StateWriter& w) const;
  virtual Status LoadProtocolState(StateReader& r);
  // After End(last_round_): writes a checkpoint through the sink when one is due (every
  // run.checkpoint_every rounds, every neighbour alive, not the last round).
  Status MaybeCheckpoint(CoreSink& sink);
  // Run time for records and the time grid: `now` plus the time the run had at the checkpoint it
  // resumed from (0 for a fresh run).
  double run_time(double now) const { return now + time_offset_; }

  // Compute jobs. StartJob returns the kCompute step; the driver calls Compute(), then Advance,
  // which accounts the job's time before Step runs again (job_done() is then true once).
  CoreStep StartJob(double now, int64_t job_round, bool overlapped);
  bool job_running() const { return job_running_; }
  // The local work of communication round `round` from model s (ALGORITHMS.md "Local steps and
  // outer optimizers"), into grad_ (mean minibatch loss into grad_loss_); the algorithms then
  // apply work_lr(round) * grad_ where plain SGD applies lr_t * g:
  //   plain (H = 1, inner sgd, outer sgd lr 1): grad_ = g(s), batch t       (today's algorithms)
  //   H = 1, another inner optimizer:           grad_ = Direction(s, g)
  //   otherwise: H inner steps from s (batches and step sizes of inner steps (t-1)H+1 .. tH),
  //              grad_ = u = OuterOpt(s - x_H), work_lr = 1
  void ComputeLocalWork(std::span<const float> s, int64_t round);
  float work_lr(int64_t round) const;
  bool plain_steps() const;  // the plain case above
  // Aborted when the last gradient's loss is not finite (the run diverged).
  Status CheckLoss(int64_t at_round) const;

  CoreStep Finish(double now, CoreSink& sink);
  CoreStep Fail(double now, CoreSink& sink, Status why);
  CoreStep Wait(double now, double wake_at);
  // Rejoin, joiner side: JOIN to every link neighbour (dead ones included: they may answer).
  Status SendJoins(CoreSink& sink);
  // Rejoin, joiner side: waits (until `deadline`, then fails naming the silent neighbour) for a
  // JOIN_STATE from every live neighbour that has not finished; nullopt once `answered` says
  // each has (a dead one is silent for dead_after, then not waited for).
  std::optional<CoreStep> AwaitJoinStates(double now, CoreSink& sink, double deadline,
                                          const std::function<bool(int)>& answered);
  void Goodbye(CoreSink& sink, MessageKind kind, const std::string& reason);
  // Fills the record's common fields (times, bytes) for round `round`.
  RoundRecord MakeRecord(double now, int64_t round, double loss) const;
  Status MaybeSnapshotRound(double now, CoreSink& sink, int64_t round, bool last);
  bool bounded_by_duration(double now) const;
  double NextTimer() const;
  // Every frame-exchanging neighbour of this peer (for goodbyes and transports).
  const std::vector<int>& link_neighbors() const { return link_neighbors_; }
  int LinkIndex(int peer) const;  // index in link_neighbors_, or -1

  PeerCoreOptions options_;
  std::shared_ptr<const Workload> workload_;
  std::unique_ptr<MinibatchSampler> sampler_;
  std::vector<int> link_neighbors_;
  int64_t round_ = 1;
  int64_t last_round_ = 0;  // last round completed
  // Per link neighbour (index in link_neighbors_; O(degree), not O(n), per peer): the last
  // round it announced with DONE (-1: still running), and why it is dead ("" = alive). A dead
  // neighbour is not waited for. Death by silence (no message for dead_after) is undone when the
  // neighbour is heard again; death by FAILED, a broken link or a protocol violation is final.
  int64_t done_round(int peer) const;
  const std::string& failed(int peer) const;
  bool alive(int peer) const { return failed(peer).empty(); }
  void SetFailed(int peer, std::string why, bool final = true);
  // A dead neighbour (even one dead for good) is alive again: a restarted peer that rejoined.
  void Readmit(double now, int peer, const std::string& why);
  // Frames go to `peer` even while it is dead for this peer (a rejoining peer's state transfer).
  void SetSendingToDead(int peer, bool on);
  // A neighbour died / came back (called once per change, from Deliver or Advance).
  virtual void OnNeighborDown(double now, int peer) {}
  virtual void OnNeighborUp(double now, int peer) {}
  // Sends through the sink and notes the time (heartbeats go to links idle for `heartbeat`).
  Status SendTo(CoreSink& sink, Message msg);
  std::vector<int64_t> done_round_;
  std::vector<std::string> failed_;
  std::vector<char> final_;         // failed_ is final (no revival on a message)
  std::vector<char> send_to_dead_;  // SetSendingToDead
  std::vector<double> last_heard_;  // per link neighbour: when it was last heard from
  std::vector<double> last_sent_;   // per link neighbour: when this peer last sent to it
  double now_ = 0;                  // the latest time seen by Deliver or Advance
  // The last gradient: of round grad_round_, with its minibatch loss.
  std::vector<float> grad_;
  double grad_loss_ = 0;
  std::unique_ptr<Optimizer> optimizer_;     // inner optimizer (state per peer, never sent)
  std::unique_ptr<OuterOptimizer> outer_;    // outer optimizer (pseudo-gradient)
  std::vector<float> local_, scratch_grad_;  // the local copy of H inner steps, a gradient
  std::vector<float> external_;              // external model: the host's model for the job
  double external_loss_ = 0;
  int64_t grad_round_ = 0;
  int64_t job_round_ = 0;
  uint64_t payload_sent_ = 0;
  double compute_s_ = 0, wait_s_ = 0, overlap_s_ = 0;
  double time_offset_ = 0;     // run time at the checkpoint this core resumed from
  ByteBuffer checkpoint_buf_;  // the state of the next checkpoint (reused)

 private:
  enum class State : uint8_t { kRunning, kFinished, kFailed };
  Status TakeTimeSnapshots(double now, CoreSink& sink);
  // Heartbeats on idle links and the silence check (fault tolerance).
  Status MaintainLinks(double now, CoreSink& sink);
  double heartbeat_s() const;
  double dead_after_s() const;

  Status LoadState(std::span<const uint8_t> state);

  State state_ = State::kRunning;
  Status fail_status_;
  bool job_running_ = false;
  bool advanced_ = false;  // Advance ran at least once
  bool job_overlapped_ = false;
  double job_started_ = 0;
  double wait_started_ = -1;        // now when the current wait began, -1 when not waiting
  int64_t next_time_snapshot_ = 1;  // k of the next time-grid snapshot
};

// The handshake's topology hash: FNV-1a 64 of TopologySpec::Fingerprint().
uint64_t TopologyHash(const TopologySpec& spec);
// Every peer `self` exchanges frames with, over all rounds of the schedule, ascending.
std::vector<int> LinkNeighbors(const Topology& graph, int self);
// The peers `self` exchanges frames with in `run`: the graph's (LinkNeighbors), or the ring's
// for allreduce.
std::vector<int> CommNeighbors(const RunConfig& run, const Topology& graph, int self);
// Whether the run's peers record a replay log (asynchronous runs and AD-PSGD).
inline bool RecordsReplayLog(const RunConfig& run) {
  return run.mode == RunMode::kAsync || run.algorithm == AlgorithmKind::kAdpsgd;
}

}  // namespace hearsay
