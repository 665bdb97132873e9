// Simulator: a discrete-event simulation of a whole run in virtual time (DESIGN.md "One peer
// state machine, three drivers"; docs/simulator.md).
//
// Every peer is the same PeerCore the daemon runs, with the same Algorithm implementations;
// all of them live in this thread (no thread per peer). The emulator's LinkModel (one per
// sending node: bandwidth, latency, jitter, loss, egress sharing, events, traces) and
// IngressModel (per receiving node) decide when each message arrives, in virtual seconds; each
// local computation takes `compute_time_s` x the node's slowdown of virtual time (the real
// computation runs at once, at the start of that interval). So a run on a 100 ms network takes
// as long as its arithmetic, not 100 ms per round.
//
// Determinism: events are processed in the order of the key (time, class, peer, sequence):
// at equal virtual times message deliveries (class 0) come before link-model steps (class 1),
// which come before peer wake-ups (class 2: a compute job ended, or a timer), which come before
// the fault schedule's kill and pause (class 3: at `at:`, or right after the peer's round
// `at_round:`; partitions and downed links are link events of the topology); then by peer id,
// then by the order in which the events were created. Nothing depends on the real clock, so the
// same experiment and seed give bit-identical models, metrics and virtual times, in sync and
// async modes. A synchronous simulated run is bit-identical to the same run in one process and
// over TCP (same cores, same absorb order).
//
// Replay: with `replay` set (one schedule per peer, from the async run's log) every peer absorbs
// exactly what the recorded run absorbed; messages then travel with no delay.
//
// Thread-safety: Simulate is reentrant; it blocks the calling thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "runtime/peer/experiment.h"
#include "runtime/peer/peer_core.h"
#include "runtime/peer/workload.h"

namespace hearsay {

// Optional hooks for tests and tools, called on the simulating thread in event order.
class SimObserver {
 public:
  virtual ~SimObserver() = default;
  virtual void OnSend(double now, const Message& msg, uint64_t wire_bytes) {}
  virtual void OnDeliver(double now, const Message& msg) {}
  // After End(record.round) of `core` (its state is that of the end of the round).
  virtual void OnRoundEnd(double now, const PeerCore& core, const RoundRecord& record) {}
  virtual void OnApplied(int peer, int64_t round, std::span<const MessageId> applied) {}
};

struct SimOptions {
  RunConfig run;
  std::shared_ptr<const TopologySpec> topology;
  std::shared_ptr<const Workload> workload;  // built from `run` when null
  std::string out_dir;  // per-peer JSON lines, final models, replay logs ("" = none)
  // Seconds of virtual time one local computation takes (before the node's slowdown); <= 0:
  // run.compute_time_s when it is set, else measured (MeasureComputeTime).
  double compute_time_s = 0;
  const std::vector<ReplaySchedule>* replay = nullptr;  // one per peer: replay mode
  const std::atomic<bool>* stop = nullptr;              // Ctrl-C: Cancelled
  bool keep_snapshots = true;  // evaluate the average model at every snapshot key
  SimObserver* observer = nullptr;
};

// The average model at one snapshot key (evaluated as the launcher evaluates real runs).
struct SimEvalPoint {
  SnapshotKey key;
  double wall_s = 0;            // the latest peer's virtual time at this key
  double mb_sent_per_peer = 0;  // mean wire megabytes (1e6 bytes) sent per peer by then
  double train_loss = 0, test_loss = 0, accuracy = 0, consensus = 0;
};

struct SimResult {
  double virtual_seconds = 0;  // virtual time when the last peer finished
  double real_seconds = 0;     // how long the simulation took
  double compute_time_s = 0;   // the compute-time model used
  uint64_t events = 0;
  uint64_t peak_queued_events = 0;  // the event queue's largest size (memory, and speed)
  uint64_t messages = 0;
  int64_t peer_rounds = 0;  // rounds completed, summed over peers
  std::vector<std::vector<float>> final_models;
  std::vector<int64_t> final_rounds;
  std::vector<uint64_t> bytes_sent, bytes_received;  // wire bytes per peer
  std::vector<SimEvalPoint> evals;                   // round keys then time keys, ascending
  std::vector<int> killed;        // peers the fault schedule killed (and did not restart), in order
  int restarts = 0;               // peers the fault schedule restarted (they rejoined the run)
  std::vector<int> never_joined;  // late joiners (`join:`) the run ended before
  int64_t max_staleness = 0;
  double mean_staleness = 0;
};

// Median seconds of one local computation (a minibatch gradient of peer 0) on this machine,
// over `repeats` runs after one warm-up.
double MeasureComputeTime(const RunConfig& run, const Workload& workload, int repeats = 7);

// Runs the whole run. Errors: the first peer failure (naming the peer), a stall (peers waiting
// for messages that can never come), Cancelled when `stop` is set.
Result<SimResult> Simulate(const SimOptions& options);

}  // namespace hearsay
