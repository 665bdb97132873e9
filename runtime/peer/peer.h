// Peer: the real-clock driver of one peer's PeerCore (runtime/peer/peer_core.h) over a Transport.
// `hearsay peer` runs one per process over TCP (Run: the calling thread blocks until the end);
// the in-process runner drives many through the event-driven calls (Open, Pump, Compute, Serve,
// Close) from a few worker threads (runtime/launch/peer_pool.h). The protocol itself (sync,
// async, overlap, staleness, goodbyes) lives in the core; this class feeds it messages, runs its
// compute jobs (a straggler node stays busy (slowdown - 1) times each job's duration -- Run
// sleeps it, the pool sets a timer -- so a slow node is slow even on an idle machine), waits
// with deadlines, and writes its outputs through RunFiles (runtime/peer/run_files.h) into
// PeerOptions::out_dir.
//
// Threading: Run() executes on the calling thread (the compute thread); the transport does its
// I/O on its own threads. Every wait has a deadline (RunConfig::round_timeout_s); `stop` is polled
// at least every 200 ms so SIGTERM ends a run promptly and cleanly. Nothing here throws: an
// escape becomes an Internal status naming the peer. The event-driven calls are made by one
// thread at a time, except Compute and Serve, which may run together (ServesDuringCompute).
#pragma once

#include <atomic>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/job_thread.h"
#include "common/status.h"
#include "runtime/metrics/peer_metrics.h"
#include "runtime/metrics/round_reporter.h"
#include "runtime/peer/experiment.h"
#include "runtime/peer/peer_core.h"
#include "runtime/peer/run_files.h"
#include "runtime/peer/workload.h"
#include "runtime/transport/transport.h"

namespace hearsay {

struct PeerOptions {
  // Peer `id` of `run` (on the run's topology), sharing `workload` (null: built from `run`).
  static PeerOptions For(int id, const RunConfig& run, std::shared_ptr<const Workload> workload) {
    PeerOptions po;
    po.id = id;
    po.run = run;
    po.topology = run.topology;
    po.workload = std::move(workload);
    return po;
  }

  int id = 0;
  RunConfig run;
  std::shared_ptr<const TopologySpec> topology;
  std::shared_ptr<const Workload> workload;  // built from `run` when null
  std::string out_dir;                       // run folder; created if missing; "" = write nothing
  const std::atomic<bool>* stop = nullptr;   // set to end the run early (Cancelled)
  // The fault schedule in one process (runtime/launch/faults.h): `kill` set ends the peer at
  // once, without a goodbye, its links closed (as SIGKILL would: Aborted "killed"); while
  // `pause` is set the peer does nothing at all (as under SIGSTOP). Null: not controlled.
  const std::atomic<bool>* kill = nullptr;
  const std::atomic<bool>* pause = nullptr;
  // The run's time origin (wall_s = 0, the time grid of eval_every_s); default: when the
  // transport is up. The in-process runner gives all its peers the same one.
  std::optional<TimePoint> epoch;
  // Live reporting (runtime/metrics/, issue 15): the series `--metrics-port` serves (null =
  // none; must outlive Run), and an info progress line every this many seconds of run time
  // (0 = none). Debug lines per round follow the log level.
  PeerMetrics* metrics = nullptr;
  double progress_every_s = 0;
  // Resume (docs/faults.md "Checkpoints and resume"): > 0 continues from this peer's checkpoint of
  // that round in out_dir (written by an earlier run of the same experiment).
  int64_t resume_round = 0;
  // A restarted peer rejoining a running run (docs/faults.md "Restart and rejoin"): its state
  // comes from its neighbours; its metrics file is appended to.
  bool rejoin = false;
};

class Peer {
 public:
  explicit Peer(PeerOptions options);
  ~Peer();

  // Trains until the run's end (rounds or duration) over `transport` (already wrapped by the
  // emulator if wanted), says goodbye to its neighbours (DONE, or FAILED with the reason) and
  // shuts the transport down. Blocks the calling thread: Open, Pump and wait, ..., Close.
  Status Run(Transport& transport);

  // Event-driven use: a driver that runs many peers on a few threads (the in-process runner's
  // PeerPool, runtime/launch/peer_pool.h) calls these instead of Run. None of them blocks on
  // the network (Close waits for the transport's shutdown) and none throws: whatever escapes
  // ends the peer with an Internal status naming it.
  struct Next {
    enum class Kind : uint8_t {
      kWait,     // call Pump when a message arrives (Transport::SetArrivalNotifier) or at `at`
      kPaused,   // stopped by the fault schedule: call Pump again at `at`; deliver nothing
      kCompute,  // call Compute (Serve meanwhile when ServesDuringCompute), then Pump
      kDone,     // call Close
    };
    Kind kind = Kind::kDone;
    TimePoint at = TimePoint::max();
  };
  // Builds the core and the run files and starts the transport (a failure: Pump says kDone).
  void Open(Transport& transport);
  // Delivers what has arrived and runs the core as far as it can.
  Next Pump(Transport& transport);
  // The compute job of the last kCompute; returns the seconds a straggler node (slowdown > 1)
  // stays busy after it, doing nothing else. With ServesDuringCompute it may run on another
  // thread than the others while Serve runs.
  double Compute();
  bool ServesDuringCompute() const;
  // While Compute runs (ServesDuringCompute): hands the core what arrives until `deadline` (a
  // time already past: what is there) and lets it answer at once. False after an error (the
  // next Pump, after the job, ends the peer with it).
  bool Serve(Transport& transport, TimePoint deadline);
  // Flushes the run files, shuts the transport down and returns the peer's final status.
  Status Close(Transport& transport);

  // The local model after Run (empty before).
  std::span<const float> params() const;

 private:
  Status OpenOrFail(Transport& transport);
  // Ends the run with `why` (a transport error, a stop request, an escape): FAILED to the
  // neighbours with the reason.
  void Fail(Status why);
  // Runs the compute job on a worker thread while this one serves (ServesDuringCompute).
  void ComputeWhileServing(Transport& transport);
  double since_start() const;
  std::string Where() const;  // "peer 3 round 17"

  PeerOptions options_;
  std::unique_ptr<PeerCore> core_;
  // Open .. Close.
  std::unique_ptr<RunFiles> files_;
  std::unique_ptr<RoundReporter> reporter_;
  std::unique_ptr<CoreSink> daemon_sink_, sink_;
  TimePoint start_{};
  double slowdown_ = 1;
  // How long the last compute job took (infinity before the first): the daemon tells its
  // transport how long it will be busy (Transport::WillBeBusy).
  double last_compute_s_ = std::numeric_limits<double>::infinity();
  bool started_ = false;  // the transport is up (Close shuts it down)
  bool done_ = false;     // Pump says kDone from now on
  bool killed_ = false;   // by the fault schedule: no goodbye, no shutdown wait
  Status status_;         // the peer's result so far
  // Errors met outside Pump -- Serve, Run's blocking wait; compute_error_: the compute job
  // itself -- end the peer at the next Pump.
  Status pending_error_, compute_error_;
  // Run's compute jobs while it serves (ServesDuringCompute), kept from job to job.
  std::unique_ptr<JobThread> job_thread_;
};

// The core's outputs for a peer with a transport: frames go to the transport, records to the run
// folder (null: none).
class DaemonSink final : public CoreSink {
 public:
  // fingerprint: the run's checkpoint fingerprint (checkpoint.h), for OnCheckpoint.
  DaemonSink(Transport& transport, RunFiles* files, uint64_t fingerprint = 0)
      : transport_(transport), files_(files), fingerprint_(fingerprint) {}
  Status Send(Message msg) override;
  Status OnRound(const RoundRecord& r) override;
  Status OnSnapshot(const SnapshotKey& key, std::span<const float> x, double now) override;
  Status OnApplied(int64_t round, std::span<const MessageId> applied) override;
  Status OnCheckpoint(int64_t round, ByteBuffer* state) override;
  bool SharesPayloads() const override { return transport_.SharesPayloads(); }
  std::shared_ptr<const ByteBuffer> SharePayload(ByteBuffer b) override {
    return transport_.SharePayload(std::move(b));
  }
  void Recycle(ByteBuffer buffer) override { transport_.Recycle(std::move(buffer)); }

 private:
  Transport& transport_;
  RunFiles* files_;
  uint64_t fingerprint_;
};

// The driver loop's two network steps, shared by the daemon (Peer) and EmbeddedPeer. Times
// given to the core are seconds since `start`.
// Hands `core` everything that has arrived, without blocking; a transport error is returned.
Status DeliverArrived(Transport& transport, PeerCore& core, TimePoint start);
// Blocks until a message arrives (and delivers it), the core's wake-up `wake_at` (kNoWake: none)
// or a short poll interval passes, so the caller can check its stop flag; a transport error is
// returned.
Status WaitAndDeliver(Transport& transport, PeerCore& core, double wake_at, TimePoint start);

// TCP transport for peer `id` of the run (addresses from the topology file, handshake from the
// run; it listens on the node's `bind:` when set), wrapped by the network emulator when
// run.emulate. FailedPrecondition when a node has no port yet (`base_port: auto` not resolved).
// `stop` (optional) interrupts the wait for neighbours at start. `rejoin`: a restarted peer,
// which starts once some links are up (after dead_after) rather than waiting for every neighbour.
Result<std::unique_ptr<Transport>> MakePeerTcpTransport(
    const RunConfig& run, std::shared_ptr<const TopologySpec> topology, const Model& model, int id,
    const std::atomic<bool>* stop = nullptr, bool rejoin = false);
// The same for a model described only by its shape (an external model: embedded_peer.h).
Result<std::unique_ptr<Transport>> MakePeerTcpTransport(
    const RunConfig& run, std::shared_ptr<const TopologySpec> topology,
    const std::string& model_shape, size_t num_params, int id,
    const std::atomic<bool>* stop = nullptr, bool rejoin = false);

}  // namespace hearsay
