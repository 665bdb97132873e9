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
#include <map>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "common/byte_buffer.h"
#include "common/status.h"
#include "runtime/algorithms/algorithm.h"
#include "runtime/data/sampler.h"
#include "runtime/peer/device_backend.h"
#include "runtime/peer/experiment.h"
#include "runtime/peer/workload.h"
#include "runtime/transport/transport.h"

namespace hearsay {

inline constexpr double kNoWake = 1e300;  // CoreStep::wake_at when there is no timer

// A message that one End absorbed: the replay log's unit.
struct MessageId {
  int32_t from = 0;
  int64_t round = 0;
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
  double compute_s = 0;  // local computation
  double wait_s = 0;     // waiting for messages
  double overlap_s = 0;  // the part of compute_s that ran while a round's payloads travelled
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
};

struct CoreStep {
  enum class Kind : uint8_t { kCompute, kWait, kFinished, kFailed };
  Kind kind = Kind::kWait;
  double wake_at = kNoWake;  // kWait: call Advance again at this time even if nothing arrives
  Status status;             // kFailed: why
};

// Replay: for each round, the messages End(round) must absorb (from the recorded log).
using ReplaySchedule = std::map<int64_t, std::vector<MessageId>>;

struct PeerCoreOptions {
  int id = 0;
  RunConfig run;
  std::shared_ptr<const TopologySpec> topology;
  std::shared_ptr<const Workload> workload;  // built from `run` when null
  const ReplaySchedule* replay = nullptr;    // replay mode: absorb exactly this (async runs)
};

class PeerCore {
 public:
  static Result<std::unique_ptr<PeerCore>> Make(PeerCoreOptions options);
  ~PeerCore();

  void Deliver(double now, Message msg);
  CoreStep Advance(double now, CoreSink& sink);
  void Compute();
  // Ends the run from outside (a broken link, a stop request): says FAILED to the neighbours with
  // the reason and returns kFailed; nothing more happens afterwards.
  CoreStep Abort(double now, CoreSink& sink, Status why) { return Fail(now, sink, std::move(why)); }

  int id() const { return options_.id; }
  // The local model (host copy).
  std::span<const float> params() const;
  const Algorithm& algorithm() const { return *algo_; }
  // The round in progress (1-based), or the last one after the end.
  int64_t round() const { return round_; }
  bool finished() const { return phase_ == Phase::kFinished || phase_ == Phase::kFailed; }
  // The node's compute slowdown factor (topology node `slowdown`, >= 1).
  double slowdown() const;
  const Workload& workload() const { return *workload_; }
  const RunConfig& run() const { return options_.run; }
  int64_t last_round() const { return last_round_; }

 private:
  enum class Phase : uint8_t {
    kStart,      // nothing done yet
    kBegin,      // ready to Begin round_ (its gradient is computed unless late)
    kComputing,  // the driver runs Compute()
    kWait,       // round_'s payloads are out; waiting until End is allowed
    kFinished,
    kFailed,
  };
  enum class Job : uint8_t { kNone, kGradient, kDeviceBegin };
  enum class After : uint8_t { kBegin, kWait };  // where kComputing goes next

  explicit PeerCore(PeerCoreOptions options);
  Status Setup();

  bool async() const { return options_.run.mode == RunMode::kAsync; }
  bool bounded_by_duration(double now) const;
  bool last_round_reached() const;  // round_ is the run's last (rounds, or the replay log's)
  // Starts a compute job; `after` is the phase once it is done.
  CoreStep StartJob(double now, Job job, int64_t job_round, After after, bool overlapped);
  Status FinishJob(double now);
  Status BeginRound(double now, CoreSink& sink);
  // Whether End(round_) may run now; else lists the peers it waits for, and whether one of them
  // is gone (failed, or finished before round_).
  bool ReadyToEnd(std::vector<int>* missing, bool* neighbour_gone) const;
  Status EndRound(double now, CoreSink& sink);
  Status TakeTimeSnapshots(double now, CoreSink& sink);
  CoreStep Finish(double now, CoreSink& sink);
  CoreStep Fail(double now, CoreSink& sink, Status why);
  void Goodbye(CoreSink& sink, MessageKind kind, const std::string& reason);
  double NextTimer() const;
  int RowPos(int peer) const;  // position of `peer` in the static row, -1 if none

  PeerCoreOptions options_;
  std::shared_ptr<const Workload> workload_;
  std::unique_ptr<Algorithm> algorithm_;    // device: cpu
  std::unique_ptr<DeviceTrainer> trainer_;  // device: cuda[:N]
  Algorithm* algo_ = nullptr;               // whichever of the two runs
  std::unique_ptr<MinibatchSampler> sampler_;
  std::vector<int> link_neighbors_;  // every peer this one exchanges frames with

  Phase phase_ = Phase::kStart;
  int64_t round_ = 1;
  int64_t last_round_ = 0;  // last round whose End ran
  // The compute job the driver runs next (or is running).
  Job job_ = Job::kNone;
  int64_t job_round_ = 0;
  After after_ = After::kBegin;
  bool job_overlapped_ = false;
  double job_started_ = 0;
  Status job_status_;
  // Gradient and minibatch loss of round grad_round_.
  std::vector<float> grad_;
  double grad_loss_ = 0;
  int64_t grad_round_ = 0;
  double round_loss_ = 0;  // loss reported for round_
  ByteBuffer out_;         // round_'s own payload (device jobs produce it in Compute)

  // Buffered payloads by (round, sender): the absorb order.
  std::map<std::pair<int64_t, int>, ByteBuffer> pending_;
  // Static rows (async): per row position, the latest round received and absorbed.
  std::vector<int64_t> last_received_;
  std::vector<int64_t> last_absorbed_;
  // Per peer id: the last round a neighbour announced with DONE (-1: still running), and why a
  // neighbour failed ("" = it did not).
  std::vector<int64_t> done_round_;
  std::vector<std::string> failed_;

  // Timing (cumulative) and counters.
  double wait_started_ = -1;     // now when the current wait began, -1 when not waiting
  double round_wait_began_ = 0;  // now when round_'s payloads went out (round_timeout counts)
  double compute_s_ = 0, wait_s_ = 0, overlap_s_ = 0;
  uint64_t payload_sent_ = 0;
  int64_t max_staleness_ = 0;
  double staleness_sum_ = 0;
  int64_t staleness_count_ = 0;
  int64_t next_time_snapshot_ = 1;  // k of the next time-grid snapshot
  std::vector<MessageId> applied_;  // scratch for OnApplied
};

// The handshake's topology hash: FNV-1a 64 of TopologySpec::Fingerprint().
uint64_t TopologyHash(const TopologySpec& spec);
// Every peer `self` exchanges frames with, over all rounds of the schedule, ascending.
std::vector<int> LinkNeighbors(const Topology& graph, int self);

}  // namespace hearsay
